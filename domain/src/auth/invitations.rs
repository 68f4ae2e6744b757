//! Invitations by email to a role or to a startup's team, and accepting them.
use super::entity::user;
use super::{EmailAddress, Password, PersonName, Role};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::find_user_by_email;
use crate::auth::accounts::grant_role;
use crate::auth::accounts::insert_user;
use crate::auth::accounts::roles_of;
use crate::auth::accounts::NewUser;
use crate::auth::passwords::hash_password;
use crate::auth::passwords::verify_password;
use crate::auth::tokens::consume_token;
use crate::auth::tokens::find_token;
use crate::auth::tokens::issue_token;
use crate::auth::tokens::NewToken;
use crate::auth::tokens::TokenPurpose;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::startups::entity::{member, startup};
use crate::state::Settings;
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde_json::json;
use wire::startups::MemberRole;

pub(crate) const INVITE_TTL_DAYS: i64 = 7;
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
        role: tok.role.ok_or(AppError::NotFound)?,
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
    let role = tok.role.ok_or(AppError::NotFound)?;
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
pub(crate) async fn join_team(
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
                role: Set(if first {
                    MemberRole::Founder
                } else {
                    MemberRole::Cofounder
                }),
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
            crate::cluster::members::resync_startup(txn, startup_id).await?;
            Ok(())
        }
    }
}
