//! The committee's view and decision: per application the weighted mean of its reviews, their
//! spread (mentors disagree), and a normalised score that calibrates harsh and lenient mentors.
use super::entity::{assignment, score};
use super::scores::{aggregate, disagree, weighted_total, z_scores};
use super::AssignmentStatus;
use super::{BoardRow, BoardView, DecisionBoard, ReviewSummary};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::entity::user;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::intake::entity::{self as round, application, criterion, event};
use crate::mail::{outbox, templates};
use crate::startups::entity::{member, startup};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde_json::json;
use std::collections::HashMap;
use wire::auth::Role;
use wire::intake::ApplicationStatus;
use wire::startups::incubation::StartupStatus;

/// The application status a decision gives; there is no default decision.
fn decided_status(decision: &str) -> AppResult<ApplicationStatus> {
    match decision {
        "" => Err(AppError::invalid("decision", "error.decision_required")),
        "accept" => Ok(ApplicationStatus::Accepted),
        "reject" => Ok(ApplicationStatus::Rejected),
        "waitlist" => Ok(ApplicationStatus::Waitlisted),
        _ => Err(AppError::invalid("decision", "error.decision_invalid")),
    }
}

/// Whether an application in state `from` may be decided as `to`: a submitted or reviewed one
/// may, a waitlisted one may be accepted or rejected later; other decisions are final.
fn may_decide(from: ApplicationStatus, to: ApplicationStatus) -> bool {
    let decidable = matches!(
        from,
        ApplicationStatus::Submitted | ApplicationStatus::InReview | ApplicationStatus::Waitlisted
    );
    decidable && to.is_decided() && from != to
}

