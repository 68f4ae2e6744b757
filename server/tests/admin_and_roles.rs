//! Roles and invitations: who may do what, checked in the domain and seen through the router.
mod common;

use axum::http::StatusCode;
use common::{link_token, Jar, TestApp};
use domain::auth::Role;
use domain::auth::{invitations, users};
use domain::error::AppError;

#[tokio::test]
async fn only_admins_manage_people() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    app.user_with_roles("mentor@park.cn", "Mentor", &[Role::Mentor])
        .await;
    let applicant_id = app
        .user_with_roles("founder@startup.cn", "Founder", &[Role::Applicant])
        .await;

    let admin = app.actor("admin@park.cn").await;
    let mentor = app.actor("mentor@park.cn").await;
    let applicant = app.actor("founder@startup.cn").await;
    let db = app.db();
    let s = &app.state.settings;

    // The matrix: every admin-only domain function, for each role.
    for (actor, allowed) in [(&admin, true), (&mentor, false), (&applicant, false)] {
        let list = users::list_users(db, actor, &Default::default()).await;
        let invite = invitations::invite(
            db,
            s,
            actor,
            &format!("new-{}@park.cn", actor.user_id),
            "mentor",
            domain::i18n::Locale::En,
        )
        .await;
        let roles =
            users::set_roles(db, actor, applicant_id, &[Role::Applicant, Role::Mentor]).await;
        let outbox = domain::mail::outbox::list(db, actor, &Default::default()).await;
        for (what, denied) in [
            ("list_users", list.err() == Some(AppError::Forbidden)),
            ("invite", invite.err() == Some(AppError::Forbidden)),
            ("set_roles", roles.err() == Some(AppError::Forbidden)),
            ("outbox", outbox.err() == Some(AppError::Forbidden)),
        ] {
            assert_eq!(denied, !allowed, "{what} for {:?}", actor.roles);
        }
    }

    // And through the pages: a mentor is refused with 403, a visitor is asked to sign in.
    let mentor_jar = app.sign_in("mentor@park.cn", "correct horse battery").await;
    let page = app.get("/admin/users", &mentor_jar).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("You do not have permission"));
    let page = app.get("/admin/outbox", &Jar::default()).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);

    let admin_jar = app.sign_in("admin@park.cn", "correct horse battery").await;
    let page = app.get("/admin/users?q=FOUND", &admin_jar).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("founder@startup.cn"));
    assert!(!page.body.contains("mentor@park.cn"));
}

