//! Team members on the cluster: a person's cluster login, and keeping every allocation's
//! member list in step when a login or a team changes.
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::entity::user;
use crate::credits::entity::{grant, resource};
use crate::error::{AppError, AppResult};
use crate::startups::entity::member;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, SqlErr,
};
use serde_json::json;

/// Queues a sync of every allocation the startup holds, e.g. after its team changed.
pub async fn resync_startup(txn: &impl ConnectionTrait, startup_id: i64) -> AppResult<usize> {
    let ids: Vec<i64> = grant::Entity::find()
        .select_only()
        .column(grant::Column::ResourceId)
        .distinct()
        .filter(grant::Column::StartupId.eq(startup_id))
        .into_tuple()
        .all(txn)
        .await?;
    let resources = resource::Entity::find()
        .filter(resource::Column::Id.is_in(ids))
        .all(txn)
        .await?;
    for r in &resources {
        super::sync::enqueue(txn, r, startup_id).await?;
    }
    Ok(resources.len())
}

/// System accounts of a cluster's machines: a startup's credit opened to one of them would give
/// the whole machine's daemons (or its administrator) the startup's GPUs.
const RESERVED_LOGINS: &[&str] = &[
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "nobody",
    "slurm",
    "slurmrestd",
    "munge",
    "mysql",
    "postgres",
    "www-data",
    "sshd",
    "systemd-network",
    "messagebus",
    "admin",
    "operator",
];

/// A POSIX login as clusters accept it: a lower-case letter or _, then up to 31 of
/// lower-case letters, digits, _ and -.
fn valid_login(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && s.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub async fn cluster_login(db: &DatabaseConnection, actor: &Actor) -> AppResult<Option<String>> {
    Ok(user::Entity::find_by_id(actor.user_id)
        .one(db)
        .await?
        .and_then(|u| u.cluster_login))
}

/// Sets (or, when empty, clears) the signed-in person's cluster login; their startup's
/// allocations are re-synced so the cluster's member lists follow.
pub async fn set_cluster_login(
    db: &DatabaseConnection,
    actor: &Actor,
    login: &str,
) -> AppResult<()> {
    let login = login.trim();
    let value = if login.is_empty() {
        None
    } else if RESERVED_LOGINS.contains(&login) {
        return Err(AppError::invalid(
            "cluster_login",
            "error.cluster_login_reserved",
        ));
    } else if valid_login(login) {
        Some(login.to_string())
    } else {
        return Err(AppError::invalid(
            "cluster_login",
            "error.cluster_login_invalid",
        ));
    };
    let txn = crate::txn::begin(db).await?;
    let u = user::Entity::find_by_id(actor.user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if u.cluster_login == value {
        return Ok(());
    }
    let before = u.cluster_login.clone();
    let mut a: user::ActiveModel = u.into();
    a.cluster_login = Set(value.clone());
    a.updated_at = Set(Utc::now());
    a.update(&txn).await.map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::invalid("cluster_login", "error.cluster_login_taken")
        }
        _ => e.into(),
    })?;
    // The team they are on (if any) has its member lists on the clusters.
    let team = member::Entity::find()
        .filter(member::Column::UserId.eq(actor.user_id))
        .one(&txn)
        .await?;
    if let Some(m) = team {
        resync_startup(&txn, m.startup_id).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "user.cluster_login_changed",
            entity_type: "user",
            entity_id: actor.user_id.to_string(),
            before: Some(json!({"cluster_login": before})),
            after: Some(json!({"cluster_login": value})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::valid_login;

    #[test]
    fn logins_follow_posix_rules() {
        for ok in ["alice", "_svc", "li-lei", "u2024", "a"] {
            assert!(valid_login(ok), "{ok}");
        }
        for bad in [
            "Alice",
            "2fast",
            "li lei",
            "-x",
            "a.b",
            "李雷",
            &"a".repeat(33),
        ] {
            assert!(!valid_login(bad), "{bad}");
        }
    }
}
