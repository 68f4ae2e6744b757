//! Time zones: a park in Asia/Shanghai and one in Europe/Berlin (across its daylight-saving
//! changes); times typed in forms, shown on pages, named in emails, and counted in reports by
//! the park's days and months; a person's own zone.
mod common;

use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};
use common::{Jar, TestApp};
use domain::auth::Role;
use domain::credits::entity::{grant, ledger, resource};
use domain::time::Zone;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

fn zone(name: &str) -> Zone {
    Zone::parse(name).unwrap()
}

/// The instant of a wall-clock time (`2027-03-28T03:30`) in `zone`.
fn at(zone: Zone, wall: &str) -> DateTime<Utc> {
    zone.from_wall(NaiveDateTime::parse_from_str(wall, "%Y-%m-%dT%H:%M").unwrap())
        .unwrap()
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap() - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// Berlin's next spring-forward day (02:00 CET becomes 03:00 CEST), after today.
fn next_spring_forward() -> NaiveDate {
    let today = Utc::now().date_naive();
    let d = last_sunday(today.year(), 3);
    if d > today + Duration::days(2) {
        d
    } else {
        last_sunday(today.year() + 1, 3)
    }
}

/// Berlin's last fall-back day (03:00 CEST becomes 02:00 CET), before today.
fn last_fall_back() -> NaiveDate {
    let today = Utc::now().date_naive();
    let d = last_sunday(today.year(), 10);
    if d < today - Duration::days(2) {
        d
    } else {
        last_sunday(today.year() - 1, 10)
    }
}

async fn admin(app: &TestApp) -> Jar {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    app.sign_in("admin@park.cn", "correct horse battery").await
}

/// Posts the round form with these times; returns the response.
async fn save_round(
    app: &TestApp,
    jar: &mut Jar,
    id: Option<i64>,
    opens: &str,
    closes: &str,
) -> common::TestResponse {
    let id = id.map(|i| i.to_string()).unwrap_or_default();
    let mut fields = vec![
        ("title_en", "Autumn cohort"),
        ("title_zh", "秋季批次"),
        ("description_en", "For AI startups."),
        ("description_zh", "面向人工智能创业企业。"),
        ("opens_at", opens),
        ("closes_at", closes),
        ("review_deadline", ""),
        ("mentors_per_application", "2"),
    ];
    if !id.is_empty() {
        fields.push(("id", &id));
    }
    app.post_form("/api/save_round", "/admin/rounds/new", &fields, jar)
        .await
}

fn round_id(res: &common::TestResponse) -> i64 {
    let loc = res.location();
    assert!(
        loc.ends_with("?notice=saved"),
        "{loc} {:?}",
        res.error_param()
    );
    loc.trim_start_matches("/admin/rounds/")
        .trim_end_matches("?notice=saved")
        .parse()
        .unwrap()
}

async fn round(app: &TestApp, id: i64) -> domain::intake::entity::round::Model {
    domain::intake::entity::round::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_shanghai_park_reads_and_shows_times_in_china_standard_time() {
    let app = TestApp::new().await;
    let mut jar = admin(&app).await;
    let year = Utc::now().year() + 1;
    let res = save_round(
        &app,
        &mut jar,
        None,
        &format!("{year}-01-05T09:00"),
        &format!("{year}-06-30T18:30"),
    )
    .await;
    let id = round_id(&res);
    let r = round(&app, id).await;
    // Stored as the instants meant: Shanghai is UTC+8 all year.
    assert_eq!(
        r.closes_at.format("%Y-%m-%dT%H:%M").to_string(),
        format!("{year}-06-30T10:30")
    );
    assert_eq!(
        r.opens_at.format("%Y-%m-%dT%H:%M").to_string(),
        format!("{year}-01-05T01:00")
    );
    // Shown back the same, the zone named, and the form filled in the same zone.
    let page = app.get("/admin/rounds", &jar).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-tz=\"Asia/Shanghai\""));
    assert!(
        page.body.contains(&format!("{year}-06-30 18:30 CST")),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(" UTC<"),
        "no time is shown as UTC any more"
    );
    let form = app.get(&format!("/admin/rounds/{id}"), &jar).await;
    assert!(form.body.contains(&format!("value=\"{year}-06-30T18:30\"")));
    assert!(form.body.contains("Time in Asia/Shanghai."));
    let mut zh = jar.clone();
    zh.cookies.insert("hatchery_lang".into(), "zh-CN".into());
    let form = app.get(&format!("/admin/rounds/{id}"), &zh).await;
    assert!(form.body.contains("时间按 Asia/Shanghai 时区。"));
    // A visitor reads the park's zone too.
    app.post_form(
        "/api/save_round",
        "/admin/rounds/new",
        &[
            ("id", &id.to_string()),
            ("title_en", "Autumn cohort"),
            ("title_zh", "秋季批次"),
            ("description_en", "For AI startups."),
            ("description_zh", "面向人工智能创业企业。"),
            (
                "opens_at",
                &Zone::default().input_value(&(Utc::now() - Duration::hours(1))),
            ),
            ("closes_at", &format!("{year}-06-30T18:30")),
            ("review_deadline", ""),
            ("mentors_per_application", "2"),
        ],
        &mut jar,
    )
    .await;
    let landing = app.get("/", &Jar::default()).await;
    assert!(
        landing
            .body
            .contains(&format!("Applications close {year}-06-30 18:30 CST")),
        "{}",
        landing.body
    );
}

