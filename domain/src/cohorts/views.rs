//! Cohorts as people see them: the public list, a cohort's page, an admin's view and table.
//! A person's own training and the certificates anyone can verify are in `training`.
use super::entity::{attendance, certificate, cohort, enrolment, session};
use super::{CohortAdmin, CohortCard, CohortDetail, MyEnrolment, RosterRow, SessionView, Track};
use crate::access::Actor;
use crate::auth::accounts::users_by_id;
use crate::cohorts::commands::to_form;
use crate::cohorts::EnrolmentStatus;
use crate::error::{AppError, AppResult};
use crate::tables::{self, TablePage, TableQuery};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;
use wire::auth::Role;

/// Self check-in opens this long before a session starts.
pub const CHECKIN_EARLY_MINUTES: i64 = 15;
/// Enrolment counts per cohort and status, in one query.
pub(crate) async fn counts(
    db: &impl ConnectionTrait,
    cohort_ids: &[i64],
) -> AppResult<HashMap<(i64, EnrolmentStatus), i64>> {
    if cohort_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, EnrolmentStatus, i64)> = enrolment::Entity::find()
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

pub(crate) fn card(
    c: &cohort::Model,
    counts: &HashMap<(i64, EnrolmentStatus), i64>,
    mine: Option<EnrolmentStatus>,
    now: DateTime<Utc>,
) -> CohortCard {
    let n = |s: EnrolmentStatus| counts.get(&(c.id, s)).copied().unwrap_or(0);
    CohortCard {
        id: c.id,
        title_en: c.title_en.clone(),
        title_zh: c.title_zh.clone(),
        track: c.track,
        capacity: c.capacity,
        enrolled: n(EnrolmentStatus::Enrolled),
        waitlisted: n(EnrolmentStatus::Waitlisted),
        completed: n(EnrolmentStatus::Completed),
        enrol_opens_at: c.enrol_opens_at,
        enrol_closes_at: c.enrol_closes_at,
        starts_on: c.starts_on,
        ends_on: c.ends_on,
        location: c.location.clone(),
        open_now: c.enrol_opens_at <= now && now < c.enrol_closes_at,
        my_status: mine,
    }
}

pub(crate) async fn my_statuses(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    cohort_ids: &[i64],
) -> AppResult<HashMap<i64, EnrolmentStatus>> {
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

pub(super) async fn cards(
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
pub(crate) fn admin_select(
    query: &TableQuery,
    today: NaiveDate,
) -> AppResult<tables::Sorted<cohort::Entity>> {
    let mut q = cohort::Entity::find();
    match tables::one_of(&query.status, super::PHASES, "status")? {
        Some("upcoming") => q = q.filter(cohort::Column::StartsOn.gt(today)),
        Some("running") => {
            q = q
                .filter(cohort::Column::StartsOn.lte(today))
                .filter(cohort::Column::EndsOn.gte(today))
        }
        Some(_) => q = q.filter(cohort::Column::EndsOn.lt(today)),
        None => {}
    }
    if let Some(track) = tables::state_of(&query.of, Track::ALL, "of")? {
        q = q.filter(cohort::Column::Track.eq(track));
    }
    if let Some(pattern) = tables::search(query)? {
        q = q.filter(
            sea_orm::Condition::any()
                .add(tables::like(Expr::col(cohort::Column::TitleEn), &pattern))
                .add(tables::like(Expr::col(cohort::Column::TitleZh), &pattern)),
        );
    }
    let (column, order) = tables::sort(query, super::COHORT_COLUMNS)?;
    let by = match column.key {
        "title" => cohort::Column::TitleEn,
        "track" => cohort::Column::Track,
        "capacity" => cohort::Column::Capacity,
        _ => cohort::Column::StartsOn,
    };
    Ok(tables::order(
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
    let cohorts = tables::page(db, admin_select(query, actor.zone.today())?, query).await?;
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
    let mut out = crate::csv::line([
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
    let mut batches = tables::Batches::new(admin_select(query, actor.zone.today())?);
    while let Some(batch) = batches.next(db).await? {
        let ids: Vec<i64> = batch.iter().map(|c| c.id).collect();
        let counts = counts(db, &ids).await?;
        for c in batch.iter().map(|c| card(c, &counts, None, now)) {
            out.push_str(&crate::csv::line([
                c.id.to_string(),
                c.title_en,
                c.title_zh,
                c.track.to_string(),
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

pub(crate) fn session_view(
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

pub(crate) async fn sessions_of(
    db: &impl ConnectionTrait,
    cohort_id: i64,
) -> AppResult<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::CohortId.eq(cohort_id))
        .order_by_asc(session::Column::StartsAt)
        .order_by_asc(session::Column::Id)
        .all(db)
        .await?)
}

/// People marked present per session, in one query.
pub(crate) async fn present_counts(
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
    let (mine, me) = match (actor, card.my_status) {
        (Some(a), Some(st)) => {
            let marks: HashMap<i64, bool> = attendance::Entity::find()
                .filter(attendance::Column::UserId.eq(a.user_id))
                .filter(attendance::Column::SessionId.is_in(session_ids.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|m| (m.session_id, m.present))
                .collect();
            let waitlist_position = if st == EnrolmentStatus::Waitlisted {
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
                    status: st,
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
