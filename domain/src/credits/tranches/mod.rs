//! Tranches of a grant: GPU credit promised at issue but released only when a named milestone
//! of the startup is signed off as done (a `tranche_released` ledger entry, the counters, a
//! sync job so the cluster's cap grows, an audit entry and an email, all in the sign-off's
//! transaction). A missed milestone, or the grant's revocation or expiry, cancels it.
//!
//! Here: planning them with a grant (checked against the startup's milestones) and reading
//! them; `release` settles them when a milestone is signed off or a grant or residency ends.
mod release;
use super::entity::grant;
use super::parse_gpu_hours;
use crate::error::{AppError, AppResult};
use crate::startups::entity::milestone;
use chrono::Utc;
pub use release::{cancel_for_ended_startup, cancel_for_grant, cancel_for_milestone, release_for};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use wire::startups::incubation::{MilestoneStatus, TrancheRow, TrancheStatus};

/// At most this many tranches per grant.
pub const MAX_TRANCHES: usize = 5;

use super::entity::tranche;

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
        let Some(minutes) = read_row(n, row, &out)? else {
            continue;
        };
        let m = milestone::Entity::find_by_id(row.milestone_id)
            .one(txn)
            .await?;
        let milestone_id = check_milestone(n, startup_id, m)?;
        out.push(ValidTranche {
            minutes,
            milestone_id,
        });
    }
    check_count(out.len())?;
    Ok(out)
}

/// The checks of the `n`-th row that need no database: its GPU-minutes, or None for a blank
/// row. Both hours and a milestone are needed, and a milestone already `taken` once is refused.
fn read_row(n: usize, row: &TrancheInput, taken: &[ValidTranche]) -> AppResult<Option<i64>> {
    let hours = row.gpu_hours.trim();
    if hours.is_empty() && row.milestone_id == 0 {
        return Ok(None);
    }
    let minutes = parse_gpu_hours(hours, false)
        .ok_or_else(|| AppError::invalid(&format!("tranche_hours_{n}"), "tranches.error_hours"))?;
    if row.milestone_id == 0 {
        return Err(AppError::invalid(
            &format!("tranche_milestone_{n}"),
            "tranches.error_milestone_required",
        ));
    }
    if taken.iter().any(|t| t.milestone_id == row.milestone_id) {
        return Err(AppError::invalid(
            &format!("tranche_milestone_{n}"),
            "tranches.error_duplicate",
        ));
    }
    Ok(Some(minutes))
}

/// The `n`-th row's milestone, as read: it must be this startup's and still planned.
fn check_milestone(n: usize, startup_id: i64, m: Option<milestone::Model>) -> AppResult<i64> {
    let m = m.filter(|m| m.startup_id == startup_id).ok_or_else(|| {
        AppError::invalid(
            &format!("tranche_milestone_{n}"),
            "tranches.error_milestone_other",
        )
    })?;
    if m.status != MilestoneStatus::Planned {
        return Err(AppError::invalid(
            &format!("tranche_milestone_{n}"),
            "tranches.error_milestone_final",
        ));
    }
    Ok(m.id)
}

/// At most MAX_TRANCHES tranches per grant.
fn check_count(tranches: usize) -> AppResult<()> {
    if tranches > MAX_TRANCHES {
        return Err(AppError::invalid("tranches", "tranches.error_too_many"));
    }
    Ok(())
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
                status: Set(TrancheStatus::Pending),
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
        .inner_join(milestone::Entity)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hours: &str, milestone_id: i64) -> TrancheInput {
        TrancheInput {
            gpu_hours: hours.into(),
            milestone_id,
        }
    }

    fn milestone(id: i64, startup_id: i64, state: MilestoneStatus) -> milestone::Model {
        let at = chrono::DateTime::<Utc>::from_timestamp(1_740_000_000, 0).unwrap();
        milestone::Model {
            id,
            startup_id,
            title: "Pilot customer".into(),
            description: String::new(),
            due_on: at.date_naive(),
            status: state,
            evidence: None,
            notes: None,
            signed_off_by: None,
            signed_off_at: None,
            reminded_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn refused(field: &str, key: &str) -> AppError {
        AppError::invalid(field, key)
    }

    #[test]
    fn a_blank_row_is_skipped() {
        assert_eq!(read_row(1, &row("", 0), &[]), Ok(None));
        assert_eq!(read_row(1, &row("   ", 0), &[]), Ok(None));
    }

    #[test]
    fn hours_on_a_milestone_become_minutes() {
        assert_eq!(read_row(1, &row("12.5", 4), &[]), Ok(Some(750)));
        assert_eq!(read_row(1, &row(" 1,000 ", 4), &[]), Ok(Some(60_000)));
    }

    #[test]
    fn a_row_needs_both_hours_and_a_milestone() {
        assert_eq!(
            read_row(2, &row("10", 0), &[]),
            Err(refused(
                "tranche_milestone_2",
                "tranches.error_milestone_required"
            ))
        );
        assert_eq!(
            read_row(2, &row("", 4), &[]),
            Err(refused("tranche_hours_2", "tranches.error_hours"))
        );
    }

    #[test]
    fn hours_must_be_positive_with_at_most_two_decimals() {
        for bad in ["0", "-5", "1.234", "ten"] {
            assert_eq!(
                read_row(3, &row(bad, 4), &[]),
                Err(refused("tranche_hours_3", "tranches.error_hours")),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_milestone_releases_one_tranche_only() {
        let taken = [ValidTranche {
            minutes: 600,
            milestone_id: 4,
        }];
        assert_eq!(
            read_row(2, &row("5", 4), &taken),
            Err(refused("tranche_milestone_2", "tranches.error_duplicate"))
        );
        assert_eq!(read_row(2, &row("5", 5), &taken), Ok(Some(300)));
    }

    #[test]
    fn only_a_planned_milestone_of_the_same_startup_will_do() {
        let other = refused("tranche_milestone_1", "tranches.error_milestone_other");
        let settled = refused("tranche_milestone_1", "tranches.error_milestone_final");
        assert_eq!(check_milestone(1, 7, None), Err(other.clone()));
        assert_eq!(
            check_milestone(1, 7, Some(milestone(4, 8, MilestoneStatus::Planned))),
            Err(other)
        );
        for state in [MilestoneStatus::Done, MilestoneStatus::Missed] {
            assert_eq!(
                check_milestone(1, 7, Some(milestone(4, 7, state))),
                Err(settled.clone()),
                "{state}"
            );
        }
        assert_eq!(
            check_milestone(1, 7, Some(milestone(4, 7, MilestoneStatus::Planned))),
            Ok(4)
        );
    }

    #[test]
    fn at_most_five_tranches_per_grant() {
        assert_eq!(check_count(0), Ok(()));
        assert_eq!(check_count(MAX_TRANCHES), Ok(()));
        assert_eq!(
            check_count(MAX_TRANCHES + 1),
            Err(refused("tranches", "tranches.error_too_many"))
        );
    }
}
