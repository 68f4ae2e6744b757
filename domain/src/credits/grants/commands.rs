//! Changes to grants: issue, adjust, suspend, resume, revoke, expire, and the usage each finished
//! job consumes. Each writes its ledger entry, a sync job and an audit entry in one transaction.
use super::notify::{tell_team, usage_alerts};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::credits::entity::{grant, ledger as ledger_entity, resource};
use crate::credits::ledger::{append, set_status, Entry};
use crate::credits::usage::spill_over;
use crate::credits::{parse_gpu_hours, GrantFunding, GrantStatus, LedgerKind};
use crate::error::{AppError, AppResult};
use crate::startups::entity::startup;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use wire::auth::Role;

#[derive(Clone, Debug, Default)]
pub struct GrantInput {
    pub startup_id: i64,
    pub resource_id: i64,
    pub gpu_hours: String,
    pub valid_from: String,
    pub valid_until: String,
    pub reason: String,
    /// `park` (empty too) or `own`: who pays for the hours.
    pub funding: String,
    /// Optional tranches, each released when its milestone is signed off as done.
    pub tranches: Vec<crate::credits::tranches::TrancheInput>,
}

/// `2027-01-31T09:00` (a datetime-local field) or `2027-01-31` (the start of that day), read
/// in the zone of the person who typed it.
pub(super) fn parse_time(
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

pub(super) fn note_of(text: &str) -> AppResult<String> {
    let t = text.trim();
    if t.chars().count() > 1000 {
        return Err(AppError::invalid("note", "error.too_long"));
    }
    Ok(t.to_string())
}

pub(super) async fn load(
    txn: &impl ConnectionTrait,
    id: i64,
) -> AppResult<(grant::Model, resource::Model)> {
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

pub(super) fn audit_of(g: &grant::Model) -> serde_json::Value {
    json!({
        "status": g.status,
        "granted": g.granted_minutes,
        "adjusted": g.adjusted_minutes,
        "consumed": g.consumed_minutes,
        "forfeited": g.forfeited_minutes,
        "valid_until": g.valid_until,
    })
}

pub(super) async fn record(
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
    let funding = match input.funding.trim() {
        "" => GrantFunding::Park,
        f => GrantFunding::parse(f)
            .ok_or_else(|| AppError::invalid("funding", "error.grant_funding_invalid"))?,
    };
    let txn = crate::txn::begin(db).await?;
    let s = startup::Entity::find_by_id(input.startup_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::invalid("startup_id", "error.startup_unknown"))?;
    if s.status != wire::startups::incubation::StartupStatus::Incubating {
        return Err(AppError::invalid(
            "startup_id",
            "error.startup_not_incubating",
        ));
    }
    let r = resource::Entity::find_by_id(input.resource_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::invalid("resource_id", "error.resource_unknown"))?;
    let tranches = crate::credits::tranches::validate(&txn, s.id, &input.tranches).await?;
    let now = Utc::now();
    let g = grant::ActiveModel {
        startup_id: sea_orm::Set(s.id),
        resource_id: sea_orm::Set(r.id),
        status: sea_orm::Set(GrantStatus::Active),
        granted_minutes: sea_orm::Set(0),
        adjusted_minutes: sea_orm::Set(0),
        consumed_minutes: sea_orm::Set(0),
        forfeited_minutes: sea_orm::Set(0),
        funding: sea_orm::Set(funding),
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
            kind: LedgerKind::Granted,
            minutes,
            note: reason,
            external_ref: None,
            actor: Some(actor.user_id),
            at: now,
        },
    )
    .await?;
    let tranches = crate::credits::tranches::insert(&txn, &g, tranches).await?;
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
    if !matches!(g.status, GrantStatus::Active | GrantStatus::Suspended) {
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
            kind: LedgerKind::Adjusted,
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
    record(&txn, actor, "grant.adjusted", Some(&before), &g).await?;
    tell_team(&txn, settings, &g, &r, "adjusted").await?;
    txn.commit().await?;
    Ok(())
}

/// What an admin may do to a grant in state `from`: the audit action of the move to `to`, or
/// the translation key of the refusal. A grant past its end may not be resumed (the clock
/// expires it instead); expired and revoked grants stay as they are.
pub fn admin_move(
    from: GrantStatus,
    to: GrantStatus,
    ended: bool,
) -> Result<&'static str, &'static str> {
    use GrantStatus::*;
    match (from, to) {
        (Active, Suspended) => Ok("grant.suspended"),
        (Suspended, Active) if ended => Err("error.grant_ended"),
        (Suspended, Active) => Ok("grant.resumed"),
        (Active | Suspended, Revoked) => Ok("grant.revoked"),
        (Revoked, Revoked) => Err("error.already_revoked"),
        _ => Err("error.grant_transition"),
    }
}

/// Suspends, resumes or revokes a grant. Revoking forfeits what remains.
pub async fn transition(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    id: i64,
    to: GrantStatus,
    note: &str,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let note = note_of(note)?;
    let txn = crate::txn::begin(db).await?;
    let (g, r) = load(&txn, id).await?;
    let now = Utc::now();
    let action = admin_move(g.status, to, g.valid_until <= now).map_err(AppError::conflict)?;
    let before = g.clone();
    let mut g = g;
    if to == GrantStatus::Revoked && g.remaining_minutes() > 0 {
        let remaining = g.remaining_minutes();
        g = append(
            &txn,
            g,
            Entry {
                kind: LedgerKind::Revoked,
                minutes: -remaining,
                note: &note,
                external_ref: None,
                actor: Some(actor.user_id),
                at: now,
            },
        )
        .await?;
    }
    // Another admin's change of the same grant, committed since it was read, wins.
    let g = set_status(&txn, g, to, now)
        .await?
        .ok_or_else(|| AppError::conflict("error.grant_transition"))?;
    if to == GrantStatus::Revoked {
        crate::credits::tranches::cancel_for_grant(&txn, Some(actor.user_id), g.id).await?;
    }
    record(&txn, actor, action, Some(&before), &g).await?;
    tell_team(&txn, settings, &g, &r, to.as_str()).await?;
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
        .filter(grant::Column::Status.is_in([GrantStatus::Active, GrantStatus::Suspended]))
        .filter(grant::Column::ValidUntil.lte(now))
        .limit(500)
        .all(db)
        .await?;
    let mut expired = 0;
    for candidate in due {
        let txn = crate::txn::begin(db).await?;
        let (g, r) = load(&txn, candidate.id).await?;
        // Another process may have got there first.
        if !matches!(g.status, GrantStatus::Active | GrantStatus::Suspended) {
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
                    kind: LedgerKind::Expired,
                    minutes: -remaining,
                    note: "",
                    external_ref: None,
                    actor: None,
                    at: now,
                },
            )
            .await?;
        }
        let Some(g) = set_status(&txn, g, GrantStatus::Expired, now).await? else {
            continue;
        };
        crate::credits::tranches::cancel_for_grant(&txn, None, g.id).await?;
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
        tell_team(&txn, settings, &g, &r, GrantStatus::Expired.as_str()).await?;
        txn.commit().await?;
        expired += 1;
    }
    Ok(expired)
}

