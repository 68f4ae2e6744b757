//! GPU credit: resources, grants and the ledger, the sync outbox and its backends.
mod common;

use chrono::{Duration, Utc};
use common::{Jar, TestApp};
use domain::auth::Role;
use domain::credits::entity::{grant, ledger, resource, sync_job};
use domain::credits::tranches::entity as tranche;
use domain::error::AppError;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

fn input_time(t: chrono::DateTime<Utc>) -> String {
    domain::time::Zone::default().input_value(&t)
}

/// An admin, and an incubating startup whose founder has a cluster login.
struct Park {
    app: TestApp,
    admin: Jar,
    founder: Jar,
    startup: i64,
}

async fn park() -> Park {
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let startup = incubating(&app, "li@deeppark.cn", "DeepPark AI", Some("lilei")).await;
    let founder = app.sign_in("li@deeppark.cn", "correct horse battery").await;
    Park {
        app,
        admin,
        founder,
        startup,
    }
}

/// A startup with one founder, admitted (as an intake decision does).
async fn incubating(app: &TestApp, email: &str, name: &str, login: Option<&str>) -> i64 {
    app.incubating_startup(email, name, name, login).await
}

async fn post(p: &mut Park, path: &str, fields: &[(&str, &str)]) -> common::TestResponse {
    p.app.post_form(path, "/admin", fields, &mut p.admin).await
}

