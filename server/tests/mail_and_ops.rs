//! The outbox delivers through real SMTP or to .eml files, retries with backoff, and
//! the operational endpoints answer.
mod common;

use axum::http::StatusCode;
use common::{Jar, SmtpSink, TestApp};
use domain::auth::Role;
use domain::mail::{entity, outbox, templates, Mailer};
use sea_orm::EntityTrait;

#[tokio::test]
async fn the_worker_delivers_through_an_smtp_server() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_env(&[(
        "HATCHERY_SMTP_URL",
        &format!("smtp://127.0.0.1:{}", sink.port),
    )])
    .await;
    assert!(matches!(app.state.mailer, Mailer::Smtp(_)));
    let mut jar = Jar::chinese();
    app.post_form(
        "/api/register",
        "/register",
        &[
            ("name", "韩梅梅"),
            ("email", "meimei@example.cn"),
            ("password", "correct horse battery"),
        ],
        &mut jar,
    )
    .await;

    let sent = hatchery::worker::deliver_mail(&app.state).await.unwrap();
    assert_eq!(sent, 1);
    let messages = sink.messages.lock().await.clone();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("meimei@example.cn"), "{}", messages[0]);
    assert!(
        messages[0].contains("Subject: =?utf-8?"),
        "subject is encoded: {}",
        messages[0]
    );
    let row = app.last_mail_to("meimei@example.cn").await;
    assert_eq!(row.status, domain::mail::MailStatus::Sent);
    assert_eq!(row.attempts, 1);
    // Nothing is sent twice.
    assert_eq!(hatchery::worker::deliver_mail(&app.state).await.unwrap(), 0);
    assert_eq!(sink.messages.lock().await.len(), 1);
}

#[tokio::test]
async fn without_smtp_messages_become_eml_files() {
    let app = TestApp::new().await;
    let dir = app.data_dir.path().join("mail");
    assert_eq!(app.state.mailer.file_dir(), Some(&dir));
    app.signed_in_applicant("files@example.com", "Files").await;
    hatchery::worker::deliver_mail(&app.state).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("To: Files <files@example.com>"), "{eml}");
    assert!(eml.contains("verify?token="));

    // The admin sees them listed, with where they went.
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let jar = app.sign_in("admin@park.cn", "correct horse battery").await;
    let page = app.get("/admin/outbox", &jar).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("files@example.com"));
    assert!(page.body.contains(&dir.display().to_string()));
}

#[tokio::test]
async fn failed_deliveries_back_off_then_die_and_an_admin_can_retry() {
    // A port nobody listens on: every attempt fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app =
        TestApp::with_env(&[("HATCHERY_SMTP_URL", &format!("smtp://127.0.0.1:{port}"))]).await;
    let content = templates::verify_email(domain::i18n::Locale::En, "X", "http://x/verify?token=1");
    let id = outbox::enqueue(
        app.db(),
        "x@example.com",
        "X",
        domain::i18n::Locale::En,
        &content,
    )
    .await
    .unwrap();

    assert_eq!(hatchery::worker::deliver_mail(&app.state).await.unwrap(), 0);
    let row = entity::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    assert!(row.last_error.is_some());
    let delay = row.next_attempt_at - row.created_at;
    assert!(delay >= chrono::Duration::seconds(29), "{delay}");
    // Not due yet: the next pass leaves it alone.
    hatchery::worker::deliver_mail(&app.state).await.unwrap();
    let row = entity::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.attempts, 1);

    // Make every remaining attempt due at once.
    for _ in 1..outbox::POLICY.max_attempts {
        let mut active: entity::ActiveModel = entity::Entity::find_by_id(id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .into();
        active.next_attempt_at = sea_orm::Set(chrono::Utc::now() - chrono::Duration::seconds(1));
        sea_orm::ActiveModelTrait::update(active, app.db())
            .await
            .unwrap();
        hatchery::worker::deliver_mail(&app.state).await.unwrap();
    }
    let row = entity::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.status.as_str(), row.attempts),
        ("dead", outbox::POLICY.max_attempts)
    );

    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut jar = app.sign_in("admin@park.cn", "correct horse battery").await;
    let page = app.get("/admin/outbox", &jar).await;
    assert!(
        page.body.contains("data-status=\"dead\""),
        "{} {}",
        page.status,
        page.body
    );
    let res = app
        .post_form(
            "/api/retry_email",
            "/admin/outbox",
            &[("id", &id.to_string())],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/admin/outbox?notice=retried");
    let row = entity::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 0));
    let res = app
        .post_form(
            "/api/retry_email",
            "/admin/outbox",
            &[("id", &id.to_string())],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.email_not_dead");
}

#[tokio::test]
async fn health_readiness_and_not_found() {
    let app = TestApp::new().await;
    let jar = Jar::default();
    assert_eq!(app.get("/healthz", &jar).await.status, StatusCode::OK);
    let ready = app.get("/readyz", &jar).await;
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (StatusCode::OK, "ready")
    );
    let missing = app.get("/no/such/page", &jar).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("We could not find that page."));
    let zh = app.get("/no/such/page", &Jar::chinese()).await;
    assert!(zh.body.contains("找不到该页面。"));
}

