//! Intake: rounds and rubrics (admins), startup profiles and applications (applicants),
//! through the router as a browser without JavaScript uses them.
mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::auth::Role;
use domain::error::AppError;
use domain::intake::entity::{application, event};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

fn input_time(t: chrono::DateTime<Utc>) -> String {
    domain::time::Zone::default().input_value(&t)
}

/// Creates a round through the admin's form; returns its id.
async fn create_round(
    app: &TestApp,
    jar: &mut Jar,
    title: &str,
    opens: chrono::DateTime<Utc>,
    closes: chrono::DateTime<Utc>,
) -> i64 {
    let res = app
        .post_form(
            "/api/save_round",
            "/admin/rounds/new",
            &[
                ("title_en", title),
                ("title_zh", &format!("{title}（中文）")),
                ("description_en", "For AI startups."),
                ("description_zh", "面向人工智能创业企业。"),
                ("opens_at", &input_time(opens)),
                ("closes_at", &input_time(closes)),
                ("review_deadline", ""),
                ("mentors_per_application", "2"),
            ],
            jar,
        )
        .await;
    let loc = res.location();
    assert!(
        loc.starts_with("/admin/rounds/") && loc.ends_with("?notice=saved"),
        "{loc} {:?}",
        res.error_param()
    );
    loc.trim_start_matches("/admin/rounds/")
        .trim_end_matches("?notice=saved")
        .parse()
        .unwrap()
}

async fn admin(app: &TestApp) -> Jar {
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    app.sign_in("admin@park.cn", "correct horse battery").await
}

async fn open_round(app: &TestApp) -> i64 {
    let mut jar = admin(app).await;
    create_round(
        app,
        &mut jar,
        "Spring 2027",
        Utc::now() - Duration::hours(1),
        Utc::now() + Duration::days(30),
    )
    .await
}

const PROFILE: &[(&str, &str)] = &[
    ("name", "DeepPark AI"),
    ("credit_code", "91350100M000100Y43"),
    ("sector", "foundation_models"),
    ("stage", "seed"),
    ("team_size", "12"),
    ("website", "https://deeppark.example.cn"),
    ("founders", "Li Lei (CEO)\nHan Meimei (CTO)"),
];

fn with(
    base: &[(&'static str, &'static str)],
    key: &str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    base.iter()
        .map(|(k, v)| if *k == key { (*k, value) } else { (*k, *v) })
        .collect()
}

const ANSWERS: &[(&str, &str)] = &[
    ("problem", "Chinese legal documents are slow to review."),
    ("solution", "A fine-tuned 7B model with retrieval."),
    ("models_data", "Qwen-7B fine-tuned on 2M public judgements."),
    ("gpu_model", "H100"),
    ("gpu_hours", "5000"),
    ("traction", "Three pilot law firms."),
    ("team", "Eight engineers, two lawyers."),
];

fn answers_for(
    round_id: &str,
    intent: &'static str,
    base: &[(&'static str, &'static str)],
) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = base
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.push(("round_id".into(), round_id.into()));
    v.push(("intent".into(), intent.into()));
    v
}

async fn post_owned(
    app: &TestApp,
    path: &str,
    from: &str,
    fields: &[(String, String)],
    jar: &mut Jar,
) -> common::TestResponse {
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form(path, from, &refs, jar).await
}

