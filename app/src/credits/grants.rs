//! Grants of GPU credit (admin): issue, adjust, suspend, resume, revoke, and expiry by a
//! scheduled pass. Each change writes its ledger entry, a sync job and an audit entry in one
//! transaction, and tells the startup's team by email.
use super::entity::{grant, ledger as ledger_entity, resource, sync_job};
use super::ledger::{append, Entry};
use super::{
    format_gpu_hours, kind, parse_gpu_hours, status, sync_status, BurnDown, GrantDetail,
    GrantFormOptions, GrantRow, LedgerRow, ResourceCredit, StartupCredit, SyncState, GRANT_COLUMNS,
};
use crate::audit::{self, Change};
use crate::auth::domain::Actor;
use crate::auth::entity::user;
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::startups::entity::{member, startup};
use crate::tables::{self, TablePage, TableQuery};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use sea_orm::{FromQueryResult, JoinType, QueryTrait, Select};
use serde_json::json;

#[derive(Clone, Debug, Default)]
pub struct GrantInput {
    pub startup_id: i64,
    pub resource_id: i64,
    pub gpu_hours: String,
    pub valid_from: String,
    pub valid_until: String,
    pub reason: String,
    /// Optional tranches, each released when its milestone is signed off as done.
    pub tranches: Vec<super::tranches::TrancheInput>,
}

/// `2027-01-31T09:00` (a datetime-local field) or `2027-01-31` (the start of that day), read
/// in the zone of the person who typed it.
fn parse_time(
    zone: crate::time::Zone,
    field: &'static str,
    text: &str,
) -> AppResult<DateTime<Utc>> {
    zone.parse_date_or_input(text, field).map_err(|e| match e {
        AppError::Invalid { key, .. } if key == "error.datetime_invalid" => {
            AppError::invalid(field, "error.time_invalid")
        }
        e => e,
    })
}

fn note_of(text: &str) -> AppResult<String> {
    let t = text.trim();
    if t.chars().count() > 1000 {
        return Err(AppError::invalid("note", "error.too_long"));
    }
    Ok(t.to_string())
}

