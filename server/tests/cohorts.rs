//! Training cohorts: enrolment and the waitlist, capacity under parallel requests,
//! attendance by roster and by self check-in, completion, certificates and their public
//! verification, and who may do what.
mod common;

use axum::body::Body;
use axum::http::{header, Request};
use chrono::{DateTime, Duration, Utc};
use common::{Jar, TestApp, ORIGIN};
use domain::auth::Role;
use domain::cohorts::entity::{attendance, certificate, cohort, enrolment, session};
use domain::error::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tower::ServiceExt;

fn input_time(t: DateTime<Utc>) -> String {
    domain::time::Zone::default().input_value(&t)
}

/// A verified applicant with a live session, made straight in the database: argon2 in a
/// debug build is too slow for the dozens of people these tests enrol.
async fn person(app: &TestApp, email: &str, name: &str) -> (i64, Jar) {
    app.person(email, name, "applicant").await
}

struct Park {
    app: TestApp,
    admin: Jar,
}

async fn park() -> Park {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    Park { app, admin }
}

fn cohort_fields(capacity: &str) -> Vec<(String, String)> {
    common::cohort_form(capacity)
}

fn with(fields: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if k == key {
                    value.to_string()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

async fn post(
    app: &TestApp,
    path: &str,
    fields: &[(String, String)],
    jar: &mut Jar,
) -> common::TestResponse {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form(path, "/admin/cohorts/new", &pairs, jar).await
}

async fn new_cohort(p: &mut Park, capacity: &str) -> i64 {
    let res = post(
        &p.app,
        "/api/save_cohort",
        &cohort_fields(capacity),
        &mut p.admin,
    )
    .await;
    let loc = res.location();
    assert!(
        loc.starts_with("/admin/cohorts/"),
        "{loc} {:?}",
        res.error_param()
    );
    loc.trim_start_matches("/admin/cohorts/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn status_of(app: &TestApp, cohort_id: i64, user_id: i64) -> Option<String> {
    enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(cohort_id))
        .filter(enrolment::Column::UserId.eq(user_id))
        .one(app.db())
        .await
        .unwrap()
        .map(|e| e.status.to_string())
}

async fn enrol(app: &TestApp, cohort_id: i64, jar: &mut Jar) -> common::TestResponse {
    let id = cohort_id.to_string();
    app.post_form(
        "/api/enrol",
        &format!("/cohorts/{id}"),
        &[("cohort_id", &id)],
        jar,
    )
    .await
}

async fn mails(app: &TestApp, to: &str) -> Vec<domain::mail::entity::Model> {
    domain::mail::entity::Entity::find()
        .filter(domain::mail::entity::Column::ToAddress.eq(to))
        .order_by_asc(domain::mail::entity::Column::Id)
        .all(app.db())
        .await
        .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    domain::audit::entity::Entity::find()
        .order_by_asc(domain::audit::entity::Column::Id)
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect()
}

#[tokio::test]
async fn a_full_cohort_waitlists_and_a_withdrawal_promotes_the_first_in_line() {
    let mut p = park().await;
    let id = new_cohort(&mut p, "2").await;
    let (a, mut ja) = person(&p.app, "a@x.cn", "Ann").await;
    let (b, mut jb) = person(&p.app, "b@x.cn", "Bo").await;
    let (c, mut jc) = person(&p.app, "c@x.cn", "Cai").await;
    let (d, mut jd) = person(&p.app, "d@x.cn", "Dee").await;

    assert_eq!(
        enrol(&p.app, id, &mut ja).await.location(),
        format!("/cohorts/{id}?notice=enrolled")
    );
    assert_eq!(
        enrol(&p.app, id, &mut jb).await.location(),
        format!("/cohorts/{id}?notice=enrolled")
    );
    assert_eq!(
        enrol(&p.app, id, &mut jc).await.location(),
        format!("/cohorts/{id}?notice=waitlisted")
    );
    assert_eq!(
        enrol(&p.app, id, &mut jd).await.location(),
        format!("/cohorts/{id}?notice=waitlisted")
    );
    assert_eq!(p.app.last_mail_to("a@x.cn").await.kind.as_str(), "cohort");
    let waiting = p.app.last_mail_to("d@x.cn").await;
    assert!(
        waiting.body_text.contains("number 2"),
        "{}",
        waiting.body_text
    );

    // Enrolling twice is refused and changes nothing.
    let res = enrol(&p.app, id, &mut ja).await;
    assert_eq!(res.error_key(), "error.already_enrolled");
    assert_eq!(mails(&p.app, "a@x.cn").await.len(), 1);

    // The page shows the waitlist position to the person waiting.
    let page = p.app.get(&format!("/cohorts/{id}"), &jd).await;
    assert!(page.body.contains("number 2"), "{}", page.body);

    // Ann withdraws: Cai, first in line, gets her place and an email; Dee moves up.
    let res = p
        .app
        .post_form(
            "/api/withdraw_enrolment",
            "/cohorts",
            &[("cohort_id", &id.to_string())],
            &mut ja,
        )
        .await;
    assert_eq!(
        res.location(),
        format!("/cohorts/{id}?notice=enrolment_withdrawn")
    );
    assert_eq!(status_of(&p.app, id, a).await.as_deref(), Some("withdrawn"));
    assert_eq!(status_of(&p.app, id, c).await.as_deref(), Some("enrolled"));
    assert_eq!(
        status_of(&p.app, id, d).await.as_deref(),
        Some("waitlisted")
    );
    let promoted = p.app.last_mail_to("c@x.cn").await;
    assert!(
        promoted.subject.contains("A place is yours"),
        "{}",
        promoted.subject
    );
    let page = p.app.get(&format!("/cohorts/{id}"), &jd).await;
    assert!(page.body.contains("number 1"));

    // Coming back after withdrawing joins the end of the line.
    assert_eq!(
        enrol(&p.app, id, &mut ja).await.location(),
        format!("/cohorts/{id}?notice=waitlisted")
    );

    // Lowering the capacity below the places taken is refused; raising it promotes in order.
    let fields = with(&cohort_fields("1"), "id", &id.to_string());
    let res = post(&p.app, "/api/save_cohort", &fields, &mut p.admin).await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("capacity", "error.capacity_below_taken"))
    );
    let c_row = cohort::Entity::find_by_id(id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c_row.capacity, 2);
    let fields = with(&cohort_fields("3"), "id", &id.to_string());
    let res = post(&p.app, "/api/save_cohort", &fields, &mut p.admin).await;
    assert_eq!(res.location(), format!("/admin/cohorts/{id}?notice=saved"));
    assert_eq!(status_of(&p.app, id, d).await.as_deref(), Some("enrolled"));
    assert_eq!(
        status_of(&p.app, id, a).await.as_deref(),
        Some("waitlisted")
    );

    // An admin removes Bo: Ann is promoted; Bo is told.
    let res = p
        .app
        .post_form(
            "/api/remove_enrolment",
            "/admin/cohorts",
            &[("cohort_id", &id.to_string()), ("user_id", &b.to_string())],
            &mut p.admin,
        )
        .await;
    assert_eq!(res.location(), format!("/admin/cohorts/{id}?notice=saved"));
    assert_eq!(status_of(&p.app, id, b).await.as_deref(), Some("withdrawn"));
    assert_eq!(status_of(&p.app, id, a).await.as_deref(), Some("enrolled"));
    assert!(p
        .app
        .last_mail_to("b@x.cn")
        .await
        .subject
        .contains("withdrawn"));

    // An admin enrols someone by email, even outside the window; past capacity they wait.
    person(&p.app, "e@x.cn", "Eve").await;
    let res = p
        .app
        .post_form(
            "/api/admin_enrol",
            "/admin/cohorts",
            &[("cohort_id", &id.to_string()), ("email", "E@X.cn")],
            &mut p.admin,
        )
        .await;
    assert_eq!(
        res.location(),
        format!("/admin/cohorts/{id}?notice=person_waitlisted")
    );
    let res = p
        .app
        .post_form(
            "/api/admin_enrol",
            "/admin/cohorts",
            &[("cohort_id", &id.to_string()), ("email", "nobody@x.cn")],
            &mut p.admin,
        )
        .await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("email", "error.no_such_account"))
    );

    // Never more places taken than the capacity, and every transition was audited.
    let enrolled = enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(id))
        .filter(enrolment::Column::Status.eq("enrolled"))
        .all(p.app.db())
        .await
        .unwrap();
    assert_eq!(enrolled.len(), 3);
    let actions = audit_actions(&p.app).await;
    for action in [
        "cohort.created",
        "cohort.updated",
        "enrolment.enrolled",
        "enrolment.waitlisted",
        "enrolment.withdrawn",
        "enrolment.promoted",
        "enrolment.removed",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not audited: {actions:?}"
        );
    }

    // The admin's page shows fill rate, waitlist and the roster.
    let page = p.app.get(&format!("/admin/cohorts/{id}"), &p.admin).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("data-testid=\"fill-rate\">100 %"),
        "fill rate missing"
    );
    assert!(page.body.contains("e@x.cn"));
}

