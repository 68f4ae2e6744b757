//! The admin tables: every list searches, filters, sorts and pages on the server, exports
//! exactly its filtered rows as CSV, refuses a bad view with a translated message, is for
//! admins only, and renders within the SQL budget of a page.
mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::auth::Role;
use domain::credits::entity::{grant, ledger, resource, sync_job};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

/// Every admin list, by its page's path (its CSV is the same path with `.csv`).
const LISTS: &[&str] = &[
    "/admin/users",
    "/admin/startups",
    "/admin/applications",
    "/admin/grants",
    "/admin/ledger",
    "/admin/sync",
    "/admin/cohorts",
    "/admin/outbox",
    "/admin/audit",
];

async fn startup(app: &TestApp, name: &str, sector: &str) -> i64 {
    let now = Utc::now();
    domain::startups::entity::startup::ActiveModel {
        name: Set(name.into()),
        credit_code: Set(None),
        sector: Set(sector.parse().unwrap()),
        stage: Set("seed".parse::<domain::startups::Stage>().unwrap()),
        team_size: Set(3),
        website: Set(None),
        founders: Set("F".into()),
        status: Set(domain::startups::incubation::StartupStatus::Incubating),
        created_by: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        residency_from: Set(None),
        residency_until: Set(None),
        ended_at: Set(None),
        end_reason: Set(None),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap()
    .id
}

async fn resource(app: &TestApp, name: &str) -> i64 {
    let now = Utc::now();
    resource::ActiveModel {
        name: Set(name.into()),
        gpu_model: Set("H100".into()),
        backend: Set(domain::credits::BackendKind::TrackOnly),
        cluster: Set(String::new()),
        account_pattern: Set("hat_{id}".into()),
        settings: Set("{\"base_url\":\"\",\"secret\":\"\"}".into()),
        repair_mode: Set(domain::credits::RepairMode::Auto),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap()
    .id
}

/// A grant of `minutes` with `used` of them consumed, its two ledger entries, and a sync job.
async fn grant(
    app: &TestApp,
    startup_id: i64,
    resource_id: i64,
    minutes: i64,
    used: i64,
    status: &str,
) {
    let now = Utc::now();
    let g = grant::ActiveModel {
        startup_id: Set(startup_id),
        resource_id: Set(resource_id),
        status: Set(domain::credits::GrantStatus::parse(status).unwrap()),
        granted_minutes: Set(minutes),
        adjusted_minutes: Set(0),
        consumed_minutes: Set(used),
        forfeited_minutes: Set(0),
        valid_from: Set(now - Duration::days(10)),
        valid_until: Set(now + Duration::days(80)),
        reason: Set("Programme".into()),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    for (kind, m, balance, job) in [
        ("granted", minutes, minutes, None),
        (
            "consumed",
            -used,
            minutes - used,
            Some(format!("job-{}", g.id)),
        ),
    ] {
        ledger::ActiveModel {
            grant_id: Set(g.id),
            startup_id: Set(startup_id),
            resource_id: Set(resource_id),
            kind: Set(domain::credits::LedgerKind::parse(kind).unwrap()),
            minutes: Set(m),
            balance_after: Set(balance),
            external_ref: Set(job),
            note: Set(String::new()),
            actor_user_id: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
    sync_job::ActiveModel {
        startup_id: Set(startup_id),
        resource_id: Set(resource_id),
        desired: Set(format!(
            "{{\"account\":\"hat_{startup_id}\",\"organization\":\"x\",\"limit_minutes\":{},\"members\":[]}}",
            minutes - used
        )),
        idempotency_key: Set(format!("key-{}", g.id)),
        status: Set(if status == "active" {
            domain::credits::SyncStatus::Done
        } else {
            domain::credits::SyncStatus::Dead
        }),
        attempts: Set(1),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
}

fn csv_rows(body: &str) -> Vec<&str> {
    body.trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .collect()
}

fn table_rows(body: &str, marker: &str) -> usize {
    body.matches(marker).count()
}

#[tokio::test]
async fn every_admin_table_and_its_csv_is_for_admins_only() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    app.user_with_roles("mentor@park.cn", "Mentor", &[Role::Mentor])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let mentor = app.sign_in("mentor@park.cn", "correct horse battery").await;
    for path in LISTS {
        let csv = format!("{path}.csv");
        assert_eq!(app.get(path, &admin).await.status, StatusCode::OK, "{path}");
        let file = app.get(&csv, &admin).await;
        assert_eq!(file.status, StatusCode::OK, "{csv}");
        assert!(file.body.starts_with('\u{feff}'), "{csv} starts with a BOM");
        assert_eq!(
            app.get(path, &mentor).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            app.get(&csv, &mentor).await.status,
            StatusCode::FORBIDDEN,
            "{csv}"
        );
        assert_eq!(
            app.get(path, &Jar::default()).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            app.get(&csv, &Jar::default()).await.status,
            StatusCode::UNAUTHORIZED,
            "{csv}"
        );
    }
}

#[tokio::test]
async fn a_bad_view_is_refused_with_a_translated_message_and_nothing_else() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    for path in LISTS.iter().filter(|p| **p != "/admin/audit") {
        for bad in [
            "sort=password",
            "dir=sideways",
            "status=bogus",
            "page=99999",
        ] {
            if !bad.starts_with("page=") {
                // A CSV holds every page, so only the view's other parts can be wrong.
                let csv = app.get(&format!("{path}.csv?{bad}"), &admin).await;
                assert_eq!(
                    csv.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{path}.csv?{bad}"
                );
            }
            let page = app.get(&format!("{path}?{bad}"), &admin).await;
            assert!(
                page.body.contains("banner error"),
                "{path}?{bad}: an error banner"
            );
        }
    }
    let long = "x".repeat(101);
    let csv = app
        .get(&format!("/admin/grants.csv?q={long}"), &admin)
        .await;
    assert_eq!(csv.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(csv.body, "This text is too long.");
    admin.cookies.remove("hatchery_lang");
    admin.lang = "zh-CN,zh;q=0.9".into();
    let csv = app.get("/admin/ledger.csv?sort=minutes", &admin).await;
    assert_eq!(csv.body, "列表不能按此方式排序。");
    let csv = app.get("/admin/startups.csv?page=abc", &admin).await;
    assert_eq!(csv.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn grants_ledger_and_sync_lists_filter_sort_page_and_export() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let h100 = resource(&app, "Turing H100").await;
    let a800 = resource(&app, "Turing A800").await;
    // 60 startups on H100 (every third suspended), 5 on A800; one named with LIKE wildcards.
    for i in 0..60 {
        let name = if i == 7 {
            "Qinghe 100%_Vision 清河".to_string()
        } else {
            format!("Batch {i:02}")
        };
        let s = startup(&app, &name, "computer_vision").await;
        let status = if i % 3 == 0 { "suspended" } else { "active" };
        grant(&app, s, h100, 6000 + i * 60, i * 30, status).await;
    }
    for i in 0..5 {
        let s = startup(&app, &format!("Other {i}"), "language").await;
        grant(&app, s, a800, 600, 0, "active").await;
    }

    // Grants: newest first, 50 a page, then the rest.
    let db = app.db();
    let admin_actor = app.actor("admin@park.cn").await;
    let view = |q: &str, status: &str, of: &str, sort: &str, dir: &str, page: u64| {
        domain::tables::TableQuery {
            q: q.into(),
            status: status.into(),
            of: of.into(),
            sort: sort.into(),
            dir: dir.into(),
            page,
            ..Default::default()
        }
    };
    let first = domain::credits::grants::list(db, &admin_actor, &view("", "", "", "", "", 0))
        .await
        .unwrap();
    assert_eq!(first.rows.len(), 50);
    assert!(first.more);
    assert!(
        first.rows[0].startup_name.starts_with("Other 4"),
        "newest first"
    );
    let second = domain::credits::grants::list(db, &admin_actor, &view("", "", "", "", "", 1))
        .await
        .unwrap();
    assert_eq!(second.rows.len(), 15);
    assert!(!second.more);
    let mut ids: Vec<i64> = first
        .rows
        .iter()
        .chain(&second.rows)
        .map(|g| g.id)
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 65, "no row on two pages");
    // Filters: state and resource, and a search that takes wildcards literally.
    let suspended =
        domain::credits::grants::list(db, &admin_actor, &view("", "suspended", "", "", "", 0))
            .await
            .unwrap();
    assert_eq!(suspended.rows.len(), 20);
    assert!(suspended
        .rows
        .iter()
        .all(|g| g.status == domain::credits::GrantStatus::Suspended));
    let a800_rows = domain::credits::grants::list(
        db,
        &admin_actor,
        &view("", "", &a800.to_string(), "", "", 0),
    )
    .await
    .unwrap();
    assert_eq!(a800_rows.rows.len(), 5);
    let found =
        domain::credits::grants::list(db, &admin_actor, &view("100%_vision", "", "", "", "", 0))
            .await
            .unwrap();
    assert_eq!(found.rows.len(), 1);
    assert_eq!(found.rows[0].startup_name, "Qinghe 100%_Vision 清河");
    assert_eq!(
        found.rows[0].sync.as_ref().unwrap().status,
        domain::credits::SyncStatus::Done
    );
    // A grant's sync state is its target's newest job that was not superseded.
    let target = &found.rows[0];
    for (status, attempts, error) in [
        ("pending", 3, Some("slurmrestd: 503")),
        ("superseded", 0, None),
    ] {
        let now = Utc::now();
        sync_job::ActiveModel {
            startup_id: Set(target.startup_id),
            resource_id: Set(target.resource_id),
            desired: Set("{}".into()),
            idempotency_key: Set(format!("newer-{status}")),
            status: Set(domain::credits::SyncStatus::parse(status).unwrap()),
            attempts: Set(attempts),
            next_attempt_at: Set(now),
            last_error: Set(error.map(String::from)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    let again =
        domain::credits::grants::list(db, &admin_actor, &view("100%_vision", "", "", "", "", 0))
            .await
            .unwrap();
    let sync = again.rows[0].sync.as_ref().unwrap();
    assert_eq!(
        (
            sync.status.as_str(),
            sync.attempts,
            sync.last_error.as_deref()
        ),
        ("pending", 3, Some("slurmrestd: 503"))
    );
    // The page and the CSV (which reads the jobs separately) agree on every row.
    let page = domain::credits::grants::list(db, &admin_actor, &view("", "", "", "", "", 0))
        .await
        .unwrap();
    let export = domain::credits::grants::csv(db, &admin_actor, &view("", "", "", "", "", 0))
        .await
        .unwrap();
    let exported = csv_rows(&export);
    for row in &page.rows {
        let line = exported
            .iter()
            .find(|l| l.starts_with(&format!("{},", row.id)))
            .expect("the row is exported");
        let status = row.sync.as_ref().map(|s| s.status.as_str()).unwrap_or("");
        // The sync state is the fifteenth column (no name here holds a comma).
        assert_eq!(line.split(',').nth(14), Some(status), "{line}");
    }
    // Sorted by what remains, most first; turned over, least first.
    let most =
        domain::credits::grants::list(db, &admin_actor, &view("batch", "", "", "remaining", "", 0))
            .await
            .unwrap();
    let remaining: Vec<i64> = most.rows.iter().map(|g| g.remaining_minutes).collect();
    assert!(remaining.windows(2).all(|w| w[0] >= w[1]), "{remaining:?}");
    assert_eq!(most.rows[0].startup_name, "Batch 59");
    let least = domain::credits::grants::list(
        db,
        &admin_actor,
        &view("batch", "", "", "remaining", "asc", 0),
    )
    .await
    .unwrap();
    assert_eq!(least.rows[0].startup_name, "Batch 00");
    // The page shows the same, with sorting links that keep the filters.
    let page = app
        .get(
            &format!("/admin/grants?status=active&of={h100}&sort=startup"),
            &admin,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(table_rows(&page.body, "<tr data-grant="), 40);
    assert_eq!(table_rows(&page.body, "data-funding=\"park\""), 40);
    assert!(
        page.body.contains(&format!(
            "href=\"/admin/grants?status=active&amp;of={h100}&amp;sort=startup&amp;dir=desc\""
        )),
        "a second click on the sorted column turns the order over"
    );
    assert!(page.body.contains("aria-sort=\"ascending\""));
    // The CSV holds every filtered row, not one page, in GPU-hours.
    let csv = app
        .get(&format!("/admin/grants.csv?of={h100}"), &admin)
        .await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows.len(), 60);
    assert!(rows
        .iter()
        .any(|r| r.contains("Qinghe 100%_Vision 清河") && r.contains(",H100,")));
    assert!(
        rows.iter()
            .any(|r| r.contains(",suspended,park,100.00,0.00,0.00,0.00,100.00,")),
        "Batch 00: 100 GPU-hours of park credit, none used"
    );

    // The ledger across grants: by time, filtered by kind, resource, startup or job.
    let consumed =
        domain::credits::ledger_table::list(db, &admin_actor, &view("", "consumed", "", "", "", 0))
            .await
            .unwrap();
    assert_eq!(consumed.rows.len(), 50);
    assert!(consumed.more);
    assert!(consumed
        .rows
        .iter()
        .all(|e| e.kind == domain::credits::LedgerKind::Consumed && e.minutes <= 0));
    let oldest =
        domain::credits::ledger_table::list(db, &admin_actor, &view("", "", "", "when", "asc", 0))
            .await
            .unwrap();
    assert_eq!(oldest.rows[0].kind, domain::credits::LedgerKind::Granted);
    assert_eq!(oldest.rows[0].startup_name, "Batch 00");
    let by_job = domain::credits::ledger_table::list(
        db,
        &admin_actor,
        &view(&format!("job-{}", found.rows[0].id), "", "", "", "", 0),
    )
    .await
    .unwrap();
    assert_eq!(by_job.rows.len(), 1);
    assert_eq!(by_job.rows[0].startup_name, "Qinghe 100%_Vision 清河");
    let csv = app
        .get(&format!("/admin/ledger.csv?of={a800}"), &admin)
        .await;
    assert_eq!(csv_rows(&csv.body).len(), 10);
    let csv = app
        .get("/admin/ledger.csv?status=consumed&q=batch%2007", &admin)
        .await;
    assert_eq!(csv_rows(&csv.body).len(), 0, "Batch 07 is the one renamed");
    let csv = app
        .get("/admin/ledger.csv?status=consumed&q=batch%2008", &admin)
        .await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].contains(",consumed,-4.00,"), "{}", rows[0]);

    // The sync queue: filtered by state and resource.
    let dead = domain::cluster::sync::list(db, &admin_actor, &view("", "dead", "", "", "", 0))
        .await
        .unwrap();
    assert_eq!(dead.rows.len(), 20);
    let csv = app.get("/admin/sync.csv?status=done", &admin).await;
    assert_eq!(csv_rows(&csv.body).len(), 45);
    let page = app
        .get("/admin/sync?status=dead&sort=attempts", &admin)
        .await;
    assert_eq!(table_rows(&page.body, "<tr data-job="), 20);
    assert_eq!(
        grant::Entity::find().all(db).await.unwrap().len(),
        65,
        "reading changed nothing"
    );
}

#[tokio::test]
async fn people_cohorts_applications_and_outbox_lists_filter_and_export() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    app.user_with_roles("mentor@park.cn", "Mentor Li 李", &[Role::Mentor])
        .await;
    app.user_with_roles("founder@x.cn", "Founder", &[Role::Applicant])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    // Users: by role, by name, as CSV.
    let page = app.get("/admin/users?status=mentor", &admin).await;
    assert!(page.body.contains("mentor@park.cn"));
    assert!(!page.body.contains("founder@x.cn"));
    let csv = app.get("/admin/users.csv?q=%E6%9D%8E", &admin).await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].contains("Mentor Li 李,mentor@park.cn,mentor,true"));
    let csv = app
        .get("/admin/users.csv?sort=email&dir=desc", &admin)
        .await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows.len(), 3);
    assert!(rows[0].contains("mentor@park.cn") && rows[2].contains("admin@park.cn"));

    // Cohorts: by phase and track.
    let now = Utc::now();
    for (title, starts, ends, track) in [
        ("Past LLM ops", -60, -30, "ai_engineering"),
        ("Running CUDA", -3, 20, "research"),
        ("Next LLM ops", 30, 60, "ai_engineering"),
    ] {
        domain::cohorts::entity::cohort::ActiveModel {
            title_en: Set(title.into()),
            title_zh: Set(format!("{title} 中文")),
            track: Set(track.parse().unwrap()),
            description_en: Set("d".into()),
            description_zh: Set("d".into()),
            capacity: Set(10),
            enrol_opens_at: Set(now - Duration::days(90)),
            enrol_closes_at: Set(now + Duration::days(ends)),
            starts_on: Set((now + Duration::days(starts)).date_naive()),
            ends_on: Set((now + Duration::days(ends)).date_naive()),
            location: Set("Hall A".into()),
            completion_percent: Set(80),
            roster_version: Set(0),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
    let page = app.get("/admin/cohorts?status=running", &admin).await;
    assert_eq!(table_rows(&page.body, "<tr data-cohort="), 1);
    assert!(page.body.contains("Running CUDA"));
    let csv = app
        .get(
            "/admin/cohorts.csv?of=ai_engineering&sort=starts&dir=asc",
            &admin,
        )
        .await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows.len(), 2);
    assert!(rows[0].contains("Past LLM ops") && rows[1].contains("Next LLM ops"));

    // Applications across rounds: by status and round.
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
    for (name, status) in [
        ("Alpha", "accepted"),
        ("Beta", "rejected"),
        ("Gamma", "in_review"),
    ] {
        let s = startup(&app, name, "language").await;
        domain::intake::entity::application::ActiveModel {
            round_id: Set(round.id),
            startup_id: Set(s),
            status: Set(domain::intake::ApplicationStatus::parse(status).unwrap()),
            problem: Set("p".into()),
            solution: Set("s".into()),
            models_data: Set("m".into()),
            gpu_model: Set("H100".into()),
            gpu_hours: Set(500),
            traction: Set("t".into()),
            team: Set("t".into()),
            profile_snapshot: Set(None),
            decision_message: Set(None),
            submitted_at: Set(Some(now - Duration::days(10))),
            decided_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
    let page = app
        .get(
            &format!("/admin/applications?of={}&status=in_review", round.id),
            &admin,
        )
        .await;
    assert_eq!(table_rows(&page.body, "<tr data-application="), 1);
    assert!(page.body.contains("Gamma"));
    let csv = app
        .get("/admin/applications.csv?sort=startup&dir=desc", &admin)
        .await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows.len(), 3);
    assert!(rows[0].contains("Gamma") && rows[0].contains("Spring 2026"));

    // The outbox: by state and recipient.
    app.user_with_roles("another@x.cn", "Another", &[Role::Applicant])
        .await;
    let invite = domain::auth::invitations::invite(
        app.db(),
        &app.state.settings,
        &app.actor("admin@park.cn").await,
        "new.mentor@x.cn",
        "mentor",
        domain::i18n::Locale::ZhCn,
    )
    .await;
    assert!(invite.is_ok());
    let csv = app.get("/admin/outbox.csv?q=new.mentor", &admin).await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].contains("new.mentor@x.cn") && rows[0].contains(",pending,"));
    let page = app.get("/admin/outbox?status=sent", &admin).await;
    assert!(!page.body.contains("new.mentor@x.cn"));
}

/// Each list page renders within five SQL statements (the session, the page, its related
/// rows, a filter's options), whatever the number of rows.
#[tokio::test]
async fn each_list_page_stays_within_its_sql_budget() {
    // What rendering costs: with the page cache on, the second request would be free.
    let app = TestApp::with_env(&[("HATCHERY_PAGE_CACHE_SECONDS", "0")]).await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let founder_id = app
        .user_with_roles("founder@x.cn", "Founder", &[Role::Applicant])
        .await;
    let founder = app.sign_in("founder@x.cn", "correct horse battery").await;
    let h100 = resource(&app, "Turing H100").await;
    let a800 = resource(&app, "Turing A800").await;
    for i in 0..55 {
        let s = startup(&app, &format!("Batch {i:02}"), "computer_vision").await;
        grant(&app, s, h100, 600, 60, "active").await;
        if i == 0 {
            // The founder's startup holds two grants.
            grant(&app, s, a800, 1200, 0, "active").await;
            domain::startups::entity::member::ActiveModel {
                startup_id: Set(s),
                user_id: Set(founder_id),
                role: Set(domain::startups::MemberRole::Founder),
                joined_at: Set(Utc::now()),
            }
            .insert(app.db())
            .await
            .unwrap();
        }
    }
    let mut worst = Vec::new();
    let pages = LISTS
        .iter()
        .chain(&["/dashboard", "/admin/grants/new?q=batch"])
        .map(|p| (*p, &admin))
        .chain([("/credits", &founder), ("/dashboard", &founder)]);
    for (path, jar) in pages {
        // Once to warm anything lazy (the dashboard's figures are kept a minute), then counted.
        app.get(path, jar).await;
        let before = app.state.sql.statements();
        let page = app.get(path, jar).await;
        let n = app.state.sql.statements() - before;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        worst.push((n, path));
    }
    let credits = app.get("/credits", &founder).await;
    assert_eq!(
        credits.body.matches("data-grant=").count(),
        2,
        "both grants shown"
    );
    worst.sort();
    eprintln!("SQL statements per page: {worst:?}");
    let over: Vec<_> = worst.iter().filter(|(n, _)| *n > 5).collect();
    assert!(
        over.is_empty(),
        "pages over 5 statements: {over:?} (all: {worst:?})"
    );
}

/// A page asked for again by the same person is answered from memory, without a statement,
/// until the data changes; nobody else gets it, and a hard reload renders it afresh.
#[tokio::test]
async fn a_repeated_page_is_served_from_memory_until_data_changes() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    app.user_with_roles("mentor@park.cn", "Mentor", &[Role::Mentor])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let mentor = app.sign_in("mentor@park.cn", "correct horse battery").await;
    startup(&app, "Abacus Vision", "computer_vision").await;
    let statements_for = |path: &'static str, jar: Jar| {
        let app = &app;
        async move {
            let before = app.state.sql.statements();
            let page = app.get(path, &jar).await;
            (app.state.sql.statements() - before, page)
        }
    };

    let (rendered, first) = statements_for("/admin/startups", admin.clone()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(rendered > 0);
    let (again, second) = statements_for("/admin/startups", admin.clone()).await;
    assert_eq!(again, 0, "the same page again, from memory");
    assert_eq!(second.body, first.body);
    assert_eq!(second.status, StatusCode::OK);
    assert!(second.headers.get("set-cookie").is_none());

    // Another person, or another language, is another page.
    let (n, other) = statements_for("/admin/startups", mentor.clone()).await;
    assert!(n > 0);
    assert_ne!(
        other.status,
        StatusCode::OK,
        "a mentor is not shown the admin list"
    );
    let mut chinese = admin.clone();
    chinese.lang = Jar::chinese().lang;
    let (n, zh) = statements_for("/admin/startups", chinese).await;
    assert!(n > 0);
    assert_ne!(zh.body, first.body);

    // A change made anywhere in the process is seen at once.
    startup(&app, "Bramble Robotics", "robotics").await;
    let (n, changed) = statements_for("/admin/startups", admin.clone()).await;
    assert!(n > 0);
    assert!(changed.body.contains("Bramble Robotics"));
    let (n, _) = statements_for("/admin/startups", admin.clone()).await;
    assert_eq!(n, 0);

    // A hard reload renders afresh.
    let before = app.state.sql.statements();
    let req = axum::http::Request::get("/admin/startups")
        .header("host", "127.0.0.1:3000")
        .header("accept-language", admin.lang.clone())
        .header("cookie", admin.header())
        .header("cache-control", "no-cache")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::OK);
    assert!(app.state.sql.statements() > before);

    // Signing out ends the session's pages: the old cookie gets no list.
    let old = admin.clone();
    let out = app
        .post_form("/api/logout", "/admin/startups", &[], &mut admin)
        .await;
    assert!(
        out.status.is_success() || out.status.is_redirection(),
        "{}",
        out.status
    );
    let (_, after) = statements_for("/admin/startups", old).await;
    assert_ne!(after.status, StatusCode::OK);
    assert!(!after.body.contains("Abacus Vision"));

    let metrics = app.get("/metrics", &Jar::default()).await.body;
    assert!(
        metrics.contains("hatchery_page_cache_requests_total{result=\"hit\"} 2"),
        "{metrics}"
    );
}