async fn load(txn: &impl ConnectionTrait, id: i64) -> AppResult<(grant::Model, resource::Model)> {
    let g = grant::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = resource::Entity::find_by_id(g.resource_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((g, r))
}

/// Emails every member of the startup's team about a change to one of its grants, and posts
/// it to the chat channels that follow grants (or credit alerts).
pub(crate) async fn tell_team(
    txn: &impl ConnectionTrait,
    settings: &crate::state::Settings,
    g: &grant::Model,
    r: &resource::Model,
    event: &str,
) -> AppResult<()> {
    let ids: Vec<i64> = member::Entity::find()
        .filter(member::Column::StartupId.eq(g.startup_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let link = settings.link("/credits");
    for u in user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(txn)
        .await?
    {
        let locale = Locale::from_tag(&u.locale).unwrap_or_default();
        // In the recipient's zone, named: the park's people may read it from elsewhere.
        let zone = crate::auth::domain::person_zone(u.time_zone.as_deref(), settings.park_zone);
        let content = templates::grant_notice(
            locale,
            &u.name,
            event,
            &format!("{} ({})", r.name, r.gpu_model),
            &zone.format_named(&g.valid_until),
            &format_gpu_hours(g.remaining_minutes()),
            &link,
        );
        outbox::enqueue(txn, &u.email, &u.name, locale, &content).await?;
    }
    let startup_name = startup::Entity::find_by_id(g.startup_id)
        .one(txn)
        .await?
        .map(|s| s.name)
        .unwrap_or_default();
    let resource = format!("{} ({})", r.name, r.gpu_model);
    // A group reads it: the park's day, its zone named.
    let until = format!(
        "{} ({})",
        settings.park_zone.date(&g.valid_until),
        settings.park_zone.name()
    );
    let remaining = format_gpu_hours(g.remaining_minutes());
    let link = settings.link(&format!("/admin/grants/{}", g.id));
    crate::channels::notify::announce(txn, crate::channels::notify::grant_event(event), |l| {
        crate::channels::notify::grant(
            l,
            event,
            &startup_name,
            &resource,
            &until,
            &remaining,
            &link,
        )
    })
    .await?;
    Ok(())
}

/// Marks an alert as sent, if no one else did; true when this call should send it.
async fn claim_alert(
    txn: &impl ConnectionTrait,
    g: &grant::Model,
    column: grant::Column,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let updated = grant::Entity::update_many()
        .col_expr(column, sea_orm::sea_query::Expr::value(now))
        .filter(grant::Column::Id.eq(g.id))
        .filter(column.is_null())
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Tells the team once when a grant's use crosses 80 % and again at 100 %.
async fn usage_alerts(
    txn: &impl ConnectionTrait,
    settings: &crate::state::Settings,
    g: &grant::Model,
    r: &resource::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let pct = g.used_percent();
    for (threshold, column, sent, event) in [
        (
            100,
            grant::Column::Alerted100At,
            g.alerted_100_at,
            "used_100",
        ),
        (80, grant::Column::Alerted80At, g.alerted_80_at, "used_80"),
    ] {
        if pct >= threshold && sent.is_none() && claim_alert(txn, g, column, now).await? {
            tell_team(txn, settings, g, r, event).await?;
            // At 100 % the 80 % alert would say less, later: mark it sent too.
            if threshold == 100 && g.alerted_80_at.is_none() {
                claim_alert(txn, g, grant::Column::Alerted80At, now).await?;
            }
            break;
        }
    }
    Ok(())
}

/// The scheduled pass: tells each team once, 14 days before an active grant ends.
pub async fn expiry_alerts(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let due = grant::Entity::find()
        .filter(grant::Column::Status.eq(status::ACTIVE))
        .filter(grant::Column::AlertedExpiryAt.is_null())
        .filter(grant::Column::ValidUntil.gt(now))
        .filter(grant::Column::ValidUntil.lte(now + chrono::Duration::days(14)))
        .limit(500)
        .all(db)
        .await?;
    let mut sent = 0;
    for g in due {
        let txn = crate::txn::begin(db).await?;
        let (g, r) = load(&txn, g.id).await?;
        if claim_alert(&txn, &g, grant::Column::AlertedExpiryAt, now).await? {
            tell_team(&txn, settings, &g, &r, "expiring").await?;
            sent += 1;
        }
        txn.commit().await?;
    }
    Ok(sent)
}

fn audit_of(g: &grant::Model) -> serde_json::Value {
    json!({
        "status": g.status,
        "granted": g.granted_minutes,
        "adjusted": g.adjusted_minutes,
        "consumed": g.consumed_minutes,
        "forfeited": g.forfeited_minutes,
        "valid_until": g.valid_until,
    })
}

async fn record(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    action: &'static str,
    before: Option<&grant::Model>,
    after: &grant::Model,
) -> AppResult<()> {
    audit::record(
        txn,
        Change {
            actor: Some(actor.user_id),
            action,
            entity_type: "grant",
            entity_id: after.id.to_string(),
            before: before.map(audit_of),
            after: Some(audit_of(after)),
        },
    )
    .await?;
    Ok(())
}

/// Issues a grant to an incubating startup.
pub async fn create(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    input: GrantInput,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let minutes = parse_gpu_hours(&input.gpu_hours, false)
        .ok_or_else(|| AppError::invalid("gpu_hours", "error.grant_hours_invalid"))?;
    let from = parse_time(actor.zone, "valid_from", &input.valid_from)?;
    let until = parse_time(actor.zone, "valid_until", &input.valid_until)?;
    if until <= from {
        return Err(AppError::invalid("valid_until", "error.grant_window_order"));
    }
    if until <= Utc::now() {
        return Err(AppError::invalid("valid_until", "error.window_past"));
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::invalid("reason", "error.reason_required"));
    }
    let txn = crate::txn::begin(db).await?;
    let s = startup::Entity::find_by_id(input.startup_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::invalid("startup_id", "error.startup_unknown"))?;
    if s.status != "incubating" {
        return Err(AppError::invalid(
            "startup_id",
            "error.startup_not_incubating",
        ));
    }
    let r = resource::Entity::find_by_id(input.resource_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::invalid("resource_id", "error.resource_unknown"))?;
    let tranches = super::tranches::validate(&txn, s.id, &input.tranches).await?;
    let now = Utc::now();
    let g = grant::ActiveModel {
        startup_id: sea_orm::Set(s.id),
        resource_id: sea_orm::Set(r.id),
        status: sea_orm::Set(status::ACTIVE.into()),
        granted_minutes: sea_orm::Set(0),
        adjusted_minutes: sea_orm::Set(0),
        consumed_minutes: sea_orm::Set(0),
        forfeited_minutes: sea_orm::Set(0),
        valid_from: sea_orm::Set(from),
        valid_until: sea_orm::Set(until),
        reason: sea_orm::Set(reason.into()),
        created_by: sea_orm::Set(Some(actor.user_id)),
        created_at: sea_orm::Set(now),
        updated_at: sea_orm::Set(now),
        ..Default::default()
    };
    let g = sea_orm::ActiveModelTrait::insert(g, &txn).await?;
    let g = append(
        &txn,
        g,
        Entry {
            kind: kind::GRANTED,
            minutes,
            note: reason,
            external_ref: None,
            actor: Some(actor.user_id),
            at: now,
        },
    )
    .await?;
    let tranches = super::tranches::insert(&txn, &g, tranches).await?;
    super::sync::enqueue(&txn, &r, s.id).await?;
    record(&txn, actor, "grant.created", None, &g).await?;
    if !tranches.is_empty() {
        audit::record(
            &txn,
            Change {
                actor: Some(actor.user_id),
                action: "grant.tranches_planned",
                entity_type: "grant",
                entity_id: g.id.to_string(),
                before: None,
                after: Some(json!(tranches
                    .iter()
                    .map(|t| json!({"tranche": t.id, "milestone": t.milestone_id, "minutes": t.minutes}))
                    .collect::<Vec<_>>())),
            },
        )
        .await?;
    }
    tell_team(&txn, settings, &g, &r, "created").await?;
    txn.commit().await?;
    Ok(g.id)
}

/// Adds or removes GPU-hours; removing may not take the balance below zero.
pub async fn adjust(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    id: i64,
    gpu_hours: &str,
    note: &str,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let delta = parse_gpu_hours(gpu_hours, true)
        .ok_or_else(|| AppError::invalid("gpu_hours", "error.adjustment_invalid"))?;
    let note = note_of(note)?;
    if note.is_empty() {
        return Err(AppError::invalid("note", "error.reason_required"));
    }
    let txn = crate::txn::begin(db).await?;
    let (g, r) = load(&txn, id).await?;
    if !matches!(g.status.as_str(), status::ACTIVE | status::SUSPENDED) {
        return Err(AppError::conflict("error.grant_closed"));
    }
    if g.remaining_minutes() + delta < 0 {
        return Err(AppError::invalid(
            "gpu_hours",
            "error.adjustment_below_zero",
        ));
    }
    let before = g.clone();
    let g = append(
        &txn,
        g,
        Entry {
            kind: kind::ADJUSTED,
            minutes: delta,
            note: &note,
            external_ref: None,
            actor: Some(actor.user_id),
            at: Utc::now(),
        },
    )
    .await?;
    // A top-up that brings use back under a threshold re-arms its alert.
    let pct = g.used_percent();
    let mut rearm = grant::Entity::update_many().filter(grant::Column::Id.eq(g.id));
    if pct < 100 {
        rearm = rearm.col_expr(
            grant::Column::Alerted100At,
            sea_orm::sea_query::Expr::value(None::<DateTime<Utc>>),
        );
    }
    if pct < 80 {
        rearm = rearm.col_expr(
            grant::Column::Alerted80At,
            sea_orm::sea_query::Expr::value(None::<DateTime<Utc>>),
        );
    }
    if pct < 100 {
        rearm.exec(&txn).await?;
    }
    super::sync::enqueue(&txn, &r, g.startup_id).await?;
    record(&txn, actor, "grant.adjusted", Some(&before), &g).await?;
    tell_team(&txn, settings, &g, &r, "adjusted").await?;
    txn.commit().await?;
    Ok(())
}

/// Suspends, resumes or revokes a grant. Revoking forfeits what remains.
pub async fn transition(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    id: i64,
    to: &str,
    note: &str,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let note = note_of(note)?;
    let txn = crate::txn::begin(db).await?;
    let (g, r) = load(&txn, id).await?;
    let now = Utc::now();
    let allowed = match (g.status.as_str(), to) {
        (status::ACTIVE, status::SUSPENDED) => true,
        (status::SUSPENDED, status::ACTIVE) => g.valid_until > now,
        (status::ACTIVE | status::SUSPENDED, status::REVOKED) => true,
        _ => false,
    };
    if !allowed {
        return Err(AppError::conflict(match (g.status.as_str(), to) {
            (status::REVOKED, status::REVOKED) => "error.already_revoked",
            (status::SUSPENDED, status::ACTIVE) => "error.grant_ended",
            _ => "error.grant_transition",
        }));
    }
    let before = g.clone();
    let mut g = g;
    if to == status::REVOKED && g.remaining_minutes() > 0 {
        let remaining = g.remaining_minutes();
        g = append(
            &txn,
            g,
            Entry {
                kind: kind::REVOKED,
                minutes: -remaining,
                note: &note,
                external_ref: None,
                actor: Some(actor.user_id),
                at: now,
            },
        )
        .await?;
    }
    let mut a: grant::ActiveModel = g.into();
    a.status = sea_orm::Set(to.into());
    a.updated_at = sea_orm::Set(now);
    let g = sea_orm::ActiveModelTrait::update(a, &txn).await?;
    if to == status::REVOKED {
        super::tranches::cancel_for_grant(&txn, Some(actor.user_id), g.id).await?;
    }
    super::sync::enqueue(&txn, &r, g.startup_id).await?;
    let action = match to {
        status::SUSPENDED => "grant.suspended",
        status::ACTIVE => "grant.resumed",
        _ => "grant.revoked",
    };
    record(&txn, actor, action, Some(&before), &g).await?;
    tell_team(&txn, settings, &g, &r, to).await?;
    txn.commit().await?;
    Ok(())
}

/// The scheduled pass: grants past their end date expire and forfeit what remains.
pub async fn expire_due(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let due = grant::Entity::find()
        .filter(grant::Column::Status.is_in([status::ACTIVE, status::SUSPENDED]))
        .filter(grant::Column::ValidUntil.lte(now))
        .limit(500)
        .all(db)
        .await?;
    let mut expired = 0;
    for candidate in due {
        let txn = crate::txn::begin(db).await?;
        let (g, r) = load(&txn, candidate.id).await?;
        // Another process may have got there first.
        if !matches!(g.status.as_str(), status::ACTIVE | status::SUSPENDED) {
            continue;
        }
        let before = g.clone();
        let remaining = g.remaining_minutes();
        let mut g = g;
        if remaining > 0 {
            g = append(
                &txn,
                g,
                Entry {
                    kind: kind::EXPIRED,
                    minutes: -remaining,
                    note: "",
                    external_ref: None,
                    actor: None,
                    at: now,
                },
            )
            .await?;
        }
        let updated = grant::Entity::update_many()
            .col_expr(
                grant::Column::Status,
                sea_orm::sea_query::Expr::value(status::EXPIRED),
            )
            .col_expr(
                grant::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(grant::Column::Id.eq(g.id))
            .filter(grant::Column::Status.eq(before.status.clone()))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            continue;
        }
        g.status = status::EXPIRED.into();
        super::tranches::cancel_for_grant(&txn, None, g.id).await?;
        super::sync::enqueue(&txn, &r, g.startup_id).await?;
        audit::record(
            &txn,
            Change {
                actor: None,
                action: "grant.expired",
                entity_type: "grant",
                entity_id: g.id.to_string(),
                before: Some(audit_of(&before)),
                after: Some(audit_of(&g)),
            },
        )
        .await?;
        tell_team(&txn, settings, &g, &r, status::EXPIRED).await?;
        txn.commit().await?;
        expired += 1;
    }
    Ok(expired)
}

/// Imports one finished job as `consumed`, once per job and resource. The minutes are taken
/// from the grants that were valid when the job ended, soonest to expire first; what exceeds
/// them all stays on the last one (its balance goes negative: the cluster let it run).
/// Returns false when the job was already imported.
pub async fn record_usage(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    startup_id: i64,
    resource_id: i64,
    job_ref: &str,
    gpu_minutes: i64,
    ended_at: DateTime<Utc>,
) -> AppResult<bool> {
    if gpu_minutes <= 0 {
        return Ok(false);
    }
    let txn = crate::txn::begin(db).await?;
    let seen = ledger_entity::Entity::find()
        .filter(ledger_entity::Column::ResourceId.eq(resource_id))
        .filter(ledger_entity::Column::ExternalRef.eq(job_ref))
        .one(&txn)
        .await?;
    if seen.is_some() {
        return Ok(false);
    }
    let mut grants = grant::Entity::find()
        .filter(grant::Column::StartupId.eq(startup_id))
        .filter(grant::Column::ResourceId.eq(resource_id))
        .filter(grant::Column::ValidFrom.lte(ended_at))
        .order_by_asc(grant::Column::ValidUntil)
        .all(&txn)
        .await?;
    if grants.is_empty() {
        return Ok(false);
    }
    grants.sort_by_key(|g| (g.valid_until < ended_at, g.valid_until));
    let mut left = gpu_minutes;
    let last = grants.len() - 1;
    let mut part = 0;
    let mut touched = Vec::new();
    for (i, g) in grants.into_iter().enumerate() {
        if left == 0 {
            break;
        }
        let take = if i == last {
            left
        } else {
            Ord::min(left, Ord::max(g.remaining_minutes(), 0))
        };
        if take == 0 {
            continue;
        }
        let reference = if part == 0 {
            job_ref.to_string()
        } else {
            format!("{job_ref}#{part}")
        };
        part += 1;
        let g = append(
            &txn,
            g,
            Entry {
                kind: kind::CONSUMED,
                minutes: -take,
                note: "",
                external_ref: Some(reference),
                actor: None,
                at: ended_at,
            },
        )
        .await?;
        touched.push(g);
        left -= take;
    }
    let r = resource::Entity::find_by_id(resource_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    for g in &touched {
        usage_alerts(&txn, settings, g, &r, Utc::now()).await?;
    }
    super::sync::enqueue(&txn, &r, startup_id).await?;
    txn.commit().await?;
    Ok(!touched.is_empty())
}

/// Builds table rows for grants with their startup, resource and sync state (three queries).
/// A grant with its startup's and resource's names, read in one joined query.
#[derive(FromQueryResult)]
struct Named {
    #[sea_orm(nested)]
    grant: grant::Model,
    startup_name: String,
    resource_name: String,
    gpu_model: String,
}

/// Grants joined to their startup and resource, the names as extra columns.
fn named() -> Select<grant::Entity> {
    grant::Entity::find()
        .column_as(
            Expr::col((startup::Entity, startup::Column::Name)),
            "startup_name",
        )
        .column_as(
            Expr::col((resource::Entity, resource::Column::Name)),
            "resource_name",
        )
        .column_as(
            Expr::col((resource::Entity, resource::Column::GpuModel)),
            "gpu_model",
        )
        .join(
            JoinType::InnerJoin,
            grant::Entity::belongs_to(startup::Entity)
                .from(grant::Column::StartupId)
                .to(startup::Column::Id)
                .into(),
        )
        .join(
            JoinType::InnerJoin,
            grant::Entity::belongs_to(resource::Entity)
                .from(grant::Column::ResourceId)
                .to(resource::Column::Id)
                .into(),
        )
}

/// Rows for grants already read: their names and sync state (two queries).
async fn rows_of(db: &impl ConnectionTrait, grants: Vec<grant::Model>) -> AppResult<Vec<GrantRow>> {
    let mut named = named()
        .filter(grant::Column::Id.is_in(grants.iter().map(|g| g.id)))
        .into_model::<Named>()
        .all(db)
        .await?;
    let order: std::collections::HashMap<i64, usize> =
        grants.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
    named.sort_by_key(|n| order.get(&n.grant.id).copied().unwrap_or(usize::MAX));
    with_sync(db, named).await
}

/// Adds each grant's sync state: the newest job per (startup, resource) among these grants'
/// targets, in one query (older jobs, a history that grows with every change, are not read).
async fn with_sync(db: &impl ConnectionTrait, named: Vec<Named>) -> AppResult<Vec<GrantRow>> {
    let newest = sync_job::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(sync_job::Column::Id)))
        .filter(sync_job::Column::StartupId.is_in(named.iter().map(|n| n.grant.startup_id)))
        .filter(sync_job::Column::Status.ne(sync_status::SUPERSEDED))
        .group_by(sync_job::Column::StartupId)
        .group_by(sync_job::Column::ResourceId)
        .into_query();
    let jobs = if named.is_empty() {
        Vec::new()
    } else {
        sync_job::Entity::find()
            .filter(sync_job::Column::Id.in_subquery(newest))
            .all(db)
            .await?
    };
    Ok(named
        .into_iter()
        .map(|n| {
            let job = jobs.iter().find(|j| {
                j.startup_id == n.grant.startup_id && j.resource_id == n.grant.resource_id
            });
            let sync = job.map(|j| SyncState {
                job_id: j.id,
                status: j.status.clone(),
                attempts: j.attempts,
                last_error: j.last_error.clone(),
                updated_at: j.updated_at,
            });
            grant_row(n, sync)
        })
        .collect())
}

fn grant_row(n: Named, sync: Option<SyncState>) -> GrantRow {
    let g = n.grant;
    let remaining_minutes = g.remaining_minutes();
    GrantRow {
        id: g.id,
        startup_id: g.startup_id,
        startup_name: n.startup_name,
        resource_id: g.resource_id,
        resource_name: n.resource_name,
        gpu_model: n.gpu_model,
        status: g.status,
        granted_minutes: g.granted_minutes,
        adjusted_minutes: g.adjusted_minutes,
        consumed_minutes: g.consumed_minutes,
        forfeited_minutes: g.forfeited_minutes,
        remaining_minutes,
        valid_from: g.valid_from,
        valid_until: g.valid_until,
        reason: g.reason,
        sync,
    }
}

/// A grant with its names and its target's newest sync job, read in the page's own query.
#[derive(FromQueryResult)]
struct Synced {
    #[sea_orm(nested)]
    named: Named,
    #[sea_orm(nested)]
    job: NewestJob,
}

impl Synced {
    fn into_row(self) -> GrantRow {
        grant_row(self.named, self.job.state())
    }
}

/// The `sync_*` columns `with_newest_job` adds; all null when the target has no job.
#[derive(FromQueryResult)]
struct NewestJob {
    sync_job_id: Option<i64>,
    sync_status: Option<String>,
    sync_attempts: Option<i32>,
    sync_last_error: Option<String>,
    sync_updated_at: Option<DateTime<Utc>>,
}

impl NewestJob {
    fn state(self) -> Option<SyncState> {
        Some(SyncState {
            job_id: self.sync_job_id?,
            status: self.sync_status?,
            attempts: self.sync_attempts.unwrap_or(0),
            last_error: self.sync_last_error,
            updated_at: self.sync_updated_at?,
        })
    }
}

/// Adds to a select of grants the newest sync job of each grant's target (not superseded),
/// as `sync_*` columns: a left join on the one job a correlated subquery picks through the
/// `(startup_id, resource_id, id)` index.
fn with_newest_job(q: Select<grant::Entity>) -> Select<grant::Entity> {
    use sea_orm::sea_query::{Alias, IntoCondition, Query, SimpleExpr, SubQueryStatement};
    let newest = Alias::new("newest");
    let pick = SimpleExpr::SubQuery(
        None,
        Box::new(SubQueryStatement::SelectStatement(
            Query::select()
                .expr(Func::max(Expr::col((newest.clone(), sync_job::Column::Id))))
                .from_as(sync_job::Entity, newest.clone())
                .and_where(
                    Expr::col((newest.clone(), sync_job::Column::StartupId))
                        .equals((grant::Entity, grant::Column::StartupId)),
                )
                .and_where(
                    Expr::col((newest.clone(), sync_job::Column::ResourceId))
                        .equals((grant::Entity, grant::Column::ResourceId)),
                )
                .and_where(
                    Expr::col((newest, sync_job::Column::Status)).ne(sync_status::SUPERSEDED),
                )
                .to_owned(),
        )),
    );
    let job = |c: sync_job::Column| Expr::col((sync_job::Entity, c));
    q.column_as(job(sync_job::Column::Id), "sync_job_id")
        .column_as(job(sync_job::Column::Status), "sync_status")
        .column_as(job(sync_job::Column::Attempts), "sync_attempts")
        .column_as(job(sync_job::Column::LastError), "sync_last_error")
        .column_as(job(sync_job::Column::UpdatedAt), "sync_updated_at")
        .join(
            JoinType::LeftJoin,
            grant::Entity::belongs_to(sync_job::Entity)
                .from(grant::Column::StartupId)
                .to(sync_job::Column::StartupId)
                .on_condition(move |_, job| {
                    Expr::col((job, sync_job::Column::Id))
                        .eq(pick.clone())
                        .into_condition()
                })
                .into(),
        )
}

pub const PER_PAGE: u64 = 50;

/// How many points a burn-down chart keeps, whatever the length of the ledger.
const CHART_POINTS: i64 = 300;

/// A grant's ledger length, as a column of a query on grants (a correlated subquery).
fn ledger_entries_expr() -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, Func, Query};
    sea_orm::sea_query::SimpleExpr::SubQuery(
        None,
        Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(
            Query::select()
                .expr(Func::count(Expr::col((
                    ledger_entity::Entity,
                    ledger_entity::Column::Id,
                ))))
                .from(ledger_entity::Entity)
                .and_where(
                    Expr::col((ledger_entity::Entity, ledger_entity::Column::GrantId))
                        .equals((grant::Entity, grant::Column::Id)),
                )
                .to_owned(),
        )),
    )
}