#[tokio::test]
async fn admins_set_roles_but_not_away_their_own_admin() {
    let app = TestApp::new().await;
    let admin_id = app
        .user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let user_id = app
        .user_with_roles("wu@startup.cn", "Wu", &[Role::Applicant])
        .await;
    let mut jar = app.sign_in("admin@park.cn", "correct horse battery").await;

    let res = app
        .post_form(
            "/api/set_user_roles",
            "/admin/users",
            &[
                ("user_id", &user_id.to_string()),
                ("applicant", "on"),
                ("mentor", "on"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/admin/users?notice=saved");
    let wu = app.actor("wu@startup.cn").await;
    assert_eq!(wu.roles, vec![Role::Applicant, Role::Mentor]);

    let res = app
        .post_form(
            "/api/set_user_roles",
            "/admin/users",
            &[("user_id", &admin_id.to_string()), ("mentor", "on")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.cannot_remove_own_admin");
    assert_eq!(app.actor("admin@park.cn").await.roles, vec![Role::Admin]);

    let res = app
        .post_form(
            "/api/set_user_roles",
            "/admin/users",
            &[("user_id", "999999"), ("mentor", "on")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.not_found");

    // Both changes are in the audit log, with before and after.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let entries = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq("user.roles_changed"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_user_id, Some(admin_id));
    assert_eq!(
        entries[0].before.as_deref(),
        Some(r#"{"roles":["applicant"]}"#)
    );
    assert_eq!(
        entries[0].after.as_deref(),
        Some(r#"{"roles":["applicant","mentor"]}"#)
    );
}

#[tokio::test]
async fn an_invited_mentor_joins_by_the_emailed_link() {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin Wang", &[Role::Admin])
        .await;
    let mut jar = app.sign_in("admin@park.cn", "correct horse battery").await;

    let res = app
        .post_form(
            "/api/invite_user",
            "/admin/users",
            &[("email", "bad"), ("role", "mentor"), ("lang", "en")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.email_invalid");
    let res = app
        .post_form(
            "/api/invite_user",
            "/admin/users",
            &[
                ("email", "m@park.cn"),
                ("role", "applicant"),
                ("lang", "en"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.role_invalid");

    let res = app
        .post_form(
            "/api/invite_user",
            "/admin/users",
            &[
                ("email", "Mentor@Park.cn"),
                ("role", "mentor"),
                ("lang", "zh-CN"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/admin/users?notice=invitation_sent");
    let mail = app.last_mail_to("mentor@park.cn").await;
    assert_eq!(mail.subject, "邀请您加入 Hatchery");
    assert!(mail.body_text.contains("Admin Wang"));
    let token = link_token(&mail.body_text, "/invite?token=");

    let page = app
        .get(&format!("/invite?token={token}"), &Jar::default())
        .await;
    assert!(
        page.body
            .contains("mentor@park.cn is invited to join Hatchery as Mentor."),
        "{}",
        page.body
    );

    let mut visitor = Jar::default();
    let res = app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[
                ("token", &token),
                ("name", ""),
                ("password", "mentor password 1"),
            ],
            &mut visitor,
        )
        .await;
    assert_eq!(res.error_key(), "error.name_required");
    let res = app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[
                ("token", &token),
                ("name", "Mentor Zhao"),
                ("password", "mentor password 1"),
            ],
            &mut visitor,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=invitation_accepted");
    let res = app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[
                ("token", &token),
                ("name", "Again"),
                ("password", "mentor password 1"),
            ],
            &mut visitor,
        )
        .await;
    assert_eq!(res.error_key(), "error.token_used");

    let mentor_jar = app.sign_in("mentor@park.cn", "mentor password 1").await;
    let page = app.get("/dashboard", &mentor_jar).await;
    assert!(page.body.contains("data-role=\"mentor\""), "{}", page.body);
    assert!(!page.body.contains("data-role=\"applicant\""));

    // An existing applicant invited as admin keeps their account and gains the role.
    app.signed_in_applicant("founder@startup.cn", "Founder")
        .await;
    app.post_form(
        "/api/invite_user",
        "/admin/users",
        &[
            ("email", "founder@startup.cn"),
            ("role", "admin"),
            ("lang", "en"),
        ],
        &mut jar,
    )
    .await;
    let token = link_token(
        &app.last_mail_to("founder@startup.cn").await.body_text,
        "/invite?token=",
    );
    let res = app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[("token", &token), ("password", "wrong password!")],
            &mut visitor,
        )
        .await;
    assert_eq!(res.error_key(), "error.login_failed");
    let res = app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[("token", &token), ("password", "correct horse battery")],
            &mut visitor,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=invitation_accepted");
    assert_eq!(
        app.actor("founder@startup.cn").await.roles,
        vec![Role::Applicant, Role::Admin]
    );
    let res = app
        .post_form(
            "/api/invite_user",
            "/admin/users",
            &[
                ("email", "founder@startup.cn"),
                ("role", "admin"),
                ("lang", "en"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.already_has_role");
}

/// The audit log viewer: filters by actor, entity, action and day; a CSV of the filtered rows;
/// admins only.
#[tokio::test]
async fn admins_read_and_export_the_audit_log() {
    use domain::audit::{self, Change};
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin Wang", &[Role::Admin])
        .await;
    app.user_with_roles("founder@startup.cn", "Founder", &[Role::Applicant])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let founder = app
        .sign_in("founder@startup.cn", "correct horse battery")
        .await;
    let admin_id = app.actor("admin@park.cn").await.user_id;
    for (actor, action, entity, id, after) in [
        (
            Some(admin_id),
            "grant.created",
            "grant",
            "7",
            serde_json::json!({"hours": 100}),
        ),
        (
            Some(admin_id),
            "grant.adjusted",
            "grant",
            "7",
            serde_json::json!({"note": "=1+1, \"加\""}),
        ),
        (
            None,
            "grant.expired",
            "grant",
            "8",
            serde_json::json!({"status": "expired"}),
        ),
        (
            Some(admin_id),
            "cohort.created",
            "cohort",
            "3",
            serde_json::json!({"title_zh": "大模型微调"}),
        ),
    ] {
        audit::record(
            app.db(),
            Change {
                actor,
                action,
                entity_type: entity,
                entity_id: id.into(),
                before: None,
                after: Some(after),
            },
        )
        .await
        .unwrap();
    }
    let rows = |body: &str| body.matches("data-audit=").count();

    let page = app.get("/admin/audit?action=grant.", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(rows(&page.body), 3);
    let page = app
        .get("/admin/audit?entity_type=grant&entity_id=7", &admin)
        .await;
    assert_eq!(rows(&page.body), 2);
    let page = app
        .get("/admin/audit?actor=system&action=grant", &admin)
        .await;
    assert_eq!(rows(&page.body), 1);
    assert!(page.body.contains("grant.expired"));
    let page = app
        .get("/admin/audit?actor=WANG&action=cohort", &admin)
        .await;
    assert_eq!(rows(&page.body), 1);
    assert!(page.body.contains("大模型微调"));
    // Days are the reader's: the park's zone here (Asia/Shanghai, the default).
    let today = domain::time::Zone::default().today();
    let page = app
        .get(
            &format!("/admin/audit?from={today}&to={today}&action=grant"),
            &admin,
        )
        .await;
    assert_eq!(rows(&page.body), 3);
    let tomorrow = today.succ_opt().unwrap();
    let page = app
        .get(&format!("/admin/audit?from={tomorrow}"), &admin)
        .await;
    assert_eq!(rows(&page.body), 0);
    assert!(page.body.contains("No entry matches"));
    // A range that ends before it starts is named, not guessed at.
    let page = app
        .get(&format!("/admin/audit?from={tomorrow}&to={today}"), &admin)
        .await;
    assert!(page.body.contains("data-field=\"to\""), "{}", page.body);

    // The CSV holds exactly the filtered rows, with formulas defused and Chinese intact.
    let csv = app.get("/admin/audit.csv?action=grant.", &admin).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(
        csv.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "id,time (Asia/Shanghai),actor_name,actor_email,action,entity_type,entity_id,before,after"
    );
    assert_eq!(lines.len(), 4, "{}", csv.body);
    assert!(
        lines[1].contains("grant.expired") && lines[1].contains(",,"),
        "newest first, no actor"
    );
    assert!(lines[2].contains("Admin Wang,admin@park.cn,grant.adjusted"));
    let csv = app.get("/admin/audit.csv?entity_type=cohort", &admin).await;
    assert!(csv.body.contains("大模型微调"));

    // Admins only, checked in the domain whatever the door.
    assert_eq!(
        app.get("/admin/audit", &founder).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/admin/audit", &Jar::default()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/admin/audit.csv", &founder).await.status,
        StatusCode::FORBIDDEN
    );
    let anon = app.get("/admin/audit.csv", &Jar::chinese()).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    assert!(!anon.body.contains("grant"));
    let founder_actor = app.actor("founder@startup.cn").await;
    let err =
        domain::admin::audit_log::list(app.db(), &founder_actor, &Default::default(), 0, None)
            .await
            .unwrap_err();
    assert_eq!(err, AppError::Forbidden);
}
