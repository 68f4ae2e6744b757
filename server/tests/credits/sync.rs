//! The sync outbox: backoff, dead jobs and retries, several workers sharing the queue, and
//! cluster logins and team changes reaching the allocation.
use super::*;

#[tokio::test]
async fn failing_sync_backs_off_then_dies_and_admins_retry_it() {
    let mut p = park().await;
    // A cluster that went away after it was configured (the form refuses one that does not
    // answer): nothing listens on port 9 of loopback, every attempt fails to connect.
    let now = Utc::now();
    let r = resource::ActiveModel {
        name: Set("Turing H100".into()),
        gpu_model: Set("H100".into()),
        backend: Set(domain::credits::BackendKind::Slurm),
        cluster: Set("ci".into()),
        account_pattern: Set("startup-{id}".into()),
        settings: Set(r#"{"base_url":"http://127.0.0.1:9","secret":""}"#.into()),
        repair_mode: Set(domain::credits::RepairMode::Approve),
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
