//! Chat channels: park-wide events reach WeCom, DingTalk and Feishu group robots through an
//! outbox. An in-test webhook server plays the three platforms: it checks each one's
//! signature and payload shape as the platform does, and answers with the platform's errors.
mod common;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::channels::entity::{channel, delivery};
use domain::error::AppError;
use hmac::{KeyInit, Mac};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

const DINGTALK_TOKEN: &str = "3f9c0e2b7d51a84c6e0f";
const DINGTALK_SECRET: &str = "SEC8b1f0a9c7e3d25f4a6b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8";
const FEISHU_HOOK: &str = "6223fc9e-58c6-4526-b463-140820b5e7c9";
const FEISHU_SECRET: &str = "HOyyTFJVwq05KjGwFR5isc";
const WECOM_KEY: &str = "693a91f6-7b2c-4bc4-97a0-0ec2a1fa5aaa";

/// A message a platform accepted.
#[derive(Clone, Debug)]
struct Received {
    platform: &'static str,
    title: String,
    text: String,
}

#[derive(Clone, Default)]
struct Platforms {
    received: Arc<Mutex<Vec<Received>>>,
    /// Non-zero: every request is answered with this HTTP status (the platform is ill).
    fail_with: Arc<AtomicU16>,
}

/// The three platforms on one loopback port.
struct Robots {
    base: String,
    state: Platforms,
}

impl Robots {
    async fn start() -> Robots {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener).await
    }

    async fn serve(listener: tokio::net::TcpListener) -> Robots {
        let state = Platforms::default();
        let app = axum::Router::new()
            .route("/robot/send", axum::routing::post(dingtalk))
            .route("/open-apis/bot/v2/hook/{id}", axum::routing::post(feishu))
            .route("/cgi-bin/webhook/send", axum::routing::post(wecom))
            .with_state(state.clone());
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Robots { base, state }
    }

    fn dingtalk_url(&self) -> String {
        format!("{}/robot/send?access_token={DINGTALK_TOKEN}", self.base)
    }

    fn feishu_url(&self) -> String {
        format!("{}/open-apis/bot/v2/hook/{FEISHU_HOOK}", self.base)
    }

    fn wecom_url(&self) -> String {
        format!("{}/cgi-bin/webhook/send?key={WECOM_KEY}", self.base)
    }

    fn received(&self, platform: &str) -> Vec<Received> {
        self.state
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.platform == platform)
            .cloned()
            .collect()
    }

    fn fail_with(&self, status: u16) {
        self.state.fail_with.store(status, Ordering::SeqCst);
    }
}

fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn ill(state: &Platforms) -> Option<(StatusCode, Json<Value>)> {
    match state.fail_with.load(Ordering::SeqCst) {
        0 => None,
        code => Some((
            StatusCode::from_u16(code).unwrap(),
            Json(json!({"error": "unavailable"})),
        )),
    }
}

fn text_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = v;
    for p in path {
        v = v.get(*p)?;
    }
    v.as_str().filter(|s| !s.is_empty())
}

