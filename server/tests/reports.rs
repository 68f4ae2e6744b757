//! The admin's overview and the KPI report: figures from aggregate queries, shown on the
//! dashboard with charts, for a date range, as CSV; admins only.
mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::auth::Role;
use domain::credits::entity::{grant, ledger, resource};
use sea_orm::{ActiveModelTrait, Set};

async fn startup(app: &TestApp, name: &str, status: &str, ended_days_ago: Option<i64>) -> i64 {
    let now = Utc::now();
    domain::startups::entity::startup::ActiveModel {
        name: Set(name.into()),
        credit_code: Set(None),
        sector: Set("language".parse::<domain::startups::Sector>().unwrap()),
        stage: Set("seed".parse::<domain::startups::Stage>().unwrap()),
        team_size: Set(3),
        website: Set(None),
        founders: Set("F".into()),
        status: Set(domain::startups::incubation::StartupStatus::parse(status).unwrap()),
        created_by: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        residency_from: Set(None),
        residency_until: Set(None),
        ended_at: Set(ended_days_ago.map(|d| now - Duration::days(d))),
        end_reason: Set(ended_days_ago.map(|_| "done".to_string())),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn the_overview_and_the_kpi_report_count_what_happened() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    app.user_with_roles("f@x.cn", "Founder", &[Role::Applicant])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let founder = app.sign_in("f@x.cn", "correct horse battery").await;
    let now = Utc::now();
    let a = startup(&app, "Alpha", "incubating", None).await;
    startup(&app, "Beta", "graduated", Some(2)).await;
    startup(&app, "Gamma", "graduated", Some(400)).await;
    startup(&app, "Delta", "exited", Some(1)).await;

    let round = domain::intake::entity::round::ActiveModel {
        title_en: Set("Spring 2026".into()),
        title_zh: Set("2026 春季".into()),
        description_en: Set("d".into()),
        description_zh: Set("d".into()),
        opens_at: Set(now - Duration::days(30)),
        closes_at: Set(now - Duration::days(5)),
        review_deadline: Set(None),
        mentors_per_application: Set(2),
        blind_review: Set(false),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    for (startup_id, status, decided) in [
        (a, "accepted", Some(3)),
        (a + 1, "rejected", Some(3)),
        (a + 2, "submitted", None),
    ] {
        domain::intake::entity::application::ActiveModel {
            round_id: Set(round.id),
            startup_id: Set(startup_id),
            status: Set(domain::intake::ApplicationStatus::parse(status).unwrap()),
            problem: Set("p".into()),
            solution: Set("s".into()),
            models_data: Set("m".into()),
            gpu_model: Set("H100".into()),
            gpu_hours: Set(10),
            traction: Set("t".into()),
            team: Set("t".into()),
            profile_snapshot: Set(None),
            decision_message: Set(None),
            submitted_at: Set(Some(now - Duration::days(10))),
            decided_at: Set(decided.map(|d| now - Duration::days(d))),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }

    // GPU credit: 100 h granted, 30 h used this month, 10 h used 400 days ago.
    let r = resource::ActiveModel {
        name: Set("Turing H100".into()),
        gpu_model: Set("H100".into()),
        backend: Set(domain::credits::BackendKind::TrackOnly),
        cluster: Set("t".into()),
        account_pattern: Set("startup-{id}".into()),
        settings: Set("{}".into()),
        repair_mode: Set(domain::credits::RepairMode::Auto),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let g = grant::ActiveModel {
        startup_id: Set(a),
        resource_id: Set(r.id),
        status: Set(domain::credits::GrantStatus::Active),
        granted_minutes: Set(6000),
        adjusted_minutes: Set(600),
        consumed_minutes: Set(2400),
        forfeited_minutes: Set(0),
        valid_from: Set(now - Duration::days(500)),
        valid_until: Set(now + Duration::days(90)),
        reason: Set("seed".into()),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        alerted_80_at: Set(None),
        alerted_100_at: Set(None),
        alerted_expiry_at: Set(None),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    for (kind, minutes, days_ago, job) in [
        ("granted", 6000, 500, None),
        ("consumed", -600, 400, Some("j1")),
        // A 10-hour top-up this month counts as granted, as on the grants list.
        ("adjusted", 600, 5, None),
        ("consumed", -1800, 0, Some("j2")),
    ] {
        ledger::ActiveModel {
            grant_id: Set(g.id),
            startup_id: Set(a),
            resource_id: Set(r.id),
            kind: Set(domain::credits::LedgerKind::parse(kind).unwrap()),
            minutes: Set(minutes),
            balance_after: Set(0),
            external_ref: Set(job.map(str::to_string)),
            note: Set(String::new()),
            actor_user_id: Set(None),
            created_at: Set(now - Duration::days(days_ago)),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }

    // The dashboard: funnel, startups by status, credit per resource, burn this month.
    let page = app.get("/dashboard", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("data-testid=\"intake-funnel\""),
        "{}",
        page.body
            .split("banner error")
            .nth(1)
            .unwrap_or("no error banner")
    );
    assert!(
        page.body.contains("data-value=\"1\""),
        "one accepted application"
    );
    assert!(
        page.body.contains("data-remaining=\"4200\""),
        "100 h + 10 h top-up - 40 h used"
    );
    // The park's month and days (Asia/Shanghai, the default).
    let park = domain::time::Zone::default();
    let month = park.date(&now).format("%Y-%m").to_string();
    assert!(
        page.body
            .contains(&format!("data-month=\"{month}\" data-minutes=\"1800\"")),
        "this month's burn"
    );
    // Founders do not see the park's figures.
    let page = app.get("/dashboard", &founder).await;
    assert!(!page.body.contains("overview-credit"));

    // The last 30 days: 1 admitted, 1 graduated, 1 exited, 30 h used; the old ones are out.
    let from = park.date(&(now - Duration::days(30))).to_string();
    let to = park.date(&now).to_string();
    let page = app
        .get(&format!("/admin/report?from={from}&to={to}"), &admin)
        .await;
    let kpi = |id: &str| {
        let marker = format!("data-kpi=\"{id}\"");
        let at = page.body.find(&marker).unwrap_or_else(|| panic!("no {id}"));
        let dd = page.body[at..].find("<dd>").unwrap() + at + 4;
        page.body[dd..page.body[dd..].find("</dd>").unwrap() + dd].to_string()
    };
    assert_eq!(kpi("admitted"), "1");
    assert_eq!(kpi("graduated"), "1");
    assert_eq!(kpi("exited"), "1");
    assert_eq!(kpi("gpu_consumed"), "30");
    assert_eq!(kpi("gpu_granted"), "10");
    let csv = app
        .get(&format!("/admin/report.csv?from={from}&to={to}"), &admin)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("Startups admitted,1,"), "{}", csv.body);
    assert!(csv.body.contains("GPU-hours used (subsidised),30,"));
    assert!(csv.body.contains("GPU-hours granted,10,"), "{}", csv.body);
    let zh = Jar {
        lang: "zh-CN".into(),
        ..admin.clone()
    };
    // The reader's chosen language (the cookie the language switch sets), as on every page.
    let mut zh = zh;
    zh.cookies.insert("hatchery_lang".into(), "zh-CN".into());
    let csv = app
        .get(&format!("/admin/report.csv?from={from}&to={to}"), &zh)
        .await;
    assert!(csv.body.contains("入驻企业数,1,"), "{}", csv.body);

    // Bad ranges are named; the report is for admins only.
    let page = app
        .get(&format!("/admin/report?from={to}&to={from}"), &admin)
        .await;
    assert!(page.body.contains("data-field=\"to\""));
    let csv = app
        .get("/admin/report.csv?from=soon&to=later", &admin)
        .await;
    assert_eq!(csv.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&format!("/admin/report?from={from}&to={to}"), &founder)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&format!("/admin/report.csv?from={from}&to={to}"), &founder)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(
            &format!("/admin/report.csv?from={from}&to={to}"),
            &Jar::default()
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

/// The dashboard's figures are kept for speed but follow the data: a round created a moment
/// ago is on the admin's dashboard within seconds, not a minute later.
#[tokio::test]
async fn the_dashboard_shows_a_new_round_within_seconds() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let page = app.get("/dashboard", &admin).await;
    assert!(page
        .body
        .contains(&domain::i18n::Locale::En.t("overview.no_rounds")));
    let fmt = |t: chrono::DateTime<Utc>| domain::time::Zone::default().input_value(&t);
    let (opens, closes, due) = (
        fmt(Utc::now() - Duration::hours(1)),
        fmt(Utc::now() + Duration::days(10)),
        fmt(Utc::now() + Duration::days(20)),
    );
    let res = app
        .post_form(
            "/api/save_round",
            "/admin/rounds/new",
            &[
                ("title_en", "Autumn 2027"),
                ("title_zh", "2027 秋季批次"),
                ("description_en", "AI startups."),
                ("description_zh", "人工智能创业企业。"),
                ("opens_at", &opens),
                ("closes_at", &closes),
                ("review_deadline", &due),
                ("mentors_per_application", "2"),
            ],
            &mut admin,
        )
        .await;
    assert!(
        res.location().ends_with("?notice=saved"),
        "{}",
        res.location()
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let page = app.get("/dashboard", &admin).await;
    assert!(
        page.body.contains("Autumn 2027"),
        "the new round is on the dashboard"
    );
    assert!(!page
        .body
        .contains(&domain::i18n::Locale::En.t("overview.no_rounds")));
}
