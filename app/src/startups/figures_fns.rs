//! Server functions for a firm's figures (registration date, headcount, financing rounds),
//! recorded on the team's /startup and on the admin's /startups/:id.
use super::figures::CompanyFigures;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::auth::server_fns::ssr::redirect_with_notice;
    use domain::access::Actor;
    use wire::auth::Role;

    /// Back to the page the form was on: the team's own (`back` is "team", or the person is
    /// no admin), else the admin's page of the firm.
    pub fn back(actor: &Actor, startup_id: i64, back: &str) {
        let page = if back != "team" && actor.has(Role::Admin) {
            format!("/startups/{startup_id}#figures")
        } else {
            "/startup#figures".to_string()
        };
        redirect_with_notice(&page, "saved");
    }
}

/// A firm's figures: `startup_id` for a firm's page, none for the firm the reader is on.
#[server(prefix = "/api", endpoint = "get_company_figures")]
pub async fn get_company_figures(
    #[server(default)] startup_id: Option<i64>,
) -> Result<Option<CompanyFigures>, AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    match startup_id {
        Some(id) => Ok(Some(
            domain::startups::figures::figures(&state.db, &actor, id).await?,
        )),
        None => domain::startups::figures::mine(&state.db, &actor).await,
    }
}

#[server(prefix = "/api", endpoint = "set_founded_on")]
pub async fn set_founded_on(
    startup_id: i64,
    #[server(default)] back: String,
    #[server(default)] founded_on: String,
) -> Result<(), AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::startups::figures::set_founded_on(
        &state.db,
        &actor,
        state.settings.park_zone,
        startup_id,
        &founded_on,
    )
    .await?;
    ssr::back(&actor, startup_id, &back);
    Ok(())
}

#[server(prefix = "/api", endpoint = "record_headcount")]
pub async fn record_headcount(
    startup_id: i64,
    #[server(default)] back: String,
    #[server(default)] as_of: String,
    #[server(default)] employees: String,
) -> Result<(), AppError> {
    use domain::startups::figures::HeadcountInput;
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    let input = HeadcountInput {
        startup_id,
        as_of,
        employees,
    };
    domain::startups::figures::record_headcount(&state.db, &actor, state.settings.park_zone, input)
        .await?;
    ssr::back(&actor, startup_id, &back);
    Ok(())
}

#[server(prefix = "/api", endpoint = "add_financing")]
pub async fn add_financing(
    startup_id: i64,
    #[server(default)] back: String,
    #[server(default)] closed_on: String,
    #[server(default)] round: String,
    #[server(default)] amount: String,
    #[server(default)] investors: String,
) -> Result<(), AppError> {
    use domain::startups::figures::FinancingInput;
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    let input = FinancingInput {
        startup_id,
        closed_on,
        round,
        amount,
        investors,
    };
    domain::startups::figures::add_financing(&state.db, &actor, state.settings.park_zone, input)
        .await?;
    ssr::back(&actor, startup_id, &back);
    Ok(())
}

#[server(prefix = "/api", endpoint = "remove_financing")]
pub async fn remove_financing(id: i64, #[server(default)] back: String) -> Result<(), AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    let startup_id = domain::startups::figures::remove_financing(&state.db, &actor, id).await?;
    ssr::back(&actor, startup_id, &back);
    Ok(())
}
