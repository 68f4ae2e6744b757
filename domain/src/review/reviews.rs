//! A mentor's queue and reviews: rubric scores, feedback, and conflicts declared instead.
use super::entity::{assignment, score};
use super::{CriterionScore, QueueItem, Recommendation, ReviewPage};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::intake::entity::{self as round, application, criterion};
use crate::mail::{outbox, templates};
use crate::review::assignments::users_with_role;
use crate::review::AssignmentStatus;
use crate::startups::entity::startup;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use std::collections::HashMap;
use wire::auth::Role;
use wire::intake::ApplicationStatus;
use wire::startups::StartupProfile;

/// The mentor's own assignments, soonest due first (four queries).
pub async fn queue(
    db: &DatabaseConnection,
    actor: &Actor,
    locale: Locale,
) -> AppResult<Vec<QueueItem>> {
    actor.require(Role::Mentor)?;
    let mine = assignment::Entity::find()
        .filter(assignment::Column::MentorId.eq(actor.user_id))
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?;
    let apps = application::Entity::find()
        .filter(application::Column::Id.is_in(mine.iter().map(|x| x.application_id)))
        .all(db)
        .await?;
    let rounds = round::Entity::find()
        .filter(round::Column::Id.is_in(apps.iter().map(|a| a.round_id)))
        .all(db)
        .await?;
    let startups = startup::Entity::find()
        .filter(startup::Column::Id.is_in(apps.iter().map(|a| a.startup_id)))
        .all(db)
        .await?;
    let mut items: Vec<QueueItem> = mine
        .iter()
        .filter_map(|x| {
            let a = apps.iter().find(|a| a.id == x.application_id)?;
            let r = rounds.iter().find(|r| r.id == a.round_id)?;
            Some(QueueItem {
                assignment_id: x.id,
                application_id: a.id,
                round_title: r.title(locale),
                startup_name: if r.blind_review {
                    None
                } else {
                    startups
                        .iter()
                        .find(|s| s.id == a.startup_id)
                        .map(|s| s.name.clone())
                },
                status: x.status,
                due_at: r.review_deadline,
            })
        })
        .collect();
    items.sort_by_key(|i| (i.status != AssignmentStatus::Assigned, i.due_at));
    Ok(items)
}

/// The mentor's own assignment; anyone else is told it does not exist.
pub(crate) async fn own_assignment(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<assignment::Model> {
    actor.require(Role::Mentor)?;
    assignment::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|x| x.mentor_id == actor.user_id)
        .ok_or(AppError::NotFound)
}

pub(crate) struct Context {
    pub(crate) application: application::Model,
    pub(crate) round: round::Model,
    pub(crate) criteria: Vec<criterion::Model>,
}

