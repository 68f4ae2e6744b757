//! Server functions for incubation: the admin's startup list, a startup's page and what is
//! done there, the mentor's list, and the team's own view.
// A form's fields arrive as arguments, one per input.
#![allow(clippy::too_many_arguments)]
use super::incubation::{Mentoring, MyIncubation, StartupDetail, StartupRow};
use crate::error::AppError;
use crate::tables::{TablePage, TableQuery};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::auth::server_fns::ssr::{redirect_with_notice, require_actor};

#[server(prefix = "/api", endpoint = "list_startups")]
pub async fn list_startups(query: TableQuery) -> Result<TablePage<StartupRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::views::list(&state.db, &actor, &query).await
}

#[server(prefix = "/api", endpoint = "add_startup")]
pub async fn add_startup(
    #[server(default)] name: String,
    #[server(default)] credit_code: String,
    #[server(default)] sector: String,
    #[server(default)] stage: String,
    #[server(default)] team_size: String,
    #[server(default)] website: String,
    #[server(default)] founders: String,
    #[server(default)] residency_from: String,
    #[server(default)] residency_until: String,
    #[server(default)] founder_email: String,
    #[server(default)] lang: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = domain::incubation::residency::NewStartup {
        profile: domain::startups::profiles::StartupInput {
            name,
            credit_code,
            sector,
            stage,
            team_size,
            website,
            founders,
        },
        residency_from,
        residency_until,
        founder_email,
        lang,
    };
    let id = domain::incubation::residency::add(&state.db, &state.settings, &actor, input).await?;
    redirect_with_notice(&format!("/startups/{id}"), "startup_added");
    Ok(())
}

#[server(prefix = "/api", endpoint = "startup_detail")]
pub async fn get_startup_detail(
    id: i64,
    #[server(default)] mentor_q: String,
) -> Result<StartupDetail, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::views::detail(&state.db, &actor, id, &mentor_q).await
}

#[server(prefix = "/api", endpoint = "set_residency")]
pub async fn set_residency(
    id: i64,
    #[server(default)] residency_from: String,
    #[server(default)] residency_until: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::residency::set_residency(
        &state.db,
        &actor,
        id,
        &residency_from,
        &residency_until,
    )
    .await?;
    redirect_with_notice(&format!("/startups/{id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "assign_mentor")]
pub async fn assign_mentor(id: i64, #[server(default)] user_id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::residency::assign_mentor(&state.db, &state.settings, &actor, id, user_id)
        .await?;
    redirect_with_notice(&format!("/startups/{id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "unassign_mentor")]
pub async fn unassign_mentor(id: i64, #[server(default)] user_id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::residency::unassign_mentor(&state.db, &actor, id, user_id).await?;
    redirect_with_notice(&format!("/startups/{id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "add_startup_note")]
pub async fn add_startup_note(id: i64, #[server(default)] body: String) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::residency::add_note(&state.db, &actor, id, &body).await?;
    redirect_with_notice(&format!("/startups/{id}"), "saved");
    Ok(())
}

/// Graduate (`to=graduated`) or exit (`to=exited`) an incubating startup.
#[server(prefix = "/api", endpoint = "end_incubation")]
pub async fn end_incubation(
    id: i64,
    #[server(default)] to: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::residency::end(&state.db, &state.settings, &actor, id, &to, &reason)
        .await?;
    redirect_with_notice(&format!("/startups/{id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "create_milestone")]
pub async fn create_milestone(
    startup_id: i64,
    #[server(default)] title: String,
    #[server(default)] description: String,
    #[server(default)] due_on: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = domain::incubation::milestones::MilestoneInput {
        title,
        description,
        due_on,
    };
    domain::incubation::milestones::create(&state.db, &actor, startup_id, input).await?;
    redirect_with_notice(&format!("/startups/{startup_id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "update_milestone")]
pub async fn update_milestone(
    id: i64,
    #[server(default)] title: String,
    #[server(default)] description: String,
    #[server(default)] due_on: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = domain::incubation::milestones::MilestoneInput {
        title,
        description,
        due_on,
    };
    let startup = domain::incubation::milestones::update(&state.db, &actor, id, input).await?;
    redirect_with_notice(&format!("/startups/{startup}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_milestone")]
pub async fn delete_milestone(id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let startup = domain::incubation::milestones::delete(&state.db, &actor, id).await?;
    redirect_with_notice(&format!("/startups/{startup}"), "saved");
    Ok(())
}

/// Signs a milestone off as `outcome=done` (with evidence) or `outcome=missed` (with notes).
#[server(prefix = "/api", endpoint = "sign_off_milestone")]
pub async fn sign_off_milestone(
    id: i64,
    #[server(default)] outcome: String,
    #[server(default)] evidence: String,
    #[server(default)] notes: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let startup = domain::incubation::milestones::sign_off(
        &state.db,
        &state.settings,
        &actor,
        id,
        &outcome,
        &evidence,
        &notes,
    )
    .await?;
    redirect_with_notice(&format!("/startups/{startup}"), "signed_off");
    Ok(())
}

#[server(prefix = "/api", endpoint = "my_mentoring")]
pub async fn my_mentoring() -> Result<Mentoring, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::views::mentoring(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "my_incubation")]
pub async fn get_my_incubation() -> Result<Option<MyIncubation>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::incubation::views::my_incubation(&state.db, &actor).await
}
