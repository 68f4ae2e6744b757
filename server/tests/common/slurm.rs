//! Helpers shared by the tests against real Slurm clusters (22.05 and 24.11).
use super::{Jar, TestApp, TestResponse};
use chrono::{Duration, Utc};
use domain::auth::Role;
use domain::cluster::backend::{AllocationBackend, Backend};
use domain::credits::entity::{grant, resource, sync_job};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};

/// Polls `f` every second until it gives a value, failing the test after `seconds`.
pub async fn wait_for<F, Fut, T>(what: &str, seconds: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// An admin's form, posted from the admin pages.
pub async fn post(
    app: &TestApp,
    jar: &mut Jar,
    path: &str,
    fields: Vec<(&str, String)>,
) -> TestResponse {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(path, "/admin", &refs, jar).await
}

/// Applies the newest job, as the worker would: a transient failure of the cluster (slurmdbd
/// restarting) is retried after a pause rather than the job's backoff, which a test does not
/// wait out.
pub async fn sync(app: &TestApp) -> sync_job::Model {
    let newest = || async {
        sync_job::Entity::find()
            .order_by_desc(sync_job::Column::Id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
    };
    for _ in 0..domain::cluster::sync::MAX_ATTEMPTS {
        let due = newest().await.next_attempt_at.max(Utc::now());
        domain::cluster::sync::run_due(app.db(), &domain::cluster::sync::POLICY, due, 10)
            .await
            .unwrap();
        let job = newest().await;
        if job.status == domain::credits::SyncStatus::Done {
            return job;
        }
        eprintln!("sync attempt failed, retrying: {:?}", job.last_error);
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    let job = newest().await;
    panic!("the job did not apply: {:?}", job.last_error);
}

/// A server process of the test's own, killed (SIGKILL) when dropped, even if the test fails.
struct Server(std::process::Child);

impl Server {
    fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The crash test, on any cluster: six startups with grants on a resource with these
/// settings (accounts named `prefix-{id}`); Hatchery (the real binary) is killed with SIGKILL
/// at random moments while its worker applies random grant changes, twelve times, then runs
/// until its queue is empty; the cluster must then equal the ledger, account by account.
/// The caller removes the accounts.
pub async fn kill_mid_sync_and_compare(cluster: &str, settings: serde_json::Value, prefix: &str) {
    use rand::{Rng, SeedableRng};
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.actor("admin@park.cn").await;
    let mut startups = Vec::new();
    for i in 0..6 {
        let mut jar = app
            .signed_in_applicant(&format!("f{i}@t{i}.cn"), &format!("Founder {i}"))
            .await;
        app.post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", &format!("Team {i}")),
                ("sector", "language"),
                ("stage", "seed"),
                ("team_size", "3"),
                ("founders", "F"),
            ],
            &mut jar,
        )
        .await;
        let s = domain::startups::entity::startup::Entity::find()
            .filter(domain::startups::entity::startup::Column::Name.eq(format!("Team {i}")))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        let mut a = s.clone().into_active_model();
        a.status = Set(domain::startups::incubation::StartupStatus::Incubating);
        a.update(app.db()).await.unwrap();
        let u = domain::auth::entity::user::Entity::find()
            .filter(domain::auth::entity::user::Column::Email.eq(format!("f{i}@t{i}.cn")))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        let mut u = u.into_active_model();
        u.cluster_login = Set(Some(format!("{prefix}u{i}")));
        u.update(app.db()).await.unwrap();
        startups.push(s.id);
    }
    let now = Utc::now();
    let r = resource::ActiveModel {
        name: Set("Turing H100".into()),
        gpu_model: Set("H100".into()),
        backend: Set(domain::credits::BackendKind::Slurm),
        cluster: Set(cluster.into()),
        account_pattern: Set(format!("{prefix}-{{id}}")),
        settings: Set(settings.to_string()),
        repair_mode: Set(domain::credits::RepairMode::Approve),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let fmt = |t: chrono::DateTime<Utc>| domain::time::Zone::default().input_value(&t);
    let mut grants = Vec::new();
    for s in &startups {
        let id = domain::credits::grants::create(
            app.db(),
            &app.state.settings,
            &admin,
            domain::credits::grants::GrantInput {
                startup_id: *s,
                resource_id: r.id,
                gpu_hours: "20".into(),
                valid_from: fmt(now - Duration::hours(1)),
                valid_until: fmt(now + Duration::days(30)),
                reason: "Seed".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        grants.push(id);
    }

    let port = 39000 + rand::random::<u16>() % 2000;
    let spawn = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hatchery"));
        cmd.arg("serve")
            .env("HATCHERY_DATA_DIR", app.data_dir.path())
            .env("HATCHERY_ADDR", format!("127.0.0.1:{port}"))
            .env("HATCHERY_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("HATCHERY_WORKER_POLL_MS", "100")
            .env("HATCHERY_SYNC_LEASE_SECONDS", "3")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(db) = &app.database_url {
            cmd.env("HATCHERY_DATABASE_URL", db);
        }
        Server(cmd.spawn().expect("the server starts"))
    };
    let seed: u64 = rand::random();
    eprintln!("crash test seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut kills = 0;
    for cycle in 0..12 {
        // A change while Hatchery is down or about to be killed.
        let g = grants[rng.random_range(0..grants.len())];
        let outcome = match rng.random_range(0..3) {
            0 => {
                domain::credits::grants::adjust(
                    app.db(),
                    &app.state.settings,
                    &admin,
                    g,
                    &format!("{}", rng.random_range(1..5)),
                    "more",
                )
                .await
            }
            1 => {
                domain::credits::grants::adjust(
                    app.db(),
                    &app.state.settings,
                    &admin,
                    g,
                    "-1",
                    "less",
                )
                .await
            }
            _ => {
                let to = if rng.random_bool(0.5) {
                    domain::credits::GrantStatus::Suspended
                } else {
                    domain::credits::GrantStatus::Active
                };
                domain::credits::grants::transition(
                    app.db(),
                    &app.state.settings,
                    &admin,
                    g,
                    to,
                    "cycle",
                )
                .await
            }
        };
        if let Err(e) = outcome {
            assert!(
                matches!(e, domain::error::AppError::Conflict { .. }),
                "cycle {cycle}: {e:?}"
            );
        }
        let child = spawn();
        tokio::time::sleep(std::time::Duration::from_millis(
            rng.random_range(300..3000),
        ))
        .await;
        child.kill(); // SIGKILL
        kills += 1;
    }
    // Restarted for good: it catches up.
    let child = spawn();
    wait_for("the queue to drain", 240, || {
        let db = app.db().clone();
        async move {
            let open = sync_job::Entity::find()
                .filter(sync_job::Column::Status.is_in(["pending", "running", "dead"]))
                .all(&db)
                .await
                .unwrap();
            open.is_empty().then_some(())
        }
    })
    .await;
    child.kill();
    assert_eq!(kills, 12);

    // The cluster equals the ledger, account by account.
    let report = domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap();
    assert_eq!(report.accounts, startups.len());
    assert!(report.drifts.is_empty(), "{:?}", report.drifts);
    let backend = Backend::for_resource(&r).unwrap();
    for (s, g) in startups.iter().zip(&grants) {
        let g = grant::Entity::find_by_id(*g)
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        let remote = backend
            .read(&format!("{prefix}-{s}"))
            .await
            .unwrap()
            .unwrap();
        let want = domain::cluster::allocation::limit_of(&[g]);
        assert_eq!(remote.limit_minutes, Some(want));
    }
}
