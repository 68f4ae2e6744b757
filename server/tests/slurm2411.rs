//! Grants in force on a real Slurm 24.11 (REST v0.0.42, JWT, brought up by
//! scripts/slurm-2411.sh): the cap is a NoDecay QOS per account, written and read back; drift of
//! its limit or flags is found and repaired; suspend and resume; a real job is imported once,
//! the next one is held once the grant is used up and released by a top-up; and `auto` picks
//! each cluster's dialect.
mod common;

use common::slurm::{post, sync, wait_for};

use chrono::{Duration, Utc};
use common::TestApp;
use domain::auth::Role;
use domain::cluster::backend::slurm::{Dialect, DialectChoice, ProbeError, Slurm};
use domain::cluster::backend::{AllocationBackend, Backend, Desired, Settings, SyncError};
use domain::credits::entity::sync_job;
use domain::credits::entity::{grant, resource};
use sea_orm::{EntityTrait, QueryOrder};
use std::process::Command;

/// What scripts/slurm-2411.sh prints (`eval "$(scripts/slurm-2411.sh env)"`).
struct Cluster {
    socket_url: String,
    tcp_url: String,
    cluster: String,
    user: String,
    token_file: String,
    root: String,
}

/// The 24.11 cluster, or None when it was not brought up (only outside CI: there a missing
/// cluster fails the test instead of passing it unseen).
fn cluster() -> Option<Cluster> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        var("SLURM2411_SOCKET_URL"),
        var("SLURM2411_URL"),
        var("SLURM2411_TOKEN_FILE"),
    ) {
        (Some(socket_url), Some(tcp_url), Some(token_file)) => Some(Cluster {
            socket_url,
            tcp_url,
            cluster: var("SLURM2411_CLUSTER").unwrap_or_else(|| "ci2411".into()),
            user: var("SLURM2411_USER").unwrap_or_else(|| "slurm".into()),
            token_file,
            root: var("SLURM2411_ROOT")
                .unwrap_or_else(|| "/var/lib/hatchery/slurm-2411/root".into()),
        }),
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI runs scripts/test.sh, which brings Slurm 24.11 up and sets SLURM2411_*"
            );
            eprintln!("SLURM2411_* are not set: run `eval \"$(scripts/slurm-2411.sh up)\"`");
            None
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/slurm-2411.sh");

impl Cluster {
    /// The resource settings of this cluster: its unix socket, the token file, the user.
    fn settings(&self) -> Settings {
        Settings {
            base_url: self.socket_url.clone(),
            token_file: self.token_file.clone(),
            token_user: self.user.clone(),
            ..Settings::default()
        }
    }

    /// scripts/slurm-2411.sh with these arguments.
    fn script(&self, args: &[&str]) -> String {
        run(Command::new("bash").arg(SCRIPT).args(args))
    }

    /// A Slurm client command inside the chroot (its /etc/slurm is the cluster's).
    fn client(&self, program: &str, args: &[&str]) -> String {
        // The chroot's clients read its own /etc/slurm, not the 22.05 one's SLURM_CONF.
        run(Command::new("chroot")
            .env_remove("SLURM_CONF")
            .arg(&self.root)
            .arg(program)
            .args(args))
    }

    /// `sacctmgr show qos NAME`: name|flags|GrpTRESMins.
    fn qos(&self, name: &str) -> String {
        self.client(
            "sacctmgr",
            &["-nP", "show", "qos", name, "format=name,flags,grptresmins"],
        )
    }

    /// GPU-minutes a QOS has used, as slurmctld counts them against its GrpTRESMins
    /// (`gres/gpu=CAP(USED)` in `scontrol show assoc_mgr flags=qos`).
    fn qos_used_gpu_minutes(&self, qos: &str) -> Option<i64> {
        let out = self.client(
            "scontrol",
            &["show", "assoc_mgr", "flags=qos", &format!("qos={qos}")],
        );
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("GrpTRESMins="))?;
        let gpu = line
            .split(',')
            .find_map(|t| t.trim().strip_prefix("gres/gpu="))?;
        gpu.split_once('(')?.1.trim_end_matches(')').parse().ok()
    }

    /// The account association's QOS list and default QOS, as sacctmgr shows them:
    /// account|qos|default qos.
    fn account_qos(&self, account: &str) -> String {
        let rows = self.client(
            "sacctmgr",
            &[
                "-nP",
                "show",
                "assoc",
                "where",
                &format!("account={account}"),
                "format=account,user,qos,defaultqos",
            ],
        );
        rows.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('|').collect();
                (f.len() >= 4 && f[1].is_empty()).then(|| format!("{}|{}|{}", f[0], f[2], f[3]))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A Unix user inside the chroot, for jobs: it must exist before the Slurm user does
/// (slurmctld caches the uid).
struct JobUser<'a> {
    name: String,
    cluster: &'a Cluster,
}

