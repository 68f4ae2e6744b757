//! The HTTP surface: pages, server functions, static files, health, and the request guards.
use app::state::AppState;
use app::{shell, App};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sea_orm::ConnectionTrait;
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub fn build(state: AppState) -> Router {
    build_with(state, Router::new())
}

/// The router with `extra` routes beside the app's, under the same guards (tests use it for
/// routes that misbehave on purpose).
pub fn build_with(state: AppState, extra: Router<AppState>) -> Router {
    crate::guard::install();
    let limit = std::time::Duration::from_secs(state.settings.request_timeout_seconds);
    let routes = route_list();
    let ctx = state.clone();
    let shell_options = state.leptos_options.clone();
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let pages = Arc::new(crate::page_cache::PageCache::new(
        std::time::Duration::from_secs(state.settings.page_cache_seconds),
        state.sql.clone(),
        state.db.clone(),
    ));
    let scrape = (metrics.clone(), pages.clone());
    let bundle = crate::assets::Bundle::load(std::path::Path::new(
        state.leptos_options.site_root.as_ref(),
    ));
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(move |State(state): State<AppState>| {
                crate::metrics::handler(state, scrape.0.clone(), scrape.1.clone())
            }),
        )
        .route("/admin/audit.csv", get(crate::exports::audit_csv))
        .route("/admin/report.csv", get(crate::exports::report_csv))
        .route(
            "/admin/sponsor-report.csv",
            get(crate::exports::sponsor_report_csv),
        )
        .route(
            "/admin/sponsor-report/firms.csv",
            get(crate::exports::sponsor_firms_csv),
        )
        .route("/admin/startups.csv", get(crate::exports::startups_csv))
        .route("/admin/grants.csv", get(crate::exports::grants_csv))
        .route("/admin/users.csv", get(crate::exports::users_csv))
        .route("/admin/outbox.csv", get(crate::exports::outbox_csv))
        .route("/admin/sync.csv", get(crate::exports::sync_csv))
        .route("/admin/cohorts.csv", get(crate::exports::cohorts_csv))
        .route(
            "/admin/applications.csv",
            get(crate::exports::applications_csv),
        )
        .route("/admin/ledger.csv", get(crate::exports::ledger_csv))
        .route("/statements.csv", get(crate::exports::statements_csv))
        .route(
            "/admin/claims/{id}/jobs.csv",
            get(crate::exports::claim_jobs_csv),
        )
        .route(
            "/statements/{id}/jobs.csv",
            get(crate::exports::statement_jobs_csv),
        )
        .nest("/api/v1", crate::api::routes())
        .route("/api/{*fn_name}", axum::routing::any(unknown_server_fn))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(ctx.clone()),
            move || shell(shell_options.clone()),
        )
        .merge(extra)
        .fallback(move |state: State<AppState>, req: Request<Body>| {
            static_or_not_found(state, bundle.clone(), req)
        })
        .layer(middleware::from_fn(server_fn_status))
        .layer(middleware::from_fn(cross_origin_guard))
        .layer(middleware::from_fn_with_state(state.clone(), actor_cache))
        .layer(middleware::from_fn_with_state(
            state.settings.trusted_proxies.clone(),
            crate::client::layer,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            // Same-origin referers are what send a no-JS form back to its page.
            HeaderValue::from_static("same-origin"),
        ))
        .layer(middleware::from_fn_with_state(
            pages,
            crate::page_cache::layer,
        ))
        // Outside the page cache: what browsers may keep is not what the server keeps.
        .layer(middleware::from_fn(cache_control))
        .layer(middleware::from_fn(move |req, next| {
            crate::guard::layer(limit, req, next)
        }))
        .layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    // Around the whole router (a `Router::layer` runs after routing, per route): a rejected
    // no-JS form's page is drawn again by a request through all of it, like any other page.
    // Outermost, pages and exports are compressed for browsers that accept gzip (the bundle
    // comes compressed already: see `assets`).
    let forms = tower::ServiceBuilder::new()
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(middleware::from_fn(crate::nojs::layer))
        .service(app);
    Router::new().fallback_service(forms)
}

