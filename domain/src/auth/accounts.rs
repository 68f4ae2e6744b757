//! Accounts: registration with email verification, a person's own name, language and zone.
use super::entity::{user, user_role};
use super::{EmailAddress, Password, PersonName, Role};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::limits::{count_request, LimitedRequest};
use crate::auth::passwords::hash_password;
use crate::auth::tokens::consume_token;
use crate::auth::tokens::issue_token;
use crate::auth::tokens::NewToken;
use crate::auth::tokens::TokenPurpose;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::state::Settings;
use crate::time::Zone;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, SqlErr,
};
use serde_json::json;

pub(crate) const VERIFY_TTL_HOURS: i64 = 48;
pub(crate) fn map_unique(err: sea_orm::DbErr, key: &str) -> AppError {
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
        .map(|r| r.role)
        .collect();
    roles.sort();
    Ok(roles)
}

pub(crate) async fn grant_role(
    db: &impl ConnectionTrait,
    user_id: i64,
    role: Role,
    now: DateTime<Utc>,
) -> AppResult<()> {
    user_role::ActiveModel {
        user_id: Set(user_id),
        role: Set(role),
        granted_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub(crate) struct NewUser<'a> {
    pub(crate) email: &'a EmailAddress,
    pub(crate) name: &'a PersonName,
    pub(crate) password_hash: String,
    pub(crate) locale: Locale,
    pub(crate) verified_at: Option<DateTime<Utc>>,
}

/// Inserts an account row; a concurrent duplicate surfaces as "email taken", not a database error.
pub(crate) async fn insert_user(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
) -> AppResult<user::Model> {
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
    count_request(db, LimitedRequest::Register, client).await?;
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

pub(crate) async fn send_verification(
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