#[tokio::test]
async fn a_berlin_park_reads_times_across_daylight_saving_changes() {
    let app = TestApp::with_env(&[("HATCHERY_TIME_ZONE", "Europe/Berlin")]).await;
    let berlin = zone("Europe/Berlin");
    let mut jar = admin(&app).await;
    let spring = next_spring_forward();
    let day_before = spring - Duration::days(1);
    // Opens the day before the change (CET, UTC+1), closes after it (CEST, UTC+2).
    let opens = format!("{day_before}T12:00");
    let closes = format!("{spring}T03:30");
    let id = round_id(&save_round(&app, &mut jar, None, &opens, &closes).await);
    let r = round(&app, id).await;
    assert_eq!(r.opens_at, at(berlin, &opens));
    assert_eq!(
        r.opens_at.format("%H:%M").to_string(),
        "11:00",
        "CET is UTC+1"
    );
    assert_eq!(
        r.closes_at.format("%H:%M").to_string(),
        "01:30",
        "CEST is UTC+2"
    );
    assert_eq!(
        r.closes_at - r.opens_at,
        Duration::hours(14) + Duration::minutes(30)
    );
    let page = app.get("/admin/rounds", &jar).await;
    assert!(page.body.contains("data-tz=\"Europe/Berlin\""));
    assert!(
        page.body.contains(&format!("{day_before} 12:00 CET")),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("{spring} 03:30 CEST")));
    let form = app.get(&format!("/admin/rounds/{id}"), &jar).await;
    assert!(form.body.contains(&format!("value=\"{closes}\"")));
    assert!(form.body.contains(&format!("value=\"{opens}\"")));

    // 02:30 does not exist that night: a field error, translated, and nothing saved.
    let res = save_round(&app, &mut jar, Some(id), &opens, &format!("{spring}T02:30")).await;
    assert_eq!(res.error_key(), "error.datetime_skipped");
    assert_eq!(res.error_param().unwrap().field(), Some("closes_at"));
    assert_eq!(round(&app, id).await.closes_at, r.closes_at);
    let err = res.error_param().unwrap();
    assert!(err
        .message(domain::i18n::Locale::En)
        .contains("the clocks go forward"));
    assert!(err
        .message(domain::i18n::Locale::ZhCn)
        .contains("时钟向前拨"));

    // At the fall-back, 02:30 happens twice: read as the first (CEST), and shown so.
    let fall = last_sunday(spring.year(), 10);
    let twice = format!("{fall}T02:30");
    round_id(&save_round(&app, &mut jar, Some(id), &opens, &twice).await);
    let closes_at = round(&app, id).await.closes_at;
    assert_eq!(closes_at.format("%H:%M").to_string(), "00:30");
    let page = app.get("/admin/rounds", &jar).await;
    assert!(page.body.contains(&format!("{fall} 02:30 CEST")));
}

