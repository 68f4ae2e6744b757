//! Incubation: startups added by admins, residency, mentors, milestones and their sign-off,
//! notes, graduation and exit, reminders, and who may do what.
mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::auth::Role;
use domain::error::AppError;
use domain::startups::entity::{member, mentor, milestone, note, startup};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};

/// A day of the park's calendar (Asia/Shanghai, the default), `offset` days from today.
fn day(offset: i64) -> String {
    domain::time::Zone::default()
        .date(&(Utc::now() + Duration::days(offset)))
        .format("%Y-%m-%d")
        .to_string()
}

/// An admin, two mentors (one to be assigned), and an incubating startup with its founder.
struct Park {
    app: TestApp,
    admin: Jar,
    mentor: Jar,
    other_mentor: Jar,
    founder: Jar,
    startup: i64,
    mentor_id: i64,
}

async fn park() -> Park {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin Zhou", &[Role::Admin])
        .await;
    let mentor_id = app
        .user_with_roles("wang@mentors.cn", "Wang Fang", &[Role::Mentor])
        .await;
    app.user_with_roles("liu@mentors.cn", "Liu Yang", &[Role::Mentor])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let mentor = app
        .sign_in("wang@mentors.cn", "correct horse battery")
        .await;
    let other_mentor = app.sign_in("liu@mentors.cn", "correct horse battery").await;
    let startup = applicant_startup(&app, "li@deeppark.cn", "DeepPark AI").await;
    set_status(&app, startup, "incubating").await;
    let founder = app.sign_in("li@deeppark.cn", "correct horse battery").await;
    Park {
        app,
        admin,
        mentor,
        other_mentor,
        founder,
        startup,
        mentor_id,
    }
}

/// A registered applicant with a startup profile (status `applicant`).
async fn applicant_startup(app: &TestApp, email: &str, name: &str) -> i64 {
    let mut jar = app.signed_in_applicant(email, name).await;
    let res = app
        .post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", name),
                ("sector", "language"),
                ("stage", "seed"),
                ("team_size", "5"),
                ("founders", name),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/startup?notice=saved");
    startup::Entity::find()
        .filter(startup::Column::Name.eq(name))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn set_status(app: &TestApp, id: i64, status: &str) {
    let s = startup::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut a = s.into_active_model();
    a.status = Set(domain::startups::incubation::StartupStatus::parse(status).unwrap());
    a.update(app.db()).await.unwrap();
}

async fn post(
    app: &TestApp,
    jar: &mut Jar,
    path: &str,
    fields: &[(&str, &str)],
) -> common::TestResponse {
    app.post_form(path, "/startups", fields, jar).await
}

async fn assign(p: &mut Park) {
    let (id, uid) = (p.startup.to_string(), p.mentor_id.to_string());
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/assign_mentor",
        &[("id", &id), ("user_id", &uid)],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup),
        "{:?}",
        res.error_param()
    );
}

async fn add_milestone(p: &mut Park, title: &str, due_in_days: i64) -> i64 {
    let id = p.startup.to_string();
    let due = day(due_in_days);
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/create_milestone",
        &[
            ("startup_id", &id),
            ("title", title),
            ("description", "What it means"),
            ("due_on", &due),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup),
        "{:?}",
        res.error_param()
    );
    milestone::Entity::find()
        .filter(milestone::Column::Title.eq(title))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The startup's row on the admins' startup list, as HTML.
async fn list_row(p: &Park) -> String {
    let page = p.app.get("/admin/startups", &p.admin).await;
    assert_eq!(page.status, StatusCode::OK);
    let start = page
        .body
        .find(&format!("<tr data-startup=\"{}\"", p.startup))
        .expect("the startup is listed");
    let end = start + page.body[start..].find("</tr>").expect("the row ends");
    page.body[start..end].to_string()
}

