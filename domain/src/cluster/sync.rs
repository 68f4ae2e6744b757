//! The sync outbox. A change to a startup's grants writes, in its own transaction, a job that
//! holds the whole desired allocation for (startup, resource) and an idempotency key. Workers
//! claim jobs with a lease (and `FOR UPDATE SKIP LOCKED` on PostgreSQL), apply them through the
//! resource's backend, and retry with exponential backoff; after MAX_ATTEMPTS a job is dead.
use super::backend::{Backend, Desired};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::entity::user;
use crate::credits::entity::{grant, resource, sync_job};
use crate::error::{AppError, AppResult};
use crate::queue::{AfterFailure, Policy};
use crate::startups::entity::{member, startup};
use crate::tables::{self, TablePage, TableQuery};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::JoinType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::json;
use wire::auth::Role;
use wire::credits::{GrantStatus, SyncJobRow, SyncStatus};

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

#[derive(Debug, FromQueryResult)]
struct Claimed {
    id: i64,
}

/// Placeholders in the order they appear: `$1, $2, …` on PostgreSQL, `?` on SQLite.
struct Params {
    postgres: bool,
    values: Vec<sea_orm::Value>,
}

impl Params {
    fn new(backend: DatabaseBackend) -> Params {
        Params {
            postgres: backend == DatabaseBackend::Postgres,
            values: Vec::new(),
        }
    }

    fn bind(&mut self, v: impl Into<sea_orm::Value>) -> String {
        self.values.push(v.into());
        if self.postgres {
            format!("${}", self.values.len())
        } else {
            "?".to_string()
        }
    }
}

/// Claims due jobs with one `UPDATE … WHERE id IN (…) RETURNING id`: pending (or running with
/// an expired lease), and only a target's newest job that is not superseded (an older one
/// must never land after it), and not for a target that another worker is applying right
/// now. `extra` narrows the candidates further (its placeholders bound through `p`).
async fn claim_where(
    db: &DatabaseConnection,
    policy: &Policy,
    now: DateTime<Utc>,
    limit: usize,
    extra: impl FnOnce(&mut Params) -> String,
) -> AppResult<Vec<sync_job::Model>> {
    let backend = db.get_database_backend();
    let mut p = Params::new(backend);
    let lease = policy.lease_until(now);
    let set = format!(
        "status = {}, lease_until = {}, attempts = attempts + 1, updated_at = {}",
        p.bind(SyncStatus::Running),
        p.bind(lease),
        p.bind(now)
    );
    let due = format!(
        "(j.status = {} OR (j.status = {} AND j.lease_until < {})) AND j.next_attempt_at <= {}",
        p.bind(SyncStatus::Pending),
        p.bind(SyncStatus::Running),
        p.bind(now),
        p.bind(now)
    );
    let newest = format!(
        "NOT EXISTS (SELECT 1 FROM sync_jobs n WHERE n.startup_id = j.startup_id \
           AND n.resource_id = j.resource_id AND n.id > j.id AND n.status <> {})",
        p.bind(SyncStatus::Superseded)
    );
    let free = format!(
        "NOT EXISTS (SELECT 1 FROM sync_jobs k WHERE k.startup_id = j.startup_id \
           AND k.resource_id = j.resource_id AND k.id <> j.id \
           AND k.status = {} AND k.lease_until >= {})",
        p.bind(SyncStatus::Running),
        p.bind(now)
    );
    let extra = extra(&mut p);
    let still_due = format!(
        "(status = {} OR (status = {} AND lease_until < {}))",
        p.bind(SyncStatus::Pending),
        p.bind(SyncStatus::Running),
        p.bind(now)
    );
    let pick = format!(
        "SELECT j.id FROM sync_jobs j WHERE {due} AND {newest} AND {free}{extra} \
         ORDER BY j.id LIMIT {limit}"
    );
    let sql = if p.postgres {
        // Picked once, in a materialised CTE: inside `IN (…)` PostgreSQL may run a LIMIT …
        // SKIP LOCKED subquery again for each row it updates, and each run skips the rows
        // the previous ones locked, so more than `limit` jobs were claimed.
        format!(
            "WITH picked AS MATERIALIZED ({pick} FOR UPDATE SKIP LOCKED) \
             UPDATE sync_jobs SET {set} WHERE id IN (SELECT id FROM picked) \
             AND {still_due} RETURNING id"
        )
    } else {
        // SQLite has one writer at a time and evaluates the list once.
        format!("UPDATE sync_jobs SET {set} WHERE id IN ({pick}) AND {still_due} RETURNING id")
    };
    let stmt = Statement::from_sql_and_values(backend, sql, p.values);
    let claimed = if p.postgres {
        // Claims from all processes take turns (they are short), so that the count of running
        // jobs per resource each claim sees is exact; SKIP LOCKED keeps them from waiting on
        // rows that another transaction holds.
        let txn = crate::txn::begin(db).await?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(724243)")
            .await?;
        let c = Claimed::find_by_statement(stmt).all(&txn).await?;
        txn.commit().await?;
        c
    } else {
        // SQLite has one writer at a time: the statement is the critical section.
        Claimed::find_by_statement(stmt).all(db).await?
    };
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sync_job::Entity::find()
        .filter(sync_job::Column::Id.is_in(claimed.into_iter().map(|c| c.id)))
        .order_by_asc(sync_job::Column::Id)
        .all(db)
        .await?)
}