#[tokio::test]
async fn enrolment_outside_its_window_is_refused_and_changes_nothing() {
    let mut p = park().await;
    let now = Utc::now();
    let later = with(
        &with(
            &cohort_fields("5"),
            "enrol_opens_at",
            &input_time(now + Duration::days(2)),
        ),
        "enrol_closes_at",
        &input_time(now + Duration::days(5)),
    );
    let res = post(&p.app, "/api/save_cohort", &later, &mut p.admin).await;
    let not_yet: i64 = res
        .location()
        .trim_start_matches("/admin/cohorts/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let past = with(
        &with(
            &cohort_fields("5"),
            "enrol_opens_at",
            &input_time(now - Duration::days(5)),
        ),
        "enrol_closes_at",
        &input_time(now - Duration::days(1)),
    );
    let res = post(&p.app, "/api/save_cohort", &past, &mut p.admin).await;
    let closed: i64 = res
        .location()
        .trim_start_matches("/admin/cohorts/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let (_, mut ja) = person(&p.app, "a@x.cn", "Ann").await;
    assert_eq!(
        enrol(&p.app, not_yet, &mut ja).await.error_key(),
        "error.enrolment_not_open"
    );
    assert_eq!(
        enrol(&p.app, closed, &mut ja).await.error_key(),
        "error.enrolment_closed"
    );
    assert_eq!(
        enrol(&p.app, 9999, &mut ja).await.error_param(),
        Some(AppError::NotFound)
    );
    assert_eq!(p.app.count(enrolment::Entity).await, 0);
    assert!(mails(&p.app, "a@x.cn").await.is_empty());

    // In Chinese, the refusal is in Chinese.
    let mut zh = ja.clone();
    zh.lang = "zh-CN".into();
    let res = enrol(&p.app, closed, &mut zh).await;
    let page = p.app.get(&res.location(), &zh).await;
    assert!(page.body.contains("报名已截止"), "no Chinese message");

    // Someone signed out is sent to sign in.
    let mut anon = Jar::default();
    assert_eq!(
        enrol(&p.app, not_yet, &mut anon).await.error_param(),
        Some(AppError::Unauthenticated)
    );
}

#[tokio::test]
async fn bad_cohort_input_gets_a_named_message_and_saves_nothing() {
    let mut p = park().await;
    let base = cohort_fields("5");
    let cases = [
        ("title_en", "", "error.field_required"),
        ("title_zh", " ", "error.field_required"),
        ("track", "astrology", "error.track_invalid"),
        ("capacity", "0", "error.capacity_invalid"),
        ("capacity", "lots", "error.capacity_invalid"),
        ("capacity", "10001", "error.capacity_invalid"),
        ("enrol_opens_at", "yesterday", "error.datetime_invalid"),
        ("enrol_closes_at", "2020-01-01T00:00", "error.window_order"),
        ("starts_on", "2027-13-01", "error.date_invalid"),
        ("ends_on", "2000-01-01", "error.cohort_dates_order"),
        ("location", "", "error.field_required"),
        ("completion_percent", "101", "error.percent_invalid"),
        ("completion_percent", "0", "error.percent_invalid"),
    ];
    for (field, value, key) in cases {
        let res = post(
            &p.app,
            "/api/save_cohort",
            &with(&base, field, value),
            &mut p.admin,
        )
        .await;
        assert_eq!(
            res.error_param(),
            Some(AppError::invalid(field, key)),
            "{field}={value}"
        );
    }
    assert_eq!(p.app.count(cohort::Entity).await, 0);

    // Sessions: bad times and missing fields are refused.
    let id = new_cohort(&mut p, "5").await;
    let now = Utc::now();
    let session = |starts: DateTime<Utc>, ends: DateTime<Utc>, topic: &str| {
        vec![
            ("cohort_id".to_string(), id.to_string()),
            ("starts_at".to_string(), input_time(starts)),
            ("ends_at".to_string(), input_time(ends)),
            ("topic".to_string(), topic.to_string()),
            ("instructor".to_string(), "Dr. Wang".to_string()),
        ]
    };
    let res = post(
        &p.app,
        "/api/add_session",
        &session(now, now - Duration::hours(1), "LoRA"),
        &mut p.admin,
    )
    .await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("ends_at", "error.window_order"))
    );
    let res = post(
        &p.app,
        "/api/add_session",
        &session(now, now + Duration::hours(30), "LoRA"),
        &mut p.admin,
    )
    .await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("ends_at", "error.session_too_long"))
    );
    let res = post(
        &p.app,
        "/api/add_session",
        &session(now, now + Duration::hours(2), ""),
        &mut p.admin,
    )
    .await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("topic", "error.field_required"))
    );
    assert_eq!(p.app.count(session::Entity).await, 0);
}

