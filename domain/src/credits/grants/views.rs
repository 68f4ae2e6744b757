//! Grants as the admin tables show them: one page with names and sync state in one query, the
//! CSV export, a grant with its ledger, and what the grant form offers.
use super::burn_down::burn_down;
use crate::access::Actor;
use crate::credits::entity::{grant, ledger as ledger_entity, resource, sync_job};
use crate::credits::{
    GrantDetail, GrantFormOptions, GrantRow, LedgerRow, SyncState, GRANT_COLUMNS,
};
use crate::credits::{GrantStatus, SyncStatus};
use crate::error::{AppError, AppResult};
use crate::startups::entity::startup;
use crate::tables::{self, TablePage, TableQuery};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use sea_orm::{FromQueryResult, JoinType, QueryTrait, Select};
use wire::auth::Role;

/// Builds table rows for grants with their startup, resource and sync state (three queries).
/// A grant with its startup's and resource's names, read in one joined query.
#[derive(FromQueryResult)]
pub(super) struct Named {
    #[sea_orm(nested)]
    pub(super) grant: grant::Model,
    pub(super) startup_name: String,
    pub(super) resource_name: String,
    pub(super) gpu_model: String,
}

/// Grants joined to their startup and resource, the names as extra columns.
pub(super) fn named() -> Select<grant::Entity> {
    grant::Entity::find()
        .column_as(
            Expr::col((startup::Entity, startup::Column::Name)),
            "startup_name",
        )
        .column_as(
            Expr::col((resource::Entity, resource::Column::Name)),
            "resource_name",
        )
        .column_as(
            Expr::col((resource::Entity, resource::Column::GpuModel)),
            "gpu_model",
        )
        .inner_join(startup::Entity)
        .inner_join(resource::Entity)
}

/// Rows for grants already read: their names and sync state (two queries).
pub(super) async fn rows_of(
    db: &impl ConnectionTrait,
    grants: Vec<grant::Model>,
) -> AppResult<Vec<GrantRow>> {
    let mut named = named()
        .filter(grant::Column::Id.is_in(grants.iter().map(|g| g.id)))
        .into_model::<Named>()
        .all(db)
        .await?;
    let order: std::collections::HashMap<i64, usize> =
        grants.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
    named.sort_by_key(|n| order.get(&n.grant.id).copied().unwrap_or(usize::MAX));
    with_sync(db, named).await
}

/// Adds each grant's sync state: the newest job per (startup, resource) among these grants'
/// targets, in one query (older jobs, a history that grows with every change, are not read).
pub(super) async fn with_sync(
    db: &impl ConnectionTrait,
    named: Vec<Named>,
) -> AppResult<Vec<GrantRow>> {
    let newest = sync_job::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(sync_job::Column::Id)))
        .filter(sync_job::Column::StartupId.is_in(named.iter().map(|n| n.grant.startup_id)))
        .filter(sync_job::Column::Status.ne(SyncStatus::Superseded))
        .group_by(sync_job::Column::StartupId)
        .group_by(sync_job::Column::ResourceId)
        .into_query();
    let jobs = if named.is_empty() {
        Vec::new()
    } else {
        sync_job::Entity::find()
            .filter(sync_job::Column::Id.in_subquery(newest))
            .all(db)
            .await?
    };
    Ok(named
        .into_iter()
        .map(|n| {
            let job = jobs.iter().find(|j| {
                j.startup_id == n.grant.startup_id && j.resource_id == n.grant.resource_id
            });
            let sync = job.map(|j| SyncState {
                job_id: j.id,
                status: j.status,
                attempts: j.attempts,
                last_error: j.last_error.clone(),
                updated_at: j.updated_at,
            });
            grant_row(n, sync)
        })
        .collect())
}

pub(super) fn grant_row(n: Named, sync: Option<SyncState>) -> GrantRow {
    let g = n.grant;
    let remaining_minutes = g.remaining_minutes();
    GrantRow {
        id: g.id,
        startup_id: g.startup_id,
        startup_name: n.startup_name,
        resource_id: g.resource_id,
        resource_name: n.resource_name,
        gpu_model: n.gpu_model,
        status: g.status,
        funding: g.funding,
        granted_minutes: g.granted_minutes,
        adjusted_minutes: g.adjusted_minutes,
        consumed_minutes: g.consumed_minutes,
        forfeited_minutes: g.forfeited_minutes,
        remaining_minutes,
        valid_from: g.valid_from,
        valid_until: g.valid_until,
        reason: g.reason,
        sync,
    }
}

/// A grant with its names and its target's newest sync job, read in the page's own query.
#[derive(FromQueryResult)]
pub(super) struct Synced {
    #[sea_orm(nested)]
    pub(super) named: Named,
    #[sea_orm(nested)]
    pub(super) job: NewestJob,
}

impl Synced {
    fn into_row(self) -> GrantRow {
        grant_row(self.named, self.job.state())
    }
}

