//! The sync outbox. A change to a startup's grants writes, in its own transaction, a job that
//! holds the whole desired allocation for (startup, resource) and an idempotency key. Workers
//! claim jobs with a lease (and `FOR UPDATE SKIP LOCKED` on PostgreSQL), apply them through the
//! resource's backend, and retry with exponential backoff; after MAX_ATTEMPTS a job is dead.
use super::backend::Desired;
use crate::auth::entity::user;
use crate::credits::entity::{grant, resource, sync_job};
use crate::error::{AppError, AppResult};
use crate::queue::Policy;
use crate::startups::entity::{member, startup};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use wire::credits::{GrantStatus, SyncStatus};

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

/// A startup's account name on a resource, from the resource's pattern.
pub fn account_name(r: &resource::Model, startup_id: i64) -> String {
    r.account_pattern.replace("{id}", &startup_id.to_string())
}

/// The cap the cluster should enforce: what was ever consumed, plus what active grants still
/// hold. Suspended, expired and revoked grants keep only what was used of them.
pub fn limit_of(grants: &[grant::Model]) -> i64 {
    grants
        .iter()
        .map(|g| {
            let usable = if g.status == GrantStatus::Active {
                g.remaining_minutes().max(0)
            } else {
                0
            };
            g.consumed_minutes + usable
        })
        .sum()
}

/// The desired allocation of a startup on a resource, as the database says now.
pub async fn desired(
    db: &impl ConnectionTrait,
    r: &resource::Model,
    startup_id: i64,
) -> AppResult<Desired> {
    let s = startup::Entity::find_by_id(startup_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let grants = grant::Entity::find()
        .filter(grant::Column::StartupId.eq(startup_id))
        .filter(grant::Column::ResourceId.eq(r.id))
        .all(db)
        .await?;
    let member_ids: Vec<i64> = member::Entity::find()
        .filter(member::Column::StartupId.eq(startup_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let mut members: Vec<String> = user::Entity::find()
        .filter(user::Column::Id.is_in(member_ids))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| u.cluster_login)
        .collect();
    members.sort();
    Ok(Desired {
        account: account_name(r, startup_id),
        organization: s.name,
        limit_minutes: limit_of(&grants),
        members,
        freeze: false,
    })
}

/// Writes the job for (startup, resource) inside the caller's transaction. Older jobs still
/// waiting are superseded: each job carries the whole desired state, so only the newest counts.
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

/// The startup whose account on a resource this is, by the resource's pattern: the inverse of
/// `account_name`. None for a name the pattern cannot give.
pub fn startup_of_account(r: &resource::Model, account: &str) -> Option<i64> {
    let (before, after) = r.account_pattern.split_once("{id}")?;
    let digits = account.strip_prefix(before)?.strip_suffix(after)?;
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let id: i64 = digits.parse().ok()?;
    (id > 0 && account_name(r, id) == account).then_some(id)
}

async fn write_job(
    txn: &impl ConnectionTrait,
    r: &resource::Model,
    startup_id: i64,
    d: &Desired,
) -> AppResult<i64> {
    let now = Utc::now();
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
        desired: Set(serde_json::to_string(d).map_err(|_| AppError::Internal)?),
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
    use super::{account_name, policy, startup_of_account, MAX_ATTEMPTS, POLICY};
    use crate::credits::entity::resource;

    #[test]
    fn an_account_names_its_startup_by_the_pattern() {
        let r = resource::Model {
            id: 1,
            name: "H100".into(),
            gpu_model: "H100".into(),
            backend: "slurm".into(),
            cluster: "ci".into(),
            account_pattern: "hx-{id}-gpu".into(),
            settings: "{}".into(),
            repair_mode: "approve".into(),
            dialect: "auto".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        assert_eq!(startup_of_account(&r, &account_name(&r, 42)), Some(42));
        for foreign in [
            "hx--gpu",
            "hx-042-gpu",
            "hx-4a-gpu",
            "hx-0-gpu",
            "hx-42",
            "x-42-gpu",
        ] {
            assert_eq!(startup_of_account(&r, foreign), None, "{foreign}");
        }
    }

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

    mod cap {
        use super::super::limit_of;
        use crate::credits::ledger::tests::grant;
        use crate::credits::GrantStatus;

        /// A grant of `granted` GPU-minutes of which `consumed` were used.
        fn used(
            id: i64,
            state: GrantStatus,
            granted: i64,
            consumed: i64,
        ) -> crate::credits::entity::grant::Model {
            let mut g = grant(id, state, granted, 30);
            g.consumed_minutes = consumed;
            g
        }

        #[test]
        fn no_grants_no_gpu_time() {
            assert_eq!(limit_of(&[]), 0);
        }

        #[test]
        fn an_active_grant_caps_at_what_was_used_plus_what_remains() {
            let mut g = used(1, GrantStatus::Active, 6000, 1000);
            g.adjusted_minutes = -600;
            // 1000 used + 4400 remaining.
            assert_eq!(limit_of(&[g.clone()]), 5400);
            g.adjusted_minutes = 600;
            assert_eq!(limit_of(&[g]), 6600);
        }

        #[test]
        fn grants_that_are_not_active_keep_only_what_was_used() {
            let suspended = used(1, GrantStatus::Suspended, 6000, 1000);
            let mut expired = used(2, GrantStatus::Expired, 3000, 500);
            expired.forfeited_minutes = 2500;
            let revoked = used(3, GrantStatus::Revoked, 1200, 0);
            assert_eq!(limit_of(std::slice::from_ref(&suspended)), 1000);
            assert_eq!(limit_of(std::slice::from_ref(&expired)), 500);
            assert_eq!(limit_of(std::slice::from_ref(&revoked)), 0);
        }

        #[test]
        fn an_overdrawn_grant_never_lowers_the_cap_below_use() {
            // 900 used of 600: the cap is what was used, not 600 and not 600 - 300.
            assert_eq!(limit_of(&[used(1, GrantStatus::Active, 600, 900)]), 900);
        }

        #[test]
        fn a_fully_used_grant_caps_at_its_size() {
            assert_eq!(limit_of(&[used(1, GrantStatus::Active, 600, 600)]), 600);
        }

        #[test]
        fn a_startups_grants_on_a_resource_add_up() {
            let grants = [
                used(1, GrantStatus::Active, 6000, 1000),
                used(2, GrantStatus::Suspended, 1200, 200),
                used(3, GrantStatus::Expired, 3000, 3000),
                used(4, GrantStatus::Active, 600, 900),
            ];
            assert_eq!(limit_of(&grants), 6000 + 200 + 3000 + 900);
        }
    }
}