/// GPU-minutes a grant's ledger consumed since `since` (negative or none), as a column of a
/// query on grants.
fn consumed_since_expr(since: DateTime<Utc>) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Alias, Expr, Func, Query};
    sea_orm::sea_query::SimpleExpr::SubQuery(
        None,
        Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(
            Query::select()
                // SUM of a bigint is numeric on PostgreSQL: cast it back.
                .expr(Func::cast_as(
                    Func::sum(Expr::col((
                        ledger_entity::Entity,
                        ledger_entity::Column::Minutes,
                    ))),
                    Alias::new("bigint"),
                ))
                .from(ledger_entity::Entity)
                .and_where(
                    Expr::col((ledger_entity::Entity, ledger_entity::Column::GrantId))
                        .equals((grant::Entity, grant::Column::Id)),
                )
                .and_where(
                    Expr::col((ledger_entity::Entity, ledger_entity::Column::Kind))
                        .eq(kind::CONSUMED),
                )
                .and_where(
                    Expr::col((ledger_entity::Entity, ledger_entity::Column::CreatedAt)).gte(since),
                )
                .to_owned(),
        )),
    )
}

/// What a burn-down needs beyond the grant: its ledger's length (to sample it) and its use
/// over the last 14 days (for the forecast).
#[derive(Clone, Copy, Debug, Default)]
struct LedgerStats {
    entries: i64,
    used_14d: i64,
}

