//! Grants: issuing, adjusting, using, suspending, revoking and expiring one, each a focused
//! test; the ledger, the cluster's cap (the newest sync job) and the audit move with each.
use super::*;

/// A `none` resource and a grant of 1,000 GPU-hours on it to the park's startup; the grant.
async fn granted(p: &mut Park) -> (i64, grant::Model) {
    let r = add_resource(p, "Turing H100", "none", "", "").await;
    let startup = p.startup;
    let res = grant_hours(p, startup, r, "1,000").await;
    let g = grant::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        res.location(),
        format!("/admin/grants/{}?notice=grant_created", g.id)
    );
    (r, g)
}

async fn reload(p: &Park, id: i64) -> grant::Model {
    grant::Entity::find_by_id(id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
}

/// Imports one finished job of `minutes` GPU-minutes; whether it was new.
async fn use_minutes(p: &Park, resource: i64, job: &str, minutes: i64) -> bool {
    domain::credits::grants::record_usage(
        p.app.db(),
        &p.app.state.settings,
        p.startup,
        resource,
        job,
        minutes,
        Utc::now(),
    )
    .await
    .unwrap()
}

async fn move_grant(p: &mut Park, id: i64, to: &str, note: &str) -> common::TestResponse {
    let id = id.to_string();
    post(
        p,
        "/api/grant_transition",
        &[("id", &id), ("to", to), ("note", note)],
    )
    .await
}

async fn waiting_jobs(p: &Park) -> usize {
    sync_job::Entity::find()
        .filter(sync_job::Column::Status.eq(domain::credits::SyncStatus::Pending))
        .count(p.app.db())
        .await
        .unwrap() as usize
}

#[tokio::test]
async fn bad_grants_are_refused_and_change_nothing() {
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
}

#[tokio::test]
async fn issuing_a_grant_writes_the_ledger_queues_the_cap_and_tells_the_team() {
    let mut p = park().await;
    let (_, g) = granted(&mut p).await;
    assert_eq!((g.granted_minutes, g.remaining_minutes()), (60_000, 60_000));
    let job = newest_job(&p.app).await;
    assert_eq!(job.status, domain::credits::SyncStatus::Pending);
    assert_eq!(desired_limit(&job), 60_000);
    let d: domain::cluster::backend::Desired = serde_json::from_str(&job.desired).unwrap();
    assert_eq!(d.account, format!("startup-{}", p.startup));
    assert_eq!(d.members, vec!["lilei".to_string()]);
    assert_eq!(
        waiting_jobs(&p).await,
        1,
        "one job for the grant's ledger entry"
    );
    let mail = p.app.last_mail_to("li@deeppark.cn").await;
    assert_eq!(mail.kind.as_str(), "grant");
    assert!(
        mail.body_text.contains("1,000 GPU-hours"),
        "{}",
        mail.body_text
    );
}

#[tokio::test]
async fn adjustments_need_a_reason_and_keep_the_balance_at_or_above_zero() {
    let mut p = park().await;
    let (_, g) = granted(&mut p).await;
    let id = g.id.to_string();
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
    assert_eq!(reload(&p, g.id).await.adjusted_minutes, 0);
    let res = post(
        &mut p,
        "/api/adjust_grant",
        &[("id", &id), ("gpu_hours", "-100"), ("note", "Shared node")],
    )
    .await;
    assert_eq!(res.location(), format!("/admin/grants/{id}?notice=saved"));
    let g = reload(&p, g.id).await;
    assert_eq!(
        (g.adjusted_minutes, g.remaining_minutes()),
        (-6_000, 54_000)
    );
    assert_eq!(desired_limit(&newest_job(&p.app).await), 54_000);
}

#[tokio::test]
async fn usage_is_imported_once_per_job_and_the_cap_holds() {
    let mut p = park().await;
    let (r, g) = granted(&mut p).await;
    assert!(use_minutes(&p, r, "ci:1:0", 600).await);
    assert!(
        !use_minutes(&p, r, "ci:1:0", 600).await,
        "the same job twice"
    );
    let g = reload(&p, g.id).await;
    assert_eq!((g.consumed_minutes, g.remaining_minutes()), (600, 59_400));
    // Use within the grant leaves the cap where it was: the job waiting already carries it.
    assert_eq!(desired_limit(&newest_job(&p.app).await), 60_000);
    assert_eq!(waiting_jobs(&p).await, 1);
}

#[tokio::test]
async fn suspending_drops_the_cap_to_what_was_used_and_resuming_restores_it() {
    let mut p = park().await;
    let (r, g) = granted(&mut p).await;
    use_minutes(&p, r, "ci:1:0", 600).await;
    let res = move_grant(&mut p, g.id, "suspended", "Audit").await;
    assert_eq!(
        res.location(),
        format!("/admin/grants/{}?notice=saved", g.id)
    );
    assert_eq!(desired_limit(&newest_job(&p.app).await), 600);
    let res = move_grant(&mut p, g.id, "suspended", "").await;
    assert_eq!(res.error_key(), "error.grant_transition");
    let res = move_grant(&mut p, g.id, "sleeping", "").await;
    assert_eq!(res.error_key(), "error.grant_transition");
    move_grant(&mut p, g.id, "active", "").await;
    assert_eq!(desired_limit(&newest_job(&p.app).await), 60_000);
    // Older waiting jobs were replaced by the newest.
    assert_eq!(waiting_jobs(&p).await, 1);
}

#[tokio::test]
async fn revoking_forfeits_what_remains_and_closes_the_grant() {
    let mut p = park().await;
    let (r, g) = granted(&mut p).await;
    let id = g.id.to_string();
    post(
        &mut p,
        "/api/adjust_grant",
        &[("id", &id), ("gpu_hours", "-100"), ("note", "Shared node")],
    )
    .await;
    use_minutes(&p, r, "ci:1:0", 600).await;
    let res = move_grant(&mut p, g.id, "revoked", "Left the park").await;
    assert_eq!(res.location(), format!("/admin/grants/{id}?notice=saved"));
    let res = move_grant(&mut p, g.id, "revoked", "").await;
    assert_eq!(res.error_key(), "error.already_revoked");
    let res = post(
        &mut p,
        "/api/adjust_grant",
        &[("id", &id), ("gpu_hours", "5"), ("note", "x")],
    )
    .await;
    assert_eq!(res.error_key(), "error.grant_closed");
    let g = reload(&p, g.id).await;
    assert_eq!(
        (
            g.status.as_str(),
            g.forfeited_minutes,
            g.remaining_minutes()
        ),
        ("revoked", 53_400, 0)
    );
    assert_eq!(desired_limit(&newest_job(&p.app).await), 600);
    assert_eq!(
        waiting_jobs(&p).await,
        1,
        "the forfeit and the state: one job"
    );
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
    assert_eq!(audit.len(), 3, "created, adjusted, revoked");
}

#[tokio::test]
async fn grant_pages_show_each_person_only_what_is_theirs() {
    let mut p = park().await;
    let (_, g) = granted(&mut p).await;
    let id = g.id.to_string();
    move_grant(&mut p, g.id, "revoked", "Left the park").await;
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
