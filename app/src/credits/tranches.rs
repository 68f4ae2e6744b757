//! Tranches of a grant: GPU credit promised at issue but released only when a named milestone
//! of the startup is signed off as done (a `tranche_released` ledger entry, the counters, a
//! sync job so the cluster's cap grows, an audit entry and an email, all in the sign-off's
//! transaction). A missed milestone, or the grant's revocation or expiry, cancels it.
use super::entity::{grant, resource};
use super::format_gpu_hours;
use super::ledger::{append, Entry};
use super::{kind, parse_gpu_hours, status};
use crate::audit::{self, Change};
use crate::auth::domain::Actor;
use crate::error::{AppError, AppResult};
use crate::startups::entity::milestone;
use crate::startups::incubation::{milestone_status, TrancheRow};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;

/// At most this many tranches per grant.
pub const MAX_TRANCHES: usize = 5;

/// States of a tranche; each has a label `tranches.status_<state>`.
pub mod tranche_status {
    pub const PENDING: &str = "pending";
    pub const RELEASED: &str = "released";
    pub const CANCELLED: &str = "cancelled";
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// GPU-minutes of a grant that a milestone's sign-off releases.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "grant_tranches")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub grant_id: i64,
        pub milestone_id: i64,
        pub minutes: i64,
        pub status: String,
        pub released_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity as tranche;

/// One row of the grant form's tranches, as typed.
#[derive(Clone, Debug, Default)]
pub struct TrancheInput {
    pub gpu_hours: String,
    pub milestone_id: i64,
}

/// A checked tranche, ready to be stored with its grant.
pub(crate) struct ValidTranche {
    minutes: i64,
    milestone_id: i64,
}

/// Reads the filled rows of the form (a row with neither hours nor milestone is skipped): each
/// needs both, on a planned milestone of this startup, each milestone once.
pub(crate) async fn validate(
    txn: &impl ConnectionTrait,
    startup_id: i64,
    rows: &[TrancheInput],
) -> AppResult<Vec<ValidTranche>> {
    let mut out: Vec<ValidTranche> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let hours = row.gpu_hours.trim();
        if hours.is_empty() && row.milestone_id == 0 {
            continue;
        }
        let minutes = parse_gpu_hours(hours, false).ok_or_else(|| {
            AppError::invalid(&format!("tranche_hours_{n}"), "tranches.error_hours")
        })?;
        if row.milestone_id == 0 {
            return Err(AppError::invalid(
                &format!("tranche_milestone_{n}"),
                "tranches.error_milestone_required",
            ));
        }
        if out.iter().any(|t| t.milestone_id == row.milestone_id) {
            return Err(AppError::invalid(
                &format!("tranche_milestone_{n}"),
                "tranches.error_duplicate",
            ));
        }
        let m = milestone::Entity::find_by_id(row.milestone_id)
            .one(txn)
            .await?
            .filter(|m| m.startup_id == startup_id)
            .ok_or_else(|| {
                AppError::invalid(
                    &format!("tranche_milestone_{n}"),
                    "tranches.error_milestone_other",
                )
            })?;
        if m.status != milestone_status::PLANNED {
            return Err(AppError::invalid(
                &format!("tranche_milestone_{n}"),
                "tranches.error_milestone_final",
            ));
        }
        out.push(ValidTranche {
            minutes,
            milestone_id: m.id,
        });
    }
    if out.len() > MAX_TRANCHES {
        return Err(AppError::invalid("tranches", "tranches.error_too_many"));
    }
    Ok(out)
}

/// Stores a new grant's tranches, pending.
pub(crate) async fn insert(
    txn: &impl ConnectionTrait,
    g: &grant::Model,
    tranches: Vec<ValidTranche>,
) -> AppResult<Vec<tranche::Model>> {
    let now = Utc::now();
    let mut out = Vec::with_capacity(tranches.len());
    for t in tranches {
        out.push(
            tranche::ActiveModel {
                grant_id: Set(g.id),
                milestone_id: Set(t.milestone_id),
                minutes: Set(t.minutes),
                status: Set(tranche_status::PENDING.into()),
                released_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?,
        );
    }
    Ok(out)
}

/// A tranche with its milestone's title and due date, read in one joined query.
#[derive(sea_orm::FromQueryResult)]
struct WithMilestone {
    #[sea_orm(nested)]
    tranche: tranche::Model,
    milestone_title: String,
    milestone_due_on: chrono::NaiveDate,
}

/// The tranches of these grants, by due date of their milestones (one query, none for no
/// grants).
pub async fn for_grants(
    db: &impl ConnectionTrait,
    grant_ids: &[i64],
) -> AppResult<Vec<TrancheRow>> {
    if grant_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = tranche::Entity::find()
        .column_as(
            Expr::col((milestone::Entity, milestone::Column::Title)),
            "milestone_title",
        )
        .column_as(
            Expr::col((milestone::Entity, milestone::Column::DueOn)),
            "milestone_due_on",
        )
        .join(
            sea_orm::JoinType::InnerJoin,
            tranche::Entity::belongs_to(milestone::Entity)
                .from(tranche::Column::MilestoneId)
                .to(milestone::Column::Id)
                .into(),
        )
        .filter(tranche::Column::GrantId.is_in(grant_ids.iter().copied()))
        .order_by_asc(Expr::col((milestone::Entity, milestone::Column::DueOn)))
        .order_by_asc(Expr::col((tranche::Entity, tranche::Column::Id)))
        .into_model::<WithMilestone>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| TrancheRow {
            id: r.tranche.id,
            grant_id: r.tranche.grant_id,
            milestone_id: r.tranche.milestone_id,
            milestone_title: r.milestone_title,
            due_on: r.milestone_due_on,
            minutes: r.tranche.minutes,
            status: r.tranche.status,
            released_at: r.tranche.released_at,
        })
        .collect())
}