#[tokio::test]
async fn admins_run_rounds_and_rubrics() {
    let app = TestApp::new().await;
    let mut jar = admin(&app).await;
    let now = Utc::now();
    let good = |k: &str| match k {
        "opens_at" => input_time(now + Duration::days(1)),
        "closes_at" => input_time(now + Duration::days(31)),
        _ => String::new(),
    };
    let base: Vec<(&str, String)> = vec![
        ("title_en", "Autumn 2027".into()),
        ("title_zh", "2027 秋季批次".into()),
        ("description_en", "Foundation models.".into()),
        ("description_zh", "基础模型。".into()),
        ("opens_at", good("opens_at")),
        ("closes_at", good("closes_at")),
        ("review_deadline", String::new()),
        ("mentors_per_application", "3".into()),
    ];
    let cases: Vec<(&str, String, &str)> = vec![
        ("title_zh", "".into(), "error.field_required"),
        ("opens_at", "next tuesday".into(), "error.datetime_invalid"),
        ("closes_at", input_time(now), "error.window_order"),
        (
            "review_deadline",
            input_time(now + Duration::days(2)),
            "error.deadline_before_close",
        ),
        (
            "mentors_per_application",
            "0".into(),
            "error.mentors_per_application_invalid",
        ),
    ];
    for (field, value, key) in cases {
        let fields: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    if *k == field {
                        value.clone()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect();
        let res = post_owned(
            &app,
            "/api/save_round",
            "/admin/rounds/new",
            &fields,
            &mut jar,
        )
        .await;
        assert_eq!(res.error_key(), key, "{field}={value}");
        assert_eq!(
            res.error_param()
                .and_then(|e| e.field().map(str::to_string))
                .as_deref(),
            Some(field)
        );
    }
    assert_eq!(app.count(domain::intake::entity::Entity).await, 0);

    let id = create_round(
        &app,
        &mut jar,
        "Autumn 2027",
        now + Duration::days(1),
        now + Duration::days(31),
    )
    .await;
    let page = app.get("/admin/rounds", &jar).await;
    assert!(
        page.body.contains("Autumn 2027") && page.body.contains("Upcoming"),
        "{}",
        page.body
    );

    // Rubric: criteria with weights; bad input refused.
    let criterion = |name: &'static str, weight: &'static str| {
        vec![
            ("round_id".to_string(), id.to_string()),
            ("name_en".into(), name.into()),
            ("name_zh".into(), format!("{name}（中）")),
            ("guidance_en".into(), "Score 5 for excellent.".into()),
            ("guidance_zh".into(), "".into()),
            ("weight".into(), weight.into()),
        ]
    };
    let res = post_owned(
        &app,
        "/api/add_criterion",
        "/admin/rounds/1",
        &criterion("Team", "0"),
        &mut jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.weight_invalid");
    for (name, weight) in [("Team", "3"), ("Technology", "2"), ("Market", "1")] {
        let res = post_owned(
            &app,
            "/api/add_criterion",
            "/admin/rounds/1",
            &criterion(name, weight),
            &mut jar,
        )
        .await;
        assert_eq!(res.location(), format!("/admin/rounds/{id}?notice=saved"));
    }
    let page = app.get(&format!("/admin/rounds/{id}"), &jar).await;
    assert!(
        page.body.contains("weight 3 (50 % of the total)"),
        "{}",
        page.body
    );
    let market = domain::intake::entity::criterion::Entity::find()
        .filter(domain::intake::entity::criterion::Column::NameEn.eq("Market"))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let res = app
        .post_form(
            "/api/remove_criterion",
            "/admin/rounds/1",
            &[("id", &market.id.to_string())],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), format!("/admin/rounds/{id}?notice=saved"));
    assert_eq!(
        app.count(domain::intake::entity::criterion::Entity).await,
        2
    );

    // Editing keeps the id and changes the window; the audit log has each step.
    let fields: Vec<(String, String)> = base
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain([
            ("id".to_string(), id.to_string()),
            ("blind_review".into(), "on".into()),
        ])
        .collect();
    let res = post_owned(
        &app,
        "/api/save_round",
        &format!("/admin/rounds/{id}"),
        &fields,
        &mut jar,
    )
    .await;
    assert_eq!(res.location(), format!("/admin/rounds/{id}?notice=saved"));
    let round = domain::intake::entity::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(round.blind_review);
    assert_eq!(round.mentors_per_application, 3);
    let actions: Vec<String> = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::EntityType.eq("round"))
        .order_by_asc(domain::audit::entity::Column::Id)
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        [
            "round.created",
            "round.criterion_added",
            "round.criterion_added",
            "round.criterion_added",
            "round.criterion_removed",
            "round.updated"
        ]
    );

    // Nobody else may touch rounds.
    let mut founder = app
        .signed_in_applicant("founder@startup.cn", "Founder")
        .await;
    let res = post_owned(
        &app,
        "/api/save_round",
        "/admin/rounds/new",
        &fields,
        &mut founder,
    )
    .await;
    assert_eq!(res.error_key(), "error.forbidden");
    assert_eq!(
        app.get("/admin/rounds", &founder).await.status,
        StatusCode::FORBIDDEN
    );
    let res = app
        .post_form(
            "/api/remove_criterion",
            "/admin/rounds/1",
            &[("id", "1")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.forbidden");
}

#[tokio::test]
async fn applicants_keep_a_startup_profile() {
    let app = TestApp::new().await;
    let mut jar = app.signed_in_applicant("li@deeppark.cn", "Li Lei").await;
    let page = app.get("/startup", &jar).await;
    assert!(page.body.contains("Create your startup profile"));

    for (key, value, error) in [
        ("name", " ", "error.startup_name_required"),
        (
            "credit_code",
            "91350100M000100Y44",
            "error.credit_code_invalid",
        ),
        ("sector", "crypto", "error.sector_invalid"),
        ("team_size", "zero", "error.team_size_invalid"),
        ("website", "deeppark", "error.website_invalid"),
        ("founders", "", "error.founders_required"),
    ] {
        let res = app
            .post_form(
                "/api/save_startup",
                "/startup",
                &with(PROFILE, key, value),
                &mut jar,
            )
            .await;
        assert_eq!(res.error_key(), error, "{key}={value}");
    }
    assert_eq!(
        app.count(domain::startups::entity::startup::Entity).await,
        0
    );

    let res = app
        .post_form("/api/save_startup", "/startup", PROFILE, &mut jar)
        .await;
    assert_eq!(res.location(), "/startup?notice=saved");
    let page = app.get("/startup", &jar).await;
    assert!(
        page.body.contains("value=\"DeepPark AI\"") && page.body.contains("91350100M000100Y43")
    );

    // Saving again updates the same startup; lower case codes are normalised.
    let res = app
        .post_form(
            "/api/save_startup",
            "/startup",
            &with(PROFILE, "credit_code", "91350100m000100y43"),
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/startup?notice=saved");
    assert_eq!(
        app.count(domain::startups::entity::startup::Entity).await,
        1
    );

    // The code belongs to one startup only.
    let mut other = app.signed_in_applicant("wang@other.cn", "Wang").await;
    let res = app
        .post_form(
            "/api/save_startup",
            "/startup",
            &with(PROFILE, "name", "Copycat"),
            &mut other,
        )
        .await;
    assert_eq!(res.error_key(), "error.credit_code_taken");

    // A mentor without the applicant role has no startup page.
    app.user_with_roles("mentor@park.cn", "Mentor", &[Role::Mentor])
        .await;
    let mut mentor = app.sign_in("mentor@park.cn", "correct horse battery").await;
    let res = app
        .post_form("/api/save_startup", "/startup", PROFILE, &mut mentor)
        .await;
    assert_eq!(res.error_key(), "error.forbidden");
}

#[tokio::test]
async fn an_application_goes_from_draft_to_submitted_and_is_then_frozen() {
    let app = TestApp::new().await;
    let round = open_round(&app).await.to_string();
    let mut jar = app.signed_in_applicant("li@deeppark.cn", "Li Lei").await;

    // Without a startup profile the applicant is sent to create one.
    let page = app.get(&format!("/apply/{round}"), &jar).await;
    assert!(
        page.body.contains("data-testid=\"startup-required\""),
        "{}",
        page.body
    );
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&round, "save", ANSWERS),
        &mut jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.startup_required");

    app.post_form("/api/save_startup", "/startup", PROFILE, &mut jar)
        .await;

    // A partial draft is fine.
    let partial = with(ANSWERS, "solution", "");
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&round, "save", &partial),
        &mut jar,
    )
    .await;
    assert_eq!(res.location(), format!("/apply/{round}?notice=draft_saved"));
    let page = app.get(&format!("/apply/{round}"), &jar).await;
    assert!(
        page.body.contains("Qwen-7B fine-tuned"),
        "the draft is shown again"
    );

    // Submitting it is refused, naming the missing field, and changes nothing.
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&round, "submit", &partial),
        &mut jar,
    )
    .await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("solution", "error.field_required"))
    );
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&round, "submit", &with(ANSWERS, "gpu_hours", "-5")),
        &mut jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.gpu_hours_invalid");
    let a = application::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.status.as_str(), a.solution.as_str()), ("draft", ""));

    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&round, "submit", ANSWERS),
        &mut jar,
    )
    .await;
    let id = a.id;
    assert_eq!(
        res.location(),
        format!("/applications/{id}?notice=submitted")
    );
    let mail = app.last_mail_to("li@deeppark.cn").await;
    assert_eq!(mail.kind.as_str(), "submitted");
    assert!(
        mail.body_text.contains("Spring 2027")
            && mail.body_text.contains(&format!("/applications/{id}"))
    );

    // Frozen: no more edits, and the profile is shown as it was at submission.
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&round, "save", ANSWERS),
        &mut jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.application_frozen");
    app.post_form(
        "/api/save_startup",
        "/startup",
        &with(PROFILE, "name", "Renamed Later"),
        &mut jar,
    )
    .await;
    let page = app.get(&format!("/applications/{id}"), &jar).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("DeepPark AI") && !page.body.contains("Renamed Later"));
    assert!(page.body.contains("data-status=\"submitted\""));
    let steps: Vec<String> = event::Entity::find()
        .filter(event::Column::ApplicationId.eq(id))
        .order_by_asc(event::Column::Id)
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.status.to_string())
        .collect();
    assert_eq!(steps, ["draft", "submitted"]);
    let list = app.get("/applications", &jar).await;
    assert!(list.body.contains("Spring 2027") && list.body.contains("Submitted"));

    // Withdrawal, once.
    let res = app
        .post_form(
            "/api/withdraw_application",
            &format!("/applications/{id}"),
            &[("id", &id.to_string())],
            &mut jar,
        )
        .await;
    assert_eq!(
        res.location(),
        format!("/applications/{id}?notice=withdrawn")
    );
    let res = app
        .post_form(
            "/api/withdraw_application",
            &format!("/applications/{id}"),
            &[("id", &id.to_string())],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.already_withdrawn");
    let mut zh_jar = jar.clone();
    zh_jar
        .cookies
        .insert("hatchery_lang".into(), "zh-CN".into());
    let zh = app.get(&format!("/applications/{id}"), &zh_jar).await;
    assert!(zh.body.contains("已撤回"));
}