async fn add_resource(
    p: &mut Park,
    name: &str,
    backend: &str,
    base_url: &str,
    secret: &str,
) -> i64 {
    let res = post(
        p,
        "/api/save_resource",
        &[
            ("name", name),
            ("gpu_model", "H100"),
            ("backend", backend),
            ("cluster", "ci"),
            ("account_pattern", "startup-{id}"),
            ("base_url", base_url),
            ("secret", secret),
            ("repair_mode", "approve"),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        "/admin/resources?notice=saved",
        "{:?}",
        res.error_param()
    );
    resource::Entity::find()
        .filter(resource::Column::Name.eq(name))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn grant_hours(
    p: &mut Park,
    startup: i64,
    resource: i64,
    hours: &str,
) -> common::TestResponse {
    let from = input_time(Utc::now() - Duration::hours(1));
    let until = input_time(Utc::now() + Duration::days(90));
    post(
        p,
        "/api/create_grant",
        &[
            ("startup_id", &startup.to_string()),
            ("resource_id", &resource.to_string()),
            ("gpu_hours", hours),
            ("valid_from", &from),
            ("valid_until", &until),
            ("reason", "Seed programme"),
        ],
    )
    .await
}

fn desired_limit(job: &sync_job::Model) -> i64 {
    serde_json::from_str::<domain::cluster::backend::Desired>(&job.desired)
        .unwrap()
        .limit_minutes
}

async fn newest_job(app: &TestApp) -> sync_job::Model {
    sync_job::Entity::find()
        .order_by_desc(sync_job::Column::Id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn admins_configure_compute_resources() {
    let mut p = park().await;
    for (field, value, key) in [
        ("name", "", "error.resource_name_invalid"),
        ("backend", "kubernetes", "error.backend_invalid"),
        (
            "account_pattern",
            "Startup {id}",
            "error.account_pattern_invalid",
        ),
        (
            "account_pattern",
            "startup",
            "error.account_pattern_invalid",
        ),
        ("base_url", "ftp://cluster", "error.base_url_invalid"),
        ("cluster", " ", "error.cluster_required"),
    ] {
        let mut fields = vec![
            ("name", "Turing H100"),
            ("gpu_model", "H100"),
            ("backend", "slurm"),
            ("cluster", "ci"),
            ("account_pattern", "startup-{id}"),
            ("base_url", "http://127.0.0.1:6820"),
            ("repair_mode", "approve"),
        ];
        for f in fields.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let res = post(&mut p, "/api/save_resource", &fields).await;
        assert_eq!(res.error_key(), key, "{field}={value}");
    }
    let res = post(
        &mut p,
        "/api/save_resource",
        &[
            ("name", "Partner cloud"),
            ("gpu_model", "Ascend 910B"),
            ("backend", "http"),
            ("cluster", "partner"),
            ("account_pattern", "hatchery-{id}"),
            ("base_url", "https://alloc.partner.example.cn/v1"),
            ("secret", "short"),
            ("repair_mode", "auto"),
        ],
    )
    .await;
    assert_eq!(res.error_key(), "error.secret_too_short");
    assert_eq!(p.app.count(resource::Entity).await, 0);

    // (A Slurm resource is checked against its cluster before it is saved: see slurm2411.rs.)
    let id = add_resource(
        &mut p,
        "Turing H100",
        "http",
        "https://alloc.turing.example.cn/v1/",
        "fedcba9876543210",
    )
    .await;
    let r = resource::Entity::find_by_id(id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(r
        .settings
        .contains("\"base_url\":\"https://alloc.turing.example.cn/v1\""));
    let res = post(
        &mut p,
        "/api/save_resource",
        &[
            ("name", "Turing H100"),
            ("gpu_model", "A800"),
            ("backend", "none"),
            ("cluster", "ci"),
            ("account_pattern", "startup-{id}"),
            ("repair_mode", "approve"),
        ],
    )
    .await;
    assert_eq!(res.error_key(), "error.resource_name_taken");

    // Editing keeps a stored secret when the field is left empty.
    let http = add_resource(
        &mut p,
        "Partner",
        "http",
        "https://alloc.example.cn",
        "0123456789abcdef",
    )
    .await;
    let res = post(
        &mut p,
        "/api/save_resource",
        &[
            ("id", &http.to_string()),
            ("name", "Partner cloud"),
            ("gpu_model", "Ascend 910B"),
            ("backend", "http"),
            ("cluster", "partner"),
            ("account_pattern", "hatchery-{id}"),
            ("base_url", "https://alloc.example.cn"),
            ("repair_mode", "auto"),
        ],
    )
    .await;
    assert_eq!(res.location(), "/admin/resources?notice=saved");
    let r = resource::Entity::find_by_id(http)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(r.settings.contains("0123456789abcdef") && r.name == "Partner cloud");
    let page = p
        .app
        .get(&format!("/admin/resources/{http}"), &p.admin)
        .await;
    assert!(page.body.contains("A secret is stored") && !page.body.contains("0123456789abcdef"));

    // Only admins.
    let mut founder = p.founder.clone();
    let res = p
        .app
        .post_form(
            "/api/save_resource",
            "/admin",
            &[("name", "x")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::Forbidden));
    let page = p.app.get("/admin/resources", &founder).await;
    assert_eq!(page.status, axum::http::StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn grants_move_the_ledger_and_queue_the_cluster() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let s = p.startup.to_string();
    let rs = r.to_string();

    // Bad input: a clear message and nothing changed.
    let from = input_time(Utc::now());
    let until = input_time(Utc::now() + Duration::days(30));
    let before = input_time(Utc::now() - Duration::days(1));
    for (hours, f, u, key) in [
        (
            "0",
            from.as_str(),
            until.as_str(),
            "error.grant_hours_invalid",
        ),
        (
            "-5",
            from.as_str(),
            until.as_str(),
            "error.grant_hours_invalid",
        ),
        (
            "lots",
            from.as_str(),
            until.as_str(),
            "error.grant_hours_invalid",
        ),
        (
            "10",
            until.as_str(),
            from.as_str(),
            "error.grant_window_order",
        ),
        (
            "10",
            "2020-01-01T00:00",
            before.as_str(),
            "error.window_past",
        ),
        ("10", "yesterday", until.as_str(), "error.time_invalid"),
    ] {
        let res = post(
            &mut p,
            "/api/create_grant",
            &[
                ("startup_id", &s),
                ("resource_id", &rs),
                ("gpu_hours", hours),
                ("valid_from", f),
                ("valid_until", u),
                ("reason", "Seed"),
            ],
        )
        .await;
        assert_eq!(res.error_key(), key, "{hours} {f} {u}");
    }
    // Not incubating: an applicant's startup gets nothing.
    let mut other = p.app.signed_in_applicant("wang@other.cn", "Wang").await;
    p.app
        .post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", "Other"),
                ("sector", "language"),
                ("stage", "idea"),
                ("team_size", "2"),
                ("founders", "Wang"),
            ],
            &mut other,
        )
        .await;
    let other_id = domain::startups::entity::startup::Entity::find()
        .filter(domain::startups::entity::startup::Column::Name.eq("Other"))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = grant_hours(&mut p, other_id, r, "10").await;
    assert_eq!(res.error_key(), "error.startup_not_incubating");
    assert_eq!(p.app.count(grant::Entity).await, 0);
    assert_eq!(p.app.count(ledger::Entity).await, 0);
    assert_eq!(p.app.count(sync_job::Entity).await, 0);
    // Only admins grant.
    let mut founder = p.founder.clone();
    let res = p
        .app
        .post_form(
            "/api/create_grant",
            "/admin",
            &[("startup_id", &s)],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::Forbidden));

    // Issued: a ledger entry, a sync job with the desired cap, the team told.
    let startup = p.startup;
    let res = grant_hours(&mut p, startup, r, "1,000").await;
    let g = grant::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        res.location(),
        format!("/admin/grants/{}?notice=grant_created", g.id)
    );
    assert_eq!((g.granted_minutes, g.remaining_minutes()), (60_000, 60_000));
    let job = newest_job(&p.app).await;
    assert_eq!(job.status, domain::credits::SyncStatus::Pending);
    assert_eq!(desired_limit(&job), 60_000);
    let d: domain::cluster::backend::Desired = serde_json::from_str(&job.desired).unwrap();
    assert_eq!(d.account, format!("startup-{}", p.startup));
    assert_eq!(d.members, vec!["lilei".to_string()]);
    let mail = p.app.last_mail_to("li@deeppark.cn").await;
    assert_eq!(mail.kind, "grant");
    assert!(
        mail.body_text.contains("1,000 GPU-hours"),
        "{}",
        mail.body_text
    );

    let id = g.id.to_string();
    // Adjust: down, but not below zero; a reason is required.
    let res = post(
        &mut p,
        "/api/adjust_grant",
        &[("id", &id), ("gpu_hours", "-100"), ("note", "")],
    )
    .await;
    assert_eq!(res.error_key(), "error.reason_required");
    let res = post(
        &mut p,
        "/api/adjust_grant",
        &[("id", &id), ("gpu_hours", "-2000"), ("note", "Too much")],
    )
    .await;
    assert_eq!(res.error_key(), "error.adjustment_below_zero");
    let res = post(
        &mut p,
        "/api/adjust_grant",
        &[("id", &id), ("gpu_hours", "-100"), ("note", "Shared node")],
    )
    .await;
    assert_eq!(res.location(), format!("/admin/grants/{id}?notice=saved"));
    // Usage from the cluster, once per job.
    let imported = domain::credits::grants::record_usage(
        p.app.db(),
        &p.app.state.settings,
        p.startup,
        r,
        "ci:1:0",
        600,
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(imported);
    let again = domain::credits::grants::record_usage(
        p.app.db(),
        &p.app.state.settings,
        p.startup,
        r,
        "ci:1:0",
        600,
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(!again);
    let g = grant::Entity::find_by_id(g.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            g.adjusted_minutes,
            g.consumed_minutes,
            g.remaining_minutes()
        ),
        (-6_000, 600, 53_400)
    );
    assert_eq!(desired_limit(&newest_job(&p.app).await), 54_000);

    // Suspended: the cap drops to what was used; resumed: back.
    let res = post(
        &mut p,
        "/api/grant_transition",
        &[("id", &id), ("to", "suspended"), ("note", "Audit")],
    )
    .await;
    assert_eq!(res.location(), format!("/admin/grants/{id}?notice=saved"));
    assert_eq!(desired_limit(&newest_job(&p.app).await), 600);
    let res = post(
        &mut p,
        "/api/grant_transition",
        &[("id", &id), ("to", "suspended")],
    )
    .await;
    assert_eq!(res.error_key(), "error.grant_transition");
    post(
        &mut p,
        "/api/grant_transition",
        &[("id", &id), ("to", "active")],
    )
    .await;
    assert_eq!(desired_limit(&newest_job(&p.app).await), 54_000);
    // Older waiting jobs were replaced by the newest.
    let pending = sync_job::Entity::find()
        .filter(sync_job::Column::Status.eq("pending"))
        .all(p.app.db())
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);

    // Revoked: what remains is forfeited; twice is refused.
    let res = post(
        &mut p,
        "/api/grant_transition",
        &[("id", &id), ("to", "revoked"), ("note", "Left the park")],
    )
    .await;
    assert_eq!(res.location(), format!("/admin/grants/{id}?notice=saved"));
    let res = post(
        &mut p,
        "/api/grant_transition",
        &[("id", &id), ("to", "revoked")],
    )
    .await;
    assert_eq!(res.error_key(), "error.already_revoked");
    let res = post(
        &mut p,
        "/api/adjust_grant",
        &[("id", &id), ("gpu_hours", "5"), ("note", "x")],
    )
    .await;
    assert_eq!(res.error_key(), "error.grant_closed");
    let g = grant::Entity::find_by_id(g.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            g.status.as_str(),
            g.forfeited_minutes,
            g.remaining_minutes()
        ),
        ("revoked", 53_400, 0)
    );
    assert_eq!(desired_limit(&newest_job(&p.app).await), 600);
    let kinds: Vec<String> = ledger::Entity::find()
        .filter(ledger::Column::GrantId.eq(g.id))
        .order_by_asc(ledger::Column::Id)
        .all(p.app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(kinds, ["granted", "adjusted", "consumed", "revoked"]);
    let audit = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::EntityType.eq("grant"))
        .all(p.app.db())
        .await
        .unwrap();
    assert_eq!(
        audit.len(),
        5,
        "created, adjusted, suspended, resumed, revoked"
    );

    // The admin's pages; the founder sees their own credit, the other applicant none of it.
    let page = p.app.get(&format!("/admin/grants/{id}"), &p.admin).await;
    assert!(page.body.contains("data-kind=\"revoked\"") && page.body.contains("Left the park"));
    let page = p.app.get("/admin/grants?status=revoked", &p.admin).await;
    assert!(page.body.contains(&format!("data-grant=\"{id}\"")));
    let page = p.app.get("/admin/grants?status=active", &p.admin).await;
    assert!(!page.body.contains(&format!("data-grant=\"{id}\"")));
    let page = p.app.get("/credits", &p.founder).await;
    assert!(
        page.body.contains(&format!("data-grant=\"{id}\"")) && page.body.contains("Turing H100")
    );
    let page = p.app.get("/credits", &other).await;
    assert!(!page.body.contains("data-grant=") && page.body.contains("no GPU credit yet"));
    let page = p.app.get(&format!("/admin/grants/{id}"), &p.founder).await;
    assert_eq!(page.status, axum::http::StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn grants_expire_at_their_end_date() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let startup = p.startup;
    grant_hours(&mut p, startup, r, "10").await;
    let g = grant::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    domain::credits::grants::record_usage(
        p.app.db(),
        &p.app.state.settings,
        p.startup,
        r,
        "ci:7:0",
        120,
        Utc::now(),
    )
    .await
    .unwrap();
    let n = domain::credits::grants::expire_due(p.app.db(), &p.app.state.settings, Utc::now())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let later = g.valid_until + Duration::minutes(1);
    let n = domain::credits::grants::expire_due(p.app.db(), &p.app.state.settings, later)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let g = grant::Entity::find_by_id(g.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            g.status.as_str(),
            g.forfeited_minutes,
            g.remaining_minutes()
        ),
        ("expired", 480, 0)
    );
    assert_eq!(desired_limit(&newest_job(&p.app).await), 120);
    // A second pass finds nothing to do.
    let n = domain::credits::grants::expire_due(p.app.db(), &p.app.state.settings, later)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// Random sequences of every operation; after each one, for every grant, the ledger and the
/// counters agree and granted + adjusted = consumed + forfeited + remaining.
#[tokio::test]
async fn the_ledger_balances_under_random_operations() {
    use rand::{Rng, SeedableRng};
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let second = incubating(&p.app, "chen@visionary.cn", "Visionary", None).await;
    let admin = p.app.actor("admin@park.cn").await;
    let settings = p.app.state.settings.clone();
    let seed: u64 = std::env::var("HATCHERY_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("ledger property seed: {seed} (set HATCHERY_PROPTEST_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let db = p.app.db().clone();
    // Milestones that tranches hang on, and that sign-offs release or cancel.
    let mut milestones: Vec<(i64, i64)> = Vec::new();
    for startup in [p.startup, second] {
        for i in 0..20 {
            let id = domain::incubation::milestones::create(
                &db,
                &admin,
                startup,
                domain::incubation::milestones::MilestoneInput {
                    title: format!("Milestone {i}"),
                    description: String::new(),
                    due_on: (Utc::now() + Duration::days(10 + i))
                        .format("%Y-%m-%d")
                        .to_string(),
                },
            )
            .await
            .unwrap();
            milestones.push((id, startup));
        }
    }
    let mut job = 0;
    for step in 0..150 {
        let grants = grant::Entity::find().all(&db).await.unwrap();
        let pick = |rng: &mut rand::rngs::StdRng| {
            (!grants.is_empty()).then(|| grants[rng.random_range(0..grants.len())].clone())
        };
        let op = rng.random_range(0..10);
        let outcome: Result<(), AppError> = match op {
            0 => {
                let startup = if rng.random_bool(0.5) {
                    p.startup
                } else {
                    second
                };
                let hours = rng.random_range(1..500).to_string();
                // Mostly milestones still planned; sometimes any (a signed-off one is refused).
                let planned: Vec<i64> = domain::startups::entity::milestone::Entity::find()
                    .filter(domain::startups::entity::milestone::Column::StartupId.eq(startup))
                    .filter(domain::startups::entity::milestone::Column::Status.eq("planned"))
                    .all(&db)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.id)
                    .collect();
                let ours: Vec<i64> = if planned.is_empty() || rng.random_bool(0.2) {
                    milestones
                        .iter()
                        .filter(|m| m.1 == startup)
                        .map(|m| m.0)
                        .collect()
                } else {
                    planned
                };
                let tranches = (0..rng.random_range(0..4))
                    .map(|_| domain::credits::tranches::TrancheInput {
                        gpu_hours: rng.random_range(1..200).to_string(),
                        milestone_id: ours[rng.random_range(0..ours.len())],
                    })
                    .collect();
                domain::credits::grants::create(
                    &db,
                    &settings,
                    &admin,
                    domain::credits::grants::GrantInput {
                        startup_id: startup,
                        resource_id: r,
                        gpu_hours: hours,
                        valid_from: input_time(Utc::now() - Duration::days(1)),
                        valid_until: input_time(
                            Utc::now() + Duration::days(rng.random_range(1..60)),
                        ),
                        reason: "random".into(),
                        tranches,
                    },
                )
                .await
                .map(|_| ())
            }
            1 | 2 => match pick(&mut rng) {
                Some(g) => {
                    let delta: i64 = rng.random_range(-300..300);
                    let delta = if delta == 0 { 1 } else { delta };
                    domain::credits::grants::adjust(
                        &db,
                        &settings,
                        &admin,
                        g.id,
                        &delta.to_string(),
                        "random",
                    )
                    .await
                }
                None => Ok(()),
            },
            3 => match pick(&mut rng) {
                Some(g) => {
                    use domain::credits::GrantStatus::*;
                    let to = [Suspended, Active, Revoked][rng.random_range(0..3)];
                    domain::credits::grants::transition(&db, &settings, &admin, g.id, to, "random")
                        .await
                }
                None => Ok(()),
            },
            4..=6 => {
                job += 1;
                let startup = if rng.random_bool(0.5) {
                    p.startup
                } else {
                    second
                };
                let minutes = rng.random_range(1..20_000);
                let job_ref = format!("ci:{}:0", if rng.random_bool(0.1) { job - 1 } else { job });
                domain::credits::grants::record_usage(
                    &db,
                    &p.app.state.settings,
                    startup,
                    r,
                    &job_ref,
                    minutes,
                    Utc::now(),
                )
                .await
                .map(|_| ())
            }
            7 => domain::credits::grants::expire_due(
                &db,
                &settings,
                Utc::now() + Duration::days(rng.random_range(0..40)),
            )
            .await
            .map(|_| ()),
            _ => {
                // Mostly a milestone that credit waits on, else any (maybe signed off already).
                let waiting = tranche::Entity::find()
                    .filter(tranche::Column::Status.eq("pending"))
                    .all(&db)
                    .await
                    .unwrap();
                let m = if !waiting.is_empty() && rng.random_bool(0.6) {
                    waiting[rng.random_range(0..waiting.len())].milestone_id
                } else {
                    milestones[rng.random_range(0..milestones.len())].0
                };
                let outcome = if rng.random_bool(0.7) {
                    "done"
                } else {
                    "missed"
                };
                domain::incubation::milestones::sign_off(
                    &db, &settings, &admin, m, outcome, "random", "random",
                )
                .await
                .map(|_| ())
            }
        };
        // Refusals are expected (revoking twice, adjusting below zero); a refusal changes nothing.
        if let Err(e) = outcome {
            assert!(
                matches!(e, AppError::Conflict { .. } | AppError::Invalid { .. }),
                "step {step}: op {op} failed with {e:?}"
            );
        }
        for g in grant::Entity::find().all(&db).await.unwrap() {
            let entries = ledger::Entity::find()
                .filter(ledger::Column::GrantId.eq(g.id))
                .order_by_asc(ledger::Column::Id)
                .all(&db)
                .await
                .unwrap();
            let sum = |k: &str| {
                entries
                    .iter()
                    .filter(|e| e.kind.as_str() == k)
                    .map(|e| e.minutes)
                    .sum::<i64>()
            };
            assert_eq!(
                g.granted_minutes,
                sum("granted") + sum("tranche_released"),
                "step {step}"
            );
            // Each released tranche is one ledger entry of its minutes, released once, by a
            // milestone signed off as done; a closed grant has nothing pending.
            let tranches = tranche::Entity::find()
                .filter(tranche::Column::GrantId.eq(g.id))
                .all(&db)
                .await
                .unwrap();
            let released: Vec<_> = tranches
                .iter()
                .filter(|t| t.status == domain::startups::incubation::TrancheStatus::Released)
                .collect();
            assert_eq!(
                released.iter().map(|t| t.minutes).sum::<i64>(),
                sum("tranche_released"),
                "step {step}"
            );
            assert_eq!(
                released.len(),
                entries
                    .iter()
                    .filter(|e| e.kind == domain::credits::LedgerKind::TrancheReleased)
                    .count(),
                "step {step}"
            );
            for t in &tranches {
                let m = domain::startups::entity::milestone::Entity::find_by_id(t.milestone_id)
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap();
                use domain::credits::GrantStatus;
                use domain::startups::incubation::{MilestoneStatus, TrancheStatus};
                match t.status {
                    TrancheStatus::Released => {
                        assert_eq!(m.status, MilestoneStatus::Done, "step {step}")
                    }
                    TrancheStatus::Pending => {
                        assert_eq!(m.status, MilestoneStatus::Planned, "step {step}");
                        assert!(
                            g.status.is_live(),
                            "step {step}: a closed grant has no pending tranche"
                        );
                    }
                    TrancheStatus::Cancelled => assert!(
                        m.status == MilestoneStatus::Missed
                            || matches!(g.status, GrantStatus::Revoked | GrantStatus::Expired),
                        "step {step}: a tranche is cancelled by a miss or a closed grant"
                    ),
                }
            }
            assert_eq!(g.adjusted_minutes, sum("adjusted"), "step {step}");
            assert_eq!(g.consumed_minutes, -sum("consumed"), "step {step}");
            assert_eq!(
                g.forfeited_minutes,
                -(sum("expired") + sum("revoked")),
                "step {step}"
            );
            assert_eq!(
                g.granted_minutes + g.adjusted_minutes,
                g.consumed_minutes + g.forfeited_minutes + g.remaining_minutes(),
                "step {step}"
            );
            assert_eq!(
                entries.last().unwrap().balance_after,
                g.remaining_minutes(),
                "step {step}"
            );
            if matches!(g.status.as_str(), "revoked" | "expired") {
                assert!(
                    g.remaining_minutes() <= 0,
                    "step {step}: a closed grant holds nothing"
                );
            }
        }
    }
    let released = tranche::Entity::find()
        .filter(tranche::Column::Status.eq("released"))
        .count(&db)
        .await
        .unwrap();
    let cancelled = tranche::Entity::find()
        .filter(tranche::Column::Status.eq("cancelled"))
        .count(&db)
        .await
        .unwrap();
    eprintln!("tranches released: {released}, cancelled: {cancelled}");
}

#[tokio::test]
async fn failing_sync_backs_off_then_dies_and_admins_retry_it() {
    let mut p = park().await;
    // A cluster that went away after it was configured (the form refuses one that does not
    // answer): nothing listens on port 9 of loopback, every attempt fails to connect.
    let now = Utc::now();
    let r = resource::ActiveModel {
        name: Set("Turing H100".into()),
        gpu_model: Set("H100".into()),
        backend: Set("slurm".into()),
        cluster: Set("ci".into()),
        account_pattern: Set("startup-{id}".into()),
        settings: Set(r#"{"base_url":"http://127.0.0.1:9","secret":""}"#.into()),
        repair_mode: Set("approve".into()),
        dialect: Set("v0038".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(p.app.db())
    .await
    .unwrap()
    .id;
    let startup = p.startup;
    grant_hours(&mut p, startup, r, "10").await;
    let db = p.app.db().clone();
    let mut now = Utc::now();
    for attempt in 1..=domain::cluster::sync::MAX_ATTEMPTS {
        let tried = domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, now, 10)
            .await
            .unwrap();
        assert_eq!(tried, 1, "attempt {attempt}");
        let job = newest_job(&p.app).await;
        assert_eq!(job.attempts, attempt);
        assert!(job.last_error.as_deref().unwrap().contains("cannot reach"));
        // Not due again before its backoff.
        assert_eq!(
            domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, now, 10)
                .await
                .unwrap(),
            0
        );
        now = job.next_attempt_at + Duration::seconds(1);
    }
    let job = newest_job(&p.app).await;
    assert_eq!(job.status, domain::credits::SyncStatus::Dead);
    let page = p.app.get("/admin/sync", &p.admin).await;
    assert!(
        page.body
            .contains(&format!("data-job=\"{}\" data-status=\"dead\"", job.id)),
        "{}",
        page.body
    );
    let grant_page = p.app.get("/admin/grants", &p.admin).await;
    assert!(grant_page.body.contains("data-sync=\"dead\""));

    let mut founder = p.founder.clone();
    let res = p
        .app
        .post_form(
            "/api/retry_sync_job",
            "/admin/sync",
            &[("id", &job.id.to_string())],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::Forbidden));
    let res = post(
        &mut p,
        "/api/retry_sync_job",
        &[("id", &job.id.to_string())],
    )
    .await;
    assert_eq!(res.location(), "/admin/sync?notice=retried");
    let job = newest_job(&p.app).await;
    assert_eq!((job.status.as_str(), job.attempts), ("pending", 0));
    let res = post(
        &mut p,
        "/api/retry_sync_job",
        &[("id", &job.id.to_string())],
    )
    .await;
    assert_eq!(res.error_key(), "error.sync_not_dead");
}

/// The far side of the HTTP allocation contract (docs/allocation-api.yaml), as a platform
/// would implement it: it checks every signature, remembers idempotency keys, and keeps the
/// allocations and finished jobs in memory.
mod platform {
    use axum::body::Bytes;
    use axum::extract::{Path, Query, State};
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::{Json, Router};
    use domain::cluster::backend::http::{signature, AllocationBody};
    use serde_json::json;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    pub struct Platform {
        pub secret: String,
        pub allocations: Mutex<BTreeMap<String, AllocationBody>>,
        /// Idempotency key → the body first sent with it.
        pub keys: Mutex<HashMap<String, Vec<u8>>>,
        /// PUTs that changed something (a replay with a known key does not).
        pub applied: Mutex<usize>,
        pub jobs: Mutex<HashMap<String, Vec<serde_json::Value>>>,
        /// PUTs received per idempotency key, replays included.
        pub puts_per_key: Mutex<HashMap<String, usize>>,
        /// How long a PUT takes, to let concurrent workers overlap.
        pub delay_ms: u64,
        pub in_flight: Mutex<usize>,
        pub max_in_flight: Mutex<usize>,
        /// (account, idempotency key) of every DELETE.
        pub deletes: Mutex<Vec<(String, String)>>,
    }

    fn verify(p: &Platform, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> bool {
        let ts: i64 = headers
            .get("x-hatchery-timestamp")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let sent = headers
            .get("x-hatchery-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        (chrono::Utc::now().timestamp() - ts).abs() <= 300
            && sent == signature(&p.secret, ts, method.as_str(), uri.path(), body)
    }

    async fn one(
        State(p): State<Arc<Platform>>,
        Path(account): Path<String>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if !verify(&p, &method, &uri, &headers, &body) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "bad signature"})),
            )
                .into_response();
        }
        match method {
            Method::PUT => {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                *p.puts_per_key
                    .lock()
                    .unwrap()
                    .entry(key.clone())
                    .or_default() += 1;
                {
                    let mut n = p.in_flight.lock().unwrap();
                    *n += 1;
                    let mut max = p.max_in_flight.lock().unwrap();
                    *max = (*max).max(*n);
                }
                tokio::time::sleep(std::time::Duration::from_millis(p.delay_ms)).await;
                *p.in_flight.lock().unwrap() -= 1;
                let seen = p.keys.lock().unwrap().get(&key).cloned();
                match seen {
                    Some(first) if first != body.to_vec() => {
                        return (StatusCode::CONFLICT, Json(json!({"error": "key reused"})))
                            .into_response()
                    }
                    Some(_) => {}
                    None => {
                        let Ok(a) = serde_json::from_slice::<AllocationBody>(&body) else {
                            return (
                                StatusCode::UNPROCESSABLE_ENTITY,
                                Json(json!({"error": "bad body"})),
                            )
                                .into_response();
                        };
                        if a.account != account {
                            return (
                                StatusCode::UNPROCESSABLE_ENTITY,
                                Json(json!({"error": "account"})),
                            )
                                .into_response();
                        }
                        p.keys.lock().unwrap().insert(key, body.to_vec());
                        p.allocations.lock().unwrap().insert(account.clone(), a);
                        *p.applied.lock().unwrap() += 1;
                    }
                }
                let a = p.allocations.lock().unwrap();
                Json(json!(a.get(&account))).into_response()
            }
            Method::GET => match p.allocations.lock().unwrap().get(&account) {
                Some(a) => Json(json!(a)).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            },
            Method::DELETE => {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                p.deletes.lock().unwrap().push((account.clone(), key));
                p.allocations.lock().unwrap().remove(&account);
                StatusCode::NO_CONTENT.into_response()
            }
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    }

    async fn list(
        State(p): State<Arc<Platform>>,
        Query(q): Query<HashMap<String, String>>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
    ) -> Response {
        if !verify(&p, &method, &uri, &headers, b"") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let prefix = q.get("prefix").cloned().unwrap_or_default();
        let all: Vec<serde_json::Value> = p
            .allocations
            .lock()
            .unwrap()
            .values()
            .filter(|a| a.account.starts_with(&prefix))
            .map(|a| json!(a))
            .collect();
        Json(json!({"allocations": all})).into_response()
    }

    async fn jobs(
        State(p): State<Arc<Platform>>,
        Path(account): Path<String>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
    ) -> Response {
        if !verify(&p, &method, &uri, &headers, b"") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let jobs = p
            .jobs
            .lock()
            .unwrap()
            .get(&account)
            .cloned()
            .unwrap_or_default();
        Json(json!({"jobs": jobs})).into_response()
    }

    /// Serves the platform on a free loopback port; returns its base URL.
    pub async fn start(p: Arc<Platform>) -> String {
        let app = Router::new()
            .route("/v1/allocations", get(list))
            .route("/v1/allocations/{account}", get(one).put(one).delete(one))
            .route("/v1/allocations/{account}/jobs", get(jobs))
            .with_state(p);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/v1")
    }
}

#[tokio::test]
async fn the_http_contract_is_signed_idempotent_and_read_back() {
    use domain::cluster::backend::AllocationBackend;
    use std::sync::Arc;
    let secret = "a-shared-secret-of-32-characters";
    let far = Arc::new(platform::Platform {
        secret: secret.into(),
        ..Default::default()
    });
    let base = platform::start(far.clone()).await;
    let mut p = park().await;
    let r = add_resource(&mut p, "Partner cloud", "http", &base, secret).await;
    let startup = p.startup;
    grant_hours(&mut p, startup, r, "10").await;
    let db = p.app.db().clone();
    assert_eq!(
        domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, Utc::now(), 10)
            .await
            .unwrap(),
        1
    );
    let job = newest_job(&p.app).await;
    assert_eq!(
        job.status,
        domain::credits::SyncStatus::Done,
        "{:?}",
        job.last_error
    );
    let account = format!("startup-{startup}");
    {
        let allocations = far.allocations.lock().unwrap();
        let a = allocations.get(&account).expect("the allocation exists");
        assert_eq!(
            (a.limit_minutes, a.members.clone()),
            (600, vec!["lilei".to_string()])
        );
        assert_eq!(a.organization, "DeepPark AI");
    }
    assert_eq!(*far.applied.lock().unwrap(), 1);

    // Hatchery dies after the PUT and before recording it: the job runs again with the same
    // idempotency key, and the platform applies it once.
    let mut again = job.clone().into_active_model();
    again.status = Set(domain::credits::SyncStatus::Pending);
    again.update(&db).await.unwrap();
    assert_eq!(
        domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, Utc::now(), 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        newest_job(&p.app).await.status,
        domain::credits::SyncStatus::Done
    );
    assert_eq!(
        *far.applied.lock().unwrap(),
        1,
        "the replay changed nothing"
    );

    // Usage comes back, once per job.
    far.jobs.lock().unwrap().insert(
        account.clone(),
        vec![serde_json::json!({"job_id": "p-1", "gpu_minutes": 90, "ended_at": Utc::now()})],
    );
    let o = domain::credits::usage::import(&db, &p.app.state.settings, r)
        .await
        .unwrap();
    assert_eq!((o.jobs_seen, o.imported), (1, 1));
    let o = domain::credits::usage::import(&db, &p.app.state.settings, r)
        .await
        .unwrap();
    assert_eq!((o.jobs_seen, o.imported), (1, 0));
    let g = grant::Entity::find().one(&db).await.unwrap().unwrap();
    assert_eq!(g.consumed_minutes, 90);
    assert_eq!(
        domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, Utc::now(), 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(far.allocations.lock().unwrap()[&account].limit_minutes, 600);

    // Drift: someone changed the limit on the platform, and left an account Hatchery does not
    // know. The comparison shows both; the approved repair syncs the known one and freezes the
    // orphan (on this contract, a signed DELETE with an idempotency key).
    far.allocations
        .lock()
        .unwrap()
        .get_mut(&account)
        .unwrap()
        .limit_minutes = 5;
    far.allocations.lock().unwrap().insert(
        "startup-999".into(),
        domain::cluster::backend::http::AllocationBody {
            account: "startup-999".into(),
            organization: "Gone".into(),
            limit_minutes: 60,
            members: vec![],
        },
    );
    let page = p
        .app
        .get(&format!("/admin/resources/{r}/drift"), &p.admin)
        .await;
    assert!(
        page.body.contains("data-drift=\"limit\"") && page.body.contains("data-drift=\"orphan\""),
        "{}",
        page.body
    );
    let mut founder = p.founder.clone();
    let res = p
        .app
        .post_form(
            "/api/repair_drift",
            "/admin",
            &[("id", &r.to_string())],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::Forbidden));
    assert!(
        page.body.contains("data-testid=\"orphan-repair\"")
            && page
                .body
                .contains("Repairing an account unknown to Hatchery freezes it"),
        "the page says what repairing an orphan does"
    );
    let res = post(&mut p, "/api/repair_drift", &[("id", &r.to_string())]).await;
    assert_eq!(
        res.location(),
        format!("/admin/resources/{r}/drift?notice=repair_queued")
    );
    assert!(
        far.allocations.lock().unwrap().contains_key("startup-999"),
        "nothing leaves before the worker applies it"
    );
    let freeze = newest_job(&p.app).await;
    assert_eq!((freeze.startup_id, freeze.resource_id), (999, r));
    let queue = p.app.get("/admin/sync", &p.admin).await;
    assert!(
        queue.body.contains("startup-999"),
        "the freeze is in the queue, named by its account"
    );
    assert_eq!(
        domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, Utc::now(), 10)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        newest_job(&p.app).await.status,
        domain::credits::SyncStatus::Done
    );
    assert!(!far.allocations.lock().unwrap().contains_key("startup-999"));
    assert_eq!(far.allocations.lock().unwrap()[&account].limit_minutes, 600);
    assert_eq!(
        *far.deletes.lock().unwrap(),
        vec![("startup-999".to_string(), freeze.idempotency_key.clone())]
    );
    let report = domain::cluster::reconcile::compare(&db, r).await.unwrap();
    assert!(report.drifts.is_empty(), "{:?}", report.drifts);
    let page = p
        .app
        .get(&format!("/admin/resources/{r}/drift"), &p.admin)
        .await;
    assert!(page.body.contains("The cluster matches the database."));

    // A wrong secret is refused by the platform; the job waits with the reason.
    let rm = resource::Entity::find_by_id(r)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let backend = domain::cluster::backend::Backend::for_resource(&rm).unwrap();
    assert_eq!(backend.accounts("startup-").await.unwrap().len(), 1);
    let mut wrong = rm.into_active_model();
    wrong.settings = Set(format!(
        r#"{{"base_url":"{base}","secret":"not-the-right-secret-at-all"}}"#
    ));
    wrong.update(&db).await.unwrap();
    post(
        &mut p,
        "/api/adjust_grant",
        &[
            ("id", &g.id.to_string()),
            ("gpu_hours", "1"),
            ("note", "More"),
        ],
    )
    .await;
    assert_eq!(
        domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, Utc::now(), 10)
            .await
            .unwrap(),
        1
    );
    let job = newest_job(&p.app).await;
    assert_eq!(job.status, domain::credits::SyncStatus::Pending);
    assert!(job.last_error.unwrap().contains("401"));
    assert_eq!(far.allocations.lock().unwrap()[&account].limit_minutes, 600);
}