/// The tranches tied to these milestones (one query).
pub async fn for_milestones(
    db: &impl ConnectionTrait,
    milestones: &[milestone::Model],
) -> AppResult<Vec<TrancheRow>> {
    let tranches = tranche::Entity::find()
        .filter(tranche::Column::MilestoneId.is_in(milestones.iter().map(|m| m.id)))
        .order_by_asc(tranche::Column::Id)
        .all(db)
        .await?;
    Ok(tranches
        .into_iter()
        .filter_map(|t| {
            let m = milestones.iter().find(|m| m.id == t.milestone_id)?;
            Some(TrancheRow {
                id: t.id,
                grant_id: t.grant_id,
                milestone_id: t.milestone_id,
                milestone_title: m.title.clone(),
                due_on: m.due_on,
                minutes: t.minutes,
                status: t.status,
                released_at: t.released_at,
            })
        })
        .collect())
}

/// Whether any tranche (of any state) names this milestone.
pub async fn any_for_milestone(db: &impl ConnectionTrait, milestone_id: i64) -> AppResult<bool> {
    Ok(tranche::Entity::find()
        .filter(tranche::Column::MilestoneId.eq(milestone_id))
        .one(db)
        .await?
        .is_some())
}

/// Marks a pending tranche with a new state; false when someone else got there first.
async fn settle(txn: &impl ConnectionTrait, t: &tranche::Model, to: &str) -> AppResult<bool> {
    let mut q = tranche::Entity::update_many()
        .col_expr(tranche::Column::Status, Expr::value(to))
        .filter(tranche::Column::Id.eq(t.id))
        .filter(tranche::Column::Status.eq(tranche_status::PENDING));
    if to == tranche_status::RELEASED {
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
                    tranche_status::RELEASED
                } else {
                    tranche_status::CANCELLED
                },
            })),
        },
    )
    .await?;
    Ok(())
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
        .filter(tranche::Column::Status.eq(tranche_status::PENDING))
        .order_by_asc(tranche::Column::Id)
        .all(txn)
        .await?;
    for t in pending {
        let g = grant::Entity::find_by_id(t.grant_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if !matches!(g.status.as_str(), status::ACTIVE | status::SUSPENDED) {
            if settle(txn, &t, tranche_status::CANCELLED).await? {
                audit_tranche(txn, Some(actor.user_id), "grant.tranche_cancelled", &t).await?;
            }
            continue;
        }
        if !settle(txn, &t, tranche_status::RELEASED).await? {
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
                kind: kind::TRANCHE_RELEASED,
                minutes: t.minutes,
                note: &note,
                external_ref: None,
                actor: Some(actor.user_id),
                at: Utc::now(),
            },
        )
        .await?;
        super::sync::enqueue(txn, &r, g.startup_id).await?;
        audit_tranche(txn, Some(actor.user_id), "grant.tranche_released", &t).await?;
        super::grants::tell_team(txn, settings, &g, &r, "tranche_released").await?;
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
        .filter(tranche::Column::Status.eq(tranche_status::PENDING))
        .all(txn)
        .await?;
    for t in pending {
        if settle(txn, &t, tranche_status::CANCELLED).await? {
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
        .filter(tranche::Column::Status.eq(tranche_status::PENDING))
        .all(txn)
        .await?;
    for t in pending {
        if settle(txn, &t, tranche_status::CANCELLED).await? {
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
        .filter(milestone::Column::Status.eq(milestone_status::PLANNED))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let pending = tranche::Entity::find()
        .filter(tranche::Column::MilestoneId.is_in(planned))
        .filter(tranche::Column::Status.eq(tranche_status::PENDING))
        .all(txn)
        .await?;
    for t in pending {
        if settle(txn, &t, tranche_status::CANCELLED).await? {
            audit_tranche(txn, Some(actor.user_id), "grant.tranche_cancelled", &t).await?;
        }
    }
    Ok(())
}