impl<'a> JobUser<'a> {
    fn new(cluster: &'a Cluster, name: &str) -> JobUser<'a> {
        let _ = Command::new("chroot")
            .args([&cluster.root, "userdel", name])
            .output();
        run(Command::new("chroot").args([
            &cluster.root,
            "useradd",
            "-M",
            "-s",
            "/usr/sbin/nologin",
            name,
        ]));
        JobUser {
            name: name.to_string(),
            cluster,
        }
    }

    fn sbatch(&self, account: &str, args: &[&str]) -> String {
        let mut all = vec![
            "-u",
            &self.name,
            "--",
            "sbatch",
            "--parsable",
            "-A",
            account,
            "-o",
            "/dev/null",
            "--chdir=/tmp",
        ];
        all.extend_from_slice(args);
        self.cluster.client("runuser", &all)
    }
}

impl Drop for JobUser<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chroot")
            .args([&self.cluster.root, "userdel", &self.name])
            .output();
    }
}

#[tokio::test]
async fn grants_are_in_force_on_a_real_slurm_2411() {
    let Some(c) = cluster() else { return };
    let tag = format!("{:05}", rand::random::<u32>() % 100_000);
    let prefix = format!("hcq{tag}");
    let login = JobUser::new(&c, &format!("hcqu{tag}"));

    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let startup = app
        .incubating_startup(
            "li@deeppark.cn",
            "Li Lei",
            "DeepPark AI",
            Some(login.name.as_str()),
        )
        .await;

    // The resource as an admin enters it: slurmrestd's unix socket, the token file an
    // operator renews, the dialect left to `auto`.
    let pattern = format!("{prefix}-{{id}}");
    let res = app
        .post_form(
            "/api/save_resource",
            "/admin",
            &[
                ("name", "Turing H100 (24.11)"),
                ("gpu_model", "H100"),
                ("backend", "slurm"),
                ("cluster", &c.cluster),
                ("account_pattern", &pattern),
                ("base_url", &c.socket_url),
                ("token_file", &c.token_file),
                ("token_user", &c.user),
                ("dialect", "auto"),
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
    assert_eq!(r.dialect, "auto");
    let view = domain::credits::resources::view(&r);
    assert_eq!(
        (view.token_file.as_str(), view.token_user.as_str()),
        (c.token_file.as_str(), c.user.as_str())
    );
    let backend = Backend::for_resource(&r).unwrap();
    let Backend::Slurm(slurm) = &backend else {
        panic!("a Slurm backend")
    };
    assert_eq!(slurm.dialect().await.unwrap(), Dialect::V0042);
    let account = format!("{prefix}-{}", startup);
    let fmt = |t: chrono::DateTime<Utc>| domain::time::Zone::default().input_value(&t);
    let grant_hours = |hours: &str| {
        vec![
            ("startup_id", startup.to_string()),
            ("resource_id", r.id.to_string()),
            ("gpu_hours", hours.to_string()),
            ("valid_from", fmt(Utc::now() - Duration::hours(1))),
            ("valid_until", fmt(Utc::now() + Duration::days(30))),
            ("reason", "Seed".into()),
        ]
    };
    let res = post(&app, &mut admin, "/api/create_grant", grant_hours("10")).await;
    assert!(
        res.location().contains("notice=grant_created"),
        "{:?}",
        res.error_param()
    );
    let g = grant::Entity::find().one(app.db()).await.unwrap().unwrap();
    let id = g.id.to_string();

    // In force: the account, its QOS (NoDecay, DenyOnLimit, GrpTRESMins gres/gpu) as its only
    // and default QOS, the founder as a Slurm user. Read back through REST and sacctmgr.
    let t = std::time::Instant::now();
    sync(&app).await;
    eprintln!("first sync (account, QOS, member) took {:?}", t.elapsed());
    let remote = backend
        .read(&account)
        .await
        .unwrap()
        .expect("the account exists");
    assert_eq!(remote.limit_minutes, Some(600));
    assert_eq!(remote.members, vec![login.name.clone()]);
    assert!(remote.cap_flags_missing.is_empty());
    assert_eq!(
        c.qos(&account),
        format!("{account}|DenyOnLimit,NoDecay|gres/gpu=600")
    );
    assert_eq!(
        c.account_qos(&account),
        format!("{account}|{account}|{account}")
    );

    // Drift behind Hatchery's back: the limit, then the flags (NoDecay lost: the cap would
    // decay with fair-share). Each is found and repaired.
    c.client(
        "sacctmgr",
        &[
            "-i",
            "modify",
            "qos",
            &account,
            "set",
            "GrpTRESMins=gres/gpu=7",
        ],
    );
    let report = domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap();
    assert_eq!(report.drifts.len(), 1, "{:?}", report.drifts);
    assert_eq!(report.drifts[0].kind.as_str(), "limit");
    assert_eq!(report.drifts[0].remote, "7 GPU-min");
    domain::cluster::reconcile::repair(app.db(), None, &report)
        .await
        .unwrap();
    sync(&app).await;
    assert!(domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap()
        .drifts
        .is_empty());
    c.client(
        "sacctmgr",
        &["-i", "modify", "qos", &account, "set", "Flags=DenyOnLimit"],
    );
    let report = domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap();
    assert_eq!(report.drifts.len(), 1, "{:?}", report.drifts);
    assert_eq!(report.drifts[0].remote, "600 GPU-min, without NO_DECAY");
    domain::cluster::reconcile::repair(app.db(), None, &report)
        .await
        .unwrap();
    sync(&app).await;
    assert_eq!(
        c.qos(&account),
        format!("{account}|DenyOnLimit,NoDecay|gres/gpu=600")
    );
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
        c.qos(&account),
        format!("{account}|DenyOnLimit,NoDecay|gres/gpu=0")
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

    // A real job on two (fake) GPUs for 40 s: 80 GPU-seconds, one GPU-minute, imported once.
    let job = login.sbatch(&account, &["--gres=gpu:2", "-t", "2", "--wrap", "sleep 40"]);
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
    assert!(used[0]
        .job_ref
        .starts_with(&format!("{}:{job}:", c.cluster)));
    assert_eq!(used[0].gpu_minutes, 1);
    let outcome = domain::credits::usage::import(app.db(), &app.state.settings, r.id)
        .await
        .unwrap();
    assert_eq!(outcome.imported, 1);
    // The next pass asks only for the jobs since the last import (less an overlap), and
    // counts nothing twice.
    let again = domain::credits::usage::import(app.db(), &app.state.settings, r.id)
        .await
        .unwrap();
    assert_eq!((again.jobs_seen, again.imported), (1, 0));
    let later = backend
        .usage(&account, Some(Utc::now() + Duration::minutes(5)))
        .await
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
    let g = grant::Entity::find_by_id(g.id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.consumed_minutes, 1);
    // What Hatchery imported is what Slurm charged the QOS (there is no REST view of a QOS's
    // usage in v0.0.42: slurmctld's own, in whole GPU-minutes).
    assert_eq!(c.qos_used_gpu_minutes(&account), Some(g.consumed_minutes));

    // Used up: suspended, the cap is what was used, and Slurm holds the next job.
    post(
        &app,
        &mut admin,
        "/api/grant_transition",
        vec![("id", id.clone()), ("to", "suspended".into())],
    )
    .await;
    sync(&app).await;
    assert_eq!(
        c.qos(&account),
        format!("{account}|DenyOnLimit,NoDecay|gres/gpu=1")
    );
    let held = login.sbatch(&account, &["--gres=gpu:1", "-t", "1", "--wrap", "sleep 5"]);
    let reason = wait_for("Slurm to hold the job", 60, || {
        let held = held.clone();
        let c = &c;
        async move {
            let r = c.client("squeue", &["-h", "-j", &held, "-o", "%T %r"]);
            r.contains("QOSGrpGRESMinutes").then_some(r)
        }
    })
    .await;
    assert!(reason.starts_with("PENDING"), "{reason}");

    // A top-up (a second grant): the job runs within seconds of the sync.
    let res = post(&app, &mut admin, "/api/create_grant", grant_hours("1")).await;
    assert!(
        res.location().contains("notice=grant_created"),
        "{:?}",
        res.error_param()
    );
    sync(&app).await;
    let topped_up = std::time::Instant::now();
    assert_eq!(
        backend.read(&account).await.unwrap().unwrap().limit_minutes,
        Some(61)
    );
    let state = wait_for("the held job to start", 30, || {
        let held = held.clone();
        let c = &c;
        async move {
            let r = c.client("squeue", &["-h", "-j", &held, "-o", "%T"]);
            (r.is_empty() || r.starts_with("RUNNING") || r.starts_with("COMPLETING")).then_some(r)
        }
    })
    .await;
    eprintln!(
        "the held job was {} {:?} after the top-up",
        if state.is_empty() { "done" } else { &state },
        topped_up.elapsed()
    );
    let _ = Command::new("chroot")
        .args([&c.root, "scancel", &held])
        .output();

    // Tidy the cluster for the next run (accounts, users, QOS, job records).
    drop(login);
    c.script(&["reset-accounts", &prefix]);
}

/// A resource on `auto` takes the newest dialect its slurmrestd serves: v0.0.42 on 24.11,
/// v0.0.38 on the 22.05 of scripts/slurm.sh.
#[tokio::test]
async fn auto_picks_each_clusters_dialect() {
    let Some(c) = cluster() else { return };
    let on = |base_url: &str, token_file: &str, user: &str, cluster: &str| {
        Slurm::new(
            &Settings {
                base_url: base_url.into(),
                token_file: token_file.into(),
                token_user: user.into(),
                ..Settings::default()
            },
            cluster,
        )
        .unwrap()
    };
    let new = on(&c.tcp_url, &c.token_file, &c.user, &c.cluster);
    assert_eq!(new.dialect().await.unwrap(), Dialect::V0042);
    let pinned = on(&c.socket_url, &c.token_file, &c.user, &c.cluster)
        .with_dialect(DialectChoice::Pinned(Dialect::V0038));
    assert_eq!(pinned.dialect().await.unwrap(), Dialect::V0038);
    match std::env::var("HATCHERY_SLURM_URL") {
        Ok(old_url) if !old_url.is_empty() => {
            let old = on(&old_url, "", "", "ci");
            assert_eq!(old.dialect().await.unwrap(), Dialect::V0038);
        }
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI brings Slurm 22.05 up too and sets HATCHERY_SLURM_URL"
            );
            eprintln!("HATCHERY_SLURM_URL is not set: the 22.05 half is skipped");
        }
    }
}