fn forecast_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::days(14)
}

/// A grant's burn-down (two queries).
pub async fn burn_down(db: &impl ConnectionTrait, g: &grant::Model) -> AppResult<BurnDown> {
    let now = Utc::now();
    let (entries, used): (i64, Option<i64>) = grant::Entity::find_by_id(g.id)
        .select_only()
        .expr_as(ledger_entries_expr(), "entries")
        .expr_as(consumed_since_expr(forecast_since(now)), "used")
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or_default();
    let stats = LedgerStats {
        entries,
        used_14d: used.unwrap_or(0),
    };
    Ok(burn_downs(db, &[(g, stats)], now).await?.remove(0))
}

/// Burn-downs of several grants: each ledger sampled to a few hundred points (every k-th
/// entry by id, plus the last), and the forecast from the last 14 days' use (one query).
async fn burn_downs(
    db: &impl ConnectionTrait,
    grants: &[(&grant::Model, LedgerStats)],
    now: DateTime<Utc>,
) -> AppResult<Vec<BurnDown>> {
    use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, Query};
    if grants.is_empty() {
        return Ok(Vec::new());
    }
    let step_of =
        |entries: i64| Ord::max(entries.unsigned_abs().div_ceil(CHART_POINTS as u64), 1) as i64;
    let mut sampled = Condition::any().add(
        ledger_entity::Column::Id.in_subquery(
            Query::select()
                .expr(Func::max(Expr::col(ledger_entity::Column::Id)))
                .from(ledger_entity::Entity)
                .and_where(
                    Expr::col(ledger_entity::Column::GrantId)
                        .is_in(grants.iter().map(|(g, _)| g.id)),
                )
                .group_by_col(ledger_entity::Column::GrantId)
                .to_owned(),
        ),
    );
    for (g, stats) in grants {
        sampled = sampled.add(
            Expr::col(ledger_entity::Column::GrantId).eq(g.id).and(
                Expr::col(ledger_entity::Column::Id)
                    .modulo(step_of(stats.entries))
                    .eq(0),
            ),
        );
    }
    let points: Vec<(i64, DateTime<Utc>, i64, i64)> = ledger_entity::Entity::find()
        .select_only()
        .column(ledger_entity::Column::GrantId)
        .column(ledger_entity::Column::CreatedAt)
        .column(ledger_entity::Column::BalanceAfter)
        .column(ledger_entity::Column::Id)
        .filter(ledger_entity::Column::GrantId.is_in(grants.iter().map(|(g, _)| g.id)))
        .filter(sampled)
        .order_by_asc(ledger_entity::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(grants
        .iter()
        .map(|(g, stats)| {
            let mine: Vec<(DateTime<Utc>, i64)> = points
                .iter()
                .filter(|p| p.0 == g.id)
                .map(|p| (p.1, p.2))
                .collect();
            let burn_per_day = Ord::max(-stats.used_14d, 0) / 14;
            let remaining = g.remaining_minutes();
            let exhausts_at = (g.status == status::ACTIVE)
                .then(|| exhaustion(now, remaining, burn_per_day, g.valid_until))
                .flatten();
            let peak = Ord::max(
                mine.iter().map(|p| p.1).max().unwrap_or(0),
                g.granted_minutes + Ord::max(g.adjusted_minutes, 0),
            );
            BurnDown {
                grant_id: g.id,
                points: mine,
                valid_from: g.valid_from,
                valid_until: g.valid_until,
                peak_minutes: peak,
                remaining_minutes: remaining,
                burn_per_day,
                exhausts_at,
                as_of: now,
            }
        })
        .collect())
}

