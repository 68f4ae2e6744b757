//! Changes to cohorts (admin): creating and editing one, its sessions, and the roster's lock.
use super::entity::{attendance, cohort, session};
use super::{CohortForm, Track};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult};
use crate::intake::rounds::{format_input_time, parse_time, required};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use wire::auth::Role;

pub const MAX_CAPACITY: i32 = 10_000;

pub(crate) struct ValidCohort {
    pub(crate) title_en: String,
    pub(crate) title_zh: String,
    pub(crate) track: Track,
    pub(crate) description_en: String,
    pub(crate) description_zh: String,
    pub(crate) capacity: i32,
    pub(crate) enrol_opens_at: DateTime<Utc>,
    pub(crate) enrol_closes_at: DateTime<Utc>,
    pub(crate) starts_on: NaiveDate,
    pub(crate) ends_on: NaiveDate,
    pub(crate) location: String,
    pub(crate) completion_percent: i32,
}

pub(crate) fn parse_date(value: &str, field: &str) -> AppResult<NaiveDate> {
    crate::time::parse_day(value, field)
}

/// A capacity as typed: a whole number of places, 1 to 10,000.
pub fn parse_capacity(value: &str) -> AppResult<i32> {
    value
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=MAX_CAPACITY).contains(n))
        .ok_or_else(|| AppError::invalid("capacity", "error.capacity_invalid"))
}

/// Every field's fault at once (see `Checks`).
pub(crate) fn validate(input: &CohortForm, zone: crate::time::Zone) -> AppResult<ValidCohort> {
    let mut checks = crate::error::Checks::new();
    let title_en = checks.value(required(&input.title_en, "title_en", 200));
    let title_zh = checks.value(required(&input.title_zh, "title_zh", 200));
    let track = Track::parse(input.track.trim());
    checks.check(track.is_some(), "track", "error.track_invalid");
    let description_en = checks.value(required(&input.description_en, "description_en", 5000));
    let description_zh = checks.value(required(&input.description_zh, "description_zh", 5000));
    let capacity = checks.value(parse_capacity(&input.capacity));
    let enrol_opens_at = checks.take(parse_time(zone, &input.enrol_opens_at, "enrol_opens_at"));
    let enrol_closes_at = checks.take(parse_time(zone, &input.enrol_closes_at, "enrol_closes_at"));
    if let (Some(o), Some(c)) = (enrol_opens_at, enrol_closes_at) {
        checks.check(c > o, "enrol_closes_at", "error.window_order");
    }
    let starts_on = checks.take(parse_date(&input.starts_on, "starts_on"));
    let ends_on = checks.take(parse_date(&input.ends_on, "ends_on"));
    if let (Some(s), Some(e)) = (starts_on, ends_on) {
        checks.check(e >= s, "ends_on", "error.cohort_dates_order");
    }
    let location = checks.value(required(&input.location, "location", 300));
    let completion_percent = input
        .completion_percent
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=100).contains(n));
    checks.check(
        completion_percent.is_some(),
        "completion_percent",
        "error.percent_invalid",
    );
    checks.finish()?;
    let (enrol_opens_at, enrol_closes_at) = (
        enrol_opens_at.unwrap_or_default(),
        enrol_closes_at.unwrap_or_default(),
    );
    let (starts_on, ends_on) = (starts_on.unwrap_or_default(), ends_on.unwrap_or_default());
    let completion_percent = completion_percent.unwrap_or(100);
    Ok(ValidCohort {
        title_en,
        title_zh,
        track: track.unwrap_or(Track::AiEngineering),
        description_en,
        description_zh,
        capacity,
        enrol_opens_at,
        enrol_closes_at,
        starts_on,
        ends_on,
        location,
        completion_percent,
    })
}

pub(crate) fn to_form(c: &cohort::Model, zone: crate::time::Zone) -> CohortForm {
    CohortForm {
        id: c.id,
        title_en: c.title_en.clone(),
        title_zh: c.title_zh.clone(),
        track: c.track.to_string(),
        description_en: c.description_en.clone(),
        description_zh: c.description_zh.clone(),
        capacity: c.capacity.to_string(),
        enrol_opens_at: format_input_time(zone, &c.enrol_opens_at),
        enrol_closes_at: format_input_time(zone, &c.enrol_closes_at),
        starts_on: c.starts_on.format("%Y-%m-%d").to_string(),
        ends_on: c.ends_on.format("%Y-%m-%d").to_string(),
        location: c.location.clone(),
        completion_percent: c.completion_percent.to_string(),
    }
}

pub(crate) fn snapshot(c: &cohort::Model) -> serde_json::Value {
    json!({
        "title_en": c.title_en, "title_zh": c.title_zh, "track": c.track,
        "capacity": c.capacity, "enrol_opens_at": c.enrol_opens_at, "enrol_closes_at": c.enrol_closes_at,
        "starts_on": c.starts_on, "ends_on": c.ends_on, "location": c.location,
        "completion_percent": c.completion_percent,
    })
}

