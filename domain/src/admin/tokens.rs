//! API tokens (admins): issued for the park's other systems, shown once, stored as SHA-256,
//! scoped `read` or `write`, revocable. A token acts with the roles of the admin who issued
//! it, checked at every call, so a token dies with its issuer's admin role.
use super::{ApiTokenRow, TokenScope};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::{roles_of, users_by_id};
use crate::auth::entity::user;
use crate::auth::sessions::actor_of;
use crate::auth::tokens::hash_token;
use crate::error::{AppError, AppResult};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use wire::auth::Role;

use super::entity::api_token as entity;

/// What every token starts with, so secret scanners can recognise one.
pub const TOKEN_PREFIX: &str = "hat_";

/// Issues a token; the plain token is returned once and never stored.
pub async fn issue(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    scope: &str,
) -> AppResult<(i64, String)> {
    actor.require(Role::Admin)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "error.field_required"));
    }
    if name.chars().count() > 100 {
        return Err(AppError::invalid("name", "error.too_long"));
    }
    let scope = TokenScope::parse(scope.trim())
        .ok_or_else(|| AppError::invalid("scope", "error.scope_invalid"))?;
    let token = format!("{TOKEN_PREFIX}{}", crate::auth::tokens::new_token());
    let txn = crate::txn::begin(db).await?;
    let row = entity::ActiveModel {
        name: Set(name.to_string()),
        token_hash: Set(hash_token(&token)),
        prefix: Set(token[..12].to_string()),
        scope: Set(scope),
        created_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "api_token.issued",
            entity_type: "api_token",
            entity_id: row.id.to_string(),
            before: None,
            after: Some(json!({"name": row.name, "scope": row.scope, "prefix": row.prefix})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((row.id, token))
}

pub async fn revoke(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let t = entity::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if t.revoked_at.is_some() {
        return Err(AppError::conflict("error.token_revoked"));
    }
    let mut a: entity::ActiveModel = t.clone().into();
    a.revoked_at = Set(Some(Utc::now()));
    a.update(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "api_token.revoked",
            entity_type: "api_token",
            entity_id: t.id.to_string(),
            before: Some(json!({"revoked": false})),
            after: Some(json!({"revoked": true})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn list(db: &DatabaseConnection, actor: &Actor) -> AppResult<Vec<ApiTokenRow>> {
    actor.require(Role::Admin)?;
    let tokens = entity::Entity::find()
        .order_by_desc(entity::Column::Id)
        .all(db)
        .await?;
    let people = users_by_id(db, tokens.iter().map(|t| t.created_by)).await?;
    Ok(tokens
        .into_iter()
        .map(|t| ApiTokenRow {
            id: t.id,
            created_by: people
                .get(&t.created_by)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            name: t.name,
            prefix: t.prefix,
            scope: t.scope,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        })
        .collect())
}

/// Whether `token` is one this admin issued in the last two minutes and still live: only then
/// is it shown again.
pub async fn just_issued(db: &DatabaseConnection, actor: &Actor, token: &str) -> AppResult<bool> {
    Ok(entity::Entity::find()
        .filter(entity::Column::TokenHash.eq(hash_token(token)))
        .filter(entity::Column::CreatedBy.eq(actor.user_id))
        .filter(entity::Column::RevokedAt.is_null())
        .filter(entity::Column::CreatedAt.gt(Utc::now() - Duration::minutes(2)))
        .one(db)
        .await?
        .is_some())
}

/// Whom a bearer token acts for, and whether it may write.
pub struct TokenCaller {
    pub actor: Actor,
    pub token_id: i64,
    pub can_write: bool,
}

/// Resolves a bearer token: unknown and revoked tokens are `Unauthenticated`. Use is recorded
/// at most once a minute per token.
pub async fn authenticate(
    db: &DatabaseConnection,
    park_zone: crate::time::Zone,
    token: &str,
) -> AppResult<TokenCaller> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
        return Err(AppError::Unauthenticated);
    }
    let t = entity::Entity::find()
        .filter(entity::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .filter(|t| t.revoked_at.is_none())
        .ok_or(AppError::Unauthenticated)?;
    let issuer = user::Entity::find_by_id(t.created_by)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let roles = roles_of(db, issuer.id).await?;
    let now = Utc::now();
    if t.last_used_at
        .is_none_or(|at| now - at > Duration::minutes(1))
    {
        entity::Entity::update_many()
            .col_expr(
                entity::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(entity::Column::Id.eq(t.id))
            .exec(db)
            .await?;
    }
    Ok(TokenCaller {
        actor: actor_of(issuer, roles, park_zone),
        token_id: t.id,
        can_write: t.scope == TokenScope::Write,
    })
}