/// The grants a table view selects: `status` is the grant's state, `of` its resource, `q`
/// part of its startup's name; ordered by the chosen column.
fn grants_select(query: &TableQuery) -> AppResult<tables::ssr::Sorted<grant::Entity>> {
    let mut q = named();
    if let Some(s) = tables::ssr::one_of(&query.status, status::ALL, "status")? {
        q = q.filter(grant::Column::Status.eq(s));
    }
    if let Some(id) = tables::ssr::id_filter(&query.of, "of")? {
        q = q.filter(grant::Column::ResourceId.eq(id));
    }
    if let Some(pattern) = tables::ssr::search(query)? {
        q = q.filter(tables::ssr::like(
            Expr::col((startup::Entity, startup::Column::Name)),
            &pattern,
        ));
    }
    let (column, order) = tables::ssr::sort(query, GRANT_COLUMNS)?;
    let by: sea_orm::sea_query::SimpleExpr = match column.key {
        "startup" => Expr::col((startup::Entity, startup::Column::Name)),
        "status" => Expr::col((grant::Entity, grant::Column::Status)),
        "until" => Expr::col((grant::Entity, grant::Column::ValidUntil)),
        "granted" => Expr::col((grant::Entity, grant::Column::GrantedMinutes))
            .add(Expr::col((grant::Entity, grant::Column::AdjustedMinutes))),
        "consumed" => Expr::col((grant::Entity, grant::Column::ConsumedMinutes)),
        "remaining" => Expr::col((grant::Entity, grant::Column::GrantedMinutes))
            .add(Expr::col((grant::Entity, grant::Column::AdjustedMinutes)))
            .sub(Expr::col((grant::Entity, grant::Column::ConsumedMinutes)))
            .sub(Expr::col((grant::Entity, grant::Column::ForfeitedMinutes))),
        _ => Expr::col((grant::Entity, grant::Column::Id)),
    };
    Ok(tables::ssr::order(
        q,
        by,
        Expr::col((grant::Entity, grant::Column::Id)),
        order,
    ))
}