/// Several workers (as several server processes would) share the queue: every job is applied
/// exactly once, and never more than two at a time on one resource.
#[tokio::test]
async fn concurrent_workers_apply_each_job_once() {
    use std::sync::Arc;
    let secret = "a-shared-secret-of-32-characters";
    let far = Arc::new(platform::Platform {
        secret: secret.into(),
        delay_ms: 150,
        ..Default::default()
    });
    let base = platform::start(far.clone()).await;
    let mut p = park().await;
    let r = add_resource(&mut p, "Partner cloud", "http", &base, secret).await;
    let mut startups = vec![p.startup];
    for i in 0..7 {
        startups.push(
            incubating(
                &p.app,
                &format!("f{i}@team{i}.cn"),
                &format!("Team {i}"),
                None,
            )
            .await,
        );
    }
    for s in &startups {
        grant_hours(&mut p, *s, r, "10").await;
    }
    let db = p.app.db().clone();
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut n = 0;
                loop {
                    match domain::cluster::sync::run_due(
                        &db,
                        &domain::cluster::sync::POLICY,
                        Utc::now(),
                        1,
                    )
                    .await
                    .unwrap()
                    {
                        0 => return n,
                        k => n += k,
                    }
                }
            })
        })
        .collect();
    let mut tried = 0;
    for w in workers {
        tried += w.await.unwrap();
    }
    // Workers that found nothing claimable while two were running stop early; finish up.
    while domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, Utc::now(), 10)
        .await
        .unwrap()
        > 0
    {}
    let jobs = sync_job::Entity::find().all(&db).await.unwrap();
    assert_eq!(jobs.len(), startups.len());
    assert!(
        jobs.iter()
            .all(|j| j.status == domain::credits::SyncStatus::Done && j.attempts == 1),
        "{jobs:?}"
    );
    let puts = far.puts_per_key.lock().unwrap().clone();
    assert_eq!(puts.len(), startups.len());
    assert!(puts.values().all(|n| *n == 1), "{puts:?}");
    assert!(tried >= 1);
    let max = *far.max_in_flight.lock().unwrap();
    assert!(
        (1..=2).contains(&max),
        "at most two at once on a resource, saw {max}"
    );
    assert_eq!(far.allocations.lock().unwrap().len(), startups.len());
}

