//! Reconciliation: compares what the database wants on a resource with what the cluster holds
//! (limit values, members, missing and orphan accounts) and repairs drift by queueing sync
//! jobs, at once or after an admin approves, as the resource says. An orphan account is
//! repaired by freezing it (no further use, no members), never by deleting it: on Slurm that
//! would also delete its usage history.
use super::allocation::{account_name, desired_all, startup_of_account};
use super::backend::{AllocationBackend, Backend, Desired};
use super::sync::{enqueue, enqueue_freeze};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::credits::entity::resource;
use crate::error::{AppError, AppResult};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use std::collections::HashMap;
use wire::auth::Role;
use wire::credits::{Drift, DriftKind, DriftReport};

/// The part of the account pattern before `{id}`: every account Hatchery names starts with it.
fn prefix_of(r: &resource::Model) -> String {
    r.account_pattern
        .split("{id}")
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Every difference between what the database wants on a resource and what the cluster holds:
/// missing accounts, limits (or a cap without its flags), organizations, members, and orphan
/// accounts that no startup's grants explain and that are not yet frozen.
fn drifts(
    r: &resource::Model,
    wanted: &[(i64, Desired)],
    remote: &[super::backend::Remote],
) -> Vec<Drift> {
    let remote: HashMap<&str, &super::backend::Remote> =
        remote.iter().map(|a| (a.account.as_str(), a)).collect();
    let mut drifts = Vec::new();
    for (sid, d) in wanted {
        match remote.get(d.account.as_str()) {
            None => drifts.push(Drift {
                startup_id: Some(*sid),
                account: d.account.clone(),
                kind: DriftKind::Missing,
                desired: format!("{} GPU-min", d.limit_minutes),
                remote: String::new(),
            }),
            Some(a) => {
                // A QOS cap without its flags (e.g. NO_DECAY) is no lifetime cap: drift too.
                if a.limit_minutes != Some(d.limit_minutes) || !a.cap_flags_missing.is_empty() {
                    let mut remote = a
                        .limit_minutes
                        .map(|m| format!("{m} GPU-min"))
                        .unwrap_or_else(|| "∞".into());
                    if !a.cap_flags_missing.is_empty() {
                        remote = format!("{remote}, without {}", a.cap_flags_missing.join(", "));
                    }
                    drifts.push(Drift {
                        startup_id: Some(*sid),
                        account: d.account.clone(),
                        kind: DriftKind::Limit,
                        desired: format!("{} GPU-min", d.limit_minutes),
                        remote,
                    });
                }
                // An account made by accounts_association has its organization in lower case.
                if let Some(org) = &a.organization {
                    if org.to_lowercase() != d.organization.to_lowercase() {
                        drifts.push(Drift {
                            startup_id: Some(*sid),
                            account: d.account.clone(),
                            kind: DriftKind::Organization,
                            desired: d.organization.clone(),
                            remote: org.clone(),
                        });
                    }
                }
                if a.members != d.members {
                    drifts.push(Drift {
                        startup_id: Some(*sid),
                        account: d.account.clone(),
                        kind: DriftKind::Members,
                        desired: d.members.join(", "),
                        remote: a.members.join(", "),
                    });
                }
            }
        }
    }
    let known: std::collections::HashSet<&str> =
        wanted.iter().map(|(_, d)| d.account.as_str()).collect();
    // A frozen orphan is as a repair leaves it: no drift.
    let mut orphans: Vec<&&super::backend::Remote> = remote
        .values()
        .filter(|a| !known.contains(a.account.as_str()) && !a.is_frozen())
        .collect();
    orphans.sort_by(|a, b| a.account.cmp(&b.account));
    for a in orphans {
        drifts.push(Drift {
            // The startup the pattern names: its freeze job is serialised with any later
            // grant's. None (not repairable) for a name the pattern cannot give.
            startup_id: startup_of_account(r, &a.account),
            account: a.account.clone(),
            kind: DriftKind::Orphan,
            desired: String::new(),
            remote: a
                .limit_minutes
                .map(|m| format!("{m} GPU-min"))
                .unwrap_or_else(|| "∞".into()),
        });
    }
    drifts
}

/// Reads the cluster and lists every difference from the database.
pub async fn compare(db: &DatabaseConnection, resource_id: i64) -> AppResult<DriftReport> {
    let r = resource::Entity::find_by_id(resource_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let backend =
        Backend::for_resource(&r).map_err(|_| AppError::conflict("error.cluster_unreachable"))?;
    let wanted = desired_all(db, &r).await?;
    let remote = backend.accounts(&prefix_of(&r)).await.map_err(|e| {
        tracing::warn!(resource = r.id, error = %e, "reconciliation could not read the cluster");
        AppError::conflict("error.cluster_unreachable")
    })?;
    let drifts = drifts(&r, &wanted, &remote);
    Ok(DriftReport {
        resource_id: r.id,
        resource_name: r.name.clone(),
        repair_mode: r.repair_mode,
        accounts: wanted.len(),
        drifts,
    })
}

/// The startups a repair queues a job for, each once and in order: those whose allocation
/// drifted, or (`orphans`) those whose orphan account is frozen. A drift without a startup is
/// only reported.
fn targets(report: &DriftReport, orphans: bool) -> Vec<i64> {
    let mut ids: Vec<i64> = report
        .drifts
        .iter()
        .filter(|d| (d.kind == DriftKind::Orphan) == orphans)
        .filter_map(|d| d.startup_id)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Queues a sync job for every startup whose allocation drifted, and one freezing each orphan
/// account that the resource's pattern names; returns how many jobs. An orphan whose name the
/// pattern cannot give is someone else's account: it is only reported.
pub async fn repair(
    db: &DatabaseConnection,
    actor: Option<&Actor>,
    report: &DriftReport,
) -> AppResult<usize> {
    let r = resource::Entity::find_by_id(report.resource_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let (startups, orphans) = (targets(report, false), targets(report, true));
    let txn = crate::txn::begin(db).await?;
    for sid in &startups {
        enqueue(&txn, &r, *sid).await?;
    }
    for sid in &orphans {
        enqueue_freeze(&txn, &r, *sid).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: actor.map(|a| a.user_id),
            action: "resource.reconciled",
            entity_type: "resource",
            entity_id: r.id.to_string(),
            before: Some(json!({"drifts": report.drifts.len()})),
            after: Some(json!({
                "queued": startups.len(),
                "frozen": orphans.iter().map(|sid| account_name(&r, *sid)).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(startups.len() + orphans.len())
}

/// The admin's view: the live comparison for one resource.
pub async fn report(
    db: &DatabaseConnection,
    actor: &Actor,
    resource_id: i64,
) -> AppResult<DriftReport> {
    actor.require(Role::Admin)?;
    compare(db, resource_id).await
}

/// The admin approves: compare again (the cluster may have moved) and repair.
pub async fn approve(db: &DatabaseConnection, actor: &Actor, resource_id: i64) -> AppResult<usize> {
    actor.require(Role::Admin)?;
    let report = compare(db, resource_id).await?;
    repair(db, Some(actor), &report).await
}

/// The periodic pass: resources that repair automatically are repaired; the others are
/// compared and their drift logged until an admin approves.
pub async fn pass(db: &DatabaseConnection) -> AppResult<usize> {
    let resources = resource::Entity::find()
        .filter(resource::Column::Backend.ne(wire::credits::BackendKind::TrackOnly))
        .all(db)
        .await?;
    let mut queued = 0;
    for r in resources {
        match compare(db, r.id).await {
            Ok(report) if report.drifts.is_empty() => {}
            Ok(report) if r.repair_mode == wire::credits::RepairMode::Auto => {
                queued += repair(db, None, &report).await?
            }
            Ok(report) => {
                tracing::warn!(
                    resource = r.id,
                    drifts = report.drifts.len(),
                    "drift awaits an admin"
                )
            }
            Err(e) => tracing::warn!(resource = r.id, error = ?e, "reconciliation skipped"),
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::{drifts, prefix_of, targets};
    use crate::cluster::backend::{Desired, Remote};
    use crate::credits::entity::resource;
    use crate::credits::{Drift, DriftKind, DriftReport};

    fn resource() -> resource::Model {
        resource::Model {
            id: 3,
            name: "H100".into(),
            gpu_model: "H100".into(),
            backend: wire::credits::BackendKind::Slurm,
            cluster: "ci".into(),
            account_pattern: "hx-{id}".into(),
            settings: "{}".into(),
            repair_mode: wire::credits::RepairMode::Approve,
            dialect: "auto".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            domestic: false,
            provider: String::new(),
            provider_credit_code: None,
        }
    }

    fn wanted(sid: i64, limit: i64, members: &[&str]) -> (i64, Desired) {
        (
            sid,
            Desired {
                account: format!("hx-{sid}"),
                organization: "Acme Robotics".into(),
                limit_minutes: limit,
                members: members.iter().map(|m| m.to_string()).collect(),
                freeze: false,
            },
        )
    }

    /// The account as the database wants it, held by the cluster.
    fn held(d: &(i64, Desired)) -> Remote {
        Remote {
            account: d.1.account.clone(),
            limit_minutes: Some(d.1.limit_minutes),
            members: d.1.members.clone(),
            cap_flags_missing: Vec::new(),
            organization: Some(d.1.organization.clone()),
        }
    }

    fn kinds(found: &[Drift]) -> Vec<(&str, &str, &str)> {
        found
            .iter()
            .map(|d| (d.kind.as_str(), d.desired.as_str(), d.remote.as_str()))
            .collect()
    }

    #[test]
    fn an_account_in_step_has_no_drift() {
        let w = wanted(1, 5400, &["ada", "bob"]);
        let mut r = held(&w);
        // accounts_association stores the organization in lower case.
        r.organization = Some("acme robotics".into());
        assert_eq!(
            drifts(
                &resource(),
                std::slice::from_ref(&w),
                std::slice::from_ref(&r)
            ),
            Vec::<Drift>::new()
        );
        // A backend that does not report organizations has none to compare.
        r.organization = None;
        assert_eq!(drifts(&resource(), &[w], &[r]), Vec::<Drift>::new());
    }

    #[test]
    fn nothing_wanted_and_nothing_held_is_no_drift() {
        assert_eq!(drifts(&resource(), &[], &[]), Vec::<Drift>::new());
    }

    #[test]
    fn a_missing_account_is_reported_with_its_cap() {
        let found = drifts(&resource(), &[wanted(1, 5400, &[])], &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].startup_id, Some(1));
        assert_eq!(found[0].account, "hx-1");
        assert_eq!(kinds(&found), vec![("missing", "5400 GPU-min", "")]);
    }

    #[test]
    fn a_different_or_absent_limit_is_drift() {
        let w = wanted(1, 5400, &[]);
        let mut r = held(&w);
        r.limit_minutes = Some(5399);
        assert_eq!(
            kinds(&drifts(
                &resource(),
                std::slice::from_ref(&w),
                std::slice::from_ref(&r)
            )),
            vec![("limit", "5400 GPU-min", "5399 GPU-min")]
        );
        r.limit_minutes = None;
        assert_eq!(
            kinds(&drifts(&resource(), &[w], &[r])),
            vec![("limit", "5400 GPU-min", "∞")]
        );
    }

    #[test]
    fn a_cap_without_its_flags_is_drift_even_at_the_right_value() {
        let w = wanted(1, 5400, &[]);
        let mut r = held(&w);
        r.cap_flags_missing = vec!["NO_DECAY".into(), "DENY_ON_LIMIT".into()];
        assert_eq!(
            kinds(&drifts(&resource(), &[w], &[r])),
            vec![(
                "limit",
                "5400 GPU-min",
                "5400 GPU-min, without NO_DECAY, DENY_ON_LIMIT"
            )]
        );
    }

    #[test]
    fn a_renamed_startup_and_a_changed_team_are_each_drift() {
        let w = wanted(1, 5400, &["ada", "bob"]);
        let mut r = held(&w);
        r.organization = Some("Acme".into());
        r.members = vec!["ada".into()];
        assert_eq!(
            kinds(&drifts(&resource(), &[w], &[r])),
            vec![
                ("organization", "Acme Robotics", "Acme"),
                ("members", "ada, bob", "ada"),
            ]
        );
    }

    #[test]
    fn orphans_are_listed_by_account_and_frozen_ones_left_alone() {
        let w = wanted(1, 5400, &[]);
        let remote = [
            held(&w),
            Remote {
                account: "hx-9".into(),
                limit_minutes: Some(600),
                members: vec!["eve".into()],
                cap_flags_missing: Vec::new(),
                organization: None,
            },
            Remote {
                account: "hx-2".into(),
                limit_minutes: None,
                members: Vec::new(),
                cap_flags_missing: Vec::new(),
                organization: None,
            },
            // As a freeze leaves it.
            Remote {
                account: "hx-5".into(),
                limit_minutes: Some(0),
                members: Vec::new(),
                cap_flags_missing: Vec::new(),
                organization: None,
            },
            // Not a name the pattern gives: someone else's.
            Remote {
                account: "hx-lab".into(),
                limit_minutes: Some(60),
                members: Vec::new(),
                cap_flags_missing: Vec::new(),
                organization: None,
            },
        ];
        let found = drifts(&resource(), &[w], &remote);
        let orphans: Vec<(Option<i64>, &str, &str)> = found
            .iter()
            .map(|d| (d.startup_id, d.account.as_str(), d.remote.as_str()))
            .collect();
        assert!(found.iter().all(|d| d.kind == DriftKind::Orphan));
        assert_eq!(
            orphans,
            vec![
                (Some(2), "hx-2", "∞"),
                (Some(9), "hx-9", "600 GPU-min"),
                (None, "hx-lab", "60 GPU-min"),
            ]
        );
    }

    #[test]
    fn a_repair_syncs_each_drifted_startup_once_and_freezes_named_orphans() {
        let drift = |sid: Option<i64>, kind: &str| Drift {
            startup_id: sid,
            account: String::new(),
            kind: kind.parse().unwrap(),
            desired: String::new(),
            remote: String::new(),
        };
        let report = DriftReport {
            resource_id: 3,
            resource_name: "H100".into(),
            repair_mode: wire::credits::RepairMode::Approve,
            accounts: 3,
            drifts: vec![
                drift(Some(4), "members"),
                drift(Some(1), "limit"),
                drift(Some(4), "limit"),
                drift(Some(9), "orphan"),
                drift(None, "orphan"),
                drift(Some(2), "missing"),
            ],
        };
        assert_eq!(targets(&report, false), vec![1, 2, 4]);
        assert_eq!(targets(&report, true), vec![9]);
        let empty = DriftReport {
            drifts: Vec::new(),
            ..report
        };
        assert_eq!(targets(&empty, false), Vec::<i64>::new());
    }

    #[test]
    fn the_account_prefix_is_the_pattern_before_the_id() {
        let mut r = resource();
        assert_eq!(prefix_of(&r), "hx-");
        r.account_pattern = "{id}-gpu".into();
        assert_eq!(prefix_of(&r), "");
        r.account_pattern = "shared".into();
        assert_eq!(prefix_of(&r), "shared");
    }
}
