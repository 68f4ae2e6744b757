//! Signing in and out, the session behind each request, and purging what has expired.
use super::entity::{email_token, login_attempt, request_limit, session, user, user_role};
use super::{EmailAddress, Role};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::find_user_by_email;
use crate::auth::accounts::roles_of;
use crate::auth::accounts::send_verification;
use crate::auth::limits::failed_logins_since;
use crate::auth::limits::LOGIN_WINDOW_MINUTES;
use crate::auth::limits::MAX_FAILED_LOGINS_PER_EMAIL;
use crate::auth::limits::MAX_FAILED_LOGINS_PER_IP;
use crate::auth::passwords::verify_password;
use crate::auth::tokens::hash_token;
use crate::auth::tokens::new_token;
use crate::auth::tokens::TokenPurpose;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::state::Settings;
use crate::time::Zone;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};

/// A session's expiry is pushed forward at most this often, to avoid a write per request.
pub(crate) const SESSION_TOUCH_MINUTES: i64 = 60;

pub(crate) fn actor_of(user: user::Model, roles: Vec<Role>, park: Zone) -> Actor {
    Actor {
        zone: person_zone(user.time_zone.as_deref(), park),
        user_id: user.id,
        email: user.email,
        name: user.name,
        roles,
        locale: Locale::from_tag(&user.locale).unwrap_or_default(),
    }
}

/// A person as an actor, by id (for work done later on their behalf, such as a request the
/// worker runs); `None` when they are gone.
pub async fn actor_by_id(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i64,
    park: Zone,
) -> AppResult<Option<Actor>> {
    let Some(user) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(None);
    };
    let roles = super::accounts::roles_of(db, user_id).await?;
    Ok(Some(actor_of(user, roles, park)))
}

/// A person's zone: the one they chose (a name the zone database still knows), else the park's.
pub fn person_zone(own: Option<&str>, park: Zone) -> Zone {
    own.and_then(Zone::parse).unwrap_or(park)
}

/// Signs in: checks the rate limit and the password, and opens a session.
/// Returns the session token for the cookie.
pub async fn login(
    db: &DatabaseConnection,
    settings: &Settings,
    email: &str,
    password: &str,
    ip: &str,
) -> AppResult<(String, Actor)> {
    let email = EmailAddress::parse(email)?;
    if password.is_empty() {
        return Err(AppError::invalid("password", "error.password_required"));
    }
    // The check and the attempt's row go in one write transaction, under a lock on the
    // address, so simultaneous guesses are counted one after another: at most the limit of
    // them are ever checked. The attempt counts as failed until the password is verified.
    let since = Utc::now() - Duration::minutes(LOGIN_WINDOW_MINUTES);
    let txn = crate::txn::begin(db).await?;
    crate::txn::lock(&txn, &format!("login:{}", email.as_str())).await?;
    if failed_logins_since(&txn, login_attempt::Column::Email, email.as_str(), since).await?
        >= MAX_FAILED_LOGINS_PER_EMAIL
        || failed_logins_since(&txn, login_attempt::Column::Ip, ip, since).await?
            >= MAX_FAILED_LOGINS_PER_IP
    {
        tracing::warn!(email = email.as_str(), ip, "sign-in rate limit reached");
        return Err(AppError::RateLimited);
    }
    let now = Utc::now();
    let attempt = login_attempt::ActiveModel {
        email: Set(email.as_str().into()),
        ip: Set(ip.chars().take(64).collect()),
        succeeded: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let user = find_user_by_email(db, &email).await?;
    let ok = verify_password(user.as_ref().map(|u| u.password_hash.clone()), password).await;
    if ok {
        login_attempt::Entity::update_many()
            .col_expr(login_attempt::Column::Succeeded, Expr::value(true))
            .filter(login_attempt::Column::Id.eq(attempt.id))
            .exec(db)
            .await?;
    }
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => return Err(AppError::invalid("password", "error.login_failed")),
    };
    if user.email_verified_at.is_none() {
        // Send a fresh link, at most every ten minutes, so the person is never stuck.
        let recent = email_token::Entity::find()
            .filter(email_token::Column::Email.eq(user.email.as_str()))
            .filter(email_token::Column::Purpose.eq(TokenPurpose::Verify.as_str()))
            .filter(email_token::Column::CreatedAt.gt(now - Duration::minutes(10)))
            .count(db)
            .await?;
        if recent == 0 {
            let txn = crate::txn::begin(db).await?;
            send_verification(&txn, settings, &user).await?;
            txn.commit().await?;
        }
        return Err(AppError::conflict("error.email_unverified"));
    }
    let token = new_token();
    let txn = crate::txn::begin(db).await?;
    session::ActiveModel {
        id: Set(hash_token(&token)),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(settings.session_days)),
        last_seen_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(user.id),
            action: "user.signed_in",
            entity_type: "user",
            entity_id: user.id.to_string(),
            before: None,
            after: None,
        },
    )
    .await?;
    let roles = roles_of(&txn, user.id).await?;
    txn.commit().await?;
    Ok((token, actor_of(user, roles, settings.park_zone)))
}