#[tokio::test]
async fn submissions_only_while_the_round_is_open() {
    let app = TestApp::new().await;
    let mut admin_jar = admin(&app).await;
    let now = Utc::now();
    let upcoming = create_round(
        &app,
        &mut admin_jar,
        "Later",
        now + Duration::days(2),
        now + Duration::days(9),
    )
    .await
    .to_string();
    let closed = create_round(
        &app,
        &mut admin_jar,
        "Past",
        now - Duration::days(9),
        now - Duration::days(2),
    )
    .await
    .to_string();
    let mut jar = app.signed_in_applicant("li@deeppark.cn", "Li Lei").await;
    app.post_form("/api/save_startup", "/startup", PROFILE, &mut jar)
        .await;

    // Before it opens: drafts yes, submission no.
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&upcoming, "save", ANSWERS),
        &mut jar,
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/apply/{upcoming}?notice=draft_saved")
    );
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&upcoming, "submit", ANSWERS),
        &mut jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.round_not_open");
    // After it closes: nothing.
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&closed, "save", ANSWERS),
        &mut jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.round_not_open");
    let statuses: Vec<String> = application::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.status.to_string())
        .collect();
    assert_eq!(statuses, ["draft"]);
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for("999999", "save", ANSWERS),
        &mut jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.not_found");
}

