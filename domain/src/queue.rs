//! The queue core every outbox shares: the email outbox, the chat channels' deliveries and the
//! cluster sync jobs. A change writes its row in its own transaction; a worker claims due rows
//! with a lease (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so replicas never take the same row),
//! does the work outside any transaction, and records the outcome: done, or a retry after a
//! backoff that doubles, or, after the policy's last attempt (or a refusal that will not mend
//! itself), dead: a dead letter that waits for an admin to retry it.
//!
//! Here: the retry policy and the claim of a simple outbox table (`id`, `status`,
//! `next_attempt_at`, `locked_until`). The sync outbox claims with its own SQL (at most a few
//! jobs per resource at once, only a target's newest job) but leases and retries by a policy.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Statement, Value};

/// How a queue leases, backs off and gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How long a worker may hold a claimed row before another may take it over.
    pub lease_seconds: i64,
    /// The delay after the first failure; each further failure doubles it...
    pub first_retry_seconds: i64,
    /// ...up to this.
    pub longest_retry_seconds: i64,
    /// After this many failed attempts a row is dead.
    pub max_attempts: i32,
}

/// What becomes of a row after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Tried again from then on.
    RetryAt(DateTime<Utc>),
    /// Given up: a dead letter until an admin retries it.
    Dead,
}

impl Policy {
    /// The email outbox and the chat deliveries: a 2-minute lease, 30 s doubling to an hour,
    /// 8 attempts (about 1 h 34 min of trying).
    pub const OUTBOX: Policy = Policy {
        lease_seconds: 120,
        first_retry_seconds: 30,
        longest_retry_seconds: 3600,
        max_attempts: 8,
    };

    /// When a row claimed at `now` may be taken over.
    pub fn lease_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::seconds(self.lease_seconds)
    }

    /// The delay before attempt `n + 1` after `n` failures (`n` ≥ 1).
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = (attempts.max(1) - 1).min(30) as u32;
        let seconds = self
            .first_retry_seconds
            .saturating_mul(1_i64 << doublings)
            .min(self.longest_retry_seconds);
        Duration::seconds(seconds)
    }

    /// What follows the `attempts`-th failure at `now`: a retry after the backoff, or death
    /// once the attempts are spent or when the failure will not mend itself (`transient` false).
    pub fn after_failure(
        &self,
        attempts: i32,
        now: DateTime<Utc>,
        transient: bool,
    ) -> AfterFailure {
        if !transient || attempts >= self.max_attempts {
            AfterFailure::Dead
        } else {
            AfterFailure::RetryAt(now + self.backoff(attempts))
        }
    }
}

/// A simple outbox table: its name, its waiting state, and each row's id.
pub struct Outbox<E: EntityTrait> {
    pub table: &'static str,
    pub pending: fn() -> Value,
    pub id: fn(&E::Model) -> i64,
}

/// Claims up to `limit` due rows of a simple outbox table (or only the row `only`), leasing
/// them by `policy`, oldest first. On PostgreSQL rows another worker holds are skipped rather
/// than waited for.
pub async fn claim<E: EntityTrait>(
    db: &impl ConnectionTrait,
    outbox: &Outbox<E>,
    policy: &Policy,
    limit: u64,
    only: Option<i64>,
) -> Result<Vec<E::Model>, DbErr> {
    let table = outbox.table;
    let now = Utc::now();
    let backend = db.get_database_backend();
    let postgres = backend == DatabaseBackend::Postgres;
    let mut values: Vec<Value> = Vec::new();
    // PostgreSQL numbers its parameters; SQLite takes them in order.
    let mut bind = |v: Value| {
        values.push(v);
        if postgres {
            format!("${}", values.len())
        } else {
            "?".to_string()
        }
    };
    let lease = bind(policy.lease_until(now).into());
    let status = bind((outbox.pending)());
    let due = bind(now.into());
    let expired = bind(now.into());
    let mut pick = format!(
        "SELECT id FROM {table} WHERE status = {status} AND next_attempt_at <= {due} \
         AND (locked_until IS NULL OR locked_until < {expired})"
    );
    if let Some(id) = only {
        pick.push_str(&format!(" AND id = {}", bind(id.into())));
    }
    pick.push_str(&format!(
        " ORDER BY id LIMIT {}",
        bind((limit as i64).into())
    ));
    if postgres {
        pick.push_str(" FOR UPDATE SKIP LOCKED");
    }
    let sql = format!("UPDATE {table} SET locked_until = {lease} WHERE id IN ({pick}) RETURNING *");
    let mut rows = E::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?;
    // RETURNING gives no order; the worker sends oldest first.
    rows.sort_by_key(outbox.id);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn the_outbox_backoff_doubles_from_half_a_minute_to_an_hour() {
        let p = Policy::OUTBOX;
        let delays: Vec<i64> = (1..=9).map(|n| p.backoff(n).num_seconds()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(p.backoff(0), p.backoff(1));
        assert_eq!(p.backoff(i32::MAX).num_seconds(), 3600);
    }

    #[test]
    fn failures_retry_until_the_attempts_are_spent() {
        let p = Policy::OUTBOX;
        assert_eq!(
            p.after_failure(1, at(0), true),
            AfterFailure::RetryAt(at(30))
        );
        assert_eq!(
            p.after_failure(7, at(0), true),
            AfterFailure::RetryAt(at(1920))
        );
        assert_eq!(p.after_failure(8, at(0), true), AfterFailure::Dead);
        assert_eq!(p.after_failure(9, at(0), true), AfterFailure::Dead);
    }

    #[test]
    fn a_refusal_is_dead_at_once() {
        assert_eq!(
            Policy::OUTBOX.after_failure(1, at(0), false),
            AfterFailure::Dead
        );
    }

    #[test]
    fn a_lease_runs_from_the_claim() {
        let p = Policy {
            lease_seconds: 3,
            ..Policy::OUTBOX
        };
        assert_eq!(p.lease_until(at(10)), at(13));
    }
}
