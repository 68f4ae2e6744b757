//! A startup's balance: burn-down and forecast, the 80 %/100 %/expiry warnings, and who sees
//! the per-resource balance.
use super::*;

#[tokio::test]
async fn burn_down_and_forecast_of_exhaustion() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let startup = p.startup;
    grant_hours(&mut p, startup, r, "100").await;
    let g = grant::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    // The grant started a month ago (usage before a grant's start counts against nothing).
    let mut a = g.clone().into_active_model();
    a.valid_from = Set(Utc::now() - Duration::days(30));
    let g = a.update(p.app.db()).await.unwrap();
    // Four GPU-hours a day for the last 14 days, in many small jobs.
    for i in 0..560 {
        let at = Utc::now() - Duration::minutes(14 * 24 * 60 - 1 - i * 36);
        domain::credits::grants::record_usage(
            p.app.db(),
            &p.app.state.settings,
            startup,
            r,
            &format!("ci:{i}:0"),
            6,
            at,
        )
        .await
        .unwrap();
    }
    let g = grant::Entity::find_by_id(g.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.remaining_minutes(), 6000 - 3360);
    let burn = domain::credits::grants::burn_down(p.app.db(), &g)
        .await
        .unwrap();
    assert_eq!(burn.burn_per_day, 240);
    assert!(burn.points.len() <= 302, "sampled: {}", burn.points.len());
    assert_eq!(burn.points.last().unwrap().1, g.remaining_minutes());
    let days = (burn.exhausts_at.unwrap() - Utc::now()).num_hours() as f64 / 24.0;
    assert!(
        (10.9..=11.1).contains(&days),
        "runs out in 11 days, not {days}"
    );
    let expected = domain::time::Zone::default()
        .date(&burn.exhausts_at.unwrap())
        .to_string();
    let page = p
        .app
        .get(&format!("/admin/grants/{}", g.id), &p.admin)
        .await;
    assert!(
        page.body.contains(&format!("data-exhausts=\"{expected}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("the credit runs out on"));
    let page = p.app.get("/credits", &p.founder).await;
    assert!(page.body.contains("data-testid=\"burn-down\"") && page.body.contains("<svg"));
}

#[tokio::test]
async fn teams_are_warned_at_80_and_100_percent_and_before_expiry() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let startup = p.startup;
    grant_hours(&mut p, startup, r, "10").await;
    let g = grant::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    let settings = p.app.state.settings.clone();
    let db = p.app.db().clone();
    let alerts = |kind: &'static str| {
        let db = db.clone();
        async move {
            domain::mail::entity::Entity::find()
                .filter(domain::mail::entity::Column::ToAddress.eq("li@deeppark.cn"))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.body_text.contains(kind))
                .count()
        }
    };
    domain::credits::grants::record_usage(&db, &settings, startup, r, "ci:1:0", 400, Utc::now())
        .await
        .unwrap();
    assert_eq!(alerts("used 80 %").await, 0);
    domain::credits::grants::record_usage(&db, &settings, startup, r, "ci:2:0", 100, Utc::now())
        .await
        .unwrap();
    assert_eq!(alerts("used 80 %").await, 1);
    domain::credits::grants::record_usage(&db, &settings, startup, r, "ci:3:0", 10, Utc::now())
        .await
        .unwrap();
    assert_eq!(alerts("used 80 %").await, 1, "once");
    domain::credits::grants::record_usage(&db, &settings, startup, r, "ci:4:0", 90, Utc::now())
        .await
        .unwrap();
    assert_eq!(alerts("used all of its GPU credit").await, 1);
    // A top-up re-arms them.
    post(
        &mut p,
        "/api/adjust_grant",
        &[
            ("id", &g.id.to_string()),
            ("gpu_hours", "10"),
            ("note", "Top-up"),
        ],
    )
    .await;
    let g = grant::Entity::find_by_id(g.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(g.alerted_80_at.is_none() && g.alerted_100_at.is_none());

    // Fourteen days before the end, once.
    let n = domain::credits::grants::expiry_alerts(&db, &settings, Utc::now())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let soon = g.valid_until - Duration::days(13);
    assert_eq!(
        domain::credits::grants::expiry_alerts(&db, &settings, soon)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        domain::credits::grants::expiry_alerts(&db, &settings, soon)
            .await
            .unwrap(),
        0
    );
    let mail = p.app.last_mail_to("li@deeppark.cn").await;
    assert!(
        mail.body_text
            .contains(&domain::time::Zone::default().format_named(&g.valid_until)),
        "{}",
        mail.body_text
    );
}

