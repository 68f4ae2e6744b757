//! Enrolment: places up to the capacity, a waitlist after it, withdrawal and promotion.
//! Every change takes the cohort's roster lock first (`domain::lock_roster`), so parallel
//! enrolments on one cohort are counted one after the other and never exceed its capacity.
use super::commands::lock_roster;
use super::entity::{cohort, enrolment};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::users_by_id;
use crate::auth::entity::user;
use crate::cohorts::EnrolmentStatus;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::state::Settings;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use wire::auth::Role;

/// Places held: enrolled and completed people each hold one.
pub async fn places_taken(db: &impl ConnectionTrait, cohort_id: i64) -> AppResult<i64> {
    Ok(enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(cohort_id))
        .filter(
            enrolment::Column::Status
                .is_in([EnrolmentStatus::Enrolled, EnrolmentStatus::Completed]),
        )
        .count(db)
        .await? as i64)
}

async fn waitlist(db: &impl ConnectionTrait, cohort_id: i64) -> AppResult<Vec<enrolment::Model>> {
    Ok(enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(cohort_id))
        .filter(enrolment::Column::Status.eq(EnrolmentStatus::Waitlisted))
        .order_by_asc(enrolment::Column::QueuedAt)
        .order_by_asc(enrolment::Column::Id)
        .all(db)
        .await?)
}

/// A waitlisted person's place in the queue, from 1.
pub async fn waitlist_position(
    db: &impl ConnectionTrait,
    cohort_id: i64,
    user_id: i64,
) -> AppResult<i64> {
    let queue = waitlist(db, cohort_id).await?;
    Ok(queue
        .iter()
        .position(|e| e.user_id == user_id)
        .map(|p| p as i64 + 1)
        .unwrap_or(0))
}

async fn tell(
    db: &impl ConnectionTrait,
    settings: &Settings,
    c: &cohort::Model,
    person: &user::Model,
    event: &str,
    position: Option<i64>,
) -> AppResult<()> {
    let locale = Locale::from_tag(&person.locale).unwrap_or_default();
    let title = super::pick(locale, &c.title_en, &c.title_zh);
    let link = settings.link(&format!("/cohorts/{}", c.id));
    let position = position.map(|p| p.to_string()).unwrap_or_default();
    let content = templates::cohort_notice(locale, &person.name, event, title, &position, &link);
    outbox::enqueue(db, &person.email, &person.name, locale, &content).await?;
    Ok(())
}

async fn record(
    db: &impl ConnectionTrait,
    actor: Option<i64>,
    action: &str,
    e: &enrolment::Model,
    before: Option<EnrolmentStatus>,
) -> AppResult<()> {
    audit::record(
        db,
        Change {
            actor,
            action,
            entity_type: "enrolment",
            entity_id: e.id.to_string(),
            before: before.map(|s| json!({"status": s})),
            after: Some(
                json!({"cohort_id": e.cohort_id, "user_id": e.user_id, "status": e.status}),
            ),
        },
    )
    .await?;
    Ok(())
}