/// The `sync_*` columns `with_newest_job` adds; all null when the target has no job.
#[derive(FromQueryResult)]
pub(super) struct NewestJob {
    pub(super) sync_job_id: Option<i64>,
    pub(super) sync_status: Option<SyncStatus>,
    pub(super) sync_attempts: Option<i32>,
    pub(super) sync_last_error: Option<String>,
    pub(super) sync_updated_at: Option<DateTime<Utc>>,
}

impl NewestJob {
    pub(super) fn state(self) -> Option<SyncState> {
        Some(SyncState {
            job_id: self.sync_job_id?,
            status: self.sync_status?,
            attempts: self.sync_attempts.unwrap_or(0),
            last_error: self.sync_last_error,
            updated_at: self.sync_updated_at?,
        })
    }
}

/// Adds to a select of grants the newest sync job of each grant's target (not superseded),
/// as `sync_*` columns: a left join on the one job a correlated subquery picks through the
/// `(startup_id, resource_id, id)` index.
pub(super) fn with_newest_job(q: Select<grant::Entity>) -> Select<grant::Entity> {
    use sea_orm::sea_query::{Alias, IntoCondition, Query, SimpleExpr, SubQueryStatement};
    let newest = Alias::new("newest");
    let pick = SimpleExpr::SubQuery(
        None,
        Box::new(SubQueryStatement::SelectStatement(
            Query::select()
                .expr(Func::max(Expr::col((newest.clone(), sync_job::Column::Id))))
                .from_as(sync_job::Entity, newest.clone())
                .and_where(
                    Expr::col((newest.clone(), sync_job::Column::StartupId))
                        .equals((grant::Entity, grant::Column::StartupId)),
                )
                .and_where(
                    Expr::col((newest.clone(), sync_job::Column::ResourceId))
                        .equals((grant::Entity, grant::Column::ResourceId)),
                )
                .and_where(Expr::col((newest, sync_job::Column::Status)).ne(SyncStatus::Superseded))
                .to_owned(),
        )),
    );
    let job = |c: sync_job::Column| Expr::col((sync_job::Entity, c));
    q.column_as(job(sync_job::Column::Id), "sync_job_id")
        .column_as(job(sync_job::Column::Status), "sync_status")
        .column_as(job(sync_job::Column::Attempts), "sync_attempts")
        .column_as(job(sync_job::Column::LastError), "sync_last_error")
        .column_as(job(sync_job::Column::UpdatedAt), "sync_updated_at")
        .join(
            JoinType::LeftJoin,
            grant::Entity::belongs_to(sync_job::Entity)
                .from(grant::Column::StartupId)
                .to(sync_job::Column::StartupId)
                .on_condition(move |_, job| {
                    Expr::col((job, sync_job::Column::Id))
                        .eq(pick.clone())
                        .into_condition()
                })
                .into(),
        )
}

pub const PER_PAGE: u64 = 50;

/// The grants a table view selects: `status` is the grant's state, `of` its resource, `q`
/// part of its startup's name; ordered by the chosen column.
pub(super) fn grants_select(query: &TableQuery) -> AppResult<tables::Sorted<grant::Entity>> {
    let mut q = named();
    if let Some(s) = tables::state_of(&query.status, GrantStatus::ALL, "status")? {
        q = q.filter(grant::Column::Status.eq(s));
    }
    if let Some(id) = tables::id_filter(&query.of, "of")? {
        q = q.filter(grant::Column::ResourceId.eq(id));
    }
    if let Some(pattern) = tables::search(query)? {
        q = q.filter(tables::like(
            Expr::col((startup::Entity, startup::Column::Name)),
            &pattern,
        ));
    }
    let (column, order) = tables::sort(query, GRANT_COLUMNS)?;
    let by: sea_orm::sea_query::SimpleExpr = match column.key {
        "startup" => Expr::col((startup::Entity, startup::Column::Name)),
        "status" => Expr::col((grant::Entity, grant::Column::Status)),
        "until" => Expr::col((grant::Entity, grant::Column::ValidUntil)),
        "granted" => Expr::col((grant::Entity, grant::Column::GrantedMinutes))
            .add(Expr::col((grant::Entity, grant::Column::AdjustedMinutes))),
        "consumed" => Expr::col((grant::Entity, grant::Column::ConsumedMinutes)),
        "remaining" => Expr::col((grant::Entity, grant::Column::GrantedMinutes))
            .add(Expr::col((grant::Entity, grant::Column::AdjustedMinutes)))
            .sub(Expr::col((grant::Entity, grant::Column::ConsumedMinutes)))
            .sub(Expr::col((grant::Entity, grant::Column::ForfeitedMinutes))),
        _ => Expr::col((grant::Entity, grant::Column::Id)),
    };
    Ok(tables::order(
        q,
        by,
        Expr::col((grant::Entity, grant::Column::Id)),
        order,
    ))
}

/// One page of grants for admins, with their names and sync state, in one query.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<GrantRow>> {
    actor.require(Role::Admin)?;
    let select = grants_select(query)?.map(with_newest_job);
    let page = tables::page_as::<_, Synced>(db, select, query).await?;
    Ok(page.map(Synced::into_row))
}