/// DingTalk: the token in the address, `timestamp` (ms, within an hour) and
/// `sign = urlencode(base64(HMAC-SHA256(secret, "<timestamp>\n<secret>")))`.
async fn dingtalk(
    State(state): State<Platforms>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if let Some(answer) = ill(&state) {
        return answer;
    }
    if q.get("access_token").map(String::as_str) != Some(DINGTALK_TOKEN) {
        return (
            StatusCode::OK,
            Json(json!({"errcode": 300001, "errmsg": "token is not exist"})),
        );
    }
    let ts: i64 = q.get("timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
    let fresh = (Utc::now().timestamp_millis() - ts).abs() < 3_600_000;
    let expected = hmac_base64(
        DINGTALK_SECRET.as_bytes(),
        format!("{ts}\n{DINGTALK_SECRET}").as_bytes(),
    );
    if !fresh || q.get("sign") != Some(&expected) {
        return (
            StatusCode::OK,
            Json(
                json!({"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}),
            ),
        );
    }
    let (Some("markdown"), Some(title), Some(text)) = (
        text_at(&body, &["msgtype"]),
        text_at(&body, &["markdown", "title"]),
        text_at(&body, &["markdown", "text"]),
    ) else {
        return (
            StatusCode::OK,
            Json(json!({"errcode": 40035, "errmsg": "缺少参数 json"})),
        );
    };
    state.received.lock().unwrap().push(Received {
        platform: "dingtalk",
        title: title.into(),
        text: text.into(),
    });
    (StatusCode::OK, Json(json!({"errcode": 0, "errmsg": "ok"})))
}

/// Feishu: `timestamp` (s, within an hour) and `sign = base64(HMAC-SHA256(key =
/// "<timestamp>\n<secret>", empty message))` in the body, an interactive card with markdown.
async fn feishu(
    State(state): State<Platforms>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if let Some(answer) = ill(&state) {
        return answer;
    }
    if id != FEISHU_HOOK {
        return (
            StatusCode::NOT_FOUND,
            Json(
                json!({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}),
            ),
        );
    }
    let ts: i64 = text_at(&body, &["timestamp"])
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let fresh = (Utc::now().timestamp() - ts).abs() < 3600;
    let expected = hmac_base64(format!("{ts}\n{FEISHU_SECRET}").as_bytes(), b"");
    if !fresh || text_at(&body, &["sign"]) != Some(expected.as_str()) {
        return (
            StatusCode::OK,
            Json(
                json!({"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"}),
            ),
        );
    }
    let markdown = body["card"]["elements"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["tag"] == "markdown"))
        .and_then(|e| e["content"].as_str());
    let (Some("interactive"), Some(title), Some(text)) = (
        text_at(&body, &["msg_type"]),
        text_at(&body, &["card", "header", "title", "content"]),
        markdown,
    ) else {
        return (
            StatusCode::OK,
            Json(json!({"code": 9499, "data": {}, "msg": "Bad Request"})),
        );
    };
    state.received.lock().unwrap().push(Received {
        platform: "feishu",
        title: title.into(),
        text: text.into(),
    });
    (
        StatusCode::OK,
        Json(json!({"code": 0, "data": {}, "msg": "success"})),
    )
}

/// WeCom: the key in the address is the only credential; markdown of at most 4096 bytes.
async fn wecom(
    State(state): State<Platforms>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if let Some(answer) = ill(&state) {
        return answer;
    }
    if q.get("key").map(String::as_str) != Some(WECOM_KEY) {
        return (
            StatusCode::OK,
            Json(
                json!({"errcode": 93000, "errmsg": "invalid webhook url, hint: [1733989871316011093445830], from ip: 10.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}),
            ),
        );
    }
    let (Some("markdown"), Some(content)) = (
        text_at(&body, &["msgtype"]),
        text_at(&body, &["markdown", "content"]),
    ) else {
        return (
            StatusCode::OK,
            Json(json!({"errcode": 40008, "errmsg": "invalid message type"})),
        );
    };
    if content.len() > 4096 {
        return (
            StatusCode::OK,
            Json(json!({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})),
        );
    }
    let (title, text) = content.split_once('\n').unwrap_or((content, ""));
    state.received.lock().unwrap().push(Received {
        platform: "wecom",
        title: title.trim_start_matches("### ").into(),
        text: text.into(),
    });
    (StatusCode::OK, Json(json!({"errcode": 0, "errmsg": "ok"})))
}

/// Adds a channel through the admin's form; returns its id.
#[allow(clippy::too_many_arguments)]
async fn add_channel(
    app: &TestApp,
    jar: &mut Jar,
    name: &str,
    platform: &str,
    url: &str,
    secret: &str,
    events: &[&str],
    locale: &str,
) -> i64 {
    let mut fields: Vec<(String, String)> = vec![
        ("name".into(), name.into()),
        ("platform".into(), platform.into()),
        ("webhook_url".into(), url.into()),
        ("secret".into(), secret.into()),
        ("locale".into(), locale.into()),
    ];
    for e in events {
        fields.push((format!("events[{e}]"), "on".into()));
    }
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = app
        .post_form("/api/save_channel", "/admin/channels", &refs, jar)
        .await;
    let loc = res.location();
    assert!(
        loc.starts_with("/admin/channels/") && loc.ends_with("?notice=saved"),
        "{loc} {:?}",
        res.error_param()
    );
    loc.trim_start_matches("/admin/channels/")
        .trim_end_matches("?notice=saved")
        .parse()
        .unwrap()
}

async fn deliveries(app: &TestApp, channel_id: i64) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .filter(delivery::Column::ChannelId.eq(channel_id))
        .order_by_asc(delivery::Column::Id)
        .all(app.db())
        .await
        .unwrap()
}

/// Makes every waiting delivery due now (instead of waiting out the backoff).
async fn make_due(app: &TestApp) {
    for d in delivery::Entity::find()
        .filter(delivery::Column::Status.eq("pending"))
        .all(app.db())
        .await
        .unwrap()
    {
        let mut a: delivery::ActiveModel = d.into();
        a.next_attempt_at = Set(Utc::now() - Duration::seconds(1));
        a.update(app.db()).await.unwrap();
    }
}

async fn send_test(app: &TestApp, jar: &mut Jar, id: i64) -> String {
    app.post_form(
        "/api/test_channel",
        &format!("/admin/channels/{id}"),
        &[("id", &id.to_string())],
        jar,
    )
    .await
    .location()
}

/// The same signed-in person, reading in Chinese.
fn chinese(jar: &Jar) -> Jar {
    let mut zh = jar.clone();
    zh.lang = Jar::chinese().lang;
    zh
}

/// The domain's view of a signed-in person.
async fn actor_of(app: &TestApp, jar: &Jar) -> domain::access::Actor {
    let token = jar.cookies.get("hatchery_session").unwrap();
    domain::auth::sessions::session_actor(app.db(), &app.state.settings, token)
        .await
        .unwrap()
        .unwrap()
}

fn input_time(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

#[tokio::test]
async fn an_application_and_its_decision_reach_the_subscribed_channels_in_their_language() {
    let app = TestApp::new().await;
    let robots = Robots::start().await;
    let (_, mut admin) = app.person("it@park.cn", "Park IT", "admin").await;
    let ding = add_channel(
        &app,
        &mut admin,
        "孵化团队群",
        "dingtalk",
        &robots.dingtalk_url(),
        DINGTALK_SECRET,
        &["application_submitted", "decision"],
        "zh-CN",
    )
    .await;
    let feishu = add_channel(
        &app,
        &mut admin,
        "Mentors",
        "feishu",
        &robots.feishu_url(),
        FEISHU_SECRET,
        &["application_submitted"],
        "en",
    )
    .await;
    let wecom = add_channel(
        &app,
        &mut admin,
        "Compute ops",
        "wecom",
        &robots.wecom_url(),
        "",
        &["grant", "sync_dead"],
        "en",
    )
    .await;

    // A round, and an applicant who submits to it.
    let res = app
        .post_form(
            "/api/save_round",
            "/admin/rounds/new",
            &[
                ("title_en", "Spring 2027"),
                ("title_zh", "2027 春季批次"),
                ("description_en", "For AI startups."),
                ("description_zh", "面向人工智能创业企业。"),
                ("opens_at", &input_time(Utc::now() - Duration::hours(1))),
                ("closes_at", &input_time(Utc::now() + Duration::days(30))),
                ("review_deadline", ""),
                ("mentors_per_application", "2"),
            ],
            &mut admin,
        )
        .await;
    let round = res
        .location()
        .trim_start_matches("/admin/rounds/")
        .trim_end_matches("?notice=saved")
        .to_string();
    let mut founder = app.signed_in_applicant("li@deeppark.cn", "Li Lei").await;
    app.post_form(
        "/api/save_startup",
        "/startup",
        &[
            ("name", "DeepPark AI"),
            ("credit_code", "91350100M000100Y43"),
            ("sector", "foundation_models"),
            ("stage", "seed"),
            ("team_size", "12"),
            ("website", "https://deeppark.example.cn"),
            ("founders", "Li Lei (CEO)"),
        ],
        &mut founder,
    )
    .await;
    let res = app
        .post_form(
            "/api/save_application",
            &format!("/apply/{round}"),
            &[
                ("round_id", round.as_str()),
                ("intent", "submit"),
                ("problem", "Chinese legal documents are slow to review."),
                ("solution", "A fine-tuned 7B model with retrieval."),
                ("models_data", "Qwen-7B fine-tuned on 2M public judgements."),
                ("gpu_model", "H100"),
                ("gpu_hours", "5000"),
                ("traction", "Three pilot law firms."),
                ("team", "Eight engineers, two lawyers."),
            ],
            &mut founder,
        )
        .await;
    let application: i64 = res
        .location()
        .trim_start_matches("/applications/")
        .trim_end_matches("?notice=submitted")
        .parse()
        .unwrap_or_else(|_| panic!("{} {:?}", res.location(), res.error_param()));

    // Queued with the submission, sent by the worker: nothing before.
    assert!(robots.received("dingtalk").is_empty());
    assert_eq!(deliveries(&app, ding).await.len(), 1);
    assert_eq!(deliveries(&app, feishu).await.len(), 1);
    assert!(deliveries(&app, wecom).await.is_empty(), "not subscribed");
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        2
    );

    let ding_got = robots.received("dingtalk");
    assert_eq!(ding_got.len(), 1, "{ding_got:?}");
    assert_eq!(ding_got[0].title, "新申请：DeepPark AI");
    assert!(
        ding_got[0].text.contains("2027 春季批次"),
        "{}",
        ding_got[0].text
    );
    assert!(
        ding_got[0].text.contains(&format!(
            "(http://127.0.0.1:3000/applications/{application})"
        )),
        "{}",
        ding_got[0].text
    );
    let feishu_got = robots.received("feishu");
    assert_eq!(feishu_got.len(), 1);
    assert_eq!(feishu_got[0].title, "New application: DeepPark AI");
    assert!(feishu_got[0]
        .text
        .contains("**DeepPark AI** submitted an application to Spring 2027."));
    assert!(robots.received("wecom").is_empty());
    for id in [ding, feishu] {
        let rows = deliveries(&app, id).await;
        assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("sent", 1));
    }
    // Nothing is posted twice.
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        0
    );

    // The decision reaches only the channel that follows decisions.
    let res = app
        .post_form(
            "/api/decide",
            &format!("/admin/rounds/{round}/decisions"),
            &[
                ("application_id", application.to_string().as_str()),
                ("decision", "accept"),
                ("message", ""),
                ("without_review", "yes"),
            ],
            &mut admin,
        )
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    let ding_got = robots.received("dingtalk");
    assert_eq!(ding_got.len(), 2);
    assert_eq!(ding_got[1].title, "评审结果：DeepPark AI");
    assert!(ding_got[1].text.contains("已录取"), "{}", ding_got[1].text);
    assert_eq!(robots.received("feishu").len(), 1);

    // The admin sees what went where.
    let page = app.get(&format!("/admin/channels/{ding}"), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("data-status=\"sent\"").count(), 2);
    let list = app.get("/admin/channels", &admin).await;
    assert!(list.body.contains("孵化团队群") && list.body.contains("Compute ops"));
}

#[tokio::test]
async fn grant_changes_and_credit_alerts_reach_their_channels() {
    let app = TestApp::new().await;
    let robots = Robots::start().await;
    let (_, mut it) = app.person("it@park.cn", "Park IT", "admin").await;
    let wecom = add_channel(
        &app,
        &mut it,
        "Compute ops",
        "wecom",
        &robots.wecom_url(),
        "",
        &["grant"],
        "zh-CN",
    )
    .await;
    let ding = add_channel(
        &app,
        &mut it,
        "Finance",
        "dingtalk",
        &robots.dingtalk_url(),
        DINGTALK_SECRET,
        &["credit_alert"],
        "en",
    )
    .await;
    let park = app.credit_park("10").await;
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    let got = robots.received("wecom");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].title, "GPU 额度：DeepPark AI");
    assert!(
        got[0]
            .text
            .contains("已向 **DeepPark AI** 发放 Turing A800 (A800) 上的 GPU 额度。"),
        "{}",
        got[0].text
    );
    assert!(got[0].text.contains("剩余：10 GPU 小时"), "{}", got[0].text);
    assert!(deliveries(&app, ding).await.is_empty());

    // 500 of 600 GPU-minutes used: the 80 % alert, to the channel that follows alerts only.
    let settings = app.state.settings.clone();
    domain::credits::grants::record_usage(
        app.db(),
        &settings,
        park.startup,
        park.resource,
        "ci:1:0",
        500,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    let got = robots.received("dingtalk");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "GPU credit alert: DeepPark AI");
    assert!(got[0]
        .text
        .contains("has used 80 % of its GPU credit on Turing A800 (A800)"));
    assert_eq!(robots.received("wecom").len(), 1);
    assert_eq!(deliveries(&app, wecom).await.len(), 1);
}

