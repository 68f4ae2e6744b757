//! Account rules. Every function here checks its own authorization and writes its audit entry.
use super::entity::{email_token, login_attempt, request_limit, session, user, user_role};
use super::{EmailAddress, Me, Password, PersonName, Role};
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::startups::entity::{member, startup};
use crate::state::Settings;
use crate::tables::{self, TablePage, TableQuery};
use crate::time::Zone;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Set, SqlErr,
};
use serde_json::json;

const VERIFY_TTL_HOURS: i64 = 48;
const RESET_TTL_MINUTES: i64 = 60;
pub(crate) const INVITE_TTL_DAYS: i64 = 7;
/// Failed sign-ins allowed per address, and per client address, within the window.
pub const MAX_FAILED_LOGINS_PER_EMAIL: u64 = 5;
pub const MAX_FAILED_LOGINS_PER_IP: u64 = 50;
const LOGIN_WINDOW_MINUTES: i64 = 15;
const MAX_RESETS_PER_HOUR: u64 = 3;
/// Sign-ups, and password-reset requests, allowed per client address and hour.
pub const MAX_REGISTRATIONS_PER_HOUR: u64 = 10;
pub const MAX_RESET_REQUESTS_PER_HOUR: u64 = 10;
/// A session's expiry is pushed forward at most this often, to avoid a write per request.
const SESSION_TOUCH_MINUTES: i64 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    Verify,
    Reset,
    Invite,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Verify => "verify",
            TokenPurpose::Reset => "reset",
            TokenPurpose::Invite => "invite",
        }
    }
}

/// The signed-in person on whose behalf a domain function acts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub locale: Locale,
    /// The zone the person reads and types times in: their own choice, else the park's.
    pub zone: Zone,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.has(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn to_me(&self) -> Me {
        Me {
            id: self.user_id,
            email: self.email.clone(),
            name: self.name.clone(),
            roles: self.roles.clone(),
            locale: self.locale,
            zone: self.zone.name().to_string(),
        }
    }
}

/// A fresh random token for a cookie or an emailed link (256 bits, hex).
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Tokens are stored only as their SHA-256.
pub fn hash_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An argon2id hash of a password, with a fresh salt.
pub async fn hash_password(password: &Password) -> AppResult<String> {
    let password = password.expose().to_string();
    // argon2id costs tens of milliseconds of CPU: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString};
        use rand::RngCore;
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|_| AppError::Internal)?;
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| AppError::Internal)
    })
    .await
    .map_err(|_| AppError::Internal)?
}

/// Checks a password against a stored hash; with no hash, burns the same time and fails.
async fn verify_password(hash: Option<String>, password: &str) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        // A fixed hash of a random password, so unknown emails take as long as known ones.
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Jb3/ZjxS+PE7kBU3w28lkdbGdBPNvpPpKQ28UiCPg4A";
        let stored = hash.as_deref().unwrap_or(DUMMY);
        match PasswordHash::new(stored) {
            Ok(parsed) => {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
                    && hash.is_some()
            }
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

fn map_unique(err: sea_orm::DbErr, key: &str) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(key),
        _ => err.into(),
    }
}

/// The people with these ids, by id (one query), for lists that name who did what.
pub async fn users_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<std::collections::HashMap<i64, user::Model>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

pub async fn find_user_by_email(
    db: &impl ConnectionTrait,
    email: &EmailAddress,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?)
}

pub(crate) async fn roles_of(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Vec<Role>> {
    let mut roles: Vec<Role> = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|r| Role::parse(&r.role))
        .collect();
    roles.sort();
    Ok(roles)
}