/// Imports one finished job as `consumed`, once per job and resource. The minutes are taken
/// from the grants that were valid when the job ended, the park's credit before hours the
/// startup bought, each soonest to expire first; what exceeds
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
    let grants = grant::Entity::find()
        .filter(grant::Column::StartupId.eq(startup_id))
        .filter(grant::Column::ResourceId.eq(resource_id))
        .filter(grant::Column::ValidFrom.lte(ended_at))
        .order_by_asc(grant::Column::ValidUntil)
        .all(&txn)
        .await?;
    if grants.is_empty() {
        return Ok(false);
    }
    let r = resource::Entity::find_by_id(resource_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut touched = Vec::new();
    // What the grants held of the job: the rest overdrew them, and is not the park's credit.
    let mut covered = 0;
    for (part, (g, take)) in spill_over(grants, ended_at, gpu_minutes)
        .into_iter()
        .enumerate()
    {
        if g.funding == GrantFunding::Park {
            covered += take.min(g.remaining_minutes().max(0));
        }
        // The first part is the job itself; a job spread over several grants numbers the rest.
        let reference = if part == 0 {
            job_ref.to_string()
        } else {
            format!("{job_ref}#{part}")
        };
        let g = append(
            &txn,
            g,
            Entry {
                kind: LedgerKind::Consumed,
                minutes: -take,
                note: "",
                external_ref: Some(reference),
                actor: None,
                at: ended_at,
            },
        )
        .await?;
        touched.push(g);
    }
    crate::credits::prices::charge_job(
        &txn,
        settings.park_zone,
        &r,
        crate::credits::prices::Job {
            startup_id,
            job_ref,
            gpu_minutes,
            covered_minutes: covered,
            ended_at,
        },
    )
    .await?;
    for g in &touched {
        usage_alerts(&txn, settings, g, &r, Utc::now()).await?;
    }
    txn.commit().await?;
    Ok(!touched.is_empty())
}

#[cfg(test)]
mod tests {
    use super::admin_move;
    use crate::credits::GrantStatus::{self, *};

    /// Every pair of states, before and after the grant's end: what an admin may do.
    #[test]
    fn admin_moves_follow_the_design() {
        let allowed = [
            (Active, Suspended, "grant.suspended"),
            (Suspended, Active, "grant.resumed"),
            (Active, Revoked, "grant.revoked"),
            (Suspended, Revoked, "grant.revoked"),
        ];
        for &from in GrantStatus::ALL {
            for &to in GrantStatus::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, t, _)| (*f, *t) == (from, to))
                    .map(|(_, _, action)| *action);
                match expected {
                    Some(action) => assert_eq!(admin_move(from, to, false), Ok(action)),
                    None => assert!(admin_move(from, to, false).is_err(), "{from} → {to}"),
                }
            }
        }
        // Past its end a suspended grant cannot come back; it can still be suspended or revoked.
        assert_eq!(
            admin_move(Suspended, Active, true),
            Err("error.grant_ended")
        );
        assert_eq!(admin_move(Active, Suspended, true), Ok("grant.suspended"));
        assert_eq!(admin_move(Suspended, Revoked, true), Ok("grant.revoked"));
        assert_eq!(
            admin_move(Revoked, Revoked, false),
            Err("error.already_revoked")
        );
        assert_eq!(
            admin_move(Expired, Active, false),
            Err("error.grant_transition")
        );
    }
}
