//! The published HTTP allocation contract against its far side (`platform`).
use super::*;

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