/// One page of grants for admins, with their names and sync state, in one query.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<GrantRow>> {
    actor.require(Role::Admin)?;
    let select = grants_select(query)?.map(with_newest_job);
    let page = tables::ssr::page_as::<_, Synced>(db, select, query).await?;
    Ok(page.map(Synced::into_row))
}

/// Every grant the view selects, as CSV (GPU-hours, times in UTC).
pub async fn csv(db: &DatabaseConnection, actor: &Actor, query: &TableQuery) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let mut out = crate::admin::csv::line([
        "id",
        "startup_id",
        "startup",
        "resource",
        "gpu_model",
        "status",
        "granted_gpu_hours",
        "adjusted_gpu_hours",
        "consumed_gpu_hours",
        "forfeited_gpu_hours",
        "remaining_gpu_hours",
        "valid_from_utc",
        "valid_until_utc",
        "sync_status",
        "reason",
    ]);
    let hours = |m: i64| format!("{:.2}", m as f64 / 60.0);
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let mut batches = tables::ssr::Batches::new(grants_select(query)?);
    while let Some(batch) = batches.next_as::<Named>(db).await? {
        for g in with_sync(db, batch).await? {
            out.push_str(&crate::admin::csv::line([
                g.id.to_string(),
                g.startup_id.to_string(),
                g.startup_name,
                g.resource_name,
                g.gpu_model,
                g.status,
                hours(g.granted_minutes),
                hours(g.adjusted_minutes),
                hours(g.consumed_minutes),
                hours(g.forfeited_minutes),
                hours(g.remaining_minutes),
                time(g.valid_from),
                time(g.valid_until),
                g.sync.map(|s| s.status).unwrap_or_default(),
                g.reason,
            ]));
        }
    }
    Ok(out)
}

/// A grant and one page of its ledger, for admins.
pub async fn detail(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    page: u64,
) -> AppResult<GrantDetail> {
    actor.require(Role::Admin)?;
    // Past it the offset would not fit the database's integers (and no ledger is that long).
    if page > crate::tables::MAX_PAGE {
        return Err(AppError::invalid("page", "error.page_too_deep"));
    }
    let g = grant::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let paginator = ledger_entity::Entity::find()
        .filter(ledger_entity::Column::GrantId.eq(id))
        .order_by_desc(ledger_entity::Column::Id)
        .paginate(db, PER_PAGE);
    let ledger_total = paginator.num_items().await?;
    let entries = paginator.fetch_page(page).await?;
    let burn = burn_down(db, &g).await?;
    let tranches = super::tranches::for_grants(db, &[g.id]).await?;
    let grant = rows_of(db, vec![g])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(GrantDetail {
        burn,
        grant,
        ledger: entries
            .into_iter()
            .map(|e| LedgerRow {
                id: e.id,
                kind: e.kind,
                minutes: e.minutes,
                balance_after: e.balance_after,
                note: e.note,
                external_ref: e.external_ref,
                created_at: e.created_at,
            })
            .collect(),
        ledger_total,
        page,
        per_page: PER_PAGE,
        tranches,
    })
}

