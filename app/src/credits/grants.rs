//! Grants of GPU credit (admin): issue, adjust, suspend, resume, revoke, and expiry by a
//! scheduled pass. Each change writes its ledger entry, a sync job and an audit entry in one
//! transaction, and tells the startup's team by email.
use super::entity::{grant, ledger as ledger_entity, resource, sync_job};
use super::ledger::{append, Entry};
use super::{
    format_gpu_hours, kind, parse_gpu_hours, status, sync_status, BurnDown, GrantDetail,
    GrantFormOptions, GrantRow, GrantsPage, LedgerRow, StartupCredit, SyncState,
};
use crate::audit::{self, Change};
use crate::auth::domain::Actor;
use crate::auth::entity::user;
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::startups::entity::{member, startup};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
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

/// `2027-01-31T09:00` (a datetime-local field) or `2027-01-31`, read as UTC.
fn parse_time(field: &'static str, text: &str) -> AppResult<DateTime<Utc>> {
    let t = text.trim();
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map(|n| n.and_utc())
        .map_err(|_| AppError::invalid(field, "error.time_invalid"))
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

/// Emails every member of the startup's team about a change to one of its grants.
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
        let content = templates::grant_notice(
            locale,
            &u.name,
            event,
            &format!("{} ({})", r.name, r.gpu_model),
            &g.valid_until.format("%Y-%m-%d").to_string(),
            &format_gpu_hours(g.remaining_minutes()),
            &link,
        );
        outbox::enqueue(txn, &u.email, &u.name, locale, &content).await?;
    }
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
        let txn = db.begin().await?;
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
    let from = parse_time("valid_from", &input.valid_from)?;
    let until = parse_time("valid_until", &input.valid_until)?;
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
    let txn = db.begin().await?;
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
    let txn = db.begin().await?;
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
    let txn = db.begin().await?;
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
        let txn = db.begin().await?;
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
    let txn = db.begin().await?;
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
            left.min(g.remaining_minutes().max(0))
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
async fn rows_of(db: &impl ConnectionTrait, grants: Vec<grant::Model>) -> AppResult<Vec<GrantRow>> {
    let startups = startup::Entity::find()
        .filter(startup::Column::Id.is_in(grants.iter().map(|g| g.startup_id)))
        .all(db)
        .await?;
    let resources = resource::Entity::find()
        .filter(resource::Column::Id.is_in(grants.iter().map(|g| g.resource_id)))
        .all(db)
        .await?;
    // The newest job per (startup, resource) among these grants' targets; older jobs (the
    // history grows with every change) are not read.
    let newest: Vec<Option<i64>> = sync_job::Entity::find()
        .select_only()
        .expr(sea_orm::sea_query::Func::max(
            sea_orm::sea_query::Expr::col(sync_job::Column::Id),
        ))
        .filter(sync_job::Column::StartupId.is_in(grants.iter().map(|g| g.startup_id)))
        .filter(sync_job::Column::Status.ne(sync_status::SUPERSEDED))
        .group_by(sync_job::Column::StartupId)
        .group_by(sync_job::Column::ResourceId)
        .into_tuple()
        .all(db)
        .await?;
    let jobs = sync_job::Entity::find()
        .filter(sync_job::Column::Id.is_in(newest.into_iter().flatten()))
        .all(db)
        .await?;
    Ok(grants
        .into_iter()
        .map(|g| {
            let s = startups.iter().find(|s| s.id == g.startup_id);
            let r = resources.iter().find(|r| r.id == g.resource_id);
            let job = jobs
                .iter()
                .find(|j| j.startup_id == g.startup_id && j.resource_id == g.resource_id);
            GrantRow {
                id: g.id,
                startup_id: g.startup_id,
                startup_name: s.map(|s| s.name.clone()).unwrap_or_default(),
                resource_id: g.resource_id,
                resource_name: r.map(|r| r.name.clone()).unwrap_or_default(),
                gpu_model: r.map(|r| r.gpu_model.clone()).unwrap_or_default(),
                status: g.status.clone(),
                granted_minutes: g.granted_minutes,
                adjusted_minutes: g.adjusted_minutes,
                consumed_minutes: g.consumed_minutes,
                forfeited_minutes: g.forfeited_minutes,
                remaining_minutes: g.remaining_minutes(),
                valid_from: g.valid_from,
                valid_until: g.valid_until,
                reason: g.reason.clone(),
                sync: job.map(|j| SyncState {
                    job_id: j.id,
                    status: j.status.clone(),
                    attempts: j.attempts,
                    last_error: j.last_error.clone(),
                    updated_at: j.updated_at,
                }),
            }
        })
        .collect())
}

pub const PER_PAGE: u64 = 50;

/// How many points a burn-down chart keeps, whatever the length of the ledger.
const CHART_POINTS: i64 = 300;

