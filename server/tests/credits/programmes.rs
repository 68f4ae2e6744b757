//! Funding programmes (compute vouchers) and enrolments: defined by admins with every fault
//! named, changed with their history audited; a startup enrolled only when it passes the
//! programme's rules (the failed one named), and only by an admin.
use super::*;
use domain::settlement::entity::{affiliate, enrolment, programme};
use wire::startups::CreditCode;

/// A valid credit code starting with `first17`'s 17 characters (its check character found).
fn code(first17: &str) -> String {
    "0123456789ABCDEFGHJKLMNPQRTUWXY"
        .chars()
        .map(|c| format!("{first17}{c}"))
        .find(|c| CreditCode::parse(c).is_ok())
        .unwrap()
}

/// Hangzhou's voucher: 30 % domestic, 20 % other, ¥8 M a company a year, for companies
/// registered in Hangzhou (3301…), not for compute from an affiliated provider.
fn hangzhou(excludes: &[i64]) -> Vec<(String, String)> {
    let year = Utc::now().date_naive().format("%Y").to_string();
    let mut f: Vec<(String, String)> = [
        ("name_en", "Hangzhou compute voucher"),
        ("name_zh", "杭州算力券"),
        ("sponsor_kind", "city"),
        (
            "sponsor",
            "Hangzhou Bureau of Economy and Information Technology",
        ),
        ("rate_domestic", "30"),
        ("rate_other", "20"),
        ("cap_company_year", "8,000,000"),
        ("region_prefix", "3301"),
        ("unaffiliated_provider", "on"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    f.push(("valid_from".into(), format!("{year}-01-01")));
    let next = Utc::now()
        .date_naive()
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap()
        + 1;
    f.push(("valid_until".into(), format!("{next}-12-31")));
    for id in excludes {
        f.push((format!("excludes[{id}]"), "on".into()));
    }
    f
}

async fn save(p: &mut Park, id: i64, fields: &[(String, String)]) -> common::TestResponse {
    let mut all: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let id = id.to_string();
    all.push(("id", &id));
    post(p, "/api/save_programme", &all).await
}

fn with(fields: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != key).cloned().collect();
    f.push((key.into(), value.into()));
    f
}

async fn newest_programme(app: &TestApp) -> i64 {
    programme::Entity::find()
        .order_by_desc(programme::Column::Id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn audits(app: &TestApp, action: &str) -> Vec<domain::audit::entity::Model> {
    domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq(action))
        .all(app.db())
        .await
        .unwrap()
}

async fn enrol(p: &mut Park, programme: i64, cap: &str) -> common::TestResponse {
    let (startup, programme) = (p.startup.to_string(), programme.to_string());
    post(
        p,
        "/api/enrol_in_programme",
        &[
            ("startup_id", startup.as_str()),
            ("programme_id", programme.as_str()),
            ("cap", cap),
            (
                "reason",
                "Registered in Binjiang; contract signed with the park's vendor",
            ),
        ],
    )
    .await
}

async fn set_credit_code(app: &TestApp, startup: i64, code: &str) {
    use domain::startups::entity::startup as s;
    let row = s::Entity::find_by_id(startup)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut a = row.into_active_model();
    a.credit_code = Set(Some(code.into()));
    a.update(app.db()).await.unwrap();
}

#[tokio::test]
async fn admins_define_programmes_with_every_fault_named_and_each_change_audited() {
    let mut p = park().await;
    let res = save(&mut p, 0, &hangzhou(&[])).await;
    let id = newest_programme(&p.app).await;
    assert_eq!(
        res.location(),
        format!("/admin/programmes/{id}?notice=saved")
    );
    let stored = programme::Entity::find_by_id(id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.rate_domestic_bp, stored.rate_other_bp),
        (3000, 2000)
    );
    assert_eq!(stored.cap_company_year_fen, Some(800_000_000));
    assert_eq!((stored.cap_pool_fen, stored.cap_contract_fen), (None, None));
    assert!(stored.unaffiliated_provider);
    assert_eq!(audits(&p.app, "programme.created").await.len(), 1);

    // Refused, by name, and nothing stored or changed.
    for (key, value, field, message) in [
        (
            "cap_contract",
            "9,000,000",
            "caps",
            "error.programme_caps_contradict",
        ),
        (
            "cap_pool",
            "1,000",
            "caps",
            "error.programme_caps_contradict",
        ),
        (
            "rate_domestic",
            "130",
            "rate_domestic",
            "error.programme_rate_invalid",
        ),
        (
            "young_rate",
            "60",
            "young_rate",
            "error.programme_rate_invalid",
        ),
        (
            "cap_company_year",
            "0",
            "cap_company_year",
            "error.programme_cap_invalid",
        ),
        (
            "valid_until",
            "2000-01-01",
            "valid_until",
            "error.programme_window_order",
        ),
        (
            "region_prefix",
            "Hangzhou",
            "region_prefix",
            "error.programme_region_invalid",
        ),
        (
            "sponsor_kind",
            "planet",
            "sponsor_kind",
            "error.programme_sponsor_invalid",
        ),
    ] {
        let res = save(&mut p, 0, &with(&hangzhou(&[]), key, value)).await;
        assert_eq!(res.error_key(), message, "{key}={value}");
        let named = match res.error_param() {
            Some(AppError::Invalid { field, .. }) => field,
            other => panic!("{key}: {other:?}"),
        };
        assert_eq!(named, field, "{key}={value}");
        assert!(
            res.error_param().unwrap().status().is_client_error(),
            "{key}"
        );
    }
    // A programme naming itself as an exclusion, or one that does not exist.
    let res = save(&mut p, id, &hangzhou(&[id])).await;
    assert_eq!(res.error_key(), "error.programme_excludes_itself");
    let res = save(&mut p, id, &hangzhou(&[9999])).await;
    assert_eq!(res.error_key(), "error.programme_unknown");
    assert_eq!(p.app.count(programme::Entity).await, 1);

    // A change keeps what it was in the audit log.
    let res = save(&mut p, id, &with(&hangzhou(&[]), "rate_other", "25")).await;
    assert_eq!(
        res.location(),
        format!("/admin/programmes/{id}?notice=saved")
    );
    let updated = audits(&p.app, "programme.updated").await;
    assert_eq!(updated.len(), 1);
    assert!(updated[0]
        .before
        .as_deref()
        .unwrap()
        .contains("\"rate_other_bp\":2000"));
    assert!(updated[0]
        .after
        .as_deref()
        .unwrap()
        .contains("\"rate_other_bp\":2500"));

    // The list, in both languages.
    let page = p.app.get("/admin/programmes", &p.admin).await;
    assert!(
        page.body.contains("Hangzhou compute voucher"),
        "{}",
        page.body
    );
    assert!(page.body.contains("30 % domestic · 25 % other"));
    assert!(page.body.contains("¥8,000,000.00"));
    let mut zh = p.admin.clone();
    zh.cookies.insert("hatchery_lang".into(), "zh-CN".into());
    let page = p.app.get("/admin/programmes", &zh).await;
    assert!(
        page.body.contains("杭州算力券") && page.body.contains("国产算力 30 %"),
        "{}",
        page.body
    );
    let page = p
        .app
        .get(&format!("/admin/programmes/{id}"), &p.admin)
        .await;
    assert!(
        page.body.contains("value=\"25\""),
        "the form shows the rate back"
    );
}

#[tokio::test]
async fn a_startup_is_enrolled_only_when_it_passes_the_rules_and_the_failed_one_is_named() {
    let mut p = park().await;
    save(&mut p, 0, &hangzhou(&[])).await;
    let voucher = newest_programme(&p.app).await;

    // No credit code on the profile, then one from Fuzhou: refused, the rule named.
    let res = enrol(&mut p, voucher, "").await;
    assert_eq!(res.error_key(), "error.ineligible_no_credit_code");
    assert_eq!(
        res.error_param().unwrap().status(),
        axum::http::StatusCode::CONFLICT
    );
    set_credit_code(&p.app, p.startup, "91350100M000100Y43").await;
    let res = enrol(&mut p, voucher, "").await;
    assert_eq!(res.error_key(), "error.ineligible_region");

    // Registered in Hangzhou, but its compute comes from a firm affiliated with it.
    set_credit_code(&p.app, p.startup, &code("91330106MA2AAAAA0")).await;
    let provider = code("91330100MA2BBBBB1");
    let r = add_resource(&mut p, "Binjiang pool", "none", "", "").await;
    let mut res_row = resource::Entity::find_by_id(r)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    res_row.provider_credit_code = Set(Some(provider.clone()));
    res_row.update(p.app.db()).await.unwrap();
    let id = p.startup;
    let res = grant_hours(&mut p, id, r, "100").await;
    assert!(
        res.location().starts_with("/admin/grants/"),
        "{:?}",
        res.error_param()
    );
    let startup = p.startup.to_string();
    let res = post(
        &mut p,
        "/api/add_affiliate",
        &[
            ("startup_id", &startup),
            ("credit_code", &provider),
            ("affiliate_name", "Binjiang Compute"),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let res = post(
        &mut p,
        "/api/add_affiliate",
        &[
            ("startup_id", &startup),
            ("credit_code", "nonsense"),
            ("affiliate_name", ""),
        ],
    )
    .await;
    assert!(matches!(
        res.error_param(),
        Some(AppError::InvalidFields { .. })
    ));
    let res = enrol(&mut p, voucher, "").await;
    assert_eq!(res.error_key(), "error.ineligible_affiliated_provider");
    assert_eq!(p.app.count(enrolment::Entity).await, 0);

    // Without the affiliation it passes; its own cap must fit in the programme's.
    let a = affiliate::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    let res = post(
        &mut p,
        "/api/remove_affiliate",
        &[("id", &a.id.to_string())],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=saved", p.startup)
    );
    let res = enrol(&mut p, voucher, "9,000,000").await;
    assert_eq!(res.error_key(), "error.enrolment_cap_above");
    let res = enrol(&mut p, voucher, "1,000").await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=programme_enrolled", p.startup)
    );
    let e = enrolment::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.programme_id, e.cap_fen, e.ended_at),
        (voucher, Some(100_000), None)
    );
    assert_eq!(audits(&p.app, "programme.enrolled").await.len(), 1);
    let res = enrol(&mut p, voucher, "").await;
    assert_eq!(res.error_key(), "error.programme_already_enrolled");

    // A programme that may not be combined with the voucher refuses it by name.
    save(
        &mut p,
        0,
        &with(&hangzhou(&[voucher]), "name_en", "Binjiang district top-up"),
    )
    .await;
    let top_up = newest_programme(&p.app).await;
    let res = enrol(&mut p, top_up, "").await;
    assert_eq!(res.error_key(), "error.ineligible_stacking");

    // The startup's page and the programme's page show the enrolment.
    let page = p
        .app
        .get(&format!("/startups/{}", p.startup), &p.admin)
        .await;
    assert!(
        page.body.contains("data-testid=\"programmes\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("¥1,000.00"));
    let page = p
        .app
        .get(&format!("/admin/programmes/{voucher}"), &p.admin)
        .await;
    assert!(page.body.contains("1 startup enrolled"), "{}", page.body);

    // Ended once; twice is refused. Then the other programme may enrol it.
    let res = post(&mut p, "/api/end_enrolment", &[("id", &e.id.to_string())]).await;
    assert_eq!(
        res.location(),
        format!("/admin/programmes/{voucher}?notice=enrolment_ended")
    );
    let res = post(&mut p, "/api/end_enrolment", &[("id", &e.id.to_string())]).await;
    assert_eq!(res.error_key(), "error.enrolment_already_ended");
    assert_eq!(audits(&p.app, "programme.enrolment_ended").await.len(), 1);
    let res = enrol(&mut p, top_up, "").await;
    assert_eq!(
        res.location(),
        format!("/startups/{}?notice=programme_enrolled", p.startup)
    );
}

#[tokio::test]
async fn only_admins_see_programmes_and_decide_enrolments() {
    let mut p = park().await;
    save(&mut p, 0, &hangzhou(&[])).await;
    let voucher = newest_programme(&p.app).await;
    set_credit_code(&p.app, p.startup, &code("91330106MA2AAAAA0")).await;
    let (_, mentor) = p
        .app
        .person("wang@mentors.cn", "Mentor Wang", "mentor")
        .await;
    for jar in [p.founder.clone(), mentor.clone()] {
        for path in [
            "/admin/programmes",
            "/admin/programmes/new",
            &format!("/admin/programmes/{voucher}"),
        ] {
            let page = p.app.get(path, &jar).await;
            assert_eq!(page.status, axum::http::StatusCode::FORBIDDEN, "{path}");
        }
        let mut jar = jar;
        for (path, fields) in [
            ("/api/save_programme", hangzhou(&[])),
            (
                "/api/enrol_in_programme",
                vec![
                    ("startup_id".into(), p.startup.to_string()),
                    ("programme_id".into(), voucher.to_string()),
                    ("reason".into(), "mine".into()),
                ],
            ),
        ] {
            let f: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let res = p.app.post_form(path, "/dashboard", &f, &mut jar).await;
            assert_eq!(res.error_param(), Some(AppError::Forbidden), "{path}");
        }
    }
    assert_eq!(p.app.count(programme::Entity).await, 1);
    assert_eq!(p.app.count(enrolment::Entity).await, 0);
    // An unknown programme or startup is not found.
    let res = enrol(&mut p, 9999, "").await;
    assert_eq!(res.error_param(), Some(AppError::NotFound));
}
