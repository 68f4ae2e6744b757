//! No request waits forever: a panic in a handler or in a page's resource becomes a 500 page at
//! once, a stuck request an error page at its time limit; and the inputs that used to panic
//! (a huge grant's forecast, a ledger page past any integer) are answered normally.
mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use chrono::{Duration, Utc};
use common::TestApp;
use leptos::prelude::*;
use std::time::Instant;
use tower::ServiceExt;

/// A page whose data comes from a resource that panics, as a page's server call would.
#[component]
fn PanickingPage() -> impl IntoView {
    let data = Resource::new(
        || (),
        |_| async move {
            tokio::task::yield_now().await;
            if std::hint::black_box(true) {
                panic!("a resource that fails on purpose");
            }
            String::new()
        },
    );
    view! { <Suspense fallback=|| ()>{move || data.get()}</Suspense> }
}

async fn app_with_faulty_routes(timeout_seconds: &str) -> (TestApp, Router) {
    let app = TestApp::with_env(&[("HATCHERY_REQUEST_TIMEOUT_SECONDS", timeout_seconds)]).await;
    let page = leptos_axum::render_app_async_with_context(|| (), PanickingPage);
    let extra: Router<app::state::AppState> = Router::new()
        .route(
            "/test/panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("a handler that fails on purpose");
                }
                "unreachable"
            }),
        )
        .route("/test/stuck", get(std::future::pending::<String>))
        .route(
            "/test/resource-panic",
            get(move |req: Request<Body>| page(req)),
        );
    let router = hatchery::router::build_with(app.state.clone(), extra);
    (app, router)
}

async fn get_page(router: &Router, path: &str, lang: &str) -> (StatusCode, String, f64) {
    let started = Instant::now();
    let req = Request::get(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ACCEPT, "text/html")
        .header(header::ACCEPT_LANGUAGE, lang)
        .body(Body::empty())
        .unwrap();
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        router.clone().oneshot(req),
    )
    .await
    .unwrap_or_else(|_| panic!("{path} hung for a minute"))
    .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        started.elapsed().as_secs_f64(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_becomes_an_error_page_at_once() {
    // A long limit: the answers below must come from the panic, not from the limit.
    let (_app, router) = app_with_faulty_routes("30").await;
    for path in ["/test/panic", "/test/resource-panic"] {
        let (status, body, secs) = get_page(&router, path, "en").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {body}");
        assert!(
            body.contains("Something went wrong on our side"),
            "{path}: {body}"
        );
        assert!(secs < 5.0, "{path} answered after {secs} s");
    }
    let (status, body, _) = get_page(&router, "/test/resource-panic", "zh-CN").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("系统出现问题"), "{body}");
    // The server goes on answering.
    let (status, _, _) = get_page(&router, "/healthz", "en").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_stuck_request_is_answered_at_its_time_limit() {
    let (_app, router) = app_with_faulty_routes("1").await;
    let (status, body, secs) = get_page(&router, "/test/stuck", "en").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("took too long"), "{body}");
    assert!((1.0..5.0).contains(&secs), "answered after {secs} s");
    let (status, body, _) = get_page(&router, "/test/stuck", "zh-CN").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("处理时间过长"), "{body}");
}

/// A 2,000,000 GPU-hour grant with 20 GPU-minutes used: its exhaustion forecast lay past any
/// date, and computing it panicked, so every page showing the grant hung.
#[tokio::test]
async fn a_huge_grant_with_a_little_use_shows_everywhere() {
    let app = TestApp::new().await;
    let park = app.credit_park("2000000").await;
    let job = serde_json::json!({
        "resource_id": park.resource, "startup_id": park.startup, "job_id": "1",
        "gpu_minutes": 20, "ended_at": (Utc::now() - Duration::hours(1)).to_rfc3339(),
    });
    let res = app
        .api("POST", "/api/v1/usage", &park.token, Some(job.to_string()))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    for (path, jar) in [
        (format!("/startups/{}", park.startup), &park.admin),
        (format!("/admin/grants/{}", park.grant), &park.admin),
        ("/credits".to_string(), &park.founder),
    ] {
        let page = app.get(&path, jar).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.body.contains("2,000,000") || page.body.contains("2000000"),
            "{path}"
        );
    }
    let res = app
        .api(
            "GET",
            &format!("/api/v1/grants/{}/ledger", park.grant),
            &park.token,
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // A ledger page past any integer is refused, not a panic.
    for page in ["9223372036854775808", "184467440737095516", "2001"] {
        let res = app
            .api(
                "GET",
                &format!("/api/v1/grants/{}/ledger?page={page}", park.grant),
                &park.token,
                None,
            )
            .await;
        assert!(
            res.status.is_client_error(),
            "page {page}: {} {}",
            res.status,
            res.body
        );
        assert!(res.body.contains("\"error\""), "page {page}: {}", res.body);
    }
}

