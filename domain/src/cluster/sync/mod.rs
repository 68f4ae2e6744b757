//! The sync outbox. A change to a startup's grants writes, in its own transaction, a job that
//! holds the whole desired allocation for (startup, resource) and an idempotency key. Workers
//! claim jobs with a lease (and `FOR UPDATE SKIP LOCKED` on PostgreSQL), apply them through the
//! resource's backend, and retry with exponential backoff; after MAX_ATTEMPTS a job is dead.
use super::allocation::{account_name, desired};
use super::backend::Desired;
use crate::credits::entity::{resource, sync_job};
use crate::error::{AppError, AppResult};
use crate::queue::Policy;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use wire::credits::SyncStatus;

pub const MAX_ATTEMPTS: i32 = 8;
/// At most this many jobs are applied to one resource at a time, whatever the number of
/// workers: slurmdbd 22.05 on MariaDB dies (fatal, "unable to resolve deadlock") when about
/// a dozen association writes arrive at once.
const PER_RESOURCE_PARALLEL: i64 = 2;
/// How sync jobs are leased and retried: held for `lease_seconds` (the typed config's
/// `HATCHERY_SYNC_LEASE_SECONDS`), 5 s doubling to 10 minutes, dead after MAX_ATTEMPTS.
pub const fn policy(lease_seconds: i64) -> Policy {
    Policy {
        lease_seconds,
        first_retry_seconds: 5,
        longest_retry_seconds: 600,
        max_attempts: MAX_ATTEMPTS,
    }
}

/// The policy with the default lease of two minutes.
pub const POLICY: Policy = policy(120);

/// Writes the job for (startup, resource) inside the caller's transaction. Older jobs still
/// waiting are superseded: each job carries the whole desired state, so only the newest counts.
/// A job not yet tried that already carries the same state is kept instead, so that the
/// several writes of one command (a usage import spread over two grants, a revocation's
/// forfeit and its status) queue one job.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    r: &resource::Model,
    startup_id: i64,
) -> AppResult<i64> {
    let d = desired(txn, r, startup_id).await?;
    write_job(txn, r, startup_id, &d).await
}

/// Writes a job that freezes an orphan account, inside the caller's transaction. The account
/// is the one the resource's pattern gives `startup_id` (see `startup_of_account`), so that a
/// later grant to that startup supersedes the freeze, and the two are never applied at once.
pub async fn enqueue_freeze(
    txn: &impl ConnectionTrait,
    r: &resource::Model,
    startup_id: i64,
) -> AppResult<i64> {
    let d = Desired::frozen(&account_name(r, startup_id));
    write_job(txn, r, startup_id, &d).await
}

async fn write_job(
    txn: &impl ConnectionTrait,
    r: &resource::Model,
    startup_id: i64,
    d: &Desired,
) -> AppResult<i64> {
    let now = Utc::now();
    let desired = serde_json::to_string(d).map_err(|_| AppError::Internal)?;
    let waiting = sync_job::Entity::find()
        .filter(sync_job::Column::StartupId.eq(startup_id))
        .filter(sync_job::Column::ResourceId.eq(r.id))
        .filter(sync_job::Column::Status.eq(SyncStatus::Pending))
        .filter(sync_job::Column::Attempts.eq(0))
        .order_by_desc(sync_job::Column::Id)
        .one(txn)
        .await?;
    if let Some(job) = waiting.filter(|j| j.desired == desired) {
        return Ok(job.id);
    }
    sync_job::Entity::update_many()
        .col_expr(
            sync_job::Column::Status,
            Expr::value(SyncStatus::Superseded),
        )
        .col_expr(sync_job::Column::UpdatedAt, Expr::value(now))
        .filter(sync_job::Column::StartupId.eq(startup_id))
        .filter(sync_job::Column::ResourceId.eq(r.id))
        .filter(sync_job::Column::Status.is_in([SyncStatus::Pending, SyncStatus::Dead]))
        .exec(txn)
        .await?;
    let job = sync_job::ActiveModel {
        startup_id: Set(startup_id),
        resource_id: Set(r.id),
        desired: Set(desired),
        idempotency_key: Set(uuid::Uuid::new_v4().simple().to_string()),
        status: Set(SyncStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        done_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(job.id)
}

mod views;
mod worker;
pub use views::{csv, list, retry};
pub use worker::run_due;

#[cfg(test)]
mod tests {
    use super::{policy, MAX_ATTEMPTS, POLICY};

    #[test]
    fn backoff_doubles_from_five_seconds_to_ten_minutes() {
        let delays: Vec<i64> = [1, 2, 4, 8, 30]
            .iter()
            .map(|&n| POLICY.backoff(n).num_seconds())
            .collect();
        assert_eq!(delays, [5, 10, 40, 600, 600]);
        assert_eq!(policy(3).lease_seconds, 3);
        assert_eq!(POLICY.max_attempts, MAX_ATTEMPTS);
    }
}