async fn audit_count(app: &TestApp, action: &str) -> u64 {
    domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq(action))
        .count(app.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn admins_add_startups_whose_founders_join_by_invitation() {
    let mut p = park().await;
    let before = p.app.count(startup::Entity).await;
    let base = [
        ("name", "Qubit Labs"),
        ("sector", "foundation_models"),
        ("stage", "prototype"),
        ("team_size", "4"),
        ("founders", "Zhang San, Li Si"),
        ("residency_from", "2027-01-01"),
        ("residency_until", "2027-12-31"),
        ("founder_email", "zhang@qubit.cn"),
        ("lang", "zh-CN"),
    ];
    for (field, value, key) in [
        ("name", " ", "error.startup_name_required"),
        ("sector", "alchemy", "error.sector_invalid"),
        ("team_size", "0", "error.team_size_invalid"),
        (
            "residency_from",
            "01/01/2027",
            "incubation.error_date_invalid",
        ),
        (
            "residency_until",
            "2026-12-01",
            "incubation.error_window_order",
        ),
        ("founder_email", "zhang@", "incubation.error_founder_email"),
        // The founder of another startup cannot be invited onto a second one.
        ("founder_email", "li@deeppark.cn", "error.already_on_team"),
    ] {
        let fields: Vec<(&str, &str)> = base
            .iter()
            .map(|(k, v)| (*k, if *k == field { value } else { *v }))
            .collect();
        let res = post(&p.app, &mut p.admin, "/api/add_startup", &fields).await;
        assert_eq!(res.error_key(), key, "{field}={value}");
    }
    assert_eq!(
        p.app.count(startup::Entity).await,
        before,
        "refusals add nothing"
    );

    // Only admins add startups.
    let res = post(&p.app, &mut p.mentor, "/api/add_startup", &base).await;
    assert_eq!(res.error_key(), "error.forbidden");
    let res = post(&p.app, &mut p.founder, "/api/add_startup", &base).await;
    assert_eq!(res.error_key(), "error.forbidden");

    let res = post(&p.app, &mut p.admin, "/api/add_startup", &base).await;
    let s = startup::Entity::find()
        .filter(startup::Column::Name.eq("Qubit Labs"))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=startup_added", s.id)
    );
    assert_eq!(
        s.status,
        domain::startups::incubation::StartupStatus::Incubating
    );
    assert_eq!(s.residency_from.unwrap().to_string(), "2027-01-01");
    assert_eq!(s.residency_until.unwrap().to_string(), "2027-12-31");
    assert_eq!(audit_count(&p.app, "startup.added").await, 1);

    // The founder's invitation is the team invitation, in the language the admin chose.
    let mail = p.app.last_mail_to("zhang@qubit.cn").await;
    assert!(mail.body_text.contains("Qubit Labs"), "{}", mail.body_text);
    assert!(
        mail.subject.chars().any(|c| c > '\u{2e80}'),
        "{}",
        mail.subject
    );
    let token = common::link_token(&mail.body_text, "/invite?token=");
    let mut jar = Jar::default();
    let res = p
        .app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[
                ("token", &token),
                ("name", "Zhang San"),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=invitation_accepted");
    let members = member::Entity::find()
        .filter(member::Column::StartupId.eq(s.id))
        .all(p.app.db())
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        members[0].role,
        domain::startups::MemberRole::Founder,
        "the first to join founded it"
    );

    // The admin's list shows it among the incubating, and finds it by name.
    let page = p
        .app
        .get("/admin/startups?status=incubating&q=qubit", &p.admin)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Qubit Labs"));
    assert!(!page.body.contains("DeepPark AI"));
    let page = p.app.get(&format!("/startups/{}", s.id), &p.admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("zhang@qubit.cn"), "the team is shown");
    assert!(page.body.contains("2027-01-01 → 2027-12-31"));
}

