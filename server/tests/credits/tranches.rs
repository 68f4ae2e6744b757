//! Tranches: released by a milestone's sign-off, cancelled when it is missed or the
//! incubation ends.
use super::*;

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
