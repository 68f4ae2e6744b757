//! Prometheus metrics at `/metrics`: request latency per route as a histogram, and, read from
//! the database at scrape time, the depth of the cluster sync queue and of the email outbox
//! (so every replica reports the same queue, whichever one is scraped).
use crate::page_cache::PageCache;
use app::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::credits::entity::sync_job;
use domain::credits::SyncStatus;
use domain::mail::entity as outbox;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Request timings of this process, by method, route template and status class.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, &'static str), Histogram>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: StatusCode, took: Duration) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let secs = took.as_secs_f64();
        let mut map = match self.requests.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let h = map
            .entry((method.to_string(), route.to_string(), class))
            .or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    fn render_requests(&self, out: &mut String) {
        let map = match self.requests.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let name = "hatchery_http_request_duration_seconds";
        family(
            out,
            name,
            "histogram",
            "Time to answer an HTTP request, by route template.",
        );
        for ((method, route, status), h) in map.iter() {
            let labels = format!(
                "method=\"{}\",route=\"{}\",status=\"{status}\"",
                escape(method),
                escape(route)
            );
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Times every request. Routes are labelled by their template (`/cohorts/{id}`), never by the
/// raw path, so the number of series stays bounded whatever clients send.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // A label per method HTTP defines; anything else a client invents is one `other`.
    let method = match *req.method() {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::DELETE
        | Method::PATCH
        | Method::HEAD
        | Method::OPTIONS => req.method().as_str().to_string(),
        _ => "other".to_string(),
    };
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let is_asset = req.uri().path().starts_with("/pkg/");
    let res = next.run(req).await;
    let route = match matched {
        // Each server function has its own route; this catch-all only answers unknown names.
        Some(r) if r.starts_with("/api/{") => "/api/unknown".to_string(),
        Some(r) => r,
        None if is_asset => "/pkg".to_string(),
        None => "unmatched".to_string(),
    };
    metrics.observe(&method, &route, res.status(), started.elapsed());
    res
}

async fn count_by_status<E, C, S>(
    db: &impl ConnectionTrait,
    status: C,
    id: C,
    statuses: &[S],
) -> Result<BTreeMap<String, i64>, sea_orm::DbErr>
where
    E: EntityTrait<Column = C>,
    C: ColumnTrait,
    S: Copy + std::fmt::Display + Into<sea_orm::Value>,
{
    let rows: Vec<(String, i64)> = E::find()
        .select_only()
        .column(status)
        .column_as(Expr::col(id).count(), "n")
        .filter(status.is_in(statuses.iter().copied()))
        .group_by(status)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: BTreeMap<String, i64> = statuses.iter().map(|s| (s.to_string(), 0)).collect();
    out.extend(rows);
    Ok(out)
}

async fn render(
    state: &AppState,
    metrics: &Metrics,
    pages: &PageCache,
) -> Result<String, sea_orm::DbErr> {
    let mut out = String::new();
    metrics.render_requests(&mut out);

    let sync = count_by_status::<sync_job::Entity, _, _>(
        &state.db,
        sync_job::Column::Status,
        sync_job::Column::Id,
        &[SyncStatus::Pending, SyncStatus::Running, SyncStatus::Dead],
    )
    .await?;
    family(
        &mut out,
        "hatchery_sync_jobs",
        "gauge",
        "Cluster sync jobs not yet done, by state (dead ones wait for an admin).",
    );
    for (status, n) in &sync {
        let _ = writeln!(out, "hatchery_sync_jobs{{status=\"{status}\"}} {n}");
    }
    use sea_orm::PaginatorTrait;
    let failing = sync_job::Entity::find()
        .filter(sync_job::Column::Status.is_in([SyncStatus::Pending, SyncStatus::Running]))
        .filter(sync_job::Column::LastError.is_not_null())
        .count(&state.db)
        .await?;
    family(
        &mut out,
        "hatchery_sync_jobs_failing",
        "gauge",
        "Sync jobs whose last attempt failed and that will be retried.",
    );
    let _ = writeln!(out, "hatchery_sync_jobs_failing {failing}");

    let mail = count_by_status::<outbox::Entity, _, _>(
        &state.db,
        outbox::Column::Status,
        outbox::Column::Id,
        &[outbox::Status::Pending, outbox::Status::Dead],
    )
    .await?;
    family(
        &mut out,
        "hatchery_email_outbox",
        "gauge",
        "Emails waiting to be sent, by state (dead ones wait for an admin).",
    );
    for (status, n) in &mail {
        let _ = writeln!(out, "hatchery_email_outbox{{status=\"{status}\"}} {n}");
    }
    use domain::channels::entity::delivery;
    let chat = count_by_status::<delivery::Entity, _, _>(
        &state.db,
        delivery::Column::Status,
        delivery::Column::Id,
        &[
            domain::channels::DeliveryStatus::Pending,
            domain::channels::DeliveryStatus::Dead,
        ],
    )
    .await?;
    family(
        &mut out,
        "hatchery_chat_outbox",
        "gauge",
        "Chat-channel messages waiting to be sent, by state (dead ones wait for an admin).",
    );
    for (status, n) in &chat {
        let _ = writeln!(out, "hatchery_chat_outbox{{status=\"{status}\"}} {n}");
    }
    use std::sync::atomic::Ordering::Relaxed;
    let sql = &state.sql;
    family(
        &mut out,
        "hatchery_sql_statements_total",
        "counter",
        "SQL statements this process has run (pages, API, workers).",
    );
    let _ = writeln!(out, "hatchery_sql_statements_total {}", sql.statements());
    family(
        &mut out,
        "hatchery_sql_statement_failures_total",
        "counter",
        "SQL statements that returned an error.",
    );
    let _ = writeln!(
        out,
        "hatchery_sql_statement_failures_total {}",
        sql.failures.load(Relaxed)
    );
    family(
        &mut out,
        "hatchery_sql_statement_seconds_total",
        "counter",
        "Time spent in SQL statements.",
    );
    let _ = writeln!(
        out,
        "hatchery_sql_statement_seconds_total {:.6}",
        sql.micros.load(Relaxed) as f64 / 1e6
    );
    let name = "hatchery_page_cache_requests_total";
    family(
        &mut out,
        name,
        "counter",
        "Page requests answered from the page cache (hit) or rendered (miss).",
    );
    for (result, n) in [("hit", &pages.hits), ("miss", &pages.misses)] {
        let _ = writeln!(out, "{name}{{result=\"{result}\"}} {}", n.load(Relaxed));
    }
    family(
        &mut out,
        "hatchery_page_cache_bytes",
        "gauge",
        "Rendered pages held by the page cache.",
    );
    let _ = writeln!(out, "hatchery_page_cache_bytes {}", pages.bytes());
    Ok(out)
}

/// The `# HELP` and `# TYPE` lines that open a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

pub async fn handler(state: AppState, metrics: Arc<Metrics>, pages: Arc<PageCache>) -> Response {
    match render(&state, &metrics, &pages).await {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be read");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable").into_response()
        }
    }
}
