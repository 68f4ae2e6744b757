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

/// The requests counted per client and hour, as stored in `request_limits.action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sea_orm::DeriveActiveEnum, sea_orm::EnumIter)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum LimitedRequest {
    #[sea_orm(string_value = "register")]
    Register,
    #[sea_orm(string_value = "password_reset")]
    PasswordReset,
}

impl LimitedRequest {
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitedRequest::Register => "register",
            LimitedRequest::PasswordReset => "password_reset",
        }
    }

    /// How many a client may make in an hour.
    pub const fn max_per_hour(self) -> u64 {
        match self {
            LimitedRequest::Register => MAX_REGISTRATIONS_PER_HOUR,
            LimitedRequest::PasswordReset => MAX_RESET_REQUESTS_PER_HOUR,
        }
    }
}

/// Counts a request of `action` against its client's hourly limit, refusing it past the
/// action's `max_per_hour`. One write transaction under a lock on (action, client), so
/// simultaneous requests are counted one after another.
pub(crate) async fn count_request(
    db: &DatabaseConnection,
    action: LimitedRequest,
    client: &str,
) -> AppResult<()> {
    let max = action.max_per_hour();
    // Without a connection's address (a request made inside the process) there is no client
    // to count.
    if client == "unknown" {
        return Ok(());
    }
    let client: String = client.chars().take(64).collect();
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    crate::txn::lock(&txn, &format!("{}:{client}", action.as_str())).await?;
    let recent = request_limit::Entity::find()
        .filter(request_limit::Column::Action.eq(action))
        .filter(request_limit::Column::Client.eq(client.as_str()))
        .filter(request_limit::Column::CreatedAt.gt(now - Duration::hours(1)))
        .count(&txn)
        .await?;
    if recent >= max {
        tracing::warn!(action = action.as_str(), client, "request limit reached");
        return Err(AppError::RateLimited);
    }
    request_limit::ActiveModel {
        action: Set(action),
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