/// Bad settings on the resource page: each is told by name, in the admin's language, and
/// nothing is saved.
#[tokio::test]
async fn the_resource_page_tells_what_is_wrong_and_saves_nothing() {
    let Some(c) = cluster() else { return };
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let mut admin = app.sign_in("admin@park.cn", "correct horse battery").await;
    let bad_token = std::env::temp_dir().join(format!("hatchery-bad-jwt-{}", std::process::id()));
    std::fs::write(&bad_token, "SLURM_JWT=eyJnot-a-token\n").unwrap();
    let bad_token = bad_token.display().to_string();
    let old_url = std::env::var("HATCHERY_SLURM_URL").unwrap_or_default();
    let good = [
        ("name", "Turing H100 (24.11)"),
        ("gpu_model", "H100"),
        ("backend", "slurm"),
        ("cluster", c.cluster.as_str()),
        ("account_pattern", "hcb-{id}"),
        ("base_url", c.socket_url.as_str()),
        ("token_file", c.token_file.as_str()),
        ("token_user", c.user.as_str()),
        ("dialect", "auto"),
        ("repair_mode", "approve"),
        ("parent_account", ""),
        ("enforcement", "qos"),
    ];
    let mut cases: Vec<(&str, &str, &str)> = vec![
        ("base_url", "http://127.0.0.1:9", "error.slurm_unreachable"),
        (
            "base_url",
            "unix:///nonexistent/slurmrestd.sock",
            "error.slurm_unreachable",
        ),
        ("token_file", &bad_token, "error.slurm_token_refused"),
        (
            "token_file",
            "/nonexistent/slurm.jwt",
            "error.slurm_token_file",
        ),
        ("cluster", "nope", "error.slurm_cluster_unknown"),
        // 24.11 serves v0.0.40-42, not v0.0.38.
        ("dialect", "v0038", "error.slurm_dialect_not_served"),
        ("dialect", "v0.0.42", "error.dialect_invalid"),
        // 24.11 serves no v0.0.43 (25.05 does).
        ("dialect", "v0043", "error.slurm_dialect_not_served"),
        (
            "parent_account",
            "hcb-no-such-parent",
            "error.slurm_parent_unknown",
        ),
        (
            "parent_account",
            "Park Accounts",
            "error.parent_account_invalid",
        ),
        ("enforcement", "fairshare", "error.enforcement_invalid"),
    ];
    if !old_url.is_empty() {
        // 22.05 serves v0.0.38 only.
        cases.push(("base_url", &old_url, "error.slurm_dialect_not_served"));
    }
    for (field, value, key) in cases {
        let mut fields = good.to_vec();
        for f in fields.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        if field == "base_url" && value == old_url {
            fields.retain(|f| !matches!(f.0, "token_file" | "token_user"));
            fields.iter_mut().for_each(|f| {
                if f.0 == "dialect" {
                    f.1 = "v0042";
                }
            });
        }
        let t = std::time::Instant::now();
        let res = app
            .post_form("/api/save_resource", "/admin", &fields, &mut admin)
            .await;
        assert_eq!(res.error_key(), key, "{field}={value}");
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "{field}={value}"
        );
        assert_eq!(
            resource::Entity::find().all(app.db()).await.unwrap().len(),
            0,
            "{field}={value}"
        );
    }
    // A fixed token that slurmrestd refuses is told on the secret's field.
    let mut fixed = good.to_vec();
    fixed.retain(|f| f.0 != "token_file");
    fixed.push(("secret", "eyJnot-a-token"));
    let res = app
        .post_form("/api/save_resource", "/admin", &fixed, &mut admin)
        .await;
    assert_eq!(res.error_key(), "error.slurm_token_refused");
    match res.error_param() {
        Some(domain::error::AppError::Invalid { field, .. }) => assert_eq!(field, "secret"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(&bad_token).unwrap();
    // And good settings are saved, pinned or not.
    let mut pinned = good.to_vec();
    pinned.iter_mut().for_each(|f| {
        if f.0 == "dialect" {
            f.1 = "v0042";
        }
    });
    let res = app
        .post_form("/api/save_resource", "/admin", &pinned, &mut admin)
        .await;
    assert_eq!(
        res.location(),
        "/admin/resources?notice=saved",
        "{:?}",
        res.error_param()
    );
}

/// A startup whose team has no cluster login yet still gets its account and QOS; its rename
/// reaches the account; a freeze leaves the cap at 0.
#[tokio::test]
async fn a_team_without_cluster_logins_still_gets_its_account_and_qos() {
    let Some(c) = cluster() else { return };
    let prefix = format!("hcn{:05}", rand::random::<u32>() % 100_000);
    let slurm = Slurm::new(&c.settings(), &c.cluster)
        .unwrap()
        .with_dialect(DialectChoice::Pinned(Dialect::V0042));
    let account = format!("{prefix}-1");
    let mut desired = Desired {
        account: account.clone(),
        organization: "No Logins AI".into(),
        limit_minutes: 120,
        members: Vec::new(),
        freeze: false,
    };
    slurm.apply(&desired, "k1").await.unwrap();
    let remote = slurm
        .read(&account)
        .await
        .unwrap()
        .expect("the account exists");
    assert_eq!((remote.limit_minutes, remote.members.len()), (Some(120), 0));
    assert_eq!(
        c.qos(&account),
        format!("{account}|DenyOnLimit,NoDecay|gres/gpu=120")
    );
    desired.organization = "Renamed AI".into();
    slurm.apply(&desired, "k2").await.unwrap();
    assert_eq!(
        c.client(
            "sacctmgr",
            &[
                "-nP",
                "show",
                "account",
                &account,
                "format=account,descr,org"
            ]
        ),
        format!("{account}|Hatchery: Renamed AI|Renamed AI")
    );
    slurm.freeze(&account, "k3").await.unwrap();
    assert!(slurm.read(&account).await.unwrap().unwrap().is_frozen());
    c.script(&["reset-accounts", &prefix]);
}

/// Many startups are written in a few calls (lists), each read back, changed together, and a
/// batch that changes nothing only reads.
#[tokio::test]
async fn many_accounts_are_written_in_a_few_calls() {
    let Some(c) = cluster() else { return };
    let prefix = format!("hcb{:05}", rand::random::<u32>() % 100_000);
    let slurm = Slurm::new(&c.settings(), &c.cluster)
        .unwrap()
        .with_dialect(DialectChoice::Pinned(Dialect::V0042));
    let shared = format!("{prefix}s");
    let mut all: Vec<Desired> = (1..=40)
        .map(|i| {
            let mut members = match i % 4 {
                0 => Vec::new(),
                _ => vec![format!("{prefix}u{i}")],
            };
            if i % 5 == 0 {
                members.push(shared.clone());
            }
            members.sort();
            Desired {
                account: format!("{prefix}-{i}"),
                organization: format!("Batch {i} AI"),
                limit_minutes: 60 + i,
                members,
                freeze: false,
            }
        })
        .collect();
    let check = |held: &[domain::cluster::backend::Remote], all: &[Desired]| {
        assert_eq!(held.len(), all.len());
        for d in all {
            let r = held.iter().find(|r| r.account == d.account).unwrap();
            if d.freeze {
                assert!(r.is_frozen(), "{r:?}");
            } else {
                assert_eq!(
                    (r.limit_minutes, &r.members, r.cap_flags_missing.len()),
                    (Some(d.limit_minutes), &d.members, 0),
                    "{}",
                    d.account
                );
            }
        }
    };

    let before = slurm.requests();
    let outcomes = slurm.apply_batch(&all).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let calls = slurm.requests() - before;
    assert!(calls <= 12, "{calls} calls for 40 new accounts");
    check(&slurm.accounts(&format!("{prefix}-")).await.unwrap(), &all);
    // As sacctmgr shows them: each account its own name, its QOS with the flags, attached as
    // the only one and the default; a member of two startups keeps the first as default.
    let seventh = &all[6].account;
    assert_eq!(
        c.client(
            "sacctmgr",
            &[
                "-nP",
                "show",
                "account",
                seventh,
                "format=account,descr,org"
            ]
        ),
        format!("{seventh}|Hatchery: Batch 7 AI|Batch 7 AI")
    );
    assert_eq!(
        c.qos(seventh),
        format!("{seventh}|DenyOnLimit,NoDecay|gres/gpu=67")
    );
    assert_eq!(
        c.account_qos(seventh),
        format!("{seventh}|{seventh}|{seventh}")
    );
    assert_eq!(
        c.client(
            "sacctmgr",
            &["-nP", "show", "user", &shared, "format=user,defaultaccount"]
        ),
        format!("{shared}|{prefix}-5")
    );

    // Changed together: a rename, a top-up, a member leaves, one joins, a freeze.
    all[0].organization = "Renamed AI".into();
    all[1].limit_minutes += 10;
    all[2].members.clear();
    all[3].members.push(format!("{prefix}v4"));
    all[3].members.sort();
    all[4] = Desired::frozen(&all[4].account);
    let before = slurm.requests();
    let outcomes = slurm.apply_batch(&all).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let calls = slurm.requests() - before;
    assert!(calls <= 15, "{calls} calls for 5 changes among 40 accounts");
    check(&slurm.accounts(&format!("{prefix}-")).await.unwrap(), &all);
    assert_eq!(
        c.client(
            "sacctmgr",
            &[
                "-nP",
                "show",
                "account",
                &all[0].account,
                "format=descr,org"
            ]
        ),
        "Hatchery: Renamed AI|Renamed AI"
    );

    // Nothing to change: reads only (the accounts' rows, QOS and names, and the read-back).
    let before = slurm.requests();
    let outcomes = slurm.apply_batch(&all).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(slurm.requests() - before, 5);
    c.script(&["reset-accounts", &prefix]);
}

/// The association-limit way, under a parent account of the park's: the cap is the account
/// row's GrpTRESMins, no QOS is made, drift is seen and repaired; a parent that does not exist
/// is told before anything is saved.
#[tokio::test]
async fn an_association_cap_under_a_parent_account() {
    let Some(c) = cluster() else { return };
    let prefix = format!("hcp{:05}", rand::random::<u32>() % 100_000);
    let parent = format!("{prefix}-park");
    c.client(
        "sacctmgr",
        &[
            "-i",
            "add",
            "account",
            &parent,
            &format!("cluster={}", c.cluster),
            "description=park",
            "organization=park",
        ],
    );
    let settings = Settings {
        parent_account: parent.clone(),
        enforcement: "association".into(),
        ..c.settings()
    };
    let slurm = Slurm::new(&settings, &c.cluster).unwrap();
    assert_eq!(slurm.probe().await, Ok(Dialect::V0042));
    let desired = |i: i64| Desired {
        account: format!("{prefix}-{i}"),
        organization: format!("Assoc {i} AI"),
        limit_minutes: 90 + i,
        members: vec![format!("{prefix}u{i}")],
        freeze: false,
    };
    let first = desired(1);
    slurm.apply(&first, "k1").await.unwrap();
    let rows = |account: &str| {
        c.client(
            "sacctmgr",
            &[
                "-nP",
                "show",
                "assoc",
                "where",
                &format!("account={account}"),
                "format=account,user,parentname,grptresmins",
            ],
        )
    };
    let own = format!("{}||{parent}|gres/gpu=91", first.account);
    assert!(
        rows(&first.account).lines().any(|l| l == own),
        "{}",
        rows(&first.account)
    );
    assert_eq!(c.qos(&first.account), "", "no QOS of Hatchery's");
    // An operator raises the cap by hand: a read sees it, an apply puts it back.
    c.client(
        "sacctmgr",
        &[
            "-i",
            "modify",
            "account",
            &first.account,
            "set",
            "grptresmins=gres/gpu=999",
        ],
    );
    let read = slurm.read(&first.account).await.unwrap().unwrap();
    assert_eq!(read.limit_minutes, Some(999));
    slurm.apply(&first, "k2").await.unwrap();
    let read = slurm.read(&first.account).await.unwrap().unwrap();
    assert_eq!(
        (read.limit_minutes, read.members),
        (Some(91), first.members)
    );
    // Accounts made in one batch are under the parent too, each with its own cap.
    let batch = [desired(2), desired(3)];
    let outcomes = slurm.apply_batch(&batch).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    for d in &batch {
        let own = format!("{}||{parent}|gres/gpu={}", d.account, d.limit_minutes);
        assert!(
            rows(&d.account).lines().any(|l| l == own),
            "{}",
            rows(&d.account)
        );
    }
    let wrong = Slurm::new(
        &Settings {
            parent_account: format!("{prefix}-nope"),
            ..c.settings()
        },
        &c.cluster,
    )
    .unwrap();
    assert_eq!(wrong.probe().await, Err(ProbeError::UnknownParent));
    c.script(&["reset-accounts", &prefix]);
}

/// The token file an operator renews from cron: a token that expired mid-run is refused, and
/// once the file holds a new one the next call reads it again and succeeds.
#[tokio::test]
async fn a_token_renewed_mid_run_is_read_again() {
    let Some(c) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slurm.jwt");
    std::fs::write(&file, c.script(&["token", &c.user, "3"])).unwrap();
    let slurm = Slurm::new(
        &Settings {
            token_file: file.display().to_string(),
            ..c.settings()
        },
        &c.cluster,
    )
    .unwrap()
    .with_dialect(DialectChoice::Pinned(Dialect::V0042));
    assert_eq!(slurm.read("hct-none-1").await.unwrap(), None);
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    // Expired, and the file not renewed yet: refused, as a token problem.
    let e = slurm.read("hct-none-1").await.unwrap_err();
    assert!(
        matches!(&e, SyncError::Refused(m) if m.contains("token")),
        "{e:?}"
    );
    // Renewed: refused once with the old token, read again, and answered.
    std::fs::write(&file, c.script(&["token", &c.user, "600"])).unwrap();
    let before = slurm.requests();
    assert_eq!(slurm.read("hct-none-1").await.unwrap(), None);
    assert_eq!(slurm.requests() - before, 2);
}

/// Starts slurmrestd again when dropped, even if the test fails while it is stopped.
struct RestartRest<'a>(&'a Cluster);