/// A startup's grants on one resource are shown together (balance, burn-down, forecast) to its
/// team on /credits, and to admins and its own mentors on its page; nobody else sees them.
#[tokio::test]
async fn each_resource_shows_the_startups_balance_burn_down_and_forecast() {
    let mut p = park().await;
    let h100 = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let a800 = add_resource(&mut p, "Turing A800", "none", "", "").await;
    let startup = p.startup;
    grant_hours(&mut p, startup, h100, "100").await;
    grant_hours(&mut p, startup, h100, "50").await;
    grant_hours(&mut p, startup, a800, "20").await;
    // The grants started a month ago, so that the last 14 days' use counts against them.
    for g in grant::Entity::find().all(p.app.db()).await.unwrap() {
        let mut a = g.into_active_model();
        a.valid_from = Set(Utc::now() - Duration::days(30));
        a.update(p.app.db()).await.unwrap();
    }
    // Eight GPU-hours a day on the H100s for the last 14 days: 112 of their 150 hours.
    for day in 0..14 {
        domain::credits::grants::record_usage(
            p.app.db(),
            &p.app.state.settings,
            startup,
            h100,
            &format!("ci:{day}:0"),
            480,
            Utc::now() - Duration::days(day) - Duration::hours(1),
        )
        .await
        .unwrap();
    }

    // Another incubating startup with its own credit, and two mentors: one of each startup.
    let other = incubating(&p.app, "wang@other.cn", "Other AI", None).await;
    grant_hours(&mut p, other, h100, "7").await;
    let other_founder = p
        .app
        .sign_in("wang@other.cn", "correct horse battery")
        .await;
    let mentor_id = p
        .app
        .user_with_roles("zhou@mentors.cn", "Zhou", &[Role::Mentor])
        .await;
    let other_mentor_id = p
        .app
        .user_with_roles("liu@mentors.cn", "Liu", &[Role::Mentor])
        .await;
    for (s, m) in [(startup, mentor_id), (other, other_mentor_id)] {
        let res = post(
            &mut p,
            "/api/assign_mentor",
            &[("id", &s.to_string()), ("user_id", &m.to_string())],
        )
        .await;
        assert_eq!(res.location(), format!("/startups/{s}?notice=saved"));
    }
    let mentor = p
        .app
        .sign_in("zhou@mentors.cn", "correct horse battery")
        .await;
    let other_mentor = p
        .app
        .sign_in("liu@mentors.cn", "correct horse battery")
        .await;

    // The figures, from the domain.
    let founder = p.app.actor("li@deeppark.cn").await;
    let credit = domain::credits::grants::my_credit(p.app.db(), &founder)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credit.startup_id, startup);
    let names: Vec<&str> = credit
        .resources
        .iter()
        .map(|r| r.resource_name.as_str())
        .collect();
    assert_eq!(names, ["Turing A800", "Turing H100"]);
    let (a, h) = (&credit.resources[0], &credit.resources[1]);
    assert_eq!(
        (
            a.grants,
            a.granted_minutes,
            a.consumed_minutes,
            a.remaining_minutes
        ),
        (1, 1200, 0, 1200)
    );
    assert_eq!((a.burn.burn_per_day, a.burn.exhausts_at), (0, None));
    assert_eq!(
        (
            h.grants,
            h.granted_minutes,
            h.consumed_minutes,
            h.remaining_minutes
        ),
        (2, 9000, 6720, 2280)
    );
    assert_eq!(h.burn.burn_per_day, 480);
    assert_eq!(h.burn.remaining_minutes, 2280);
    assert_eq!(
        h.burn.points.last().unwrap().1,
        2280,
        "the chart ends at the balance"
    );
    assert!(h.burn.points.iter().all(|p| p.1 <= h.burn.peak_minutes));
    // 2,280 GPU-minutes at 480 a day: 4.75 days.
    let days = (h.burn.exhausts_at.unwrap() - Utc::now()).num_minutes() as f64 / 1440.0;
    assert!(
        (4.7..=4.8).contains(&days),
        "runs out in 4.75 days, not {days}"
    );
    let exhausts = domain::time::Zone::default()
        .date(&h.burn.exhausts_at.unwrap())
        .to_string();

    // The team's page.
    let card = |body: &str, id: i64| -> String {
        let start = body
            .find(&format!("data-resource-credit=\"{id}\""))
            .unwrap_or_else(|| panic!("no card for resource {id}"));
        let end = body[start..].find("</section>").unwrap();
        body[start..start + end].to_string()
    };
    let page = p.app.get("/credits", &p.founder).await;
    let h_card = card(&page.body, h100);
    assert!(h_card.contains("data-remaining=\"2280\""), "{h_card}");
    assert!(h_card.contains("38 of 150 GPU-hours left"), "{h_card}");
    assert!(h_card.contains("<svg"));
    assert!(
        h_card.contains(&format!("data-exhausts=\"{exhausts}\"")),
        "{h_card}"
    );
    assert!(card(&page.body, a800).contains("20 of 20 GPU-hours left"));
    // Each H100 grant keeps its own chart too; the A800's only grant is its resource's chart.
    assert_eq!(page.body.matches("data-grant-burn=").count(), 2);

    // The other startup's founder sees only their own.
    let page = p.app.get("/credits", &other_founder).await;
    assert!(!page.body.contains("38 of 150"));
    assert!(page.body.contains("7 of 7 GPU-hours left"));

    // The startup's page: admins and its mentor see its credit; the other startup's mentor
    // and founders are refused.
    let path = format!("/startups/{startup}");
    for jar in [&p.admin, &mentor] {
        let page = p.app.get(&path, jar).await;
        assert_eq!(page.status, axum::http::StatusCode::OK);
        assert!(page.body.contains("data-testid=\"startup-credit\""));
        assert!(card(&page.body, h100).contains("38 of 150 GPU-hours left"));
        assert!(card(&page.body, h100).contains(&format!("data-exhausts=\"{exhausts}\"")));
        assert!(card(&page.body, a800).contains("20 of 20 GPU-hours left"));
        assert!(!page.body.contains("7 of 7"), "not the other startup's");
    }
    for jar in [&other_mentor, &other_founder, &p.founder] {
        let page = p.app.get(&path, jar).await;
        assert_eq!(page.status, axum::http::StatusCode::FORBIDDEN);
        assert!(!page.body.contains("GPU-hours left"));
    }
    // The page's reading itself refuses them too.
    for jar in [&other_mentor, &other_founder] {
        let mut jar = jar.clone();
        let res = p
            .app
            .post_form(
                "/api/startup_detail",
                "/dashboard",
                &[("id", &startup.to_string())],
                &mut jar,
            )
            .await;
        assert_eq!(res.error_param(), Some(AppError::Forbidden));
    }
    let detail = domain::incubation::views::detail(
        p.app.db(),
        &p.app.actor("zhou@mentors.cn").await,
        startup,
        "",
    )
    .await
    .unwrap();
    assert_eq!(detail.credit.resources.len(), 2);
    assert_eq!(detail.credit.startup_id, startup);
    assert_eq!(detail.funding, None, "a mentor is not shown the programmes");
    assert_eq!(
        domain::incubation::views::detail(
            p.app.db(),
            &p.app.actor("liu@mentors.cn").await,
            startup,
            ""
        )
        .await
        .unwrap_err(),
        AppError::Forbidden
    );
}
