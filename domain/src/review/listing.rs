//! The admin's list of every application across rounds: search by startup, filter by status
//! and round, sort, a page at a time, and CSV of the filtered rows.
use super::entity::assignment;
use super::{ApplicationListRow, APPLICATION_COLUMNS};
use crate::access::Actor;
use crate::error::AppResult;
use crate::intake::entity::{application, round};
use crate::review::AssignmentStatus;
use crate::startups::entity::startup;
use crate::tables::{self, TablePage, TableQuery};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect,
};
use wire::auth::Role;

/// An application with its round's titles and its startup's name, read in one joined query.
#[derive(FromQueryResult)]
struct Named {
    id: i64,
    round_id: i64,
    startup_id: i64,
    status: crate::intake::ApplicationStatus,
    gpu_model: String,
    gpu_hours: i64,
    submitted_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    round_title_en: String,
    round_title_zh: String,
    startup_name: String,
}

fn select(query: &TableQuery) -> AppResult<tables::Sorted<application::Entity>> {
    let mut q = application::Entity::find()
        .select_only()
        .columns([
            application::Column::Id,
            application::Column::RoundId,
            application::Column::StartupId,
            application::Column::Status,
            application::Column::GpuModel,
            application::Column::GpuHours,
            application::Column::SubmittedAt,
            application::Column::DecidedAt,
        ])
        .column_as(
            Expr::col((round::Entity, round::Column::TitleEn)),
            "round_title_en",
        )
        .column_as(
            Expr::col((round::Entity, round::Column::TitleZh)),
            "round_title_zh",
        )
        .column_as(
            Expr::col((startup::Entity, startup::Column::Name)),
            "startup_name",
        )
        .inner_join(round::Entity)
        .inner_join(startup::Entity);
    if let Some(s) = tables::state_of(&query.status, super::listing_statuses(), "status")? {
        q = q.filter(application::Column::Status.eq(s));
    }
    if let Some(id) = tables::id_filter(&query.of, "of")? {
        q = q.filter(application::Column::RoundId.eq(id));
    }
    if let Some(pattern) = tables::search(query)? {
        q = q.filter(tables::like(
            Expr::col((startup::Entity, startup::Column::Name)),
            &pattern,
        ));
    }
    let (column, order) = tables::sort(query, APPLICATION_COLUMNS)?;
    let col = |c: application::Column| -> SimpleExpr { Expr::col((application::Entity, c)) };
    let by = match column.key {
        "startup" => Expr::col((startup::Entity, startup::Column::Name)),
        "status" => col(application::Column::Status),
        "hours" => col(application::Column::GpuHours),
        "decided" => col(application::Column::DecidedAt),
        _ => col(application::Column::SubmittedAt),
    };
    // Drafts have no submission time and undecided ones no decision: by offset.
    Ok(tables::order(q, by, col(application::Column::Id), order)
        .nullable(matches!(column.key, "submitted" | "decided")))
}

/// Adds each application's review progress: submitted reviews of those assigned (one query).
async fn rows(db: &impl ConnectionTrait, named: Vec<Named>) -> AppResult<Vec<ApplicationListRow>> {
    let assignments: Vec<(i64, AssignmentStatus)> = assignment::Entity::find()
        .select_only()
        .column(assignment::Column::ApplicationId)
        .column(assignment::Column::Status)
        .filter(assignment::Column::ApplicationId.is_in(named.iter().map(|n| n.id)))
        .into_tuple()
        .all(db)
        .await?;
    Ok(named
        .into_iter()
        .map(|n| {
            let mine = assignments.iter().filter(|(a, _)| *a == n.id);
            ApplicationListRow {
                reviews_assigned: mine
                    .clone()
                    .filter(|(_, s)| *s != AssignmentStatus::Recused)
                    .count(),
                reviews_submitted: mine
                    .filter(|(_, s)| *s == AssignmentStatus::Submitted)
                    .count(),
                id: n.id,
                round_id: n.round_id,
                round_title_en: n.round_title_en,
                round_title_zh: n.round_title_zh,
                startup_id: n.startup_id,
                startup_name: n.startup_name,
                status: n.status,
                gpu_model: n.gpu_model,
                gpu_hours: n.gpu_hours,
                submitted_at: n.submitted_at,
                decided_at: n.decided_at,
            }
        })
        .collect())
}

/// One page of applications for admins (two queries).
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<ApplicationListRow>> {
    actor.require(Role::Admin)?;
    let named = tables::page_as::<_, Named>(db, select(query)?, query).await?;
    let rows = rows(db, named.rows).await?;
    Ok(TablePage {
        rows,
        page: named.page,
        more: named.more,
        keys: named.keys,
    })
}

/// The rounds, newest first, for the list's round filter (one query).
pub async fn round_options(db: &DatabaseConnection, actor: &Actor) -> AppResult<Vec<RoundOption>> {
    use sea_orm::QueryOrder;
    actor.require(Role::Admin)?;
    Ok(round::Entity::find()
        .select_only()
        .columns([
            round::Column::Id,
            round::Column::TitleEn,
            round::Column::TitleZh,
        ])
        .order_by_desc(round::Column::OpensAt)
        .into_tuple::<(i64, String, String)>()
        .all(db)
        .await?)
}

pub type RoundOption = (i64, String, String);

/// Every application the view selects, as CSV.
pub async fn csv(db: &DatabaseConnection, actor: &Actor, query: &TableQuery) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let times = crate::csv::Times(actor.zone);
    let (submitted, decided) = (times.header("submitted"), times.header("decided"));
    let mut out = crate::csv::line([
        "id",
        "round_id",
        "round",
        "startup_id",
        "startup",
        "status",
        "gpu_model",
        "gpu_hours_requested",
        "reviews_submitted",
        "reviews_assigned",
        submitted.as_str(),
        decided.as_str(),
    ]);
    let mut batches = tables::Batches::new(select(query)?);
    while let Some(batch) = batches.next_as::<Named>(db).await? {
        for a in rows(db, batch).await? {
            out.push_str(&crate::csv::line([
                a.id.to_string(),
                a.round_id.to_string(),
                a.round_title_en,
                a.startup_id.to_string(),
                a.startup_name,
                a.status.to_string(),
                a.gpu_model,
                a.gpu_hours.to_string(),
                a.reviews_submitted.to_string(),
                a.reviews_assigned.to_string(),
                times.cell_opt(a.submitted_at),
                times.cell_opt(a.decided_at),
            ]));
        }
    }
    Ok(out)
}