#[tokio::test]
async fn cluster_logins_and_team_changes_reach_the_allocation() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let startup = p.startup;
    grant_hours(&mut p, startup, r, "10").await;
    let members = |job: &sync_job::Model| {
        serde_json::from_str::<domain::cluster::backend::Desired>(&job.desired)
            .unwrap()
            .members
    };
    let mut founder = p.founder.clone();
    for (login, key) in [
        ("Li Lei", "error.cluster_login_invalid"),
        ("9lives", "error.cluster_login_invalid"),
        ("root", "error.cluster_login_reserved"),
        ("slurm", "error.cluster_login_reserved"),
        ("munge", "error.cluster_login_reserved"),
    ] {
        let res = p
            .app
            .post_form(
                "/api/set_cluster_login",
                "/account",
                &[("cluster_login", login)],
                &mut founder,
            )
            .await;
        assert_eq!(res.error_key(), key, "{login}");
    }
    // Someone else's login is refused.
    let mut other = p.app.signed_in_applicant("wang@other.cn", "Wang").await;
    p.app
        .post_form(
            "/api/set_cluster_login",
            "/account",
            &[("cluster_login", "wang")],
            &mut other,
        )
        .await;
    let res = p
        .app
        .post_form(
            "/api/set_cluster_login",
            "/account",
            &[("cluster_login", "wang")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.cluster_login_taken");
    let jobs = p.app.count(sync_job::Entity).await;
    let res = p
        .app
        .post_form(
            "/api/set_cluster_login",
            "/account",
            &[("cluster_login", "li_lei")],
            &mut founder,
        )
        .await;
    assert_eq!(res.location(), "/account?notice=saved");
    assert_eq!(p.app.count(sync_job::Entity).await, jobs + 1);
    assert_eq!(
        members(&newest_job(&p.app).await),
        vec!["li_lei".to_string()]
    );
    let page = p.app.get("/account", &founder).await;
    assert!(page.body.contains("value=\"li_lei\""));

    // A co-founder with a login joins: the allocation lists both.
    let mut han = p.app.signed_in_applicant("han@deeppark.cn", "Han").await;
    p.app
        .post_form(
            "/api/set_cluster_login",
            "/account",
            &[("cluster_login", "han")],
            &mut han,
        )
        .await;
    p.app
        .post_form(
            "/api/invite_cofounder",
            "/startup",
            &[("email", "han@deeppark.cn"), ("lang", "en")],
            &mut founder,
        )
        .await;
    let token = common::link_token(
        &p.app.last_mail_to("han@deeppark.cn").await.body_text,
        "/invite?token=",
    );
    let res = p
        .app
        .post_form(
            "/api/accept_invitation",
            "/invite",
            &[("token", &token), ("password", "correct horse battery")],
            &mut han,
        )
        .await;
    assert_eq!(
        res.location(),
        "/login?notice=invitation_accepted",
        "{:?}",
        res.error_param()
    );
    assert_eq!(
        members(&newest_job(&p.app).await),
        vec!["han".to_string(), "li_lei".to_string()]
    );
}

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

/// Plans a milestone for the park's startup through the admin's form; returns its id.
async fn plan_milestone(p: &mut Park, startup: i64, title: &str) -> i64 {
    let due = (Utc::now() + Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let res = post(
        p,
        "/api/create_milestone",
        &[
            ("startup_id", &startup.to_string()),
            ("title", title),
            ("due_on", &due),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/startups/{startup}?notice=saved"),
        "{:?}",
        res.error_param()
    );
    domain::startups::entity::milestone::Entity::find()
        .filter(domain::startups::entity::milestone::Column::Title.eq(title))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn tranches_of(app: &TestApp, grant_id: i64) -> Vec<tranche::Model> {
    tranche::Entity::find()
        .filter(tranche::Column::GrantId.eq(grant_id))
        .order_by_asc(tranche::Column::Id)
        .all(app.db())
        .await
        .unwrap()
}

async fn ledger_kinds(app: &TestApp, grant_id: i64) -> Vec<(String, i64)> {
    ledger::Entity::find()
        .filter(ledger::Column::GrantId.eq(grant_id))
        .order_by_asc(ledger::Column::Id)
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind.to_string(), e.minutes))
        .collect()
}

#[tokio::test]
async fn tranches_are_released_by_milestone_sign_off() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let other = incubating(&p.app, "chen@visionary.cn", "Visionary", None).await;
    let ours = p.startup;
    let mvp = plan_milestone(&mut p, ours, "MVP live").await;
    let pilot = plan_milestone(&mut p, ours, "Paying pilot").await;
    let theirs = plan_milestone(&mut p, other, "Visionary demo").await;
    let (s, rs) = (p.startup.to_string(), r.to_string());
    let from = input_time(Utc::now() - Duration::hours(1));
    let until = input_time(Utc::now() + Duration::days(90));
    let (mvp_s, pilot_s, theirs_s) = (mvp.to_string(), pilot.to_string(), theirs.to_string());
    let grant_form = |t: Vec<(&'static str, String)>| {
        let mut f: Vec<(&'static str, String)> = vec![
            ("startup_id", s.clone()),
            ("resource_id", rs.clone()),
            ("gpu_hours", "100".into()),
            ("valid_from", from.clone()),
            ("valid_until", until.clone()),
            ("reason", "Seed programme".into()),
        ];
        f.extend(t);
        f
    };

    // Bad tranches: a clear message, and no grant.
    for (tranche, key) in [
        (
            vec![("tranche_hours_1", "50".to_string())],
            "tranches.error_milestone_required",
        ),
        (
            vec![
                ("tranche_hours_1", "0".into()),
                ("tranche_milestone_1", mvp_s.clone()),
            ],
            "tranches.error_hours",
        ),
        (
            vec![
                ("tranche_hours_1", "5".into()),
                ("tranche_milestone_1", theirs_s.clone()),
            ],
            "tranches.error_milestone_other",
        ),
        (
            vec![
                ("tranche_hours_1", "5".into()),
                ("tranche_milestone_1", mvp_s.clone()),
                ("tranche_hours_2", "5".into()),
                ("tranche_milestone_2", mvp_s.clone()),
            ],
            "tranches.error_duplicate",
        ),
    ] {
        let fields = grant_form(tranche);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = post(&mut p, "/api/create_grant", &fields).await;
        assert_eq!(res.error_key(), key);
    }
    assert_eq!(p.app.count(grant::Entity).await, 0);
    assert_eq!(p.app.count(tranche::Entity).await, 0);

    // 100 GPU-hours now, 50 when the MVP is live, 30 with a paying pilot.
    let fields = grant_form(vec![
        ("tranche_hours_1", "50".into()),
        ("tranche_milestone_1", mvp_s.clone()),
        ("tranche_hours_3", "30".into()),
        ("tranche_milestone_3", pilot_s.clone()),
    ]);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = post(&mut p, "/api/create_grant", &fields).await;
    assert!(
        res.location().ends_with("notice=grant_created"),
        "{:?}",
        res.error_param()
    );
    let g = grant::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        g.granted_minutes, 6_000,
        "only the initial amount is released at issue"
    );
    let ts = tranches_of(&p.app, g.id).await;
    assert_eq!(ts.len(), 2);
    assert!(ts
        .iter()
        .all(|t| t.status == domain::startups::incubation::TrancheStatus::Pending));
    assert_eq!(desired_limit(&newest_job(&p.app).await), 6_000);
    let page = p
        .app
        .get(&format!("/admin/grants/{}", g.id), &p.admin)
        .await;
    assert!(page.body.contains("MVP live"));
    assert!(page.body.contains("data-tranche-status=\"pending\""));
    // A milestone credit waits on cannot be deleted.
    let res = post(&mut p, "/api/delete_milestone", &[("id", &mvp_s)]).await;
    assert_eq!(res.error_key(), "milestones.error_has_tranches");

    // Signing off the MVP as done releases its tranche in the same step.
    let res = post(
        &mut p,
        "/api/sign_off_milestone",
        &[
            ("id", &mvp_s),
            ("outcome", "done"),
            ("evidence", "https://deeppark.cn"),
        ],
    )
    .await;
    assert!(
        res.location().ends_with("notice=signed_off"),
        "{:?}",
        res.error_param()
    );
    let g = grant::Entity::find_by_id(g.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.granted_minutes, 9_000);
    assert_eq!(g.remaining_minutes(), 9_000);
    assert_eq!(
        ledger_kinds(&p.app, g.id).await,
        vec![
            ("granted".to_string(), 6_000),
            ("tranche_released".to_string(), 3_000)
        ]
    );
    assert_eq!(
        desired_limit(&newest_job(&p.app).await),
        9_000,
        "the cluster's cap grows"
    );
    let ts = tranches_of(&p.app, g.id).await;
    assert_eq!(
        ts[0].status,
        domain::startups::incubation::TrancheStatus::Released
    );
    assert!(ts[0].released_at.is_some());
    let mail = p.app.last_mail_to("li@deeppark.cn").await;
    assert!(
        domain::mail::entity::Entity::find()
            .filter(domain::mail::entity::Column::ToAddress.eq("li@deeppark.cn"))
            .all(p.app.db())
            .await
            .unwrap()
            .iter()
            .any(|m| m.body_text.contains("tranche")),
        "the team is told; last: {}",
        mail.body_text
    );
    let audit = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq("grant.tranche_released"))
        .all(p.app.db())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);

    // Nothing is released twice: a second sign-off is refused and changes nothing.
    let res = post(
        &mut p,
        "/api/sign_off_milestone",
        &[("id", &mvp_s), ("outcome", "done"), ("evidence", "again")],
    )
    .await;
    assert_eq!(res.error_key(), "milestones.error_final");
    assert_eq!(ledger_kinds(&p.app, g.id).await.len(), 2);

    // A missed milestone cancels its tranche; nothing reaches the ledger.
    let res = post(
        &mut p,
        "/api/sign_off_milestone",
        &[
            ("id", &pilot_s),
            ("outcome", "missed"),
            ("notes", "Pilot fell through"),
        ],
    )
    .await;
    assert!(res.location().ends_with("notice=signed_off"));
    let ts = tranches_of(&p.app, g.id).await;
    assert_eq!(
        ts[1].status,
        domain::startups::incubation::TrancheStatus::Cancelled
    );
    assert_eq!(ledger_kinds(&p.app, g.id).await.len(), 2);
    let g = grant::Entity::find_by_id(g.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.granted_minutes, 9_000);

    // The founder sees the tranches and their state on /credits.
    let page = p.app.get("/credits", &p.founder).await;
    assert!(page.body.contains("data-tranche-status=\"released\""));
    assert!(page.body.contains("data-tranche-status=\"cancelled\""));

    // Revoking a grant cancels what is still pending; a later sign-off releases nothing.
    let later = plan_milestone(&mut p, ours, "Series A").await;
    let fields = grant_form(vec![
        ("tranche_hours_1", "20".into()),
        ("tranche_milestone_1", later.to_string()),
    ]);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(&mut p, "/api/create_grant", &fields).await;
    let second = grant::Entity::find()
        .order_by_desc(grant::Column::Id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    let res = post(
        &mut p,
        "/api/grant_transition",
        &[
            ("id", &second.id.to_string()),
            ("to", "revoked"),
            ("note", "Programme ended"),
        ],
    )
    .await;
    assert!(
        res.location().ends_with("notice=saved"),
        "{:?}",
        res.error_param()
    );
    assert_eq!(
        tranches_of(&p.app, second.id).await[0].status,
        domain::startups::incubation::TrancheStatus::Cancelled
    );
    let res = post(
        &mut p,
        "/api/sign_off_milestone",
        &[
            ("id", &later.to_string()),
            ("outcome", "done"),
            ("evidence", "Term sheet"),
        ],
    )
    .await;
    assert!(res.location().ends_with("notice=signed_off"));
    assert!(ledger_kinds(&p.app, second.id)
        .await
        .iter()
        .all(|(k, _)| k != "tranche_released"));
}

