//! The ledger: every change of a grant's balance is an entry written in the same transaction as
//! the change, and the grant's counters move with it, so that for every grant
//! granted + adjusted = consumed + forfeited + remaining.
//!
//! A grant's counters and its status are the cap its startup's allocation has on the cluster
//! (`cluster::allocation::limit_of`). They are written here only, by `append` and
//! `set_status`, and each write queues the allocation's sync in the same transaction: no
//! command queues one by hand, and none can forget to.
use super::entity::{grant, ledger, resource};
use crate::credits::{GrantStatus, LedgerKind};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

pub struct Entry<'a> {
    pub kind: LedgerKind,
    /// The change to the remaining balance (negative for use and forfeits).
    pub minutes: i64,
    pub note: &'a str,
    pub external_ref: Option<String>,
    pub actor: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A grant's four counters, as the ledger moves them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Counters {
    pub granted: i64,
    pub adjusted: i64,
    pub consumed: i64,
    pub forfeited: i64,
}

impl Counters {
    pub(crate) fn of(g: &grant::Model) -> Counters {
        Counters {
            granted: g.granted_minutes,
            adjusted: g.adjusted_minutes,
            consumed: g.consumed_minutes,
            forfeited: g.forfeited_minutes,
        }
    }

    /// The balance: granted + adjusted − consumed − forfeited (negative when overdrawn).
    pub(crate) fn remaining(self) -> i64 {
        self.granted + self.adjusted - self.consumed - self.forfeited
    }

    /// The counters after an entry of `kind` that changes the balance by `minutes`. Use and
    /// forfeits are entered negative and counted positive; a released tranche counts as
    /// granted. Every kind moves exactly one counter.
    pub(crate) fn after(mut self, kind: LedgerKind, minutes: i64) -> Counters {
        match kind {
            LedgerKind::Granted | LedgerKind::TrancheReleased => self.granted += minutes,
            LedgerKind::Adjusted => self.adjusted += minutes,
            LedgerKind::Consumed => self.consumed -= minutes,
            LedgerKind::Expired | LedgerKind::Revoked => self.forfeited -= minutes,
        }
        self
    }
}

/// Appends an entry, moves the grant's counters and queues its allocation's sync; returns the
/// updated grant.
pub async fn append(
    txn: &impl ConnectionTrait,
    g: grant::Model,
    e: Entry<'_>,
) -> AppResult<grant::Model> {
    let counters = Counters::of(&g).after(e.kind, e.minutes);
    let balance_after = counters.remaining();
    ledger::ActiveModel {
        grant_id: Set(g.id),
        startup_id: Set(g.startup_id),
        resource_id: Set(g.resource_id),
        kind: Set(e.kind),
        minutes: Set(e.minutes),
        balance_after: Set(balance_after),
        external_ref: Set(e.external_ref),
        note: Set(e.note.into()),
        actor_user_id: Set(e.actor),
        created_at: Set(e.at),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut active: grant::ActiveModel = g.into();
    active.granted_minutes = Set(counters.granted);
    active.adjusted_minutes = Set(counters.adjusted);
    active.consumed_minutes = Set(counters.consumed);
    active.forfeited_minutes = Set(counters.forfeited);
    active.updated_at = Set(e.at);
    let g = active.update(txn).await?;
    queue_sync(txn, &g).await?;
    Ok(g)
}

/// Moves a grant from the status it was read with to `to` and queues its allocation's sync.
/// None, and nothing written, when another transaction moved it first.
pub async fn set_status(
    txn: &impl ConnectionTrait,
    mut g: grant::Model,
    to: GrantStatus,
    at: DateTime<Utc>,
) -> AppResult<Option<grant::Model>> {
    let moved = grant::Entity::update_many()
        .col_expr(grant::Column::Status, Expr::value(to))
        .col_expr(grant::Column::UpdatedAt, Expr::value(at))
        .filter(grant::Column::Id.eq(g.id))
        .filter(grant::Column::Status.eq(g.status))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(None);
    }
    g.status = to;
    g.updated_at = at;
    queue_sync(txn, &g).await?;
    Ok(Some(g))
}

