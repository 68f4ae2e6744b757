//! The park at a glance (admins): intake funnels, startups by status, GPU credit per
//! resource, GPU burn per month, cohort fill; and the key figures for a date range. Each
//! figure is one aggregate query, whatever the number of rows behind it.
use super::{KpiReport, ParkOverview, ResourceCredit, RoundFunnel};
use crate::access::Actor;
use crate::cohorts::entity::{certificate, enrolment};
use crate::credits::entity::{grant, ledger, resource};
use crate::error::{AppError, AppResult};
use crate::intake::entity::{application, round};
use crate::startups::entity::startup;
use crate::time::Zone;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use std::collections::HashMap;
use wire::auth::Role;
use wire::credits::LedgerKind;
use wire::intake::ApplicationStatus;
use wire::startups::incubation::StartupStatus;

const FUNNEL: &[ApplicationStatus] = &[
    ApplicationStatus::Draft,
    ApplicationStatus::Submitted,
    ApplicationStatus::InReview,
    ApplicationStatus::Waitlisted,
    ApplicationStatus::Accepted,
    ApplicationStatus::Rejected,
    ApplicationStatus::Withdrawn,
];

/// (resource, granted + adjusted, consumed, forfeited) in GPU-minutes; NULL when no grant.
type ResourceSums = (i64, Option<i64>, Option<i64>, Option<i64>);

/// SUM of a bigint is numeric on PostgreSQL: cast it back so both databases answer an i64.
fn bigint_sum(e: impl Into<sea_orm::sea_query::Expr>) -> sea_orm::sea_query::Expr {
    Func::cast_as(Func::sum(e.into()), Alias::new("bigint")).into()
}

/// How long the dashboard's figures are kept: computed again once the data changed and they
/// are at least 2 s old (a busy park does not recompute them on every request), and at least
/// once a minute.
pub const OVERVIEW_AGES: std::ops::Range<std::time::Duration> =
    std::time::Duration::from_secs(2)..std::time::Duration::from_secs(60);

/// The overview as the dashboard shows it, shared by every admin (its aggregates read the whole
/// ledger), with the time it was computed.
pub async fn cached(
    db: &DatabaseConnection,
    sql: &crate::state::SqlStats,
    cache: &crate::state::Cached<ParkOverview>,
    park: Zone,
    actor: &Actor,
) -> AppResult<ParkOverview> {
    actor.require(Role::Admin)?;
    // Read before computing: a change during the computation makes the next reader recompute.
    let version = sql.changes();
    cache
        .get_or_refresh(OVERVIEW_AGES, version, || overview(db, actor, park))
        .await
}

