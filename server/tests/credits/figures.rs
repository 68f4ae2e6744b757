//! A firm's figures (registration date, headcount, financing) recorded by its team and the
//! park, refused to others and for bad input; the young-startup rate they decide; and the
//! sponsors' annual report and its CSVs built from them and from the year's statements.
use super::*;
use chrono::Datelike;
use domain::startups::entity::{financing, headcount, startup};
use wire::settlement::statements::StatementStatus;

fn today() -> chrono::NaiveDate {
    domain::time::Zone::default().today()
}

async fn audits(app: &TestApp, action: &str) -> u64 {
    domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq(action))
        .count(app.db())
        .await
        .unwrap()
}

/// A form the founder posts from /startup.
async fn as_founder(
    app: &TestApp,
    jar: &mut Jar,
    path: &str,
    fields: &[(&str, &str)],
) -> common::TestResponse {
    app.post_form(path, "/startup", fields, jar).await
}

#[tokio::test]
async fn a_firms_figures_decide_its_rate_and_fill_the_sponsors_report() {
    let mut p = park().await;
    let id = p.startup.to_string();
    let year = today().format("%Y").to_string();
    let last_year = (today().year() - 1).to_string();
    let founded = (today() - Duration::days(400)).to_string();

    // The founder records the firm's figures from /startup.
    let mut founder = p.founder.clone();
    let res = p
        .app
        .post_form(
            "/api/set_founded_on",
            "/startup",
            &[("startup_id", &id), ("founded_on", &founded)],
            &mut founder,
        )
        .await;
    assert_eq!(res.location(), "/startup?notice=saved#figures");
    let previous = format!("{last_year}-06-30");
    for (day, n) in [(previous.as_str(), "8"), (&today().to_string(), "12")] {
        let res = as_founder(
            &p.app,
            &mut founder,
            "/api/record_headcount",
            &[("startup_id", &id), ("as_of", day), ("employees", n)],
        )
        .await;
        assert_eq!(res.error_param(), None, "{day}");
    }
    // The same day again corrects it.
    let res = as_founder(
        &p.app,
        &mut founder,
        "/api/record_headcount",
        &[
            ("startup_id", &id),
            ("as_of", &previous),
            ("employees", "9"),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    for (closed, round, amount) in [
        (today().to_string(), "seed", "5,000,000"),
        (format!("{last_year}-03-01"), "angel", "800000"),
    ] {
        let res = as_founder(
            &p.app,
            &mut founder,
            "/api/add_financing",
            &[
                ("startup_id", &id),
                ("closed_on", &closed),
                ("round", round),
                ("amount", amount),
                ("investors", "Sequoia Turing"),
            ],
        )
        .await;
        assert_eq!(res.error_param(), None, "{round}");
    }
    // Bad input: every fault named at once, nothing recorded.
    let tomorrow = (today() + Duration::days(1)).to_string();
    let res = as_founder(
        &p.app,
        &mut founder,
        "/api/add_financing",
        &[
            ("startup_id", &id),
            ("closed_on", &tomorrow),
            ("round", "series_z"),
            ("amount", "-5"),
            ("investors", ""),
        ],
    )
    .await;
    let err = res.error_param().expect("refused");
    let faults: Vec<_> = err
        .field_errors()
        .into_iter()
        .map(|(f, _)| f.to_string())
        .collect();
    assert_eq!(faults, ["closed_on", "round", "amount"]);
    let res = as_founder(
        &p.app,
        &mut founder,
        "/api/record_headcount",
        &[
            ("startup_id", &id),
            ("as_of", "2026-02-30"),
            ("employees", "many"),
        ],
    )
    .await;
    assert_eq!(res.error_param().map(|e| e.field_errors().len()), Some(2));
    let res = as_founder(
        &p.app,
        &mut founder,
        "/api/set_founded_on",
        &[("startup_id", &id), ("founded_on", &tomorrow)],
    )
    .await;
    assert_eq!(res.error_key(), "figures.error_future");
    assert_eq!(p.app.count(headcount::Entity).await, 2);
    assert_eq!(p.app.count(financing::Entity).await, 2);
    assert_eq!(audits(&p.app, "headcount.recorded").await, 3);
    assert_eq!(audits(&p.app, "financing.recorded").await, 2);
    assert_eq!(audits(&p.app, "startup.founded_on_set").await, 1);

    // Who may: another firm's founder and an unassigned mentor may not record or see.
    let (_, mut mentor) = p.app.person("m@park.cn", "Mentor", "mentor").await;
    let other = incubating(&p.app, "wang@other.cn", "Other AI", None).await;
    let mut stranger = p
        .app
        .sign_in("wang@other.cn", "correct horse battery")
        .await;
    for jar in [&mut mentor, &mut stranger] {
        let res = p
            .app
            .post_form(
                "/api/record_headcount",
                "/startup",
                &[
                    ("startup_id", &id),
                    ("as_of", &today().to_string()),
                    ("employees", "1"),
                ],
                jar,
            )
            .await;
        assert_eq!(res.error_key(), "error.forbidden");
        let res = p
            .app
            .post_form(
                "/api/get_company_figures",
                "/startup",
                &[("startup_id", &id)],
                jar,
            )
            .await;
        assert_eq!(res.error_key(), "error.forbidden");
    }
    let round = financing::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    let res = p
        .app
        .post_form(
            "/api/remove_financing",
            "/startup",
            &[("id", &round.id.to_string())],
            &mut stranger,
        )
        .await;
    assert_eq!(res.error_key(), "error.forbidden");
    assert_eq!(p.app.count(financing::Entity).await, 2);
    let _ = other;

    // The founder's page and the admin's page show them; the admin removes a mistaken round.
    let page = p.app.get("/startup", &founder).await;
    assert!(page.body.contains("data-testid=\"company-figures\""));
    assert!(page.body.contains("12 on "), "the latest headcount");
    assert!(page.body.contains("¥5,800,000.00 in 2 rounds"));
    let page = p.app.get(&format!("/startups/{id}"), &p.admin).await;
    assert!(page.body.contains(&founded), "{}", page.body.len());
    assert!(page.body.contains("data-testid=\"add-financing\""));
    let mistaken = as_founder(
        &p.app,
        &mut founder,
        "/api/add_financing",
        &[
            ("startup_id", &id),
            ("closed_on", &today().to_string()),
            ("round", "debt"),
            ("amount", "1"),
            ("investors", ""),
        ],
    )
    .await;
    assert_eq!(mistaken.error_param(), None);
    let mistaken = financing::Entity::find()
        .filter(financing::Column::Round.eq(wire::startups::figures::FinancingRound::Debt))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    let res = post(
        &mut p,
        "/api/remove_financing",
        &[("id", &mistaken.id.to_string())],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{id}?notice=saved#figures")
    );
    assert_eq!(p.app.count(financing::Entity).await, 2);
    assert_eq!(audits(&p.app, "financing.removed").await, 1);
    // An admin who is also on the team, recording on the team's own page, goes back there.
    let res = post(
        &mut p,
        "/api/record_headcount",
        &[
            ("startup_id", &id),
            ("back", "team"),
            ("as_of", &today().to_string()),
            ("employees", "12"),
        ],
    )
    .await;
    assert_eq!(res.location(), "/startup?notice=saved#figures");

    // Money: ¥10 an hour, 1 h of credit, a programme paying 30 %, 60 % for firms registered
    // fewer than 3 years ago. An 11-hour job: ¥10 on credit, ¥100 overdrawn, of which the
    // young firm's 60 % (¥60) is subsidy and ¥40 its own.
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let startup = p.startup;
    let res = grant_hours(&mut p, startup, r, "1").await;
    assert_eq!(res.error_param(), None);
    let rid = r.to_string();
    let res = post(
        &mut p,
        "/api/add_price",
        &[
            ("resource_id", &rid),
            ("yuan_per_gpu_hour", "10"),
            ("starts_on", &today().to_string()),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let res = post(
        &mut p,
        "/api/save_programme",
        &[
            ("id", "0"),
            ("name_en", "City compute voucher"),
            ("name_zh", "市算力券"),
            ("sponsor_kind", "city"),
            ("sponsor", "Turing City"),
            ("rate_domestic", "30"),
            ("rate_other", "30"),
            ("young_rate", "60"),
            ("young_years", "3"),
            ("unaffiliated_provider", "on"),
            ("valid_from", &format!("{year}-01-01")),
            ("valid_until", &format!("{year}-12-31")),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    let programme = domain::settlement::entity::programme::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let res = post(
        &mut p,
        "/api/enrol_in_programme",
        &[
            ("startup_id", &id),
            ("programme_id", &programme),
            ("cap", ""),
            ("reason", "Incubating"),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    let imported = domain::credits::grants::record_usage(
        p.app.db(),
        &p.app.state.settings,
        p.startup,
        r,
        "ci:9:0",
        660,
        Utc::now() - Duration::minutes(1),
    )
    .await
    .unwrap();
    assert!(imported);
    let month = today().format("%Y-%m").to_string();
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let s = domain::settlement::entity::statement::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (s.amount_fen, s.park_fen, s.subsidy_fen, s.own_fen),
        (11_000, 1_000, 6_000, 4_000)
    );
    // Registered long ago, the same firm gets the ordinary 30 % when the month is prepared again.
    let mut old: startup::ActiveModel = startup::Entity::find_by_id(p.startup)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .into();
    old.founded_on = Set(chrono::NaiveDate::from_ymd_opt(2015, 1, 1));
    old.update(p.app.db()).await.unwrap();
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let s = domain::settlement::entity::statement::Entity::find_by_id(s.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((s.subsidy_fen, s.own_fen), (3_000, 7_000));
    let res = as_founder(
        &p.app,
        &mut founder,
        "/api/set_founded_on",
        &[("startup_id", &id), ("founded_on", &founded)],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let sid = s.id.to_string();
    let res = post(
        &mut p,
        "/api/advance_statement",
        &[("id", &sid), ("to", "issued")],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let s = domain::settlement::entity::statement::Entity::find_by_id(s.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((s.status, s.subsidy_fen), (StatementStatus::Issued, 6_000));

    // The sponsors' report for this year.
    let page = p
        .app
        .get(&format!("/admin/sponsor-report?year={year}"), &p.admin)
        .await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let figure = |name: &str| {
        let start = page
            .body
            .find(&format!("data-figure=\"{name}\""))
            .unwrap_or_else(|| panic!("{name} in {}", page.body.len()));
        let dd = &page.body[start..];
        let open = dd.find("<dd").unwrap();
        let from = open + dd[open..].find('>').unwrap() + 1;
        dd[from..from + dd[from..].find("</dd>").unwrap()].to_string()
    };
    assert_eq!(figure("firms"), "2");
    assert_eq!(figure("incubating_at_end"), "2");
    assert_eq!(figure("young_firms"), "1");
    assert_eq!(figure("headcount_firms"), "1");
    assert_eq!(figure("employees"), "12");
    assert_eq!(
        figure("jobs_created"),
        "3",
        "12 at the year's end against 9 before it"
    );
    assert_eq!(figure("financed_firms"), "1");
    assert_eq!(figure("financing"), "¥5,000,000.00");
    assert!(figure("gpu_hours_consumed").contains("11"));
    assert_eq!(figure("compute"), "¥110.00");
    assert_eq!(figure("park_paid"), "¥10.00");
    assert_eq!(figure("subsidy"), "¥60.00");
    assert_eq!(figure("own_paid"), "¥40.00");
    assert!(page.body.contains("City compute voucher"));

    let csv = p
        .app
        .get(&format!("/admin/sponsor-report.csv?year={year}"), &p.admin)
        .await;
    assert_eq!(csv.status, axum::http::StatusCode::OK);
    assert!(
        csv.body.contains("Jobs created in the year,3,"),
        "{}",
        csv.body
    );
    assert!(csv
        .body
        .contains("Subsidy paid by City compute voucher,60.00,"));
    let firms = p
        .app
        .get(
            &format!("/admin/sponsor-report/firms.csv?year={year}"),
            &p.admin,
        )
        .await;
    let line = firms
        .body
        .lines()
        .find(|l| l.contains("DeepPark AI"))
        .expect("the firm's line");
    assert!(
        line.contains(&format!(",{founded},"))
            && line.contains(",12,3,1,5000000.00,11.00,110.00,60.00"),
        "{line}"
    );
    // In Chinese, a bad year, and not for founders.
    let res = post(
        &mut p,
        "/api/update_account",
        &[("name", "Admin"), ("lang", "zh-CN")],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let page = p
        .app
        .get(&format!("/admin/sponsor-report?year={year}"), &p.admin)
        .await;
    assert!(page.body.contains("当年新增就业"));
    let res = post(
        &mut p,
        "/api/update_account",
        &[("name", "Admin"), ("lang", "en")],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let page = p.app.get("/admin/sponsor-report?year=1999", &p.admin).await;
    assert!(page.body.contains("Enter a year from 2000 to this one."));
    let res = p
        .app
        .get(
            &format!("/admin/sponsor-report.csv?year={}", today().year() + 1),
            &p.admin,
        )
        .await;
    assert_eq!(res.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    // The provider turns out to be a firm affiliated with the startup: the programme, which
    // pays only for unaffiliated providers, pays nothing on the month's correction.
    let code = "91350100M000100Y43";
    let mut res_row: domain::credits::entity::resource::ActiveModel =
        domain::credits::entity::resource::Entity::find_by_id(r)
            .one(p.app.db())
            .await
            .unwrap()
            .unwrap()
            .into();
    res_row.provider_credit_code = Set(Some(code.into()));
    res_row.update(p.app.db()).await.unwrap();
    let res = post(
        &mut p,
        "/api/add_affiliate",
        &[
            ("startup_id", &id),
            ("credit_code", code),
            ("affiliate_name", "DeepPark Compute"),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    domain::credits::grants::record_usage(
        p.app.db(),
        &p.app.state.settings,
        p.startup,
        r,
        "ci:10:0",
        60,
        Utc::now() - Duration::minutes(1),
    )
    .await
    .unwrap();
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let correction = domain::settlement::entity::statement::Entity::find()
        .filter(domain::settlement::entity::statement::Column::CorrectsId.eq(s.id))
        .one(p.app.db())
        .await
        .unwrap()
        .expect("a correction");
    assert_eq!((correction.amount_fen, correction.subsidy_fen), (12_000, 0));

    for path in [
        format!("/admin/sponsor-report.csv?year={year}"),
        format!("/admin/sponsor-report/firms.csv?year={year}"),
    ] {
        let res = p.app.get(&path, &founder).await;
        assert_eq!(res.status, axum::http::StatusCode::FORBIDDEN, "{path}");
    }
}