async fn add_session(
    p: &mut Park,
    cohort_id: i64,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    topic: &str,
) -> session::Model {
    let fields = vec![
        ("cohort_id".to_string(), cohort_id.to_string()),
        ("starts_at".to_string(), input_time(starts)),
        ("ends_at".to_string(), input_time(ends)),
        ("topic".to_string(), topic.to_string()),
        ("instructor".to_string(), "Dr. Wang".to_string()),
    ];
    let res = post(&p.app, "/api/add_session", &fields, &mut p.admin).await;
    assert_eq!(
        res.location(),
        format!("/admin/cohorts/{cohort_id}?notice=saved"),
        "{:?}",
        res.error_param()
    );
    session::Entity::find()
        .filter(session::Column::Topic.eq(topic))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
}

async fn mark(
    p: &mut Park,
    session_id: i64,
    roster: &[i64],
    present: &[i64],
) -> common::TestResponse {
    let mut fields = vec![("session_id".to_string(), session_id.to_string())];
    for u in roster {
        fields.push((format!("roster[{u}]"), "1".into()));
    }
    for u in present {
        fields.push((format!("present[{u}]"), "on".into()));
    }
    post(&p.app, "/api/mark_attendance", &fields, &mut p.admin).await
}

#[tokio::test]
async fn attendance_reaching_the_threshold_completes_and_issues_a_verifiable_certificate() {
    let mut p = park().await;
    let id = new_cohort(&mut p, "5").await;
    let now = Utc::now();
    let s1 = add_session(
        &mut p,
        id,
        now - Duration::days(3),
        now - Duration::days(3) + Duration::hours(2),
        "Data",
    )
    .await;
    let s2 = add_session(
        &mut p,
        id,
        now - Duration::days(2),
        now - Duration::days(2) + Duration::hours(2),
        "LoRA",
    )
    .await;
    let s3 = add_session(
        &mut p,
        id,
        now + Duration::days(2),
        now + Duration::days(2) + Duration::hours(2),
        "Eval",
    )
    .await;
    let (a, mut ja) = person(&p.app, "a@x.cn", "Ann Li").await;
    let (b, mut jb) = person(&p.app, "b@x.cn", "Bo").await;
    let (outsider, _) = person(&p.app, "o@x.cn", "Out").await;
    enrol(&p.app, id, &mut ja).await;
    enrol(&p.app, id, &mut jb).await;

    // Marking someone not enrolled refuses the whole form.
    let res = mark(&mut p, s1.id, &[a, b, outsider], &[a, outsider]).await;
    assert_eq!(res.error_key(), "error.not_an_attendee");
    assert_eq!(p.app.count(attendance::Entity).await, 0);
    // A session that has not started cannot be marked.
    assert_eq!(
        mark(&mut p, s3.id, &[a, b], &[a]).await.error_key(),
        "error.session_not_started"
    );

    // Session 1: Ann present, Bo absent. 1 of 3 is below 60 %.
    let res = mark(&mut p, s1.id, &[a, b], &[a]).await;
    assert_eq!(
        res.location(),
        format!("/admin/sessions/{}?notice=attendance_saved", s1.id)
    );
    assert_eq!(status_of(&p.app, id, a).await.as_deref(), Some("enrolled"));
    let roster = p
        .app
        .get(&format!("/admin/sessions/{}", s1.id), &p.admin)
        .await;
    assert!(roster.body.contains("1 of 2 present"), "{}", roster.body);

    // Session 2: Ann present again: 2 of 3 = 66 % ≥ 60 %: completed, with a certificate.
    mark(&mut p, s2.id, &[a, b], &[a]).await;
    assert_eq!(status_of(&p.app, id, a).await.as_deref(), Some("completed"));
    assert_eq!(status_of(&p.app, id, b).await.as_deref(), Some("enrolled"));
    let cert = certificate::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (cert.user_id, cert.sessions_attended, cert.sessions_total),
        (a, 2, 3)
    );
    assert!(
        cert.code.starts_with("HC-") && cert.code.len() == 17,
        "{}",
        cert.code
    );
    let mail = p.app.last_mail_to("a@x.cn").await;
    assert_eq!(mail.kind.as_str(), "certificate");
    assert!(mail.body_text.contains(&cert.code));
    assert!(mail
        .body_text
        .contains(&format!("/certificates/{}", cert.code)));

    // Saving the same marks again changes nothing and issues nothing more.
    mark(&mut p, s2.id, &[a, b], &[a]).await;
    assert_eq!(p.app.count(certificate::Entity).await, 1);

    // Anyone, signed out, can verify the code, typed loosely; an unknown code is told so.
    let anon = Jar::default();
    let loose = cert.code.to_lowercase().replace('-', " ");
    let page = p
        .app
        .get(
            &format!(
                "/verify-certificate?code={}",
                url::form_urlencoded::byte_serialize(loose.as_bytes()).collect::<String>()
            ),
            &anon,
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("data-testid=\"verified\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Ann Li"));
    let page = p
        .app
        .get("/verify-certificate?code=HC-0000-0000-0000", &anon)
        .await;
    assert!(page.body.contains("data-testid=\"not-verified\""));
    assert!(!page.body.contains("Ann Li"));
    let page = p
        .app
        .get(&format!("/certificates/{}", cert.code), &anon)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Certificate of completion") && page.body.contains("Ann Li"));
    let page = p.app.get("/certificates/HC-0000-0000-0000", &anon).await;
    assert_eq!(page.status, 404);

    // Ann's dashboard lists the cohort and the certificate; the Chinese certificate is in Chinese.
    let page = p.app.get("/dashboard", &ja).await;
    assert!(
        page.body.contains(&cert.code),
        "certificate missing from the dashboard"
    );
    let mut zh = anon.clone();
    zh.lang = "zh-CN".into();
    let page = p
        .app
        .get(&format!("/certificates/{}", cert.code), &zh)
        .await;
    assert!(page.body.contains("结业证书") && page.body.contains("大模型微调"));

    // A completed person cannot withdraw, and the admin's chart shows both sessions.
    let res = p
        .app
        .post_form(
            "/api/withdraw_enrolment",
            "/cohorts",
            &[("cohort_id", &id.to_string())],
            &mut ja,
        )
        .await;
    assert_eq!(res.error_key(), "error.already_completed");
    let page = p.app.get(&format!("/admin/cohorts/{id}"), &p.admin).await;
    assert!(
        page.body
            .contains(&format!("data-session=\"{}\" data-present=\"1\"", s1.id)),
        "chart"
    );
    let actions = audit_actions(&p.app).await;
    assert!(actions.iter().any(|a| a == "attendance.marked"));
    assert!(actions.iter().any(|a| a == "enrolment.completed"));

    // A session with attendance cannot be deleted; an empty future one can.
    let res = p
        .app
        .post_form(
            "/api/delete_session",
            "/admin/cohorts",
            &[("session_id", &s1.id.to_string())],
            &mut p.admin,
        )
        .await;
    assert_eq!(res.error_key(), "error.session_has_attendance");
    let res = p
        .app
        .post_form(
            "/api/delete_session",
            "/admin/cohorts",
            &[("session_id", &s3.id.to_string())],
            &mut p.admin,
        )
        .await;
    assert_eq!(res.location(), format!("/admin/cohorts/{id}?notice=saved"));
    assert_eq!(p.app.count(session::Entity).await, 2);
}

