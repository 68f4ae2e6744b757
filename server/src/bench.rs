//! `hatchery bench-reconcile`: how fast a whole resource is brought in step with a real cluster.
//! It loads N incubating startups, each with a founder (a cluster login) and a grant, compares
//! the resource with the cluster (every account missing), queues the repairs, applies them with
//! the sync workers, and compares again (nothing may differ).
use app::state::AppState;
use chrono::{Duration, Utc};
use domain::access::Actor;
use domain::auth::entity::user;
use domain::auth::Role;
use domain::credits::entity::{resource, sync_job};
use domain::startups::entity::{member, startup};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use std::time::Instant;

pub struct Options {
    pub startups: usize,
    pub slurm_url: String,
    pub cluster: String,
    pub prefix: String,
    pub workers: usize,
    pub token_file: String,
    pub token_user: String,
}

pub async fn reconcile(state: &AppState, o: Options) -> anyhow::Result<()> {
    let db = &state.db;
    let now = Utc::now();
    let admin = user::ActiveModel {
        email: Set(format!("bench-admin-{}@bench.invalid", o.prefix)),
        name: Set("Bench admin".into()),
        password_hash: Set("!".into()),
        locale: Set("en".into()),
        email_verified_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let actor = Actor {
        user_id: admin.id,
        email: admin.email.clone(),
        name: admin.name.clone(),
        roles: vec![Role::Admin],
        locale: domain::i18n::Locale::En,
        zone: domain::time::Zone::default(),
    };
    let r = resource::ActiveModel {
        name: Set(format!("Bench {}", o.prefix)),
        gpu_model: Set("H100".into()),
        backend: Set(wire::credits::BackendKind::Slurm),
        cluster: Set(o.cluster.clone()),
        account_pattern: Set(format!("{}-{{id}}", o.prefix)),
        settings: Set(serde_json::json!({
            "base_url": o.slurm_url,
            "secret": "",
            "token_file": o.token_file,
            "token_user": o.token_user,
        })
        .to_string()),
        repair_mode: Set(wire::credits::RepairMode::Approve),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;

    let t = Instant::now();
    for i in 0..o.startups {
        let founder = user::ActiveModel {
            email: Set(format!("founder{i}-{}@bench.invalid", o.prefix)),
            name: Set(format!("Founder {i}")),
            password_hash: Set("!".into()),
            locale: Set(if i % 2 == 0 { "en" } else { "zh-CN" }.into()),
            email_verified_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            cluster_login: Set(Some(format!("{}u{i}", o.prefix))),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let s = startup::ActiveModel {
            name: Set(format!("Bench startup {i}")),
            credit_code: Set(None),
            sector: Set(wire::startups::Sector::FoundationModels),
            stage: Set(wire::startups::Stage::Seed),
            team_size: Set(3),
            website: Set(None),
            founders: Set(format!("Founder {i}")),
            status: Set(domain::startups::incubation::StartupStatus::Incubating),
            created_by: Set(founder.id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        member::ActiveModel {
            startup_id: Set(s.id),
            user_id: Set(founder.id),
            role: Set(domain::startups::MemberRole::Founder),
            joined_at: Set(now),
        }
        .insert(db)
        .await?;
        let fmt = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
        domain::credits::grants::create(
            db,
            &state.settings,
            &actor,
            domain::credits::grants::GrantInput {
                startup_id: s.id,
                resource_id: r.id,
                gpu_hours: format!("{}", 100 + (i % 50) * 10),
                valid_from: fmt(now - Duration::days(1)),
                valid_until: fmt(now + Duration::days(180)),
                reason: "Benchmark".into(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    // Only reconciliation should put work in the queue.
    sync_job::Entity::delete_many().exec(db).await?;
    println!(
        "loaded {} startups with grants in {:.1} s",
        o.startups,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let report = domain::cluster::reconcile::compare(db, r.id)
        .await
        .map_err(|e| anyhow::anyhow!("compare: {e:?}"))?;
    let compare_cold = t.elapsed();
    let queued = domain::cluster::reconcile::repair(db, Some(&actor), &report)
        .await
        .map_err(|e| anyhow::anyhow!("repair: {e:?}"))?;
    let requests_before = slurm_requests();
    let mut tasks = Vec::new();
    for _ in 0..o.workers.max(1) {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            loop {
                match domain::cluster::sync::run_due(
                    &db,
                    &domain::cluster::sync::POLICY,
                    Utc::now(),
                    10,
                )
                .await
                {
                    Ok(0) => return n,
                    Ok(k) => n += k,
                    Err(e) => {
                        eprintln!("worker: {e:?}");
                        return n;
                    }
                }
            }
        }));
    }
    let mut applied = 0;
    for t in tasks {
        applied += t.await?;
    }
    let elapsed = t.elapsed();
    let requests = slurm_requests() - requests_before;
    let t2 = Instant::now();
    let after = domain::cluster::reconcile::compare(db, r.id)
        .await
        .map_err(|e| anyhow::anyhow!("compare: {e:?}"))?;
    let compare_warm = t2.elapsed();
    let failed = sync_job::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|j| j.status != domain::credits::SyncStatus::Done)
        .count();
    println!(
        "drift found: {} ({} accounts)",
        report.drifts.len(),
        report.accounts
    );
    println!("first comparison: {:.2} s", compare_cold.as_secs_f64());
    println!(
        "repairs queued {queued}, jobs run {applied}, not done {failed}, workers {}",
        o.workers
    );
    println!(
        "reconciled {} startups in {:.1} s: {:.1} jobs/s",
        o.startups,
        elapsed.as_secs_f64(),
        queued as f64 / elapsed.as_secs_f64()
    );
    println!(
        "REST calls to apply them: {requests} ({:.2} per startup)",
        requests as f64 / o.startups.max(1) as f64
    );
    println!(
        "second comparison: {} differences in {:.2} s",
        after.drifts.len(),
        compare_warm.as_secs_f64()
    );
    if failed > 0 || !after.drifts.is_empty() {
        anyhow::bail!("the cluster is not in step with the database");
    }
    Ok(())
}

fn slurm_requests() -> u64 {
    domain::cluster::backend::slurm::REQUESTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// A bare axum handler on the app's runtime, for the page benchmark's ceiling: what this
/// machine serves when a request does no work at all.
pub async fn ceiling(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "bare handler listening");
    axum::serve(listener, app).await?;
    Ok(())
}
