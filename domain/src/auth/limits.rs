//! Rate limits on sign-in, sign-up and password-reset requests, per address and per client.
use super::entity::{login_attempt, request_limit};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

/// Failed sign-ins allowed per address, and per client address, within the window.
pub const MAX_FAILED_LOGINS_PER_EMAIL: u64 = 5;
pub const MAX_FAILED_LOGINS_PER_IP: u64 = 50;
pub(crate) const LOGIN_WINDOW_MINUTES: i64 = 15;
pub(crate) const MAX_RESETS_PER_HOUR: u64 = 3;
/// Sign-ups, and password-reset requests, allowed per client address and hour.
pub const MAX_REGISTRATIONS_PER_HOUR: u64 = 10;
pub const MAX_RESET_REQUESTS_PER_HOUR: u64 = 10;
/// Counts a request of `action` against its client's hourly limit, refusing it past `max`. One
/// write transaction under a lock on (action, client), so simultaneous requests are counted
/// one after another.
pub(crate) async fn count_request(
    db: &DatabaseConnection,
    action: &str,
    client: &str,
    max: u64,
) -> AppResult<()> {
    // Without a connection's address (a request made inside the process) there is no client
    // to count.
    if client == "unknown" {
        return Ok(());
    }
    let client: String = client.chars().take(64).collect();
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    crate::txn::lock(&txn, &format!("{action}:{client}")).await?;
    let recent = request_limit::Entity::find()
        .filter(request_limit::Column::Action.eq(action))
        .filter(request_limit::Column::Client.eq(client.as_str()))
        .filter(request_limit::Column::CreatedAt.gt(now - Duration::hours(1)))
        .count(&txn)
        .await?;
    if recent >= max {
        tracing::warn!(action, client, "request limit reached");
        return Err(AppError::RateLimited);
    }
    request_limit::ActiveModel {
        action: Set(action.into()),
        client: Set(client),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

pub(crate) async fn failed_logins_since(
    db: &impl ConnectionTrait,
    column: login_attempt::Column,
    value: &str,
    since: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(login_attempt::Entity::find()
        .filter(column.eq(value))
        .filter(login_attempt::Column::Succeeded.eq(false))
        .filter(login_attempt::Column::CreatedAt.gt(since))
        .count(db)
        .await?)
}
