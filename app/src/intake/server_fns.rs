//! Server functions for intake.
use super::OpenRound;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "open_rounds")]
pub async fn open_rounds() -> Result<Vec<OpenRound>, AppError> {
    let state = crate::state::app_state()?;
    let locale = crate::auth::server_fns::ssr::request_locale();
    super::domain::open_rounds(&state.db, locale, chrono::Utc::now()).await
}
