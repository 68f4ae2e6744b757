//! Server functions for startup profiles.
use super::StartupProfile;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "my_startup")]
pub async fn my_startup() -> Result<Option<StartupProfile>, AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::startups::profiles::my_startup(&state.db, &actor).await
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
    use domain::startups::profiles::StartupInput;
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
    domain::startups::profiles::save_startup(&state.db, &actor, input).await?;
    crate::auth::server_fns::ssr::redirect_with_notice("/startup", "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "my_team")]
pub async fn my_team() -> Result<Option<super::Team>, AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::startups::team::team(&state.db, &actor).await
}

/// The invitation goes out in the language the inviter picks for it.
#[server(prefix = "/api", endpoint = "invite_cofounder")]
pub async fn invite_cofounder(email: String, lang: String) -> Result<(), AppError> {
    let locale = crate::i18n::Locale::from_tag(&lang)
        .ok_or_else(|| AppError::invalid("lang", "error.language_invalid"))?;
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::startups::team::invite(&state.db, &state.settings, &actor, &email, locale).await?;
    crate::auth::server_fns::ssr::redirect_with_notice("/startup", "invitation_sent");
    Ok(())
}

#[server(prefix = "/api", endpoint = "cancel_cofounder_invitation")]
pub async fn cancel_cofounder_invitation(id: i64) -> Result<(), AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::startups::team::cancel_invitation(&state.db, &actor, id).await?;
    crate::auth::server_fns::ssr::redirect_with_notice("/startup", "saved");
    Ok(())
}
