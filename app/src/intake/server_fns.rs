//! Server functions for intake: public rounds, the admin's rounds and rubrics, applications.
// A server function's arguments are its form's fields, so long forms mean many arguments.
#![allow(clippy::too_many_arguments)]
use super::{ApplicationDetail, ApplicationSummary, ApplyPage, OpenRound, RoundForm, RoundRow};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::auth::server_fns::ssr::{redirect_with_notice, request_locale, require_actor};

#[server(prefix = "/api", endpoint = "open_rounds")]
pub async fn open_rounds() -> Result<Vec<OpenRound>, AppError> {
    let state = crate::state::app_state()?;
    domain::intake::rounds::open_rounds(&state.db, request_locale(), chrono::Utc::now()).await
}

#[server(prefix = "/api", endpoint = "list_rounds")]
pub async fn list_rounds() -> Result<Vec<RoundRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::intake::rounds::list_rounds(&state.db, &actor, request_locale()).await
}

#[server(prefix = "/api", endpoint = "round_form")]
pub async fn get_round_form(id: i64) -> Result<RoundForm, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::intake::rounds::round_form(&state.db, &actor, id).await
}

#[server(prefix = "/api", endpoint = "save_round")]
pub async fn save_round(
    #[server(default)] id: Option<i64>,
    title_en: String,
    title_zh: String,
    description_en: String,
    description_zh: String,
    opens_at: String,
    closes_at: String,
    #[server(default)] review_deadline: String,
    mentors_per_application: String,
    #[server(default)] blind_review: Option<String>,
) -> Result<(), AppError> {
    use domain::intake::rounds::RoundInput;
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = RoundInput {
        title_en,
        title_zh,
        description_en,
        description_zh,
        opens_at,
        closes_at,
        review_deadline,
        mentors_per_application,
        blind_review: blind_review.is_some(),
    };
    let id = domain::intake::rounds::save_round(&state.db, &actor, id, input).await?;
    redirect_with_notice(&format!("/admin/rounds/{id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "add_criterion")]
pub async fn add_criterion(
    round_id: i64,
    name_en: String,
    name_zh: String,
    #[server(default)] guidance_en: String,
    #[server(default)] guidance_zh: String,
    weight: String,
) -> Result<(), AppError> {
    use domain::intake::rounds::CriterionInput;
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = CriterionInput {
        name_en,
        name_zh,
        guidance_en,
        guidance_zh,
        weight,
    };
    domain::intake::rounds::add_criterion(&state.db, &actor, round_id, input).await?;
    redirect_with_notice(&format!("/admin/rounds/{round_id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "remove_criterion")]
pub async fn remove_criterion(id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let round_id = domain::intake::rounds::remove_criterion(&state.db, &actor, id).await?;
    redirect_with_notice(&format!("/admin/rounds/{round_id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "apply_page")]
pub async fn get_apply_page(round_id: i64) -> Result<ApplyPage, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::intake::applications::apply_page(&state.db, &actor, round_id, request_locale()).await
}

/// `intent` is the button pressed: `save` keeps a draft, `submit` submits.
#[server(prefix = "/api", endpoint = "save_application")]
pub async fn save_application(
    round_id: i64,
    #[server(default)] problem: String,
    #[server(default)] solution: String,
    #[server(default)] models_data: String,
    #[server(default)] gpu_model: String,
    #[server(default)] gpu_hours: String,
    #[server(default)] traction: String,
    #[server(default)] team: String,
    #[server(default)] intent: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let submit = intent == "submit";
    let fields = super::ApplicationFields {
        problem,
        solution,
        models_data,
        gpu_model,
        gpu_hours,
        traction,
        team,
    };
    let id = domain::intake::applications::save_application(
        &state.db,
        &state.settings,
        &actor,
        round_id,
        fields,
        submit,
    )
    .await?;
    if submit {
        redirect_with_notice(&format!("/applications/{id}"), "submitted");
    } else {
        redirect_with_notice(&format!("/apply/{round_id}"), "draft_saved");
    }
    Ok(())
}

#[server(prefix = "/api", endpoint = "withdraw_application")]
pub async fn withdraw_application(id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::intake::applications::withdraw(&state.db, &actor, id).await?;
    redirect_with_notice(&format!("/applications/{id}"), "withdrawn");
    Ok(())
}

#[server(prefix = "/api", endpoint = "my_applications")]
pub async fn my_applications() -> Result<Vec<ApplicationSummary>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::intake::applications::my_applications(&state.db, &actor, request_locale()).await
}

#[server(prefix = "/api", endpoint = "application_detail")]
pub async fn get_application_detail(id: i64) -> Result<ApplicationDetail, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::intake::applications::application_detail(&state.db, &actor, id, request_locale()).await
}