#[tokio::test]
async fn a_wrong_secret_or_address_is_shown_on_the_channels_page_and_a_retry_sends_it() {
    let app = TestApp::new().await;
    let robots = Robots::start().await;
    let (_, mut admin) = app.person("it@park.cn", "Park IT", "admin").await;
    let ding = add_channel(
        &app,
        &mut admin,
        "Ops",
        "dingtalk",
        &robots.dingtalk_url(),
        "SECnot-the-right-one-0000000000",
        &["grant"],
        "en",
    )
    .await;
    let feishu = add_channel(
        &app,
        &mut admin,
        "Mentors",
        "feishu",
        &robots.feishu_url(),
        "wrong-feishu-secret",
        &["grant"],
        "zh-CN",
    )
    .await;
    let wecom = add_channel(
        &app,
        &mut admin,
        "Ops WeCom",
        "wecom",
        &format!("{}/cgi-bin/webhook/send?key=0000-not-a-key", robots.base),
        "",
        &["grant"],
        "en",
    )
    .await;
    let missing = add_channel(
        &app,
        &mut admin,
        "Removed robot",
        "feishu",
        &format!("{}/open-apis/bot/v2/hook/removed", robots.base),
        FEISHU_SECRET,
        &["grant"],
        "en",
    )
    .await;

    // The test message goes through the outbox at once, and says it failed.
    for id in [ding, feishu, wecom, missing] {
        assert_eq!(
            send_test(&app, &mut admin, id).await,
            format!("/admin/channels/{id}?notice=channel_test_failed")
        );
    }
    let expect = [
        (ding, "signature", "errcode 310000: sign not match"),
        (feishu, "signature", "code 19021: sign match fail"),
        (
            wecom,
            "invalid_webhook",
            "errcode 93000: invalid webhook url",
        ),
        (missing, "client_error", "HTTP 404"),
    ];
    for (id, kind, said) in expect {
        let rows = deliveries(&app, id).await;
        assert_eq!(rows.len(), 1);
        // A refusal does not mend itself: it waits for an admin at once.
        assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("dead", 1));
        assert_eq!(rows[0].error_kind.map(|k| k.as_str()), Some(kind));
        assert!(
            rows[0].last_error.as_deref().unwrap().starts_with(said),
            "{:?}",
            rows[0].last_error
        );
        assert!(!rows[0].last_error.as_deref().unwrap().contains(WECOM_KEY));
    }
    assert!(robots.state.received.lock().unwrap().is_empty());

    // On the channel's page, in the admin's words and the platform's.
    let page = app.get(&format!("/admin/channels/{ding}"), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("The platform refused the signature: check the signing secret"),
        "{}",
        page.body
    );
    assert!(page.body.contains("errcode 310000: sign not match"));
    assert!(page.body.contains("data-status=\"dead\""));
    let page = app
        .get(&format!("/admin/channels/{feishu}"), &chinese(&admin))
        .await;
    assert!(
        page.body.contains("平台拒绝了签名：请检查签名密钥"),
        "{}",
        page.body
    );
    assert!(page.body.contains("code 19021"));
    let page = app.get(&format!("/admin/channels/{wecom}"), &admin).await;
    assert!(page.body.contains("WeCom does not know this robot"));
    let page = app.get(&format!("/admin/channels/{missing}"), &admin).await;
    assert!(page
        .body
        .contains("The platform refused the request: check the webhook address"));
    assert!(page.body.contains("HTTP 404"));
    // The list shows it too.
    let list = app.get("/admin/channels", &admin).await;
    assert_eq!(list.body.matches("data-error=\"signature\"").count(), 2);
    assert_eq!(list.body.matches("data-testid=\"dead-count\"").count(), 4);

    // The admin fixes the secret (the address is kept) and sends the message again.
    let res = app
        .post_form(
            "/api/save_channel",
            &format!("/admin/channels/{ding}"),
            &[
                ("id", &ding.to_string()),
                ("name", "Ops"),
                ("platform", "dingtalk"),
                ("webhook_url", ""),
                ("secret", DINGTALK_SECRET),
                ("locale", "en"),
                ("events[grant]", "on"),
            ],
            &mut admin,
        )
        .await;
    assert_eq!(
        res.location(),
        format!("/admin/channels/{ding}?notice=saved")
    );
    let dead = deliveries(&app, ding).await[0].id;
    let res = app
        .post_form(
            "/api/retry_chat_delivery",
            &format!("/admin/channels/{ding}"),
            &[
                ("channel", &ding.to_string()),
                ("delivery", &dead.to_string()),
            ],
            &mut admin,
        )
        .await;
    assert_eq!(
        res.location(),
        format!("/admin/channels/{ding}?notice=retried")
    );
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    let got = robots.received("dingtalk");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "Test message from Hatchery");
    assert_eq!(
        deliveries(&app, ding).await[0].status,
        domain::channels::DeliveryStatus::Sent
    );
    // And the test message now says so at once.
    assert_eq!(
        send_test(&app, &mut admin, ding).await,
        format!("/admin/channels/{ding}?notice=channel_test_sent")
    );
    assert_eq!(robots.received("dingtalk").len(), 2);
}

