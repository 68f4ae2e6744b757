//! Grants in force on a real Slurm 22.05 through slurmrestd (brought up by scripts/slurm.sh):
//! the cap is written and read back, a real job consumes GPU-minutes that come back into the
//! ledger, and a job is held back once the grant is used up.
mod common;

use common::slurm::{post, sync, wait_for};

use chrono::{Duration, Utc};
use common::TestApp;
use domain::auth::Role;
use domain::cluster::backend::{AllocationBackend, Backend};
use domain::credits::entity::{grant, resource};
use sea_orm::EntityTrait;
use std::process::Command;

/// One test at a time talks to Slurm: its accounting daemon is shared, and fragile under
/// concurrent writes (the product itself applies at most two at once per resource).
static SLURM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The slurmrestd address, or None when no Slurm was brought up (only outside CI).
fn slurm_url() -> Option<String> {
    match std::env::var("HATCHERY_SLURM_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("CI").is_err(),
                "CI runs scripts/test.sh, which brings Slurm up and sets HATCHERY_SLURM_URL"
            );
            eprintln!(
                "HATCHERY_SLURM_URL is not set: run `scripts/slurm.sh up` to test against Slurm"
            );
            None
        }
    }
}

fn slurm_conf() -> String {
    std::env::var("SLURM_CONF").unwrap_or_else(|_| "/run/hatchery-slurm/etc/slurm.conf".into())
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .env("SLURM_CONF", slurm_conf())
        .output()
        .expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A Unix user for jobs: Slurm runs a job as its user, and the Unix user must exist before
/// the Slurm user does (slurmctld caches the uid).
struct UnixUser(String);

impl UnixUser {
    fn new(name: &str) -> UnixUser {
        let _ = Command::new("userdel").arg(name).output();
        run(Command::new("useradd").args(["-M", "-s", "/usr/sbin/nologin", name]));
        UnixUser(name.to_string())
    }

    fn sbatch(&self, account: &str, args: &[&str]) -> String {
        run(Command::new("runuser")
            .args([
                "-u",
                &self.0,
                "--",
                "sbatch",
                "--parsable",
                "-A",
                account,
                "-o",
                "/dev/null",
            ])
            .args(args)
            .current_dir("/tmp"))
    }
}

impl Drop for UnixUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.0).output();
    }
}

