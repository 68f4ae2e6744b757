//! Rules of review: admins assign mentors; a mentor sees only their own assignments, scores
//! every rubric criterion 1–5 until the deadline, or declares a conflict and is recused.
use super::conflicts::affiliation_conflict;
use super::entity::{assignment, mentor_profile, score};
use super::status::{ASSIGNED, RECUSED, SUBMITTED};
use super::{
    AssignmentRow, AutoAssignOutcome, CriterionScore, MentorOption, QueueItem, ReviewPage,
    RoundApplicationRow, RoundApplications, RECOMMENDATIONS,
};
use crate::audit::{self, Change};
use crate::auth::domain::Actor;
use crate::auth::entity::{user, user_role};
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::intake::entity::{self as round, application, criterion, event};
use crate::intake::status as app_status;
use crate::mail::{outbox, templates};
use crate::startups::entity::{member, startup};
use crate::startups::StartupProfile;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use std::collections::HashMap;

async fn users_with_role(db: &impl ConnectionTrait, role: Role) -> AppResult<Vec<user::Model>> {
    let ids: Vec<i64> = user_role::Entity::find()
        .filter(user_role::Column::Role.eq(role.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.user_id)
        .collect();
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .order_by_asc(user::Column::Name)
        .all(db)
        .await?)
}

/// A round's submitted applications (in order of submission), their startups and their
/// review assignments: three queries, whatever the size of the round.
pub(super) struct RoundReviews {
    pub apps: Vec<application::Model>,
    pub startups: Vec<startup::Model>,
    pub assignments: Vec<assignment::Model>,
}

pub(super) async fn round_reviews(
    db: &impl ConnectionTrait,
    round_id: i64,
) -> AppResult<RoundReviews> {
    let apps = application::Entity::find()
        .filter(application::Column::RoundId.eq(round_id))
        .filter(application::Column::Status.ne(app_status::DRAFT))
        .order_by_asc(application::Column::SubmittedAt)
        .all(db)
        .await?;
    let startups = startup::Entity::find()
        .filter(startup::Column::Id.is_in(apps.iter().map(|a| a.startup_id)))
        .all(db)
        .await?;
    let assignments = assignment::Entity::find()
        .filter(assignment::Column::ApplicationId.is_in(apps.iter().map(|a| a.id)))
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?;
    Ok(RoundReviews {
        apps,
        startups,
        assignments,
    })
}