#[tokio::test]
async fn while_the_platform_is_down_messages_wait_and_are_sent_once_it_is_back() {
    let app = TestApp::new().await;
    // A port nobody listens on, for now.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let (_, mut admin) = app.person("it@park.cn", "Park IT", "admin").await;
    let feishu = add_channel(
        &app,
        &mut admin,
        "Mentors",
        "feishu",
        &format!("http://{addr}/open-apis/bot/v2/hook/{FEISHU_HOOK}"),
        FEISHU_SECRET,
        &["grant"],
        "en",
    )
    .await;
    assert_eq!(
        send_test(&app, &mut admin, feishu).await,
        format!("/admin/channels/{feishu}?notice=channel_test_failed")
    );
    let row = deliveries(&app, feishu).await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    assert_eq!(row.error_kind.map(|k| k.as_str()), Some("unreachable"));
    assert!(row.next_attempt_at - row.created_at >= Duration::seconds(29));
    assert!(!row.last_error.as_deref().unwrap().contains(FEISHU_HOOK));
    let page = app.get(&format!("/admin/channels/{feishu}"), &admin).await;
    assert!(page
        .body
        .contains("The platform could not be reached. It will be tried again."));
    assert!(page.body.contains("Next attempt:"));
    // Not due yet: the next pass leaves it alone.
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        0
    );
    assert_eq!(deliveries(&app, feishu).await[0].attempts, 1);

    // The platform comes back ill: 503, tried again later.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let robots = Robots::serve(listener).await;
    robots.fail_with(503);
    make_due(&app).await;
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        0
    );
    let row = deliveries(&app, feishu).await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 2));
    assert_eq!(row.error_kind.map(|k| k.as_str()), Some("server_error"));
    assert!(row.last_error.as_deref().unwrap().starts_with("HTTP 503"));

    // Then well: the message arrives, once.
    robots.fail_with(0);
    make_due(&app).await;
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        0
    );
    let got = robots.received("feishu");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "Test message from Hatchery");
    let row = deliveries(&app, feishu).await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 3));
    assert_eq!(row.last_error, None);
}

