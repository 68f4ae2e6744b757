//! Reconciliation's periodic pass: automatic repair, or a report that waits for an admin.
use super::*;

/// Sets how a resource repairs drift (`auto` or `approve`).
async fn set_repair_mode(app: &TestApp, resource_id: i64, mode: &str) {
    let r = resource::Entity::find_by_id(resource_id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut a = r.into_active_model();
    a.repair_mode = Set(mode.parse().unwrap());
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