#[tokio::test]
async fn ending_an_incubation_cancels_the_tranches_still_waiting() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let ours = p.startup;
    let done = plan_milestone(&mut p, ours, "MVP live").await;
    let open = plan_milestone(&mut p, ours, "Series A").await;
    let from = input_time(Utc::now() - Duration::hours(1));
    let until = input_time(Utc::now() + Duration::days(90));
    let res = post(
        &mut p,
        "/api/create_grant",
        &[
            ("startup_id", &ours.to_string()),
            ("resource_id", &r.to_string()),
            ("gpu_hours", "10"),
            ("valid_from", &from),
            ("valid_until", &until),
            ("reason", "Seed programme"),
            ("tranche_hours_1", "5"),
            ("tranche_milestone_1", &done.to_string()),
            ("tranche_hours_2", "7"),
            ("tranche_milestone_2", &open.to_string()),
        ],
    )
    .await;
    assert!(
        res.location().ends_with("notice=grant_created"),
        "{:?}",
        res.error_param()
    );
    let g = grant::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    let res = post(
        &mut p,
        "/api/sign_off_milestone",
        &[
            ("id", &done.to_string()),
            ("outcome", "done"),
            ("evidence", "Live"),
        ],
    )
    .await;
    assert!(res.location().ends_with("notice=signed_off"));
    let res = post(
        &mut p,
        "/api/end_incubation",
        &[
            ("id", &ours.to_string()),
            ("to", "graduated"),
            ("reason", "Series A closed"),
        ],
    )
    .await;
    assert!(
        res.location().ends_with("notice=saved"),
        "{:?}",
        res.error_param()
    );
    let ts = tranches_of(&p.app, g.id).await;
    assert_eq!(
        ts.iter().map(|t| t.status.as_str()).collect::<Vec<_>>(),
        vec!["released", "cancelled"]
    );
    let g = grant::Entity::find_by_id(g.id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        g.granted_minutes, 900,
        "what was released stays; the rest never comes"
    );
}