/// Entries expire: with a one-second cache, a page is rendered again after a second even
/// though nothing this process can see has changed (another process may have written).
#[tokio::test]
async fn kept_pages_expire() {
    let app = TestApp::with_env(&[("HATCHERY_PAGE_CACHE_SECONDS", "1")]).await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    app.get("/admin/users", &admin).await;
    let before = app.state.sql.statements();
    app.get("/admin/users", &admin).await;
    assert_eq!(app.state.sql.statements(), before);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.get("/admin/users", &admin).await;
    assert!(app.state.sql.statements() > before);
}

/// On PostgreSQL several replicas may serve one database: a change made through one of them is
/// announced, and the others stop serving the pages they kept. (On SQLite one process owns the
/// database, and there is nobody to tell.)
#[tokio::test]
async fn a_change_through_one_replica_is_not_hidden_by_another_replicas_kept_page() {
    let app = TestApp::new().await;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let Some(url) = app.database_url.clone() else {
        assert!(hatchery::changes::listen(app.state.clone(), stop_rx).is_none());
        return;
    };
    // The second replica: its own pool, data version and page cache, on the same database.
    let dir = tempfile::tempdir().unwrap();
    let env = std::collections::HashMap::from([
        (
            "HATCHERY_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        ),
        ("HATCHERY_DATABASE_URL".to_string(), url.clone()),
    ]);
    let config = hatchery::config::Config::from_sources(&env).unwrap();
    let state = hatchery::build_state(&config).await.unwrap();
    let start = state.sql.changes();
    let listening =
        hatchery::changes::listen(state.clone(), stop_rx).expect("listens on PostgreSQL");
    // Subscribing counts as a change (what was announced before is unknown): wait for it, so
    // that what moves the version below can only be the announcement.
    for _ in 0..500 {
        if state.sql.changes() != start {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_ne!(state.sql.changes(), start, "the second replica listens");
    let other = TestApp {
        router: hatchery::router::build(state.clone()),
        state,
        data_dir: dir,
        database_url: Some(url),
    };

    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    startup(&app, "Abacus Vision", "computer_vision").await;
    let first = other.get("/admin/startups", &admin).await;
    assert!(first.body.contains("Abacus Vision"));
    let before = other.state.sql.statements();
    other.get("/admin/startups", &admin).await;
    assert_eq!(
        other.state.sql.statements(),
        before,
        "kept by the second replica"
    );

    let version = other.state.sql.changes();
    let fields = [
        ("name", "Bramble Robotics"),
        ("sector", "robotics"),
        ("stage", "prototype"),
        ("team_size", "4"),
        ("founders", "Zhang San"),
        ("residency_from", "2027-01-01"),
        ("residency_until", "2027-12-31"),
        ("founder_email", "zhang@bramble.cn"),
        ("lang", "en"),
    ];
    let res = app
        .post_form("/api/add_startup", "/admin/startups", &fields, &mut admin)
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    // The announcement arrives asynchronously; it takes milliseconds.
    for _ in 0..200 {
        if other.state.sql.changes() != version {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_ne!(
        other.state.sql.changes(),
        version,
        "the second replica heard of the change"
    );
    let after = other.get("/admin/startups", &admin).await;
    assert!(after.body.contains("Bramble Robotics"));
    drop(stop);
    listening.await.unwrap();
}

/// The ids of a page's rows, by their `data-<marker>` attribute, in order.
fn row_ids(body: &str, marker: &str) -> Vec<i64> {
    let needle = format!("data-{marker}=\"");
    body.split(&needle)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// The pager's link to the `rel` page, unescaped.
fn pager_link(body: &str, rel: &str) -> Option<String> {
    let pager = &body[body.find("class=\"pager\"")?..];
    let end = pager.find(&format!("rel=\"{rel}\""))?;
    let start = pager[..end].rfind("href=\"")? + 6;
    let href = &pager[start..end];
    Some(href[..href.find('"')?].replace("&amp;", "&"))
}

/// Follows the pager from `start` to the last page, then back to the first; returns the
/// pages' rows forwards and the links followed.
async fn walk(
    app: &TestApp,
    admin: &Jar,
    start: &str,
    marker: &str,
) -> (Vec<Vec<i64>>, Vec<String>) {
    let mut pages = Vec::new();
    let mut links = Vec::new();
    let mut url = start.to_string();
    let body = loop {
        let res = app.get(&url, admin).await;
        assert_eq!(res.status, StatusCode::OK, "{url}");
        pages.push(row_ids(&res.body, marker));
        match pager_link(&res.body, "next") {
            Some(next) => {
                links.push(next.clone());
                url = next;
            }
            None => break res.body,
        }
    };
    // Back again: each page as it was on the way forwards.
    let mut body = body;
    let mut back = pages.len() - 1;
    while let Some(prev) = pager_link(&body, "prev") {
        links.push(prev.clone());
        back -= 1;
        let res = app.get(&prev, admin).await;
        assert_eq!(res.status, StatusCode::OK, "{prev}");
        assert_eq!(row_ids(&res.body, marker), pages[back], "{prev}");
        body = res.body;
    }
    assert_eq!(back, 0, "back on the first page");
    (pages, links)
}

#[tokio::test]
async fn deep_pages_are_found_from_their_neighbours_rows_in_every_order() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let sectors = ["language", "computer_vision", "robotics"];
    let gpus = resource(&app, "Cluster").await;
    // 130 startups with many equal names and sectors (ties broken by id), and a grant each.
    for i in 0..130 {
        let id = startup(&app, &format!("Startup {:02}", i % 40), sectors[i % 3]).await;
        grant(
            &app,
            id,
            gpus,
            600 + (i as i64 % 7) * 60,
            (i as i64 % 5) * 30,
            "active",
        )
        .await;
    }
    for (start, marker) in [
        ("/admin/startups", "startup"),
        ("/admin/startups?sort=sector&dir=desc", "startup"),
        ("/admin/startups?sort=created", "startup"),
        ("/admin/grants", "grant"),
        ("/admin/grants?sort=remaining", "grant"),
        ("/admin/grants?q=startup+1&sort=startup&dir=asc", "grant"),
    ] {
        let (pages, links) = walk(&app, &admin, start, marker).await;
        let all: Vec<i64> = pages.concat();
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "{start}: no row twice");
        // The same rows in the same order as by offset, page by page.
        for (n, rows) in pages.iter().enumerate().skip(1) {
            let sep = if start.contains('?') { '&' } else { '?' };
            let by_offset = app.get(&format!("{start}{sep}page={n}"), &admin).await;
            assert_eq!(&row_ids(&by_offset.body, marker), rows, "{start}, page {n}");
        }
        if !start.contains("q=") {
            assert_eq!(pages.len(), 3, "{start}: 130 rows in pages of 50");
            assert_eq!(all.len(), 130, "{start}");
        }
        // Past the first page, each link names the row it starts after or ends before; the
        // way back to the first page is its bare address.
        for link in &links {
            assert!(
                link.contains("after=") || link.contains("before=") || !link.contains("page="),
                "{start}: {link}"
            );
        }
    }
    // The audit log, newest first, through its own pager.
    for i in 0..120 {
        domain::audit::entity::ActiveModel {
            actor_user_id: Set(None),
            action: Set(format!("test.entry_{i}")),
            entity_type: Set("test".into()),
            entity_id: Set(i.to_string()),
            before: Set(None),
            after: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
    let (pages, links) = walk(&app, &admin, "/admin/audit?entity_type=test", "audit").await;
    let all = pages.concat();
    assert_eq!(all.len(), 120);
    assert!(
        all.windows(2).all(|w| w[0] > w[1]),
        "newest first, none twice"
    );
    assert!(links
        .iter()
        .all(|l| l.contains("after=") || l.contains("before=") || !l.contains("page=")));
    // NULLs compare to nothing: a sort by residency (mostly none) pages by offset.
    let (pages, links) = walk(&app, &admin, "/admin/startups?sort=residency", "startup").await;
    assert_eq!(pages.concat().len(), 130);
    assert!(links
        .iter()
        .all(|l| !l.contains("after=") && !l.contains("before=")));
    // A cursor naming a row that went away, or one the filters leave out, gives an empty
    // page rather than a wrong one; a prev link whose rows went away leads to the first page.
    let first = app.get("/admin/startups", &admin).await;
    let ids = row_ids(&first.body, "startup");
    let res = app
        .get(
            &format!("/admin/startups?page=1&before={}", ids[10]),
            &admin,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(row_ids(&res.body, "startup"), ids, "the first page instead");
    assert!(pager_link(&res.body, "prev").is_none());
    let res = app.get("/admin/startups?page=1&after=999999", &admin).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(row_ids(&res.body, "startup").is_empty());
}
