//! Server functions for review.
use super::{QueueItem, ReviewPage, RoundApplications};
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::HashMap;

#[cfg(feature = "ssr")]
use crate::auth::server_fns::ssr::{redirect_with_notice, request_locale, require_actor};

#[server(prefix = "/api", endpoint = "round_applications")]
pub async fn get_round_applications(
    round_id: i64,
    #[server(default)] page: u64,
) -> Result<RoundApplications, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::assignments::round_applications(
        &state.db,
        &actor,
        round_id,
        request_locale(),
        page,
    )
    .await
}

/// Without a redirect of its own, a plain form post returns to the page it came from.
#[server(prefix = "/api", endpoint = "assign_reviewer")]
pub async fn assign_reviewer(application_id: i64, mentor_id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::assignments::assign(
        &state.db,
        &state.settings,
        &actor,
        application_id,
        mentor_id,
    )
    .await?;
    Ok(())
}

/// Assigns reviewers to a whole round; returns to the round's review page with a notice.
#[server(prefix = "/api", endpoint = "auto_assign")]
pub async fn auto_assign(round_id: i64) -> Result<super::AutoAssignOutcome, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let outcome =
        domain::review::assignments::auto_assign(&state.db, &state.settings, &actor, round_id)
            .await?;
    let notice = if outcome.short > 0 {
        "auto_assigned_short"
    } else {
        "auto_assigned"
    };
    redirect_with_notice(&format!("/admin/rounds/{round_id}/applications"), notice);
    Ok(outcome)
}

#[server(prefix = "/api", endpoint = "my_affiliations")]
pub async fn my_affiliations() -> Result<String, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::assignments::my_affiliations(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "save_affiliations")]
pub async fn save_affiliations(#[server(default)] affiliations: String) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::assignments::save_affiliations(&state.db, &actor, &affiliations).await?;
    redirect_with_notice("/reviews", "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "review_queue")]
pub async fn review_queue() -> Result<Vec<QueueItem>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::reviews::queue(&state.db, &actor, request_locale()).await
}

#[server(prefix = "/api", endpoint = "review")]
pub async fn get_review(id: i64) -> Result<ReviewPage, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::reviews::review_page(&state.db, &actor, id, request_locale()).await
}

#[server(prefix = "/api", endpoint = "submit_review")]
pub async fn submit_review(
    id: i64,
    #[server(default)] scores: HashMap<String, String>,
    #[server(default)] recommendation: String,
    #[server(default)] feedback_applicant: String,
    #[server(default)] notes_committee: String,
) -> Result<(), AppError> {
    use domain::review::reviews::ReviewInput;
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = ReviewInput {
        scores,
        recommendation,
        feedback_applicant,
        notes_committee,
    };
    domain::review::reviews::submit_review(&state.db, &actor, id, input).await?;
    redirect_with_notice(&format!("/reviews/{id}"), "review_saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "declare_conflict")]
pub async fn declare_conflict(id: i64, #[server(default)] reason: String) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::reviews::declare_conflict(&state.db, &state.settings, &actor, id, &reason)
        .await?;
    redirect_with_notice("/reviews", "recused");
    Ok(())
}

#[server(prefix = "/api", endpoint = "decision_board")]
pub async fn get_decision_board(
    round_id: i64,
    #[server(default)] view: super::BoardView,
) -> Result<super::DecisionBoard, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::decisions::board(&state.db, &actor, round_id, &view, request_locale()).await
}

/// Returns to the board it came from (the default for a plain form post).
#[server(prefix = "/api", endpoint = "decide")]
pub async fn decide(
    application_id: i64,
    #[server(default)] decision: String,
    #[server(default)] message: String,
    #[server(default)] without_review: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::review::decisions::decide(
        &state.db,
        &state.settings,
        &actor,
        application_id,
        &decision,
        &message,
        without_review == "yes",
    )
    .await?;
    Ok(())
}

/// A page of every application across rounds (admins), and the rounds for its filter.
#[server(prefix = "/api", endpoint = "all_applications")]
pub async fn all_applications(
    query: crate::tables::TableQuery,
) -> Result<
    (
        crate::tables::TablePage<super::ApplicationListRow>,
        Vec<(i64, String, String)>,
    ),
    AppError,
> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let page = domain::review::listing::list(&state.db, &actor, &query).await?;
    let rounds = domain::review::listing::round_options(&state.db, &actor).await?;
    Ok((page, rounds))
}
