//! Writing the demo park: every table in foreign-key order, as multi-row INSERTs small enough
//! for SQLite's 32,766 bound parameters (PostgreSQL allows 65,535), in the caller's
//! transaction; then PostgreSQL's id sequences are moved past the ids the demo chose.
use super::world::Dataset;
use domain::auth::entity::{user, user_role};
use domain::cohorts::entity::{attendance, certificate, cohort, enrolment, session};
use domain::credits::entity::charge;
use domain::credits::entity::tranche;
use domain::credits::entity::{grant, ledger, price, resource, sync_job};
use domain::intake::entity::{application, criterion, event, round};
use domain::review::entity::{assignment, mentor_profile, score};
use domain::settlement::entity::{
    enrolment as programme_enrolment, programme, statement, statement_line, statement_line_subsidy,
    statement_subsidy,
};
use domain::startups::entity::{financing, headcount, member, mentor, milestone, note, startup};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait,
    InsertMany, IntoActiveModel, Iterable,
};
use std::time::Instant;

const MAX_PARAMETERS: usize = 32_766;

/// Tables whose ids the demo sets itself (the others have composite keys, or, like the audit
/// log, are written by the app's own code).
const NUMBERED: &[&str] = &[
    "users",
    "intake_rounds",
    "rubric_criteria",
    "startups",
    "applications",
    "application_events",
    "review_assignments",
    "milestones",
    "startup_notes",
    "headcounts",
    "financings",
    "compute_resources",
    "resource_prices",
    "funding_programmes",
    "programme_enrolments",
    "grants",
    "grant_tranches",
    "ledger_entries",
    "charges",
    "statements",
    "statement_lines",
    "sync_jobs",
    "cohorts",
    "cohort_sessions",
    "enrolments",
    "certificates",
];

/// Rows written, per table, in the order written.
pub type Counts = Vec<(&'static str, usize)>;

async fn table<A, M>(
    txn: &DatabaseTransaction,
    name: &'static str,
    rows: Vec<M>,
    counts: &mut Counts,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
    M: IntoActiveModel<A> + Send,
{
    let started = Instant::now();
    let total = rows.len();
    let columns = <A::Entity as EntityTrait>::Column::iter().count();
    let per_statement = Ord::max(MAX_PARAMETERS / columns, 1);
    let mut rows = rows.into_iter();
    loop {
        let chunk: Vec<M> = rows.by_ref().take(per_statement).collect();
        if chunk.is_empty() {
            break;
        }
        InsertMany::<A>::many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    // Only the long tables are worth a line while the operator waits.
    if seconds >= 1.0 {
        tracing::info!(table = name, rows = total, seconds, "demo rows written");
    } else {
        tracing::debug!(table = name, rows = total, seconds, "demo rows written");
    }
    counts.push((name, total));
    Ok(())
}

pub async fn all(txn: &DatabaseTransaction, d: Dataset) -> Result<Counts, DbErr> {
    let mut n = Counts::new();
    table::<user::ActiveModel, _>(txn, "users", d.users, &mut n).await?;
    table::<user_role::ActiveModel, _>(txn, "user_roles", d.roles, &mut n).await?;
    table::<mentor_profile::ActiveModel, _>(txn, "mentor_profiles", d.mentor_profiles, &mut n)
        .await?;
    table::<round::ActiveModel, _>(txn, "intake_rounds", d.rounds, &mut n).await?;
    table::<criterion::ActiveModel, _>(txn, "rubric_criteria", d.criteria, &mut n).await?;
    table::<startup::ActiveModel, _>(txn, "startups", d.startups, &mut n).await?;
    table::<member::ActiveModel, _>(txn, "startup_members", d.members, &mut n).await?;
    table::<application::ActiveModel, _>(txn, "applications", d.applications, &mut n).await?;
    table::<event::ActiveModel, _>(txn, "application_events", d.events, &mut n).await?;
    table::<assignment::ActiveModel, _>(txn, "review_assignments", d.assignments, &mut n).await?;
    table::<score::ActiveModel, _>(txn, "review_scores", d.scores, &mut n).await?;
    table::<mentor::ActiveModel, _>(txn, "startup_mentors", d.startup_mentors, &mut n).await?;
    table::<milestone::ActiveModel, _>(txn, "milestones", d.milestones, &mut n).await?;
    table::<note::ActiveModel, _>(txn, "startup_notes", d.notes, &mut n).await?;
    table::<headcount::ActiveModel, _>(txn, "headcounts", d.headcounts, &mut n).await?;
    table::<financing::ActiveModel, _>(txn, "financings", d.financings, &mut n).await?;
    table::<resource::ActiveModel, _>(txn, "compute_resources", d.resources, &mut n).await?;
    table::<price::ActiveModel, _>(txn, "resource_prices", d.prices, &mut n).await?;
    table::<programme::ActiveModel, _>(txn, "funding_programmes", d.programmes, &mut n).await?;
    table::<grant::ActiveModel, _>(txn, "grants", d.grants, &mut n).await?;
    table::<tranche::ActiveModel, _>(txn, "grant_tranches", d.tranches, &mut n).await?;
    table::<ledger::ActiveModel, _>(txn, "ledger_entries", d.ledger, &mut n).await?;
    table::<sync_job::ActiveModel, _>(txn, "sync_jobs", d.sync_jobs, &mut n).await?;
    table::<programme_enrolment::ActiveModel, _>(
        txn,
        "programme_enrolments",
        d.programme_enrolments,
        &mut n,
    )
    .await?;
    table::<charge::ActiveModel, _>(txn, "charges", d.charges, &mut n).await?;
    table::<statement::ActiveModel, _>(txn, "statements", d.statements, &mut n).await?;
    table::<statement_line::ActiveModel, _>(txn, "statement_lines", d.statement_lines, &mut n)
        .await?;
    table::<statement_subsidy::ActiveModel, _>(
        txn,
        "statement_subsidies",
        d.statement_subsidies,
        &mut n,
    )
    .await?;
    table::<statement_line_subsidy::ActiveModel, _>(
        txn,
        "statement_line_subsidies",
        d.statement_line_subsidies,
        &mut n,
    )
    .await?;
    table::<cohort::ActiveModel, _>(txn, "cohorts", d.cohorts, &mut n).await?;
    table::<session::ActiveModel, _>(txn, "cohort_sessions", d.sessions, &mut n).await?;
    table::<enrolment::ActiveModel, _>(txn, "enrolments", d.enrolments, &mut n).await?;
    table::<attendance::ActiveModel, _>(txn, "attendance", d.attendance, &mut n).await?;
    table::<certificate::ActiveModel, _>(txn, "certificates", d.certificates, &mut n).await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // The next row the app inserts takes the id after the demo's last one. (SQLite's
        // AUTOINCREMENT already remembers the largest id written.)
        for t in NUMBERED {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {t}), 1), EXISTS (SELECT 1 FROM {t}))"
            ))
            .await?;
        }
    }
    Ok(n)
}
