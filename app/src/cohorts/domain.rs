//! Cohorts and their sessions (admins), and the views of them everyone gets.
use super::entity::{attendance, certificate, cohort, enrolment, session};
use super::{
    status, CertificateView, CohortAdmin, CohortCard, CohortDetail, CohortForm, MyEnrolment,
    MyTraining, RosterRow, SessionView, UpcomingSession, TRACKS,
};
use crate::audit::{self, Change};
use crate::auth::domain::{users_by_id, Actor};
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::intake::rounds::{format_input_time, parse_time, required};
use crate::tables::{self, TablePage, TableQuery};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::HashMap;

/// Self check-in opens this long before a session starts.
pub const CHECKIN_EARLY_MINUTES: i64 = 15;
pub const MAX_CAPACITY: i32 = 10_000;

struct ValidCohort {
    title_en: String,
    title_zh: String,
    track: String,
    description_en: String,
    description_zh: String,
    capacity: i32,
    enrol_opens_at: DateTime<Utc>,
    enrol_closes_at: DateTime<Utc>,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    location: String,
    completion_percent: i32,
}

fn parse_date(value: &str, field: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, "error.date_invalid"))
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
fn validate(input: &CohortForm, zone: crate::time::Zone) -> AppResult<ValidCohort> {
    let mut checks = crate::error::Checks::new();
    let title_en = checks.value(required(&input.title_en, "title_en", 200));
    let title_zh = checks.value(required(&input.title_zh, "title_zh", 200));
    checks.check(
        TRACKS.contains(&input.track.as_str()),
        "track",
        "error.track_invalid",
    );
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
        track: input.track.clone(),
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

fn to_form(c: &cohort::Model, zone: crate::time::Zone) -> CohortForm {
    CohortForm {
        id: c.id,
        title_en: c.title_en.clone(),
        title_zh: c.title_zh.clone(),
        track: c.track.clone(),
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

fn snapshot(c: &cohort::Model) -> serde_json::Value {
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

const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A session's check-in code: 6 characters that cannot be misread for one another.
fn new_checkin_code() -> String {
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

/// Enrolment counts per cohort and status, in one query.
async fn counts(
    db: &impl ConnectionTrait,
    cohort_ids: &[i64],
) -> AppResult<HashMap<(i64, String), i64>> {
    if cohort_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, i64)> = enrolment::Entity::find()
        .select_only()
        .column(enrolment::Column::CohortId)
        .column(enrolment::Column::Status)
        .column_as(Expr::col(enrolment::Column::Id).count(), "n")
        .filter(enrolment::Column::CohortId.is_in(cohort_ids.iter().copied()))
        .group_by(enrolment::Column::CohortId)
        .group_by(enrolment::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(c, s, n)| ((c, s), n)).collect())
}

fn card(
    c: &cohort::Model,
    counts: &HashMap<(i64, String), i64>,
    mine: Option<String>,
    now: DateTime<Utc>,
) -> CohortCard {
    let n = |s: &str| counts.get(&(c.id, s.to_string())).copied().unwrap_or(0);
    CohortCard {
        id: c.id,
        title_en: c.title_en.clone(),
        title_zh: c.title_zh.clone(),
        track: c.track.clone(),
        capacity: c.capacity,
        enrolled: n(status::ENROLLED),
        waitlisted: n(status::WAITLISTED),
        completed: n(status::COMPLETED),
        enrol_opens_at: c.enrol_opens_at,
        enrol_closes_at: c.enrol_closes_at,
        starts_on: c.starts_on,
        ends_on: c.ends_on,
        location: c.location.clone(),
        open_now: c.enrol_opens_at <= now && now < c.enrol_closes_at,
        my_status: mine,
    }
}

async fn my_statuses(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    cohort_ids: &[i64],
) -> AppResult<HashMap<i64, String>> {
    let Some(actor) = actor.filter(|_| !cohort_ids.is_empty()) else {
        return Ok(HashMap::new());
    };
    Ok(enrolment::Entity::find()
        .filter(enrolment::Column::UserId.eq(actor.user_id))
        .filter(enrolment::Column::CohortId.is_in(cohort_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.cohort_id, e.status))
        .collect())
}

async fn cards(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    cohorts: &[cohort::Model],
) -> AppResult<Vec<CohortCard>> {
    let ids: Vec<i64> = cohorts.iter().map(|c| c.id).collect();
    let counts = counts(db, &ids).await?;
    let mut mine = my_statuses(db, actor, &ids).await?;
    let now = Utc::now();
    Ok(cohorts
        .iter()
        .map(|c| card(c, &counts, mine.remove(&c.id), now))
        .collect())
}

/// Cohorts anyone may look at: those that have not ended, soonest first. Admins get every
/// cohort, newest first.
pub async fn list(
    db: &DatabaseConnection,
    zone: crate::time::Zone,
    actor: Option<&Actor>,
    all: bool,
) -> AppResult<Vec<CohortCard>> {
    let mut q = cohort::Entity::find();
    if all {
        actor
            .ok_or(AppError::Unauthenticated)?
            .require(Role::Admin)?;
        q = q.order_by_desc(cohort::Column::StartsOn);
    } else {
        q = q
            .filter(cohort::Column::EndsOn.gte(zone.today()))
            .order_by_asc(cohort::Column::StartsOn);
    }
    let cohorts = q
        .order_by_asc(cohort::Column::Id)
        .limit(500)
        .all(db)
        .await?;
    cards(db, actor, &cohorts).await
}

/// The cohorts an admin table view selects: `status` is the cohort's phase (`upcoming`,
/// `running` or `ended`, by its dates), `of` its track, `q` part of its title in either
/// language; ordered by the chosen column.
fn admin_select(
    query: &TableQuery,
    today: NaiveDate,
) -> AppResult<tables::ssr::Sorted<cohort::Entity>> {
    let mut q = cohort::Entity::find();
    match tables::ssr::one_of(&query.status, super::PHASES, "status")? {
        Some("upcoming") => q = q.filter(cohort::Column::StartsOn.gt(today)),
        Some("running") => {
            q = q
                .filter(cohort::Column::StartsOn.lte(today))
                .filter(cohort::Column::EndsOn.gte(today))
        }
        Some(_) => q = q.filter(cohort::Column::EndsOn.lt(today)),
        None => {}
    }
    if let Some(track) = tables::ssr::one_of(&query.of, TRACKS, "of")? {
        q = q.filter(cohort::Column::Track.eq(track));
    }
    if let Some(pattern) = tables::ssr::search(query)? {
        q = q.filter(
            sea_orm::Condition::any()
                .add(tables::ssr::like(
                    Expr::col(cohort::Column::TitleEn),
                    &pattern,
                ))
                .add(tables::ssr::like(
                    Expr::col(cohort::Column::TitleZh),
                    &pattern,
                )),
        );
    }
    let (column, order) = tables::ssr::sort(query, super::COHORT_COLUMNS)?;
    let by = match column.key {
        "title" => cohort::Column::TitleEn,
        "track" => cohort::Column::Track,
        "capacity" => cohort::Column::Capacity,
        _ => cohort::Column::StartsOn,
    };
    Ok(tables::ssr::order(
        q,
        Expr::col(by),
        Expr::col(cohort::Column::Id),
        order,
    ))
}

/// One page of the admin's cohort table, with places, waitlist and completions (two queries).
pub async fn admin_list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<CohortCard>> {
    actor.require(Role::Admin)?;
    let cohorts = tables::ssr::page(db, admin_select(query, actor.zone.today())?, query).await?;
    let ids: Vec<i64> = cohorts.rows.iter().map(|c| c.id).collect();
    let counts = counts(db, &ids).await?;
    let now = Utc::now();
    Ok(cohorts.map(|c| card(&c, &counts, None, now)))
}

/// Every cohort the view selects, as CSV.
pub async fn admin_csv(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let mut out = crate::admin::csv::line([
        "id",
        "title_en",
        "title_zh",
        "track",
        "starts_on",
        "ends_on",
        "capacity",
        "enrolled",
        "waitlisted",
        "completed",
        "location",
    ]);
    let now = Utc::now();
    let mut batches = tables::ssr::Batches::new(admin_select(query, actor.zone.today())?);
    while let Some(batch) = batches.next(db).await? {
        let ids: Vec<i64> = batch.iter().map(|c| c.id).collect();
        let counts = counts(db, &ids).await?;
        for c in batch.iter().map(|c| card(c, &counts, None, now)) {
            out.push_str(&crate::admin::csv::line([
                c.id.to_string(),
                c.title_en,
                c.title_zh,
                c.track,
                c.starts_on.to_string(),
                c.ends_on.to_string(),
                c.capacity.to_string(),
                c.enrolled.to_string(),
                c.waitlisted.to_string(),
                c.completed.to_string(),
                c.location,
            ]));
        }
    }
    Ok(out)
}

fn session_view(
    s: &session::Model,
    now: DateTime<Utc>,
    attended: Option<bool>,
    admin: bool,
    present: i64,
) -> SessionView {
    SessionView {
        id: s.id,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        topic: s.topic.clone(),
        instructor: s.instructor.clone(),
        checkin_open: checkin_open(s, now),
        attended,
        checkin_code: admin.then(|| s.checkin_code.clone()),
        present,
    }
}

pub fn checkin_open(s: &session::Model, now: DateTime<Utc>) -> bool {
    s.starts_at - Duration::minutes(CHECKIN_EARLY_MINUTES) <= now && now <= s.ends_at
}

async fn sessions_of(db: &impl ConnectionTrait, cohort_id: i64) -> AppResult<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::CohortId.eq(cohort_id))
        .order_by_asc(session::Column::StartsAt)
        .order_by_asc(session::Column::Id)
        .all(db)
        .await?)
}