#[tokio::test]
async fn attendees_check_in_with_the_code_only_while_the_session_runs() {
    let mut p = park().await;
    let id = new_cohort(&mut p, "5").await;
    let now = Utc::now();
    let past = add_session(
        &mut p,
        id,
        now - Duration::days(1),
        now - Duration::days(1) + Duration::hours(2),
        "Past",
    )
    .await;
    let (a, mut ja) = person(&p.app, "a@x.cn", "Ann").await;
    let (_, mut outsider) = person(&p.app, "o@x.cn", "Out").await;
    enrol(&p.app, id, &mut ja).await;
    let check = |code: &str| {
        vec![
            ("cohort_id".to_string(), id.to_string()),
            ("code".to_string(), code.to_string()),
        ]
    };

    // Nothing running: even the right code of a past session is refused.
    let res = post(&p.app, "/api/check_in", &check(&past.checkin_code), &mut ja).await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("code", "error.checkin_closed"))
    );

    let live = add_session(
        &mut p,
        id,
        now - Duration::minutes(10),
        now + Duration::hours(1),
        "Live",
    )
    .await;
    let res = post(&p.app, "/api/check_in", &check("WRONG1"), &mut ja).await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("code", "error.checkin_code_wrong"))
    );
    let res = post(&p.app, "/api/check_in", &check(""), &mut ja).await;
    assert_eq!(
        res.error_param(),
        Some(AppError::invalid("code", "error.checkin_code_required"))
    );
    let res = post(
        &p.app,
        "/api/check_in",
        &check(&live.checkin_code),
        &mut outsider,
    )
    .await;
    assert_eq!(res.error_key(), "error.not_enrolled");
    assert_eq!(p.app.count(attendance::Entity).await, 0);

    // The right code, typed in lower case, checks Ann in; twice is harmless.
    let res = post(
        &p.app,
        "/api/check_in",
        &check(&live.checkin_code.to_lowercase()),
        &mut ja,
    )
    .await;
    assert_eq!(res.location(), format!("/cohorts/{id}?notice=checked_in"));
    post(&p.app, "/api/check_in", &check(&live.checkin_code), &mut ja).await;
    let marks = attendance::Entity::find().all(p.app.db()).await.unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(
        (
            marks[0].session_id,
            marks[0].user_id,
            marks[0].present,
            marks[0].source.as_str()
        ),
        (live.id, a, true, "checkin")
    );
    // Ann sees it on the cohort's page.
    let page = p.app.get(&format!("/cohorts/{id}"), &ja).await;
    assert!(page.body.contains("data-attended=\"true\""));
    // The code is shown to admins only.
    assert!(!page.body.contains(&live.checkin_code));
    let page = p
        .app
        .get(&format!("/admin/sessions/{}", live.id), &p.admin)
        .await;
    assert!(page.body.contains(&live.checkin_code));
}

