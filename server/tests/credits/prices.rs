//! Prices: a resource's price per GPU-hour from a day on, never edited; and the resource's
//! provider and whether it is domestic compute.
use super::*;
use domain::credits::entity::price;

/// The form field a refusal names.
fn field_of(res: &common::TestResponse) -> Option<String> {
    match res.error_param()? {
        AppError::Invalid { field, .. } => Some(field),
        AppError::InvalidFields { errors } => errors.into_iter().next().map(|f| f.field),
        _ => None,
    }
}

fn today() -> chrono::NaiveDate {
    domain::time::Zone::default().today()
}

async fn add_price(
    p: &mut Park,
    resource: i64,
    yuan: &str,
    starts_on: &str,
) -> common::TestResponse {
    let id = resource.to_string();
    post(
        p,
        "/api/add_price",
        &[
            ("resource_id", &id),
            ("yuan_per_gpu_hour", yuan),
            ("starts_on", starts_on),
            ("note", "Vendor contract 2027"),
        ],
    )
    .await
}

#[tokio::test]
async fn admins_set_prices_from_a_day_on_and_never_edit_them() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let page = p.app.get(&format!("/admin/resources/{r}"), &p.admin).await;
    assert!(page.body.contains("No price yet"), "{}", page.body);

    let first = today().to_string();
    let res = add_price(&mut p, r, "12.50", &first).await;
    assert_eq!(
        res.location(),
        format!("/admin/resources/{r}?notice=price_added")
    );
    let later = (today() + Duration::days(30)).to_string();
    let res = add_price(&mut p, r, "9", &later).await;
    assert_eq!(
        res.location(),
        format!("/admin/resources/{r}?notice=price_added")
    );

    // Refused, each by name, and nothing stored.
    let yesterday = (today() - Duration::days(1)).to_string();
    for (yuan, day, field, key) in [
        (
            "0",
            later.as_str(),
            "yuan_per_gpu_hour",
            "error.price_invalid",
        ),
        (
            "-3",
            later.as_str(),
            "yuan_per_gpu_hour",
            "error.price_invalid",
        ),
        (
            "12.345",
            later.as_str(),
            "yuan_per_gpu_hour",
            "error.price_invalid",
        ),
        (
            "cheap",
            later.as_str(),
            "yuan_per_gpu_hour",
            "error.price_invalid",
        ),
        (
            "8",
            yesterday.as_str(),
            "starts_on",
            "error.price_start_past",
        ),
        ("8", "next week", "starts_on", "error.date_invalid"),
        ("8", later.as_str(), "starts_on", "error.price_day_taken"),
    ] {
        let res = add_price(&mut p, r, yuan, day).await;
        assert_eq!(res.error_key(), key, "{yuan} {day}");
        assert_eq!(field_of(&res).as_deref(), Some(field), "{yuan} {day}");
    }
    assert_eq!(p.app.count(price::Entity).await, 2);

    // The history, newest first, today's price marked; both languages.
    let page = p.app.get(&format!("/admin/resources/{r}"), &p.admin).await;
    let newer = page.body.find("¥9.00").expect("the later price");
    let older = page.body.find("¥12.50").expect("today's price");
    assert!(newer < older, "newest first");
    assert!(page.body.contains("data-current=\"true\""));
    assert!(page.body.contains("Vendor contract 2027"));

    // The price a job pays is the one in force on the day it ended.
    let prices = domain::credits::prices::of_resource(p.app.db(), r)
        .await
        .unwrap();
    let on = |d: chrono::NaiveDate| {
        domain::credits::prices::in_force(&prices, d).map(|x| x.fen_per_gpu_hour)
    };
    assert_eq!(on(today()), Some(1250));
    assert_eq!(on(today() + Duration::days(29)), Some(1250));
    assert_eq!(on(today() + Duration::days(30)), Some(900));
    assert_eq!(on(today() - Duration::days(1)), None);

    // Audited, with who and what.
    let audit = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq("resource.price_added"))
        .count(p.app.db())
        .await
        .unwrap();
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn only_admins_see_and_set_prices() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let mut founder = p.founder.clone();
    let res = p
        .app
        .post_form(
            "/api/add_price",
            "/admin",
            &[
                ("resource_id", &r.to_string()),
                ("yuan_per_gpu_hour", "1"),
                ("starts_on", &today().to_string()),
            ],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::Forbidden));
    assert_eq!(p.app.count(price::Entity).await, 0);
    let page = p
        .app
        .get(&format!("/admin/resources/{r}"), &p.founder)
        .await;
    assert_eq!(page.status, axum::http::StatusCode::FORBIDDEN);
    // An unknown resource is not found, not a fault.
    let res = add_price(&mut p, 9999, "1", &today().to_string()).await;
    assert_eq!(res.error_param(), Some(AppError::NotFound));
}

#[tokio::test]
async fn a_resource_names_its_provider_and_whether_it_is_domestic() {
    let mut p = park().await;
    let fields = |code: &'static str| {
        vec![
            ("name", "Ascend pool"),
            ("gpu_model", "Ascend 910B"),
            ("backend", "none"),
            ("cluster", "ascend"),
            ("account_pattern", "ascend-{id}"),
            ("repair_mode", "approve"),
            ("provider", "Turing Compute Co."),
            ("provider_credit_code", code),
            ("domestic", "on"),
        ]
    };
    let res = post(&mut p, "/api/save_resource", &fields("91350100M000100Y44")).await;
    assert_eq!(res.error_key(), "error.credit_code_invalid");
    assert_eq!(field_of(&res).as_deref(), Some("provider_credit_code"));
    assert_eq!(p.app.count(resource::Entity).await, 0);
    let res = post(&mut p, "/api/save_resource", &fields("91350100m000100y43")).await;
    assert_eq!(res.location(), "/admin/resources?notice=saved");
    let r = resource::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(r.domestic);
    assert_eq!(r.provider, "Turing Compute Co.");
    assert_eq!(
        r.provider_credit_code.as_deref(),
        Some("91350100M000100Y43")
    );
    let page = p
        .app
        .get(&format!("/admin/resources/{}", r.id), &p.admin)
        .await;
    let at = page
        .body
        .find("name=\"domestic\"")
        .expect("the domestic checkbox");
    let tag =
        &page.body[page.body[..at].rfind('<').unwrap()..at + page.body[at..].find('>').unwrap()];
    assert!(tag.contains("checked"), "{tag}");
}
