//! One-time tokens: random values, stored only as their hash, for emailed links and cookies.
use super::entity::email_token;
use super::Role;
use crate::error::{AppError, AppResult};
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// What an emailed token is for, as stored with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sea_orm::DeriveActiveEnum, sea_orm::EnumIter)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum TokenPurpose {
    #[sea_orm(string_value = "verify")]
    Verify,
    #[sea_orm(string_value = "reset")]
    Reset,
    #[sea_orm(string_value = "invite")]
    Invite,
}

impl TokenPurpose {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Verify => "verify",
            TokenPurpose::Reset => "reset",
            TokenPurpose::Invite => "invite",
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
        purpose: Set(t.purpose),
        email: Set(t.email.into()),
        user_id: Set(t.user_id),
        role: Set(t.role),
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
pub(crate) async fn find_token(
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
pub(crate) async fn consume_token(
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
