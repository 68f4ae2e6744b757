//! The ledger: every change of a grant's balance is an entry written in the same transaction as
//! the change, and the grant's counters move with it, so that for every grant
//! granted + adjusted = consumed + forfeited + remaining.
use super::entity::{grant, ledger};
use super::kind;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

pub struct Entry<'a> {
    pub kind: &'static str,
    /// The change to the remaining balance (negative for use and forfeits).
    pub minutes: i64,
    pub note: &'a str,
    pub external_ref: Option<String>,
    pub actor: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Appends an entry and moves the grant's counters; returns the updated grant.
pub async fn append(
    txn: &impl ConnectionTrait,
    g: grant::Model,
    e: Entry<'_>,
) -> AppResult<grant::Model> {
    let mut counters = (
        g.granted_minutes,
        g.adjusted_minutes,
        g.consumed_minutes,
        g.forfeited_minutes,
    );
    match e.kind {
        kind::GRANTED | kind::TRANCHE_RELEASED => counters.0 += e.minutes,
        kind::ADJUSTED => counters.1 += e.minutes,
        kind::CONSUMED => counters.2 -= e.minutes,
        kind::EXPIRED | kind::REVOKED => counters.3 -= e.minutes,
        _ => return Err(AppError::Internal),
    }
    let balance_after = counters.0 + counters.1 - counters.2 - counters.3;
    ledger::ActiveModel {
        grant_id: Set(g.id),
        startup_id: Set(g.startup_id),
        resource_id: Set(g.resource_id),
        kind: Set(e.kind.into()),
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
    active.granted_minutes = Set(counters.0);
    active.adjusted_minutes = Set(counters.1);
    active.consumed_minutes = Set(counters.2);
    active.forfeited_minutes = Set(counters.3);
    active.updated_at = Set(e.at);
    Ok(active.update(txn).await?)
}