/// Claims one due job, on a resource with fewer than PER_RESOURCE_PARALLEL jobs running.
async fn claim(
    db: &DatabaseConnection,
    policy: &Policy,
    now: DateTime<Utc>,
) -> AppResult<Option<sync_job::Model>> {
    let jobs = claim_where(db, policy, now, 1, |p| {
        format!(
            " AND (SELECT COUNT(*) FROM sync_jobs c WHERE c.resource_id = j.resource_id \
               AND c.status = {} AND c.lease_until >= {}) < {PER_RESOURCE_PARALLEL}",
            p.bind(SyncStatus::Running),
            p.bind(now)
        )
    })
    .await?;
    Ok(jobs.into_iter().next())
}

/// Claims up to `n` more due jobs of one resource, to apply with a job just claimed.
async fn claim_more(
    db: &DatabaseConnection,
    policy: &Policy,
    resource_id: i64,
    n: usize,
    now: DateTime<Utc>,
) -> AppResult<Vec<sync_job::Model>> {
    claim_where(db, policy, now, n, |p| {
        format!(" AND j.resource_id = {}", p.bind(resource_id))
    })
    .await
}

/// Records the outcome, only if this worker still holds the job (same attempt, still running).
async fn finish(
    db: &DatabaseConnection,
    policy: &Policy,
    job: &sync_job::Model,
    outcome: Result<(), String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = sync_job::Entity::update_many()
        .col_expr(
            sync_job::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(sync_job::Column::UpdatedAt, Expr::value(now));
    update = match &outcome {
        Ok(()) => update
            .col_expr(sync_job::Column::Status, Expr::value(SyncStatus::Done))
            .col_expr(sync_job::Column::DoneAt, Expr::value(now))
            .col_expr(sync_job::Column::LastError, Expr::value(None::<String>)),
        Err(e) => {
            let dead = policy.after_failure(job.attempts, now, true) == AfterFailure::Dead;
            update
                .col_expr(
                    sync_job::Column::Status,
                    Expr::value(if dead {
                        SyncStatus::Dead
                    } else {
                        SyncStatus::Pending
                    }),
                )
                .col_expr(sync_job::Column::LastError, Expr::value(e.clone()))
                .col_expr(
                    sync_job::Column::NextAttemptAt,
                    Expr::value(now + policy.backoff(job.attempts)),
                )
        }
    };
    let done = outcome.is_ok();
    // A job that dies is announced to the chat channels in the same transaction.
    let txn = crate::txn::begin(db).await?;
    let updated = update
        .filter(sync_job::Column::Id.eq(job.id))
        .filter(sync_job::Column::Status.eq(SyncStatus::Running))
        .filter(sync_job::Column::Attempts.eq(job.attempts))
        .exec(&txn)
        .await?;
    if let (Err(error), 1) = (&outcome, updated.rows_affected) {
        if job.attempts >= policy.max_attempts {
            announce_dead(&txn, job, error).await?;
        }
    }
    if done && updated.rows_affected == 1 {
        // Older jobs of the target that are still open (one whose worker died holding it, say)
        // are replaced by this one: the claims never take them again.
        sync_job::Entity::update_many()
            .col_expr(
                sync_job::Column::Status,
                Expr::value(SyncStatus::Superseded),
            )
            .col_expr(
                sync_job::Column::LeaseUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(sync_job::Column::UpdatedAt, Expr::value(now))
            .filter(sync_job::Column::StartupId.eq(job.startup_id))
            .filter(sync_job::Column::ResourceId.eq(job.resource_id))
            .filter(sync_job::Column::Id.lt(job.id))
            .filter(sync_job::Column::Status.is_in([
                SyncStatus::Pending,
                SyncStatus::Running,
                SyncStatus::Dead,
            ]))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Tells the chat channels that follow the sync that a job gave up.
async fn announce_dead(
    txn: &impl ConnectionTrait,
    job: &sync_job::Model,
    error: &str,
) -> AppResult<()> {
    let startup = startup::Entity::find_by_id(job.startup_id)
        .one(txn)
        .await?
        .map(|s| s.name)
        .unwrap_or_default();
    let resource = resource::Entity::find_by_id(job.resource_id)
        .one(txn)
        .await?
        .map(|r| format!("{} ({})", r.name, r.gpu_model))
        .unwrap_or_default();
    // The worker has no settings here: the channel's outbox puts the public address in.
    let link = format!("{}/admin/sync", crate::channels::notify::SITE);
    crate::channels::notify::announce(txn, wire::channels::ChannelEvent::SyncDead, |l| {
        crate::channels::notify::sync_dead(l, &startup, &resource, job.attempts, error, &link)
    })
    .await?;
    Ok(())
}

/// Applies due jobs until none is left or `limit` were tried; returns how many were tried.
/// Where the resource's backend writes lists (Slurm v0.0.42), a claimed job takes other due
/// jobs of its resource along, and all are applied in one batch.
pub async fn run_due(
    db: &DatabaseConnection,
    policy: &Policy,
    now: DateTime<Utc>,
    limit: usize,
) -> AppResult<usize> {
    let mut tried = 0;
    while tried < limit {
        let Some(job) = claim(db, policy, now).await? else {
            break;
        };
        let (jobs, outcomes) = apply(db, policy, job, now).await?;
        tried += jobs.len();
        for (job, outcome) in jobs.iter().zip(outcomes) {
            if let Err(e) = &outcome {
                tracing::warn!(job = job.id, attempts = job.attempts, error = %e, "sync job failed");
            }
            finish(db, policy, job, outcome, Utc::now().max(now)).await?;
        }
    }
    Ok(tried)
}

/// Applies a claimed job, with the other due jobs of its resource that its backend takes
/// along; returns the jobs and their outcomes.
async fn apply(
    db: &DatabaseConnection,
    policy: &Policy,
    job: sync_job::Model,
    now: DateTime<Utc>,
) -> AppResult<(Vec<sync_job::Model>, Vec<Result<(), String>>)> {
    let backend = match resource::Entity::find_by_id(job.resource_id)
        .one(db)
        .await?
    {
        None => Err("the resource no longer exists".to_string()),
        Some(r) => Backend::for_resource(&r).map_err(|e| e.to_string()),
    };
    let backend = match backend {
        Ok(b) => b,
        Err(e) => return Ok((vec![job], vec![Err(e)])),
    };
    let more = backend.batch_limit().await.saturating_sub(1);
    let resource_id = job.resource_id;
    let mut jobs = vec![job];
    if more > 0 {
        jobs.extend(claim_more(db, policy, resource_id, more, now).await?);
    }
    // Each job's desired state; one that cannot be read fails alone.
    let parsed: Vec<Result<Desired, String>> = jobs
        .iter()
        .map(|j| serde_json::from_str::<Desired>(&j.desired).map_err(|e| e.to_string()))
        .collect();
    let batch: Vec<(Desired, String)> = jobs
        .iter()
        .zip(&parsed)
        .filter_map(|(j, d)| Some((d.as_ref().ok()?.clone(), j.idempotency_key.clone())))
        .collect();
    let mut applied = backend.apply_batch(&batch).await.into_iter();
    let outcomes = parsed
        .into_iter()
        .map(|d| match d {
            Err(e) => Err(e),
            Ok(_) => applied
                .next()
                .unwrap_or_else(|| Err(super::backend::SyncError::NotApplied("no outcome".into())))
                .map_err(|e| e.to_string()),
        })
        .collect();
    Ok((jobs, outcomes))
}

/// An admin sends a dead job back to the queue.
pub async fn retry(db: &DatabaseConnection, actor: &Actor, job_id: i64) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let job = sync_job::Entity::find_by_id(job_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if job.status != SyncStatus::Dead {
        return Err(AppError::conflict("error.sync_not_dead"));
    }
    let now = Utc::now();
    let mut a: sync_job::ActiveModel = job.into();
    a.status = Set(SyncStatus::Pending);
    a.attempts = Set(0);
    a.next_attempt_at = Set(now);
    a.updated_at = Set(now);
    a.update(db).await?;
    audit::record(
        db,
        Change {
            actor: Some(actor.user_id),
            action: "sync.retried",
            entity_type: "sync_job",
            entity_id: job_id.to_string(),
            before: Some(json!({"status": SyncStatus::Dead})),
            after: Some(json!({"status": SyncStatus::Pending})),
        },
    )
    .await?;
    Ok(())
}

/// A sync job with its startup's and resource's names, read in one joined query.
#[derive(FromQueryResult)]
struct NamedJob {
    #[sea_orm(nested)]
    job: sync_job::Model,
    /// None for a job freezing an orphan account whose startup is not in the database.
    startup_name: Option<String>,
    resource_name: String,
}

/// The jobs a table view selects: `status` is their state (all but superseded when empty),
/// `of` their resource, `q` part of their startup's name; ordered by the chosen column.
fn jobs_select(query: &TableQuery) -> AppResult<tables::Sorted<sync_job::Entity>> {
    let mut q = sync_job::Entity::find()
        .column_as(
            Expr::col((startup::Entity, startup::Column::Name)),
            "startup_name",
        )
        .column_as(
            Expr::col((resource::Entity, resource::Column::Name)),
            "resource_name",
        )
        .join(
            JoinType::LeftJoin,
            sync_job::Entity::belongs_to(startup::Entity)
                .from(sync_job::Column::StartupId)
                .to(startup::Column::Id)
                .into(),
        )
        .join(
            JoinType::InnerJoin,
            sync_job::Entity::belongs_to(resource::Entity)
                .from(sync_job::Column::ResourceId)
                .to(resource::Column::Id)
                .into(),
        );
    q = match tables::state_of(&query.status, SyncStatus::ALL, "status")? {
        Some(s) => q.filter(sync_job::Column::Status.eq(s)),
        None => q.filter(sync_job::Column::Status.ne(SyncStatus::Superseded)),
    };
    if let Some(id) = tables::id_filter(&query.of, "of")? {
        q = q.filter(sync_job::Column::ResourceId.eq(id));
    }
    if let Some(pattern) = tables::search(query)? {
        q = q.filter(tables::like(
            Expr::col((startup::Entity, startup::Column::Name)),
            &pattern,
        ));
    }
    let (column, order) = tables::sort(query, wire::credits::SYNC_COLUMNS)?;
    let by = match column.key {
        "updated" => Expr::col((sync_job::Entity, sync_job::Column::UpdatedAt)),
        "startup" => Expr::col((startup::Entity, startup::Column::Name)),
        "status" => Expr::col((sync_job::Entity, sync_job::Column::Status)),
        "attempts" => Expr::col((sync_job::Entity, sync_job::Column::Attempts)),
        "next" => Expr::col((sync_job::Entity, sync_job::Column::NextAttemptAt)),
        _ => Expr::col((sync_job::Entity, sync_job::Column::Id)),
    };
    // An orphan's job has no startup row (a left join): its name is NULL.
    Ok(tables::order(
        q,
        by,
        Expr::col((sync_job::Entity, sync_job::Column::Id)),
        order,
    )
    .nullable(column.key == "startup"))
}

fn job_row(n: NamedJob) -> SyncJobRow {
    let j = n.job;
    let desired = serde_json::from_str::<Desired>(&j.desired).ok();
    let limit = desired
        .as_ref()
        .map(|d| d.limit_minutes)
        .unwrap_or_default();
    SyncJobRow {
        id: j.id,
        startup_id: j.startup_id,
        // An orphan's freeze may be for a startup the database does not hold: its account.
        startup_name: n
            .startup_name
            .or_else(|| desired.map(|d| d.account))
            .unwrap_or_default(),
        resource_name: n.resource_name,
        status: j.status,
        attempts: j.attempts,
        limit_minutes: limit,
        next_attempt_at: j.next_attempt_at,
        last_error: j.last_error,
        updated_at: j.updated_at,
    }
}

/// One page of the sync queue for admins (one query).
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<SyncJobRow>> {
    actor.require(Role::Admin)?;
    let jobs = tables::page_as::<_, NamedJob>(db, jobs_select(query)?, query).await?;
    Ok(jobs.map(job_row))
}

/// Every job the view selects, as CSV (the limit in GPU-hours, times in UTC).
pub async fn csv(db: &DatabaseConnection, actor: &Actor, query: &TableQuery) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let mut out = crate::csv::line([
        "id",
        "startup_id",
        "startup",
        "resource",
        "limit_gpu_hours",
        "status",
        "attempts",
        "next_attempt_utc",
        "updated_utc",
        "last_error",
    ]);
    let mut batches = tables::Batches::new(jobs_select(query)?);
    while let Some(batch) = batches.next_as::<NamedJob>(db).await? {
        for j in batch.into_iter().map(job_row) {
            out.push_str(&crate::csv::line([
                j.id.to_string(),
                j.startup_id.to_string(),
                j.startup_name,
                j.resource_name,
                format!("{:.2}", j.limit_minutes as f64 / 60.0),
                j.status.to_string(),
                j.attempts.to_string(),
                time(j.next_attempt_at),
                time(j.updated_at),
                j.last_error.unwrap_or_default(),
            ]));
        }
    }
    Ok(out)
}

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