/// The dashboard's figures; months and days are the park's (`park`), shared by every admin.
pub async fn overview(
    db: &DatabaseConnection,
    actor: &Actor,
    park: Zone,
) -> AppResult<ParkOverview> {
    actor.require(Role::Admin)?;
    let rounds = round::Entity::find()
        .order_by_desc(round::Column::OpensAt)
        .limit(5)
        .all(db)
        .await?;
    let ids: Vec<i64> = rounds.iter().map(|r| r.id).collect();
    let counts: Vec<(i64, String, i64)> = application::Entity::find()
        .select_only()
        .column(application::Column::RoundId)
        .column(application::Column::Status)
        .column_as(Expr::col(application::Column::Id).count(), "n")
        .filter(application::Column::RoundId.is_in(ids))
        .group_by(application::Column::RoundId)
        .group_by(application::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let counts: HashMap<(i64, String), i64> =
        counts.into_iter().map(|(r, s, n)| ((r, s), n)).collect();
    let rounds = rounds
        .into_iter()
        .map(|r| RoundFunnel {
            counts: FUNNEL
                .iter()
                .map(|s| {
                    let n = counts.get(&(r.id, s.to_string())).copied().unwrap_or(0);
                    (s.to_string(), n)
                })
                .collect(),
            id: r.id,
            title_en: r.title_en,
            title_zh: r.title_zh,
        })
        .collect();

    let by_status: Vec<(String, i64)> = startup::Entity::find()
        .select_only()
        .column(startup::Column::Status)
        .column_as(Expr::col(startup::Column::Id).count(), "n")
        .group_by(startup::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let by_status: HashMap<String, i64> = by_status.into_iter().collect();
    let startups = StartupStatus::ALL
        .iter()
        .map(|s| {
            (
                s.to_string(),
                by_status.get(s.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();

    let sums: Vec<ResourceSums> = grant::Entity::find()
        .select_only()
        .column(grant::Column::ResourceId)
        .expr_as(
            bigint_sum(
                Expr::col(grant::Column::GrantedMinutes)
                    .add(Expr::col(grant::Column::AdjustedMinutes)),
            ),
            "granted",
        )
        .expr_as(
            bigint_sum(Expr::col(grant::Column::ConsumedMinutes)),
            "consumed",
        )
        .expr_as(
            bigint_sum(Expr::col(grant::Column::ForfeitedMinutes)),
            "forfeited",
        )
        .group_by(grant::Column::ResourceId)
        .into_tuple()
        .all(db)
        .await?;
    let sums: HashMap<i64, (i64, i64, i64)> = sums
        .into_iter()
        .map(|(r, g, c, f)| (r, (g.unwrap_or(0), c.unwrap_or(0), f.unwrap_or(0))))
        .collect();
    let resources = resource::Entity::find()
        .order_by_asc(resource::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let (granted, consumed, forfeited) = sums.get(&r.id).copied().unwrap_or_default();
            ResourceCredit {
                id: r.id,
                name: r.name,
                gpu_model: r.gpu_model,
                granted,
                consumed,
                remaining: granted - consumed - forfeited,
            }
        })
        .collect();

    let burn = burn_per_month(db, park).await?;
    let today = park.today();
    let cohorts = crate::cohorts::views::list(db, park, Some(actor), true)
        .await?
        .into_iter()
        .filter(|c| c.ends_on >= today - Duration::days(60))
        .take(8)
        .collect();
    Ok(ParkOverview {
        rounds,
        startups,
        resources,
        burn,
        cohorts,
        as_of: Utc::now(),
        park_zone: park.name().to_string(),
    })
}

#[derive(FromQueryResult)]
struct BucketRow {
    bucket: Option<i64>,
    minutes: Option<i64>,
}

/// GPU-minutes consumed per calendar month of the park (its zone's months, whatever the
/// offset or daylight saving time), the last 12 months with empty ones filled.
async fn burn_per_month(db: &DatabaseConnection, park: Zone) -> AppResult<Vec<(String, i64)>> {
    let today = park.today();
    let mut first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    for _ in 0..11 {
        first = (first - Duration::days(1)).with_day(1).unwrap_or(first);
    }
    // The first days of the twelve months and of the next one, as instants: rows are counted
    // into the month whose bounds hold them, so no database needs to know the zone.
    let mut months = Vec::with_capacity(13);
    let mut month = first;
    for _ in 0..13 {
        months.push(month);
        month = (month + Duration::days(32)).with_day(1).unwrap_or(month);
    }
    let bounds: Vec<chrono::DateTime<Utc>> = months.iter().map(|m| park.start_of_day(*m)).collect();
    let backend = db.get_database_backend();
    let slot = |n: usize| slot(backend, n);
    let mut values: Vec<sea_orm::Value> = vec![LedgerKind::Consumed.into(), bounds[0].into()];
    let mut case = String::from("CASE");
    for (i, bound) in bounds.iter().enumerate().skip(1) {
        values.push((*bound).into());
        case.push_str(&format!(
            " WHEN created_at < {} THEN {}",
            slot(values.len()),
            i - 1
        ));
    }
    case.push_str(" END");
    let sql = format!(
        "SELECT CAST({case} AS BIGINT) AS bucket, CAST(-SUM(minutes) AS BIGINT) AS minutes \
         FROM ledger_entries WHERE kind = {} AND created_at >= {} GROUP BY 1",
        slot(1),
        slot(2)
    );
    let rows = BucketRow::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?;
    let mut minutes = [0i64; 12];
    for r in rows {
        if let Some(i) = r
            .bucket
            .and_then(|b| usize::try_from(b).ok())
            .filter(|i| *i < 12)
        {
            minutes[i] += r.minutes.unwrap_or(0);
        }
    }
    Ok(months
        .iter()
        .take(12)
        .zip(minutes)
        .map(|(m, n)| (m.format("%Y-%m").to_string(), n))
        .collect())
}

/// The `n`th numbered placeholder: `$n` on PostgreSQL and `?n` on SQLite, so the order of
/// the values is free.
pub(crate) fn slot(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// Reads a report's range; both ends are required and included.
pub fn range(from: &str, to: &str) -> AppResult<(NaiveDate, NaiveDate)> {
    let day = |v: &str, field: &str| {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::invalid(field, "error.date_invalid"))
    };
    let (from, to) = (day(from, "from")?, day(to, "to")?);
    if to < from {
        return Err(AppError::invalid("to", "error.window_order"));
    }
    if (to - from).num_days() > 3660 {
        return Err(AppError::invalid("to", "error.range_too_long"));
    }
    Ok((from, to))
}

/// The park's key figures from the first moment of `from` to the last of `to`, both the park's
/// days (`park`): an event at 23:30 in the park counts on that day, wherever the server is.
pub async fn kpis(
    db: &DatabaseConnection,
    actor: &Actor,
    park: Zone,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<KpiReport> {
    actor.require(Role::Admin)?;
    let start = park.start_of_day(from);
    let end = park.start_of_day(to + Duration::days(1));
    let admitted: Vec<i64> = application::Entity::find()
        .select_only()
        .column(application::Column::StartupId)
        .distinct()
        .filter(application::Column::Status.eq(ApplicationStatus::Accepted))
        .filter(application::Column::DecidedAt.gte(start))
        .filter(application::Column::DecidedAt.lt(end))
        .into_tuple()
        .all(db)
        .await?;
    let ended = |status: &'static str| {
        startup::Entity::find()
            .filter(startup::Column::Status.eq(status))
            .filter(startup::Column::EndedAt.gte(start))
            .filter(startup::Column::EndedAt.lt(end))
            .count(db)
    };
    let graduated = ended("graduated").await? as i64;
    let exited = ended("exited").await? as i64;
    let sums: Vec<(LedgerKind, Option<i64>)> = ledger::Entity::find()
        .select_only()
        .column(ledger::Column::Kind)
        .expr_as(bigint_sum(Expr::col(ledger::Column::Minutes)), "minutes")
        .filter(ledger::Column::Kind.is_in([
            LedgerKind::Granted,
            LedgerKind::TrancheReleased,
            LedgerKind::Adjusted,
            LedgerKind::Consumed,
        ]))
        .filter(ledger::Column::CreatedAt.gte(start))
        .filter(ledger::Column::CreatedAt.lt(end))
        .group_by(ledger::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let sum = |k: LedgerKind| {
        sums.iter()
            .filter(|(kind, _)| *kind == k)
            .map(|(_, m)| m.unwrap_or(0))
            .sum::<i64>()
    };
    let trained: Vec<i64> = enrolment::Entity::find()
        .select_only()
        .column(enrolment::Column::UserId)
        .distinct()
        .filter(enrolment::Column::CompletedAt.gte(start))
        .filter(enrolment::Column::CompletedAt.lt(end))
        .into_tuple()
        .all(db)
        .await?;
    let certificates = certificate::Entity::find()
        .filter(certificate::Column::IssuedAt.gte(start))
        .filter(certificate::Column::IssuedAt.lt(end))
        .count(db)
        .await? as i64;
    Ok(KpiReport {
        zone: park.name().to_string(),
        from,
        to,
        admitted: admitted.len() as i64,
        graduated,
        exited,
        // As the grants list counts them: issued, released by milestones, and adjusted (a
        // top-up or a correction) within the period.
        gpu_minutes_granted: sum(LedgerKind::Granted)
            + sum(LedgerKind::TrancheReleased)
            + sum(LedgerKind::Adjusted),
        gpu_minutes_consumed: -sum(LedgerKind::Consumed),
        people_trained: trained.len() as i64,
        certificates,
    })
}

/// The report as CSV: one row per figure, GPU-hours with two decimals.
pub fn kpi_csv(r: &KpiReport, locale: crate::i18n::Locale) -> String {
    let hours = wire::credits::format_gpu_hours;
    let mut out = crate::csv::line(["figure", "value", "from", "to"]);
    let from = r.from.to_string();
    let to = r.to.to_string();
    for (key, value) in [
        ("report.admitted", r.admitted.to_string()),
        ("report.graduated", r.graduated.to_string()),
        ("report.exited", r.exited.to_string()),
        ("report.gpu_hours_granted", hours(r.gpu_minutes_granted)),
        ("report.gpu_hours_consumed", hours(r.gpu_minutes_consumed)),
        ("report.people_trained", r.people_trained.to_string()),
        ("report.certificates", r.certificates.to_string()),
    ] {
        out.push_str(&crate::csv::line([
            locale.t(key).as_str(),
            value.as_str(),
            from.as_str(),
            to.as_str(),
        ]));
    }
    out
}