#[tokio::test]
async fn a_persons_own_zone_changes_what_they_see_and_how_their_times_are_read() {
    let app = TestApp::new().await;
    let mut jar = admin(&app).await;
    let year = Utc::now().year() + 1;
    let id = round_id(
        &save_round(
            &app,
            &mut jar,
            None,
            &format!("{year}-01-05T09:00"),
            &format!("{year}-01-15T18:30"),
        )
        .await,
    );
    let page = app.get("/account", &jar).await;
    assert!(
        page.body
            .contains("The park&#x27;s time zone (Asia/Shanghai)")
            || page.body.contains("The park's time zone (Asia/Shanghai)")
    );
    assert!(page.body.contains("<option value=\"Europe/Berlin\""));

    // An unknown zone is refused by name.
    let res = app
        .post_form(
            "/api/set_time_zone",
            "/account",
            &[("time_zone", "Mars/Olympus")],
            &mut jar,
        )
        .await;
    assert_eq!(res.error_key(), "error.time_zone_invalid");

    let res = app
        .post_form(
            "/api/set_time_zone",
            "/account",
            &[("time_zone", "Europe/Berlin")],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/account?notice=saved");
    // 18:30 in Shanghai is 11:30 in Berlin in winter.
    let page = app.get("/admin/rounds", &jar).await;
    assert!(page.body.contains("data-tz=\"Europe/Berlin\""));
    assert!(
        page.body.contains(&format!("{year}-01-15 11:30 CET")),
        "{}",
        page.body
    );
    let form = app.get(&format!("/admin/rounds/{id}"), &jar).await;
    assert!(form.body.contains(&format!("value=\"{year}-01-15T11:30\"")));
    assert!(form.body.contains("Time in Europe/Berlin."));
    let account = app.get("/account", &jar).await;
    assert!(account
        .body
        .contains("<option value=\"Europe/Berlin\" selected"));
    // Saving the form unchanged keeps the instant: it is read in the same zone it was shown in.
    let before = round(&app, id).await.closes_at;
    round_id(
        &save_round(
            &app,
            &mut jar,
            Some(id),
            &format!("{year}-01-05T02:00"),
            &format!("{year}-01-15T11:30"),
        )
        .await,
    );
    assert_eq!(round(&app, id).await.closes_at, before);

    // Others still read the park's zone.
    let landing = app.get("/", &Jar::default()).await;
    assert!(landing.body.contains("data-tz=\"Asia/Shanghai\""));

    // Back to the park's zone.
    let res = app
        .post_form(
            "/api/set_time_zone",
            "/account",
            &[("time_zone", "")],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/account?notice=saved");
    let page = app.get("/admin/rounds", &jar).await;
    assert!(page.body.contains(&format!("{year}-01-15 18:30 CST")));
}

/// A resource, a grant and `consumed` ledger entries (minutes, at instants) for the reports.
async fn usage(app: &TestApp, entries: &[(i64, DateTime<Utc>)]) {
    let now = Utc::now();
    let s = domain::startups::entity::startup::ActiveModel {
        name: Set("DeepPark AI".into()),
        credit_code: Set(None),
        sector: Set("language".parse::<domain::startups::Sector>().unwrap()),
        stage: Set("seed".parse::<domain::startups::Stage>().unwrap()),
        team_size: Set(3),
        website: Set(None),
        founders: Set("F".into()),
        status: Set(domain::startups::incubation::StartupStatus::Incubating),
        created_by: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let r = resource::ActiveModel {
        name: Set("Turing H100".into()),
        gpu_model: Set("H100".into()),
        backend: Set(domain::credits::BackendKind::TrackOnly),
        cluster: Set("t".into()),
        account_pattern: Set("startup-{id}".into()),
        settings: Set("{}".into()),
        repair_mode: Set(domain::credits::RepairMode::Auto),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let g = grant::ActiveModel {
        startup_id: Set(s.id),
        resource_id: Set(r.id),
        status: Set(domain::credits::GrantStatus::Active),
        granted_minutes: Set(100_000),
        adjusted_minutes: Set(0),
        consumed_minutes: Set(entries.iter().map(|e| e.0).sum()),
        forfeited_minutes: Set(0),
        valid_from: Set(now - Duration::days(800)),
        valid_until: Set(now + Duration::days(90)),
        reason: Set("seed".into()),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        alerted_80_at: Set(None),
        alerted_100_at: Set(None),
        alerted_expiry_at: Set(None),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    for (i, (minutes, when)) in entries.iter().enumerate() {
        ledger::ActiveModel {
            grant_id: Set(g.id),
            startup_id: Set(s.id),
            resource_id: Set(r.id),
            kind: Set(domain::credits::LedgerKind::Consumed),
            minutes: Set(-minutes),
            balance_after: Set(0),
            external_ref: Set(Some(format!("job-{i}"))),
            note: Set(String::new()),
            actor_user_id: Set(None),
            created_at: Set(*when),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
}

/// The GPU-hours used that the KPI report's CSV gives for one day.
async fn used_on(app: &TestApp, jar: &Jar, day: NaiveDate) -> String {
    let csv = app
        .get(&format!("/admin/report.csv?from={day}&to={day}"), jar)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let line = csv
        .body
        .lines()
        .find(|l| l.starts_with("GPU-hours used (subsidised),"))
        .unwrap_or_else(|| panic!("{}", csv.body))
        .to_string();
    line.split(',').nth(1).unwrap().to_string()
}

/// The minutes the dashboard's burn chart shows for a month (`YYYY-MM`).
fn burn_in(page: &str, month: &str) -> i64 {
    let marker = format!("data-month=\"{month}\" data-minutes=\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no {month}")) + marker.len();
    page[at..at + page[at..].find('"').unwrap()]
        .parse()
        .unwrap()
}

/// The first days of the month before last and of last month, in the park's calendar: both
/// always within the dashboard's twelve months.
fn recent_month_boundary(park: Zone) -> (NaiveDate, NaiveDate) {
    let today = park.today();
    let this = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap();
    let last = (this - Duration::days(1)).with_day(1).unwrap();
    (last - Duration::days(1), last)
}

#[tokio::test]
async fn reports_count_the_shanghai_parks_days_and_months() {
    let app = TestApp::new().await;
    let park = zone("Asia/Shanghai");
    let jar = admin(&app).await;
    let (last_day, first_day) = recent_month_boundary(park);
    // 23:30 on the last day of a month, and 00:30 the next day: the second is still the
    // previous day (and month) in UTC.
    let late = at(park, &format!("{last_day}T23:30"));
    let early = at(park, &format!("{first_day}T00:30"));
    assert_eq!(
        early.date_naive(),
        last_day,
        "UTC would count it the day before"
    );
    usage(&app, &[(60, late), (120, early)]).await;
    assert_eq!(used_on(&app, &jar, last_day).await, "1");
    assert_eq!(used_on(&app, &jar, first_day).await, "2");
    let page = app.get("/dashboard", &jar).await;
    assert_eq!(
        burn_in(&page.body, &last_day.format("%Y-%m").to_string()),
        60
    );
    assert_eq!(
        burn_in(&page.body, &first_day.format("%Y-%m").to_string()),
        120
    );
    assert!(
        page.body
            .contains("(the park&#x27;s months, Asia/Shanghai)")
            || page.body.contains("(the park's months, Asia/Shanghai)")
    );
    let report = app
        .get(
            &format!("/admin/report?from={last_day}&to={last_day}"),
            &jar,
        )
        .await;
    assert!(report.body.contains("Asia/Shanghai"));
}

#[tokio::test]
async fn reports_count_the_berlin_parks_days_across_the_fall_back() {
    let app = TestApp::with_env(&[("HATCHERY_TIME_ZONE", "Europe/Berlin")]).await;
    let park = zone("Europe/Berlin");
    let jar = admin(&app).await;
    let fall = last_fall_back();
    let next = fall + Duration::days(1);
    // The change day has 25 hours: 00:30 CEST is the day's first half hour, 23:30 CET its last.
    let first = at(park, &format!("{fall}T00:30"));
    let last = at(park, &format!("{fall}T23:30"));
    let after = at(park, &format!("{next}T00:30"));
    assert_eq!(
        first.date_naive(),
        fall - Duration::days(1),
        "UTC: the day before"
    );
    assert_eq!(after.date_naive(), fall, "UTC: the change day");
    usage(&app, &[(60, first), (120, last), (240, after)]).await;
    assert_eq!(used_on(&app, &jar, fall).await, "3");
    assert_eq!(used_on(&app, &jar, next).await, "4");
    assert_eq!(used_on(&app, &jar, fall - Duration::days(1)).await, "0");

    // Months likewise: 00:30 on the 1st belongs to the new month, though UTC is still in the old.
    let (last_day, first_day) = recent_month_boundary(park);
    let app = TestApp::with_env(&[("HATCHERY_TIME_ZONE", "Europe/Berlin")]).await;
    let jar = admin(&app).await;
    usage(
        &app,
        &[
            (60, at(park, &format!("{last_day}T23:30"))),
            (120, at(park, &format!("{first_day}T00:30"))),
        ],
    )
    .await;
    let page = app.get("/dashboard", &jar).await;
    assert_eq!(
        burn_in(&page.body, &last_day.format("%Y-%m").to_string()),
        60
    );
    assert_eq!(
        burn_in(&page.body, &first_day.format("%Y-%m").to_string()),
        120
    );
}

/// CSV exports write times in the reader's zone and name it in the header: 23:30 UTC on the
/// fall-back day is 00:30 the next day in Berlin's winter, and 07:30 in Shanghai.
#[tokio::test]
async fn csv_exports_write_the_readers_wall_clock_time() {
    let app = TestApp::with_env(&[("HATCHERY_TIME_ZONE", "Europe/Berlin")]).await;
    let park = zone("Europe/Berlin");
    let jar = admin(&app).await;
    let day = last_fall_back();
    let when = at(park, &format!("{}T00:30", day + Duration::days(1)));
    usage(&app, &[(60, when)]).await;
    let csv = app.get("/admin/ledger.csv", &jar).await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        lines[0].starts_with("id,time (Europe/Berlin),"),
        "{}",
        lines[0]
    );
    let wall = format!("{} 00:30:00", day + Duration::days(1));
    assert!(lines[1].contains(&wall), "{}", csv.body);

    let shanghai = zone("Asia/Shanghai");
    let mut jar = jar;
    let res = app
        .post_form(
            "/api/set_time_zone",
            "/account",
            &[("time_zone", "Asia/Shanghai")],
            &mut jar,
        )
        .await;
    assert_eq!(res.location(), "/account?notice=saved");
    let csv = app.get("/admin/ledger.csv", &jar).await;
    assert!(
        csv.body.contains("id,time (Asia/Shanghai),"),
        "{}",
        csv.body
    );
    let wall = shanghai.format_seconds(&when);
    assert!(csv.body.contains(&wall), "{}", csv.body);
}

#[tokio::test]
async fn emails_name_the_recipients_zone() {
    let app = TestApp::with_env(&[("HATCHERY_TIME_ZONE", "Europe/Berlin")]).await;
    let mut p = app.credit_park("100").await;
    let berlin = zone("Europe/Berlin");
    let g = grant::Entity::find_by_id(p.grant)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mail = app.last_mail_to("li@deeppark.cn").await;
    let expected = format!("valid until {}", berlin.format_named(&g.valid_until));
    assert!(expected.contains("(Europe/Berlin)"));
    assert!(mail.body_text.contains(&expected), "{}", mail.body_text);

    // The founder reads Shanghai time; the admin in Berlin types the end of the next grant
    // just after the spring-forward change.
    let res = app
        .post_form(
            "/api/set_time_zone",
            "/account",
            &[("time_zone", "Asia/Shanghai")],
            &mut p.founder,
        )
        .await;
    assert_eq!(res.location(), "/account?notice=saved");
    let spring = next_spring_forward();
    let res = app
        .post_form(
            "/api/create_grant",
            "/admin/grants/new",
            &[
                ("startup_id", &p.startup.to_string()),
                ("resource_id", &p.resource.to_string()),
                ("gpu_hours", "10"),
                (
                    "valid_from",
                    &berlin.input_value(&(Utc::now() - Duration::hours(1))),
                ),
                ("valid_until", &format!("{spring}T03:30")),
                ("reason", "Top-up"),
            ],
            &mut p.admin,
        )
        .await;
    assert!(res.error_param().is_none(), "{:?}", res.error_param());
    let mail = app.last_mail_to("li@deeppark.cn").await;
    // 03:30 CEST is 01:30 UTC, 09:30 in Shanghai.
    assert!(
        mail.body_text
            .contains(&format!("valid until {spring} 09:30 CST (Asia/Shanghai)")),
        "{}",
        mail.body_text
    );
}