/// Fills free places from the waitlist in order, telling each person promoted. Call it with
/// the roster lock held.
pub async fn promote(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    c: &cohort::Model,
    actor: Option<i64>,
) -> AppResult<Vec<i64>> {
    let free = i64::from(c.capacity) - places_taken(txn, c.id).await?;
    if free <= 0 {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let mut promoted = Vec::new();
    let next: Vec<enrolment::Model> = waitlist(txn, c.id)
        .await?
        .into_iter()
        .take(free as usize)
        .collect();
    let people = users_by_id(txn, next.iter().map(|e| e.user_id)).await?;
    for e in next {
        let mut a: enrolment::ActiveModel = e.into();
        a.status = Set(EnrolmentStatus::Enrolled);
        a.enrolled_at = Set(Some(now));
        a.updated_at = Set(now);
        let e = a.update(txn).await?;
        record(
            txn,
            actor,
            "enrolment.promoted",
            &e,
            Some(EnrolmentStatus::Waitlisted),
        )
        .await?;
        if let Some(person) = people.get(&e.user_id) {
            tell(txn, settings, c, person, "promoted", None).await?;
            let link = settings.link(&format!("/admin/cohorts/{}", c.id));
            crate::channels::notify::announce(
                txn,
                wire::channels::ChannelEvent::WaitlistPromoted,
                |l| {
                    let title = super::pick(l, &c.title_en, &c.title_zh);
                    crate::channels::notify::waitlist_promoted(l, &person.name, title, &link)
                },
            )
            .await?;
        }
        promoted.push(e.user_id);
    }
    Ok(promoted)
}

/// Puts a person on the cohort: a place while there is one, else the end of the waitlist.
async fn place(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    c: &cohort::Model,
    person: &user::Model,
    actor: i64,
) -> AppResult<EnrolmentStatus> {
    let existing = enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(c.id))
        .filter(enrolment::Column::UserId.eq(person.id))
        .one(txn)
        .await?;
    if let Some(e) = &existing {
        match e.status {
            EnrolmentStatus::Enrolled | EnrolmentStatus::Waitlisted => {
                return Err(AppError::conflict("error.already_enrolled"))
            }
            EnrolmentStatus::Completed => {
                return Err(AppError::conflict("error.already_completed"))
            }
            _ => {}
        }
    }
    let has_place = places_taken(txn, c.id).await? < i64::from(c.capacity);
    let new_status = if has_place {
        EnrolmentStatus::Enrolled
    } else {
        EnrolmentStatus::Waitlisted
    };
    let now = Utc::now();
    let before = existing.as_ref().map(|e| e.status);
    let e = match existing {
        Some(e) => {
            let mut a: enrolment::ActiveModel = e.into();
            a.status = Set(new_status);
            a.queued_at = Set(now);
            a.enrolled_at = Set(has_place.then_some(now));
            a.withdrawn_at = Set(None);
            a.updated_at = Set(now);
            a.update(txn).await?
        }
        None => {
            enrolment::ActiveModel {
                cohort_id: Set(c.id),
                user_id: Set(person.id),
                status: Set(new_status),
                queued_at: Set(now),
                enrolled_at: Set(has_place.then_some(now)),
                withdrawn_at: Set(None),
                completed_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?
        }
    };
    let action = if has_place {
        "enrolment.enrolled"
    } else {
        "enrolment.waitlisted"
    };
    record(txn, Some(actor), action, &e, before).await?;
    let position = if has_place {
        None
    } else {
        Some(waitlist_position(txn, c.id, person.id).await?)
    };
    let event = if has_place { "enrolled" } else { "waitlisted" };
    tell(txn, settings, c, person, event, position).await?;
    Ok(new_status)
}

/// The signed-in person enrols while the cohort's enrolment window is open. Returns the
/// status they got: `enrolled` or `waitlisted`.
pub async fn enrol(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    cohort_id: i64,
) -> AppResult<EnrolmentStatus> {
    let txn = crate::txn::begin(db).await?;
    let c = lock_roster(&txn, cohort_id).await?;
    let now = Utc::now();
    if now < c.enrol_opens_at {
        return Err(AppError::conflict("error.enrolment_not_open"));
    }
    if now >= c.enrol_closes_at {
        return Err(AppError::conflict("error.enrolment_closed"));
    }
    let person = user::Entity::find_by_id(actor.user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let got = place(&txn, settings, &c, &person, actor.user_id).await?;
    txn.commit().await?;
    Ok(got)
}

/// Takes an enrolment or a waitlist place back. A freed place goes to the first person
/// waiting, who is emailed.
async fn leave(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    c: &cohort::Model,
    user_id: i64,
    actor: i64,
    action: &str,
) -> AppResult<()> {
    let e = enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(c.id))
        .filter(enrolment::Column::UserId.eq(user_id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::conflict("error.not_enrolled"))?;
    match e.status {
        EnrolmentStatus::Enrolled | EnrolmentStatus::Waitlisted => {}
        EnrolmentStatus::Completed => return Err(AppError::conflict("error.already_completed")),
        _ => return Err(AppError::conflict("error.not_enrolled")),
    }
    let before = e.status;
    let now = Utc::now();
    let mut a: enrolment::ActiveModel = e.into();
    a.status = Set(EnrolmentStatus::Withdrawn);
    a.withdrawn_at = Set(Some(now));
    a.updated_at = Set(now);
    let e = a.update(txn).await?;
    record(txn, Some(actor), action, &e, Some(before)).await?;
    if before == EnrolmentStatus::Enrolled {
        promote(txn, settings, c, Some(actor)).await?;
    }
    Ok(())
}

pub async fn withdraw(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    cohort_id: i64,
) -> AppResult<()> {
    let txn = crate::txn::begin(db).await?;
    let c = lock_roster(&txn, cohort_id).await?;
    leave(
        &txn,
        settings,
        &c,
        actor.user_id,
        actor.user_id,
        "enrolment.withdrawn",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An admin enrols someone by their account's email, whether or not the window is open;
/// the capacity still holds (past it they are waitlisted).
pub async fn admin_enrol(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    cohort_id: i64,
    email: &str,
) -> AppResult<EnrolmentStatus> {
    actor.require(Role::Admin)?;
    let email = wire::auth::types::EmailAddress::parse(email)?;
    let txn = crate::txn::begin(db).await?;
    let c = lock_roster(&txn, cohort_id).await?;
    let person = crate::auth::accounts::find_user_by_email(&txn, &email)
        .await?
        .ok_or_else(|| AppError::invalid("email", "error.no_such_account"))?;
    let got = place(&txn, settings, &c, &person, actor.user_id).await?;
    txn.commit().await?;
    Ok(got)
}

/// An admin takes someone off the cohort (enrolled or waitlisted); they are told.
pub async fn remove(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    cohort_id: i64,
    user_id: i64,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let c = lock_roster(&txn, cohort_id).await?;
    leave(
        &txn,
        settings,
        &c,
        user_id,
        actor.user_id,
        "enrolment.removed",
    )
    .await?;
    if let Some(person) = user::Entity::find_by_id(user_id).one(&txn).await? {
        tell(&txn, settings, &c, &person, "removed", None).await?;
    }
    txn.commit().await?;
    Ok(())
}