#[tokio::test]
async fn nobody_sees_or_touches_another_startups_application() {
    let app = TestApp::new().await;
    let round = open_round(&app).await.to_string();
    let mut owner = app.signed_in_applicant("li@deeppark.cn", "Li Lei").await;
    app.post_form("/api/save_startup", "/startup", PROFILE, &mut owner)
        .await;
    post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&round, "submit", ANSWERS),
        &mut owner,
    )
    .await;
    let id = application::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();

    let mut rival = app.signed_in_applicant("rival@other.cn", "Rival").await;
    app.post_form(
        "/api/save_startup",
        "/startup",
        &with(&with(PROFILE, "credit_code", ""), "name", "Rival AI"),
        &mut rival,
    )
    .await;
    app.user_with_roles("mentor@park.cn", "Mentor", &[Role::Mentor])
        .await;
    let mut mentor = app.sign_in("mentor@park.cn", "correct horse battery").await;
    let admin_jar = app.sign_in("admin@park.cn", "correct horse battery").await;

    let page = format!("/applications/{id}");
    assert_eq!(app.get(&page, &owner).await.status, StatusCode::OK);
    assert_eq!(app.get(&page, &admin_jar).await.status, StatusCode::OK);
    assert_eq!(app.get(&page, &rival).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&page, &mentor).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&page, &Jar::default()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let rival_list = app.get("/applications", &rival).await;
    assert!(!rival_list.body.contains("Spring 2027"));

    for jar in [&mut rival, &mut mentor] {
        let res = app
            .post_form("/api/withdraw_application", &page, &[("id", &id)], jar)
            .await;
        assert_eq!(res.error_key(), "error.not_found");
    }
    let a = application::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.status, domain::intake::ApplicationStatus::Submitted);
}