/// Every grant the view selects, as CSV (GPU-hours, times in the reader's zone).
pub async fn csv(db: &DatabaseConnection, actor: &Actor, query: &TableQuery) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let times = crate::csv::Times(actor.zone);
    let (valid_from, valid_until) = (times.header("valid_from"), times.header("valid_until"));
    let mut out = crate::csv::line([
        "id",
        "startup_id",
        "startup",
        "resource",
        "gpu_model",
        "status",
        "funding",
        "granted_gpu_hours",
        "adjusted_gpu_hours",
        "consumed_gpu_hours",
        "forfeited_gpu_hours",
        "remaining_gpu_hours",
        valid_from.as_str(),
        valid_until.as_str(),
        "sync_status",
        "reason",
    ]);
    let hours = |m: i64| format!("{:.2}", m as f64 / 60.0);
    let time = |t: DateTime<Utc>| times.cell(t);
    let mut batches = tables::Batches::new(grants_select(query)?);
    while let Some(batch) = batches.next_as::<Named>(db).await? {
        for g in with_sync(db, batch).await? {
            out.push_str(&crate::csv::line([
                g.id.to_string(),
                g.startup_id.to_string(),
                g.startup_name,
                g.resource_name,
                g.gpu_model,
                g.status.to_string(),
                g.funding.to_string(),
                hours(g.granted_minutes),
                hours(g.adjusted_minutes),
                hours(g.consumed_minutes),
                hours(g.forfeited_minutes),
                hours(g.remaining_minutes),
                time(g.valid_from),
                time(g.valid_until),
                g.sync.map(|s| s.status.to_string()).unwrap_or_default(),
                g.reason,
            ]));
        }
    }
    Ok(out)
}

/// A grant and one page of its ledger, for admins.
pub async fn detail(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    page: u64,
) -> AppResult<GrantDetail> {
    actor.require(Role::Admin)?;
    // Past it the offset would not fit the database's integers (and no ledger is that long).
    if page > crate::tables::MAX_PAGE {
        return Err(AppError::invalid("page", "error.page_too_deep"));
    }
    let g = grant::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let paginator = ledger_entity::Entity::find()
        .filter(ledger_entity::Column::GrantId.eq(id))
        .order_by_desc(ledger_entity::Column::Id)
        .paginate(db, PER_PAGE);
    let ledger_total = paginator.num_items().await?;
    let entries = paginator.fetch_page(page).await?;
    let burn = burn_down(db, &g).await?;
    let tranches = crate::credits::tranches::for_grants(db, &[g.id]).await?;
    let grant = rows_of(db, vec![g])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(GrantDetail {
        burn,
        grant,
        ledger: entries
            .into_iter()
            .map(|e| LedgerRow {
                id: e.id,
                kind: e.kind,
                minutes: e.minutes,
                balance_after: e.balance_after,
                note: e.note,
                external_ref: e.external_ref,
                created_at: e.created_at,
            })
            .collect(),
        ledger_total,
        page,
        per_page: PER_PAGE,
        tranches,
    })
}

/// How many matching startups the grant form offers at once.
pub(super) const STARTUP_MATCHES: u64 = 20;

/// What the grant form offers: the chosen incubating startup and its planned milestones, or
/// the incubating startups whose name matches `q` (a park has thousands: they are searched,
/// not listed); and the resources.
pub async fn form_options(
    db: &DatabaseConnection,
    actor: &Actor,
    startup_id: i64,
    q: &str,
) -> AppResult<GrantFormOptions> {
    use crate::startups::entity::milestone;
    actor.require(Role::Admin)?;
    let resources = resource::Entity::find()
        .order_by_asc(resource::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, format!("{} ({})", r.name, r.gpu_model)))
        .collect();
    let incubating = startup::Entity::find().filter(startup::Column::Status.eq("incubating"));
    if startup_id > 0 {
        let s = incubating
            .filter(startup::Column::Id.eq(startup_id))
            .one(db)
            .await?
            .ok_or(AppError::invalid(
                "startup_id",
                "incubation.error_not_incubating",
            ))?;
        let milestones = milestone::Entity::find()
            .filter(milestone::Column::StartupId.eq(s.id))
            .filter(milestone::Column::Status.eq("planned"))
            .order_by_asc(milestone::Column::DueOn)
            .all(db)
            .await?
            .into_iter()
            .map(|m| {
                (
                    m.id,
                    format!("{} ({})", m.title, m.due_on.format("%Y-%m-%d")),
                )
            })
            .collect();
        return Ok(GrantFormOptions {
            startup: Some((s.id, s.name)),
            matches: Vec::new(),
            resources,
            milestones,
        });
    }
    let query = TableQuery {
        q: q.to_string(),
        ..Default::default()
    };
    let matches = match tables::search(&query)? {
        None => Vec::new(),
        Some(pattern) => incubating
            .filter(tables::like(
                Expr::col((startup::Entity, startup::Column::Name)),
                &pattern,
            ))
            .order_by_asc(startup::Column::Name)
            .limit(STARTUP_MATCHES)
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
    };
    Ok(GrantFormOptions {
        startup: None,
        matches,
        resources,
        milestones: Vec::new(),
    })
}
