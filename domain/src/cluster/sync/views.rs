//! The admin's view of the sync queue: the list and its CSV, and retrying a dead job.
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::cluster::backend::Desired;
use crate::credits::entity::{resource, sync_job};
use crate::error::{AppError, AppResult};
use crate::startups::entity::startup;
use crate::tables::{self, TablePage, TableQuery};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Set,
};
use serde_json::json;
use wire::auth::Role;
use wire::credits::{SyncJobRow, SyncStatus};

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
        .left_join(startup::Entity)
        .inner_join(resource::Entity);
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

/// Every job the view selects, as CSV (the limit in GPU-hours, times in the reader's zone).
pub async fn csv(db: &DatabaseConnection, actor: &Actor, query: &TableQuery) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let times = crate::csv::Times(actor.zone);
    let (next, updated) = (times.header("next_attempt"), times.header("updated"));
    let time = |t: DateTime<Utc>| times.cell(t);
    let mut out = crate::csv::line([
        "id",
        "startup_id",
        "startup",
        "resource",
        "limit_gpu_hours",
        "status",
        "attempts",
        next.as_str(),
        updated.as_str(),
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