#[tokio::test]
async fn after_the_last_attempt_a_message_is_dead_visible_and_can_be_sent_again() {
    let app = TestApp::new().await;
    let robots = Robots::start().await;
    robots.fail_with(502);
    let (_, mut admin) = app.person("it@park.cn", "Park IT", "admin").await;
    let wecom = add_channel(
        &app,
        &mut admin,
        "Ops",
        "wecom",
        &robots.wecom_url(),
        "",
        &["grant"],
        "zh-CN",
    )
    .await;
    send_test(&app, &mut admin, wecom).await;
    for _ in 1..domain::channels::outbox::POLICY.max_attempts {
        make_due(&app).await;
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap();
    }
    let row = deliveries(&app, wecom).await.remove(0);
    assert_eq!(
        (row.status.as_str(), row.attempts),
        ("dead", domain::channels::outbox::POLICY.max_attempts)
    );
    assert_eq!(row.error_kind.map(|k| k.as_str()), Some("server_error"));
    // Dead: the worker leaves it alone.
    make_due(&app).await;
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        0
    );

    let page = app
        .get(&format!("/admin/channels/{wecom}"), &chinese(&admin))
        .await;
    assert!(page.body.contains("data-status=\"dead\""));
    assert!(page.body.contains("平台出错，稍后将重试。") || page.body.contains("发送失败"));
    assert!(
        page.body.contains("data-testid=\"retry-all\""),
        "{}",
        page.body
    );
    let metrics = app.get("/metrics", &Jar::default()).await;
    assert!(
        metrics
            .body
            .contains("hatchery_chat_outbox{status=\"dead\"} 1"),
        "{}",
        metrics.body
    );

    // Sending again: all of the channel's dead messages (here one).
    robots.fail_with(0);
    let res = app
        .post_form(
            "/api/retry_chat_delivery",
            &format!("/admin/channels/{wecom}"),
            &[("channel", &wecom.to_string())],
            &mut admin,
        )
        .await;
    assert_eq!(
        res.location(),
        format!("/admin/channels/{wecom}?notice=retried")
    );
    let row = deliveries(&app, wecom).await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 0));
    // Twice is refused: nothing is dead any more.
    let res = app
        .post_form(
            "/api/retry_chat_delivery",
            &format!("/admin/channels/{wecom}"),
            &[("channel", &wecom.to_string())],
            &mut admin,
        )
        .await;
    assert_eq!(res.error_key(), "error.delivery_not_dead");
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    let got = robots.received("wecom");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "来自 Hatchery 的测试消息");
    let audit = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq("channel.retried"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}