/// A server function called from the page's script (no redirect back): refusals carry their
/// own 4xx status, only faults are 5xx; an unknown function is 404.
#[tokio::test]
async fn refusals_are_4xx_and_only_faults_5xx() {
    let app = TestApp::new().await;
    let park = app.credit_park("10").await;
    let (_, applicant) = app.person("wu@x.cn", "Wu", "applicant").await;
    let admin = park.admin.clone();
    let call = |path: &'static str, body: &'static str, jar: common::Jar| {
        let app = &app;
        async move {
            let req = Request::post(path)
                .header(header::HOST, "127.0.0.1:3000")
                .header(header::ORIGIN, common::ORIGIN)
                .header("sec-fetch-site", "same-origin")
                .header(header::ACCEPT, "application/json")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, jar.header())
                .body(Body::from(body))
                .unwrap();
            app.send(req).await
        }
    };
    let anonymous = common::Jar::default();
    let cases = [
        (
            "/api/park_overview",
            "",
            anonymous.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/park_overview",
            "",
            applicant.clone(),
            StatusCode::FORBIDDEN,
        ),
        ("/api/park_overview", "", admin.clone(), StatusCode::OK),
        (
            "/api/add_startup_note",
            "id=999&body=x",
            admin.clone(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/save_affiliations",
            "affiliations=x",
            admin.clone(),
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/create_grant",
            "startup_id=1&resource_id=1&gpu_hours=lots&valid_from=&valid_until=&reason=",
            admin.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/api/x1", "", admin.clone(), StatusCode::NOT_FOUND),
    ];
    for (path, body, jar, status) in cases {
        let res = call(path, body, jar).await;
        assert_eq!(res.status, status, "{path} {body}: {}", res.body);
    }
    // The API's own refusals are JSON, axum's included.
    for (method, path, status) in [
        ("GET", "/api/v1/grants/abc/ledger", StatusCode::BAD_REQUEST),
        ("DELETE", "/api/v1/grants", StatusCode::METHOD_NOT_ALLOWED),
        ("GET", "/api/v1/nothing-here", StatusCode::NOT_FOUND),
    ] {
        let res = app.api(method, path, &park.token, None).await;
        assert_eq!(res.status, status, "{method} {path}");
        let body: serde_json::Value = serde_json::from_str(&res.body)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {}", res.body));
        assert!(body["error"]["message"].as_str().is_some(), "{}", res.body);
    }
}

/// Anonymous requests to made-up paths and methods add no metric series: only known routes
/// and methods are labels, the rest is `/api/unknown`, `unmatched` and `other`.
#[tokio::test]
async fn made_up_paths_and_methods_do_not_grow_the_metrics() {
    let app = TestApp::new().await;
    let series = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("hatchery_http_request_duration_seconds_count"))
            .count()
    };
    let scrape = || async {
        let req = Request::get("/metrics").body(Body::empty()).unwrap();
        app.send(req).await.body
    };
    for i in 0..3 {
        let req = Request::post(format!("/api/x{i}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::NOT_FOUND);
    }
    let before = series(&scrape().await);
    for i in 0..200 {
        let req = Request::post(format!("/api/x{i}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::NOT_FOUND);
        let req = Request::builder()
            .method(format!("FOO{}", i % 50).as_str())
            .uri(format!("/nowhere/{i}"))
            .body(Body::empty())
            .unwrap();
        app.send(req).await;
    }
    let text = scrape().await;
    assert!(series(&text) <= before + 3, "{text}");
    assert!(!text.contains("/api/x1") && !text.contains("FOO"), "{text}");
}

/// Admin pages that are forms (a new round, a new cohort, the report) refuse visitors who are
/// not admins like every other admin page; personal pages are never stored by browsers or
/// proxies.
#[tokio::test]
async fn admin_forms_refuse_others_and_personal_pages_are_not_stored() {
    let app = TestApp::new().await;
    let (_, admin) = app.person("ops@park.cn", "Ops", "admin").await;
    let (_, applicant) = app.person("li@x.cn", "Li", "applicant").await;
    let anonymous = common::Jar::default();
    for (path, field) in [
        ("/admin/report", "id=\"f-from\""),
        ("/admin/rounds/new", "name=\"title_en\""),
        ("/admin/cohorts/new", "name=\"title_en\""),
    ] {
        let page = app.get(path, &anonymous).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(page.body.contains("href=\"/login\""), "{path}");
        assert!(!page.body.contains(field), "{path}: no form for visitors");
        let page = app.get(path, &applicant).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        let page = app.get(path, &admin).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains(field), "{path}");
        assert_eq!(page.headers["cache-control"], "private, no-store", "{path}");
    }
    let page = app.get("/", &anonymous).await;
    assert_eq!(page.headers["cache-control"], "no-cache");
    let page = app.get("/dashboard", &applicant).await;
    assert_eq!(page.headers["cache-control"], "private, no-store");
}

/// Pages rendered side by side on two threads, as under load: every one answers 200 with its
/// own title. (Found by the page benchmark: the document's title read the router's signals
/// after they were gone, a panic in about 1 request in 50 at 50 connections.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_pages_at_once_all_render() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[domain::auth::Role::Admin])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let cookie = admin.header();
    let pages = [
        ("/admin/startups", "Startups"),
        ("/dashboard", "Dashboard"),
        ("/admin/grants", "Grants"),
        ("/login", "Sign in"),
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..40 {
        let router = app.router.clone();
        let cookie = cookie.clone();
        tasks.spawn(async move {
            let mut failures = Vec::new();
            for round in 0..10 {
                let (path, title) = pages[(worker + round) % pages.len()];
                let req = Request::get(path)
                    .header(header::HOST, "127.0.0.1:3000")
                    .header(header::ACCEPT, "text/html")
                    .header(header::ACCEPT_LANGUAGE, "en")
                    .header(header::COOKIE, cookie.clone())
                    .body(Body::empty())
                    .unwrap();
                let res = router.clone().oneshot(req).await.unwrap();
                let status = res.status();
                let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .unwrap();
                let body = String::from_utf8_lossy(&body);
                if status != StatusCode::OK || !body.contains(&format!("<title>{title} · ")) {
                    let shown = body
                        .split("<title>")
                        .nth(1)
                        .and_then(|t| t.split("</title>").next())
                        .unwrap_or_default()
                        .to_string();
                    failures.push(format!("{path}: {status} {shown}"));
                }
            }
            failures
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        failures.extend(done.unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} of 400 failed: {failures:?}",
        failures.len()
    );
}