/// The app's routes, listed once per process. Listing them runs the whole app with resource
/// loading suppressed by a process-wide flag (leptos's `SuppressResourceLoad`): a page that
/// another thread is rendering at that moment waits forever for a resource first polled then
/// (leptos-rs/leptos#4773). With one listing, made before any router can serve, no render ever
/// overlaps it. (Tests build many routers at once in one process: 1 run in ~16 of a test file
/// had a page stuck until its time limit.)
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Below `/api/`, a path that names no server function. (Each server function has a route of
/// its own, which `leptos_routes_with_context` adds.)
async fn unknown_server_fn(req: Request<Body>) -> Response {
    let locale = domain::i18n::headers_locale(req.headers());
    (StatusCode::NOT_FOUND, locale.t("error.not_found")).into_response()
}

/// A server function's refusal carries its own status (401, 403, 404, 409, 422, 429) instead of
/// the 500 that server functions answer every error with: only real faults are 5xx.
async fn server_fn_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // The body is the error itself, a few hundred bytes of JSON.
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if let Ok(err) = serde_json::from_slice::<domain::error::AppError>(&bytes) {
        parts.status = err.status();
        if err == domain::error::AppError::RateLimited {
            // The limits count the last quarter of an hour (sign-in) or hour (sign-up).
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The bundle (see `assets`) and the other built files from the site root; anything else is
/// the app's own 404 page.
async fn static_or_not_found(
    State(state): State<AppState>,
    bundle: Arc<crate::assets::Bundle>,
    req: Request<Body>,
) -> Response {
    let root = state.leptos_options.site_root.to_string();
    let path = req.uri().path();
    let is_asset = path.starts_with("/pkg/") || path == "/favicon.svg";
    if is_asset {
        if let Some(res) = bundle.respond(path, req.method(), req.headers()).await {
            return res;
        }
        // wasm-bindgen's snippets and the icon: checked again on every use.
        let keep = if path == "/favicon.svg" {
            "public, max-age=86400"
        } else {
            "no-cache"
        };
        return match ServeDir::new(root).oneshot(req).await {
            Ok(mut res) => {
                if res.status().is_success() {
                    res.headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static(keep));
                }
                res.into_response()
            }
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        };
    }
    let options = state.leptos_options.clone();
    let ctx = state.clone();
    // Rendered whole before the first byte, like every page (`SsrMode::Async`), so a failure
    // while rendering becomes an error answer rather than a cut-off page.
    let handler = leptos_axum::render_app_async_with_context(
        move || provide_context(ctx.clone()),
        move || shell(options.clone()),
    );
    handler(req).await.into_response()
}

/// What browsers and proxies may keep. Anything answered to a signed-in person is theirs alone
/// (`private, no-store`: a shared computer's back button or a proxy must not show it to the
/// next person); other pages are revalidated every time (`no-cache`). Assets set their own.
async fn cache_control(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path == "/favicon.svg" {
        return next.run(req).await;
    }
    let personal =
        domain::i18n::cookie_in(req.headers(), app::auth::server_fns::ssr::SESSION_COOKIE)
            .is_some();
    let mut res = next.run(req).await;
    if res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let value = if personal {
        "private, no-store"
    } else if html {
        "no-cache"
    } else {
        return res;
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    res
}

/// Gives every request a cache for its signed-in person (see `ActorCache`). For a page, the
/// session is read before rendering starts: the shell names the person's time zone on the
/// document, and it cannot wait for a resource.
async fn actor_cache(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let cache = app::auth::server_fns::ssr::ActorCache::default();
    let path = req.uri().path();
    let page = matches!(*req.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && !matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.svg")
        && !path.ends_with(".csv");
    if page {
        if let Some(token) =
            domain::i18n::cookie_in(req.headers(), app::auth::server_fns::ssr::SESSION_COOKIE)
        {
            cache.fill(&state.db, &state.settings, &token).await;
        }
    }
    req.extensions_mut().insert(cache);
    next.run(req).await
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// CSRF defence for every state change: a browser says where a request comes from
/// (`Sec-Fetch-Site`, else `Origin`), and we refuse anything not from our own pages.
/// Session cookies are also `SameSite=Lax`, which covers browsers that send neither.
async fn cross_origin_guard(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let allowed = if let Some(site) = headers.get("sec-fetch-site") {
        matches!(site.to_str(), Ok("same-origin") | Ok("none"))
    } else if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        match (
            origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()),
            host,
        ) {
            (Some(origin), Some(host)) => {
                let origin_host = match origin.port() {
                    Some(port) => format!("{}:{port}", origin.host_str().unwrap_or("")),
                    None => origin.host_str().unwrap_or("").to_string(),
                };
                origin_host.eq_ignore_ascii_case(host)
            }
            _ => false,
        }
    } else {
        // Not a browser (no browser omits both on a cross-site POST): nothing ambient to abuse.
        true
    };
    if allowed {
        next.run(req).await
    } else {
        let locale = domain::i18n::headers_locale(headers);
        tracing::warn!(path = %req.uri().path(), "cross-site request refused");
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            locale.t("error.cross_site"),
        )
            .into_response()
    }
}