#[tokio::test]
async fn channels_are_checked_and_their_secrets_never_shown() {
    let app = TestApp::new().await;
    let robots = Robots::start().await;
    let (_, mut admin) = app.person("it@park.cn", "Park IT", "admin").await;
    let base = |url: &str| {
        vec![
            ("name", "Ops".to_string()),
            ("platform", "dingtalk".to_string()),
            ("webhook_url", url.to_string()),
            ("secret", DINGTALK_SECRET.to_string()),
            ("locale", "en".to_string()),
            ("events[grant]", "on".to_string()),
        ]
    };
    for (url, key) in [
        ("ftp://robots.example/send", "error.webhook_url_invalid"),
        ("javascript:alert(1)", "error.webhook_url_invalid"),
        ("", "error.webhook_url_invalid"),
    ] {
        let fields = base(url);
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app
            .post_form("/api/save_channel", "/admin/channels", &refs, &mut admin)
            .await;
        assert_eq!(res.error_key(), key, "{url}");
    }
    for (field, value, key) in [
        ("platform", "slack", "error.channel_platform_invalid"),
        ("name", "", "error.channel_name_invalid"),
        ("locale", "fr", "error.channel_locale_invalid"),
        ("events[payday]", "on", "error.channel_event_invalid"),
    ] {
        let mut fields = base(&robots.dingtalk_url());
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value.to_string()));
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app
            .post_form("/api/save_channel", "/admin/channels", &refs, &mut admin)
            .await;
        assert_eq!(res.error_key(), key, "{field}");
    }
    assert_eq!(app.count(channel::Entity).await, 0);

    let id = add_channel(
        &app,
        &mut admin,
        "Ops",
        "dingtalk",
        &robots.dingtalk_url(),
        DINGTALK_SECRET,
        &["grant", "sync_dead"],
        "en",
    )
    .await;
    let page = app.get(&format!("/admin/channels/{id}"), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains(DINGTALK_SECRET),
        "the secret is never shown"
    );
    assert!(
        !page.body.contains(DINGTALK_TOKEN),
        "nor the token in the address"
    );
    assert!(page.body.contains("…e9f8"), "only the secret's end");
    assert!(page.body.contains("access_token=3f…0f"), "{}", page.body);
    assert!(page.body.contains("checked") && page.body.contains("events[sync_dead]"));

    // Saving with the address and secret left empty keeps both.
    let res = app
        .post_form(
            "/api/save_channel",
            &format!("/admin/channels/{id}"),
            &[
                ("id", &id.to_string()),
                ("name", "Ops (night)"),
                ("platform", "dingtalk"),
                ("webhook_url", ""),
                ("secret", ""),
                ("locale", "zh-CN"),
                ("events[credit_alert]", "on"),
            ],
            &mut admin,
        )
        .await;
    assert_eq!(res.location(), format!("/admin/channels/{id}?notice=saved"));
    let c = channel::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            c.name.as_str(),
            c.secret.as_str(),
            c.webhook_url.clone(),
            c.events.as_str(),
            c.locale.as_str()
        ),
        (
            "Ops (night)",
            DINGTALK_SECRET,
            robots.dingtalk_url(),
            ",credit_alert,",
            "zh-CN"
        )
    );
    assert_eq!(
        send_test(&app, &mut admin, id).await,
        format!("/admin/channels/{id}?notice=channel_test_sent")
    );
    // Audited, without the secret.
    let audit = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::EntityType.eq("channel"))
        .order_by_asc(domain::audit::entity::Column::Id)
        .all(app.db())
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        ["channel.created", "channel.updated", "channel.tested"]
    );
    for a in &audit {
        for text in [&a.before, &a.after].into_iter().flatten() {
            assert!(
                !text.contains(DINGTALK_SECRET) && !text.contains(DINGTALK_TOKEN),
                "{text}"
            );
        }
    }

    // Removing the channel removes its outbox.
    let res = app
        .post_form(
            "/api/delete_channel",
            &format!("/admin/channels/{id}"),
            &[("id", &id.to_string())],
            &mut admin,
        )
        .await;
    assert_eq!(res.location(), "/admin/channels?notice=channel_deleted");
    assert_eq!(app.count(channel::Entity).await, 0);
    assert_eq!(app.count(delivery::Entity).await, 0);
    let page = app.get(&format!("/admin/channels/{id}"), &admin).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_admins_manage_channels() {
    let app = TestApp::new().await;
    let robots = Robots::start().await;
    let (_, mut admin) = app.person("it@park.cn", "Park IT", "admin").await;
    let id = add_channel(
        &app,
        &mut admin,
        "Ops",
        "wecom",
        &robots.wecom_url(),
        "",
        &["grant"],
        "en",
    )
    .await;
    robots.fail_with(400);
    send_test(&app, &mut admin, id).await;
    let dead = deliveries(&app, id).await[0].id;
    robots.fail_with(0);

    let (_, mentor) = app.person("mentor@park.cn", "Mentor", "mentor").await;
    let mentor_actor = actor_of(&app, &mentor).await;
    let (_, applicant) = app
        .person("founder@startup.cn", "Founder", "applicant")
        .await;
    let id_s = id.to_string();
    let dead_s = dead.to_string();
    for (who, jar) in [
        ("mentor", mentor),
        ("applicant", applicant),
        ("visitor", Jar::default()),
    ] {
        let expected = if who == "visitor" {
            (StatusCode::UNAUTHORIZED, AppError::Unauthenticated)
        } else {
            (StatusCode::FORBIDDEN, AppError::Forbidden)
        };
        for path in [
            "/admin/channels".to_string(),
            format!("/admin/channels/{id}"),
        ] {
            let page = app.get(&path, &jar).await;
            assert_eq!(page.status, expected.0, "{who} {path}");
            assert!(!page.body.contains("cgi-bin/webhook"), "{who} {path}");
        }
        let posts: [(&str, Vec<(&str, &str)>); 4] = [
            (
                "/api/save_channel",
                vec![
                    ("name", "Mine"),
                    ("platform", "wecom"),
                    (
                        "webhook_url",
                        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
                    ),
                    ("locale", "en"),
                ],
            ),
            ("/api/delete_channel", vec![("id", &id_s)]),
            ("/api/test_channel", vec![("id", &id_s)]),
            (
                "/api/retry_chat_delivery",
                vec![("channel", &id_s), ("delivery", &dead_s)],
            ),
        ];
        for (path, fields) in posts {
            let mut jar = jar.clone();
            let res = app
                .post_form(path, "/admin/channels", &fields, &mut jar)
                .await;
            assert_eq!(res.error_param(), Some(expected.1.clone()), "{who} {path}");
        }
    }
    // Nothing changed, nothing was sent.
    assert_eq!(app.count(channel::Entity).await, 1);
    let rows = deliveries(&app, id).await;
    assert_eq!((rows.len(), rows[0].status.as_str()), (1, "dead"));
    assert!(robots.state.received.lock().unwrap().is_empty());

    // The domain refuses as well, whoever calls it.
    let mentor = mentor_actor;
    let db = app.db();
    assert_eq!(
        domain::channels::manage::list(db, &mentor).await.err(),
        Some(AppError::Forbidden)
    );
    assert_eq!(
        domain::channels::manage::detail(db, &mentor, id)
            .await
            .err(),
        Some(AppError::Forbidden)
    );
    assert_eq!(
        domain::channels::manage::delete(db, &mentor, id)
            .await
            .err(),
        Some(AppError::Forbidden)
    );
}