/// One page of the round's submitted applications with their review aggregates, narrowed and
/// ordered as `view` says (seven queries). Every review of the round is read: a mentor's
/// normalised scores depend on all of their reviews. Rows are ranked best first (no score
/// last), ties in the order of submission.
pub async fn board(
    db: &DatabaseConnection,
    actor: &Actor,
    round_id: i64,
    view: &BoardView,
    locale: Locale,
) -> AppResult<DecisionBoard> {
    actor.require(Role::Admin)?;
    let offset = crate::tables::offset(view.page)? as usize;
    let per_page = crate::tables::PER_PAGE as usize;
    let r = round::Entity::find_by_id(round_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let weights: HashMap<i64, i32> = criterion::Entity::find()
        .filter(criterion::Column::RoundId.eq(round_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.weight))
        .collect();
    let super::assignments::RoundReviews {
        apps,
        startups,
        assignments,
    } = super::assignments::round_reviews(db, round_id).await?;
    let mut scores: HashMap<i64, Vec<(i64, i32)>> = HashMap::new();
    for s in score::Entity::find()
        .filter(score::Column::AssignmentId.is_in(assignments.iter().map(|a| a.id)))
        .all(db)
        .await?
    {
        scores
            .entry(s.assignment_id)
            .or_default()
            .push((s.criterion_id, s.score));
    }
    let mentors: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(assignments.iter().map(|a| a.mentor_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let startup_names: HashMap<i64, &str> =
        startups.iter().map(|s| (s.id, s.name.as_str())).collect();

    // Each submitted review's total, then each mentor's totals normalised across the round.
    let totals: HashMap<i64, f64> = assignments
        .iter()
        .filter(|x| x.status == AssignmentStatus::Submitted)
        .filter_map(|x| {
            weighted_total(
                scores.get(&x.id).map(Vec::as_slice).unwrap_or(&[]),
                &weights,
            )
            .map(|t| (x.id, t))
        })
        .collect();
    let mut by_mentor: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut by_application: HashMap<i64, Vec<&assignment::Model>> = HashMap::new();
    for x in &assignments {
        by_application.entry(x.application_id).or_default().push(x);
        if totals.contains_key(&x.id) {
            by_mentor.entry(x.mentor_id).or_default().push(x.id);
        }
    }
    let mut z: HashMap<i64, f64> = HashMap::new();
    for ids in by_mentor.values() {
        let t: Vec<f64> = ids.iter().map(|id| totals[id]).collect();
        for (id, zi) in ids.iter().zip(z_scores(&t)) {
            z.insert(*id, zi);
        }
    }

    // The figures of every application, to narrow and rank them; the page's rows only then.
    struct Ranked<'a> {
        app: &'a application::Model,
        reviews: Vec<&'a assignment::Model>,
        assigned: usize,
        mean: Option<f64>,
        spread: Option<f64>,
        normalised: Option<f64>,
    }
    let mut ranked: Vec<Ranked> = apps
        .iter()
        .map(|a| {
            let all = by_application.get(&a.id).map(Vec::as_slice).unwrap_or(&[]);
            let reviews: Vec<&assignment::Model> = all
                .iter()
                .copied()
                .filter(|x| totals.contains_key(&x.id))
                .collect();
            let figures = aggregate(
                &reviews
                    .iter()
                    .map(|x| (totals[&x.id], z[&x.id]))
                    .collect::<Vec<_>>(),
            );
            Ranked {
                app: a,
                assigned: all
                    .iter()
                    .filter(|x| x.status != AssignmentStatus::Recused)
                    .count(),
                mean: figures.map(|f| f.mean),
                spread: figures.map(|f| f.spread),
                normalised: figures.map(|f| f.normalised),
                reviews,
            }
        })
        .filter(|r| match view.filter() {
            None => true,
            Some("disagreement") => disagree(r.spread),
            Some(status) => r.app.status.as_str() == status,
        })
        .collect();
    let key = |r: &Ranked| {
        if view.by_normalised() {
            r.normalised
        } else {
            r.mean
        }
        .unwrap_or(f64::MIN)
    };
    ranked.sort_by(|x, y| key(y).total_cmp(&key(x)));
    let matching = ranked.len();
    let rows = ranked
        .into_iter()
        .skip(offset)
        .take(per_page)
        .map(|r| BoardRow {
            application_id: r.app.id,
            startup_name: startup_names
                .get(&r.app.startup_id)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            status: r.app.status,
            assigned: r.assigned,
            weighted_mean: r.mean,
            spread: r.spread,
            disagreement: disagree(r.spread),
            normalised: r.normalised,
            reviews: r
                .reviews
                .iter()
                .map(|x| ReviewSummary {
                    mentor_name: mentors.get(&x.mentor_id).cloned().unwrap_or_default(),
                    total: totals[&x.id],
                    recommendation: x.recommendation,
                    feedback_applicant: x.feedback_applicant.clone(),
                    notes_committee: x.notes_committee.clone(),
                })
                .collect(),
        })
        .collect();
    Ok(DecisionBoard {
        round_id,
        round_title: r.title(locale),
        rows,
        matching,
        page: view.page,
        more: matching > offset + per_page,
    })
}

/// An admin accepts, rejects or waitlists an application, with a message for the applicant.
/// A waitlisted application can later be accepted or rejected; other decisions are final.
/// There is no default decision, and deciding an application that no mentor has reviewed
/// needs `without_review` (the admin's confirmation).
pub async fn decide(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    application_id: i64,
    decision: &str,
    message: &str,
    without_review: bool,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let new_status = decided_status(decision)?;
    let message = message.trim();
    if message.chars().count() > 5000 {
        return Err(AppError::invalid("message", "error.too_long"));
    }
    let txn = crate::txn::begin(db).await?;
    let a = application::Entity::find_by_id(application_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_decide(a.status, new_status) {
        return Err(AppError::conflict("error.cannot_decide"));
    }
    if !without_review {
        let reviewed = assignment::Entity::find()
            .filter(assignment::Column::ApplicationId.eq(a.id))
            .filter(assignment::Column::Status.eq(AssignmentStatus::Submitted))
            .count(&txn)
            .await?;
        if reviewed == 0 {
            return Err(AppError::invalid(
                "without_review",
                "error.decide_without_review",
            ));
        }
    }
    let now = Utc::now();
    let before = a.status;
    let mut active: application::ActiveModel = a.clone().into();
    active.status = Set(new_status);
    active.decision_message = Set((!message.is_empty()).then(|| message.to_string()));
    active.decided_at = Set(Some(now));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    event::ActiveModel {
        application_id: Set(a.id),
        status: Set(new_status),
        actor_user_id: Set(Some(actor.user_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let s = startup::Entity::find_by_id(a.startup_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if new_status == ApplicationStatus::Accepted && s.status == StartupStatus::Applicant {
        let mut st: startup::ActiveModel = s.clone().into();
        st.status = Set(StartupStatus::Incubating);
        st.updated_at = Set(now);
        st.update(&txn).await?;
    }
    let r = round::Entity::find_by_id(a.round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let team: Vec<i64> = member::Entity::find()
        .filter(member::Column::StartupId.eq(s.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let link = settings.link(&format!("/applications/{}", a.id));
    for person in user::Entity::find()
        .filter(user::Column::Id.is_in(team))
        .all(&txn)
        .await?
    {
        let locale = Locale::from_tag(&person.locale).unwrap_or_default();
        let title = r.title(locale);
        let content = templates::decision(
            locale,
            &person.name,
            &title,
            new_status.as_str(),
            message,
            &link,
        );
        outbox::enqueue(&txn, &person.email, &person.name, locale, &content).await?;
    }
    crate::channels::notify::announce(&txn, wire::channels::ChannelEvent::Decision, |l| {
        crate::channels::notify::decision(l, &s.name, &r.title(l), new_status.as_str(), &link)
    })
    .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "application.decided",
            entity_type: "application",
            entity_id: a.id.to_string(),
            before: Some(json!({"status": before})),
            after: Some(json!({"status": new_status, "message": message})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_must_be_chosen() {
        assert_eq!(decided_status("accept"), Ok(ApplicationStatus::Accepted));
        assert_eq!(decided_status("reject"), Ok(ApplicationStatus::Rejected));
        assert_eq!(
            decided_status("waitlist"),
            Ok(ApplicationStatus::Waitlisted)
        );
        assert_eq!(
            decided_status(""),
            Err(AppError::invalid("decision", "error.decision_required"))
        );
        for bad in ["Accept", "approve", "withdraw", " accept"] {
            assert_eq!(
                decided_status(bad),
                Err(AppError::invalid("decision", "error.decision_invalid")),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_open_and_waitlisted_applications_may_be_decided() {
        use ApplicationStatus::*;
        let allowed = [
            (Submitted, Accepted),
            (Submitted, Rejected),
            (Submitted, Waitlisted),
            (InReview, Accepted),
            (InReview, Rejected),
            (InReview, Waitlisted),
            (Waitlisted, Accepted),
            (Waitlisted, Rejected),
        ];
        for &from in ApplicationStatus::ALL {
            for &to in ApplicationStatus::ALL {
                assert_eq!(
                    may_decide(from, to),
                    allowed.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
    }
}
