//! A startup's team: its members, and co-founders invited by email who join by accepting.
use super::entity::{member, startup};
use super::profiles::startup_of;
use super::{PendingInvitation, Team, TeamMember};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::find_user_by_email;
use crate::auth::entity::{email_token, user};
use crate::auth::tokens::{issue_token, NewToken, TokenPurpose};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use wire::auth::{EmailAddress, Role};

/// At most this many invitations may be waiting at once, so a team cannot be used to spam.
const MAX_PENDING: usize = 20;

fn pending_of(startup_id: i64) -> sea_orm::Select<email_token::Entity> {
    email_token::Entity::find()
        .filter(email_token::Column::StartupId.eq(startup_id))
        .filter(email_token::Column::UsedAt.is_null())
        .filter(email_token::Column::ExpiresAt.gt(Utc::now()))
}

/// The members of a startup's team, oldest first (two queries).
pub(crate) async fn members_of(
    db: &impl ConnectionTrait,
    startup_id: i64,
) -> AppResult<Vec<TeamMember>> {
    let members = member::Entity::find()
        .filter(member::Column::StartupId.eq(startup_id))
        .order_by_asc(member::Column::JoinedAt)
        .all(db)
        .await?;
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
        .all(db)
        .await?;
    Ok(members
        .iter()
        .filter_map(|m| {
            let u = users.iter().find(|u| u.id == m.user_id)?;
            Some(TeamMember {
                name: u.name.clone(),
                email: u.email.clone(),
                role: m.role,
                joined_at: m.joined_at,
            })
        })
        .collect())
}

/// The signed-in applicant's team and the invitations still waiting (three queries).
pub async fn team(db: &DatabaseConnection, actor: &Actor) -> AppResult<Option<Team>> {
    actor.require(Role::Applicant)?;
    let Some(s) = startup_of(db, actor.user_id).await? else {
        return Ok(None);
    };
    let members = members_of(db, s.id).await?;
    let pending = pending_of(s.id)
        .order_by_asc(email_token::Column::Id)
        .all(db)
        .await?;
    Ok(Some(Team {
        startup_name: s.name,
        members,
        pending: pending
            .into_iter()
            .map(|t| PendingInvitation {
                id: t.id,
                email: t.email,
                expires_at: t.expires_at,
            })
            .collect(),
    }))
}

/// A team member invites a co-founder by email; accepting puts them on the team.
pub async fn invite(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    email: &str,
    locale: Locale,
) -> AppResult<()> {
    actor.require(Role::Applicant)?;
    let email = EmailAddress::parse(email)?;
    let txn = crate::txn::begin(db).await?;
    let s = startup_of(&txn, actor.user_id)
        .await?
        .ok_or_else(|| AppError::conflict("error.no_startup"))?;
    send_invitation(&txn, settings, actor, &s, &email, locale).await?;
    txn.commit().await?;
    Ok(())
}

/// Withdraws an invitation that has not been accepted; its link stops working.
pub async fn cancel_invitation(
    db: &DatabaseConnection,
    actor: &Actor,
    invitation_id: i64,
) -> AppResult<()> {
    actor.require(Role::Applicant)?;
    let txn = crate::txn::begin(db).await?;
    let s = startup_of(&txn, actor.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t = pending_of(s.id)
        .filter(email_token::Column::Id.eq(invitation_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    email_token::Entity::delete_by_id(t.id).exec(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "team.invitation_cancelled",
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: Some(json!({"email": t.email})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Invites someone by email onto a startup's team (the co-founder invitation, also used when
/// an admin adds a startup with its founder's email); accepting puts them on the team. Runs
/// inside the caller's transaction.
pub(crate) async fn send_invitation(
    txn: &impl ConnectionTrait,
    settings: &crate::state::Settings,
    actor: &Actor,
    s: &startup::Model,
    email: &EmailAddress,
    locale: Locale,
) -> AppResult<()> {
    if let Some(existing) = find_user_by_email(txn, email).await? {
        if let Some(on) = startup_of(txn, existing.id).await? {
            return Err(AppError::conflict(if on.id == s.id {
                "error.already_on_this_team"
            } else {
                "error.already_on_team"
            }));
        }
    }
    let pending = pending_of(s.id).all(txn).await?;
    if pending.iter().any(|t| t.email == email.as_str()) {
        return Err(AppError::conflict("error.already_invited"));
    }
    if pending.len() >= MAX_PENDING {
        return Err(AppError::RateLimited);
    }
    let token = issue_token(
        txn,
        NewToken {
            purpose: TokenPurpose::Invite,
            email: email.as_str(),
            user_id: None,
            role: Some(Role::Applicant),
            created_by: Some(actor.user_id),
            startup_id: Some(s.id),
            ttl: Duration::days(crate::auth::invitations::INVITE_TTL_DAYS),
        },
    )
    .await?;
    let link = settings.link(&format!("/invite?token={}", templates::TOKEN_SLOT));
    let content =
        templates::team_invitation(locale, &actor.name, &s.name, &link).with_secret(token);
    outbox::enqueue(txn, email.as_str(), "", locale, &content).await?;
    audit::record(
        txn,
        Change {
            actor: Some(actor.user_id),
            action: "team.invited",
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: None,
            after: Some(json!({"email": email.as_str()})),
        },
    )
    .await?;
    Ok(())
}
