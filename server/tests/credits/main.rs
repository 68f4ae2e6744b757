//! GPU credit: resources, grants and the ledger, the sync outbox and its backends, tranches,
//! reconciliation and balances, one file per subject; here the park they start from, the
//! helpers they share and the far side of the HTTP contract.
#[path = "../common/mod.rs"]
mod common;

mod balance;
mod figures;
mod grants;
mod http_contract;
mod prices;
mod programmes;
mod random_ledger;
mod reconcile;
mod resources;
mod statements;
mod sync;
mod tranches;

use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::auth::Role;
use domain::credits::entity::tranche;
use domain::credits::entity::{grant, ledger, resource, sync_job};
use domain::error::AppError;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

fn input_time(t: chrono::DateTime<Utc>) -> String {
    domain::time::Zone::default().input_value(&t)
}

/// An admin, and an incubating startup whose founder has a cluster login.
struct Park {
    app: TestApp,
    admin: Jar,
    founder: Jar,
    startup: i64,
}

async fn park() -> Park {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let startup = incubating(&app, "li@deeppark.cn", "DeepPark AI", Some("lilei")).await;
    let founder = app.sign_in("li@deeppark.cn", "correct horse battery").await;
    Park {
        app,
        admin,
        founder,
        startup,
    }
}

/// A startup with one founder, admitted (as an intake decision does).
async fn incubating(app: &TestApp, email: &str, name: &str, login: Option<&str>) -> i64 {
    app.incubating_startup(email, name, name, login).await
}

async fn post(p: &mut Park, path: &str, fields: &[(&str, &str)]) -> common::TestResponse {
    p.app.post_form(path, "/admin", fields, &mut p.admin).await
}

/// An admin asks for a month's statements, and the worker's pass prepares them.
async fn prepare(p: &mut Park, month: &str) -> common::TestResponse {
    let res = post(p, "/api/prepare_statements", &[("period", month)]).await;
    let ran =
        domain::settlement::statements::run_due(p.app.db(), p.app.state.settings.park_zone, 10)
            .await
            .unwrap();
    assert!(res.error_param().is_some() || ran == 1, "the request ran");
    res
}