#[tokio::test]
async fn only_admins_manage_cohorts_and_only_attendees_check_in() {
    let mut p = park().await;
    let id = new_cohort(&mut p, "5").await;
    let now = Utc::now();
    let s = add_session(
        &mut p,
        id,
        now - Duration::minutes(5),
        now + Duration::hours(1),
        "Live",
    )
    .await;
    let (applicant, mut japp) = person(&p.app, "a@x.cn", "Ann").await;
    p.app
        .user_with_roles("m@x.cn", "Mentor", &[Role::Mentor])
        .await;
    let mut mentor = p.app.sign_in("m@x.cn", "correct horse battery").await;
    let mut anon = Jar::default();
    let admin_forms: Vec<(&str, Vec<(String, String)>)> = vec![
        ("/api/save_cohort", cohort_fields("9")),
        (
            "/api/add_session",
            vec![
                ("cohort_id".into(), id.to_string()),
                ("starts_at".into(), input_time(now)),
                ("ends_at".into(), input_time(now + Duration::hours(1))),
                ("topic".into(), "T".into()),
                ("instructor".into(), "I".into()),
            ],
        ),
        (
            "/api/admin_enrol",
            vec![
                ("cohort_id".into(), id.to_string()),
                ("email".into(), "a@x.cn".into()),
            ],
        ),
        (
            "/api/remove_enrolment",
            vec![
                ("cohort_id".into(), id.to_string()),
                ("user_id".into(), applicant.to_string()),
            ],
        ),
        (
            "/api/mark_attendance",
            vec![
                ("session_id".into(), s.id.to_string()),
                (format!("roster[{applicant}]"), "1".into()),
            ],
        ),
        (
            "/api/delete_session",
            vec![("session_id".into(), s.id.to_string())],
        ),
    ];
    for (path, fields) in &admin_forms {
        for (who, jar, expected) in [
            ("applicant", &mut japp, AppError::Forbidden),
            ("mentor", &mut mentor, AppError::Forbidden),
            ("anonymous", &mut anon, AppError::Unauthenticated),
        ] {
            let res = post(&p.app, path, fields, jar).await;
            assert_eq!(res.error_param(), Some(expected), "{who} on {path}");
        }
    }
    for page in [
        format!("/admin/cohorts/{id}"),
        format!("/admin/sessions/{}", s.id),
        "/admin/cohorts".to_string(),
    ] {
        assert_eq!(p.app.get(&page, &japp).await.status, 403, "{page}");
        assert_eq!(p.app.get(&page, &anon).await.status, 401, "{page}");
        assert_eq!(p.app.get(&page, &p.admin).await.status, 200, "{page}");
    }
    assert_eq!(p.app.count(cohort::Entity).await, 1);
    assert_eq!(p.app.count(session::Entity).await, 1);
    assert_eq!(p.app.count(enrolment::Entity).await, 0);

    // Any signed-in person may enrol (a mentor too); the public pages need no sign-in.
    assert_eq!(
        enrol(&p.app, id, &mut mentor).await.location(),
        format!("/cohorts/{id}?notice=enrolled")
    );
    assert_eq!(p.app.get("/cohorts", &anon).await.status, 200);
    assert_eq!(
        p.app.get(&format!("/cohorts/{id}"), &anon).await.status,
        200
    );
    assert_eq!(p.app.get("/verify-certificate", &anon).await.status, 200);
    // Admin functions refuse through the domain too, whatever calls them.
    let actor = p.app.actor("m@x.cn").await;
    let err = domain::cohorts::views::admin_view(p.app.db(), &actor, id)
        .await
        .unwrap_err();
    assert_eq!(err, AppError::Forbidden);
}

