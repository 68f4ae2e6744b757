//! The admin's ledger across every grant (/admin/ledger): a million entries and more, so it
//! is read newest first (or oldest first) by id, filtered through indexes, never counted.
use super::entity::{ledger, resource};
use super::{LedgerKind, LedgerListRow, LEDGER_COLUMNS};
use crate::access::Actor;
use crate::error::AppResult;
use crate::startups::entity::startup;
use crate::tables::{self, TablePage, TableQuery};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, QueryTrait,
};
use wire::auth::Role;

#[derive(FromQueryResult)]
struct Named {
    #[sea_orm(nested)]
    entry: ledger::Model,
    startup_name: String,
    resource_name: String,
}

/// The entries a view selects: `status` is their kind, `of` their resource, `q` part of the
/// startup's name or a job's reference.
fn select(query: &TableQuery) -> AppResult<tables::Sorted<ledger::Entity>> {
    let mut q = ledger::Entity::find()
        .column_as(
            Expr::col((startup::Entity, startup::Column::Name)),
            "startup_name",
        )
        .column_as(
            Expr::col((resource::Entity, resource::Column::Name)),
            "resource_name",
        )
        .inner_join(startup::Entity)
        .inner_join(resource::Entity);
    if let Some(k) = tables::state_of(&query.status, LedgerKind::ALL, "status")? {
        q = q.filter(ledger::Column::Kind.eq(k));
    }
    if let Some(id) = tables::id_filter(&query.of, "of")? {
        q = q.filter(ledger::Column::ResourceId.eq(id));
    }
    if let Some(pattern) = tables::search(query)? {
        // The startups first (a small table), then their entries through the startup index.
        let startups = startup::Entity::find()
            .select_only()
            .column(startup::Column::Id)
            .filter(tables::like(
                Expr::col((startup::Entity, startup::Column::Name)),
                &pattern,
            ))
            .into_query();
        q = q.filter(
            Condition::any()
                .add(ledger::Column::StartupId.in_subquery(startups))
                .add(ledger::Column::ExternalRef.eq(query.q.trim())),
        );
    }
    let (_, order) = tables::sort(query, LEDGER_COLUMNS)?;
    let id = Expr::col((ledger::Entity, ledger::Column::Id));
    Ok(tables::order(q, id.clone(), id, order))
}

fn row(n: Named) -> LedgerListRow {
    let e = n.entry;
    LedgerListRow {
        id: e.id,
        grant_id: e.grant_id,
        startup_id: e.startup_id,
        startup_name: n.startup_name,
        resource_name: n.resource_name,
        kind: e.kind,
        minutes: e.minutes,
        balance_after: e.balance_after,
        external_ref: e.external_ref,
        note: e.note,
        created_at: e.created_at,
    }
}

/// One page of the ledger for admins (one query).
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<LedgerListRow>> {
    actor.require(Role::Admin)?;
    let entries = tables::page_as::<_, Named>(db, select(query)?, query).await?;
    Ok(entries.map(row))
}

/// Every entry the view selects (up to the export limit), as CSV in GPU-hours.
pub async fn csv(db: &DatabaseConnection, actor: &Actor, query: &TableQuery) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let hours = |m: i64| format!("{:.2}", m as f64 / 60.0);
    let times = crate::csv::Times(actor.zone);
    let time_header = times.header("time");
    let time = |t: DateTime<Utc>| times.cell(t);
    let mut out = crate::csv::line([
        "id",
        time_header.as_str(),
        "grant_id",
        "startup_id",
        "startup",
        "resource",
        "kind",
        "gpu_hours",
        "balance_after_gpu_hours",
        "job",
        "note",
    ]);
    let mut batches = tables::Batches::new(select(query)?);
    while let Some(batch) = batches.next_as::<Named>(db).await? {
        for e in batch.into_iter().map(row) {
            out.push_str(&crate::csv::line([
                e.id.to_string(),
                time(e.created_at),
                e.grant_id.to_string(),
                e.startup_id.to_string(),
                e.startup_name,
                e.resource_name,
                e.kind.to_string(),
                hours(e.minutes),
                hours(e.balance_after),
                e.external_ref.unwrap_or_default(),
                e.note,
            ]));
        }
    }
    Ok(out)
}