/// Sets how a resource repairs drift (`auto` or `approve`).
async fn set_repair_mode(app: &TestApp, resource_id: i64, mode: &str) {
    let r = resource::Entity::find_by_id(resource_id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut a = r.into_active_model();
    a.repair_mode = Set(mode.into());
    a.update(app.db()).await.unwrap();
}

/// The periodic pass repairs drift on a resource that repairs automatically, with nobody
/// approving, and only reports it on one that waits for an admin.
#[tokio::test]
async fn the_periodic_pass_repairs_auto_resources_and_only_reports_the_others() {
    use std::sync::Arc;
    let secret = "a-shared-secret-of-32-characters";
    let auto_far = Arc::new(platform::Platform {
        secret: secret.into(),
        ..Default::default()
    });
    let approve_far = Arc::new(platform::Platform {
        secret: secret.into(),
        ..Default::default()
    });
    let auto_base = platform::start(auto_far.clone()).await;
    let approve_base = platform::start(approve_far.clone()).await;
    let mut p = park().await;
    let auto = add_resource(&mut p, "Partner cloud", "http", &auto_base, secret).await;
    let approve = add_resource(&mut p, "Other cloud", "http", &approve_base, secret).await;
    set_repair_mode(&p.app, auto, "auto").await;
    let startup = p.startup;
    grant_hours(&mut p, startup, auto, "10").await;
    grant_hours(&mut p, startup, approve, "10").await;
    let db = p.app.db().clone();
    assert_eq!(
        domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, Utc::now(), 10)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        domain::cluster::reconcile::pass(&db).await.unwrap(),
        0,
        "nothing to repair"
    );

    // On both platforms someone lowers the limit and leaves an account Hatchery never made.
    let account = format!("startup-{startup}");
    for far in [&auto_far, &approve_far] {
        let mut allocations = far.allocations.lock().unwrap();
        allocations.get_mut(&account).unwrap().limit_minutes = 5;
        allocations.insert(
            "startup-777".into(),
            domain::cluster::backend::http::AllocationBody {
                account: "startup-777".into(),
                organization: "Unknown".into(),
                limit_minutes: 60,
                members: vec!["mallory".into()],
            },
        );
    }
    let jobs_before = p.app.count(sync_job::Entity).await;
    assert_eq!(
        domain::cluster::reconcile::pass(&db).await.unwrap(),
        2,
        "the limit and the orphan, on the automatic resource only"
    );
    assert_eq!(p.app.count(sync_job::Entity).await, jobs_before + 2);
    let queued: Vec<sync_job::Model> = sync_job::Entity::find()
        .filter(sync_job::Column::Status.eq("pending"))
        .all(&db)
        .await
        .unwrap();
    assert!(queued.iter().all(|j| j.resource_id == auto), "{queued:?}");
    let audit = domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq("resource.reconciled"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].entity_id.clone(), audit[0].actor_user_id),
        (auto.to_string(), None),
        "repaired by the pass, not by an admin"
    );
    assert_eq!(
        domain::cluster::sync::run_due(&db, &domain::cluster::sync::POLICY, Utc::now(), 10)
            .await
            .unwrap(),
        2
    );
    {
        let allocations = auto_far.allocations.lock().unwrap();
        assert_eq!(allocations[&account].limit_minutes, 600);
        assert!(!allocations.contains_key("startup-777"), "frozen (deleted)");
    }
    let after = domain::cluster::reconcile::compare(&db, auto)
        .await
        .unwrap();
    assert!(after.drifts.is_empty(), "{:?}", after.drifts);

    // The other resource still differs, as the admin will see it; the next pass changes
    // nothing there either.
    let waiting = domain::cluster::reconcile::compare(&db, approve)
        .await
        .unwrap();
    let kinds: Vec<&str> = waiting.drifts.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds, ["limit", "orphan"]);
    assert_eq!(domain::cluster::reconcile::pass(&db).await.unwrap(), 0);
    {
        let allocations = approve_far.allocations.lock().unwrap();
        assert_eq!(allocations[&account].limit_minutes, 5);
        assert_eq!(allocations["startup-777"].limit_minutes, 60);
    }
    assert!(approve_far.deletes.lock().unwrap().is_empty());
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
    // The server function itself refuses them too.
    for jar in [&other_mentor, &other_founder] {
        let mut jar = jar.clone();
        let res = p
            .app
            .post_form(
                "/api/startup_credit",
                "/dashboard",
                &[("id", &startup.to_string())],
                &mut jar,
            )
            .await;
        assert_eq!(res.error_param(), Some(AppError::Forbidden));
    }
    let credit = domain::credits::grants::startup_credit(
        p.app.db(),
        &p.app.actor("zhou@mentors.cn").await,
        startup,
    )
    .await
    .unwrap();
    assert_eq!(credit.resources.len(), 2);
    assert_eq!(
        domain::credits::grants::startup_credit(
            p.app.db(),
            &p.app.actor("liu@mentors.cn").await,
            startup
        )
        .await
        .unwrap_err(),
        AppError::Forbidden
    );
}