/// How many matching startups the grant form offers at once.
const STARTUP_MATCHES: u64 = 20;

/// What the grant form offers: the chosen incubating startup and its planned milestones, or
/// the incubating startups whose name matches `q` (a park has thousands: they are searched,
/// not listed); and the resources.
pub async fn form_options(
    db: &DatabaseConnection,
    actor: &Actor,
    startup_id: i64,
    q: &str,
) -> AppResult<GrantFormOptions> {
    use crate::startups::entity::milestone;
    actor.require(Role::Admin)?;
    let resources = resource::Entity::find()
        .order_by_asc(resource::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, format!("{} ({})", r.name, r.gpu_model)))
        .collect();
    let incubating = startup::Entity::find().filter(startup::Column::Status.eq("incubating"));
    if startup_id > 0 {
        let s = incubating
            .filter(startup::Column::Id.eq(startup_id))
            .one(db)
            .await?
            .ok_or(AppError::invalid(
                "startup_id",
                "incubation.error_not_incubating",
            ))?;
        let milestones = milestone::Entity::find()
            .filter(milestone::Column::StartupId.eq(s.id))
            .filter(milestone::Column::Status.eq("planned"))
            .order_by_asc(milestone::Column::DueOn)
            .all(db)
            .await?
            .into_iter()
            .map(|m| {
                (
                    m.id,
                    format!("{} ({})", m.title, m.due_on.format("%Y-%m-%d")),
                )
            })
            .collect();
        return Ok(GrantFormOptions {
            startup: Some((s.id, s.name)),
            matches: Vec::new(),
            resources,
            milestones,
        });
    }
    let query = TableQuery {
        q: q.to_string(),
        ..Default::default()
    };
    let matches = match tables::ssr::search(&query)? {
        None => Vec::new(),
        Some(pattern) => incubating
            .filter(tables::ssr::like(
                Expr::col((startup::Entity, startup::Column::Name)),
                &pattern,
            ))
            .order_by_asc(startup::Column::Name)
            .limit(STARTUP_MATCHES)
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
    };
    Ok(GrantFormOptions {
        startup: None,
        matches,
        resources,
        milestones: Vec::new(),
    })
}

/// A grant of the applicant's startup with what its page shows beside it.
#[derive(FromQueryResult)]
struct CreditRow {
    #[sea_orm(nested)]
    grant: grant::Model,
    startup_name: String,
    resource_name: String,
    gpu_model: String,
    ledger_entries: i64,
    used_14d: Option<i64>,
    #[sea_orm(nested)]
    job: NewestJob,
}

/// The signed-in applicant's own startup's credit; nobody else's (three queries).
pub async fn my_credit(db: &DatabaseConnection, actor: &Actor) -> AppResult<Option<StartupCredit>> {
    use sea_orm::QueryTrait;
    actor.require(Role::Applicant)?;
    let mine = member::Entity::find()
        .select_only()
        .column(member::Column::StartupId)
        .filter(member::Column::UserId.eq(actor.user_id))
        .into_query();
    let credit = credit_of(db, grant::Column::StartupId.in_subquery(mine)).await?;
    if credit.startup_id > 0 {
        return Ok(Some(credit));
    }
    Ok(crate::startups::domain::startup_of(db, actor.user_id)
        .await?
        .map(|s| StartupCredit {
            startup_id: s.id,
            startup_name: s.name,
            ..credit
        }))
}

/// A startup's credit for its startup page: admins and the startup's own mentors only (the
/// same rule as the page itself).
pub async fn startup_credit(
    db: &DatabaseConnection,
    actor: &Actor,
    startup_id: i64,
) -> AppResult<StartupCredit> {
    let (s, _) = crate::startups::residency::access(db, actor, startup_id).await?;
    let credit = credit_of(db, grant::Column::StartupId.eq(s.id)).await?;
    Ok(StartupCredit {
        startup_id: s.id,
        startup_name: s.name,
        ..credit
    })
}

/// The credit of the startup whose grants `which` selects (one startup's). Three queries
/// whatever the number of grants: the grants with their names, ledger figures and sync state,
/// their sampled ledgers, their tranches; the per-resource totals are computed from
/// the grants' burn-downs. Without grants, the startup's id and name are left empty.
async fn credit_of(
    db: &DatabaseConnection,
    which: sea_orm::sea_query::SimpleExpr,
) -> AppResult<StartupCredit> {
    let now = Utc::now();
    let rows = with_newest_job(named())
        .expr_as(ledger_entries_expr(), "ledger_entries")
        .expr_as(consumed_since_expr(forecast_since(now)), "used_14d")
        .filter(which)
        .order_by_desc(Expr::col((grant::Entity, grant::Column::Id)))
        .into_model::<CreditRow>()
        .all(db)
        .await?;
    let (startup_id, startup_name) = rows
        .first()
        .map(|r| (r.grant.startup_id, r.startup_name.clone()))
        .unwrap_or_default();
    let with_stats: Vec<(&grant::Model, LedgerStats)> = rows
        .iter()
        .map(|r| {
            (
                &r.grant,
                LedgerStats {
                    entries: r.ledger_entries,
                    used_14d: r.used_14d.unwrap_or(0),
                },
            )
        })
        .collect();
    let burns = burn_downs(db, &with_stats, now).await?;
    let resources = by_resource(&rows, &with_stats, &burns, now);
    let ids: Vec<i64> = rows.iter().map(|r| r.grant.id).collect();
    let tranches = super::tranches::for_grants(db, &ids).await?;
    let grants = rows
        .into_iter()
        .map(|r| {
            let named = Named {
                grant: r.grant,
                startup_name: r.startup_name,
                resource_name: r.resource_name,
                gpu_model: r.gpu_model,
            };
            grant_row(named, r.job.state())
        })
        .collect();
    Ok(StartupCredit {
        startup_id,
        startup_name,
        grants,
        burns,
        resources,
        tranches,
    })
}

