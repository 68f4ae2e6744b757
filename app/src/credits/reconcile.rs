//! Reconciliation: compares what the database wants on a resource with what the cluster holds
//! (limit values, members, missing and orphan accounts) and repairs drift by queueing sync
//! jobs, at once or after an admin approves, as the resource says. An orphan account is
//! repaired by freezing it (no further use, no members), never by deleting it: on Slurm that
//! would also delete its usage history.
use super::backend::{AllocationBackend, Backend, Desired};
use super::entity::{grant, resource};
use super::sync::{account_name, enqueue, enqueue_freeze, limit_of, startup_of_account};
use super::{Drift, DriftReport};
use crate::audit::{self, Change};
use crate::auth::domain::Actor;
use crate::auth::entity::user;
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::startups::entity::{member, startup};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use std::collections::HashMap;

/// Every startup's desired allocation on a resource, in four queries whatever their number.
pub async fn desired_all(
    db: &DatabaseConnection,
    r: &resource::Model,
) -> AppResult<Vec<(i64, Desired)>> {
    let grants = grant::Entity::find()
        .filter(grant::Column::ResourceId.eq(r.id))
        .all(db)
        .await?;
    let mut by_startup: HashMap<i64, Vec<grant::Model>> = HashMap::new();
    for g in grants {
        by_startup.entry(g.startup_id).or_default().push(g);
    }
    let ids: Vec<i64> = by_startup.keys().copied().collect();
    let startups: HashMap<i64, String> = startup::Entity::find()
        .filter(startup::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let members = member::Entity::find()
        .filter(member::Column::StartupId.is_in(ids))
        .all(db)
        .await?;
    let logins: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| u.cluster_login.map(|l| (u.id, l)))
        .collect();
    let mut out: Vec<(i64, Desired)> = by_startup
        .into_iter()
        .map(|(sid, grants)| {
            let mut team: Vec<String> = members
                .iter()
                .filter(|m| m.startup_id == sid)
                .filter_map(|m| logins.get(&m.user_id).cloned())
                .collect();
            team.sort();
            (
                sid,
                Desired {
                    account: account_name(r, sid),
                    organization: startups.get(&sid).cloned().unwrap_or_default(),
                    limit_minutes: limit_of(&grants),
                    members: team,
                    freeze: false,
                },
            )
        })
        .collect();
    out.sort_by_key(|(sid, _)| *sid);
    Ok(out)
}

/// The part of the account pattern before `{id}`: every account Hatchery names starts with it.
fn prefix_of(r: &resource::Model) -> String {
    r.account_pattern
        .split("{id}")
        .next()
        .unwrap_or_default()
        .to_string()
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
    let remote: HashMap<&str, &super::backend::Remote> =
        remote.iter().map(|a| (a.account.as_str(), a)).collect();
    let mut drifts = Vec::new();
    for (sid, d) in &wanted {
        match remote.get(d.account.as_str()) {
            None => drifts.push(Drift {
                startup_id: Some(*sid),
                account: d.account.clone(),
                kind: "missing".into(),
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
                        kind: "limit".into(),
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
                            kind: "organization".into(),
                            desired: d.organization.clone(),
                            remote: org.clone(),
                        });
                    }
                }
                if a.members != d.members {
                    drifts.push(Drift {
                        startup_id: Some(*sid),
                        account: d.account.clone(),
                        kind: "members".into(),
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
            startup_id: startup_of_account(&r, &a.account),
            account: a.account.clone(),
            kind: "orphan".into(),
            desired: String::new(),
            remote: a
                .limit_minutes
                .map(|m| format!("{m} GPU-min"))
                .unwrap_or_else(|| "∞".into()),
        });
    }
    Ok(DriftReport {
        resource_id: r.id,
        resource_name: r.name.clone(),
        repair_mode: r.repair_mode.clone(),
        accounts: wanted.len(),
        drifts,
    })
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
    let targets = |orphan: bool| {
        let mut ids: Vec<i64> = report
            .drifts
            .iter()
            .filter(|d| (d.kind == "orphan") == orphan)
            .filter_map(|d| d.startup_id)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let (startups, orphans) = (targets(false), targets(true));
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
        .filter(resource::Column::Backend.ne("none"))
        .all(db)
        .await?;
    let mut queued = 0;
    for r in resources {
        match compare(db, r.id).await {
            Ok(report) if report.drifts.is_empty() => {}
            Ok(report) if r.repair_mode == "auto" => queued += repair(db, None, &report).await?,
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
