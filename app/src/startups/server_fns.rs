//! Server functions for startup profiles.
use super::StartupProfile;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "my_startup")]
pub async fn my_startup() -> Result<Option<StartupProfile>, AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    super::domain::my_startup(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "save_startup")]
pub async fn save_startup(
    name: String,
    #[server(default)] credit_code: String,
    sector: String,
    stage: String,
    team_size: String,
    #[server(default)] website: String,
    founders: String,
) -> Result<(), AppError> {
    use super::domain::StartupInput;
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    let input = StartupInput {
        name,
        credit_code,
        sector,
        stage,
        team_size,
        website,
        founders,
    };
    super::domain::save_startup(&state.db, &actor, input).await?;
    crate::auth::server_fns::ssr::redirect_with_notice("/startup", "saved");
    Ok(())
}
