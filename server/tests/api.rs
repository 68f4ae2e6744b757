//! The JSON API: tokens issued and revoked by admins, stored hashed, scoped; the read
//! endpoints; usage ingestion, idempotent per job; JSON errors, never a 5xx; the OpenAPI
//! document.
mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::auth::Role;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};

fn input_time(t: chrono::DateTime<Utc>) -> String {
    domain::time::Zone::default().input_value(&t)
}

struct Api {
    app: TestApp,
    admin: Jar,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ACCEPT, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let res = self.app.send(req).await;
        let value = serde_json::from_str(&res.body)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON ({}): {}", res.status, res.body));
        (res.status, value, res.headers)
    }

    /// Issues a token through the admin's form, as a browser without JavaScript would, and
    /// reads it off the page it returns to.
    async fn issue(&mut self, name: &str, scope: &str) -> String {
        let res = self
            .app
            .post_form(
                "/api/issue_api_token",
                "/admin/api-tokens",
                &[("name", name), ("scope", scope)],
                &mut self.admin,
            )
            .await;
        assert!(res.error_param().is_none(), "{:?}", res.error_param());
        let page = self.app.get("/admin/api-tokens", &self.admin).await;
        let start = page.body.find("hat_").expect("the new token is shown");
        page.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    }
}