#[tokio::test]
async fn a_waitlist_promotion_and_a_certificate_reach_the_channel() {
    let app = TestApp::new().await;
    let robots = Robots::start().await;
    let (_, mut admin) = app.person("it@park.cn", "Park IT", "admin").await;
    let feishu = add_channel(
        &app,
        &mut admin,
        "人才中心",
        "feishu",
        &robots.feishu_url(),
        FEISHU_SECRET,
        &["waitlist_promoted", "certificate_issued"],
        "zh-CN",
    )
    .await;
    let post = |path: &'static str, fields: Vec<(String, String)>, jar: Jar| {
        let app = &app;
        async move {
            let mut jar = jar;
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.post_form(path, "/admin/cohorts/new", &refs, &mut jar)
                .await
        }
    };
    let res = post("/api/save_cohort", common::cohort_form("1"), admin.clone()).await;
    let cohort: i64 = res
        .location()
        .trim_start_matches("/admin/cohorts/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{} {:?}", res.location(), res.error_param()));
    let now = Utc::now();
    let res = post(
        "/api/add_session",
        vec![
            ("cohort_id".into(), cohort.to_string()),
            ("starts_at".into(), input_time(now - Duration::days(2))),
            (
                "ends_at".into(),
                input_time(now - Duration::days(2) + Duration::hours(2)),
            ),
            ("topic".into(), "LoRA".into()),
            ("instructor".into(), "Dr. Wang".into()),
        ],
        admin.clone(),
    )
    .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    let (_, ann) = app.person("a@x.cn", "Ann Li", "applicant").await;
    let (bo, bo_jar) = app.person("b@x.cn", "Bo Wang", "applicant").await;
    for jar in [ann.clone(), bo_jar] {
        post(
            "/api/enrol",
            vec![("cohort_id".into(), cohort.to_string())],
            jar,
        )
        .await;
    }
    // Ann withdraws: Bo, first in line, gets the place; the talent centre's group hears it.
    post(
        "/api/withdraw_enrolment",
        vec![("cohort_id".into(), cohort.to_string())],
        ann,
    )
    .await;
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    let got = robots.received("feishu");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].title, "候补转正：大模型微调");
    assert!(
        got[0].text.contains("**Bo Wang** 已从候补名单转为正式学员"),
        "{}",
        got[0].text
    );

    // Bo attends the one session: completed, certified, announced.
    let session = domain::cohorts::entity::session::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let res = post(
        "/api/mark_attendance",
        vec![
            ("session_id".into(), session.id.to_string()),
            (format!("roster[{bo}]"), "1".into()),
            (format!("present[{bo}]"), "on".into()),
        ],
        admin.clone(),
    )
    .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    let cert = domain::cohorts::entity::certificate::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .expect("a certificate");
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    let got = robots.received("feishu");
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].title, "证书已颁发：大模型微调");
    assert!(got[1].text.contains(&cert.code), "{}", got[1].text);
    assert!(got[1].text.contains(&format!(
        "(http://127.0.0.1:3000/certificates/{})",
        cert.code
    )));
    assert_eq!(deliveries(&app, feishu).await.len(), 2);
}

