//! The ledger under random operations: its invariant after every step.
use super::*;

/// Random sequences of every operation; after each one, for every grant, the ledger and the
/// counters agree and granted + adjusted = consumed + forfeited + remaining; and for every
/// startup's allocation, the newest sync job carries exactly what the database wants now, so
/// no operation changed a cap without telling the cluster.
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
                        funding: String::new(),
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
        let resource = resource::Entity::find_by_id(r)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        for (startup, wanted) in domain::cluster::allocation::desired_all(&db, &resource)
            .await
            .unwrap()
        {
            let told = sync_job::Entity::find()
                .filter(sync_job::Column::StartupId.eq(startup))
                .filter(sync_job::Column::ResourceId.eq(r))
                .order_by_desc(sync_job::Column::Id)
                .one(&db)
                .await
                .unwrap()
                .map(|j| {
                    serde_json::from_str::<domain::cluster::backend::Desired>(&j.desired).unwrap()
                });
            assert_eq!(
                told.as_ref(),
                Some(&wanted),
                "step {step}: op {op} left the cluster behind"
            );
        }
    }
    let released = tranche::Entity::find()
        .filter(tranche::Column::Status.eq(domain::startups::incubation::TrancheStatus::Released))
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
