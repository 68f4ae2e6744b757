//! Settling tranches: a milestone signed off as done releases its pending tranches into their
//! grants (through the ledger, which queues the cluster's sync); a missed milestone, or the
//! grant's revocation or expiry, or the startup's leaving, cancels them. Each settlement is
//! audited; a tranche settles once even when two transactions race for it.
use super::tranche;
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::credits::entity::{grant, resource};
use crate::credits::format_gpu_hours;
use crate::credits::ledger::{append, Entry};
use crate::credits::{GrantStatus, LedgerKind};
use crate::error::{AppError, AppResult};
use crate::startups::entity::milestone;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use wire::startups::incubation::{MilestoneStatus, TrancheStatus};

/// Marks a pending tranche with a new state; false when someone else got there first.
async fn settle(
    txn: &impl ConnectionTrait,
    t: &tranche::Model,
    to: TrancheStatus,
) -> AppResult<bool> {
    let mut q = tranche::Entity::update_many()
        .col_expr(tranche::Column::Status, Expr::value(to))
        .filter(tranche::Column::Id.eq(t.id))
        .filter(tranche::Column::Status.eq(TrancheStatus::Pending));
    if to == TrancheStatus::Released {
        q = q.col_expr(tranche::Column::ReleasedAt, Expr::value(Utc::now()));
    }
    Ok(q.exec(txn).await?.rows_affected == 1)
}

async fn audit_tranche(
    txn: &impl ConnectionTrait,
    actor: Option<i64>,
    action: &'static str,
    t: &tranche::Model,
) -> AppResult<()> {
    audit::record(
        txn,
        Change {
            actor,
            action,
            entity_type: "grant",
            entity_id: t.grant_id.to_string(),
            before: Some(json!({"tranche": t.id, "status": t.status})),
            after: Some(json!({
                "tranche": t.id, "milestone": t.milestone_id, "minutes": t.minutes,
                "status": if action == "grant.tranche_released" {
                    TrancheStatus::Released
                } else {
                    TrancheStatus::Cancelled
                },
            })),
        },
    )
    .await?;
    Ok(())
}

/// What a pending tranche becomes when its milestone is done: released while its grant is
/// open (active, or suspended: the credit waits for the grant's resumption), cancelled once
/// the grant has expired or been revoked.
fn settles_as(grant_status: GrantStatus) -> TrancheStatus {
    if grant_status.is_live() {
        TrancheStatus::Released
    } else {
        TrancheStatus::Cancelled
    }
}

/// Releases the pending tranches of a milestone just signed off as done, inside the sign-off's
/// transaction. A tranche of a grant that is no longer open is cancelled instead.
pub async fn release_for(
    txn: &impl ConnectionTrait,
    settings: &crate::state::Settings,
    actor: &Actor,
    m: &milestone::Model,
) -> AppResult<()> {
    let pending = tranche::Entity::find()
        .filter(tranche::Column::MilestoneId.eq(m.id))
        .filter(tranche::Column::Status.eq(TrancheStatus::Pending))
        .order_by_asc(tranche::Column::Id)
        .all(txn)
        .await?;
    for t in pending {
        let g = grant::Entity::find_by_id(t.grant_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if settles_as(g.status) == TrancheStatus::Cancelled {
            if settle(txn, &t, TrancheStatus::Cancelled).await? {
                audit_tranche(txn, Some(actor.user_id), "grant.tranche_cancelled", &t).await?;
            }
            continue;
        }
        if !settle(txn, &t, TrancheStatus::Released).await? {
            continue;
        }
        let r = resource::Entity::find_by_id(g.resource_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        let note = format!("{} ({})", m.title, format_gpu_hours(t.minutes));
        let g = append(
            txn,
            g,
            Entry {
                kind: LedgerKind::TrancheReleased,
                minutes: t.minutes,
                note: &note,
                external_ref: None,
                actor: Some(actor.user_id),
                at: Utc::now(),
            },
        )
        .await?;
        audit_tranche(txn, Some(actor.user_id), "grant.tranche_released", &t).await?;
        crate::credits::grants::tell_team(txn, settings, &g, &r, "tranche_released").await?;
    }
    Ok(())
}

/// Cancels the pending tranches of a milestone signed off as missed; nothing reaches the
/// ledger (the minutes were never released).
pub async fn cancel_for_milestone(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    m: &milestone::Model,
) -> AppResult<()> {
    let pending = tranche::Entity::find()
        .filter(tranche::Column::MilestoneId.eq(m.id))
        .filter(tranche::Column::Status.eq(TrancheStatus::Pending))
        .all(txn)
        .await?;
    for t in pending {
        if settle(txn, &t, TrancheStatus::Cancelled).await? {
            audit_tranche(txn, Some(actor.user_id), "grant.tranche_cancelled", &t).await?;
        }
    }
    Ok(())
}

/// Cancels the pending tranches of a grant that is revoked or expires.
pub async fn cancel_for_grant(
    txn: &impl ConnectionTrait,
    actor: Option<i64>,
    grant_id: i64,
) -> AppResult<()> {
    let pending = tranche::Entity::find()
        .filter(tranche::Column::GrantId.eq(grant_id))
        .filter(tranche::Column::Status.eq(TrancheStatus::Pending))
        .all(txn)
        .await?;
    for t in pending {
        if settle(txn, &t, TrancheStatus::Cancelled).await? {
            audit_tranche(txn, actor, "grant.tranche_cancelled", &t).await?;
        }
    }
    Ok(())
}

/// Cancels the pending tranches waiting on a startup's still-planned milestones, when its
/// incubation ends (no milestone can be signed off after that).
pub async fn cancel_for_ended_startup(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    startup_id: i64,
) -> AppResult<()> {
    let planned: Vec<i64> = milestone::Entity::find()
        .filter(milestone::Column::StartupId.eq(startup_id))
        .filter(milestone::Column::Status.eq(MilestoneStatus::Planned))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let pending = tranche::Entity::find()
        .filter(tranche::Column::MilestoneId.is_in(planned))
        .filter(tranche::Column::Status.eq(TrancheStatus::Pending))
        .all(txn)
        .await?;
    for t in pending {
        if settle(txn, &t, TrancheStatus::Cancelled).await? {
            audit_tranche(txn, Some(actor.user_id), "grant.tranche_cancelled", &t).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_done_milestone_releases_only_into_an_open_grant() {
        assert_eq!(settles_as(GrantStatus::Active), TrancheStatus::Released);
        assert_eq!(settles_as(GrantStatus::Suspended), TrancheStatus::Released);
        assert_eq!(settles_as(GrantStatus::Expired), TrancheStatus::Cancelled);
        assert_eq!(settles_as(GrantStatus::Revoked), TrancheStatus::Cancelled);
    }
}