async fn setup() -> (Api, i64, i64) {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let now = Utc::now();
    let startup = domain::startups::entity::startup::ActiveModel {
        name: Set("DeepPark AI".into()),
        credit_code: Set(None),
        sector: Set("language".parse::<domain::startups::Sector>().unwrap()),
        stage: Set("seed".parse::<domain::startups::Stage>().unwrap()),
        team_size: Set(5),
        website: Set(None),
        founders: Set("Li Lei".into()),
        status: Set(domain::startups::incubation::StartupStatus::Incubating),
        created_by: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let res = app
        .post_form(
            "/api/save_resource",
            "/admin",
            &[
                ("name", "Turing A800"),
                ("gpu_model", "A800"),
                ("backend", "none"),
                ("cluster", "turing"),
                ("account_pattern", "startup-{id}"),
                ("repair_mode", "auto"),
            ],
            &mut admin,
        )
        .await;
    assert_eq!(
        res.location(),
        "/admin/resources?notice=saved",
        "{:?}",
        res.error_param()
    );
    let resource = domain::credits::entity::resource::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = app
        .post_form(
            "/api/create_grant",
            "/admin",
            &[
                ("startup_id", &startup.id.to_string()),
                ("resource_id", &resource.to_string()),
                ("gpu_hours", "100"),
                ("valid_from", &input_time(now - Duration::days(1))),
                ("valid_until", &input_time(now + Duration::days(90))),
                ("reason", "Seed programme"),
            ],
            &mut admin,
        )
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    (Api { app, admin }, startup.id, resource)
}

#[tokio::test]
async fn tokens_read_the_park_and_push_usage_once_per_job() {
    let (mut api, startup, resource) = setup().await;
    let reader = api.issue("Dashboard sync", "read").await;
    let writer = api.issue("Slurm usage push", "write").await;
    assert_ne!(reader, writer);
    // Stored hashed: the database never holds the token.
    let rows = domain::admin::entity::api_token::Entity::find()
        .all(api.app.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_ne!(row.token_hash, reader);
        assert_ne!(row.token_hash, writer);
        assert!(!row.token_hash.contains("hat_"));
    }

    let (status, body, _) = api
        .call(
            "GET",
            "/api/v1/startups?status=incubating",
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["has_more"], false);
    assert_eq!(body["items"][0]["name"], "DeepPark AI");
    let (status, body, _) = api.call("GET", "/api/v1/grants", Some(&reader), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"][0]["remaining_minutes"], 6000);
    let grant = body["items"][0]["id"].as_i64().unwrap();
    let (status, body, _) = api
        .call("GET", "/api/v1/cohorts", Some(&reader), None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));

    // Usage: a read token may not write.
    let job = json!({
        "resource_id": resource, "startup_id": startup, "job_id": "4242",
        "gpu_minutes": 120, "ended_at": (Utc::now() - Duration::hours(1)).to_rfc3339(),
    })
    .to_string();
    let (status, body, _) = api
        .call("POST", "/api/v1/usage", Some(&reader), Some(&job))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "error.api_write_scope");

    // The write token records it once; sending it again changes nothing.
    let (status, body, _) = api
        .call("POST", "/api/v1/usage", Some(&writer), Some(&job))
        .await;
    assert_eq!(
        (status, &body["outcome"]),
        (StatusCode::CREATED, &json!("recorded"))
    );
    let (status, body, _) = api
        .call("POST", "/api/v1/usage", Some(&writer), Some(&job))
        .await;
    assert_eq!(
        (status, &body["outcome"]),
        (StatusCode::OK, &json!("duplicate"))
    );
    let (_, body, _) = api
        .call(
            "GET",
            &format!("/api/v1/grants/{grant}/ledger"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(body["grant"]["remaining_minutes"], 6000 - 120);
    assert_eq!(body["total"], 2);
    assert_eq!(body["items"][0]["kind"], "consumed");
    assert_eq!(body["items"][0]["external_ref"], "4242");
    // A job of a startup without a grant on the resource is reported, not counted.
    let other = domain::startups::entity::startup::ActiveModel {
        name: Set("Other".into()),
        credit_code: Set(None),
        sector: Set("language".parse::<domain::startups::Sector>().unwrap()),
        stage: Set("seed".parse::<domain::startups::Stage>().unwrap()),
        team_size: Set(1),
        website: Set(None),
        founders: Set("X".into()),
        status: Set(domain::startups::incubation::StartupStatus::Incubating),
        created_by: Set(1),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(api.app.db())
    .await
    .unwrap();
    let orphan = json!({
        "resource_id": resource, "startup_id": other.id, "job_id": "4343",
        "gpu_minutes": 120, "ended_at": (Utc::now() - Duration::hours(1)).to_rfc3339(),
    })
    .to_string();
    let (status, body, _) = api
        .call("POST", "/api/v1/usage", Some(&writer), Some(&orphan))
        .await;
    assert_eq!(
        (status, &body["outcome"]),
        (StatusCode::OK, &json!("no_grant"))
    );

    // The admin's page shows when each token was last used.
    let page = api.app.get("/admin/api-tokens", &api.admin).await;
    assert!(page.body.contains("Slurm usage push"));
    assert!(!page.body.contains("Never"), "both tokens were used");
}

#[tokio::test]
async fn bad_requests_get_json_errors_and_change_nothing() {
    let (mut api, startup, resource) = setup().await;
    let writer = api.issue("Slurm usage push", "write").await;
    let entries = || async {
        domain::credits::entity::ledger::Entity::find()
            .all(api.app.db())
            .await
            .unwrap()
            .len()
    };
    let before = entries().await;

    // No token, a wrong one, a malformed header: 401 with a JSON body and a challenge.
    for token in [None, Some("hat_0000"), Some("not-a-token")] {
        let (status, body, headers) = api.call("GET", "/api/v1/grants", token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(body["error"]["code"], "error.api_unauthenticated");
        assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
    }
    let ended = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        ("{not json".into(), StatusCode::BAD_REQUEST, "error.api_bad_request", Some("body")),
        (json!({"resource_id": resource}).to_string(), StatusCode::BAD_REQUEST, "error.api_bad_request", Some("body")),
        (json!({"resource_id": resource, "startup_id": startup, "job_id": "1", "gpu_minutes": "many", "ended_at": ended}).to_string(), StatusCode::BAD_REQUEST, "error.api_bad_request", Some("body")),
        (json!({"resource_id": resource, "startup_id": startup, "job_id": "1", "gpu_minutes": 5.5, "ended_at": ended}).to_string(), StatusCode::BAD_REQUEST, "error.api_bad_request", Some("body")),
        (json!({"resource_id": resource, "startup_id": startup, "job_id": "1", "gpu_minutes": 0, "ended_at": ended}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "error.gpu_minutes_invalid", Some("gpu_minutes")),
        (json!({"resource_id": resource, "startup_id": startup, "job_id": " ", "gpu_minutes": 5, "ended_at": ended}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "error.job_id_invalid", Some("job_id")),
        (json!({"resource_id": resource, "startup_id": startup, "job_id": "1", "gpu_minutes": 5, "ended_at": future}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "error.ended_in_future", Some("ended_at")),
        (json!({"resource_id": 999, "startup_id": startup, "job_id": "1", "gpu_minutes": 5, "ended_at": ended}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "error.resource_unknown", Some("resource_id")),
        (json!({"resource_id": resource, "startup_id": 999, "job_id": "1", "gpu_minutes": 5, "ended_at": ended}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "error.startup_unknown", Some("startup_id")),
    ];
    for (body, status, code, field) in cases {
        let (got, answer, _) = api
            .call("POST", "/api/v1/usage", Some(&writer), Some(&body))
            .await;
        assert_eq!(got, status, "{body}");
        assert_eq!(answer["error"]["code"], code, "{body}");
        assert_eq!(answer["error"]["field"].as_str(), field, "{body}");
    }
    let (status, body, _) = api
        .call("GET", "/api/v1/grants?page=lots", Some(&writer), None)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("error.api_bad_request"))
    );
    let (status, body, _) = api
        .call("GET", "/api/v1/grants/999/ledger", Some(&writer), None)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("error.not_found"))
    );
    let (status, _, _) = api
        .call("GET", "/api/v1/nothing-here", Some(&writer), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(entries().await, before, "nothing was written");

    // Messages follow Accept-Language.
    let req = Request::get("/api/v1/grants")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ACCEPT_LANGUAGE, "zh-CN")
        .body(Body::empty())
        .unwrap();
    let res = api.app.send(req).await;
    assert!(res.body.contains("API 令牌"), "{}", res.body);

    // Revoked: refused from then on. And a token dies with its issuer's admin role.
    let id = domain::admin::entity::api_token::Entity::find()
        .one(api.app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = api
        .app
        .post_form(
            "/api/revoke_api_token",
            "/admin/api-tokens",
            &[("id", &id.to_string())],
            &mut api.admin,
        )
        .await;
    assert_eq!(res.location(), "/admin/api-tokens?notice=token_revoked");
    let (status, _, _) = api.call("GET", "/api/v1/grants", Some(&writer), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let res = api
        .app
        .post_form(
            "/api/revoke_api_token",
            "/admin/api-tokens",
            &[("id", &id.to_string())],
            &mut api.admin,
        )
        .await;
    assert_eq!(res.error_key(), "error.token_revoked");

    let other = api.issue("Reports", "read").await;
    let admin_id = api.app.actor("admin@park.cn").await.user_id;
    domain::auth::entity::user_role::Entity::delete_many()
        .filter(sea_orm::ColumnTrait::eq(
            &domain::auth::entity::user_role::Column::UserId,
            admin_id,
        ))
        .exec(api.app.db())
        .await
        .unwrap();
    let (status, body, _) = api.call("GET", "/api/v1/grants", Some(&other), None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("error.forbidden"))
    );
}

#[tokio::test]
async fn only_admins_issue_tokens_and_the_openapi_document_describes_the_api() {
    let (api, _, _) = setup().await;
    let (founder_id, mut founder) = {
        let id = api
            .app
            .user_with_roles("founder@x.cn", "Founder", &[Role::Applicant])
            .await;
        (
            id,
            api.app
                .sign_in("founder@x.cn", "correct horse battery")
                .await,
        )
    };
    assert!(founder_id > 0);
    let res = api
        .app
        .post_form(
            "/api/issue_api_token",
            "/admin/api-tokens",
            &[("name", "mine"), ("scope", "write")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_param(), Some(domain::error::AppError::Forbidden));
    assert_eq!(
        api.app.get("/admin/api-tokens", &founder).await.status,
        StatusCode::FORBIDDEN
    );
    let mut admin = api.admin.clone();
    let res = api
        .app
        .post_form(
            "/api/issue_api_token",
            "/admin/api-tokens",
            &[("name", ""), ("scope", "write")],
            &mut admin,
        )
        .await;
    assert_eq!(
        res.error_param(),
        Some(domain::error::AppError::invalid(
            "name",
            "error.field_required"
        ))
    );
    let res = api
        .app
        .post_form(
            "/api/issue_api_token",
            "/admin/api-tokens",
            &[("name", "x"), ("scope", "root")],
            &mut admin,
        )
        .await;
    assert_eq!(
        res.error_param(),
        Some(domain::error::AppError::invalid(
            "scope",
            "error.scope_invalid"
        ))
    );
    assert_eq!(
        api.app
            .count(domain::admin::entity::api_token::Entity)
            .await,
        0
    );

    let (status, doc, _) = api.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/startups",
        "/api/v1/grants",
        "/api/v1/grants/{id}/ledger",
        "/api/v1/cohorts",
        "/api/v1/statements",
        "/api/v1/statements/{id}",
        "/api/v1/claims",
        "/api/v1/claims/{id}",
        "/api/v1/usage",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["UsageReport"]["properties"]["job_id"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn tokens_read_statements_with_their_jobs() {
    let (mut api, startup, resource) = setup().await;
    let today = domain::time::Zone::default().today();
    let mut admin = api.admin.clone();
    let res = api
        .app
        .post_form(
            "/api/add_price",
            "/admin",
            &[
                ("resource_id", &resource.to_string()),
                ("yuan_per_gpu_hour", "12.50"),
                ("starts_on", &today.to_string()),
            ],
            &mut admin,
        )
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    // 2 GPU-hours at ¥12.50, on credit.
    domain::credits::grants::record_usage(
        api.app.db(),
        &api.app.state.settings,
        startup,
        resource,
        "turing:9001:0",
        120,
        Utc::now() - Duration::minutes(1),
    )
    .await
    .unwrap();
    let month = today.format("%Y-%m").to_string();
    let res = api
        .app
        .post_form(
            "/api/prepare_statements",
            "/statements",
            &[("period", &month)],
            &mut admin,
        )
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    domain::settlement::statements::run_due(api.app.db(), api.app.state.settings.park_zone, 10)
        .await
        .unwrap();
    let reader = api.issue("Finance", "read").await;

    let (status, page, _) = api
        .call(
            "GET",
            &format!("/api/v1/statements?month={month}&status=draft"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let item = &page["items"][0];
    assert_eq!(item["month"], json!(month));
    assert_eq!(item["jobs"], json!(1));
    assert_eq!(item["amount_fen"], json!(2_500));
    assert_eq!(item["park_credit_fen"], json!(2_500));
    assert_eq!(item["own_fen"], json!(0));
    let id = item["id"].as_i64().unwrap();
    let (status, d, _) = api
        .call(
            "GET",
            &format!("/api/v1/statements/{id}"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["jobs"][0]["job"], json!("turing:9001:0"));
    assert_eq!(d["jobs"][0]["fen_per_gpu_hour"], json!(1_250));

    for (path, want) in [
        (
            "/api/v1/statements?month=2027-13",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/statements?status=lost",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/api/v1/statements/999999", StatusCode::NOT_FOUND),
        ("/api/v1/statements/x", StatusCode::BAD_REQUEST),
    ] {
        let (status, body, _) = api.call("GET", path, Some(&reader), None).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    let (status, _, _) = api.call("GET", "/api/v1/statements", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