#[tokio::test]
async fn cofounders_are_invited_by_email_and_join_the_team() {
    let app = TestApp::new().await;
    let round = open_round(&app).await.to_string();
    let mut founder = app.signed_in_applicant("li@deeppark.cn", "Li Lei").await;

    // No profile yet: nobody to invite onto.
    let res = app
        .post_form(
            "/api/invite_cofounder",
            "/startup",
            &[("email", "han@deeppark.cn"), ("lang", "zh-CN")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.no_startup");
    app.post_form("/api/save_startup", "/startup", PROFILE, &mut founder)
        .await;
    let res = post_owned(
        &app,
        "/api/save_application",
        "/apply/1",
        &answers_for(&round, "draft", ANSWERS),
        &mut founder,
    )
    .await;
    assert!(
        res.location().contains("notice=draft_saved"),
        "{:?}",
        res.error_param()
    );

    // Bad input changes nothing.
    let tokens = app.count(domain::auth::entity::email_token::Entity).await;
    let res = app
        .post_form(
            "/api/invite_cofounder",
            "/startup",
            &[("email", "not-an-address"), ("lang", "en")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.email_invalid");
    assert_eq!(
        app.count(domain::auth::entity::email_token::Entity).await,
        tokens
    );

    // A new person: the link lets them create an account and join, in Chinese.
    let res = app
        .post_form(
            "/api/invite_cofounder",
            "/startup",
            &[("email", "han@deeppark.cn"), ("lang", "zh-CN")],
            &mut founder,
        )
        .await;
    assert_eq!(
        res.location(),
        "/startup?notice=invitation_sent",
        "{:?}",
        res.error_param()
    );
    let res = app
        .post_form(
            "/api/invite_cofounder",
            "/startup",
            &[("email", "han@deeppark.cn"), ("lang", "en")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.already_invited");
    let mail = app.last_mail_to("han@deeppark.cn").await;
    assert!(mail.subject.contains("团队") && mail.body_text.contains("DeepPark AI"));
    let token = common::link_token(&mail.body_text, "/invite?token=");
    let page = app.get("/startup", &founder).await;
    assert!(page.body.contains("data-pending=\"han@deeppark.cn\""));
    let page = app
        .get(&format!("/invite?token={token}"), &Jar::default())
        .await;
    assert!(
        page.body.contains("join the team of DeepPark AI"),
        "{}",
        page.body
    );
    let mut han = Jar::default();
    let res = app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[
                ("token", &token),
                ("name", "Han Meimei"),
                ("password", "another horse battery"),
            ],
            &mut han,
        )
        .await;
    assert_eq!(
        res.location(),
        "/login?notice=invitation_accepted",
        "{:?}",
        res.error_param()
    );
    let han = app
        .sign_in("han@deeppark.cn", "another horse battery")
        .await;
    let page = app.get("/startup", &han).await;
    assert!(page.body.contains("value=\"DeepPark AI\""));
    assert!(
        page.body.contains("data-member=\"han@deeppark.cn\"") && page.body.contains("Co-founder")
    );
    assert!(!page.body.contains("data-pending="));
    // The co-founder sees the team's application.
    let list = app.get("/applications", &han).await;
    assert!(list.body.contains("Spring 2027"), "{}", list.body);

    // Someone on another team cannot be invited; the link of a cancelled invitation is dead.
    let mut other = app.signed_in_applicant("wang@other.cn", "Wang").await;
    app.post_form(
        "/api/save_startup",
        "/startup",
        &with(&with(PROFILE, "name", "Other AI"), "credit_code", ""),
        &mut other,
    )
    .await;
    let res = app
        .post_form(
            "/api/invite_cofounder",
            "/startup",
            &[("email", "wang@other.cn"), ("lang", "en")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.already_on_team");
    let res = app
        .post_form(
            "/api/invite_cofounder",
            "/startup",
            &[("email", "han@deeppark.cn"), ("lang", "en")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.already_on_this_team");
    app.post_form(
        "/api/invite_cofounder",
        "/startup",
        &[("email", "zhou@deeppark.cn"), ("lang", "en")],
        &mut founder,
    )
    .await;
    let token = common::link_token(
        &app.last_mail_to("zhou@deeppark.cn").await.body_text,
        "/invite?token=",
    );
    let pending = domain::auth::entity::email_token::Entity::find()
        .filter(domain::auth::entity::email_token::Column::Email.eq("zhou@deeppark.cn"))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    // Only the team can cancel its invitations.
    let res = app
        .post_form(
            "/api/cancel_cofounder_invitation",
            "/startup",
            &[("id", &pending.id.to_string())],
            &mut other,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::NotFound));
    let res = app
        .post_form(
            "/api/cancel_cofounder_invitation",
            "/startup",
            &[("id", &pending.id.to_string())],
            &mut founder,
        )
        .await;
    assert_eq!(res.location(), "/startup?notice=saved");
    let res = app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[
                ("token", &token),
                ("name", "Zhou"),
                ("password", "another horse battery"),
            ],
            &mut Jar::default(),
        )
        .await;
    assert_eq!(res.error_key(), "error.token_invalid");

    // An existing account without a team joins with its own password.
    let mut solo = app.signed_in_applicant("solo@example.cn", "Solo").await;
    app.post_form(
        "/api/invite_cofounder",
        "/startup",
        &[("email", "solo@example.cn"), ("lang", "en")],
        &mut founder,
    )
    .await;
    let token = common::link_token(
        &app.last_mail_to("solo@example.cn").await.body_text,
        "/invite?token=",
    );
    let res = app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[("token", &token), ("password", "correct horse battery")],
            &mut solo,
        )
        .await;
    assert_eq!(
        res.location(),
        "/login?notice=invitation_accepted",
        "{:?}",
        res.error_param()
    );
    assert_eq!(
        domain::startups::entity::member::Entity::find()
            .filter(domain::startups::entity::member::Column::Role.eq("cofounder"))
            .all(app.db())
            .await
            .unwrap()
            .len(),
        2
    );
    let audit = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq("team.invited"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(audit.len(), 3);
}