/// Many people enrol at the same moment, each by their own request: the places taken never
/// exceed the capacity, and everyone else is waitlisted in a single order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_enrolments_never_exceed_the_capacity() {
    let mut p = park().await;
    let id = new_cohort(&mut p, "5").await;
    let mut jars = Vec::new();
    for i in 0..30 {
        jars.push(
            person(&p.app, &format!("p{i}@x.cn"), &format!("Person {i}"))
                .await
                .1,
        );
    }
    let body = format!("cohort_id={id}");
    let mut tasks = tokio::task::JoinSet::new();
    for jar in jars {
        let router = p.app.router.clone();
        let req = Request::post("/api/enrol")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, ORIGIN)
            .header("sec-fetch-site", "same-origin")
            .header(header::ACCEPT, "text/html")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, jar.header())
            .body(Body::from(body.clone()))
            .unwrap();
        tasks.spawn(async move { router.oneshot(req).await.unwrap() });
    }
    let mut notices = Vec::new();
    while let Some(res) = tasks.join_next().await {
        let res = res.unwrap();
        let location = res
            .headers()
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        notices.push(location);
    }
    let enrolled = notices
        .iter()
        .filter(|l| l.ends_with("notice=enrolled"))
        .count();
    let waitlisted = notices
        .iter()
        .filter(|l| l.ends_with("notice=waitlisted"))
        .count();
    assert_eq!((enrolled, waitlisted), (5, 25), "{notices:?}");
    let rows = enrolment::Entity::find().all(p.app.db()).await.unwrap();
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
        25
    );
    let c = cohort::Entity::find_by_id(id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.roster_version, 30, "every enrolment took the roster lock");
}