/// People marked present per session, in one query.
async fn present_counts(
    db: &impl ConnectionTrait,
    session_ids: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    if session_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = attendance::Entity::find()
        .select_only()
        .column(attendance::Column::SessionId)
        .column_as(Expr::col(attendance::Column::UserId).count(), "n")
        .filter(attendance::Column::SessionId.is_in(session_ids.iter().copied()))
        .filter(attendance::Column::Present.eq(true))
        .group_by(attendance::Column::SessionId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A cohort's page: anyone may read it; a signed-in reader also sees their own place.
pub async fn detail(
    db: &DatabaseConnection,
    actor: Option<&Actor>,
    id: i64,
) -> AppResult<CohortDetail> {
    let c = cohort::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let is_admin = actor.is_some_and(|a| a.has(Role::Admin));
    let card = cards(db, actor, std::slice::from_ref(&c)).await?.remove(0);
    let sessions = sessions_of(db, c.id).await?;
    let session_ids: Vec<i64> = sessions.iter().map(|s| s.id).collect();
    let present = if is_admin {
        present_counts(db, &session_ids).await?
    } else {
        HashMap::new()
    };
    let (mine, me) = match (actor, card.my_status.as_deref()) {
        (Some(a), Some(st)) => {
            let marks: HashMap<i64, bool> = attendance::Entity::find()
                .filter(attendance::Column::UserId.eq(a.user_id))
                .filter(attendance::Column::SessionId.is_in(session_ids.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|m| (m.session_id, m.present))
                .collect();
            let waitlist_position = if st == status::WAITLISTED {
                Some(super::enrolment::waitlist_position(db, c.id, a.user_id).await?)
            } else {
                None
            };
            let certificate_code = certificate::Entity::find()
                .filter(certificate::Column::CohortId.eq(c.id))
                .filter(certificate::Column::UserId.eq(a.user_id))
                .one(db)
                .await?
                .map(|c| c.code);
            let attended = marks.values().filter(|p| **p).count() as i64;
            (
                marks,
                Some(MyEnrolment {
                    status: st.to_string(),
                    waitlist_position,
                    attended,
                    certificate_code,
                }),
            )
        }
        _ => (HashMap::new(), None),
    };
    let now = Utc::now();
    Ok(CohortDetail {
        sessions: sessions
            .iter()
            .map(|s| {
                let p = present.get(&s.id).copied().unwrap_or(0);
                session_view(s, now, mine.get(&s.id).copied(), is_admin, p)
            })
            .collect(),
        card,
        description_en: c.description_en,
        description_zh: c.description_zh,
        completion_percent: c.completion_percent,
        signed_in: actor.is_some(),
        me,
        is_admin,
    })
}

/// The admin's page of a cohort: its form, sessions with attendance, and the whole roster.
pub async fn admin_view(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<CohortAdmin> {
    actor.require(Role::Admin)?;
    let detail = detail(db, Some(actor), id).await?;
    let c = cohort::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(id))
        .order_by_asc(enrolment::Column::QueuedAt)
        .order_by_asc(enrolment::Column::Id)
        .all(db)
        .await?;
    let people = users_by_id(db, rows.iter().map(|e| e.user_id)).await?;
    let session_ids: Vec<i64> = detail.sessions.iter().map(|s| s.id).collect();
    let attended: HashMap<i64, i64> = if session_ids.is_empty() {
        HashMap::new()
    } else {
        let r: Vec<(i64, i64)> = attendance::Entity::find()
            .select_only()
            .column(attendance::Column::UserId)
            .column_as(Expr::col(attendance::Column::SessionId).count(), "n")
            .filter(attendance::Column::SessionId.is_in(session_ids))
            .filter(attendance::Column::Present.eq(true))
            .group_by(attendance::Column::UserId)
            .into_tuple()
            .all(db)
            .await?;
        r.into_iter().collect()
    };
    let certificates: HashMap<i64, String> = certificate::Entity::find()
        .filter(certificate::Column::CohortId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.user_id, c.code))
        .collect();
    let roster = rows
        .into_iter()
        .map(|e| {
            let person = people.get(&e.user_id);
            RosterRow {
                user_id: e.user_id,
                name: person.map(|p| p.name.clone()).unwrap_or_default(),
                email: person.map(|p| p.email.clone()).unwrap_or_default(),
                status: e.status,
                queued_at: e.queued_at,
                attended: attended.get(&e.user_id).copied().unwrap_or(0),
                certificate_code: certificates.get(&e.user_id).cloned(),
            }
        })
        .collect();
    Ok(CohortAdmin {
        form: to_form(&c, actor.zone),
        detail,
        roster,
    })
}

/// A person's cohorts (not withdrawn), their next sessions and their certificates.
pub async fn my_training(db: &DatabaseConnection, actor: &Actor) -> AppResult<MyTraining> {
    let mine = enrolment::Entity::find()
        .filter(enrolment::Column::UserId.eq(actor.user_id))
        .filter(enrolment::Column::Status.ne(status::WITHDRAWN))
        .all(db)
        .await?;
    if mine.is_empty() {
        // No cohort, so no session ahead and no certificate (one query for most people).
        return Ok(MyTraining {
            cohorts: Vec::new(),
            next_sessions: Vec::new(),
            certificates: Vec::new(),
        });
    }
    let ids: Vec<i64> = mine.iter().map(|e| e.cohort_id).collect();
    let cohorts = cohort::Entity::find()
        .filter(cohort::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(cohort::Column::StartsOn)
        .all(db)
        .await?;
    let by_id: HashMap<i64, &cohort::Model> = cohorts.iter().map(|c| (c.id, c)).collect();
    let attending: Vec<i64> = mine
        .iter()
        .filter(|e| e.status == status::ENROLLED || e.status == status::COMPLETED)
        .map(|e| e.cohort_id)
        .collect();
    let now = Utc::now();
    let next_sessions = session::Entity::find()
        .filter(session::Column::CohortId.is_in(attending))
        .filter(session::Column::EndsAt.gte(now))
        .order_by_asc(session::Column::StartsAt)
        .limit(5)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| {
            let c = by_id.get(&s.cohort_id)?;
            Some(UpcomingSession {
                cohort_id: c.id,
                cohort_title_en: c.title_en.clone(),
                cohort_title_zh: c.title_zh.clone(),
                starts_at: s.starts_at,
                topic: s.topic,
                location: c.location.clone(),
            })
        })
        .collect();
    let certs = certificate::Entity::find()
        .filter(certificate::Column::UserId.eq(actor.user_id))
        .order_by_desc(certificate::Column::IssuedAt)
        .all(db)
        .await?;
    let certificates = certs
        .into_iter()
        .filter_map(|cert| {
            let c = by_id.get(&cert.cohort_id)?;
            Some(certificate_view(cert, c))
        })
        .collect();
    Ok(MyTraining {
        cohorts: cards(db, Some(actor), &cohorts).await?,
        next_sessions,
        certificates,
    })
}

pub fn certificate_view(cert: certificate::Model, c: &cohort::Model) -> CertificateView {
    CertificateView {
        code: cert.code,
        holder_name: cert.holder_name,
        cohort_title_en: c.title_en.clone(),
        cohort_title_zh: c.title_zh.clone(),
        track: c.track.clone(),
        starts_on: c.starts_on,
        ends_on: c.ends_on,
        sessions_attended: cert.sessions_attended,
        sessions_total: cert.sessions_total,
        issued_at: cert.issued_at,
    }
}

/// A certificate by its code, for anyone (no sign-in): the public verification.
pub async fn verify_certificate(db: &DatabaseConnection, code: &str) -> AppResult<CertificateView> {
    let code = super::normalise_code(code);
    if code.is_empty() || code.len() > 32 {
        return Err(AppError::NotFound);
    }
    let cert = certificate::Entity::find()
        .filter(certificate::Column::Code.eq(code))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = cohort::Entity::find_by_id(cert.cohort_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(certificate_view(cert, &c))
}
