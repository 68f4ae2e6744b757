//! Usage import: finished jobs come back from the cluster as `consumed` ledger entries,
//! idempotent per job, for every startup holding grants on a resource.
use super::backend::{AllocationBackend, Backend};
use super::entity::{grant, ledger, resource};
use super::sync::account_name;
use crate::error::{AppError, AppResult};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

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
        let jobs = backend.usage(&account).await.map_err(|e| {
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