/// Queues the sync of the allocation `g` is part of: its startup's on its resource.
async fn queue_sync(txn: &impl ConnectionTrait, g: &grant::Model) -> AppResult<()> {
    let r = resource::Entity::find_by_id(g.resource_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::cluster::sync::enqueue(txn, &r, g.startup_id).await?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::Counters;
    use crate::credits::entity::grant;
    use crate::credits::{GrantStatus, LedgerKind};
    use chrono::{DateTime, TimeZone, Utc};

    /// 2025-03-01 00:00 UTC plus `days`: the fixtures' calendar.
    pub(crate) fn day(days: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap() + chrono::Duration::days(days)
    }

    /// A grant of `granted` GPU-minutes valid from day 0 to `until`, nothing used yet.
    pub(crate) fn grant(id: i64, status: GrantStatus, granted: i64, until: i64) -> grant::Model {
        grant::Model {
            id,
            startup_id: 7,
            resource_id: 3,
            status,
            granted_minutes: granted,
            adjusted_minutes: 0,
            consumed_minutes: 0,
            forfeited_minutes: 0,
            funding: wire::credits::GrantFunding::Park,
            valid_from: day(0),
            valid_until: day(until),
            reason: String::new(),
            created_by: None,
            created_at: day(0),
            updated_at: day(0),
            alerted_80_at: None,
            alerted_100_at: None,
            alerted_expiry_at: None,
        }
    }

    /// Applies entries in order, checking the ledger's identity after each.
    fn run(start: Counters, entries: &[(LedgerKind, i64)]) -> Counters {
        entries.iter().fold(start, |c, &(k, m)| {
            let next = c.after(k, m);
            assert_eq!(next.remaining(), c.remaining() + m, "{k} {m}");
            assert_eq!(
                next.granted + next.adjusted,
                next.consumed + next.forfeited + next.remaining()
            );
            next
        })
    }

    const ZERO: Counters = Counters {
        granted: 0,
        adjusted: 0,
        consumed: 0,
        forfeited: 0,
    };

    #[test]
    fn a_grant_used_cut_and_expired_ends_at_zero() {
        let c = run(
            ZERO,
            &[
                (LedgerKind::Granted, 6000),
                (LedgerKind::Consumed, -1500),
                (LedgerKind::Adjusted, -600),
                (LedgerKind::Consumed, -900),
                (LedgerKind::Expired, -3000),
            ],
        );
        assert_eq!(
            c,
            Counters {
                granted: 6000,
                adjusted: -600,
                consumed: 2400,
                forfeited: 3000,
            }
        );
        assert_eq!(c.remaining(), 0);
    }

    #[test]
    fn a_released_tranche_counts_as_granted_and_a_top_up_as_adjusted() {
        let c = run(
            ZERO,
            &[
                (LedgerKind::Granted, 600),
                (LedgerKind::TrancheReleased, 300),
                (LedgerKind::Adjusted, 120),
            ],
        );
        assert_eq!((c.granted, c.adjusted, c.remaining()), (900, 120, 1020));
    }

    #[test]
    fn revoking_forfeits_what_remains() {
        let c = run(
            ZERO,
            &[
                (LedgerKind::Granted, 600),
                (LedgerKind::Consumed, -200),
                (LedgerKind::Revoked, -400),
            ],
        );
        assert_eq!((c.consumed, c.forfeited, c.remaining()), (200, 400, 0));
    }

    #[test]
    fn use_beyond_the_balance_overdraws_it() {
        let c = run(
            ZERO,
            &[(LedgerKind::Granted, 60), (LedgerKind::Consumed, -100)],
        );
        assert_eq!((c.consumed, c.remaining()), (100, -40));
    }

    #[test]
    fn a_zero_entry_changes_nothing() {
        let start = Counters::of(&grant(1, GrantStatus::Active, 600, 30));
        for k in [
            LedgerKind::Granted,
            LedgerKind::Adjusted,
            LedgerKind::Consumed,
            LedgerKind::Expired,
        ] {
            assert_eq!(start.after(k, 0), start, "{k}");
        }
        assert_eq!(start.remaining(), 600);
    }

    #[test]
    fn every_kind_moves_exactly_one_counter_and_unknown_words_are_no_kind() {
        let start = Counters::of(&grant(1, GrantStatus::Active, 600, 30));
        for &k in LedgerKind::ALL {
            let after = start.after(k, -60);
            let moved = [
                after.granted != start.granted,
                after.adjusted != start.adjusted,
                after.consumed != start.consumed,
                after.forfeited != start.forfeited,
            ];
            assert_eq!(moved.iter().filter(|m| **m).count(), 1, "{k}");
            assert_eq!(after.remaining(), start.remaining() - 60, "{k}");
        }
        for word in ["bonus", "", "Consumed"] {
            assert_eq!(LedgerKind::parse(word), None);
        }
    }

    #[test]
    fn counters_read_the_grant_and_match_its_balance() {
        let mut g = grant(1, GrantStatus::Active, 6000, 30);
        g.adjusted_minutes = -600;
        g.consumed_minutes = 1000;
        g.forfeited_minutes = 400;
        let c = Counters::of(&g);
        assert_eq!(c.remaining(), 4000);
        assert_eq!(c.remaining(), g.remaining_minutes());
    }
}