#[tokio::test]
async fn a_sync_job_that_dies_is_announced_with_a_link_to_the_sync_page() {
    let app = TestApp::new().await;
    let robots = Robots::start().await;
    let (_, mut it) = app.person("it@park.cn", "Park IT", "admin").await;
    let wecom = add_channel(
        &app,
        &mut it,
        "Compute ops",
        "wecom",
        &robots.wecom_url(),
        "",
        &["sync_dead"],
        "en",
    )
    .await;
    let park = app.credit_park("10").await;
    // A cluster that went away after it was configured: nothing listens on port 9.
    let now = Utc::now();
    let resource = domain::credits::entity::resource::ActiveModel {
        name: Set("Turing H100".into()),
        gpu_model: Set("H100".into()),
        backend: Set(domain::credits::BackendKind::Slurm),
        cluster: Set("ci".into()),
        account_pattern: Set("startup-{id}".into()),
        settings: Set(r#"{"base_url":"http://127.0.0.1:9","secret":""}"#.into()),
        repair_mode: Set(domain::credits::RepairMode::Approve),
        dialect: Set("v0038".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap()
    .id;
    let actor = actor_of(&app, &it).await;
    domain::credits::grants::create(
        app.db(),
        &app.state.settings,
        &actor,
        domain::credits::grants::GrantInput {
            startup_id: park.startup,
            resource_id: resource,
            gpu_hours: "10".into(),
            valid_from: input_time(now - Duration::days(1)),
            valid_until: input_time(now + Duration::days(90)),
            reason: "Seed programme".into(),
            funding: String::new(),
            tranches: vec![],
        },
    )
    .await
    .unwrap();
    let mut at = Utc::now();
    for _ in 1..=domain::cluster::sync::MAX_ATTEMPTS {
        domain::cluster::sync::run_due(app.db(), &domain::cluster::sync::POLICY, at, 10)
            .await
            .unwrap();
        // Not announced while it is still being retried.
        at += Duration::hours(2);
    }
    let deliveries = deliveries(&app, wecom).await;
    assert_eq!(deliveries.len(), 1, "announced once, when it died");
    assert_eq!(
        hatchery::worker::deliver_channels(&app.state)
            .await
            .unwrap(),
        1
    );
    let got = robots.received("wecom");
    assert_eq!(got[0].title, "Cluster sync failed: DeepPark AI");
    assert!(
        got[0].text.contains(
            "**DeepPark AI** on Turing H100 (H100) could not be applied after 8 attempts"
        ),
        "{}",
        got[0].text
    );
    assert!(
        got[0].text.contains("(http://127.0.0.1:3000/admin/sync)"),
        "{}",
        got[0].text
    );
}
