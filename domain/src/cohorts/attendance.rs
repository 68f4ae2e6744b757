//! Attendance (an admin's roster, or self check-in with a session's code), completion at
//! the cohort's threshold, and the certificate that completion issues.
use super::commands::lock_roster;
use super::entity::{attendance, certificate, cohort, enrolment, session};
use super::training::certificate_view;
use super::views::checkin_open;
use super::{AttendanceRow, SessionRoster};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::users_by_id;
use crate::cohorts::EnrolmentStatus;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::state::Settings;
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use wire::auth::Role;

use super::AttendanceSource;

/// People who attend a cohort: enrolled, or already completed.
async fn attendees(db: &impl ConnectionTrait, cohort_id: i64) -> AppResult<Vec<enrolment::Model>> {
    Ok(enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(cohort_id))
        .filter(
            enrolment::Column::Status
                .is_in([EnrolmentStatus::Enrolled, EnrolmentStatus::Completed]),
        )
        .order_by_asc(enrolment::Column::QueuedAt)
        .order_by_asc(enrolment::Column::Id)
        .all(db)
        .await?)
}

/// One session's roster: every attendee with their mark, for the admin's attendance screen.
pub async fn session_roster(
    db: &DatabaseConnection,
    actor: &Actor,
    session_id: i64,
) -> AppResult<SessionRoster> {
    actor.require(Role::Admin)?;
    let s = session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = cohort::Entity::find_by_id(s.cohort_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let people = attendees(db, c.id).await?;
    let users = users_by_id(db, people.iter().map(|e| e.user_id)).await?;
    let marks: HashMap<i64, attendance::Model> = attendance::Entity::find()
        .filter(attendance::Column::SessionId.eq(s.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m))
        .collect();
    let present = marks.values().filter(|m| m.present).count() as i64;
    let mut rows: Vec<AttendanceRow> = people
        .iter()
        .map(|e| {
            let u = users.get(&e.user_id);
            let m = marks.get(&e.user_id);
            AttendanceRow {
                user_id: e.user_id,
                name: u.map(|u| u.name.clone()).unwrap_or_default(),
                email: u.map(|u| u.email.clone()).unwrap_or_default(),
                present: m.map(|m| m.present),
                source: m.map(|m| m.source),
            }
        })
        .collect();
    rows.sort_by_key(|r| r.name.to_lowercase());
    let now = Utc::now();
    Ok(SessionRoster {
        cohort_id: c.id,
        cohort_title_en: c.title_en,
        cohort_title_zh: c.title_zh,
        session: super::SessionView {
            id: s.id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            topic: s.topic.clone(),
            instructor: s.instructor.clone(),
            checkin_open: checkin_open(&s, now),
            attended: None,
            checkin_code: Some(s.checkin_code.clone()),
            present,
        },
        rows,
    })
}

fn user_ids(field: &str, keys: impl Iterator<Item = String>) -> AppResult<Vec<i64>> {
    keys.map(|k| {
        k.parse::<i64>()
            .map_err(|_| AppError::invalid(field, "error.bad_form"))
    })
    .collect()
}

/// Marks a whole session at once: everyone listed in `roster` is present when they are in
/// `present`, else absent. Someone who is not an attendee of the cohort refuses the whole
/// form. Completion (and the certificate) follows from the new marks.
pub async fn mark(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    session_id: i64,
    roster: &HashMap<String, String>,
    present: &HashMap<String, String>,
) -> AppResult<usize> {
    actor.require(Role::Admin)?;
    let listed = user_ids("roster", roster.keys().cloned())?;
    let here = user_ids("present", present.keys().cloned())?;
    if listed.is_empty() {
        return Err(AppError::invalid("roster", "error.roster_empty"));
    }
    let txn = crate::txn::begin(db).await?;
    let s = session::Entity::find_by_id(session_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = lock_roster(&txn, s.cohort_id).await?;
    let now = Utc::now();
    if s.starts_at - chrono::Duration::minutes(super::views::CHECKIN_EARLY_MINUTES) > now {
        return Err(AppError::conflict("error.session_not_started"));
    }
    let allowed: std::collections::HashSet<i64> = attendees(&txn, c.id)
        .await?
        .into_iter()
        .map(|e| e.user_id)
        .collect();
    if let Some(stranger) = listed
        .iter()
        .chain(here.iter())
        .find(|u| !allowed.contains(u))
    {
        return Err(AppError::invalid(
            &format!("present[{stranger}]"),
            "error.not_an_attendee",
        ));
    }
    if here.iter().any(|u| !listed.contains(u)) {
        return Err(AppError::invalid("present", "error.bad_form"));
    }
    let existing: HashMap<i64, attendance::Model> = attendance::Entity::find()
        .filter(attendance::Column::SessionId.eq(s.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m))
        .collect();
    let mut before = BTreeMap::new();
    let mut after = BTreeMap::new();
    for uid in &listed {
        let is_present = here.contains(uid);
        match existing.get(uid) {
            Some(m) if m.present == is_present => continue,
            Some(m) => {
                before.insert(*uid, m.present);
                let mut a: attendance::ActiveModel = m.clone().into();
                a.present = Set(is_present);
                a.source = Set(AttendanceSource::Roster);
                a.marked_by = Set(Some(actor.user_id));
                a.marked_at = Set(now);
                a.update(&txn).await?;
            }
            None => {
                attendance::ActiveModel {
                    session_id: Set(s.id),
                    user_id: Set(*uid),
                    present: Set(is_present),
                    source: Set(AttendanceSource::Roster),
                    marked_by: Set(Some(actor.user_id)),
                    marked_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }
        after.insert(*uid, is_present);
    }
    let changed = after.len();
    if changed > 0 {
        audit::record(
            &txn,
            Change {
                actor: Some(actor.user_id),
                action: "attendance.marked",
                entity_type: "cohort_session",
                entity_id: s.id.to_string(),
                before: Some(json!(before)),
                after: Some(json!(after)),
            },
        )
        .await?;
        let newly_present: Vec<i64> = after.iter().filter(|(_, p)| **p).map(|(u, _)| *u).collect();
        settle(&txn, settings, &c, &newly_present, Some(actor.user_id)).await?;
    }
    txn.commit().await?;
    Ok(changed)
}

/// An attendee checks in with the code shown during a session (from 15 minutes before it
/// starts until it ends).
pub async fn check_in(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    cohort_id: i64,
    code: &str,
) -> AppResult<()> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if code.is_empty() {
        return Err(AppError::invalid("code", "error.checkin_code_required"));
    }
    let txn = crate::txn::begin(db).await?;
    let c = lock_roster(&txn, cohort_id).await?;
    let me = enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(c.id))
        .filter(enrolment::Column::UserId.eq(actor.user_id))
        .one(&txn)
        .await?;
    if !me.as_ref().is_some_and(|e| {
        e.status == EnrolmentStatus::Enrolled || e.status == EnrolmentStatus::Completed
    }) {
        return Err(AppError::conflict("error.not_enrolled"));
    }
    let now = Utc::now();
    let open: Vec<session::Model> = session::Entity::find()
        .filter(session::Column::CohortId.eq(c.id))
        .all(&txn)
        .await?
        .into_iter()
        .filter(|s| checkin_open(s, now))
        .collect();
    if open.is_empty() {
        return Err(AppError::invalid("code", "error.checkin_closed"));
    }
    let Some(s) = open.into_iter().find(|s| s.checkin_code == code) else {
        return Err(AppError::invalid("code", "error.checkin_code_wrong"));
    };
    let existing = attendance::Entity::find_by_id((s.id, actor.user_id))
        .one(&txn)
        .await?;
    match existing {
        Some(m) if m.present => {
            // Checking in twice is harmless: nothing changes.
            txn.commit().await?;
            return Ok(());
        }
        Some(m) => {
            let mut a: attendance::ActiveModel = m.into();
            a.present = Set(true);
            a.source = Set(AttendanceSource::Checkin);
            a.marked_by = Set(Some(actor.user_id));
            a.marked_at = Set(now);
            a.update(&txn).await?;
        }
        None => {
            attendance::ActiveModel {
                session_id: Set(s.id),
                user_id: Set(actor.user_id),
                present: Set(true),
                source: Set(AttendanceSource::Checkin),
                marked_by: Set(Some(actor.user_id)),
                marked_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "attendance.checked_in",
            entity_type: "cohort_session",
            entity_id: s.id.to_string(),
            before: None,
            after: Some(json!({"user_id": actor.user_id, "present": true})),
        },
    )
    .await?;
    settle(&txn, settings, &c, &[actor.user_id], Some(actor.user_id)).await?;
    txn.commit().await?;
    Ok(())
}

const CERT_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A certificate's public code, `HC-XXXX-XXXX-XXXX` (60 random bits, Crockford's alphabet).
fn new_certificate_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut groups = Vec::with_capacity(3);
    for _ in 0..3 {
        let g: String = (0..4)
            .map(|_| CERT_ALPHABET[rng.random_range(0..CERT_ALPHABET.len())] as char)
            .collect();
        groups.push(g);
    }
    format!("HC-{}", groups.join("-"))
}

/// Completes the enrolments of `candidates` whose attendance has reached the cohort's
/// threshold, issuing each a certificate and telling them. Call it with the roster lock held.
async fn settle(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    c: &cohort::Model,
    candidates: &[i64],
    actor: Option<i64>,
) -> AppResult<()> {
    if candidates.is_empty() {
        return Ok(());
    }
    let total = session::Entity::find()
        .filter(session::Column::CohortId.eq(c.id))
        .count(txn)
        .await? as i64;
    if total == 0 {
        return Ok(());
    }
    let session_ids: Vec<i64> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::CohortId.eq(c.id))
        .into_tuple()
        .all(txn)
        .await?;
    let attended: HashMap<i64, i64> = attendance::Entity::find()
        .select_only()
        .column(attendance::Column::UserId)
        .column_as(Expr::col(attendance::Column::SessionId).count(), "n")
        .filter(attendance::Column::SessionId.is_in(session_ids))
        .filter(attendance::Column::UserId.is_in(candidates.iter().copied()))
        .filter(attendance::Column::Present.eq(true))
        .group_by(attendance::Column::UserId)
        .into_tuple::<(i64, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let due: Vec<i64> = candidates
        .iter()
        .copied()
        .filter(|u| {
            let n = attended.get(u).copied().unwrap_or(0);
            n * 100 >= i64::from(c.completion_percent) * total
        })
        .collect();
    if due.is_empty() {
        return Ok(());
    }
    let enrolled = enrolment::Entity::find()
        .filter(enrolment::Column::CohortId.eq(c.id))
        .filter(enrolment::Column::UserId.is_in(due))
        .filter(enrolment::Column::Status.eq(EnrolmentStatus::Enrolled))
        .all(txn)
        .await?;
    let people = users_by_id(txn, enrolled.iter().map(|e| e.user_id)).await?;
    let now = Utc::now();
    for e in enrolled {
        let Some(person) = people.get(&e.user_id) else {
            continue;
        };
        let n = attended.get(&e.user_id).copied().unwrap_or(0);
        let mut a: enrolment::ActiveModel = e.clone().into();
        a.status = Set(EnrolmentStatus::Completed);
        a.completed_at = Set(Some(now));
        a.updated_at = Set(now);
        a.update(txn).await?;
        let cert = certificate::ActiveModel {
            code: Set(new_certificate_code()),
            enrolment_id: Set(e.id),
            cohort_id: Set(c.id),
            user_id: Set(e.user_id),
            holder_name: Set(person.name.clone()),
            sessions_attended: Set(n as i32),
            sessions_total: Set(total as i32),
            issued_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        audit::record(
            txn,
            Change {
                actor,
                action: "enrolment.completed",
                entity_type: "enrolment",
                entity_id: e.id.to_string(),
                before: Some(json!({"status": EnrolmentStatus::Enrolled})),
                after: Some(json!({
                    "status": EnrolmentStatus::Completed, "certificate": cert.code,
                    "attended": n, "sessions": total,
                })),
            },
        )
        .await?;
        let locale = Locale::from_tag(&person.locale).unwrap_or_default();
        let view = certificate_view(cert, c);
        let title = super::pick(locale, &view.cohort_title_en, &view.cohort_title_zh);
        let link = settings.link(&format!("/certificates/{}", view.code));
        let content = templates::certificate_issued(locale, &person.name, title, &view.code, &link);
        outbox::enqueue(txn, &person.email, &person.name, locale, &content).await?;
        crate::channels::notify::announce(
            txn,
            wire::channels::ChannelEvent::CertificateIssued,
            |l| {
                let title = super::pick(l, &view.cohort_title_en, &view.cohort_title_zh);
                crate::channels::notify::certificate_issued(
                    l,
                    &person.name,
                    title,
                    &view.code,
                    &link,
                )
            },
        )
        .await?;
    }
    Ok(())
}