/// The admin's table of a round's submitted applications and their reviewers, a page at a
/// time (six queries).
pub async fn round_applications(
    db: &DatabaseConnection,
    actor: &Actor,
    round_id: i64,
    locale: Locale,
    page: u64,
) -> AppResult<RoundApplications> {
    let offset = crate::tables::ssr::offset(page)? as usize;
    let per_page = crate::tables::PER_PAGE as usize;
    actor.require(Role::Admin)?;
    let r = round::Entity::find_by_id(round_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let RoundReviews {
        apps,
        startups,
        assignments,
    } = round_reviews(db, round_id).await?;
    let mentors = users_with_role(db, Role::Mentor).await?;
    let assigned_users = user::Entity::find()
        .filter(user::Column::Id.is_in(assignments.iter().map(|a| a.mentor_id)))
        .all(db)
        .await?;
    let rows = apps
        .iter()
        .map(|a| RoundApplicationRow {
            application_id: a.id,
            // Admins always see who applied; blind review hides names from mentors only.
            startup_name: startups
                .iter()
                .find(|s| s.id == a.startup_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            status: a.status.clone(),
            submitted_at: a.submitted_at,
            assignments: assignments
                .iter()
                .filter(|x| x.application_id == a.id)
                .map(|x| AssignmentRow {
                    assignment_id: x.id,
                    mentor_id: x.mentor_id,
                    mentor_name: assigned_users
                        .iter()
                        .find(|u| u.id == x.mentor_id)
                        .map(|u| u.name.clone())
                        .unwrap_or_default(),
                    status: x.status.clone(),
                })
                .collect(),
        })
        .collect();
    let rows: Vec<RoundApplicationRow> = rows;
    let wanted = usize::try_from(r.mentors_per_application).unwrap_or(1);
    let short = rows
        .iter()
        .filter(|row| super::needs_reviewers(row, wanted))
        .count();
    let more = rows.len() > offset + per_page;
    let rows = rows.into_iter().skip(offset).take(per_page).collect();
    Ok(RoundApplications {
        round_id,
        round_title: r.title(locale),
        mentors_per_application: r.mentors_per_application,
        rows,
        page,
        more,
        short,
        mentors: mentors
            .into_iter()
            .map(|u| MentorOption {
                id: u.id,
                name: u.name,
                email: u.email,
            })
            .collect(),
    })
}

/// A mentor's declared affiliations, or "" when they declared none.
async fn affiliations_of(db: &impl ConnectionTrait, user_id: i64) -> AppResult<String> {
    Ok(mentor_profile::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|p| p.affiliations)
        .unwrap_or_default())
}

/// Records one assignment inside the caller's transaction: the row, the application's move
/// to in review (with its timeline event) and the audit entry. The caller sends the email.
async fn insert_assignment(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    a: &application::Model,
    mentor_id: i64,
    now: chrono::DateTime<Utc>,
    how: &'static str,
) -> AppResult<i64> {
    let x = assignment::ActiveModel {
        application_id: Set(a.id),
        mentor_id: Set(mentor_id),
        status: Set(ASSIGNED.into()),
        recommendation: Set(None),
        feedback_applicant: Set(String::new()),
        notes_committee: Set(String::new()),
        conflict_reason: Set(None),
        assigned_by: Set(Some(actor.user_id)),
        submitted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if a.status == app_status::SUBMITTED {
        let moved = application::Entity::update_many()
            .col_expr(
                application::Column::Status,
                sea_orm::sea_query::Expr::value(app_status::IN_REVIEW),
            )
            .col_expr(
                application::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(application::Column::Id.eq(a.id))
            .filter(application::Column::Status.eq(app_status::SUBMITTED))
            .exec(txn)
            .await?;
        if moved.rows_affected == 1 {
            event::ActiveModel {
                application_id: Set(a.id),
                status: Set(app_status::IN_REVIEW.into()),
                actor_user_id: Set(Some(actor.user_id)),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    audit::record(
        txn,
        Change {
            actor: Some(actor.user_id),
            action: "review.assigned",
            entity_type: "application",
            entity_id: a.id.to_string(),
            before: None,
            after: Some(json!({"mentor": mentor_id, "assignment": x.id, "how": how})),
        },
    )
    .await?;
    Ok(x.id)
}

/// An admin assigns a mentor to a submitted application; the mentor is emailed.
pub async fn assign(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    application_id: i64,
    mentor_id: i64,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let a = application::Entity::find_by_id(application_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !matches!(
        a.status.as_str(),
        app_status::SUBMITTED | app_status::IN_REVIEW
    ) {
        return Err(AppError::conflict("error.not_reviewable"));
    }
    let mentor = user::Entity::find_by_id(mentor_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let is_mentor = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(mentor_id))
        .filter(user_role::Column::Role.eq(Role::Mentor.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if !is_mentor {
        return Err(AppError::invalid("mentor_id", "error.not_a_mentor"));
    }
    let on_team = member::Entity::find()
        .filter(member::Column::StartupId.eq(a.startup_id))
        .filter(member::Column::UserId.eq(mentor_id))
        .one(&txn)
        .await?
        .is_some();
    if on_team {
        return Err(AppError::conflict("error.mentor_on_team"));
    }
    let s = startup::Entity::find_by_id(a.startup_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let profile: StartupProfile = a
        .profile_snapshot
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| crate::startups::domain::to_profile(s));
    let affiliations = affiliations_of(&txn, mentor_id).await?;
    if affiliation_conflict(&affiliations, &profile.name, &profile.founders).is_some() {
        return Err(AppError::conflict("error.mentor_affiliated"));
    }
    let existing = assignment::Entity::find()
        .filter(assignment::Column::ApplicationId.eq(application_id))
        .filter(assignment::Column::MentorId.eq(mentor_id))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(AppError::conflict("error.already_assigned"));
    }
    let now = Utc::now();
    let id = insert_assignment(&txn, actor, &a, mentor_id, now, "by_hand").await?;
    let r = round::Entity::find_by_id(a.round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let locale = Locale::from_tag(&mentor.locale).unwrap_or_default();
    let link = settings.link(&format!("/reviews/{id}"));
    let content = templates::reviewer_assigned(locale, &mentor.name, &r.title(locale), &link);
    outbox::enqueue(&txn, &mentor.email, &mentor.name, locale, &content).await?;
    txn.commit().await?;
    Ok(id)
}

/// Assigns mentors to every application of a round that has fewer than the round's number of
/// active (not recused) reviewers. Each pick is the eligible mentor with the lightest load in
/// the round (ties by id, so the result is reproducible); a mentor is not eligible where they
/// are on the team, already assigned or recused, or declared an affiliation with the startup.
/// One transaction; each mentor gets one email listing how many applications they received.
pub async fn auto_assign(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    round_id: i64,
) -> AppResult<AutoAssignOutcome> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let r = round::Entity::find_by_id(round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let RoundReviews {
        apps,
        startups,
        assignments,
    } = round_reviews(&txn, round_id).await?;
    let mentors = users_with_role(&txn, Role::Mentor).await?;
    if mentors.is_empty() {
        return Err(AppError::conflict("error.no_mentors"));
    }
    let profiles = mentor_profile::Entity::find()
        .filter(mentor_profile::Column::UserId.is_in(mentors.iter().map(|m| m.id)))
        .all(&txn)
        .await?;
    let members = member::Entity::find()
        .filter(member::Column::StartupId.is_in(apps.iter().map(|a| a.startup_id)))
        .all(&txn)
        .await?;
    let active = |x: &&assignment::Model| x.status != RECUSED;
    let mut load: HashMap<i64, usize> = mentors.iter().map(|m| (m.id, 0)).collect();
    for x in assignments.iter().filter(active) {
        if let Some(n) = load.get_mut(&x.mentor_id) {
            *n += 1;
        }
    }
    let wanted = usize::try_from(r.mentors_per_application.max(1)).unwrap_or(1);
    let mut open: Vec<(&application::Model, usize)> = apps
        .iter()
        .filter(|a| {
            matches!(
                a.status.as_str(),
                app_status::SUBMITTED | app_status::IN_REVIEW
            )
        })
        .map(|a| {
            let have = assignments
                .iter()
                .filter(active)
                .filter(|x| x.application_id == a.id)
                .count();
            (a, have)
        })
        .filter(|(_, have)| *have < wanted)
        .collect();
    // The most under-reviewed applications choose first, so that scarce mentors go where
    // they are missing most.
    open.sort_by_key(|(a, have)| (*have, a.submitted_at, a.id));
    let now = Utc::now();
    let mut outcome = AutoAssignOutcome::default();
    let mut per_mentor: HashMap<i64, usize> = HashMap::new();
    for (a, have) in open {
        let profile: StartupProfile = a
            .profile_snapshot
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .or_else(|| {
                startups
                    .iter()
                    .find(|s| s.id == a.startup_id)
                    .cloned()
                    .map(crate::startups::domain::to_profile)
            })
            .unwrap_or_default();
        let mut eligible: Vec<&user::Model> = mentors
            .iter()
            .filter(|m| {
                !members
                    .iter()
                    .any(|x| x.startup_id == a.startup_id && x.user_id == m.id)
                    && !assignments
                        .iter()
                        .any(|x| x.application_id == a.id && x.mentor_id == m.id)
                    && !profiles.iter().any(|p| {
                        p.user_id == m.id
                            && affiliation_conflict(
                                &p.affiliations,
                                &profile.name,
                                &profile.founders,
                            )
                            .is_some()
                    })
            })
            .collect();
        eligible.sort_by_key(|m| (load.get(&m.id).copied().unwrap_or(0), m.id));
        let picks: Vec<i64> = eligible.iter().take(wanted - have).map(|m| m.id).collect();
        if have + picks.len() < wanted {
            outcome.short += 1;
        }
        for mentor_id in picks {
            insert_assignment(&txn, actor, a, mentor_id, now, "automatic").await?;
            *load.entry(mentor_id).or_default() += 1;
            *per_mentor.entry(mentor_id).or_default() += 1;
            outcome.assigned += 1;
        }
    }
    let link = settings.link("/reviews");
    for m in mentors.iter().filter(|m| per_mentor.contains_key(&m.id)) {
        let locale = Locale::from_tag(&m.locale).unwrap_or_default();
        let count = per_mentor[&m.id].to_string();
        let content =
            templates::reviewers_assigned_batch(locale, &m.name, &r.title(locale), &count, &link);
        outbox::enqueue(&txn, &m.email, &m.name, locale, &content).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "review.auto_assigned",
            entity_type: "round",
            entity_id: round_id.to_string(),
            before: None,
            after: Some(json!({"assigned": outcome.assigned, "short": outcome.short})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(outcome)
}

/// The signed-in mentor's declared affiliations.
pub async fn my_affiliations(db: &DatabaseConnection, actor: &Actor) -> AppResult<String> {
    actor.require(Role::Mentor)?;
    affiliations_of(db, actor.user_id).await
}

/// Replaces the signed-in mentor's declared affiliations.
pub async fn save_affiliations(
    db: &DatabaseConnection,
    actor: &Actor,
    text: &str,
) -> AppResult<()> {
    actor.require(Role::Mentor)?;
    let text = super::conflicts::entries(text)
        .collect::<Vec<_>>()
        .join("\n");
    if text.chars().count() > 4000 {
        return Err(AppError::invalid("affiliations", "error.too_long"));
    }
    let txn = crate::txn::begin(db).await?;
    let before = affiliations_of(&txn, actor.user_id).await?;
    let row = mentor_profile::ActiveModel {
        user_id: Set(actor.user_id),
        affiliations: Set(text.clone()),
        updated_at: Set(Utc::now()),
    };
    mentor_profile::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(mentor_profile::Column::UserId)
                .update_columns([
                    mentor_profile::Column::Affiliations,
                    mentor_profile::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "mentor.affiliations_updated",
            entity_type: "user",
            entity_id: actor.user_id.to_string(),
            before: Some(json!({"affiliations": before})),
            after: Some(json!({"affiliations": text})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

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
                status: x.status.clone(),
                due_at: r.review_deadline,
            })
        })
        .collect();
    items.sort_by_key(|i| (i.status != ASSIGNED, i.due_at));
    Ok(items)
}

/// The mentor's own assignment; anyone else is told it does not exist.
async fn own_assignment(
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

struct Context {
    application: application::Model,
    round: round::Model,
    criteria: Vec<criterion::Model>,
}

async fn context_of(db: &impl ConnectionTrait, x: &assignment::Model) -> AppResult<Context> {
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
fn editable(x: &assignment::Model, c: &Context) -> bool {
    x.status != RECUSED
        && c.application.status == app_status::IN_REVIEW
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
        status: x.status.clone(),
        round_title: c.round.title(locale),
        due_at: c.round.review_deadline,
        editable: editable(&x, &c),
        blind: c.round.blind_review,
        profile,
        fields: crate::intake::ApplicationFields {
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
        recommendation: x.recommendation.clone(),
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
    if x.status == RECUSED {
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
    if !RECOMMENDATIONS.contains(&input.recommendation.as_str()) {
        return Err(AppError::invalid(
            "recommendation",
            "error.recommendation_invalid",
        ));
    }
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
    let revised = x.status == SUBMITTED;
    let mut active: assignment::ActiveModel = x.clone().into();
    active.status = Set(SUBMITTED.into());
    active.recommendation = Set(Some(input.recommendation.clone()));
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
    if x.status == RECUSED {
        return Err(AppError::conflict("error.recused"));
    }
    let c = context_of(&txn, &x).await?;
    score::Entity::delete_many()
        .filter(score::Column::AssignmentId.eq(x.id))
        .exec(&txn)
        .await?;
    let before = x.status.clone();
    let mut active: assignment::ActiveModel = x.clone().into();
    active.status = Set(RECUSED.into());
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
            after: Some(json!({"status": RECUSED, "reason": reason})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
