//! A person's own training (their cohorts, next sessions and certificates), and certificates
//! as anyone can verify them by their code.
use super::entity::{certificate, cohort, enrolment, session};
use super::views::cards;
use super::{CertificateView, MyTraining, UpcomingSession};
use crate::access::Actor;
use crate::cohorts::EnrolmentStatus;
use crate::error::{AppError, AppResult};
use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

/// A person's cohorts (not withdrawn), their next sessions and their certificates.
pub async fn my_training(db: &DatabaseConnection, actor: &Actor) -> AppResult<MyTraining> {
    let mine = enrolment::Entity::find()
        .filter(enrolment::Column::UserId.eq(actor.user_id))
        .filter(enrolment::Column::Status.ne(EnrolmentStatus::Withdrawn))
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
        .filter(|e| e.status == EnrolmentStatus::Enrolled || e.status == EnrolmentStatus::Completed)
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
        track: c.track,
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