#[tokio::test]
async fn the_landing_page_lists_open_rounds_or_says_there_are_none() {
    let app = TestApp::new().await;
    let page = app.get("/", &Jar::default()).await;
    assert!(page.body.contains("data-testid=\"no-rounds\""));
    assert!(page.body.contains("No intake round is open right now."));

    use domain::intake::entity;
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    for (title, opens, closes) in [
        (
            "Spring 2027",
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(30),
        ),
        (
            "Closed 2026",
            now - chrono::Duration::days(60),
            now - chrono::Duration::days(1),
        ),
        (
            "Future 2027",
            now + chrono::Duration::days(10),
            now + chrono::Duration::days(40),
        ),
    ] {
        entity::ActiveModel {
            title_en: Set(title.into()),
            title_zh: Set(format!("{title} 批次")),
            description_en: Set("For foundation-model startups.".into()),
            description_zh: Set("面向大模型创业企业。".into()),
            opens_at: Set(opens),
            closes_at: Set(closes),
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
    }
    let page = app.get("/", &Jar::default()).await;
    assert!(page.body.contains("Spring 2027"));
    assert!(!page.body.contains("Closed 2026") && !page.body.contains("Future 2027"));
    assert!(!page.body.contains("no-rounds"));
    let zh = app.get("/", &Jar::chinese()).await;
    assert!(zh.body.contains("Spring 2027 批次") && zh.body.contains("面向大模型创业企业。"));
}

/// Several server processes may run the worker at once: each message still goes out once.
#[tokio::test]
async fn concurrent_workers_never_send_a_message_twice() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_env(&[(
        "HATCHERY_SMTP_URL",
        &format!("smtp://127.0.0.1:{}", sink.port),
    )])
    .await;
    for i in 0..30 {
        let content = templates::verify_email(
            domain::i18n::Locale::En,
            "P",
            &format!("http://x/verify?token={i}"),
        );
        outbox::enqueue(
            app.db(),
            &format!("p{i}@example.com"),
            "P",
            domain::i18n::Locale::En,
            &content,
        )
        .await
        .unwrap();
    }
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let state = app.state.clone();
            tokio::spawn(async move { hatchery::worker::deliver_mail(&state).await })
        })
        .collect();
    let mut sent = 0;
    for w in workers {
        sent += w.await.unwrap().unwrap();
    }
    assert_eq!(sent, 30);
    let messages = sink.messages.lock().await.clone();
    assert_eq!(messages.len(), 30);
    let mut recipients: Vec<String> = messages
        .iter()
        .filter_map(|m| {
            m.lines()
                .find(|l| l.starts_with("To: "))
                .map(str::to_string)
        })
        .collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 30);
}

/// The metrics a Prometheus server scrapes: latency per route template (never per raw path),
/// and the queues as the database holds them.
#[tokio::test]
async fn metrics_report_request_latency_and_queue_depths() {
    let app = TestApp::new().await;
    let jar = Jar::default();
    for _ in 0..3 {
        app.get("/healthz", &jar).await;
    }
    app.get("/cohorts/41", &jar).await;
    app.get("/cohorts/42", &jar).await;
    app.get("/no/such/page", &jar).await;
    // Two messages waiting, one of them dead.
    let content = templates::verify_email(domain::i18n::Locale::En, "Ann", "http://x/verify");
    outbox::enqueue(
        app.db(),
        "a@x.cn",
        "Ann",
        domain::i18n::Locale::En,
        &content,
    )
    .await
    .unwrap();
    let dead = outbox::enqueue(app.db(), "b@x.cn", "Bo", domain::i18n::Locale::En, &content)
        .await
        .unwrap();
    use sea_orm::{ActiveModelTrait, Set};
    entity::ActiveModel {
        id: Set(dead),
        status: Set(entity::Status::Dead),
        ..Default::default()
    }
    .update(app.db())
    .await
    .unwrap();

    let res = app.get("/metrics", &jar).await;
    assert_eq!(res.status, StatusCode::OK);
    let body = res.body;
    let line = |prefix: &str| {
        body.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{body}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        line("hatchery_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\",status=\"2xx\"}"),
        "3"
    );
    assert_eq!(
        line("hatchery_http_request_duration_seconds_count{method=\"GET\",route=\"/cohorts/{id}\",status=\"4xx\"}"),
        "2",
        "both cohorts share one series:\n{body}"
    );
    assert!(body.contains("le=\"+Inf\""));
    assert!(
        !body.contains("/no/such/page"),
        "raw paths never become labels"
    );
    assert_eq!(line("hatchery_email_outbox{status=\"pending\"}"), "1");
    assert_eq!(line("hatchery_email_outbox{status=\"dead\"}"), "1");
    assert_eq!(line("hatchery_sync_jobs{status=\"pending\"}"), "0");
    assert_eq!(line("hatchery_sync_jobs_failing"), "0");
}
