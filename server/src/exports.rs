//! CSV downloads of admin tables. They are plain GET routes (a file, not a page) that sign the
//! request in from its session cookie and call the same domain functions as the pages.
use app::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use domain::access::Actor;
use domain::admin::AuditFilter;
use domain::error::AppError;
use domain::tables::TableQuery;

async fn actor(state: &AppState, parts: &Parts) -> Result<Actor, AppError> {
    let token = domain::i18n::cookie(parts, "hatchery_session").ok_or(AppError::Unauthenticated)?;
    domain::auth::sessions::session_actor(&state.db, &state.settings, &token)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// The refusal as text, in the reader's language (their language cookie, else the browser's).
fn refuse(err: AppError, parts: &Parts) -> Response {
    let locale = domain::i18n::request_locale(parts);
    (
        err.status(),
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        err.message(locale),
    )
        .into_response()
}

fn csv_file(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        // A byte-order mark, so spreadsheet programs read the Chinese text as UTF-8.
        format!("\u{feff}{body}"),
    )
        .into_response()
}

pub async fn audit_csv(
    State(state): State<AppState>,
    parts: Parts,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let result = async {
        let actor = actor(&state, &parts).await?;
        domain::admin::audit_log::csv(&state.db, &actor, &filter).await
    }
    .await;
    match result {
        Ok(body) => csv_file("hatchery-audit.csv", body),
        Err(e) => refuse(e, &parts),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RangeQuery {
    from: String,
    to: String,
}

pub async fn report_csv(
    State(state): State<AppState>,
    parts: Parts,
    Query(q): Query<RangeQuery>,
) -> Response {
    let locale = domain::i18n::request_locale(&parts);
    let result = async {
        let actor = actor(&state, &parts).await?;
        let (from, to) = domain::admin::overview::range(&q.from, &q.to)?;
        let report =
            domain::admin::overview::kpis(&state.db, &actor, state.settings.park_zone, from, to)
                .await?;
        Ok::<_, AppError>((
            report.from,
            report.to,
            domain::admin::overview::kpi_csv(&report, locale),
        ))
    }
    .await;
    match result {
        Ok((from, to, body)) => csv_file(&format!("hatchery-kpis-{from}-{to}.csv"), body),
        Err(e) => refuse(e, &parts),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct YearQuery {
    year: String,
}

/// The sponsors' annual report: its figures (`firms` false) or its firms, one row each.
async fn sponsor_csv(state: &AppState, parts: &Parts, q: &YearQuery, firms: bool) -> Response {
    let locale = domain::i18n::request_locale(parts);
    let park = state.settings.park_zone;
    let result = async {
        let actor = actor(state, parts).await?;
        let year = domain::admin::sponsor_report::parse_year(&q.year, park)?;
        let (report, rows) =
            domain::admin::sponsor_report::report(&state.db, &actor, park, year).await?;
        Ok::<_, AppError>(if firms {
            (
                format!("hatchery-sponsor-report-{year}-firms.csv"),
                domain::admin::sponsor_report::firms_csv(&rows, year),
            )
        } else {
            (
                format!("hatchery-sponsor-report-{year}.csv"),
                domain::admin::sponsor_report::summary_csv(&report, locale),
            )
        })
    }
    .await;
    match result {
        Ok((name, body)) => csv_file(&name, body),
        Err(e) => refuse(e, parts),
    }
}

pub async fn sponsor_report_csv(
    State(state): State<AppState>,
    parts: Parts,
    Query(q): Query<YearQuery>,
) -> Response {
    sponsor_csv(&state, &parts, &q, false).await
}

pub async fn sponsor_firms_csv(
    State(state): State<AppState>,
    parts: Parts,
    Query(q): Query<YearQuery>,
) -> Response {
    sponsor_csv(&state, &parts, &q, true).await
}

/// A table's CSV download: the same view (search, filters, sort) as the page's URL, every
/// matching row up to the export limit, produced by the table's own domain function.
macro_rules! table_csv {
    ($handler:ident, $file:literal, $export:path) => {
        pub async fn $handler(
            State(state): State<AppState>,
            parts: Parts,
            query: Result<Query<TableQuery>, QueryRejection>,
        ) -> Response {
            let result = async {
                let Query(query) =
                    query.map_err(|_| AppError::invalid("page", "error.filter_invalid"))?;
                let actor = actor(&state, &parts).await?;
                $export(&state.db, &actor, &query).await
            }
            .await;
            match result {
                Ok(body) => csv_file($file, body),
                Err(e) => refuse(e, &parts),
            }
        }
    };
}

table_csv!(
    startups_csv,
    "hatchery-startups.csv",
    domain::incubation::views::csv
);

table_csv!(
    grants_csv,
    "hatchery-grants.csv",
    domain::credits::grants::csv
);

table_csv!(
    users_csv,
    "hatchery-users.csv",
    domain::auth::users::users_csv
);

table_csv!(outbox_csv, "hatchery-outbox.csv", domain::mail::outbox::csv);

table_csv!(
    sync_csv,
    "hatchery-sync-jobs.csv",
    domain::cluster::sync::csv
);

table_csv!(
    cohorts_csv,
    "hatchery-cohorts.csv",
    domain::cohorts::views::admin_csv
);

table_csv!(
    applications_csv,
    "hatchery-applications.csv",
    domain::review::listing::csv
);

table_csv!(
    ledger_csv,
    "hatchery-ledger.csv",
    domain::credits::ledger_table::csv
);

table_csv!(
    statements_csv,
    "hatchery-statements.csv",
    domain::settlement::statements::list_csv
);

/// A statement's jobs, for whoever may read the statement.
pub async fn statement_jobs_csv(
    State(state): State<AppState>,
    parts: Parts,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
        let actor = actor(&state, &parts).await?;
        let body = domain::settlement::statements::csv(&state.db, &actor, id).await?;
        Ok::<_, AppError>((id, body))
    }
    .await;
    match result {
        Ok((id, body)) => csv_file(&format!("hatchery-statement-{id}-jobs.csv"), body),
        Err(e) => refuse(e, &parts),
    }
}

/// The job-level usage that proves a claim (admins).
pub async fn claim_jobs_csv(
    State(state): State<AppState>,
    parts: Parts,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
        let actor = actor(&state, &parts).await?;
        let body = domain::settlement::claims::csv(&state.db, &actor, id).await?;
        Ok::<_, AppError>((id, body))
    }
    .await;
    match result {
        Ok((id, body)) => csv_file(&format!("hatchery-claim-{id}-jobs.csv"), body),
        Err(e) => refuse(e, &parts),
    }
}