pub(crate) async fn context_of(
    db: &impl ConnectionTrait,
    x: &assignment::Model,
) -> AppResult<Context> {
    let application = application::Entity::find_by_id(x.application_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let round = round::Entity::find_by_id(application.round_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let criteria = criterion::Entity::find()
        .filter(criterion::Column::RoundId.eq(round.id))
        .order_by_asc(criterion::Column::Position)
        .all(db)
        .await?;
    Ok(Context {
        application,
        round,
        criteria,
    })
}

/// Reviews can change until the round's review deadline, while the application is in review.
pub(crate) fn editable(x: &assignment::Model, c: &Context) -> bool {
    x.status != AssignmentStatus::Recused
        && c.application.status == ApplicationStatus::InReview
        && c.round.review_deadline.is_none_or(|d| Utc::now() < d)
}

pub async fn review_page(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    locale: Locale,
) -> AppResult<ReviewPage> {
    let x = own_assignment(db, actor, id).await?;
    let c = context_of(db, &x).await?;
    let scores: HashMap<i64, i32> = score::Entity::find()
        .filter(score::Column::AssignmentId.eq(x.id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.criterion_id, s.score))
        .collect();
    let mut profile: StartupProfile = match &c.application.profile_snapshot {
        Some(json) => serde_json::from_str(json).map_err(|_| AppError::Internal)?,
        None => return Err(AppError::NotFound),
    };
    if c.round.blind_review {
        // The startup's id would name it too (it is in the page's data and in its URLs).
        profile.id = 0;
        profile.name = String::new();
        profile.founders = String::new();
        profile.credit_code = None;
        profile.website = None;
    }
    let zh = locale == Locale::ZhCn;
    Ok(ReviewPage {
        assignment_id: x.id,
        application_id: c.application.id,
        status: x.status,
        round_title: c.round.title(locale),
        due_at: c.round.review_deadline,
        editable: editable(&x, &c),
        blind: c.round.blind_review,
        profile,
        fields: wire::intake::ApplicationFields {
            problem: c.application.problem.clone(),
            solution: c.application.solution.clone(),
            models_data: c.application.models_data.clone(),
            gpu_model: c.application.gpu_model.clone(),
            gpu_hours: c.application.gpu_hours.to_string(),
            traction: c.application.traction.clone(),
            team: c.application.team.clone(),
        },
        criteria: c
            .criteria
            .iter()
            .map(|k| CriterionScore {
                criterion_id: k.id,
                name: if zh {
                    k.name_zh.clone()
                } else {
                    k.name_en.clone()
                },
                guidance: if zh {
                    k.guidance_zh.clone()
                } else {
                    k.guidance_en.clone()
                },
                weight: k.weight,
                score: scores.get(&k.id).copied(),
            })
            .collect(),
        recommendation: x.recommendation,
        feedback_applicant: x.feedback_applicant.clone(),
        notes_committee: x.notes_committee.clone(),
        conflict_reason: x.conflict_reason.clone(),
    })
}

pub struct ReviewInput {
    /// Criterion id → the score as typed.
    pub scores: HashMap<String, String>,
    pub recommendation: String,
    pub feedback_applicant: String,
    pub notes_committee: String,
}

/// Submits (or revises) the mentor's review: every criterion scored 1–5, a recommendation,
/// feedback for the applicant; notes for the committee are optional.
pub async fn submit_review(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    input: ReviewInput,
) -> AppResult<()> {
    let txn = crate::txn::begin(db).await?;
    let x = own_assignment(&txn, actor, id).await?;
    if x.status == AssignmentStatus::Recused {
        return Err(AppError::conflict("error.recused"));
    }
    let c = context_of(&txn, &x).await?;
    if !editable(&x, &c) {
        return Err(AppError::conflict("error.review_closed"));
    }
    let mut parsed = Vec::with_capacity(c.criteria.len());
    for k in &c.criteria {
        let field = format!("scores[{}]", k.id);
        let raw = input
            .scores
            .get(&k.id.to_string())
            .map(|s| s.trim())
            .unwrap_or("");
        if raw.is_empty() {
            return Err(AppError::invalid(&field, "error.score_required"));
        }
        let value = raw
            .parse::<i32>()
            .ok()
            .filter(|v| (1..=5).contains(v))
            .ok_or_else(|| AppError::invalid(&field, "error.score_range"))?;
        parsed.push((k.id, value));
    }
    if input
        .scores
        .keys()
        .any(|k| !c.criteria.iter().any(|cr| cr.id.to_string() == *k))
    {
        return Err(AppError::invalid("scores", "error.score_unknown_criterion"));
    }
    let recommendation = Recommendation::parse(input.recommendation.trim())
        .ok_or_else(|| AppError::invalid("recommendation", "error.recommendation_invalid"))?;
    let feedback = input.feedback_applicant.trim();
    if feedback.is_empty() {
        return Err(AppError::invalid(
            "feedback_applicant",
            "error.field_required",
        ));
    }
    if feedback.chars().count() > 10_000 || input.notes_committee.chars().count() > 10_000 {
        return Err(AppError::invalid("feedback_applicant", "error.too_long"));
    }
    score::Entity::delete_many()
        .filter(score::Column::AssignmentId.eq(x.id))
        .exec(&txn)
        .await?;
    for (criterion_id, value) in &parsed {
        score::ActiveModel {
            assignment_id: Set(x.id),
            criterion_id: Set(*criterion_id),
            score: Set(*value),
        }
        .insert(&txn)
        .await?;
    }
    let now = Utc::now();
    let revised = x.status == AssignmentStatus::Submitted;
    let mut active: assignment::ActiveModel = x.clone().into();
    active.status = Set(AssignmentStatus::Submitted);
    active.recommendation = Set(Some(recommendation));
    active.feedback_applicant = Set(feedback.to_string());
    active.notes_committee = Set(input.notes_committee.trim().to_string());
    active.submitted_at = Set(Some(now));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: if revised {
                "review.revised"
            } else {
                "review.submitted"
            },
            entity_type: "review",
            entity_id: x.id.to_string(),
            before: None,
            after: Some(json!({"scores": parsed, "recommendation": input.recommendation})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The mentor declares a conflict of interest: recused, their scores removed, admins told.
pub async fn declare_conflict(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "error.conflict_reason_required",
        ));
    }
    let txn = crate::txn::begin(db).await?;
    let x = own_assignment(&txn, actor, id).await?;
    if x.status == AssignmentStatus::Recused {
        return Err(AppError::conflict("error.recused"));
    }
    let c = context_of(&txn, &x).await?;
    score::Entity::delete_many()
        .filter(score::Column::AssignmentId.eq(x.id))
        .exec(&txn)
        .await?;
    let before = x.status;
    let mut active: assignment::ActiveModel = x.clone().into();
    active.status = Set(AssignmentStatus::Recused);
    active.conflict_reason = Set(Some(reason.chars().take(2000).collect()));
    active.recommendation = Set(None);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    let link = settings.link(&format!("/admin/rounds/{}/applications", c.round.id));
    for admin in users_with_role(&txn, Role::Admin).await? {
        let locale = Locale::from_tag(&admin.locale).unwrap_or_default();
        let content = templates::conflict_declared(
            locale,
            &admin.name,
            &actor.name,
            &c.round.title(locale),
            c.application.id,
            &link,
        );
        outbox::enqueue(&txn, &admin.email, &admin.name, locale, &content).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "review.recused",
            entity_type: "review",
            entity_id: x.id.to_string(),
            before: Some(json!({"status": before})),
            after: Some(json!({"status": AssignmentStatus::Recused, "reason": reason})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
