//! Passwords: argon2id hashes, and resetting a forgotten one by an emailed link.
use super::entity::{email_token, session, user};
use super::{EmailAddress, Password};
use crate::audit::{self, Change};
use crate::auth::accounts::find_user_by_email;
use crate::auth::limits::MAX_RESETS_PER_HOUR;
use crate::auth::limits::{count_request, LimitedRequest};
use crate::auth::tokens::consume_token;
use crate::auth::tokens::find_token;
use crate::auth::tokens::issue_token;
use crate::auth::tokens::NewToken;
use crate::auth::tokens::TokenPurpose;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::state::Settings;
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

pub(crate) const RESET_TTL_MINUTES: i64 = 60;
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
pub(crate) async fn verify_password(hash: Option<String>, password: &str) -> bool {
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

/// Sends a reset link if the address has an account. Says nothing about whether it has one.
pub async fn request_password_reset(
    db: &DatabaseConnection,
    settings: &Settings,
    email: &str,
    client: &str,
) -> AppResult<()> {
    let email = EmailAddress::parse(email)?;
    count_request(db, LimitedRequest::PasswordReset, client).await?;
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
