//! Who may see and manage a startup's incubation: admins, and the mentors assigned to it.
use super::entity::{mentor, startup};
use crate::access::Actor;
use crate::error::{AppError, AppResult};
use sea_orm::{ConnectionTrait, EntityTrait};
use wire::auth::Role;

/// Whether a person is one of the startup's assigned mentors.
pub(crate) async fn is_assigned(
    db: &impl ConnectionTrait,
    startup_id: i64,
    user_id: i64,
) -> AppResult<bool> {
    Ok(mentor::Entity::find_by_id((startup_id, user_id))
        .one(db)
        .await?
        .is_some())
}

/// What the actor may do with an incubating (or former) startup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// An admin: everything.
    Manage,
    /// One of its assigned mentors: view, sign off milestones, write notes.
    Mentor,
}

/// The startup, if the actor is an admin or one of its assigned mentors; anyone else is
/// refused before learning whether it exists.
pub(crate) async fn access(
    db: &impl ConnectionTrait,
    actor: &Actor,
    startup_id: i64,
) -> AppResult<(startup::Model, Access)> {
    let admin = actor.has(Role::Admin);
    if !admin && !actor.has(Role::Mentor) {
        return Err(AppError::Forbidden);
    }
    if !admin && !is_assigned(db, startup_id, actor.user_id).await? {
        return Err(AppError::Forbidden);
    }
    let s = startup::Entity::find_by_id(startup_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        s,
        if admin {
            Access::Manage
        } else {
            Access::Mentor
        },
    ))
}
