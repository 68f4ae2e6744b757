//! Who reviews what: mentors assigned to applications by hand or for a whole round (balanced,
//! declared affiliations respected), and the affiliations mentors declare.
use super::conflicts::affiliation_conflict;
use super::entity::{assignment, mentor_profile};
use super::{
    AssignmentRow, AutoAssignOutcome, MentorOption, RoundApplicationRow, RoundApplications,
};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::entity::{user, user_role};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::intake::entity::{self as round, application, event};
use crate::mail::{outbox, templates};
use crate::review::AssignmentStatus;
use crate::startups::entity::{member, startup};
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

pub(crate) async fn users_with_role(
    db: &impl ConnectionTrait,
    role: Role,
) -> AppResult<Vec<user::Model>> {
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
        .filter(application::Column::Status.ne(ApplicationStatus::Draft))
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
    let offset = crate::tables::offset(page)? as usize;
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
            status: a.status,
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
                    status: x.status,
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
pub(crate) async fn affiliations_of(db: &impl ConnectionTrait, user_id: i64) -> AppResult<String> {
    Ok(mentor_profile::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|p| p.affiliations)
        .unwrap_or_default())
}

/// Records one assignment inside the caller's transaction: the row, the application's move
/// to in review (with its timeline event) and the audit entry. The caller sends the email.
pub(crate) async fn insert_assignment(
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
        status: Set(AssignmentStatus::Assigned),
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
    if a.status == ApplicationStatus::Submitted {
        let moved = application::Entity::update_many()
            .col_expr(
                application::Column::Status,
                sea_orm::sea_query::Expr::value(ApplicationStatus::InReview),
            )
            .col_expr(
                application::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(application::Column::Id.eq(a.id))
            .filter(application::Column::Status.eq(ApplicationStatus::Submitted))
            .exec(txn)
            .await?;
        if moved.rows_affected == 1 {
            event::ActiveModel {
                application_id: Set(a.id),
                status: Set(ApplicationStatus::InReview),
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
        a.status,
        ApplicationStatus::Submitted | ApplicationStatus::InReview
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
        .unwrap_or_else(|| crate::startups::profiles::to_profile(s));
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
    let active = |x: &&assignment::Model| x.status != AssignmentStatus::Recused;
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
                a.status,
                ApplicationStatus::Submitted | ApplicationStatus::InReview
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
                    .map(crate::startups::profiles::to_profile)
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
