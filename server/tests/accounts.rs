//! Accounts through the router, as a browser without JavaScript uses them.
mod common;

use axum::http::StatusCode;
use common::{link_token, Jar, TestApp};
use domain::auth::entity::{session, user};

#[tokio::test]
async fn register_verify_sign_in_and_out() {
    let app = TestApp::new().await;
    let mut jar = Jar::default();

    let res = app
        .post_form(
            "/api/register",
            "/register",
            &[
                ("name", "Wei Zhang"),
                ("email", " Wei.Zhang@Example.com "),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=registered", "{}", res.body);

    let page = app.get("/login?notice=registered", &jar).await;
    assert!(page.body.contains("Your account is ready"), "{}", page.body);

    // Not verified yet: signing in is refused with a clear message.
    let res = app
        .post_form(
            "/api/login",
            "/login",
            &[
                ("email", "wei.zhang@example.com"),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.email_unverified");
    assert!(!jar.cookies.contains_key("hatchery_session"));

    let mail = app.last_mail_to("wei.zhang@example.com").await;
    assert_eq!(mail.subject, "Confirm your email address for Hatchery");
    let token = link_token(&mail.body_text, "http://127.0.0.1:3000/verify?token=");
    let res = app
        .post_form(
            "/api/verify_email",
            "/verify",
            &[("token", &token)],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=verified");

    // The link works once.
    let res = app
        .post_form(
            "/api/verify_email",
            "/verify",
            &[("token", &token)],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.token_used");

    let res = app
        .post_form(
            "/api/login",
            "/login",
            &[
                ("email", "WEI.ZHANG@example.com"),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/dashboard");
    let cookie = res
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("hatchery_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let page = app.get("/dashboard", &jar).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Welcome, Wei Zhang"), "{}", page.body);
    assert!(page.body.contains("Sign out"));

    let res = app
        .post_form("/api/logout", "/dashboard", &[], &mut jar)
        .await;
    assert_eq!(res.location(), "/?notice=signed_out");
    assert!(!jar.cookies.contains_key("hatchery_session"));
    assert_eq!(app.count(session::Entity).await, 0);

    let page = app.get("/dashboard", &jar).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("Please sign in to see this page."));
}

#[tokio::test]
async fn bad_registrations_get_a_translated_message_and_change_nothing() {
    let app = TestApp::new().await;
    let mut jar = Jar::default();
    app.signed_in_applicant("taken@example.com", "First").await;
    let users_before = app.count(user::Entity).await;
    let mails_before = app.count(domain::mail::entity::Entity).await;

    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("name", ""),
                ("email", "a@example.com"),
                ("password", "correct horse battery"),
            ],
            "error.name_required",
        ),
        (
            &[
                ("name", "A"),
                ("email", ""),
                ("password", "correct horse battery"),
            ],
            "error.email_required",
        ),
        (
            &[
                ("name", "A"),
                ("email", "not-an-email"),
                ("password", "correct horse battery"),
            ],
            "error.email_invalid",
        ),
        (
            &[
                ("name", "A"),
                ("email", "a@example.com"),
                ("password", "short"),
            ],
            "error.password_short",
        ),
        (
            &[("name", "A"), ("email", "a@example.com"), ("password", "")],
            "error.password_required",
        ),
        (
            &[
                ("name", "A"),
                ("email", "TAKEN@example.com"),
                ("password", "correct horse battery"),
            ],
            "error.email_taken",
        ),
        // A field missing from the form altogether.
        (
            &[("name", "A"), ("email", "a@example.com")],
            "error.bad_form",
        ),
    ];
    for (fields, key) in cases {
        let res = app
            .post_form("/api/register", "/register", fields, &mut jar)
            .await;
        assert_eq!(res.error_key(), *key, "for {fields:?}");
        assert!(
            res.location().starts_with("/register?"),
            "{}",
            res.location()
        );
    }
    assert_eq!(app.count(user::Entity).await, users_before);
    assert_eq!(app.count(domain::mail::entity::Entity).await, mails_before);

    // The page the browser is sent back to shows the message, in the reader's language.
    let res = app
        .post_form(
            "/api/register",
            "/register",
            &[
                ("name", "A"),
                ("email", "x@y"),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    let page = app.get(&res.location(), &jar).await;
    assert!(
        page.body.contains("That email address does not look right"),
        "{}",
        page.body
    );
    let zh = app.get(&res.location(), &Jar::chinese()).await;
    assert!(zh.body.contains("邮箱地址格式不正确"), "{}", zh.body);
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_address() {
    let app = TestApp::new().await;
    app.signed_in_applicant("li@example.com", "Li").await;
    let mut jar = Jar::default();
    for _ in 0..domain::auth::limits::MAX_FAILED_LOGINS_PER_EMAIL {
        let res = app
            .post_form(
                "/api/login",
                "/login",
                &[("email", "li@example.com"), ("password", "wrong password!")],
                &mut jar,
            )
            .await;
        assert_eq!(res.error_key(), "error.login_failed");
    }
    // Even the right password is refused until the window passes.
    let res = app
        .post_form(
            "/api/login",
            "/login",
            &[
                ("email", "li@example.com"),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.rate_limited");
    assert!(!jar.cookies.contains_key("hatchery_session"));
    // Another address is not affected.
    app.signed_in_applicant("wang@example.com", "Wang").await;
}

#[tokio::test]
async fn unknown_and_known_addresses_fail_alike() {
    let app = TestApp::new().await;
    app.signed_in_applicant("known@example.com", "Known").await;
    let mut jar = Jar::default();
    let a = app
        .post_form(
            "/api/login",
            "/login",
            &[
                ("email", "known@example.com"),
                ("password", "wrong password!"),
            ],
            &mut jar,
        )
        .await;
    let b = app
        .post_form(
            "/api/login",
            "/login",
            &[
                ("email", "nobody@example.com"),
                ("password", "wrong password!"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(a.error_key(), "error.login_failed");
    assert_eq!(b.error_key(), "error.login_failed");
}

#[tokio::test]
async fn password_reset_by_emailed_link() {
    let app = TestApp::new().await;
    let old_jar = app
        .signed_in_applicant("reset@example.com", "Reset Me")
        .await;
    let mut jar = Jar::default();

    // Unknown addresses get the same answer and no email.
    let mails = app.count(domain::mail::entity::Entity).await;
    let res = app
        .post_form(
            "/api/forgot_password",
            "/forgot",
            &[("email", "ghost@example.com")],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=reset_sent");
    assert_eq!(app.count(domain::mail::entity::Entity).await, mails);

    let res = app
        .post_form(
            "/api/forgot_password",
            "/forgot",
            &[("email", "reset@example.com")],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=reset_sent");
    let mail = app.last_mail_to("reset@example.com").await;
    assert_eq!(mail.kind.as_str(), "reset");
    let token = link_token(&mail.body_text, "/reset?token=");

    let res = app
        .post_form(
            "/api/reset_password",
            "/reset",
            &[("token", &token), ("password", "short")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.password_short");
    let res = app
        .post_form(
            "/api/reset_password",
            "/reset",
            &[("token", "bogus"), ("password", "a new long password")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.token_invalid");

    let res = app
        .post_form(
            "/api/reset_password",
            "/reset",
            &[("token", &token), ("password", "a new long password")],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/login?notice=password_changed");
    let res = app
        .post_form(
            "/api/reset_password",
            "/reset",
            &[("token", &token), ("password", "another long password")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.token_used");

    // The old session is gone; the new password works, the old one does not.
    let page = app.get("/dashboard", &old_jar).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    app.sign_in("reset@example.com", "a new long password")
        .await;
    let res = app
        .post_form(
            "/api/login",
            "/login",
            &[
                ("email", "reset@example.com"),
                ("password", "correct horse battery"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.login_failed");
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    use axum::body::Body;
    use axum::http::{header, Request};
    let app = TestApp::new().await;
    let form = "name=Eve&email=eve%40example.com&password=correct+horse+battery";
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("origin", "null"),
    ] {
        let req = Request::post("/api/register")
            .header(header::HOST, "127.0.0.1:3000")
            .header(name, value)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(res.body.contains("another site"));
    }
    assert_eq!(app.count(user::Entity).await, 0);
}

#[tokio::test]
async fn language_follows_the_browser_then_the_switch_then_the_account() {
    let app = TestApp::new().await;
    let page = app.get("/", &Jar::chinese()).await;
    assert!(
        page.body.contains("<html lang=\"zh-CN\""),
        "{}",
        &page.body[..200.min(page.body.len())]
    );
    assert!(page.body.contains("正在开放的入孵批次"));

    // A Chinese-speaking applicant registers: their emails are in Chinese.
    let mut jar = Jar::chinese();
    app.post_form(
        "/api/register",
        "/register",
        &[
            ("name", "李雷"),
            ("email", "lilei@example.cn"),
            ("password", "correct horse battery"),
        ],
        &mut jar,
    )
    .await;
    let mail = app.last_mail_to("lilei@example.cn").await;
    assert_eq!(mail.subject, "请确认您在 Hatchery 的邮箱地址");
    assert!(mail.body_text.starts_with("李雷，您好："));

    // The switch sets a cookie that wins over the browser's language.
    let mut jar = Jar::chinese();
    let res = app
        .post_form("/api/set_language", "/", &[("lang", "en")], &mut jar)
        .await;
    assert_eq!(res.location(), "/");
    assert_eq!(
        jar.cookies.get("hatchery_lang").map(String::as_str),
        Some("en")
    );
    let page = app.get("/", &jar).await;
    assert!(page.body.contains("<html lang=\"en\""));
    assert!(page.body.contains("Open intake rounds"));

    let res = app
        .post_form("/api/set_language", "/", &[("lang", "klingon")], &mut jar)
        .await;
    assert_eq!(res.error_key(), "error.language_invalid");

    // Signed in, the choice is saved on the account and comes back at the next sign-in.
    let mut jar = app.signed_in_applicant("chen@example.com", "Chen").await;
    app.post_form(
        "/api/set_language",
        "/dashboard",
        &[("lang", "zh-CN")],
        &mut jar,
    )
    .await;
    let fresh = app
        .sign_in("chen@example.com", "correct horse battery")
        .await;
    assert_eq!(
        fresh.cookies.get("hatchery_lang").map(String::as_str),
        Some("zh-CN")
    );
    let page = app.get("/dashboard", &fresh).await;
    assert!(page.body.contains("欢迎，Chen"), "{}", page.body);
}

#[tokio::test]
async fn people_edit_their_own_name_and_language() {
    let app = TestApp::new().await;
    let mut jar = app.signed_in_applicant("zhou@example.com", "Zhou").await;
    let page = app.get("/account", &jar).await;
    assert!(page.body.contains("value=\"Zhou\""), "{}", page.body);

    let res = app
        .post_form(
            "/api/update_account",
            "/account",
            &[("name", "  "), ("lang", "en")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.name_required");
    let res = app
        .post_form(
            "/api/update_account",
            "/account",
            &[("name", "Zhou Li"), ("lang", "xx")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.language_invalid");
    assert_eq!(app.actor("zhou@example.com").await.name, "Zhou");

    let res = app
        .post_form(
            "/api/update_account",
            "/account",
            &[("name", "周丽"), ("lang", "zh-CN")],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/account?notice=saved");
    let page = app.get("/account?notice=saved", &jar).await;
    assert!(
        page.body.contains("已保存。") && page.body.contains("value=\"周丽\""),
        "{}",
        page.body
    );
    assert_eq!(
        app.actor("zhou@example.com").await.locale,
        domain::i18n::Locale::ZhCn
    );

    // Nobody signed in: nothing to edit.
    let res = app
        .post_form(
            "/api/update_account",
            "/account",
            &[("name", "X"), ("lang", "en")],
            &mut Jar::default(),
        )
        .await;
    assert_eq!(res.error_key(), "error.unauthenticated");
}

#[tokio::test]
async fn housekeeping_removes_expired_sessions_and_tokens_only() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let app = TestApp::new().await;
    let live = app.signed_in_applicant("live@example.com", "Live").await;
    let stale = app
        .sign_in("live@example.com", "correct horse battery")
        .await;
    let stale_id = domain::auth::tokens::hash_token(stale.cookies.get("hatchery_session").unwrap());
    let mut row: session::ActiveModel = session::Entity::find_by_id(stale_id.clone())
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .into();
    row.expires_at = Set(chrono::Utc::now() - chrono::Duration::minutes(1));
    row.update(app.db()).await.unwrap();

    // An expired session no longer signs anyone in, even before it is deleted.
    assert_eq!(
        app.get("/dashboard", &stale).await.status,
        StatusCode::UNAUTHORIZED
    );
    let deleted = domain::auth::sessions::purge_expired(app.db())
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(session::Entity::find_by_id(stale_id)
        .one(app.db())
        .await
        .unwrap()
        .is_none());
    assert_eq!(app.get("/dashboard", &live).await.status, StatusCode::OK);
}

/// A reset or invitation link is a live key to an account: the outbox that admins read shows
/// where it goes, never the token, which is held beside the message only until delivery.
#[tokio::test]
async fn one_time_links_never_show_in_the_outbox() {
    use sea_orm::EntityTrait;
    let app = TestApp::new().await;
    let (_, admin) = app.person("ops@park.cn", "Ops", "admin").await;
    app.signed_in_applicant("reset@example.com", "Reset Me")
        .await;
    let mut jar = Jar::default();
    app.post_form(
        "/api/forgot_password",
        "/forgot",
        &[("email", "reset@example.com")],
        &mut jar,
    )
    .await;
    let mail = app.last_mail_to("reset@example.com").await;
    let token = link_token(&mail.body_text, "/reset?token=");
    let stored = domain::mail::entity::Entity::find_by_id(mail.id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.body_text.contains(&token));
    assert!(stored.body_text.contains("/reset?token={one-time-token}"));
    let page = app.get(&format!("/admin/outbox/{}", mail.id), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("{one-time-token}") && !page.body.contains(&token));

    // Delivered: the link with its token is in the message, and no longer beside it.
    let sent = domain::mail::outbox::deliver_due(
        app.db(),
        &app.state.mailer,
        &app.state.settings.mail_from,
        100,
    )
    .await
    .unwrap();
    assert!(sent >= 1);
    let stored = domain::mail::entity::Entity::find_by_id(mail.id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.status.as_str(), stored.secret), ("sent", None));
    let delivered: Vec<String> = std::fs::read_dir(app.data_dir.path().join("mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        // Undo quoted-printable: soft line breaks and the encoded `=`.
        .map(|m| {
            m.replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=")
        })
        .filter(|m| m.contains("/reset?token="))
        .collect();
    assert_eq!(delivered.len(), 1);
    assert!(delivered[0].contains(&token), "{}", delivered[0]);
    let page = app.get(&format!("/admin/outbox/{}", mail.id), &admin).await;
    assert!(!page.body.contains(&token));
    // The link still works for its owner.
    let res = app
        .post_form(
            "/api/reset_password",
            &format!("/reset?token={token}"),
            &[("token", &token), ("password", "a brand new passphrase")],
            &mut jar,
        )
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
}