/// A grant's burn-down: its ledger sampled to a few hundred points (every k-th entry by id,
/// plus the last), and the forecast from the last 14 days' use (three queries).
pub async fn burn_down(db: &impl ConnectionTrait, g: &grant::Model) -> AppResult<BurnDown> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func};
    let count = ledger_entity::Entity::find()
        .filter(ledger_entity::Column::GrantId.eq(g.id))
        .count(db)
        .await? as i64;
    let step = Ord::max(count.unsigned_abs().div_ceil(CHART_POINTS as u64), 1) as i64;
    let mut points: Vec<(DateTime<Utc>, i64, i64)> = ledger_entity::Entity::find()
        .select_only()
        .column(ledger_entity::Column::CreatedAt)
        .column(ledger_entity::Column::BalanceAfter)
        .column(ledger_entity::Column::Id)
        .filter(ledger_entity::Column::GrantId.eq(g.id))
        .filter(
            Expr::col(ledger_entity::Column::Id)
                .modulo(step)
                .eq(0)
                .or(ledger_entity::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .expr(Func::max(Expr::col(ledger_entity::Column::Id)))
                        .from(ledger_entity::Entity)
                        .and_where(Expr::col(ledger_entity::Column::GrantId).eq(g.id))
                        .to_owned(),
                )),
        )
        .order_by_asc(ledger_entity::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    points.dedup_by_key(|p| p.2);
    let now = Utc::now();
    let since = now - chrono::Duration::days(14);
    let used: Option<i64> = ledger_entity::Entity::find()
        .select_only()
        // SUM of a bigint is numeric on PostgreSQL: cast it back.
        .expr_as(
            Func::cast_as(
                Func::sum(Expr::col(ledger_entity::Column::Minutes)),
                Alias::new("bigint"),
            ),
            "used",
        )
        .filter(ledger_entity::Column::GrantId.eq(g.id))
        .filter(ledger_entity::Column::Kind.eq(kind::CONSUMED))
        .filter(ledger_entity::Column::CreatedAt.gte(since))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    let burn_per_day = Ord::max(-used.unwrap_or(0), 0) / 14;
    let remaining = g.remaining_minutes();
    let exhausts_at = (burn_per_day > 0 && remaining > 0 && g.status == status::ACTIVE)
        .then(|| now + chrono::Duration::minutes(remaining * 24 * 60 / burn_per_day))
        .filter(|t| *t < g.valid_until);
    let peak = Ord::max(
        points.iter().map(|p| p.1).max().unwrap_or(0),
        g.granted_minutes + Ord::max(g.adjusted_minutes, 0),
    );
    Ok(BurnDown {
        grant_id: g.id,
        points: points.into_iter().map(|(t, b, _)| (t, b)).collect(),
        valid_from: g.valid_from,
        valid_until: g.valid_until,
        peak_minutes: peak,
        remaining_minutes: remaining,
        burn_per_day,
        exhausts_at,
        as_of: now,
    })
}

/// One page of grants, newest first, optionally of one status (four queries).
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    status_filter: &str,
    page: u64,
) -> AppResult<GrantsPage> {
    actor.require(Role::Admin)?;
    let mut q = grant::Entity::find().order_by_desc(grant::Column::Id);
    if !status_filter.is_empty() {
        q = q.filter(grant::Column::Status.eq(status_filter));
    }
    let paginator = q.paginate(db, PER_PAGE);
    let total = paginator.num_items().await?;
    let grants = paginator.fetch_page(page).await?;
    Ok(GrantsPage {
        rows: rows_of(db, grants).await?,
        total,
        page,
        per_page: PER_PAGE,
    })
}

/// A grant and one page of its ledger, for admins.
pub async fn detail(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    page: u64,
) -> AppResult<GrantDetail> {
    actor.require(Role::Admin)?;
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

/// What the grant form offers: incubating startups and all resources.
pub async fn form_options(db: &DatabaseConnection, actor: &Actor) -> AppResult<GrantFormOptions> {
    actor.require(Role::Admin)?;
    let startups = startup::Entity::find()
        .filter(startup::Column::Status.eq("incubating"))
        .order_by_asc(startup::Column::Name)
        .all(db)
        .await?;
    let resources = resource::Entity::find()
        .order_by_asc(resource::Column::Name)
        .all(db)
        .await?;
    // Planned milestones of those startups, for tranches (the domain checks the pairing).
    let milestones = crate::startups::entity::milestone::Entity::find()
        .filter(
            crate::startups::entity::milestone::Column::StartupId
                .is_in(startups.iter().map(|s| s.id)),
        )
        .filter(crate::startups::entity::milestone::Column::Status.eq("planned"))
        .order_by_asc(crate::startups::entity::milestone::Column::DueOn)
        .all(db)
        .await?;
    let milestones = milestones
        .into_iter()
        .filter_map(|m| {
            let s = startups.iter().find(|s| s.id == m.startup_id)?;
            Some((
                m.id,
                format!("{} — {} ({})", s.name, m.title, m.due_on.format("%Y-%m-%d")),
            ))
        })
        .collect();
    Ok(GrantFormOptions {
        milestones,
        startups: startups.into_iter().map(|s| (s.id, s.name)).collect(),
        resources: resources
            .into_iter()
            .map(|r| (r.id, format!("{} ({})", r.name, r.gpu_model)))
            .collect(),
    })
}

/// The signed-in applicant's own startup's grants; nobody else's.
pub async fn my_credit(db: &DatabaseConnection, actor: &Actor) -> AppResult<Option<StartupCredit>> {
    actor.require(Role::Applicant)?;
    let Some(s) = crate::startups::domain::startup_of(db, actor.user_id).await? else {
        return Ok(None);
    };
    let grants = grant::Entity::find()
        .filter(grant::Column::StartupId.eq(s.id))
        .order_by_desc(grant::Column::Id)
        .all(db)
        .await?;
    let mut burns = Vec::with_capacity(grants.len());
    for g in &grants {
        burns.push(burn_down(db, g).await?);
    }
    let ids: Vec<i64> = grants.iter().map(|g| g.id).collect();
    let tranches = super::tranches::for_grants(db, &ids).await?;
    Ok(Some(StartupCredit {
        tranches,
        startup_name: s.name,
        grants: rows_of(db, grants).await?,
        burns,
    }))
}