#[tokio::test]
async fn grants_are_in_force_on_a_real_slurm() {
    let Some(url) = slurm_url() else { return };
    let _one_at_a_time = SLURM.lock().await;
    let tag = format!("{:05}", rand::random::<u32>() % 100_000);
    let prefix = format!("hct{tag}");
    let login = UnixUser::new(&format!("hctu{tag}"));

    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let startup = app
        .incubating_startup(
            "li@deeppark.cn",
            "Li Lei",
            "DeepPark AI",
            Some(login.0.as_str()),
        )
        .await;

    let pattern = format!("{prefix}-{{id}}");
    let res = app
        .post_form(
            "/api/save_resource",
            "/admin",
            &[
                ("name", "Turing H100"),
                ("gpu_model", "H100"),
                ("backend", "slurm"),
                ("cluster", "ci"),
                ("account_pattern", &pattern),
                ("base_url", &url),
                ("repair_mode", "approve"),
            ],
            &mut admin,
        )
        .await;
    assert_eq!(
        res.location(),
        "/admin/resources?notice=saved",
        "{:?}",
        res.error_param()
    );
    let r = resource::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let backend = Backend::for_resource(&r).unwrap();
    let account = format!("{prefix}-{}", startup);
    let fmt = |t: chrono::DateTime<Utc>| domain::time::Zone::default().input_value(&t);
    let res = post(
        &app,
        &mut admin,
        "/api/create_grant",
        vec![
            ("startup_id", startup.to_string()),
            ("resource_id", r.id.to_string()),
            ("gpu_hours", "10".into()),
            ("valid_from", fmt(Utc::now() - Duration::hours(1))),
            ("valid_until", fmt(Utc::now() + Duration::days(30))),
            ("reason", "Seed".into()),
        ],
    )
    .await;
    assert!(
        res.location().contains("notice=grant_created"),
        "{:?}",
        res.error_param()
    );
    let g = grant::Entity::find().one(app.db()).await.unwrap().unwrap();
    let id = g.id.to_string();

    // In force: the account, its GrpTRESMins on gres/gpu, the founder as a Slurm user.
    sync(&app).await;
    let remote = backend
        .read(&account)
        .await
        .unwrap()
        .expect("the account exists");
    assert_eq!(remote.limit_minutes, Some(600));
    assert_eq!(remote.members, vec![login.0.clone()]);

    // Drift made behind Hatchery's back is found and repaired.
    run(Command::new("sacctmgr").args([
        "-i",
        "modify",
        "account",
        "where",
        &format!("name={account}"),
        "set",
        "GrpTRESMins=gres/gpu=7",
    ]));
    let report = domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap();
    assert_eq!(report.drifts.len(), 1, "{:?}", report.drifts);
    assert_eq!(report.drifts[0].kind.as_str(), "limit");
    domain::cluster::reconcile::repair(app.db(), None, &report)
        .await
        .unwrap();
    sync(&app).await;
    assert!(domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap()
        .drifts
        .is_empty());

    // An account in Hatchery's names that no grant explains is frozen once approved: no GPU
    // minutes, nobody in it, the account (and its usage) kept.
    let orphan = format!("{prefix}-999999");
    run(Command::new("sacctmgr").args(["-i", "add", "account", &orphan, "Cluster=ci"]));
    run(Command::new("sacctmgr").args([
        "-i",
        "add",
        "user",
        &login.0,
        &format!("Account={orphan}"),
        "Cluster=ci",
    ]));
    run(Command::new("sacctmgr").args([
        "-i",
        "modify",
        "account",
        "where",
        &format!("name={orphan}"),
        "set",
        "GrpTRESMins=gres/gpu=60",
    ]));
    let report = domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap();
    assert_eq!(report.drifts.len(), 1, "{:?}", report.drifts);
    assert_eq!(
        (report.drifts[0].kind.as_str(), report.drifts[0].startup_id),
        ("orphan", Some(999_999))
    );
    domain::cluster::reconcile::repair(app.db(), None, &report)
        .await
        .unwrap();
    let job = sync(&app).await;
    assert_eq!(job.startup_id, 999_999);
    let frozen = backend.read(&orphan).await.unwrap().expect("kept");
    assert_eq!((frozen.limit_minutes, frozen.members), (Some(0), vec![]));
    assert!(domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap()
        .drifts
        .is_empty());

    // Down to half an hour, suspended (nothing more may be used), resumed.
    post(
        &app,
        &mut admin,
        "/api/adjust_grant",
        vec![
            ("id", id.clone()),
            ("gpu_hours", "-9.5".into()),
            ("note", "Trim".into()),
        ],
    )
    .await;
    sync(&app).await;
    assert_eq!(
        backend.read(&account).await.unwrap().unwrap().limit_minutes,
        Some(30)
    );
    post(
        &app,
        &mut admin,
        "/api/grant_transition",
        vec![("id", id.clone()), ("to", "suspended".into())],
    )
    .await;
    sync(&app).await;
    assert_eq!(
        backend.read(&account).await.unwrap().unwrap().limit_minutes,
        Some(0)
    );
    post(
        &app,
        &mut admin,
        "/api/grant_transition",
        vec![("id", id.clone()), ("to", "active".into())],
    )
    .await;
    sync(&app).await;
    assert_eq!(
        backend.read(&account).await.unwrap().unwrap().limit_minutes,
        Some(30)
    );

    // A real job on two (fake) GPUs for 30 s: one GPU-minute, imported once.
    let job = login.sbatch(&account, &["--gres=gpu:2", "-t", "2", "--wrap", "sleep 30"]);
    let used = wait_for("the job to finish", 150, || {
        let backend = &backend;
        let account = &account;
        async move {
            let jobs = backend.usage(account, None).await.unwrap();
            (!jobs.is_empty()).then_some(jobs)
        }
    })
    .await;
    assert_eq!(used.len(), 1);
    assert!(used[0].job_ref.starts_with(&format!("ci:{job}:")));
    let outcome = domain::credits::usage::import(app.db(), &app.state.settings, r.id)
        .await
        .unwrap();
    assert_eq!(outcome.imported, 1);
    let again = domain::credits::usage::import(app.db(), &app.state.settings, r.id)
        .await
        .unwrap();
    assert_eq!((again.jobs_seen, again.imported), (1, 0));
    let g = grant::Entity::find_by_id(g.id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.consumed_minutes, used[0].gpu_minutes);
    assert!(
        (1..=2).contains(&g.consumed_minutes),
        "{}",
        g.consumed_minutes
    );

    // Revoked: the cap falls to what was used, and the next job is held back by Slurm.
    post(
        &app,
        &mut admin,
        "/api/grant_transition",
        vec![("id", id.clone()), ("to", "revoked".into())],
    )
    .await;
    sync(&app).await;
    assert_eq!(
        backend.read(&account).await.unwrap().unwrap().limit_minutes,
        Some(g.consumed_minutes)
    );
    let held = login.sbatch(&account, &["--gres=gpu:1", "-t", "1", "--wrap", "sleep 5"]);
    let reason = wait_for("Slurm to hold the job", 60, || {
        let held = held.clone();
        async move {
            let r = run(Command::new("squeue").args(["-h", "-j", &held, "-o", "%T %r"]));
            r.contains("AssocGrpGRESMinutes").then_some(r)
        }
    })
    .await;
    assert!(reason.starts_with("PENDING"), "{reason}");
    run(Command::new("scancel").arg(&held));

    // Tidy the cluster for the next run.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/slurm.sh");
    run(Command::new("bash").args([script, "reset-accounts", &prefix]));
}

/// Hatchery is killed (SIGKILL) at random moments while its worker applies grant changes to
/// Slurm, and restarted; in the end every change is in force and nothing is left behind.
#[tokio::test]
async fn killing_hatchery_mid_sync_loses_nothing() {
    let Some(url) = slurm_url() else { return };
    let _one_at_a_time = SLURM.lock().await;
    let prefix = format!("hck{:05}", rand::random::<u32>() % 100_000);
    common::slurm::kill_mid_sync_and_compare(
        "ci",
        serde_json::json!({"base_url": url, "secret": ""}),
        &prefix,
    )
    .await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/slurm.sh");
    run(Command::new("bash").args([script, "reset-accounts", &prefix]));
}