impl Drop for RestartRest<'_> {
    fn drop(&mut self) {
        let _ = Command::new("bash").args([SCRIPT, "rest-start"]).output();
        let _ = self.0;
    }
}

/// slurmrestd stopped for a minute: the change waits in the outbox (retried, not dead), and
/// once slurmrestd is back it is applied, once. Then a rename reaches the account.
#[tokio::test]
async fn a_change_waits_while_slurmrestd_is_down_and_applies_once_after() {
    let Some(c) = cluster() else { return };
    let prefix = format!("hcd{:05}", rand::random::<u32>() % 100_000);
    let app = TestApp::new().await;
    app.user_with_roles("admin@park.cn", "Admin", &[Role::Admin])
        .await;
    let admin = app.actor("admin@park.cn").await;
    let login = format!("{prefix}u");
    let startup = app
        .incubating_startup("li@deeppark.cn", "Li Lei", "DeepPark AI", Some(&login))
        .await;
    let now = Utc::now();
    let settings = serde_json::to_string(&c.settings()).unwrap();
    let r = domain::credits::entity::resource::ActiveModel {
        name: sea_orm::Set("Turing H100 (24.11)".into()),
        gpu_model: sea_orm::Set("H100".into()),
        backend: sea_orm::Set(domain::credits::BackendKind::Slurm),
        cluster: sea_orm::Set(c.cluster.clone()),
        account_pattern: sea_orm::Set(format!("{prefix}-{{id}}")),
        settings: sea_orm::Set(settings),
        repair_mode: sea_orm::Set(domain::credits::RepairMode::Approve),
        dialect: sea_orm::Set("auto".into()),
        created_at: sea_orm::Set(now),
        updated_at: sea_orm::Set(now),
        ..Default::default()
    };
    let r = sea_orm::ActiveModelTrait::insert(r, app.db())
        .await
        .unwrap();
    let fmt = |t: chrono::DateTime<Utc>| domain::time::Zone::default().input_value(&t);
    let g = domain::credits::grants::create(
        app.db(),
        &app.state.settings,
        &admin,
        domain::credits::grants::GrantInput {
            startup_id: startup,
            resource_id: r.id,
            gpu_hours: "10".into(),
            valid_from: fmt(now - Duration::hours(1)),
            valid_until: fmt(now + Duration::days(30)),
            reason: "Seed".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    sync(&app).await;

    let _restart = RestartRest(&c);
    c.script(&["rest-stop"]);
    let stopped = std::time::Instant::now();
    domain::credits::grants::adjust(app.db(), &app.state.settings, &admin, g, "5", "top-up")
        .await
        .unwrap();
    let newest = || async {
        sync_job::Entity::find()
            .order_by_desc(sync_job::Column::Id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
    };
    let mut passes = 0;
    while stopped.elapsed() < std::time::Duration::from_secs(60) {
        // The worker's pass, each at the job's next attempt (its backoff is not waited out).
        let due = newest().await.next_attempt_at.max(Utc::now());
        domain::cluster::sync::run_due(app.db(), &domain::cluster::sync::POLICY, due, 10)
            .await
            .unwrap();
        let job = newest().await;
        assert_eq!(
            job.status,
            domain::credits::SyncStatus::Pending,
            "{:?}",
            job.last_error
        );
        let error = job.last_error.unwrap_or_default();
        assert!(error.contains("cannot reach"), "{error}");
        passes += 1;
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    }
    assert!(passes >= 5, "{passes} passes");
    c.script(&["rest-start"]);
    let job = sync(&app).await;
    assert_eq!(job.attempts, passes + 1);
    // Applied once: two changes, two jobs, both done; the cluster holds the ledger's cap.
    let jobs = sync_job::Entity::find().all(app.db()).await.unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.status.as_str()).collect::<Vec<_>>(),
        ["done", "done"]
    );
    let g = grant::Entity::find_by_id(g)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let backend = Backend::for_resource(&r).unwrap();
    let remote = backend
        .read(&format!("{prefix}-{startup}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        remote.limit_minutes,
        Some(domain::cluster::allocation::limit_of(&[g]))
    );
    assert_eq!(remote.limit_minutes, Some(15 * 60));
    assert_eq!(remote.members, [login]);

    // A name changed behind Hatchery's back is drift; the founder's rename queues the sync that
    // takes the name to the account.
    let report = domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap();
    assert!(report.drifts.is_empty(), "{:?}", report.drifts);
    use domain::startups::entity::startup as s;
    let row = s::Entity::find_by_id(startup)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut renamed: s::ActiveModel = row.into();
    renamed.name = sea_orm::Set("Quietly Renamed AI".into());
    sea_orm::ActiveModelTrait::update(renamed, app.db())
        .await
        .unwrap();
    let report = domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap();
    assert_eq!(
        report
            .drifts
            .iter()
            .map(|d| (d.kind.as_str(), d.desired.as_str()))
            .collect::<Vec<_>>(),
        [("organization", "Quietly Renamed AI")]
    );
    let mut founder = app.sign_in("li@deeppark.cn", "correct horse battery").await;
    let res = app
        .post_form(
            "/api/save_startup",
            "/startup",
            &[
                ("name", "Renamed Park AI"),
                ("sector", "language"),
                ("stage", "seed"),
                ("team_size", "5"),
                ("founders", "Li Lei"),
            ],
            &mut founder,
        )
        .await;
    assert_eq!(res.location(), "/startup?notice=saved");
    sync(&app).await;
    let report = domain::cluster::reconcile::compare(app.db(), r.id)
        .await
        .unwrap();
    assert!(report.drifts.is_empty(), "{:?}", report.drifts);
    let account = format!("{prefix}-{startup}");
    assert_eq!(
        c.client(
            "sacctmgr",
            &["-nP", "show", "account", &account, "format=descr,org"]
        ),
        "Hatchery: Renamed Park AI|Renamed Park AI"
    );
    c.script(&["reset-accounts", &prefix]);
}

/// The crash test of 22.05 (see common::slurm), on 24.11: the cluster equals the ledger.
#[tokio::test]
async fn killing_hatchery_mid_sync_loses_nothing_on_2411() {
    let Some(c) = cluster() else { return };
    let prefix = format!("hcx{:05}", rand::random::<u32>() % 100_000);
    common::slurm::kill_mid_sync_and_compare(
        &c.cluster,
        serde_json::to_value(c.settings()).unwrap(),
        &prefix,
    )
    .await;
    c.script(&["reset-accounts", &prefix]);
}