/// A session's user, its times and the user's roles, as one row.
#[derive(sea_orm::FromQueryResult)]
pub(crate) struct SessionUser {
    #[sea_orm(nested)]
    pub(crate) user: user::Model,
    pub(crate) session_expires_at: DateTime<Utc>,
    pub(crate) session_last_seen_at: DateTime<Utc>,
    pub(crate) is_applicant: bool,
    pub(crate) is_mentor: bool,
    pub(crate) is_admin: bool,
}

/// The person behind a session cookie, if the session is live: the session, its user and
/// their roles in one query (every page asks), and a write at most once an hour to extend it.
pub async fn session_actor(
    db: &DatabaseConnection,
    settings: &Settings,
    token: &str,
) -> AppResult<Option<Actor>> {
    let now = Utc::now();
    let id = hash_token(token);
    let has_role = |role: Role| {
        Expr::exists(
            sea_orm::sea_query::Query::select()
                .expr(Expr::val(1))
                .from(user_role::Entity)
                .and_where(
                    Expr::col((user_role::Entity, user_role::Column::UserId))
                        .equals((user::Entity, user::Column::Id)),
                )
                .and_where(
                    Expr::col((user_role::Entity, user_role::Column::Role)).eq(role.as_str()),
                )
                .to_owned(),
        )
    };
    let Some(row) = user::Entity::find()
        .column_as(
            Expr::col((session::Entity, session::Column::ExpiresAt)),
            "session_expires_at",
        )
        .column_as(
            Expr::col((session::Entity, session::Column::LastSeenAt)),
            "session_last_seen_at",
        )
        .column_as(has_role(Role::Applicant), "is_applicant")
        .column_as(has_role(Role::Mentor), "is_mentor")
        .column_as(has_role(Role::Admin), "is_admin")
        .join(
            sea_orm::JoinType::InnerJoin,
            sea_orm::RelationTrait::def(&session::Relation::User).rev(),
        )
        .filter(session::Column::Id.eq(id.clone()))
        .into_model::<SessionUser>()
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.session_expires_at <= now {
        return Ok(None);
    }
    if now - row.session_last_seen_at > Duration::minutes(SESSION_TOUCH_MINUTES) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .col_expr(
                session::Column::ExpiresAt,
                Expr::value(now + Duration::days(settings.session_days)),
            )
            .filter(session::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    let roles = [
        (row.is_applicant, Role::Applicant),
        (row.is_mentor, Role::Mentor),
        (row.is_admin, Role::Admin),
    ]
    .into_iter()
    .filter_map(|(has, role)| has.then_some(role))
    .collect::<Vec<_>>();
    let mut roles = roles;
    roles.sort();
    Ok(Some(actor_of(row.user, roles, settings.park_zone)))
}

pub async fn logout(db: &DatabaseConnection, token: &str) -> AppResult<()> {
    let id = hash_token(token);
    let txn = crate::txn::begin(db).await?;
    if let Some(session) = session::Entity::find_by_id(id).one(&txn).await? {
        session::Entity::delete_by_id(session.id.clone())
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            Change {
                actor: Some(session.user_id),
                action: "user.signed_out",
                entity_type: "user",
                entity_id: session.user_id.to_string(),
                before: None,
                after: None,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Deletes what has outlived its use: expired sessions, old sign-in attempts, and one-time
/// tokens long past expiry. Returns how many rows went.
pub async fn purge_expired(db: &impl ConnectionTrait) -> AppResult<u64> {
    let now = Utc::now();
    let sessions = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    let attempts = login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::CreatedAt.lt(now - Duration::days(1)))
        .exec(db)
        .await?
        .rows_affected;
    let limits = request_limit::Entity::delete_many()
        .filter(request_limit::Column::CreatedAt.lt(now - Duration::days(1)))
        .exec(db)
        .await?
        .rows_affected;
    let tokens = email_token::Entity::delete_many()
        .filter(email_token::Column::ExpiresAt.lt(now - Duration::days(30)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(sessions + attempts + limits + tokens)
}
