//! The sync worker: claims due jobs with a lease (on PostgreSQL `FOR UPDATE SKIP LOCKED`, at
//! most PER_RESOURCE_PARALLEL per resource, only a target's newest job), applies them through
//! the resource's backend, records each outcome by the sync policy, and announces a job that
//! dies to the chat channels.
use super::PER_RESOURCE_PARALLEL;
use crate::cluster::backend::{Backend, Desired};
use crate::credits::entity::{resource, sync_job};
use crate::error::AppResult;
use crate::queue::{AfterFailure, Policy};
use crate::startups::entity::startup;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, Statement,
};
use wire::credits::SyncStatus;

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
                .unwrap_or_else(|| {
                    Err(crate::cluster::backend::SyncError::NotApplied(
                        "no outcome".into(),
                    ))
                })
                .map_err(|e| e.to_string()),
        })
        .collect();
    Ok((jobs, outcomes))
}
