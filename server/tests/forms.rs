//! Forms that help (issue 16, items 6–9), through the router: a title per page, every field's
//! fault at once and marked at its field, a rejected no-JS form drawn again with what was
//! typed, and page addresses that do not grow.
mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Jar, TestApp};
use domain::error::AppError;

fn title(body: &str) -> &str {
    let start = body.find("<title>").map(|i| i + 7).unwrap_or(0);
    let end = body[start..]
        .find("</title>")
        .map(|i| start + i)
        .unwrap_or(start);
    &body[start..end]
}

#[tokio::test]
async fn every_page_has_its_own_translated_title() {
    let app = TestApp::new().await;
    let en = Jar::default();
    let zh = Jar::chinese();
    for (path, english, chinese) in [
        (
            "/",
            "Open intake rounds · Hatchery",
            "开放的申请轮次 · Hatchery",
        ),
        ("/login", "Sign in · Hatchery", "登录 · Hatchery"),
        (
            "/register",
            "Create an account · Hatchery",
            "注册账户 · Hatchery",
        ),
        (
            "/cohorts",
            "Training cohorts · Hatchery",
            "培训班 · Hatchery",
        ),
        ("/admin/grants", "Grants · Hatchery", "额度发放 · Hatchery"),
        (
            "/nowhere",
            "Page not found · Hatchery",
            "页面不存在 · Hatchery",
        ),
    ] {
        let page = app.get(path, &en).await;
        assert_eq!(title(&page.body), english, "{path}");
        let page = app.get(path, &zh).await;
        assert_eq!(title(&page.body), chinese, "{path}");
    }
}

#[tokio::test]
async fn an_empty_form_names_every_field_at_once() {
    let app = TestApp::new().await;
    let mut jar = Jar::default();
    let res = app
        .post_form(
            "/api/register",
            "/register",
            &[("name", ""), ("email", ""), ("password", "")],
            &mut jar,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let err = res.error_param().expect("the error comes back");
    assert_eq!(
        err.field_errors(),
        vec![
            ("name", "error.name_required"),
            ("email", "error.email_required"),
            ("password", "error.password_required"),
        ]
    );
    // Each field is marked and described by its own message; the banner lists all three.
    for field in ["name", "email", "password"] {
        assert!(
            res.body.contains(&format!("id=\"f-{field}-error\"")),
            "{field}: {}",
            res.body
        );
    }
    assert_eq!(res.body.matches("aria-invalid=\"true\"").count(), 3);
    assert!(res.body.contains("Please correct these 3 fields:"));
    assert!(res.body.contains("Please enter your name"));
    assert_eq!(app.count(domain::auth::entity::user::Entity).await, 0);

    // In Chinese, with the count in the sentence.
    let mut zh = Jar::chinese();
    let res = app
        .post_form(
            "/api/register",
            "/register",
            &[("name", ""), ("email", "x"), ("password", "")],
            &mut zh,
        )
        .await;
    assert!(res.body.contains("请修改以下 3 项"), "{}", res.body);
}

#[tokio::test]
async fn a_rejected_form_without_javascript_comes_back_with_what_was_typed() {
    let app = TestApp::new().await;
    let mut jar = Jar::default();
    let res = app
        .post_form(
            "/api/register",
            "/register",
            &[
                ("name", "Lin <Typed> & Co"),
                ("email", "not-an-email"),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_key(), "error.email_invalid");
    // The page of the form, drawn with what was typed (escaped), never the password.
    assert!(
        res.body.contains("value=\"Lin &lt;Typed&gt; &amp; Co\""),
        "{}",
        res.body
    );
    assert!(res.body.contains("value=\"not-an-email\""));
    assert!(!res.body.contains("correct horse battery"));
    assert_eq!(
        res.headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some("no-cache")
    );
    let address = res
        .redrawn_address()
        .expect("the page's address is restored");
    assert!(address.starts_with("/register?"), "{address}");
    assert_eq!(address.matches("__err=").count(), 1);

    // From that page (its address carries the error), another rejection: still one error.
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("__page", address.as_str()),
            ("name", "Lin"),
            ("email", "lin@example.com"),
            ("password", "short"),
        ])
        .finish();
    let req = Request::post("/api/register")
        .header(header::HOST, "127.0.0.1:3000")
        .header("sec-fetch-site", "same-origin")
        // Without JavaScript the address bar still shows the form's own address.
        .header(header::REFERER, "http://127.0.0.1:3000/api/register")
        .header(header::ACCEPT, "text/html")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.error_key(), "error.password_short");
    let address = res.redrawn_address().unwrap();
    assert!(address.starts_with("/register?"), "{address}");
    assert_eq!(address.matches("__err=").count(), 1, "{address}");
    assert_eq!(address.matches("__path=").count(), 1, "{address}");
    assert!(res.body.contains("value=\"Lin\""));

    // Accepted at last: back to the page it came from, as before.
    let res = app
        .post_form(
            "/api/register",
            "/register",
            &[
                ("__page", "/register"),
                ("name", "Lin"),
                ("email", "lin@example.com"),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=registered", "{}", res.body);
}

#[tokio::test]
async fn the_page_field_is_taken_out_before_the_server_function_reads_the_form() {
    let app = TestApp::new().await;
    // As the wasm bundle sends it: JSON answers, the `__page` field among the fields.
    let body = "__page=%2Fforgot&email=someone%40example.com";
    let req = Request::post("/api/forgot_password")
        .header(header::HOST, "127.0.0.1:3000")
        .header("sec-fetch-site", "same-origin")
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert!(
        res.status.is_success() || res.status.is_redirection(),
        "{} {}",
        res.status,
        res.body
    );

    // A page address that leaves the site is not followed.
    let mut jar = Jar::default();
    let res = app
        .post_form(
            "/api/register",
            "/register",
            &[
                ("__page", "//evil.example/x"),
                ("name", ""),
                ("email", ""),
                ("password", ""),
            ],
            &mut jar,
        )
        .await;
    let address = res.redrawn_address().unwrap();
    assert!(address.starts_with("/register?"), "{address}");
}

#[tokio::test]
async fn several_faults_of_a_startup_profile_come_at_once_and_change_nothing() {
    let app = TestApp::new().await;
    let mut jar = app.signed_in_applicant("ada@example.com", "Ada").await;
    let res = app
        .post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", ""),
                ("credit_code", ""),
                ("sector", "nonsense"),
                ("stage", "seed"),
                ("team_size", "0"),
                ("website", "ftp://x"),
                ("founders", "Ada\nBob"),
            ],
            &mut jar,
        )
        .await;
    let err = res.error_param().expect("an error");
    let fields: Vec<&str> = err.field_errors().into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        vec!["name", "sector", "team_size", "website"],
        "{err:?}"
    );
    assert!(matches!(err, AppError::InvalidFields { .. }));
    // What was typed is back in its fields, the textarea's lines included.
    assert!(res.body.contains("value=\"ftp://x\""), "{}", res.body);
    assert!(res.body.contains("Ada\nBob</textarea>"));
    assert_eq!(
        app.count(domain::startups::entity::startup::Entity).await,
        0
    );
}