async fn grant_role(
    db: &impl ConnectionTrait,
    user_id: i64,
    role: Role,
    now: DateTime<Utc>,
) -> AppResult<()> {
    user_role::ActiveModel {
        user_id: Set(user_id),
        role: Set(role.as_str().to_string()),
        granted_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

struct NewUser<'a> {
    email: &'a EmailAddress,
    name: &'a PersonName,
    password_hash: String,
    locale: Locale,
    verified_at: Option<DateTime<Utc>>,
}

/// Inserts an account row; a concurrent duplicate surfaces as "email taken", not a database error.
async fn insert_user(db: &impl ConnectionTrait, new: NewUser<'_>) -> AppResult<user::Model> {
    let now = Utc::now();
    user::ActiveModel {
        email: Set(new.email.as_str().into()),
        name: Set(new.name.as_str().into()),
        password_hash: Set(new.password_hash),
        locale: Set(new.locale.tag().into()),
        email_verified_at: Set(new.verified_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| map_unique(e, "error.email_taken"))
}

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

/// A person's zone: the one they chose (a name the zone database still knows), else the park's.
pub fn person_zone(own: Option<&str>, park: Zone) -> Zone {
    own.and_then(Zone::parse).unwrap_or(park)
}

pub(crate) struct NewToken<'a> {
    pub purpose: TokenPurpose,
    pub email: &'a str,
    pub user_id: Option<i64>,
    pub role: Option<Role>,
    pub created_by: Option<i64>,
    pub startup_id: Option<i64>,
    pub ttl: Duration,
}

/// Stores a one-time token and returns its clear text (which exists only in the email).
pub(crate) async fn issue_token(db: &impl ConnectionTrait, t: NewToken<'_>) -> AppResult<String> {
    let token = new_token();
    let now = Utc::now();
    email_token::ActiveModel {
        token_hash: Set(hash_token(&token)),
        purpose: Set(t.purpose.as_str().into()),
        email: Set(t.email.into()),
        user_id: Set(t.user_id),
        role: Set(t.role.map(|r| r.as_str().into())),
        created_by: Set(t.created_by),
        startup_id: Set(t.startup_id),
        expires_at: Set(now + t.ttl),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Finds a usable token of this purpose, without using it up.
async fn find_token(
    db: &impl ConnectionTrait,
    token: &str,
    purpose: TokenPurpose,
) -> AppResult<email_token::Model> {
    let found = email_token::Entity::find()
        .filter(email_token::Column::TokenHash.eq(hash_token(token.trim())))
        .filter(email_token::Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("token", "error.token_invalid"))?;
    if found.used_at.is_some() {
        return Err(AppError::conflict("error.token_used"));
    }
    if found.expires_at < Utc::now() {
        return Err(AppError::invalid("token", "error.token_expired"));
    }
    Ok(found)
}

/// Uses a token up; of two concurrent uses exactly one succeeds.
async fn consume_token(
    db: &impl ConnectionTrait,
    token: &str,
    purpose: TokenPurpose,
) -> AppResult<email_token::Model> {
    let found = find_token(db, token, purpose).await?;
    let now = Utc::now();
    let updated = email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(now))
        .filter(email_token::Column::Id.eq(found.id))
        .filter(email_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::conflict("error.token_used"));
    }
    Ok(found)
}

pub struct Registration {
    pub email: String,
    pub name: String,
    pub password: String,
    pub locale: Locale,
}

/// Creates an applicant account and sends the verification link.
pub async fn register(
    db: &DatabaseConnection,
    settings: &Settings,
    input: Registration,
    client: &str,
) -> AppResult<i64> {
    let mut checks = crate::error::Checks::new();
    let name = checks.take(PersonName::parse(&input.name));
    let email = checks.take(EmailAddress::parse(&input.email));
    let password = checks.take(Password::parse(&input.password));
    checks.finish()?;
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return Err(AppError::Internal);
    };
    count_request(db, "register", client, MAX_REGISTRATIONS_PER_HOUR).await?;
    if find_user_by_email(db, &email).await?.is_some() {
        return Err(AppError::conflict("error.email_taken"));
    }
    let password_hash = hash_password(&password).await?;
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    let user = insert_user(
        &txn,
        NewUser {
            email: &email,
            name: &name,
            password_hash,
            locale: input.locale,
            verified_at: None,
        },
    )
    .await?;
    grant_role(&txn, user.id, Role::Applicant, now).await?;
    send_verification(&txn, settings, &user).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(user.id),
            action: "user.registered",
            entity_type: "user",
            entity_id: user.id.to_string(),
            before: None,
            after: Some(json!({"email": user.email, "name": user.name, "roles": ["applicant"]})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user.id)
}

async fn send_verification(
    db: &impl ConnectionTrait,
    settings: &Settings,
    user: &user::Model,
) -> AppResult<()> {
    let token = issue_token(
        db,
        NewToken {
            purpose: TokenPurpose::Verify,
            email: &user.email,
            user_id: Some(user.id),
            role: None,
            created_by: None,
            startup_id: None,
            ttl: Duration::hours(VERIFY_TTL_HOURS),
        },
    )
    .await?;
    let locale = Locale::from_tag(&user.locale).unwrap_or_default();
    let link = settings.link(&format!("/verify?token={}", templates::TOKEN_SLOT));
    let content = templates::verify_email(locale, &user.name, &link).with_secret(token);
    outbox::enqueue(db, &user.email, &user.name, locale, &content).await?;
    Ok(())
}