/// A startup's grants grouped by resource, each group's figures summed and its burn-downs
/// combined; ordered by resource name.
fn by_resource(
    rows: &[CreditRow],
    stats: &[(&grant::Model, LedgerStats)],
    burns: &[BurnDown],
    now: DateTime<Utc>,
) -> Vec<ResourceCredit> {
    let mut ids: Vec<i64> = rows.iter().map(|r| r.grant.resource_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out: Vec<ResourceCredit> = ids
        .into_iter()
        .filter_map(|rid| {
            let at: Vec<usize> = (0..rows.len())
                .filter(|i| rows[*i].grant.resource_id == rid)
                .collect();
            let first = &rows[*at.first()?];
            let grants: Vec<(&grant::Model, LedgerStats)> = at.iter().map(|i| stats[*i]).collect();
            let their_burns: Vec<&BurnDown> = at.iter().map(|i| &burns[*i]).collect();
            Some(ResourceCredit {
                resource_id: rid,
                resource_name: first.resource_name.clone(),
                gpu_model: first.gpu_model.clone(),
                grants: at.len(),
                granted_minutes: grants
                    .iter()
                    .map(|(g, _)| g.granted_minutes + g.adjusted_minutes)
                    .sum(),
                consumed_minutes: grants.iter().map(|(g, _)| g.consumed_minutes).sum(),
                remaining_minutes: grants.iter().map(|(g, _)| g.remaining_minutes()).sum(),
                burn: combined_burn_down(&grants, &their_burns, now),
            })
        })
        .collect();
    out.sort_by(|a, b| a.resource_name.cmp(&b.resource_name));
    out
}

/// Several grants' burn-downs as one (on one resource): at each point in time, the sum of
/// every grant's latest balance; the burn rate from their summed use over the last 14 days;
/// exhaustion when the active grants' balance runs out at that rate, if before the last of
/// them ends. `burns` are the grants' own, in the same order.
fn combined_burn_down(
    grants: &[(&grant::Model, LedgerStats)],
    burns: &[&BurnDown],
    now: DateTime<Utc>,
) -> BurnDown {
    // Merged by time, each grant's points kept in their own (ledger) order: imported usage
    // can be dated before a later entry, and a grant's last point must stay its balance.
    let mut next = vec![0_usize; burns.len()];
    let mut latest = vec![0_i64; burns.len()];
    let mut points: Vec<(DateTime<Utc>, i64)> =
        Vec::with_capacity(burns.iter().map(|b| b.points.len()).sum());
    while let Some(i) = (0..burns.len())
        .filter(|i| next[*i] < burns[*i].points.len())
        .min_by_key(|i| burns[*i].points[next[*i]].0)
    {
        let (t, m) = burns[i].points[next[i]];
        next[i] += 1;
        latest[i] = m;
        let total = latest.iter().sum();
        match points.last_mut() {
            // Changes at the same moment are one step.
            Some(last) if last.0 == t => last.1 = total,
            _ => points.push((t, total)),
        }
    }
    if points.len() > CHART_POINTS as usize {
        let step = points.len().div_ceil(CHART_POINTS as usize);
        let last = points.last().copied();
        points = points.into_iter().step_by(step).collect();
        if points.last().copied() != last {
            points.extend(last);
        }
    }
    let active: Vec<&grant::Model> = grants
        .iter()
        .map(|(g, _)| *g)
        .filter(|g| g.status == status::ACTIVE)
        .collect();
    let usable: i64 = active
        .iter()
        .map(|g| Ord::max(g.remaining_minutes(), 0))
        .sum();
    let burn_per_day = Ord::max(-grants.iter().map(|(_, s)| s.used_14d).sum::<i64>(), 0) / 14;
    let exhausts_at = active
        .iter()
        .map(|g| g.valid_until)
        .max()
        .and_then(|ends| exhaustion(now, usable, burn_per_day, ends));
    let peak = points
        .iter()
        .map(|p| p.1)
        .chain(burns.iter().map(|b| b.peak_minutes))
        .max()
        .unwrap_or(0);
    BurnDown {
        grant_id: 0,
        points,
        valid_from: grants
            .iter()
            .map(|(g, _)| g.valid_from)
            .min()
            .unwrap_or(now),
        valid_until: grants
            .iter()
            .map(|(g, _)| g.valid_until)
            .max()
            .unwrap_or(now),
        peak_minutes: peak,
        remaining_minutes: grants.iter().map(|(g, _)| g.remaining_minutes()).sum(),
        burn_per_day,
        exhausts_at,
        as_of: now,
    }
}

/// When `remaining` GPU-minutes run out at `burn_per_day`, if that is before `ends`. None when
/// nothing burns, nothing is left, or the date lies beyond what a date can hold (a huge grant
/// barely used): such a grant does not run out in any time worth showing.
fn exhaustion(
    now: DateTime<Utc>,
    remaining: i64,
    burn_per_day: i64,
    ends: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if burn_per_day <= 0 || remaining <= 0 {
        return None;
    }
    let minutes = remaining.checked_mul(24 * 60)? / burn_per_day;
    now.checked_add_signed(chrono::Duration::try_minutes(minutes)?)
        .filter(|t| *t < ends)
}

#[cfg(test)]
mod exhaustion_tests {
    use super::exhaustion;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn a_forecast_never_overflows() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let far = now + Duration::days(365);
        // 2,000,000 GPU-hours with 20 GPU-minutes used in 14 days: out of any date's range.
        assert_eq!(exhaustion(now, 120_000_000, 1, far), None);
        assert_eq!(exhaustion(now, i64::MAX, 1, far), None);
        assert_eq!(
            exhaustion(now, i64::MAX / 1440, 1, chrono::DateTime::<Utc>::MAX_UTC),
            None
        );
        // An ordinary grant: 1,440 minutes left at 720 a day lasts two days.
        assert_eq!(
            exhaustion(now, 1_440, 720, far),
            Some(now + Duration::days(2))
        );
        // Past the end of the grant, or nothing burning, or nothing left: no date.
        assert_eq!(exhaustion(now, 1_440, 720, now + Duration::days(1)), None);
        assert_eq!(exhaustion(now, 1_440, 0, far), None);
        assert_eq!(exhaustion(now, 0, 720, far), None);
    }
}