/// Takes the cohort's roster lock for the rest of the transaction: the first statement is a
/// write to the cohort's row, so PostgreSQL holds a row lock and SQLite the write lock until
/// commit, and every roster change on one cohort happens one after the other.
pub async fn lock_roster(txn: &impl ConnectionTrait, cohort_id: i64) -> AppResult<cohort::Model> {
    let bumped = cohort::Entity::update_many()
        .col_expr(
            cohort::Column::RosterVersion,
            Expr::col(cohort::Column::RosterVersion).add(1),
        )
        .filter(cohort::Column::Id.eq(cohort_id))
        .exec(txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    cohort::Entity::find_by_id(cohort_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)
}

/// Creates a cohort (no id) or updates one. A new capacity may not fall below the places
/// taken; growing it fills the new places from the waitlist, in order.
pub async fn save(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    input: CohortForm,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let v = validate(&input, actor.zone)?;
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    let (id, action, before) = if input.id > 0 {
        let c = lock_roster(&txn, input.id).await?;
        let taken = super::enrolment::places_taken(&txn, c.id).await?;
        if i64::from(v.capacity) < taken {
            return Err(AppError::invalid("capacity", "error.capacity_below_taken"));
        }
        let before = snapshot(&c);
        let mut a: cohort::ActiveModel = c.into();
        a.title_en = Set(v.title_en);
        a.title_zh = Set(v.title_zh);
        a.track = Set(v.track);
        a.description_en = Set(v.description_en);
        a.description_zh = Set(v.description_zh);
        a.capacity = Set(v.capacity);
        a.enrol_opens_at = Set(v.enrol_opens_at);
        a.enrol_closes_at = Set(v.enrol_closes_at);
        a.starts_on = Set(v.starts_on);
        a.ends_on = Set(v.ends_on);
        a.location = Set(v.location);
        a.completion_percent = Set(v.completion_percent);
        a.updated_at = Set(now);
        let c = a.update(&txn).await?;
        super::enrolment::promote(&txn, settings, &c, Some(actor.user_id)).await?;
        (c.id, "cohort.updated", Some(before))
    } else {
        let c = cohort::ActiveModel {
            title_en: Set(v.title_en),
            title_zh: Set(v.title_zh),
            track: Set(v.track),
            description_en: Set(v.description_en),
            description_zh: Set(v.description_zh),
            capacity: Set(v.capacity),
            enrol_opens_at: Set(v.enrol_opens_at),
            enrol_closes_at: Set(v.enrol_closes_at),
            starts_on: Set(v.starts_on),
            ends_on: Set(v.ends_on),
            location: Set(v.location),
            completion_percent: Set(v.completion_percent),
            roster_version: Set(0),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        (c.id, "cohort.created", None)
    };
    let after = cohort::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .map(|c| snapshot(&c));
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action,
            entity_type: "cohort",
            entity_id: id.to_string(),
            before,
            after,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

pub(crate) const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A session's check-in code: 6 characters that cannot be misread for one another.
pub(crate) fn new_checkin_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..6)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// Adds a session to a cohort; its check-in code is made here.
pub async fn add_session(
    db: &DatabaseConnection,
    actor: &Actor,
    cohort_id: i64,
    starts_at: &str,
    ends_at: &str,
    topic: &str,
    instructor: &str,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let starts_at = parse_time(actor.zone, starts_at, "starts_at")?;
    let ends_at = parse_time(actor.zone, ends_at, "ends_at")?;
    if ends_at <= starts_at {
        return Err(AppError::invalid("ends_at", "error.window_order"));
    }
    if ends_at - starts_at > Duration::hours(24) {
        return Err(AppError::invalid("ends_at", "error.session_too_long"));
    }
    let topic = required(topic, "topic", 200)?;
    let instructor = required(instructor, "instructor", 120)?;
    let txn = crate::txn::begin(db).await?;
    let c = lock_roster(&txn, cohort_id).await?;
    let s = session::ActiveModel {
        cohort_id: Set(c.id),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        topic: Set(topic),
        instructor: Set(instructor),
        checkin_code: Set(new_checkin_code()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "cohort.session_added",
            entity_type: "cohort_session",
            entity_id: s.id.to_string(),
            before: None,
            after: Some(json!({
                "cohort_id": c.id, "starts_at": s.starts_at, "ends_at": s.ends_at,
                "topic": s.topic, "instructor": s.instructor,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(s.id)
}

/// Removes a session nobody's attendance was recorded for (a session that happened stays,
/// since completion and certificates count it).
pub async fn delete_session(
    db: &DatabaseConnection,
    actor: &Actor,
    session_id: i64,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let s = session::Entity::find_by_id(session_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    lock_roster(&txn, s.cohort_id).await?;
    let marked = attendance::Entity::find()
        .filter(attendance::Column::SessionId.eq(s.id))
        .count(&txn)
        .await?;
    if marked > 0 {
        return Err(AppError::conflict("error.session_has_attendance"));
    }
    session::Entity::delete_by_id(s.id).exec(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "cohort.session_deleted",
            entity_type: "cohort_session",
            entity_id: s.id.to_string(),
            before: Some(
                json!({"cohort_id": s.cohort_id, "starts_at": s.starts_at, "topic": s.topic}),
            ),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(s.cohort_id)
}