/// Marks the address behind a verification link as verified.
pub async fn verify_email(db: &DatabaseConnection, token: &str) -> AppResult<()> {
    let txn = crate::txn::begin(db).await?;
    let tok = consume_token(&txn, token, TokenPurpose::Verify).await?;
    let user = user::Entity::find_by_id(tok.user_id.unwrap_or_default())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if user.email_verified_at.is_none() {
        let now = Utc::now();
        let mut active: user::ActiveModel = user.clone().into();
        active.email_verified_at = Set(Some(now));
        active.updated_at = Set(now);
        active.update(&txn).await?;
        audit::record(
            &txn,
            Change {
                actor: Some(user.id),
                action: "user.email_verified",
                entity_type: "user",
                entity_id: user.id.to_string(),
                before: Some(json!({"email_verified": false})),
                after: Some(json!({"email_verified": true})),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Counts a request of `action` against its client's hourly limit, refusing it past `max`. One
/// write transaction under a lock on (action, client), so simultaneous requests are counted
/// one after another.
async fn count_request(
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

async fn failed_logins_since(
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
struct SessionUser {
    #[sea_orm(nested)]
    user: user::Model,
    session_expires_at: DateTime<Utc>,
    session_last_seen_at: DateTime<Utc>,
    is_applicant: bool,
    is_mentor: bool,
    is_admin: bool,
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
            user::Entity::belongs_to(session::Entity)
                .from(user::Column::Id)
                .to(session::Column::UserId)
                .into(),
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

/// Sends a reset link if the address has an account. Says nothing about whether it has one.
pub async fn request_password_reset(
    db: &DatabaseConnection,
    settings: &Settings,
    email: &str,
    client: &str,
) -> AppResult<()> {
    let email = EmailAddress::parse(email)?;
    count_request(db, "password_reset", client, MAX_RESET_REQUESTS_PER_HOUR).await?;
    let Some(user) = find_user_by_email(db, &email).await? else {
        return Ok(());
    };
    let recent = email_token::Entity::find()
        .filter(email_token::Column::Email.eq(email.as_str()))
        .filter(email_token::Column::Purpose.eq(TokenPurpose::Reset.as_str()))
        .filter(email_token::Column::CreatedAt.gt(Utc::now() - Duration::hours(1)))
        .count(db)
        .await?;
    if recent >= MAX_RESETS_PER_HOUR {
        tracing::warn!(user_id = user.id, "password reset rate limit reached");
        return Ok(());
    }
    let txn = crate::txn::begin(db).await?;
    let token = issue_token(
        &txn,
        NewToken {
            purpose: TokenPurpose::Reset,
            email: &user.email,
            user_id: Some(user.id),
            role: None,
            created_by: None,
            startup_id: None,
            ttl: Duration::minutes(RESET_TTL_MINUTES),
        },
    )
    .await?;
    let locale = Locale::from_tag(&user.locale).unwrap_or_default();
    let link = settings.link(&format!("/reset?token={}", templates::TOKEN_SLOT));
    let content = templates::password_reset(locale, &user.name, &link).with_secret(token);
    outbox::enqueue(&txn, &user.email, &user.name, locale, &content).await?;
    audit::record(
        &txn,
        Change {
            actor: None,
            action: "user.password_reset_requested",
            entity_type: "user",
            entity_id: user.id.to_string(),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a new password from a reset link and ends every session of that account.
pub async fn reset_password(db: &DatabaseConnection, token: &str, password: &str) -> AppResult<()> {
    let password = Password::parse(password)?;
    find_token(db, token, TokenPurpose::Reset).await?;
    let password_hash = hash_password(&password).await?;
    let txn = crate::txn::begin(db).await?;
    let tok = consume_token(&txn, token, TokenPurpose::Reset).await?;
    let user = user::Entity::find_by_id(tok.user_id.unwrap_or_default())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let mut active: user::ActiveModel = user.clone().into();
    active.password_hash = Set(password_hash);
    // The link reached the inbox, so the address is proven.
    active.email_verified_at = Set(Some(user.email_verified_at.unwrap_or(now)));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(user.id),
            action: "user.password_reset",
            entity_type: "user",
            entity_id: user.id.to_string(),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An admin invites someone by email to be a mentor or an admin.
pub async fn invite(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    email: &str,
    role: &str,
    locale: Locale,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let email = EmailAddress::parse(email)?;
    let role = match Role::parse(role) {
        Some(r @ (Role::Mentor | Role::Admin)) => r,
        _ => return Err(AppError::invalid("role", "error.role_invalid")),
    };
    if let Some(existing) = find_user_by_email(db, &email).await? {
        if roles_of(db, existing.id).await?.contains(&role) {
            return Err(AppError::conflict("error.already_has_role"));
        }
    }
    let txn = crate::txn::begin(db).await?;
    let token = issue_token(
        &txn,
        NewToken {
            purpose: TokenPurpose::Invite,
            email: email.as_str(),
            user_id: None,
            role: Some(role),
            created_by: Some(actor.user_id),
            startup_id: None,
            ttl: Duration::days(INVITE_TTL_DAYS),
        },
    )
    .await?;
    let link = settings.link(&format!("/invite?token={}", templates::TOKEN_SLOT));
    let content = templates::invitation(locale, &actor.name, role, &link).with_secret(token);
    outbox::enqueue(&txn, email.as_str(), "", locale, &content).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "invitation.sent",
            entity_type: "invitation",
            entity_id: email.as_str().into(),
            before: None,
            after: Some(json!({"email": email.as_str(), "role": role.as_str()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What an invitation link offers, for the page that accepts it.
pub async fn invitation(
    db: &DatabaseConnection,
    token: &str,
) -> AppResult<super::types::Invitation> {
    let tok = find_token(db, token, TokenPurpose::Invite).await?;
    let email = EmailAddress::parse(&tok.email)?;
    let has_account = find_user_by_email(db, &email).await?.is_some();
    let startup_name = match tok.startup_id {
        Some(id) => Some(
            startup::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::invalid("token", "error.token_invalid"))?
                .name,
        ),
        None => None,
    };
    Ok(super::types::Invitation {
        email: tok.email,
        role: tok
            .role
            .as_deref()
            .and_then(Role::parse)
            .ok_or(AppError::NotFound)?,
        has_account,
        startup_name,
    })
}

/// Accepts an invitation: creates the account, or adds the role to an existing one
/// (whose password must then be given, to prove it is theirs).
pub async fn accept_invitation(
    db: &DatabaseConnection,
    token: &str,
    name: &str,
    password: &str,
) -> AppResult<()> {
    let tok = find_token(db, token, TokenPurpose::Invite).await?;
    let role = tok
        .role
        .as_deref()
        .and_then(Role::parse)
        .ok_or(AppError::NotFound)?;
    let email = EmailAddress::parse(&tok.email)?;
    let existing = find_user_by_email(db, &email).await?;
    let new_account = match &existing {
        Some(user) => {
            if !verify_password(Some(user.password_hash.clone()), password).await {
                return Err(AppError::invalid("password", "error.login_failed"));
            }
            None
        }
        None => {
            let name = PersonName::parse(name)?;
            let password = Password::parse(password)?;
            Some((name, hash_password(&password).await?))
        }
    };
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    consume_token(&txn, token, TokenPurpose::Invite).await?;
    let user_id = match (existing, new_account) {
        (Some(user), _) => {
            if !roles_of(&txn, user.id).await?.contains(&role) {
                grant_role(&txn, user.id, role, now).await?;
            }
            if user.email_verified_at.is_none() {
                let mut active: user::ActiveModel = user.clone().into();
                active.email_verified_at = Set(Some(now));
                active.update(&txn).await?;
            }
            user.id
        }
        (None, Some((name, password_hash))) => {
            let user = insert_user(
                &txn,
                NewUser {
                    email: &email,
                    name: &name,
                    password_hash,
                    locale: Locale::En,
                    verified_at: Some(now),
                },
            )
            .await?;
            grant_role(&txn, user.id, role, now).await?;
            user.id
        }
        (None, None) => return Err(AppError::Internal),
    };
    if let Some(startup_id) = tok.startup_id {
        join_team(&txn, user_id, startup_id, now).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: Some(user_id),
            action: "invitation.accepted",
            entity_type: "user",
            entity_id: user_id.to_string(),
            before: None,
            after: Some(json!({
                "role": role.as_str(),
                "invited_by": tok.created_by,
                "startup": tok.startup_id,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Puts a person on a startup's team, as a co-founder (or its founder when the team is
/// empty). A person belongs to one startup.
async fn join_team(
    txn: &impl ConnectionTrait,
    user_id: i64,
    startup_id: i64,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    startup::Entity::find_by_id(startup_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::invalid("token", "error.token_invalid"))?;
    match member::Entity::find()
        .filter(member::Column::UserId.eq(user_id))
        .one(txn)
        .await?
    {
        Some(m) if m.startup_id == startup_id => Ok(()),
        Some(_) => Err(AppError::conflict("error.already_on_team")),
        None => {
            // A startup an admin added has no one on it yet: whoever joins first founded it.
            let first = member::Entity::find()
                .filter(member::Column::StartupId.eq(startup_id))
                .one(txn)
                .await?
                .is_none();
            member::ActiveModel {
                startup_id: Set(startup_id),
                user_id: Set(user_id),
                role: Set(if first { "founder" } else { "cofounder" }.into()),
                joined_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|e| match e.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                    AppError::conflict("error.already_on_team")
                }
                _ => e.into(),
            })?;
            // The cluster's member lists follow the team.
            crate::credits::members::resync_startup(txn, startup_id).await?;
            Ok(())
        }
    }
}

/// Changes the signed-in person's own name and language.
pub async fn update_profile(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    locale: Locale,
) -> AppResult<()> {
    let name = PersonName::parse(name)?;
    let txn = crate::txn::begin(db).await?;
    let user = user::Entity::find_by_id(actor.user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = json!({"name": user.name, "locale": user.locale});
    let mut active: user::ActiveModel = user.into();
    active.name = Set(name.as_str().into());
    active.locale = Set(locale.tag().into());
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "user.profile_updated",
            entity_type: "user",
            entity_id: actor.user_id.to_string(),
            before: Some(before),
            after: Some(json!({"name": name.as_str(), "locale": locale.tag()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The person's own time zone, if they chose one (`None` follows the park's).
pub async fn own_time_zone(db: &DatabaseConnection, actor: &Actor) -> AppResult<Option<String>> {
    let user = user::Entity::find_by_id(actor.user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(user.time_zone.filter(|z| Zone::parse(z).is_some()))
}

/// Sets the zone the person reads and types times in: an IANA name, or empty for the park's.
pub async fn set_time_zone(db: &DatabaseConnection, actor: &Actor, name: &str) -> AppResult<()> {
    let zone = match name.trim() {
        "" => None,
        n => Some(
            Zone::parse(n)
                .ok_or_else(|| AppError::invalid("time_zone", "error.time_zone_invalid"))?,
        ),
    };
    let txn = crate::txn::begin(db).await?;
    let user = user::Entity::find_by_id(actor.user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = json!({"time_zone": user.time_zone});
    let mut active: user::ActiveModel = user.into();
    active.time_zone = Set(zone.map(|z| z.name().to_string()));
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "user.time_zone_set",
            entity_type: "user",
            entity_id: actor.user_id.to_string(),
            before: Some(before),
            after: Some(json!({"time_zone": zone.map(|z| z.name())})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Remembers the language a signed-in person picked in the header.
pub async fn set_locale(db: &DatabaseConnection, actor: &Actor, locale: Locale) -> AppResult<()> {
    if actor.locale == locale {
        return Ok(());
    }
    update_profile(db, actor, &actor.name, locale).await
}

/// The users a table view selects: `status` is a role they hold, `of` is `verified` or
/// `unverified`, `q` part of their name or email; ordered by the chosen column.
fn users_select(query: &TableQuery) -> AppResult<tables::ssr::Sorted<user::Entity>> {
    let mut select = user::Entity::find();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    if let Some(role) = tables::ssr::one_of(&query.status, &roles, "status")? {
        select = select.filter(
            user::Column::Id.in_subquery(
                user_role::Entity::find()
                    .select_only()
                    .column(user_role::Column::UserId)
                    .filter(user_role::Column::Role.eq(role))
                    .into_query(),
            ),
        );
    }
    match tables::ssr::one_of(&query.of, &["verified", "unverified"], "of")? {
        Some("verified") => select = select.filter(user::Column::EmailVerifiedAt.is_not_null()),
        Some(_) => select = select.filter(user::Column::EmailVerifiedAt.is_null()),
        None => {}
    }
    if let Some(pattern) = tables::ssr::search(query)? {
        select = select.filter(
            Condition::any()
                .add(tables::ssr::like(Expr::col(user::Column::Email), &pattern))
                .add(tables::ssr::like(Expr::col(user::Column::Name), &pattern)),
        );
    }
    let (column, order) = tables::ssr::sort(query, super::types::USER_COLUMNS)?;
    let by = match column.key {
        "name" => user::Column::Name,
        "email" => user::Column::Email,
        _ => user::Column::Id,
    };
    Ok(tables::ssr::order(
        select,
        Expr::col(by),
        Expr::col(user::Column::Id),
        order,
    ))
}

/// Rows for these users, with their roles (one query).
async fn user_rows(
    db: &impl ConnectionTrait,
    users: Vec<user::Model>,
) -> AppResult<Vec<super::types::UserRow>> {
    let roles = user_role::Entity::find()
        .filter(user_role::Column::UserId.is_in(users.iter().map(|u| u.id)))
        .all(db)
        .await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let mut user_roles: Vec<Role> = roles
                .iter()
                .filter(|r| r.user_id == u.id)
                .filter_map(|r| Role::parse(&r.role))
                .collect();
            user_roles.sort();
            super::types::UserRow {
                id: u.id,
                email: u.email,
                name: u.name,
                roles: user_roles,
                verified: u.email_verified_at.is_some(),
                created_at: u.created_at,
            }
        })
        .collect())
}

/// One page of the admin's user list, with each user's roles (two queries, whatever the size).
pub async fn list_users(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<super::types::UserRow>> {
    actor.require(Role::Admin)?;
    let page = tables::ssr::page(db, users_select(query)?, query).await?;
    let rows = user_rows(db, page.rows).await?;
    Ok(TablePage {
        rows,
        page: page.page,
        more: page.more,
        keys: page.keys,
    })
}

/// Every user the view selects, as CSV.
pub async fn users_csv(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let mut out =
        crate::admin::csv::line(["id", "name", "email", "roles", "verified", "joined_utc"]);
    let mut batches = tables::ssr::Batches::new(users_select(query)?);
    while let Some(batch) = batches.next(db).await? {
        for u in user_rows(db, batch).await? {
            let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            out.push_str(&crate::admin::csv::line([
                u.id.to_string(),
                u.name,
                u.email,
                roles.join(" "),
                u.verified.to_string(),
                u.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            ]));
        }
    }
    Ok(out)
}

/// An admin sets exactly which roles a user holds.
pub async fn set_roles(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: i64,
    roles: &[Role],
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    if user_id == actor.user_id && !roles.contains(&Role::Admin) {
        return Err(AppError::conflict("error.cannot_remove_own_admin"));
    }
    let txn = crate::txn::begin(db).await?;
    user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = roles_of(&txn, user_id).await?;
    let mut after: Vec<Role> = roles.to_vec();
    after.sort();
    after.dedup();
    if before == after {
        return Ok(());
    }
    user_role::Entity::delete_many()
        .filter(user_role::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    for role in &after {
        grant_role(&txn, user_id, *role, now).await?;
    }
    let names = |rs: &[Role]| rs.iter().map(|r| r.as_str()).collect::<Vec<_>>();
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "user.roles_changed",
            entity_type: "user",
            entity_id: user_id.to_string(),
            before: Some(json!({"roles": names(&before)})),
            after: Some(json!({"roles": names(&after)})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Creates a verified account from the command line (the first admin, typically).
pub async fn create_user(
    db: &DatabaseConnection,
    email: &str,
    name: &str,
    password: &str,
    roles: &[Role],
) -> AppResult<i64> {
    let name = PersonName::parse(name)?;
    let email = EmailAddress::parse(email)?;
    let password = Password::parse(password)?;
    if find_user_by_email(db, &email).await?.is_some() {
        return Err(AppError::conflict("error.email_taken"));
    }
    let password_hash = hash_password(&password).await?;
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    let user = insert_user(
        &txn,
        NewUser {
            email: &email,
            name: &name,
            password_hash,
            locale: Locale::En,
            verified_at: Some(now),
        },
    )
    .await?;
    for role in roles {
        grant_role(&txn, user.id, *role, now).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: None,
            action: "user.created_from_cli",
            entity_type: "user",
            entity_id: user.id.to_string(),
            before: None,
            after: Some(json!({"email": user.email, "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user.id)
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
