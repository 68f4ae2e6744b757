//! Usage import: finished jobs come back from the cluster as `consumed` ledger entries,
//! idempotent per job, for every startup holding grants on a resource.
use super::backend::{AllocationBackend, Backend};
use super::entity::{grant, ledger, resource};
use super::sync::account_name;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// How far back each pass reaches before the newest job already imported: slurmdbd may record a
/// job's end a little after it happened, and a window that overlaps costs nothing (the import
/// is idempotent per job).
const WINDOW_OVERLAP: Duration = Duration::hours(1);

/// Where an account's next import window starts: the end of the newest job imported for the
/// startup on the resource (its ledger entry is dated by it), less the overlap; None (the
/// whole history) before the first.
async fn window_start(
    db: &DatabaseConnection,
    resource_id: i64,
    startup_id: i64,
) -> AppResult<Option<DateTime<Utc>>> {
    let newest: Option<DateTime<Utc>> = ledger::Entity::find()
        .select_only()
        .column(ledger::Column::CreatedAt)
        .filter(ledger::Column::ResourceId.eq(resource_id))
        .filter(ledger::Column::StartupId.eq(startup_id))
        .filter(ledger::Column::Kind.eq(super::kind::CONSUMED))
        .filter(ledger::Column::ExternalRef.is_not_null())
        .order_by_desc(ledger::Column::CreatedAt)
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.map(|t| t - WINDOW_OVERLAP))
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub jobs_seen: usize,
    pub imported: usize,
}

/// Imports the finished jobs of every account on one resource. A cluster that cannot be
/// reached is reported, and the next pass tries again: nothing is lost, nothing counted twice.
pub async fn import(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    resource_id: i64,
) -> AppResult<ImportOutcome> {
    let r = resource::Entity::find_by_id(resource_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let backend = Backend::for_resource(&r).map_err(|e| {
        tracing::warn!(resource = r.id, error = %e, "usage import: bad resource settings");
        AppError::conflict("error.cluster_unreachable")
    })?;
    let startups: Vec<i64> = grant::Entity::find()
        .select_only()
        .column(grant::Column::StartupId)
        .distinct()
        .filter(grant::Column::ResourceId.eq(r.id))
        .into_tuple()
        .all(db)
        .await?;
    let mut outcome = ImportOutcome::default();
    for startup_id in startups {
        let account = account_name(&r, startup_id);
        let since = window_start(db, r.id, startup_id).await?;
        let jobs = backend.usage(&account, since).await.map_err(|e| {
            tracing::warn!(resource = r.id, account, error = %e, "usage import failed");
            AppError::conflict("error.cluster_unreachable")
        })?;
        // Jobs come back every pass; those already in the ledger are skipped with one query
        // per account rather than one transaction per job.
        let known: std::collections::HashSet<String> = ledger::Entity::find()
            .select_only()
            .column(ledger::Column::ExternalRef)
            .filter(ledger::Column::ResourceId.eq(r.id))
            .filter(ledger::Column::ExternalRef.is_in(jobs.iter().map(|j| j.job_ref.clone())))
            .into_tuple::<Option<String>>()
            .all(db)
            .await?
            .into_iter()
            .flatten()
            .collect();
        outcome.jobs_seen += jobs.len();
        for job in jobs.into_iter().filter(|j| !known.contains(&j.job_ref)) {
            if super::grants::record_usage(
                db,
                settings,
                startup_id,
                r.id,
                &job.job_ref,
                job.gpu_minutes,
                job.ended_at,
            )
            .await?
            {
                outcome.imported += 1;
            }
        }
    }
    Ok(outcome)
}

/// Imports usage from every resource; failures are logged and left for the next pass.
pub async fn import_all(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
) -> AppResult<ImportOutcome> {
    let ids: Vec<i64> = resource::Entity::find()
        .select_only()
        .column(resource::Column::Id)
        .filter(resource::Column::Backend.ne("none"))
        .into_tuple()
        .all(db)
        .await?;
    let mut total = ImportOutcome::default();
    for id in ids {
        match import(db, settings, id).await {
            Ok(o) => {
                total.jobs_seen += o.jobs_seen;
                total.imported += o.imported;
            }
            Err(e) => tracing::warn!(resource = id, error = ?e, "usage import skipped"),
        }
    }
    Ok(total)
}

/// One finished job as a cluster pushes it (the API's usage ingestion).
#[derive(Clone, Debug)]
pub struct UsageReport {
    pub resource_id: i64,
    pub startup_id: i64,
    /// The cluster's job id: a job is counted once per resource, pushed or pulled.
    pub job_id: String,
    pub gpu_minutes: i64,
    pub ended_at: chrono::DateTime<chrono::Utc>,
}

/// What became of a pushed job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ingested {
    Recorded,
    /// Already in the ledger (pushed twice, or imported): nothing changed.
    Duplicate,
    /// The startup holds no grant on the resource valid when the job ended.
    NoGrant,
}

/// Records a pushed job as `consumed`, idempotent per (resource, job id). Admins only (an
/// API token acts with its issuer's roles).
pub async fn ingest(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &crate::auth::domain::Actor,
    report: &UsageReport,
) -> AppResult<Ingested> {
    actor.require(crate::auth::Role::Admin)?;
    let job = report.job_id.trim();
    if job.is_empty() || job.len() > 120 || job.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid("job_id", "error.job_id_invalid"));
    }
    if !(1..=1_000_000_000).contains(&report.gpu_minutes) {
        return Err(AppError::invalid(
            "gpu_minutes",
            "error.gpu_minutes_invalid",
        ));
    }
    if report.ended_at > chrono::Utc::now() + chrono::Duration::minutes(5) {
        return Err(AppError::invalid("ended_at", "error.ended_in_future"));
    }
    resource::Entity::find_by_id(report.resource_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("resource_id", "error.resource_unknown"))?;
    crate::startups::entity::startup::Entity::find_by_id(report.startup_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("startup_id", "error.startup_unknown"))?;
    let seen = ledger::Entity::find()
        .filter(ledger::Column::ResourceId.eq(report.resource_id))
        .filter(ledger::Column::ExternalRef.eq(job))
        .one(db)
        .await?;
    if seen.is_some() {
        return Ok(Ingested::Duplicate);
    }
    let recorded = super::grants::record_usage(
        db,
        settings,
        report.startup_id,
        report.resource_id,
        job,
        report.gpu_minutes,
        report.ended_at,
    )
    .await;
    if matches!(recorded, Ok(true)) {
        return Ok(Ingested::Recorded);
    }
    // Not recorded: another push of the same job won the race (its unique ledger reference
    // refused ours), or no grant covers the job.
    let seen = ledger::Entity::find()
        .filter(ledger::Column::ResourceId.eq(report.resource_id))
        .filter(ledger::Column::ExternalRef.eq(job))
        .one(db)
        .await?;
    match (seen, recorded) {
        (Some(_), _) => Ok(Ingested::Duplicate),
        (None, Ok(_)) => Ok(Ingested::NoGrant),
        (None, Err(e)) => Err(e),
    }
}
