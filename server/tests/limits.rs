//! Sign-in, sign-up and password-reset limits: counted atomically, per client address as the
//! configured proxies report it, refused with 429 and `Retry-After`.
mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use common::{TestApp, ORIGIN};
use domain::auth::entity::login_attempt;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::net::SocketAddr;
use tower::ServiceExt;

/// A form posted by the page's script from `peer`, through a proxy when `forwarded_for` is set.
fn call(path: &str, body: String, peer: &str, forwarded_for: Option<&str>) -> Request<Body> {
    let mut req = Request::post(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "same-origin")
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let mut req = req.body(Body::from(body)).unwrap();
    let peer: SocketAddr = format!("{peer}:50000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

/// 20 wrong passwords for one account at the same moment: only the limit's worth are checked,
/// the rest are refused with 429 before any password is looked at.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_guesses_are_counted_one_by_one() {
    let app = TestApp::new().await;
    app.user_with_roles("li@x.cn", "Li", &[domain::auth::Role::Applicant])
        .await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let router = app.router.clone();
        let req = call(
            "/api/login",
            format!("email=li%40x.cn&password=wrong{i}"),
            "198.51.100.7",
            None,
        );
        tasks.spawn(async move { router.oneshot(req).await.unwrap() });
    }
    let mut statuses = Vec::new();
    while let Some(res) = tasks.join_next().await {
        let res = res.unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(res.headers()[header::RETRY_AFTER], "900");
        }
        statuses.push(res.status().as_u16());
    }
    statuses.sort();
    let limit = domain::auth::limits::MAX_FAILED_LOGINS_PER_EMAIL as usize;
    assert_eq!(
        statuses,
        [vec![422; limit], vec![429; 20 - limit]].concat(),
        "checked, then refused"
    );
    let attempts = login_attempt::Entity::find()
        .filter(login_attempt::Column::Email.eq("li@x.cn"))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(attempts as usize, limit);
}

/// Behind a proxy every connection comes from the proxy: the client is the address the trusted
/// proxy reports, so one client's bad passwords lock out that client, not everyone.
#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let app = TestApp::with_env(&[("HATCHERY_TRUSTED_PROXIES", "10.0.0.0/8")]).await;
    app.user_with_roles("li@x.cn", "Li", &[domain::auth::Role::Applicant])
        .await;
    // 203.0.113.5 has used up its client limit, with other accounts' addresses.
    for i in 0..domain::auth::limits::MAX_FAILED_LOGINS_PER_IP {
        login_attempt::ActiveModel {
            email: Set(format!("guess{i}@x.cn")),
            ip: Set("203.0.113.5".into()),
            succeeded: Set(false),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
    let body = || "email=li%40x.cn&password=correct+horse+battery".to_string();
    let res = app
        .send(call("/api/login", body(), "10.0.0.2", Some("203.0.113.5")))
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client through the same proxy signs in.
    let res = app
        .send(call("/api/login", body(), "10.0.0.2", Some("203.0.113.6")))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // A client that is not a trusted proxy cannot pick its address.
    let res = app
        .send(call(
            "/api/login",
            body(),
            "198.51.100.1",
            Some("203.0.113.5"),
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let recorded: Vec<String> = login_attempt::Entity::find()
        .filter(login_attempt::Column::Email.eq("li@x.cn"))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.ip)
        .collect();
    assert_eq!(recorded, ["203.0.113.6", "198.51.100.1"]);
}

/// Sign-ups and reset requests from one address are limited per hour; another address is not.
#[tokio::test]
async fn sign_ups_and_reset_requests_are_limited_per_address() {
    let app = TestApp::new().await;
    let register = |i: u64, peer: &str| {
        call(
            "/api/register",
            format!("name=Person+{i}&email=p{i}%40x.cn&password=correct+horse+battery"),
            peer,
            None,
        )
    };
    for i in 0..domain::auth::limits::MAX_REGISTRATIONS_PER_HOUR {
        let res = app.send(register(i, "198.51.100.1")).await;
        assert_eq!(res.status, StatusCode::OK, "sign-up {i}: {}", res.body);
    }
    let res = app.send(register(99, "198.51.100.1")).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers[header::RETRY_AFTER], "900");
    let users = app.count(domain::auth::entity::user::Entity).await;
    let res = app.send(register(100, "198.51.100.2")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        app.count(domain::auth::entity::user::Entity).await,
        users + 1
    );

    let forgot = |peer: &str| call("/api/forgot_password", "email=p1%40x.cn".into(), peer, None);
    for _ in 0..domain::auth::limits::MAX_RESET_REQUESTS_PER_HOUR {
        assert_eq!(
            app.send(forgot("198.51.100.3")).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.send(forgot("198.51.100.3")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
