//! Many people writing at the same moment: every write waits its turn (SQLite has one writer)
//! instead of failing, and every row is there afterwards.
mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Duration, Utc};
use common::{Jar, TestApp, ORIGIN};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tower::ServiceExt;

/// A no-JS form post, as a browser sends it from `from`.
fn form(path: &str, from: &str, fields: &[(&str, &str)], jar: &Jar) -> Request<Body> {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish();
    Request::post(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "same-origin")
        .header(header::REFERER, format!("{ORIGIN}{from}"))
        .header(header::ACCEPT, "text/html")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, jar.header())
        .body(Body::from(body))
        .unwrap()
}

/// 50 writes of four kinds sent at once through the real router: usage pushes from the
/// cluster, notes on a startup, applicants saving their profiles, and enrolments in a cohort
/// with 5 places. None fails, and each left its row.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_writes_all_succeed() {
    let app = TestApp::new().await;
    let park = app.credit_park("100").await;
    let (admin, token, resource) = (park.admin.clone(), park.token.clone(), park.resource);
    let now = Utc::now();
    let cohort_fields = common::cohort_form("5");
    let pairs: Vec<(&str, &str)> = cohort_fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = app
        .send(form(
            "/api/save_cohort",
            "/admin/cohorts/new",
            &pairs,
            &admin,
        ))
        .await;
    let cohort: i64 = res
        .location()
        .trim_start_matches("/admin/cohorts/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("cohort saved: {}", res.location()));

    let mut requests: Vec<(&'static str, Request<Body>)> = Vec::new();
    for i in 0..20 {
        let job = serde_json::json!({
            "resource_id": resource, "startup_id": park.startup, "job_id": format!("job-{i}"),
            "gpu_minutes": 1, "ended_at": (now - Duration::hours(1)).to_rfc3339(),
        });
        let req = common::api_request("POST", "/api/v1/usage", &token, Some(job.to_string()));
        requests.push(("usage", req));
    }
    let id = park.startup.to_string();
    for i in 0..10 {
        let body = format!("Note {i}");
        let req = form(
            "/api/add_startup_note",
            &format!("/startups/{id}"),
            &[("id", &id), ("body", &body)],
            &admin,
        );
        requests.push(("note", req));
    }
    for i in 0..10 {
        let (_, jar) = app
            .person(
                &format!("founder{i}@x.cn"),
                &format!("Founder {i}"),
                "applicant",
            )
            .await;
        let name = format!("Startup {i}");
        let req = form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", &name),
                ("sector", "language"),
                ("stage", "seed"),
                ("team_size", "3"),
                ("founders", "A\nB"),
            ],
            &jar,
        );
        requests.push(("save", req));
    }
    let cohort_id = cohort.to_string();
    for i in 0..10 {
        let (_, jar) = app
            .person(
                &format!("trainee{i}@x.cn"),
                &format!("Trainee {i}"),
                "applicant",
            )
            .await;
        let req = form(
            "/api/enrol",
            &format!("/cohorts/{cohort_id}"),
            &[("cohort_id", &cohort_id)],
            &jar,
        );
        requests.push(("enrol", req));
    }
    assert_eq!(requests.len(), 50);

    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (kind, req) in requests {
        let router = app.router.clone();
        tasks.spawn(async move {
            let res = router.oneshot(req).await.unwrap();
            let status = res.status();
            let location = res
                .headers()
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                kind,
                status,
                location,
                String::from_utf8_lossy(&body).into_owned(),
            )
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (kind, status, location, body) = done.unwrap();
        let ok = match kind {
            "usage" => status == StatusCode::CREATED,
            _ => status == StatusCode::FOUND && !location.contains("__err"),
        };
        if !ok {
            failures.push(format!("{kind}: {status} {location} {body}"));
        }
    }
    let elapsed = started.elapsed();
    println!("50 concurrent writes answered in {elapsed:?}");
    assert!(failures.is_empty(), "failed writes: {failures:#?}");

    use domain::credits::entity::ledger;
    let consumed = ledger::Entity::find()
        .filter(ledger::Column::Kind.eq("consumed"))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(consumed, 20, "every usage push is in the ledger");
    assert_eq!(
        app.count(domain::startups::entity::note::Entity).await,
        10,
        "every note is kept"
    );
    assert_eq!(
        app.count(domain::startups::entity::startup::Entity).await,
        11,
        "every profile is saved"
    );
    use domain::cohorts::entity::enrolment;
    let rows = enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(cohort))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .filter(|e| e.status == domain::cohorts::EnrolmentStatus::Enrolled)
            .count(),
        5
    );
    assert_eq!(
        rows.iter()
            .filter(|e| e.status == domain::cohorts::EnrolmentStatus::Waitlisted)
            .count(),
        5
    );
}