#[tokio::test]
async fn the_startup_list_filters_searches_and_pages_on_the_server() {
    let p = park().await;
    let admin = p.app.actor("admin@park.cn").await;
    let db = p.app.db();
    for i in 0..55 {
        domain::incubation::residency::add(
            db,
            &p.app.state.settings,
            &admin,
            domain::incubation::residency::NewStartup {
                profile: domain::startups::profiles::StartupInput {
                    name: format!("Batch {i:02}{}", if i == 7 { " 100%_AI" } else { "" }),
                    sector: "robotics".into(),
                    stage: "seed".into(),
                    team_size: "3".into(),
                    founders: "Someone".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let view = |status: &str, q: &str, page: u64| domain::tables::TableQuery {
        status: status.into(),
        q: q.into(),
        page,
        ..Default::default()
    };
    let all = domain::incubation::views::list(db, &admin, &view("incubating", "", 0))
        .await
        .unwrap();
    assert_eq!(all.rows.len(), 50);
    assert!(all.more);
    let second = domain::incubation::views::list(db, &admin, &view("incubating", "", 1))
        .await
        .unwrap();
    assert_eq!(second.rows.len(), 6);
    assert!(!second.more);
    // LIKE wildcards in the search are taken literally, and case does not matter.
    let found = domain::incubation::views::list(db, &admin, &view("", "100%_ai", 0))
        .await
        .unwrap();
    assert_eq!(found.rows.len(), 1);
    assert_eq!(found.rows[0].name, "Batch 07 100%_AI");
    let none = domain::incubation::views::list(db, &admin, &view("", "%", 0))
        .await
        .unwrap();
    assert_eq!(none.rows.len(), 1, "only the name with a % in it");
    let err = domain::incubation::views::list(db, &admin, &view("bogus", "", 0))
        .await
        .unwrap_err();
    assert_eq!(err.message_key(), "error.filter_invalid");
    // Sorted by creation, newest first, then turned over.
    let newest = domain::incubation::views::list(
        db,
        &admin,
        &domain::tables::TableQuery {
            sort: "created".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(newest.rows[0].name, "Batch 54");
    let oldest = domain::incubation::views::list(
        db,
        &admin,
        &domain::tables::TableQuery {
            sort: "created".into(),
            dir: "asc".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_ne!(oldest.rows[0].name, "Batch 54");
    let err = domain::incubation::views::list(
        db,
        &admin,
        &domain::tables::TableQuery {
            sort: "password".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.message_key(), "error.sort_invalid");
    // The CSV holds every filtered row, not one page.
    let csv = p
        .app
        .get("/admin/startups.csv?status=incubating&q=batch", &p.admin)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.matches("Batch ").count(), 55);
    assert!(csv.body.starts_with("\u{feff}id,name,status,sector"));
    assert_eq!(
        p.app.get("/admin/startups.csv", &p.mentor).await.status,
        StatusCode::FORBIDDEN
    );
    let mentor = p.app.actor("wang@mentors.cn").await;
    assert_eq!(
        domain::incubation::views::list(db, &mentor, &Default::default())
            .await
            .unwrap_err(),
        AppError::Forbidden
    );
}

/// A park has hundreds of mentors: the startup's page finds them by name or email instead of
/// listing them all, leaves out those already assigned, and finds nothing for others.
#[tokio::test]
async fn mentors_to_assign_are_found_by_name_or_email() {
    let mut p = park().await;
    let startup = p.startup;
    let page = |q: &str| format!("/startups/{startup}?mentor={q}");
    let plain = p
        .app
        .get(&format!("/startups/{}", p.startup), &p.admin)
        .await;
    assert!(plain.body.contains("id=\"f-mentor\""));
    assert!(!plain.body.contains("data-testid=\"mentor-matches\""));
    assert!(
        !plain.body.contains("Wang Fang &lt;"),
        "no mentor is listed unasked"
    );
    let by_name = p.app.get(&page("wang"), &p.admin).await;
    assert!(by_name.body.contains("Wang Fang &lt;wang@mentors.cn&gt;"));
    assert!(!by_name.body.contains("Liu Yang"));
    let by_email = p.app.get(&page("MENTORS.CN"), &p.admin).await;
    assert!(by_email.body.contains("Wang Fang") && by_email.body.contains("Liu Yang"));
    // A wildcard is a character like any other.
    let wild = p.app.get(&page("%25"), &p.admin).await;
    assert!(!wild.body.contains("data-testid=\"mentor-matches\""));
    assert!(wild
        .body
        .contains("No mentor who is not yet assigned matches"));
    assign(&mut p).await;
    let after = p.app.get(&page("mentors.cn"), &p.admin).await;
    assert!(!after
        .body
        .contains(&format!("assign-mentor-{}", p.mentor_id)));
    assert!(after.body.contains("Liu Yang"));
    // A mentor's view of the page offers no one.
    let mentor = p.app.get(&page("liu"), &p.mentor).await;
    assert_eq!(mentor.status, axum::http::StatusCode::OK);
    assert!(!mentor.body.contains("Liu Yang"));
}

#[tokio::test]
async fn milestones_are_planned_then_signed_off_once() {
    let mut p = park().await;
    assign(&mut p).await;
    let id = p.startup.to_string();
    let today = day(0);
    for (field, value, key) in [
        ("title", "  ", "milestones.error_title_required"),
        ("due_on", "next week", "incubation.error_date_invalid"),
        ("due_on", "2020-01-01", "milestones.error_due_past"),
    ] {
        let mut fields = vec![
            ("startup_id", id.as_str()),
            ("title", "MVP"),
            ("due_on", today.as_str()),
        ];
        for f in fields.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let res = post(&p.app, &mut p.admin, "/api/create_milestone", &fields).await;
        assert_eq!(res.error_key(), key, "{field}={value}");
    }
    assert_eq!(p.app.count(milestone::Entity).await, 0);
    // Mentors sign off milestones but do not plan them.
    let res = post(
        &p.app,
        &mut p.mentor,
        "/api/create_milestone",
        &[("startup_id", &id), ("title", "MVP"), ("due_on", &today)],
    )
    .await;
    assert_eq!(res.error_key(), "error.forbidden");

    let mvp = add_milestone(&mut p, "MVP in production", 30).await;
    let pilot = add_milestone(&mut p, "Paying pilot customer", 60).await;
    let m = mvp.to_string();

    // Edit: only the admin; a new due date re-arms the reminder.
    let due = day(40);
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/update_milestone",
        &[("id", &m), ("title", "MVP live"), ("due_on", &due)],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let res = post(
        &p.app,
        &mut p.mentor,
        "/api/update_milestone",
        &[("id", &m), ("title", "Hijacked"), ("due_on", &due)],
    )
    .await;
    assert_eq!(res.error_key(), "error.forbidden");

    // The list shows the mentor count and the earliest planned milestone.
    let row = list_row(&p).await;
    assert!(row.contains(r#"<td class="num">1</td>"#), "{row}");
    assert!(row.contains(&format!("MVP live · {due}")), "{row}");

    // Sign-off needs evidence for done, notes for missed, and a known outcome.
    for (outcome, evidence, notes, key) in [
        ("done", " ", "", "milestones.error_evidence_required"),
        ("missed", "", "", "milestones.error_notes_required"),
        ("planned", "x", "x", "milestones.error_outcome"),
    ] {
        let res = post(
            &p.app,
            &mut p.mentor,
            "/api/sign_off_milestone",
            &[
                ("id", &m),
                ("outcome", outcome),
                ("evidence", evidence),
                ("notes", notes),
            ],
        )
        .await;
        assert_eq!(res.error_key(), key, "{outcome}");
    }
    let res = post(
        &p.app,
        &mut p.mentor,
        "/api/sign_off_milestone",
        &[
            ("id", &m),
            ("outcome", "done"),
            ("evidence", "https://deeppark.cn/demo"),
            ("notes", "Solid launch"),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=signed_off", p.startup),
        "{:?}",
        res.error_param()
    );
    let done = milestone::Entity::find_by_id(mvp)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        done.status,
        domain::startups::incubation::MilestoneStatus::Done
    );
    assert_eq!(done.title, "MVP live");
    assert_eq!(done.evidence.as_deref(), Some("https://deeppark.cn/demo"));
    assert_eq!(done.signed_off_by, Some(p.mentor_id));
    assert!(done.signed_off_at.is_some());
    assert_eq!(audit_count(&p.app, "milestone.done").await, 1);
    let mail = p.app.last_mail_to("li@deeppark.cn").await;
    assert!(mail.subject.contains("MVP live"), "{}", mail.subject);
    // A milestone signed off is no longer the next one.
    let row = list_row(&p).await;
    assert!(
        row.contains(&format!("Paying pilot customer · {}", day(60))),
        "{row}"
    );

    // Final: no second sign-off, no edit, no delete.
    for (path, fields) in [
        (
            "/api/sign_off_milestone",
            vec![
                ("id", m.as_str()),
                ("outcome", "missed"),
                ("notes", "Actually not"),
            ],
        ),
        (
            "/api/update_milestone",
            vec![
                ("id", m.as_str()),
                ("title", "Renamed"),
                ("due_on", due.as_str()),
            ],
        ),
        ("/api/delete_milestone", vec![("id", m.as_str())]),
    ] {
        let res = post(&p.app, &mut p.admin, path, &fields).await;
        assert_eq!(res.error_key(), "milestones.error_final", "{path}");
    }
    let still = milestone::Entity::find_by_id(mvp)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still, done, "refusals change nothing");

    // The admin marks the other one missed, with notes; then a planned one can be deleted.
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/sign_off_milestone",
        &[
            ("id", &pilot.to_string()),
            ("outcome", "missed"),
            ("notes", "Customer walked away"),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=signed_off", p.startup)
    );
    let extra = add_milestone(&mut p, "Hire a CTO", 10).await;
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/delete_milestone",
        &[("id", &extra.to_string())],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    assert!(milestone::Entity::find_by_id(extra)
        .one(p.app.db())
        .await
        .unwrap()
        .is_none());
    assert_eq!(audit_count(&p.app, "milestone.deleted").await, 1);

    // The page shows both outcomes and who signed off.
    let page = p
        .app
        .get(&format!("/startups/{}", p.startup), &p.mentor)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Signed off by Wang Fang"));
    assert!(page.body.contains("Customer walked away"));
}

#[tokio::test]
async fn who_may_see_and_do_what_on_a_startup() {
    let mut p = park().await;
    assign(&mut p).await;
    let m = add_milestone(&mut p, "MVP", 30).await;
    p.app
        .user_with_roles("mentor-admin@park.cn", "Both", &[Role::Mentor])
        .await;
    let mut anonymous = Jar::default();
    let id = p.startup.to_string();
    let path = format!("/startups/{}", p.startup);

    // Viewing the startup's page.
    for (who, jar, status) in [
        ("admin", &p.admin, StatusCode::OK),
        ("assigned mentor", &p.mentor, StatusCode::OK),
        ("other mentor", &p.other_mentor, StatusCode::FORBIDDEN),
        ("its founder", &p.founder, StatusCode::FORBIDDEN),
        ("anonymous", &anonymous, StatusCode::UNAUTHORIZED),
    ] {
        let page = p.app.get(&path, jar).await;
        assert_eq!(page.status, status, "{who}");
        assert_eq!(page.body.contains("MVP"), status == StatusCode::OK, "{who}");
    }
    // An unknown startup is not found for admins, forbidden for mentors (no probing).
    assert_eq!(
        p.app.get("/startups/9999", &p.admin).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        p.app.get("/startups/9999", &p.mentor).await.status,
        StatusCode::FORBIDDEN
    );

    // Writing a note, signing off, assigning a mentor, graduating: each refused role changes
    // nothing and gets the translated reason.
    let other_id = p.app.actor("liu@mentors.cn").await.user_id.to_string();
    let ms = m.to_string();
    let actions: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/api/add_startup_note",
            vec![("id", &id), ("body", "A note")],
        ),
        (
            "/api/sign_off_milestone",
            vec![("id", &ms), ("outcome", "missed"), ("notes", "No")],
        ),
        (
            "/api/assign_mentor",
            vec![("id", &id), ("user_id", &other_id)],
        ),
        (
            "/api/end_incubation",
            vec![("id", &id), ("to", "graduated"), ("reason", "Done")],
        ),
    ];
    for (path, fields) in &actions {
        for (who, jar, key) in [
            ("anonymous", &mut anonymous, "error.unauthenticated"),
            ("founder", &mut p.founder, "error.forbidden"),
            ("other mentor", &mut p.other_mentor, "error.forbidden"),
        ] {
            let res = post(&p.app, jar, path, fields).await;
            assert_eq!(res.error_key(), key, "{who} on {path}");
        }
        let mentor_allowed = matches!(*path, "/api/add_startup_note" | "/api/sign_off_milestone");
        if !mentor_allowed {
            let res = post(&p.app, &mut p.mentor, path, fields).await;
            assert_eq!(
                res.error_key(),
                "error.forbidden",
                "assigned mentor on {path}"
            );
        }
    }
    assert_eq!(p.app.count(note::Entity).await, 0);
    assert_eq!(p.app.count(mentor::Entity).await, 1);
    let s = startup::Entity::find_by_id(p.startup)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.status,
        domain::startups::incubation::StartupStatus::Incubating
    );
    assert_eq!(
        milestone::Entity::find_by_id(m)
            .one(p.app.db())
            .await
            .unwrap()
            .unwrap()
            .status,
        domain::startups::incubation::MilestoneStatus::Planned
    );

    // The assigned mentor writes notes; the admin too; newest first on the page.
    let res = post(
        &p.app,
        &mut p.mentor,
        "/api/add_startup_note",
        &[("id", &id), ("body", "First call went well")],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/add_startup_note",
        &[("id", &id), ("body", "Office moved to B2")],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/add_startup_note",
        &[("id", &id), ("body", "   ")],
    )
    .await;
    assert_eq!(res.error_key(), "incubation.error_note_required");
    let page = p.app.get(&path, &p.mentor).await;
    let newer = page.body.find("Office moved to B2").unwrap();
    let older = page.body.find("First call went well").unwrap();
    assert!(newer < older, "newest first");
    assert!(page.body.contains("Admin Zhou"), "with the author");

    // Mentor assignment: only people with the mentor role, once each; the mentor is told.
    let founder_id = p.app.actor("li@deeppark.cn").await.user_id.to_string();
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/assign_mentor",
        &[("id", &id), ("user_id", &founder_id)],
    )
    .await;
    assert_eq!(res.error_key(), "incubation.error_not_a_mentor");
    let mentor_id = p.mentor_id.to_string();
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/assign_mentor",
        &[("id", &id), ("user_id", &mentor_id)],
    )
    .await;
    assert_eq!(res.error_key(), "incubation.error_already_assigned");
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/assign_mentor",
        &[("id", &id), ("user_id", &other_id)],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let mail = p.app.last_mail_to("liu@mentors.cn").await;
    assert!(mail.subject.contains("DeepPark AI"), "{}", mail.subject);
    assert_eq!(
        p.app.get(&path, &p.other_mentor).await.status,
        StatusCode::OK
    );
    // Unassigning takes the access away again.
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/unassign_mentor",
        &[("id", &id), ("user_id", &other_id)],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    assert_eq!(
        p.app.get(&path, &p.other_mentor).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(audit_count(&p.app, "startup.mentor_unassigned").await, 1);

    // The applicant's own view of /startup shows its milestones, read-only.
    let page = p.app.get("/startup", &p.founder).await;
    assert!(page.body.contains("MVP"), "the team sees its milestones");
    assert!(page.body.contains("Wang Fang"), "and its mentors");
    assert!(
        !page.body.contains("sign_off_milestone"),
        "but no sign-off form"
    );
    assert!(!page.body.contains("First call went well"), "nor the notes");
}

#[tokio::test]
async fn applicants_see_only_their_own_incubation() {
    let mut p = park().await;
    add_milestone(&mut p, "Secret milestone of DeepPark", 20).await;
    let other = applicant_startup(&p.app, "chen@visionary.cn", "Visionary").await;
    let chen = p
        .app
        .sign_in("chen@visionary.cn", "correct horse battery")
        .await;
    let page = p.app.get("/startup", &chen).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Secret milestone"));
    let actor = p.app.actor("chen@visionary.cn").await;
    assert_eq!(
        domain::incubation::views::my_incubation(p.app.db(), &actor)
            .await
            .unwrap(),
        None,
        "an applicant not yet admitted has no incubation"
    );
    set_status(&p.app, other, "incubating").await;
    let mine = domain::incubation::views::my_incubation(p.app.db(), &actor)
        .await
        .unwrap()
        .unwrap();
    assert!(mine.milestones.is_empty());
    let founder = p.app.actor("li@deeppark.cn").await;
    let theirs = domain::incubation::views::my_incubation(p.app.db(), &founder)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(theirs.milestones.len(), 1);
    assert_eq!(
        p.app.get(&format!("/startups/{other}"), &chen).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn residency_graduation_and_exit() {
    let mut p = park().await;
    assign(&mut p).await;
    let id = p.startup.to_string();
    for (from, until, key) in [
        ("2027-06-01", "2027-01-01", "incubation.error_window_order"),
        ("2027-13-01", "", "incubation.error_date_invalid"),
    ] {
        let res = post(
            &p.app,
            &mut p.admin,
            "/api/set_residency",
            &[
                ("id", &id),
                ("residency_from", from),
                ("residency_until", until),
            ],
        )
        .await;
        assert_eq!(res.error_key(), key);
    }
    let res = post(
        &p.app,
        &mut p.mentor,
        "/api/set_residency",
        &[
            ("id", &id),
            ("residency_from", "2027-01-01"),
            ("residency_until", "2027-06-30"),
        ],
    )
    .await;
    assert_eq!(res.error_key(), "error.forbidden");
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/set_residency",
        &[
            ("id", &id),
            ("residency_from", "2027-01-01"),
            ("residency_until", "2027-06-30"),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let page = p.app.get("/startup", &p.founder).await;
    assert!(
        page.body.contains("2027-01-01 → 2027-06-30"),
        "the team sees its window"
    );

    for (to, reason, key) in [
        ("graduated", "  ", "incubation.error_reason_required"),
        (
            "applicant",
            "Back to square one",
            "incubation.error_end_invalid",
        ),
    ] {
        let res = post(
            &p.app,
            &mut p.admin,
            "/api/end_incubation",
            &[("id", &id), ("to", to), ("reason", reason)],
        )
        .await;
        assert_eq!(res.error_key(), key, "{to}");
    }
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/end_incubation",
        &[
            ("id", &id),
            ("to", "graduated"),
            ("reason", "Series A closed"),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let s = startup::Entity::find_by_id(p.startup)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.status,
        domain::startups::incubation::StartupStatus::Graduated
    );
    assert_eq!(s.end_reason.as_deref(), Some("Series A closed"));
    assert!(s.ended_at.is_some());
    assert_eq!(audit_count(&p.app, "startup.graduated").await, 1);
    let mail = p.app.last_mail_to("li@deeppark.cn").await;
    assert!(mail.body_text.contains("Series A closed"));

    // Only from incubating: no second ending, no new milestones, no residency change.
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/end_incubation",
        &[
            ("id", &id),
            ("to", "exited"),
            ("reason", "Changed our mind"),
        ],
    )
    .await;
    assert_eq!(res.error_key(), "incubation.error_not_incubating");
    let due = day(10);
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/create_milestone",
        &[("startup_id", &id), ("title", "Late"), ("due_on", &due)],
    )
    .await;
    assert_eq!(res.error_key(), "incubation.error_not_incubating");

    // Alumni are listed under their filter, and their mentor still sees them.
    let page = p
        .app
        .get("/admin/startups?status=graduated", &p.admin)
        .await;
    assert!(page.body.contains("DeepPark AI"));
    let page = p
        .app
        .get("/admin/startups?status=incubating", &p.admin)
        .await;
    assert!(!page.body.contains("DeepPark AI"));
    let page = p
        .app
        .get(&format!("/startups/{}", p.startup), &p.mentor)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Series A closed"));

    // Exit of another startup, in Chinese for a Chinese-speaking founder.
    let other = applicant_startup(&p.app, "chen@visionary.cn", "Visionary").await;
    set_status(&p.app, other, "incubating").await;
    let mut zh = p
        .app
        .sign_in("chen@visionary.cn", "correct horse battery")
        .await;
    let res = p
        .app
        .post_form("/api/set_language", "/", &[("lang", "zh-CN")], &mut zh)
        .await;
    assert!(res.status.is_redirection());
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/end_incubation",
        &[
            ("id", &other.to_string()),
            ("to", "exited"),
            ("reason", "团队解散"),
        ],
    )
    .await;
    assert_eq!(res.location(), format!("/startups/{other}?notice=saved"));
    let mail = p.app.last_mail_to("chen@visionary.cn").await;
    assert!(mail.subject.contains("已退出"), "{}", mail.subject);
    assert_eq!(audit_count(&p.app, "startup.exited").await, 1);
}

#[tokio::test]
async fn reminders_go_out_once_a_week_before_the_due_date() {
    let mut p = park().await;
    assign(&mut p).await;
    let soon = add_milestone(&mut p, "Demo day deck", 5).await;
    add_milestone(&mut p, "Far away", 20).await;
    let outbox = || domain::mail::entity::Entity::find().count(p.app.db());
    let before = outbox().await.unwrap();
    let settings = p.app.state.settings.clone();
    let sent = domain::incubation::milestones::send_reminders(p.app.db(), &settings, Utc::now())
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(
        outbox().await.unwrap(),
        before + 2,
        "the founder and the mentor"
    );
    let to_founder = p.app.last_mail_to("li@deeppark.cn").await;
    assert!(
        to_founder.subject.contains("Demo day deck"),
        "{}",
        to_founder.subject
    );
    assert!(to_founder.body_text.contains("/startup"));
    let to_mentor = p.app.last_mail_to("wang@mentors.cn").await;
    assert!(to_mentor
        .body_text
        .contains(&format!("/startups/{}", p.startup)));
    // Once.
    let sent = domain::incubation::milestones::send_reminders(p.app.db(), &settings, Utc::now())
        .await
        .unwrap();
    assert_eq!(sent, 0);
    assert_eq!(outbox().await.unwrap(), before + 2);
    // A new due date re-arms it; the far one comes up when its week starts.
    let due = day(6);
    let res = post(
        &p.app,
        &mut p.admin,
        "/api/update_milestone",
        &[
            ("id", &soon.to_string()),
            ("title", "Demo day deck"),
            ("due_on", &due),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let sent = domain::incubation::milestones::send_reminders(
        p.app.db(),
        &settings,
        Utc::now() + Duration::days(14),
    )
    .await
    .unwrap();
    assert_eq!(
        sent, 1,
        "the far one, a week before; the moved one is past due by then"
    );
    let sent = domain::incubation::milestones::send_reminders(p.app.db(), &settings, Utc::now())
        .await
        .unwrap();
    assert_eq!(sent, 1, "the moved one, re-armed");
}

#[tokio::test]
async fn mentors_see_their_startups_and_what_is_due() {
    let mut p = park().await;
    assign(&mut p).await;
    add_milestone(&mut p, "Next up: pilot", 12).await;
    add_milestone(&mut p, "Later: Series A", 90).await;
    let page = p.app.get("/mentoring", &p.mentor).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("DeepPark AI"));
    assert!(page.body.contains("Next up: pilot"));
    assert!(!page.body.contains("Later: Series A"));
    assert!(
        page.body.contains("href=\"/mentoring\""),
        "a nav link for mentors"
    );
    let page = p.app.get("/mentoring", &p.other_mentor).await;
    assert!(!page.body.contains("DeepPark AI"));
    assert_eq!(
        p.app.get("/mentoring", &p.founder).await.status,
        StatusCode::FORBIDDEN
    );
    let page = p.app.get("/dashboard", &p.admin).await;
    assert!(
        page.body.contains("href=\"/admin/startups\""),
        "a nav link for admins"
    );
}