async fn add_resource(
    p: &mut Park,
    name: &str,
    backend: &str,
    base_url: &str,
    secret: &str,
) -> i64 {
    let res = post(
        p,
        "/api/save_resource",
        &[
            ("name", name),
            ("gpu_model", "H100"),
            ("backend", backend),
            ("cluster", "ci"),
            ("account_pattern", "startup-{id}"),
            ("base_url", base_url),
            ("secret", secret),
            ("repair_mode", "approve"),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        "/admin/resources?notice=saved",
        "{:?}",
        res.error_param()
    );
    resource::Entity::find()
        .filter(resource::Column::Name.eq(name))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn grant_hours(
    p: &mut Park,
    startup: i64,
    resource: i64,
    hours: &str,
) -> common::TestResponse {
    let from = input_time(Utc::now() - Duration::hours(1));
    let until = input_time(Utc::now() + Duration::days(90));
    post(
        p,
        "/api/create_grant",
        &[
            ("startup_id", &startup.to_string()),
            ("resource_id", &resource.to_string()),
            ("gpu_hours", hours),
            ("valid_from", &from),
            ("valid_until", &until),
            ("reason", "Seed programme"),
        ],
    )
    .await
}

fn desired_limit(job: &sync_job::Model) -> i64 {
    serde_json::from_str::<domain::cluster::backend::Desired>(&job.desired)
        .unwrap()
        .limit_minutes
}

async fn newest_job(app: &TestApp) -> sync_job::Model {
    sync_job::Entity::find()
        .order_by_desc(sync_job::Column::Id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

/// The far side of the HTTP allocation contract (docs/allocation-api.yaml), as a platform
/// would implement it: it checks every signature, remembers idempotency keys, and keeps the
/// allocations and finished jobs in memory.
mod platform {
    use axum::body::Bytes;
    use axum::extract::{Path, Query, State};
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::{Json, Router};
    use domain::cluster::backend::http::{signature, AllocationBody};
    use serde_json::json;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    pub struct Platform {
        pub secret: String,
        pub allocations: Mutex<BTreeMap<String, AllocationBody>>,
        /// Idempotency key → the body first sent with it.
        pub keys: Mutex<HashMap<String, Vec<u8>>>,
        /// PUTs that changed something (a replay with a known key does not).
        pub applied: Mutex<usize>,
        pub jobs: Mutex<HashMap<String, Vec<serde_json::Value>>>,
        /// PUTs received per idempotency key, replays included.
        pub puts_per_key: Mutex<HashMap<String, usize>>,
        /// How long a PUT takes, to let concurrent workers overlap.
        pub delay_ms: u64,
        pub in_flight: Mutex<usize>,
        pub max_in_flight: Mutex<usize>,
        /// (account, idempotency key) of every DELETE.
        pub deletes: Mutex<Vec<(String, String)>>,
    }

    fn verify(p: &Platform, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> bool {
        let ts: i64 = headers
            .get("x-hatchery-timestamp")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let sent = headers
            .get("x-hatchery-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        (chrono::Utc::now().timestamp() - ts).abs() <= 300
            && sent == signature(&p.secret, ts, method.as_str(), uri.path(), body)
    }

    async fn one(
        State(p): State<Arc<Platform>>,
        Path(account): Path<String>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if !verify(&p, &method, &uri, &headers, &body) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "bad signature"})),
            )
                .into_response();
        }
        match method {
            Method::PUT => {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                *p.puts_per_key
                    .lock()
                    .unwrap()
                    .entry(key.clone())
                    .or_default() += 1;
                {
                    let mut n = p.in_flight.lock().unwrap();
                    *n += 1;
                    let mut max = p.max_in_flight.lock().unwrap();
                    *max = (*max).max(*n);
                }
                tokio::time::sleep(std::time::Duration::from_millis(p.delay_ms)).await;
                *p.in_flight.lock().unwrap() -= 1;
                let seen = p.keys.lock().unwrap().get(&key).cloned();
                match seen {
                    Some(first) if first != body.to_vec() => {
                        return (StatusCode::CONFLICT, Json(json!({"error": "key reused"})))
                            .into_response()
                    }
                    Some(_) => {}
                    None => {
                        let Ok(a) = serde_json::from_slice::<AllocationBody>(&body) else {
                            return (
                                StatusCode::UNPROCESSABLE_ENTITY,
                                Json(json!({"error": "bad body"})),
                            )
                                .into_response();
                        };
                        if a.account != account {
                            return (
                                StatusCode::UNPROCESSABLE_ENTITY,
                                Json(json!({"error": "account"})),
                            )
                                .into_response();
                        }
                        p.keys.lock().unwrap().insert(key, body.to_vec());
                        p.allocations.lock().unwrap().insert(account.clone(), a);
                        *p.applied.lock().unwrap() += 1;
                    }
                }
                let a = p.allocations.lock().unwrap();
                Json(json!(a.get(&account))).into_response()
            }
            Method::GET => match p.allocations.lock().unwrap().get(&account) {
                Some(a) => Json(json!(a)).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            },
            Method::DELETE => {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                p.deletes.lock().unwrap().push((account.clone(), key));
                p.allocations.lock().unwrap().remove(&account);
                StatusCode::NO_CONTENT.into_response()
            }
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    }

    async fn list(
        State(p): State<Arc<Platform>>,
        Query(q): Query<HashMap<String, String>>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
    ) -> Response {
        if !verify(&p, &method, &uri, &headers, b"") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let prefix = q.get("prefix").cloned().unwrap_or_default();
        let all: Vec<serde_json::Value> = p
            .allocations
            .lock()
            .unwrap()
            .values()
            .filter(|a| a.account.starts_with(&prefix))
            .map(|a| json!(a))
            .collect();
        Json(json!({"allocations": all})).into_response()
    }

    async fn jobs(
        State(p): State<Arc<Platform>>,
        Path(account): Path<String>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
    ) -> Response {
        if !verify(&p, &method, &uri, &headers, b"") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let jobs = p
            .jobs
            .lock()
            .unwrap()
            .get(&account)
            .cloned()
            .unwrap_or_default();
        Json(json!({"jobs": jobs})).into_response()
    }

    /// Serves the platform on a free loopback port; returns its base URL.
    pub async fn start(p: Arc<Platform>) -> String {
        let app = Router::new()
            .route("/v1/allocations", get(list))
            .route("/v1/allocations/{account}", get(one).put(one).delete(one))
            .route("/v1/allocations/{account}/jobs", get(jobs))
            .with_state(p);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/v1")
    }
}
