//! The JSON API under `/api/v1` for the park's other systems, authenticated by API tokens.
//! Handlers are thin: they call the same domain functions as the pages, acting as the admin
//! who issued the token, and map their answers to the types below. The OpenAPI document is
//! generated from these handlers and types (`/api/v1/openapi.json`).
use app::state::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use domain::admin::tokens::{self, TokenCaller};
use domain::error::AppError;
use domain::i18n::Locale;
use domain::tables::TableQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The routes, to nest under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/startups", get(list_startups))
        .route("/grants", get(list_grants))
        .route("/grants/{id}/ledger", get(grant_ledger))
        .route("/cohorts", get(list_cohorts))
        .route("/statements", get(list_statements))
        .route("/statements/{id}", get(get_statement))
        .route("/claims", get(list_claims))
        .route("/claims/{id}", get(get_claim))
        .route("/usage", post(push_usage))
        // Below `/api/v1`, an unknown path is the API's 404, not a server function's.
        .route(
            "/{*rest}",
            axum::routing::any(|headers: axum::http::HeaderMap| async move {
                ApiError(AppError::NotFound, domain::i18n::headers_locale(&headers))
            }),
        )
        .layer(axum::middleware::from_fn(json_errors))
}

/// Every error of the API is JSON: also axum's own refusals, which are plain text (a path
/// segment that is not a number, a method the path does not take).
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let locale = domain::i18n::headers_locale(req.headers());
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let err = match status {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => AppError::invalid("method", "error.api_method"),
        s if s.is_client_error() => AppError::invalid("path", "error.api_bad_request"),
        _ => AppError::Internal,
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    let mut json = ApiError(err, locale).into_response();
    *json.status_mut() = status;
    if let Some(allow) = allow {
        json.headers_mut().insert(header::ALLOW, allow);
    }
    json
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hatchery API",
        version = "1",
        description = "Startups, GPU grants and their ledger, training cohorts, monthly compute \
                       statements, the claims filed with subsidy programmes' sponsors, and job usage pushed by the cluster. Money is in fen \
                       (1 yuan = 100 fen). Authenticate with an API token issued by a park \
                       administrator: `Authorization: Bearer hat_…`. Read endpoints accept \
                       read and write tokens; usage ingestion needs a write token."
    ),
    paths(
        list_startups, list_grants, grant_ledger, list_cohorts, list_statements, get_statement,
        list_claims, get_claim, push_usage
    ),
    components(schemas(
        ErrorBody, ErrorDetail, StartupsPage, Startup, GrantsPage, Grant, LedgerPage,
        LedgerEntry, Cohort, StatementsPage, Statement, StatementDetail, StatementJob,
        StatementSubsidy, Claim, ClaimDetail, ClaimStatement, ClaimStartup, UsageReport,
        UsageResult
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// Every error: the status says what kind, the body says why, in the caller's language.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable key, e.g. `error.gpu_minutes_invalid`.
    code: String,
    /// The same, for people (English or Chinese after `Accept-Language`).
    message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

pub struct ApiError(AppError, Locale);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError(err, locale) = self;
        let status = match &err {
            AppError::Invalid { key, .. } if key == "error.api_bad_request" => {
                StatusCode::BAD_REQUEST
            }
            AppError::Invalid { key, .. } if key == "error.api_write_scope" => {
                StatusCode::FORBIDDEN
            }
            e => e.status(),
        };
        // Without a session to sign in to, "please sign in" would mislead: ask for a token.
        let key = match &err {
            AppError::Unauthenticated => "error.api_unauthenticated",
            e => e.message_key(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: key.to_string(),
                message: locale.t(key),
                field: err.field().map(str::to_string),
            },
        };
        let mut res = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

/// The caller, from its bearer token.
pub struct Caller {
    token: TokenCaller,
    locale: Locale,
}

impl Caller {
    fn fail(&self, err: AppError) -> ApiError {
        ApiError(err, self.locale)
    }

    /// Writing needs a write token (the issuer's roles are checked by the domain as well).
    fn writer(&self) -> Result<(), ApiError> {
        if self.token.can_write {
            Ok(())
        } else {
            Err(ApiError(
                AppError::invalid("scope", "error.api_write_scope"),
                self.locale,
            ))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let locale = domain::i18n::request_locale(parts);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError(AppError::Unauthenticated, locale))?;
        let token = tokens::authenticate(&state.db, state.settings.park_zone, token)
            .await
            .map_err(|e| ApiError(e, locale))?;
        Ok(Caller { token, locale })
    }
}

fn bad_query(e: QueryRejection, locale: Locale) -> ApiError {
    tracing::debug!(error = %e, "bad API query");
    ApiError(AppError::invalid("query", "error.api_bad_request"), locale)
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct StartupQuery {
    /// `incubating`, `graduated`, `exited` or `applicant`; all when empty.
    #[param(pattern = "^(incubating|graduated|exited|applicant)?$")]
    status: String,
    /// A sector key (`language`, `computer_vision`, …); all when empty.
    #[param(
        pattern = "^(foundation_models|computer_vision|language|speech|robotics|autonomous_driving|healthcare|finance|industry|education|other)?$"
    )]
    sector: String,
    /// Part of the startup's name.
    #[param(max_length = 100)]
    q: String,
    /// `name` (the default), `status`, `sector`, `residency` or `created`.
    #[param(pattern = "^(name|status|sector|residency|created)?$")]
    sort: String,
    /// `asc` or `desc`; each sort has its natural order.
    #[param(pattern = "^(asc|desc)?$")]
    dir: String,
    /// From 0; 50 per page.
    #[param(maximum = 2000)]
    page: u64,
}

#[derive(Serialize, ToSchema)]
pub struct Startup {
    id: i64,
    name: String,
    sector: String,
    stage: String,
    status: String,
    residency_from: Option<NaiveDate>,
    residency_until: Option<NaiveDate>,
    mentors: usize,
}

#[derive(Serialize, ToSchema)]
pub struct StartupsPage {
    items: Vec<Startup>,
    page: u64,
    per_page: u64,
    /// Whether the next page has rows.
    has_more: bool,
}

/// Startups, by name.
#[utoipa::path(get, path = "/api/v1/startups", params(StartupQuery),
    responses((status = 200, body = StartupsPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_startups(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<StartupQuery>, QueryRejection>,
) -> Result<Json<StartupsPage>, ApiError> {
    let Query(q) = query.map_err(|e| bad_query(e, caller.locale))?;
    let query = TableQuery {
        q: q.q,
        status: q.status,
        of: q.sector,
        sort: q.sort,
        dir: q.dir,
        page: q.page,
        ..TableQuery::default()
    };
    let page = domain::incubation::views::list(&state.db, &caller.token.actor, &query)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(StartupsPage {
        items: page
            .rows
            .into_iter()
            .map(|r| Startup {
                id: r.id,
                name: r.name,
                sector: r.sector.to_string(),
                stage: r.stage.to_string(),
                status: r.status.to_string(),
                residency_from: r.residency_from,
                residency_until: r.residency_until,
                mentors: r.mentors,
            })
            .collect(),
        page: page.page,
        per_page: domain::tables::PER_PAGE,
        has_more: page.more,
    }))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct GrantQuery {
    /// `active`, `suspended`, `expired` or `revoked`; all when empty.
    #[param(pattern = "^(active|suspended|expired|revoked)?$")]
    status: String,
    /// A resource's id; all when empty.
    #[param(pattern = "^[0-9]{0,18}$")]
    resource: String,
    /// Part of the startup's name.
    #[param(max_length = 100)]
    q: String,
    /// `created` (the default, newest first), `startup`, `status`, `granted`, `consumed`,
    /// `remaining` or `until`.
    #[param(pattern = "^(created|startup|status|granted|consumed|remaining|until)?$")]
    sort: String,
    /// `asc` or `desc`; each sort has its natural order.
    #[param(pattern = "^(asc|desc)?$")]
    dir: String,
    /// From 0; 50 per page.
    #[param(maximum = 2000)]
    page: u64,
}

#[derive(Serialize, ToSchema)]
pub struct Grant {
    id: i64,
    startup_id: i64,
    startup_name: String,
    resource_id: i64,
    resource_name: String,
    gpu_model: String,
    status: String,
    /// Who pays for its hours: `park` (the park's credit) or `own` (hours the startup bought).
    funding: String,
    /// GPU-minutes; granted + adjusted = consumed + forfeited + remaining.
    granted_minutes: i64,
    adjusted_minutes: i64,
    consumed_minutes: i64,
    forfeited_minutes: i64,
    remaining_minutes: i64,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    /// The state of its latest sync with the cluster: `pending`, `running`, `done`, `dead`.
    sync_status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GrantsPage {
    items: Vec<Grant>,
    page: u64,
    per_page: u64,
    /// Whether the next page has rows.
    has_more: bool,
}

fn grant_of(g: domain::credits::GrantRow) -> Grant {
    Grant {
        id: g.id,
        startup_id: g.startup_id,
        startup_name: g.startup_name,
        resource_id: g.resource_id,
        resource_name: g.resource_name,
        gpu_model: g.gpu_model,
        status: g.status.to_string(),
        funding: g.funding.to_string(),
        granted_minutes: g.granted_minutes,
        adjusted_minutes: g.adjusted_minutes,
        consumed_minutes: g.consumed_minutes,
        forfeited_minutes: g.forfeited_minutes,
        remaining_minutes: g.remaining_minutes,
        valid_from: g.valid_from,
        valid_until: g.valid_until,
        sync_status: g.sync.map(|s| s.status.to_string()),
    }
}

/// GPU grants, newest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/v1/grants", params(GrantQuery),
    responses((status = 200, body = GrantsPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_grants(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<GrantQuery>, QueryRejection>,
) -> Result<Json<GrantsPage>, ApiError> {
    let Query(q) = query.map_err(|e| bad_query(e, caller.locale))?;
    let query = TableQuery {
        q: q.q,
        status: q.status,
        of: q.resource,
        sort: q.sort,
        dir: q.dir,
        page: q.page,
        ..TableQuery::default()
    };
    let page = domain::credits::grants::list(&state.db, &caller.token.actor, &query)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(GrantsPage {
        items: page.rows.into_iter().map(grant_of).collect(),
        page: page.page,
        per_page: domain::tables::PER_PAGE,
        has_more: page.more,
    }))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct PageQuery {
    /// From 0; 50 per page.
    #[param(maximum = 2000)]
    page: u64,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    id: i64,
    /// `granted`, `tranche_released`, `adjusted`, `consumed`, `expired` or `revoked`.
    kind: String,
    minutes: i64,
    balance_after: i64,
    note: String,
    /// The cluster's job id, for `consumed`.
    external_ref: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerPage {
    grant: Grant,
    items: Vec<LedgerEntry>,
    page: u64,
    per_page: u64,
    total: u64,
}

/// A grant and its ledger, newest entry first.
#[utoipa::path(get, path = "/api/v1/grants/{id}/ledger", params(("id" = i64, Path, description = "The grant"), PageQuery),
    responses((status = 200, body = LedgerPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn grant_ledger(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<LedgerPage>, ApiError> {
    let Query(q) = query.map_err(|e| bad_query(e, caller.locale))?;
    let d = domain::credits::grants::detail(&state.db, &caller.token.actor, id, q.page)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(LedgerPage {
        grant: grant_of(d.grant),
        items: d
            .ledger
            .into_iter()
            .map(|e| LedgerEntry {
                id: e.id,
                kind: e.kind.to_string(),
                minutes: e.minutes,
                balance_after: e.balance_after,
                note: e.note,
                external_ref: e.external_ref,
                created_at: e.created_at,
            })
            .collect(),
        page: d.page,
        per_page: d.per_page,
        total: d.ledger_total,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Cohort {
    id: i64,
    title_en: String,
    title_zh: String,
    track: String,
    capacity: i32,
    enrolled: i64,
    waitlisted: i64,
    completed: i64,
    enrol_opens_at: DateTime<Utc>,
    enrol_closes_at: DateTime<Utc>,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    location: String,
}

/// Training cohorts, newest first.
#[utoipa::path(get, path = "/api/v1/cohorts",
    responses((status = 200, body = [Cohort]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_cohorts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Cohort>>, ApiError> {
    let list = domain::cohorts::views::list(
        &state.db,
        state.settings.park_zone,
        Some(&caller.token.actor),
        true,
    )
    .await
    .map_err(|e| caller.fail(e))?;
    Ok(Json(
        list.into_iter()
            .map(|c| Cohort {
                id: c.id,
                title_en: c.title_en,
                title_zh: c.title_zh,
                track: c.track.to_string(),
                capacity: c.capacity,
                enrolled: c.enrolled,
                waitlisted: c.waitlisted,
                completed: c.completed,
                enrol_opens_at: c.enrol_opens_at,
                enrol_closes_at: c.enrol_closes_at,
                starts_on: c.starts_on,
                ends_on: c.ends_on,
                location: c.location,
            })
            .collect(),
    ))
}

/// A finished job, as the cluster reports it.
#[derive(Deserialize, ToSchema)]
pub struct UsageReport {
    #[serde(deserialize_with = "whole_number")]
    resource_id: i64,
    #[serde(deserialize_with = "whole_number")]
    startup_id: i64,
    /// The cluster's job id; a job is counted once per resource however often it is sent.
    #[schema(min_length = 1, max_length = 120)]
    job_id: String,
    /// GPUs × elapsed minutes.
    #[schema(minimum = 1, maximum = 1000000000)]
    #[serde(deserialize_with = "whole_number")]
    gpu_minutes: i64,
    ended_at: DateTime<Utc>,
}

/// An integer as JSON Schema counts one: `7` or `7.0` (some clients write every number as a
/// float), not `7.5`.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    match n.as_f64() {
        // Below 2^53 every whole float is exact.
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(D::Error::custom(format!("{n} is not a whole number"))),
    }
}

#[derive(Serialize, ToSchema)]
pub struct UsageResult {
    /// `recorded`, `duplicate` (already counted: nothing changed) or `no_grant` (no grant of
    /// the startup on the resource covers the job's end).
    outcome: String,
}

/// Pushes one finished job's GPU use into the ledger. Idempotent per (resource, job id):
/// sending it again answers `duplicate` and changes nothing.
#[utoipa::path(post, path = "/api/v1/usage", request_body = UsageReport,
    responses((status = 201, body = UsageResult, description = "Recorded"),
              (status = 200, body = UsageResult, description = "Duplicate, or no grant covers it"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn push_usage(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<UsageReport>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.writer()?;
    let Json(r) = body.map_err(|e| {
        tracing::debug!(error = %e, "bad API body");
        caller.fail(AppError::invalid("body", "error.api_bad_request"))
    })?;
    let report = domain::credits::usage::UsageReport {
        resource_id: r.resource_id,
        startup_id: r.startup_id,
        job_id: r.job_id,
        gpu_minutes: r.gpu_minutes,
        ended_at: r.ended_at,
    };
    use domain::credits::usage::Ingested;
    let outcome =
        domain::credits::usage::ingest(&state.db, &state.settings, &caller.token.actor, &report)
            .await
            .map_err(|e| caller.fail(e))?;
    let (status, outcome) = match outcome {
        Ingested::Recorded => (StatusCode::CREATED, "recorded"),
        Ingested::Duplicate => (StatusCode::OK, "duplicate"),
        Ingested::NoGrant => (StatusCode::OK, "no_grant"),
    };
    Ok((
        status,
        Json(UsageResult {
            outcome: outcome.into(),
        }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::ApiDoc;
    use utoipa::OpenApi;

    /// The lists' parameters are optional query parameters (generated clients send them), and
    /// each filter's documented pattern admits every value the list accepts.
    #[test]
    fn list_parameters_are_optional_queries_that_match_the_filters() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let params = |path: &str| {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        let pattern = |path: &str, name: &str| {
            params(path)
                .into_iter()
                .find(|p| p["name"] == name)
                .and_then(|p| p["schema"]["pattern"].as_str().map(str::to_string))
                .unwrap_or_else(|| panic!("{path} {name} has a pattern"))
        };
        for path in ["/api/v1/startups", "/api/v1/grants"] {
            let list = params(path);
            assert!(list.len() >= 6, "{path}");
            for p in list {
                assert_eq!(
                    (&p["in"], &p["required"]),
                    (&"query".into(), &false.into()),
                    "{p}"
                );
            }
        }
        let ledger = params("/api/v1/grants/{id}/ledger");
        assert!(ledger
            .iter()
            .any(|p| p["name"] == "page" && p["in"] == "query"));
        let cases: [(&str, &str, Vec<&str>); 5] = [
            (
                "/api/v1/startups",
                "status",
                domain::startups::incubation::StartupStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
            ),
            (
                "/api/v1/startups",
                "sector",
                domain::startups::Sector::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
            ),
            (
                "/api/v1/startups",
                "sort",
                domain::startups::incubation::STARTUP_COLUMNS
                    .iter()
                    .map(|c| c.key)
                    .collect(),
            ),
            (
                "/api/v1/grants",
                "status",
                domain::credits::GrantStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
            ),
            (
                "/api/v1/grants",
                "sort",
                domain::credits::GRANT_COLUMNS
                    .iter()
                    .map(|c| c.key)
                    .collect(),
            ),
        ];
        for (path, name, values) in cases {
            let pattern = pattern(path, name);
            for v in values {
                assert!(
                    pattern.contains(&format!("|{v}|"))
                        || pattern.contains(&format!("({v}|"))
                        || pattern.contains(&format!("|{v})")),
                    "{path} {name}: {v} not in {pattern}"
                );
            }
        }
        let usage = &doc["components"]["schemas"]["UsageReport"]["properties"];
        assert_eq!(usage["gpu_minutes"]["minimum"], 1);
        assert_eq!(usage["gpu_minutes"]["maximum"], 1_000_000_000);
        assert_eq!(usage["job_id"]["minLength"], 1);
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct StatementQuery {
    /// `draft`, `issued`, `paid`, `claimed` or `reimbursed`; all when empty.
    #[param(pattern = "^(draft|issued|paid|claimed|reimbursed)?$")]
    status: String,
    /// A month from 2000-01 to 2100-12, `YYYY-MM`; all when empty.
    #[param(pattern = "^((20[0-9]{2}|2100)-(0[1-9]|1[0-2]))?$")]
    month: String,
    /// Part of the startup's name.
    #[param(max_length = 100)]
    q: String,
    /// `asc` or `desc` (the default: the newest first).
    #[param(pattern = "^(asc|desc)?$")]
    dir: String,
    /// From 0; 50 per page.
    #[param(maximum = 2000)]
    page: u64,
}

#[derive(Serialize, ToSchema)]
pub struct Statement {
    id: i64,
    startup_id: i64,
    startup: String,
    provider: String,
    /// `YYYY-MM`.
    month: String,
    /// 0 for the month's statement, then each correction's number.
    revision: i32,
    /// `draft`, `issued`, `paid`, `claimed` or `reimbursed`.
    status: String,
    jobs: i64,
    gpu_minutes: i64,
    amount_fen: i64,
    park_credit_fen: i64,
    subsidy_fen: i64,
    own_fen: i64,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct StatementsPage {
    items: Vec<Statement>,
    page: u64,
    per_page: u64,
    /// Whether the next page has rows.
    has_more: bool,
}

#[derive(Serialize, ToSchema)]
pub struct StatementJob {
    job: String,
    resource: String,
    ended_at: DateTime<Utc>,
    gpu_minutes: i64,
    /// The price in force on the day the job ended; null when there was none.
    fen_per_gpu_hour: Option<i64>,
    amount_fen: i64,
    park_credit_fen: i64,
    subsidy_fen: i64,
    own_fen: i64,
}

#[derive(Serialize, ToSchema)]
pub struct StatementSubsidy {
    programme_id: i64,
    programme_en: String,
    programme_zh: String,
    amount_fen: i64,
}

#[derive(Serialize, ToSchema)]
pub struct StatementDetail {
    statement: Statement,
    /// The statement this one corrects, and the one that corrects it.
    corrects: Option<i64>,
    corrected_by: Option<i64>,
    contract_no: String,
    contract_date: Option<NaiveDate>,
    invoice_no: String,
    payment_ref: String,
    subsidies: Vec<StatementSubsidy>,
    jobs: Vec<StatementJob>,
}

fn statement_of(s: wire::settlement::statements::StatementRow) -> Statement {
    Statement {
        id: s.id,
        startup_id: s.startup_id,
        startup: s.startup,
        provider: s.provider,
        month: s.period,
        revision: s.revision,
        status: s.status.to_string(),
        jobs: s.jobs,
        gpu_minutes: s.gpu_minutes,
        amount_fen: s.amount_fen,
        park_credit_fen: s.park_fen,
        subsidy_fen: s.subsidy_fen,
        own_fen: s.own_fen,
        updated_at: s.updated_at,
    }
}

/// Monthly compute statements, the newest first.
#[utoipa::path(get, path = "/api/v1/statements", params(StatementQuery),
    responses((status = 200, body = StatementsPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_statements(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<StatementQuery>, QueryRejection>,
) -> Result<Json<StatementsPage>, ApiError> {
    let Query(q) = query.map_err(|e| bad_query(e, caller.locale))?;
    let query = TableQuery {
        q: q.q,
        status: q.status,
        of: q.month,
        dir: q.dir,
        page: q.page,
        ..TableQuery::default()
    };
    let page = domain::settlement::statements::list(&state.db, &caller.token.actor, &query)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(StatementsPage {
        items: page.rows.into_iter().map(statement_of).collect(),
        page: page.page,
        per_page: domain::tables::PER_PAGE,
        has_more: page.more,
    }))
}

/// A statement with its jobs and what each programme pays.
#[utoipa::path(get, path = "/api/v1/statements/{id}", params(("id" = i64, Path, description = "The statement")),
    responses((status = 200, body = StatementDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<StatementDetail>, ApiError> {
    let d = domain::settlement::statements::detail(&state.db, &caller.token.actor, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(StatementDetail {
        statement: statement_of(d.statement),
        corrects: d.corrects,
        corrected_by: d.corrected_by,
        contract_no: d.contract_no,
        contract_date: d.contract_date,
        invoice_no: d.invoice_no,
        payment_ref: d.payment_ref,
        subsidies: d
            .subsidies
            .into_iter()
            .map(|x| StatementSubsidy {
                programme_id: x.programme_id,
                programme_en: x.programme_en,
                programme_zh: x.programme_zh,
                amount_fen: x.amount_fen,
            })
            .collect(),
        jobs: d
            .lines
            .into_iter()
            .map(|l| StatementJob {
                job: l.job_ref,
                resource: l.resource,
                ended_at: l.ended_at,
                gpu_minutes: l.gpu_minutes,
                fen_per_gpu_hour: l.fen_per_gpu_hour,
                amount_fen: l.amount_fen,
                park_credit_fen: l.park_fen,
                subsidy_fen: l.subsidy_fen,
                own_fen: l.own_fen,
            })
            .collect(),
    }))
}

/// A claim filed with a programme's sponsor.
#[derive(Serialize, ToSchema)]
pub struct Claim {
    id: i64,
    programme_id: i64,
    programme_en: String,
    programme_zh: String,
    /// The months it covers, `YYYY-MM`, both included.
    month_from: String,
    month_until: String,
    /// `filed` or `reimbursed`.
    status: String,
    statements: i64,
    total_fen: i64,
    filed_by: String,
    filed_at: DateTime<Utc>,
    reimbursed_at: Option<DateTime<Utc>>,
    /// The sponsor's reference once reimbursed.
    sponsor_ref: String,
}

/// A statement on a claim, with the evidence the sponsor checks.
#[derive(Serialize, ToSchema)]
pub struct ClaimStatement {
    statement_id: i64,
    startup_id: i64,
    startup: String,
    /// The startup's unified social credit code, when recorded.
    credit_code: Option<String>,
    month: String,
    provider: String,
    amount_fen: i64,
    own_fen: i64,
    /// What the claim's programme pays on it.
    claimed_fen: i64,
    contract_no: String,
    contract_date: Option<NaiveDate>,
    invoice_no: String,
    payment_ref: String,
}

/// A startup's total on a claim.
#[derive(Serialize, ToSchema)]
pub struct ClaimStartup {
    startup_id: i64,
    startup: String,
    statements: i64,
    claimed_fen: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ClaimDetail {
    claim: Claim,
    sponsor: String,
    startups: Vec<ClaimStartup>,
    statements: Vec<ClaimStatement>,
}

fn claim_of(c: wire::settlement::claims::ClaimRow) -> Claim {
    Claim {
        id: c.id,
        programme_id: c.programme_id,
        programme_en: c.programme_en,
        programme_zh: c.programme_zh,
        month_from: c.period_from,
        month_until: c.period_until,
        status: c.status.to_string(),
        statements: c.statements,
        total_fen: c.total_fen,
        filed_by: c.filed_by,
        filed_at: c.filed_at,
        reimbursed_at: c.reimbursed_at,
        sponsor_ref: c.sponsor_ref,
    }
}

/// Every claim, the newest first.
#[utoipa::path(get, path = "/api/v1/claims",
    responses((status = 200, body = [Claim]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_claims(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Claim>>, ApiError> {
    let o = domain::settlement::claims::overview(&state.db, &caller.token.actor)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(o.claims.into_iter().map(claim_of).collect()))
}

/// A claim with its statements, their evidence and each startup's total.
#[utoipa::path(get, path = "/api/v1/claims/{id}", params(("id" = i64, Path, description = "The claim")),
    responses((status = 200, body = ClaimDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ClaimDetail>, ApiError> {
    let d = domain::settlement::claims::detail(&state.db, &caller.token.actor, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(ClaimDetail {
        claim: claim_of(d.claim),
        sponsor: d.sponsor,
        startups: d
            .startups
            .into_iter()
            .map(|x| ClaimStartup {
                startup_id: x.startup_id,
                startup: x.startup,
                statements: x.statements,
                claimed_fen: x.claimed_fen,
            })
            .collect(),
        statements: d
            .statements
            .into_iter()
            .map(|x| ClaimStatement {
                statement_id: x.statement_id,
                startup_id: x.startup_id,
                startup: x.startup,
                credit_code: x.credit_code,
                month: x.period,
                provider: x.provider,
                amount_fen: x.amount_fen,
                own_fen: x.own_fen,
                claimed_fen: x.claimed_fen,
                contract_no: x.contract_no,
                contract_date: x.contract_date,
                invoice_no: x.invoice_no,
                payment_ref: x.payment_ref,
            })
            .collect(),
    }))
}
