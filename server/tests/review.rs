//! Review: admins assign mentors; mentors score with the rubric or declare a conflict.
mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::auth::Role;
use domain::error::AppError;
use domain::intake::entity::{application, criterion};
use domain::review::entity::{assignment, score};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};

struct Setup {
    app: TestApp,
    admin: Jar,
    founder: Jar,
    application: i64,
    criteria: Vec<i64>,
}

/// An admin, a round with a two-line rubric, and one submitted application from DeepPark AI.
async fn setup(blind: bool) -> Setup {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let fmt = |t: chrono::DateTime<Utc>| domain::time::Zone::default().input_value(&t);
    let mut fields = vec![
        ("title_en", "Spring 2027".to_string()),
        ("title_zh", "2027 春季批次".into()),
        ("description_en", "AI startups.".into()),
        ("description_zh", "人工智能创业企业。".into()),
        ("opens_at", fmt(Utc::now() - Duration::hours(1))),
        ("closes_at", fmt(Utc::now() + Duration::days(10))),
        ("review_deadline", fmt(Utc::now() + Duration::days(20))),
        ("mentors_per_application", "2".into()),
    ];
    if blind {
        fields.push(("blind_review", "on".into()));
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app
        .post_form("/api/save_round", "/admin/rounds/new", &refs, &mut admin)
        .await;
    let round: i64 = res
        .location()
        .trim_start_matches("/admin/rounds/")
        .trim_end_matches("?notice=saved")
        .parse()
        .unwrap();
    for (name, weight) in [("Team", "2"), ("Technology", "1")] {
        let round_s = round.to_string();
        app.post_form(
            "/api/add_criterion",
            "/admin/rounds/1",
            &[
                ("round_id", &round_s),
                ("name_en", name),
                ("name_zh", name),
                ("weight", weight),
            ],
            &mut admin,
        )
        .await;
    }
    let criteria = criterion::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();

    let mut founder = app.signed_in_applicant("li@deeppark.cn", "Li Lei").await;
    app.post_form(
        "/api/save_startup",
        "/startup",
        &[
            ("name", "DeepPark AI"),
            ("sector", "language"),
            ("stage", "seed"),
            ("team_size", "9"),
            ("founders", "Li Lei (CEO)"),
        ],
        &mut founder,
    )
    .await;
    let round_s = round.to_string();
    let res = app
        .post_form(
            "/api/save_application",
            "/apply/1",
            &[
                ("round_id", &round_s),
                ("problem", "Slow legal review."),
                ("solution", "Fine-tuned model."),
                ("models_data", "7B on judgements."),
                ("gpu_model", "A800"),
                ("gpu_hours", "3000"),
                ("team", "Nine people."),
                ("intent", "submit"),
            ],
            &mut founder,
        )
        .await;
    assert!(
        res.location().contains("notice=submitted"),
        "{:?}",
        res.error_param()
    );
    let application = application::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    Setup {
        app,
        admin,
        founder,
        application,
        criteria,
    }
}

async fn mentor(app: &TestApp, email: &str, name: &str) -> (i64, Jar) {
    let id = app.user_with_roles(email, name, &[Role::Mentor]).await;
    (id, app.sign_in(email, "correct horse battery").await)
}

async fn assign(s: &mut Setup, mentor_id: i64) -> common::TestResponse {
    s.app
        .post_form(
            "/api/assign_reviewer",
            "/admin/rounds/1/applications",
            &[
                ("application_id", &s.application.to_string()),
                ("mentor_id", &mentor_id.to_string()),
            ],
            &mut s.admin,
        )
        .await
}

fn review_form(
    id: i64,
    scores: &[(i64, &str)],
    recommendation: &str,
    feedback: &str,
) -> Vec<(String, String)> {
    let mut v = vec![
        ("id".to_string(), id.to_string()),
        ("recommendation".into(), recommendation.into()),
        ("feedback_applicant".into(), feedback.into()),
        (
            "notes_committee".into(),
            "Strong team; check data licences.".into(),
        ),
    ];
    for (c, score) in scores {
        v.push((format!("scores[{c}]"), score.to_string()));
    }
    v
}

async fn post(
    app: &TestApp,
    path: &str,
    fields: &[(String, String)],
    jar: &mut Jar,
) -> common::TestResponse {
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form(path, "/reviews/1", &refs, jar).await
}

async fn assignment_of(app: &TestApp, mentor_id: i64) -> assignment::Model {
    assignment::Entity::find()
        .filter(assignment::Column::MentorId.eq(mentor_id))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn admins_assign_mentors_who_are_not_on_the_team() {
    let mut s = setup(false).await;
    let (wang, _) = mentor(&s.app, "wang@park.cn", "Mentor Wang").await;
    let res = assign(&mut s, wang).await;
    assert_eq!(res.status, StatusCode::FOUND, "{:?}", res.error_param());
    assert_eq!(res.error_param(), None);
    let a = application::Entity::find_by_id(s.application)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.status, domain::intake::ApplicationStatus::InReview);
    let mail = s.app.last_mail_to("wang@park.cn").await;
    assert_eq!(mail.kind.as_str(), "assigned");
    let x = assignment_of(&s.app, wang).await;
    assert!(mail.body_text.contains(&format!("/reviews/{}", x.id)));

    assert_eq!(
        assign(&mut s, wang).await.error_key(),
        "error.already_assigned"
    );
    let applicant_id = domain::auth::accounts::find_user_by_email(
        s.app.db(),
        &domain::auth::EmailAddress::parse("li@deeppark.cn").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .id;
    assert_eq!(
        assign(&mut s, applicant_id).await.error_key(),
        "error.not_a_mentor"
    );
    // The founder is also a mentor: still not allowed to review their own startup.
    let admin = s.app.actor("admin@park.cn").await;
    domain::auth::users::set_roles(
        s.app.db(),
        &admin,
        applicant_id,
        &[Role::Applicant, Role::Mentor],
    )
    .await
    .unwrap();
    assert_eq!(
        assign(&mut s, applicant_id).await.error_key(),
        "error.mentor_on_team"
    );

    // The admin's table shows the reviewer; the applicant's timeline shows "in review".
    let page = s
        .app
        .get(
            &format!("/admin/rounds/{}/applications", a.round_id),
            &s.admin,
        )
        .await;
    assert!(
        page.body.contains("Mentor Wang") && page.body.contains("DeepPark AI"),
        "{}",
        page.body
    );
    let mine = s
        .app
        .get(&format!("/applications/{}", s.application), &s.founder)
        .await;
    assert!(mine.body.contains("data-status=\"in_review\""));

    // Only admins assign.
    let (_, mut other) = mentor(&s.app, "zhao@park.cn", "Mentor Zhao").await;
    let res = s
        .app
        .post_form(
            "/api/assign_reviewer",
            "/reviews",
            &[
                ("application_id", &s.application.to_string()),
                ("mentor_id", &wang.to_string()),
            ],
            &mut other,
        )
        .await;
    assert_eq!(res.error_key(), "error.forbidden");
}

#[tokio::test]
async fn a_mentor_scores_every_criterion_and_sees_only_their_own_reviews() {
    let mut s = setup(false).await;
    let (wang, mut wang_jar) = mentor(&s.app, "wang@park.cn", "Mentor Wang").await;
    let (zhao, mut zhao_jar) = mentor(&s.app, "zhao@park.cn", "Mentor Zhao").await;
    assign(&mut s, wang).await;
    assign(&mut s, zhao).await;
    let mine = assignment_of(&s.app, wang).await.id;
    let theirs = assignment_of(&s.app, zhao).await.id;
    let (team, tech) = (s.criteria[0], s.criteria[1]);

    let queue = s.app.get("/reviews", &wang_jar).await;
    assert!(
        queue.body.contains(&format!("/reviews/{mine}"))
            && !queue.body.contains(&format!("/reviews/{theirs}"))
    );
    let page = s.app.get(&format!("/reviews/{mine}"), &wang_jar).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("DeepPark AI") && page.body.contains("Slow legal review."));

    // Another mentor's assignment, an applicant, a visitor: nothing to see.
    assert_eq!(
        s.app
            .get(&format!("/reviews/{theirs}"), &wang_jar)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.app
            .get(&format!("/reviews/{mine}"), &s.founder)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.app.get("/reviews", &Jar::default()).await.status,
        StatusCode::UNAUTHORIZED
    );

    let bad: Vec<(Vec<(String, String)>, AppError)> = vec![
        (
            review_form(mine, &[(team, "4")], "accept", "Good."),
            AppError::invalid(&format!("scores[{tech}]"), "error.score_required"),
        ),
        (
            review_form(mine, &[(team, "6"), (tech, "3")], "accept", "Good."),
            AppError::invalid(&format!("scores[{team}]"), "error.score_range"),
        ),
        (
            review_form(
                mine,
                &[(team, "4"), (tech, "3"), (999, "3")],
                "accept",
                "Good.",
            ),
            AppError::invalid("scores", "error.score_unknown_criterion"),
        ),
        (
            review_form(mine, &[(team, "4"), (tech, "3")], "maybe", "Good."),
            AppError::invalid("recommendation", "error.recommendation_invalid"),
        ),
        (
            review_form(mine, &[(team, "4"), (tech, "3")], "accept", "  "),
            AppError::invalid("feedback_applicant", "error.field_required"),
        ),
    ];
    for (form, expected) in bad {
        let res = post(&s.app, "/api/submit_review", &form, &mut wang_jar).await;
        assert_eq!(res.error_param(), Some(expected));
    }
    assert_eq!(s.app.count(score::Entity).await, 0);

    // Zhao cannot submit Wang's review.
    let res = post(
        &s.app,
        "/api/submit_review",
        &review_form(mine, &[(team, "1"), (tech, "1")], "reject", "No."),
        &mut zhao_jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.not_found");

    let res = post(
        &s.app,
        "/api/submit_review",
        &review_form(
            mine,
            &[(team, "4"), (tech, "3")],
            "accept",
            "Impressive pilots.",
        ),
        &mut wang_jar,
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/reviews/{mine}?notice=review_saved")
    );
    let x = assignment_of(&s.app, wang).await;
    assert_eq!(
        (x.status.as_str(), x.recommendation.map(|r| r.as_str())),
        ("submitted", Some("accept"))
    );
    // Revised before the deadline.
    let res = post(
        &s.app,
        "/api/submit_review",
        &review_form(
            mine,
            &[(team, "5"), (tech, "3")],
            "accept",
            "Impressive pilots.",
        ),
        &mut wang_jar,
    )
    .await;
    assert!(res.location().ends_with("notice=review_saved"));
    let scores: Vec<i32> = score::Entity::find()
        .filter(score::Column::AssignmentId.eq(mine))
        .all(s.app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.score)
        .collect();
    assert_eq!(scores.iter().sum::<i32>(), 8);

    // Committee notes never reach the applicant.
    let page = s
        .app
        .get(&format!("/applications/{}", s.application), &s.founder)
        .await;
    assert!(!page.body.contains("check data licences"));

    // After the deadline the review is closed.
    let a = application::Entity::find_by_id(s.application)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap();
    let mut r: domain::intake::entity::ActiveModel =
        domain::intake::entity::Entity::find_by_id(a.round_id)
            .one(s.app.db())
            .await
            .unwrap()
            .unwrap()
            .into();
    r.review_deadline = Set(Some(Utc::now() - Duration::minutes(1)));
    r.update(s.app.db()).await.unwrap();
    let res = post(
        &s.app,
        "/api/submit_review",
        &review_form(theirs, &[(team, "2"), (tech, "2")], "reject", "Not yet."),
        &mut zhao_jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.review_closed");
}

#[tokio::test]
async fn blind_review_hides_who_applied() {
    let mut s = setup(true).await;
    let (wang, wang_jar) = mentor(&s.app, "wang@park.cn", "Mentor Wang").await;
    assign(&mut s, wang).await;
    let mine = assignment_of(&s.app, wang).await.id;
    let queue = s.app.get("/reviews", &wang_jar).await;
    assert!(!queue.body.contains("DeepPark AI"));
    assert!(queue
        .body
        .contains(&format!("Application #{}", s.application)));
    let page = s.app.get(&format!("/reviews/{mine}"), &wang_jar).await;
    assert!(
        !page.body.contains("DeepPark AI") && !page.body.contains("Li Lei"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Slow legal review."));
    // Nor anything else of it, in data for the browser: pages carry none (only islands run
    // there, and they get their props alone).
    assert!(
        page.body.contains("__RESOLVED_RESOURCES=[];") && !page.body.contains("\"profile\""),
        "{}",
        page.body
    );
    // The admin still sees the name.
    let a = application::Entity::find_by_id(s.application)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap();
    let admin_page = s
        .app
        .get(
            &format!("/admin/rounds/{}/applications", a.round_id),
            &s.admin,
        )
        .await;
    assert!(admin_page.body.contains("DeepPark AI"));
}

#[tokio::test]
async fn a_declared_conflict_recuses_the_mentor_and_tells_the_admins() {
    let mut s = setup(false).await;
    let (wang, mut wang_jar) = mentor(&s.app, "wang@park.cn", "Mentor Wang").await;
    assign(&mut s, wang).await;
    let mine = assignment_of(&s.app, wang).await.id;
    let (team, tech) = (s.criteria[0], s.criteria[1]);
    post(
        &s.app,
        "/api/submit_review",
        &review_form(mine, &[(team, "4"), (tech, "4")], "accept", "Fine."),
        &mut wang_jar,
    )
    .await;

    let id = mine.to_string();
    let res = s
        .app
        .post_form(
            "/api/declare_conflict",
            "/reviews/1",
            &[("id", &id), ("reason", " ")],
            &mut wang_jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.conflict_reason_required");
    let res = s
        .app
        .post_form(
            "/api/declare_conflict",
            "/reviews/1",
            &[("id", &id), ("reason", "I advise their CTO.")],
            &mut wang_jar,
        )
        .await;
    assert_eq!(res.location(), "/reviews?notice=recused");
    let x = assignment_of(&s.app, wang).await;
    assert_eq!(x.status, domain::review::AssignmentStatus::Recused);
    assert_eq!(
        s.app.count(score::Entity).await,
        0,
        "a recused mentor's scores do not count"
    );
    let mail = s.app.last_mail_to("admin@park.cn").await;
    assert_eq!(mail.kind.as_str(), "conflict");
    assert!(mail.body_text.contains("Mentor Wang"));

    let res = post(
        &s.app,
        "/api/submit_review",
        &review_form(mine, &[(team, "4"), (tech, "4")], "accept", "Fine."),
        &mut wang_jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.recused");
}

/// Another startup applies to the same round; returns its application id.
async fn apply_as(s: &Setup, email: &str, startup: &str, founders: &str) -> i64 {
    let mut jar = s.app.signed_in_applicant(email, founders).await;
    s.app
        .post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", startup),
                ("sector", "computer_vision"),
                ("stage", "idea"),
                ("team_size", "3"),
                ("founders", founders),
            ],
            &mut jar,
        )
        .await;
    let round = application::Entity::find_by_id(s.application)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap()
        .round_id
        .to_string();
    let res = s
        .app
        .post_form(
            "/api/save_application",
            "/apply/1",
            &[
                ("round_id", &round),
                ("problem", "Defects."),
                ("solution", "Vision."),
                ("models_data", "ViT."),
                ("gpu_model", "L40S"),
                ("gpu_hours", "500"),
                ("team", "Three."),
                ("intent", "submit"),
            ],
            &mut jar,
        )
        .await;
    assert!(res.location().contains("notice=submitted"));
    application::Entity::find()
        .order_by_desc(application::Column::Id)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn second_application(s: &Setup) -> i64 {
    apply_as(s, "chen@visionary.cn", "Visionary", "Chen").await
}

fn active_for(all: &[assignment::Model], application: i64) -> Vec<i64> {
    all.iter()
        .filter(|x| {
            x.application_id == application && x.status != domain::review::AssignmentStatus::Recused
        })
        .map(|x| x.mentor_id)
        .collect()
}

#[tokio::test]
async fn automatic_assignment_balances_load_and_respects_conflicts() {
    let mut s = setup(false).await;
    let b = apply_as(&s, "chen@visionary.cn", "Visionary", "Chen Jing").await;
    let c = apply_as(&s, "wang@tianqi.cn", "Tianqi Robotics", "Wang Fang").await;
    let d = apply_as(&s, "zhao@yunfan.cn", "云帆智能", "赵敏").await;
    let apps = [s.application, b, c, d];
    let (m1, mut j1) = mentor(&s.app, "m1@park.cn", "Mentor One").await;
    let (m2, _) = mentor(&s.app, "m2@park.cn", "Mentor Two").await;
    let (m3, mut j3) = mentor(&s.app, "m3@park.cn", "Mentor Three").await;
    let round = application::Entity::find_by_id(s.application)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap()
        .round_id
        .to_string();

    // Mentors declare their ties; only mentors may.
    let res = s
        .app
        .post_form(
            "/api/save_affiliations",
            "/reviews",
            &[("affiliations", "DeepPark AI Ltd.\nPeking University")],
            &mut j1,
        )
        .await;
    assert_eq!(
        res.location(),
        "/reviews?notice=saved",
        "{:?}",
        res.error_param()
    );
    s.app
        .post_form(
            "/api/save_affiliations",
            "/reviews",
            &[("affiliations", "赵敏，Tsinghua")],
            &mut j3,
        )
        .await;
    let mut founder = s.founder.clone();
    let res = s
        .app
        .post_form(
            "/api/save_affiliations",
            "/reviews",
            &[("affiliations", "Anything")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::Forbidden));

    // By hand, a declared affiliation is refused too.
    let res = assign(&mut s, m1).await;
    assert_eq!(res.error_key(), "error.mentor_affiliated");

    // Only admins run it.
    let res = s
        .app
        .post_form(
            "/api/auto_assign",
            "/admin/rounds/1/applications",
            &[("round_id", &round)],
            &mut j1,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::Forbidden));
    assert_eq!(s.app.count(assignment::Entity).await, 0);

    let before_mail = s.app.count(domain::mail::entity::Entity).await;
    let res = s
        .app
        .post_form(
            "/api/auto_assign",
            "/admin/rounds/1/applications",
            &[("round_id", &round)],
            &mut s.admin,
        )
        .await;
    assert_eq!(
        res.location(),
        format!("/admin/rounds/{round}/applications?notice=auto_assigned"),
        "{:?}",
        res.error_param()
    );
    let all = assignment::Entity::find().all(s.app.db()).await.unwrap();
    assert_eq!(all.len(), 8, "two mentors for each of four applications");
    for a in apps {
        assert_eq!(active_for(&all, a).len(), 2);
        let status = application::Entity::find_by_id(a)
            .one(s.app.db())
            .await
            .unwrap()
            .unwrap()
            .status;
        assert_eq!(status, domain::intake::ApplicationStatus::InReview);
    }
    assert!(
        !active_for(&all, s.application).contains(&m1),
        "m1 declared DeepPark"
    );
    assert!(
        !active_for(&all, d).contains(&m3),
        "m3 declared its founder 赵敏"
    );
    let loads: Vec<usize> = [m1, m2, m3]
        .iter()
        .map(|m| all.iter().filter(|x| x.mentor_id == *m).count())
        .collect();
    assert!(
        loads.iter().max().unwrap() - loads.iter().min().unwrap() <= 1,
        "balanced: {loads:?}"
    );
    // One email per mentor, not one per assignment.
    assert_eq!(
        s.app.count(domain::mail::entity::Entity).await,
        before_mail + 3
    );
    assert!(s
        .app
        .last_mail_to("m2@park.cn")
        .await
        .body_text
        .contains("/reviews"));

    // Running it again changes nothing.
    s.app
        .post_form(
            "/api/auto_assign",
            "/admin/rounds/1/applications",
            &[("round_id", &round)],
            &mut s.admin,
        )
        .await;
    assert_eq!(s.app.count(assignment::Entity).await, 8);

    // A recusal leaves a gap; the next run fills it with someone else, if anyone is free.
    let recusing = all.iter().find(|x| x.application_id == c).unwrap().clone();
    let mut jar = s
        .app
        .sign_in(
            if recusing.mentor_id == m1 {
                "m1@park.cn"
            } else if recusing.mentor_id == m2 {
                "m2@park.cn"
            } else {
                "m3@park.cn"
            },
            "correct horse battery",
        )
        .await;
    let res = s
        .app
        .post_form(
            "/api/declare_conflict",
            "/reviews/1",
            &[
                ("id", &recusing.id.to_string()),
                ("reason", "Former employer."),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/reviews?notice=recused");
    s.app
        .post_form(
            "/api/auto_assign",
            "/admin/rounds/1/applications",
            &[("round_id", &round)],
            &mut s.admin,
        )
        .await;
    let all = assignment::Entity::find().all(s.app.db()).await.unwrap();
    let now_on_c = active_for(&all, c);
    assert_eq!(now_on_c.len(), 2);
    assert!(!now_on_c.contains(&recusing.mentor_id));

    // With too few eligible mentors the admin is told some are still short.
    let mut round_row = domain::intake::entity::Entity::find()
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    round_row.mentors_per_application = Set(3);
    round_row.update(s.app.db()).await.unwrap();
    let res = s
        .app
        .post_form(
            "/api/auto_assign",
            "/admin/rounds/1/applications",
            &[("round_id", &round)],
            &mut s.admin,
        )
        .await;
    assert_eq!(
        res.location(),
        format!("/admin/rounds/{round}/applications?notice=auto_assigned_short")
    );
    let all = assignment::Entity::find().all(s.app.db()).await.unwrap();
    assert_eq!(active_for(&all, b).len(), 3);
    assert_eq!(
        active_for(&all, s.application).len(),
        2,
        "m1 stays off DeepPark"
    );
    assert_eq!(
        active_for(&all, c).len(),
        2,
        "the recused mentor is not asked again"
    );
}

#[tokio::test]
async fn the_board_aggregates_reviews_and_admins_decide() {
    let mut s = setup(false).await;
    let first = s.application;
    let second = second_application(&s).await;
    let (wang, mut wang_jar) = mentor(&s.app, "wang@park.cn", "Mentor Wang").await;
    let (zhao, mut zhao_jar) = mentor(&s.app, "zhao@park.cn", "Mentor Zhao").await;
    for app_id in [first, second] {
        s.application = app_id;
        assign(&mut s, wang).await;
        assign(&mut s, zhao).await;
    }
    s.application = first;
    let (team, tech) = (s.criteria[0], s.criteria[1]);
    // Team weighs 2, technology 1. Wang is lenient, Zhao harsh; both prefer the first startup.
    let plan = [
        (wang, first, "5", "2"),  // (10 + 2) / 3 = 4.00
        (wang, second, "3", "3"), // 3.00
        (zhao, first, "2", "2"),  // 2.00
        (zhao, second, "1", "1"), // 1.00
    ];
    for (m, a, t, k) in plan {
        let x = assignment::Entity::find()
            .filter(assignment::Column::MentorId.eq(m))
            .filter(assignment::Column::ApplicationId.eq(a))
            .one(s.app.db())
            .await
            .unwrap()
            .unwrap()
            .id;
        let jar = if m == wang {
            &mut wang_jar
        } else {
            &mut zhao_jar
        };
        let form = review_form(
            x,
            &[(team, t), (tech, k)],
            "accept",
            &format!("Feedback from mentor {m}."),
        );
        let res = post(&s.app, "/api/submit_review", &form, jar).await;
        assert!(
            res.location().ends_with("notice=review_saved"),
            "{:?}",
            res.error_param()
        );
    }

    let admin = s.app.actor("admin@park.cn").await;
    let a = application::Entity::find_by_id(first)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap();
    let board = domain::review::decisions::board(
        s.app.db(),
        &admin,
        a.round_id,
        &Default::default(),
        domain::i18n::Locale::En,
    )
    .await
    .unwrap();
    let row = |id: i64| {
        board
            .rows
            .iter()
            .find(|r| r.application_id == id)
            .unwrap()
            .clone()
    };
    let (r1, r2) = (row(first), row(second));
    assert_eq!(
        (r1.weighted_mean, r1.spread, r1.disagreement),
        (Some(3.0), Some(2.0), true)
    );
    assert_eq!(
        (r2.weighted_mean, r2.spread, r2.disagreement),
        (Some(2.0), Some(2.0), true)
    );
    // Each mentor rated the first above the second: normalised +1 and -1.
    assert_eq!((r1.normalised, r2.normalised), (Some(1.0), Some(-1.0)));
    assert_eq!(r1.reviews.len(), 2);

    // Only admins see the board or decide.
    let mentor_actor = s.app.actor("wang@park.cn").await;
    assert_eq!(
        domain::review::decisions::board(
            s.app.db(),
            &mentor_actor,
            a.round_id,
            &Default::default(),
            domain::i18n::Locale::En
        )
        .await
        .err(),
        Some(AppError::Forbidden)
    );
    let page = s
        .app
        .get(&format!("/admin/rounds/{}/decisions", a.round_id), &s.admin)
        .await;
    assert!(
        page.body.contains("3.00") && page.body.contains("data-testid=\"disagreement\""),
        "{}",
        page.body
    );
    let decide = |app_id: i64, decision: &'static str, message: &'static str| {
        vec![
            ("application_id".to_string(), app_id.to_string()),
            ("decision".to_string(), decision.to_string()),
            ("message".to_string(), message.to_string()),
        ]
    };
    let res = post(
        &s.app,
        "/api/decide",
        &decide(first, "accept", ""),
        &mut wang_jar,
    )
    .await;
    assert_eq!(res.error_key(), "error.forbidden");
    let res = post(
        &s.app,
        "/api/decide",
        &decide(first, "maybe", ""),
        &mut s.admin,
    )
    .await;
    assert_eq!(res.error_key(), "error.decision_invalid");
    // Without JavaScript the board comes back with the error and what was typed in the row it
    // was sent from, and in no other row.
    let board = format!("/admin/rounds/{}/decisions", a.round_id);
    let first_id = first.to_string();
    let res = s
        .app
        .post_form(
            "/api/decide",
            &board,
            &[
                ("__page", board.as_str()),
                ("application_id", first_id.as_str()),
                ("decision", "maybe"),
                ("message", "Typed for the first row"),
            ],
            &mut s.admin,
        )
        .await;
    assert_eq!(res.error_key(), "error.decision_invalid");
    let row_of = |id: i64| {
        let start = res
            .body
            .find(&format!("<tr data-application=\"{id}\""))
            .unwrap_or_else(|| panic!("row {id} in {}", res.body));
        let end = res.body[start..].find("</tr>").unwrap() + start;
        res.body[start..end].to_string()
    };
    let (mine, other) = (row_of(first), row_of(second));
    assert!(mine.contains("role=\"alert\""), "{mine}");
    assert!(
        mine.contains(">Typed for the first row</textarea>"),
        "{mine}"
    );
    assert!(!other.contains("role=\"alert\""), "{other}");
    assert!(!other.contains("Typed for the first row"), "{other}");
    assert_eq!(res.body.matches("role=\"alert\"").count(), 1);

    let res = post(
        &s.app,
        "/api/decide",
        &decide(first, "accept", "Welcome to Turing Town."),
        &mut s.admin,
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    let a = application::Entity::find_by_id(first)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.status.as_str(), a.decision_message.as_deref()),
        ("accepted", Some("Welcome to Turing Town."))
    );
    let startup = domain::startups::entity::startup::Entity::find_by_id(a.startup_id)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        startup.status,
        domain::startups::incubation::StartupStatus::Incubating
    );
    let mail = s.app.last_mail_to("li@deeppark.cn").await;
    assert_eq!(mail.kind.as_str(), "decision");
    assert!(
        mail.body_text
            .contains("accepted into the incubation programme")
            && mail.body_text.contains("Welcome to Turing Town.")
    );

    // Final: no second decision, no withdrawal.
    let res = post(
        &s.app,
        "/api/decide",
        &decide(first, "reject", ""),
        &mut s.admin,
    )
    .await;
    assert_eq!(res.error_key(), "error.cannot_decide");
    let res = s
        .app
        .post_form(
            "/api/withdraw_application",
            "/applications/1",
            &[("id", &first.to_string())],
            &mut s.founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.cannot_withdraw");

    // The applicant sees the message and the mentors' feedback, never the committee's notes.
    let page = s
        .app
        .get(&format!("/applications/{first}"), &s.founder)
        .await;
    assert!(
        page.body.contains("Welcome to Turing Town.")
            && page.body.contains(&format!("Feedback from mentor {wang}."))
    );
    assert!(!page.body.contains("check data licences"));

    // The waitlist is not final: waitlisted, then accepted.
    post(
        &s.app,
        "/api/decide",
        &decide(second, "waitlist", ""),
        &mut s.admin,
    )
    .await;
    assert_eq!(
        application::Entity::find_by_id(second)
            .one(s.app.db())
            .await
            .unwrap()
            .unwrap()
            .status,
        domain::intake::ApplicationStatus::Waitlisted
    );
    let res = post(
        &s.app,
        "/api/decide",
        &decide(second, "waitlist", ""),
        &mut s.admin,
    )
    .await;
    assert_eq!(res.error_key(), "error.cannot_decide");
    post(
        &s.app,
        "/api/decide",
        &decide(second, "accept", ""),
        &mut s.admin,
    )
    .await;
    assert_eq!(
        application::Entity::find_by_id(second)
            .one(s.app.db())
            .await
            .unwrap()
            .unwrap()
            .status,
        domain::intake::ApplicationStatus::Accepted
    );

    // The board narrows to a status in the address, so it works without JavaScript.
    let round = application::Entity::find_by_id(second)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap()
        .round_id;
    let all = s
        .app
        .get(&format!("/admin/rounds/{round}/decisions"), &s.admin)
        .await;
    // (Names also appear in the page's serialised data, so rows are counted by their marker.)
    let rows = |body: &str| body.matches("<tr data-application=").count();
    assert_eq!(rows(&all.body), 2);
    let withdrawn = s
        .app
        .get(
            &format!("/admin/rounds/{round}/decisions?status=withdrawn"),
            &s.admin,
        )
        .await;
    assert_eq!(rows(&withdrawn.body), 0);
    assert!(withdrawn.body.contains("No application matches"));
    let sorted = s
        .app
        .get(
            &format!("/admin/rounds/{round}/decisions?sort=normalised&status=accepted"),
            &s.admin,
        )
        .await;
    assert_eq!(rows(&sorted.body), 2);
    let deeppark = sorted
        .body
        .find(&format!("data-application=\"{first}\""))
        .unwrap();
    let visionary = sorted
        .body
        .find(&format!("data-application=\"{second}\""))
        .unwrap();
    assert!(
        deeppark < visionary,
        "the higher normalised score comes first"
    );
}

/// The board is narrowed, ranked and paged on the server, 50 rows a page, with the view in
/// the address; a very large round is not sent whole.
#[tokio::test]
async fn the_board_pages_its_ranked_rows() {
    let s = setup(false).await;
    let db = s.app.db();
    let first = application::Entity::find_by_id(s.application)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let founder_startup = domain::startups::entity::startup::Entity::find_by_id(first.startup_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    for i in 0..60 {
        let mut st = founder_startup.clone().into_active_model();
        st.id = sea_orm::NotSet;
        st.name = Set(format!("Batch {i:02}"));
        st.credit_code = Set(None);
        let st = st.insert(db).await.unwrap();
        let mut a = first.clone().into_active_model();
        a.id = sea_orm::NotSet;
        a.startup_id = Set(st.id);
        a.submitted_at = Set(first.submitted_at.map(|t| t + Duration::seconds(i + 1)));
        a.insert(db).await.unwrap();
    }
    let admin = &s.app.actor("admin@park.cn").await;
    let board = |page: u64, status: &str| {
        let view = domain::review::BoardView {
            sort: String::new(),
            status: status.to_string(),
            page,
        };
        async move {
            domain::review::decisions::board(
                db,
                admin,
                first.round_id,
                &view,
                domain::i18n::Locale::En,
            )
            .await
            .unwrap()
        }
    };
    let p0 = board(0, "").await;
    let p1 = board(1, "").await;
    assert_eq!((p0.rows.len(), p0.matching, p0.more), (50, 61, true));
    assert_eq!((p1.rows.len(), p1.matching, p1.more), (11, 61, false));
    let mut ids: Vec<i64> = p0
        .rows
        .iter()
        .chain(&p1.rows)
        .map(|r| r.application_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 61, "no row on two pages");
    // Unreviewed, they tie, and stay in the order they were submitted.
    assert_eq!(p0.rows[0].application_id, first.id);
    assert_eq!(p1.rows.last().unwrap().startup_name, "Batch 59");
    let none = board(0, "withdrawn").await;
    assert_eq!((none.rows.len(), none.matching, none.more), (0, 0, false));

    // The page shows its slice and links to the next one, keeping the view.
    let rows = |body: &str| body.matches("<tr data-application=").count();
    let url = format!("/admin/rounds/{}/decisions?sort=normalised", first.round_id);
    let page = s.app.get(&url, &s.admin).await;
    assert_eq!(rows(&page.body), 50);
    assert!(page.body.contains("Matching applications: 61"));
    assert!(
        page.body
            .contains("decisions?sort=normalised&amp;page=1\" rel=\"next\""),
        "{}",
        page.body
    );
    let second = s.app.get(&format!("{url}&page=1"), &s.admin).await;
    assert_eq!(rows(&second.body), 11);
    assert!(second.body.contains("rel=\"prev\""));
    // A page past the last allowed one is refused like any table's.
    let far = s.app.get(&format!("{url}&page=999999"), &s.admin).await;
    assert_eq!(rows(&far.body), 0);
}

/// What a co-founder, an applicant, a mentor or an admin types into any multi-line field comes
/// back as text in that field, never as markup: a stored `</textarea><img onerror>` used to end
/// the field and run in the next reader's browser.
#[tokio::test]
async fn text_typed_into_any_field_comes_back_as_text() {
    const PAYLOAD: &str = "x</textarea><img src=x onerror=alert(document.domain)>";
    const ESCAPED: &str = "x&lt;/textarea&gt;&lt;img src=x onerror=alert(document.domain)&gt;";
    let mut s = setup(false).await;
    let check_as = |page: common::TestResponse, what: &str, escaped: &str| {
        assert_eq!(page.status, StatusCode::OK, "{what}");
        assert!(
            !page.body.contains("<img src=x"),
            "{what}: the payload is live markup"
        );
        assert!(
            page.body.contains(escaped),
            "{what}: the text is not in its field"
        );
        // The second line of defence: scripts run only from Hatchery or with this nonce.
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{what}: no nonce in {csp}"));
        let scripts: Vec<&str> = page
            .body
            .match_indices("<script")
            .map(|(at, _)| page.body[at..].split('>').next().unwrap())
            .collect();
        assert!(!scripts.is_empty(), "{what}: the hydration scripts");
        for tag in scripts {
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{what}: {tag}");
        }
    };
    let check = |page: common::TestResponse, what: &str| check_as(page, what, ESCAPED);

    // A co-founder's founders list, on the team's own profile page.
    s.app
        .post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", "DeepPark AI"),
                ("sector", "language"),
                ("stage", "seed"),
                ("team_size", "9"),
                ("founders", PAYLOAD),
            ],
            &mut s.founder,
        )
        .await;
    check(s.app.get("/startup", &s.founder).await, "founders");

    // A round's descriptions, on its edit page.
    let fmt = |t: chrono::DateTime<Utc>| domain::time::Zone::default().input_value(&t);
    let res = s
        .app
        .post_form(
            "/api/save_round",
            "/admin/rounds/new",
            &[
                ("title_en", "Autumn 2027"),
                ("title_zh", "2027 秋季批次"),
                ("description_en", PAYLOAD),
                ("description_zh", PAYLOAD),
                ("opens_at", &fmt(Utc::now() - Duration::hours(1))),
                ("closes_at", &fmt(Utc::now() + Duration::days(10))),
                ("review_deadline", &fmt(Utc::now() + Duration::days(20))),
                ("mentors_per_application", "2"),
            ],
            &mut s.admin,
        )
        .await;
    let round = res
        .location()
        .trim_start_matches("/admin/rounds/")
        .trim_end_matches("?notice=saved")
        .to_string();
    check(
        s.app.get(&format!("/admin/rounds/{round}"), &s.admin).await,
        "round descriptions",
    );

    // An application's draft, on the team's apply page.
    let mut other = s.app.signed_in_applicant("wu@x.cn", "Wu Fang").await;
    s.app
        .post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", "Other AI"),
                ("sector", "language"),
                ("stage", "seed"),
                ("team_size", "2"),
                ("founders", "Wu Fang"),
            ],
            &mut other,
        )
        .await;
    let res = s
        .app
        .post_form(
            "/api/save_application",
            &format!("/apply/{round}"),
            &[
                ("round_id", &round),
                ("problem", PAYLOAD),
                ("solution", PAYLOAD),
                ("models_data", PAYLOAD),
                ("traction", PAYLOAD),
                ("gpu_model", "A800"),
                ("gpu_hours", "10"),
                ("team", PAYLOAD),
                ("intent", "draft"),
            ],
            &mut other,
        )
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    let page = s.app.get(&format!("/apply/{round}"), &other).await;
    // Five fields, and the round's description above them.
    assert_eq!(page.body.matches(ESCAPED).count(), 6, "every draft field");
    check(page, "application draft");

    // A mentor's affiliations, and their review's feedback and notes.
    let (wang, mut wang_jar) = mentor(&s.app, "wang@mentors.cn", "Wang").await;
    s.app
        .post_form(
            "/api/save_affiliations",
            "/reviews",
            &[("affiliations", PAYLOAD)],
            &mut wang_jar,
        )
        .await;
    // Affiliations are kept one per line, split at slashes and commas too.
    check_as(
        s.app.get("/reviews", &wang_jar).await,
        "affiliations",
        "x&lt;\ntextarea&gt;&lt;img src=x onerror=alert(document.domain)&gt;",
    );
    assign(&mut s, wang).await;
    let mine = assignment_of(&s.app, wang).await.id;
    let (team, tech) = (s.criteria[0], s.criteria[1]);
    let mut form = review_form(mine, &[(team, "4"), (tech, "3")], "accept", PAYLOAD);
    form[3].1 = PAYLOAD.into();
    let res = post(&s.app, "/api/submit_review", &form, &mut wang_jar).await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    let page = s.app.get(&format!("/reviews/{mine}"), &wang_jar).await;
    assert_eq!(page.body.matches(ESCAPED).count(), 2, "feedback and notes");
    check(page, "review");

    // A cohort's descriptions, on its admin page.
    let mut cohort = common::cohort_form("5");
    for (k, v) in cohort.iter_mut() {
        if k.starts_with("description_") {
            *v = PAYLOAD.into();
        }
    }
    let refs: Vec<(&str, &str)> = cohort
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = s
        .app
        .post_form(
            "/api/save_cohort",
            "/admin/cohorts/new",
            &refs,
            &mut s.admin,
        )
        .await;
    let cohort_page = res.location().split('?').next().unwrap().to_string();
    check(
        s.app.get(&cohort_page, &s.admin).await,
        "cohort descriptions",
    );

    // A milestone's description, on the incubating startup's page.
    let startup = domain::startups::entity::startup::Entity::find()
        .filter(domain::startups::entity::startup::Column::Name.eq("DeepPark AI"))
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap();
    let mut active = startup.clone().into_active_model();
    active.status = Set(domain::startups::incubation::StartupStatus::Incubating);
    active.update(s.app.db()).await.unwrap();
    let id = startup.id.to_string();
    let due = (Utc::now() + Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let res = s
        .app
        .post_form(
            "/api/create_milestone",
            &format!("/startups/{id}"),
            &[
                ("startup_id", &id),
                ("title", "Pilot"),
                ("description", PAYLOAD),
                ("due_on", &due),
            ],
            &mut s.admin,
        )
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    check(
        s.app.get(&format!("/startups/{id}"), &s.admin).await,
        "milestone description",
    );
}

/// No decision is chosen for the admin: the board's select starts on "Choose…", an empty
/// decision is refused, and an application nobody has reviewed is decided only with the
/// admin's confirmation ("Decide without a review"), which the board offers on such rows only.
#[tokio::test]
async fn no_decision_is_preselected_and_an_unreviewed_one_asks_first() {
    let mut s = setup(false).await;
    let first = s.application;
    let a = application::Entity::find_by_id(first)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap();
    let page = s
        .app
        .get(&format!("/admin/rounds/{}/decisions", a.round_id), &s.admin)
        .await;
    assert!(
        page.body
            .contains(r#"<option value="" selected disabled>Choose…</option>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"<option value="accept" selected"#));
    assert!(page.body.contains(r#"data-testid="without-review""#));

    let form = |id: i64, decision: &str, without_review: Option<&str>| {
        let mut f = vec![
            ("application_id".to_string(), id.to_string()),
            ("decision".to_string(), decision.to_string()),
            ("message".to_string(), String::new()),
        ];
        if let Some(v) = without_review {
            f.push(("without_review".to_string(), v.to_string()));
        }
        f
    };
    let status = |app: &TestApp, id: i64| {
        let db = app.db().clone();
        async move {
            application::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .status
        }
    };
    // Pressing Decide on the untouched select.
    let res = post(&s.app, "/api/decide", &form(first, "", None), &mut s.admin).await;
    assert_eq!(res.error_key(), "error.decision_required");
    // Accept, with 0 of 0 reviews: the admin is asked first, nothing changes.
    let res = post(
        &s.app,
        "/api/decide",
        &form(first, "accept", None),
        &mut s.admin,
    )
    .await;
    assert_eq!(res.error_key(), "error.decide_without_review");
    assert_eq!(
        status(&s.app, first).await,
        domain::intake::ApplicationStatus::Submitted
    );
    assert!(domain::i18n::Locale::ZhCn
        .t("error.decide_without_review")
        .contains("无评审直接决定"));
    // Confirmed: decided.
    let res = post(
        &s.app,
        "/api/decide",
        &form(first, "waitlist", Some("yes")),
        &mut s.admin,
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    assert_eq!(
        status(&s.app, first).await,
        domain::intake::ApplicationStatus::Waitlisted
    );

    // Reviewed rows need no confirmation, and the board offers none on them.
    let second = second_application(&s).await;
    s.application = second;
    let (wang, mut wang_jar) = mentor(&s.app, "wang@park.cn", "Mentor Wang").await;
    assign(&mut s, wang).await;
    let x = assignment::Entity::find()
        .filter(assignment::Column::MentorId.eq(wang))
        .filter(assignment::Column::ApplicationId.eq(second))
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let review = review_form(
        x,
        &[(s.criteria[0], "4"), (s.criteria[1], "4")],
        "accept",
        "Good.",
    );
    let res = post(&s.app, "/api/submit_review", &review, &mut wang_jar).await;
    assert!(res.location().ends_with("notice=review_saved"));
    let page = s
        .app
        .get(&format!("/admin/rounds/{}/decisions", a.round_id), &s.admin)
        .await;
    let row = |body: &str, id: i64| {
        let at = body
            .find(&format!("<tr data-application=\"{id}\""))
            .unwrap_or_else(|| panic!("no row {id}"));
        body[at..at + body[at..].find("</tr>").unwrap()].to_string()
    };
    assert!(!row(&page.body, second).contains(r#"data-testid="without-review""#));
    assert!(row(&page.body, first).contains(r#"data-testid="without-review""#));
    let res = post(
        &s.app,
        "/api/decide",
        &form(second, "accept", None),
        &mut s.admin,
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    assert_eq!(
        status(&s.app, second).await,
        domain::intake::ApplicationStatus::Accepted
    );
}

/// Each dashboard card says what is true now: a mentor with an assigned review is told how many
/// wait and when the next is due; an applicant follows their application; once accepted the
/// founder is sent to their startup and credit, no longer invited to apply.
#[tokio::test]
async fn dashboards_say_what_is_true_now() {
    let mut s = setup(false).await;
    let en = domain::i18n::Locale::En;
    let card = |body: &str, role: &str| {
        let marker = format!("data-testid=\"dashboard-{role}\">");
        let at = body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {role} card"));
        let text = &body[at + marker.len()..];
        text[..text.find("</p>").unwrap()].to_string()
    };
    // The application's back link goes where each reader came from.
    let round = application::Entity::find_by_id(s.application)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap()
        .round_id;
    let path = format!("/applications/{}", s.application);
    let page = s.app.get(&path, &s.admin).await;
    assert!(page
        .body
        .contains(&format!(r#"href="/admin/rounds/{round}/applications""#)));
    assert!(!page.body.contains("← Your applications"));
    let page = s.app.get(&path, &s.founder).await;
    assert!(page.body.contains("← Your applications"));

    let page = s.app.get("/dashboard", &s.founder).await;
    assert_eq!(
        card(&page.body, "applicant"),
        en.t_with(
            "dashboard.application_open",
            &[("status", &en.t("application.status_submitted"))]
        )
    );
    let (wang, wang_jar) = mentor(&s.app, "wang@park.cn", "Mentor Wang").await;
    let page = s.app.get("/dashboard", &wang_jar).await;
    assert_eq!(card(&page.body, "mentor"), en.t("dashboard.mentor_none"));
    assign(&mut s, wang).await;
    let page = s.app.get("/dashboard", &wang_jar).await;
    let text = card(&page.body, "mentor");
    assert!(
        text.starts_with("1 review is waiting for you. The next is due "),
        "{text}"
    );
    let res = post(
        &s.app,
        "/api/decide",
        &[
            ("application_id".to_string(), s.application.to_string()),
            ("decision".to_string(), "accept".to_string()),
            ("without_review".to_string(), "yes".to_string()),
        ],
        &mut s.admin,
    )
    .await;
    assert_eq!(res.error_param(), None);
    let page = s.app.get("/dashboard", &s.founder).await;
    assert_eq!(
        card(&page.body, "applicant"),
        en.t_with("dashboard.founder_body", &[("startup", "DeepPark AI")])
    );
    assert!(page.body.contains(r#"href="/credits""#));
    assert!(!page.body.contains(&en.t("dashboard.applicant_body")));
    // A decided application waits for no review.
    let page = s.app.get("/dashboard", &wang_jar).await;
    assert_eq!(card(&page.body, "mentor"), en.t("dashboard.mentor_none"));

    // Founders entered one per line are shown one per line.
    let res = s
        .app
        .post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", "DeepPark AI"),
                ("sector", "language"),
                ("stage", "seed"),
                ("team_size", "9"),
                ("founders", "Li Lei (CEO)\nHan Meimei (CTO)"),
            ],
            &mut s.founder,
        )
        .await;
    assert_eq!(res.location(), "/startup?notice=saved");
    let startup = application::Entity::find_by_id(s.application)
        .one(s.app.db())
        .await
        .unwrap()
        .unwrap()
        .startup_id;
    let page = s.app.get(&format!("/startups/{startup}"), &s.admin).await;
    assert!(
        page.body
            .contains("<dd class=\"answer\">Li Lei (CEO)\nHan Meimei (CTO)</dd>"),
        "{}",
        page.body
    );
}
