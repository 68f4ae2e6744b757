//! Server functions for the admin's view of the email outbox.
use super::{OutboxMessage, OutboxPage};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "outbox")]
pub async fn outbox(query: crate::tables::TableQuery) -> Result<OutboxPage, AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    let mut result = domain::mail::outbox::list(&state.db, &actor, &query).await?;
    result.file_dir = state.mailer.file_dir().map(|d| d.display().to_string());
    Ok(result)
}

#[server(prefix = "/api", endpoint = "outbox_message")]
pub async fn get_outbox_message(id: i64) -> Result<OutboxMessage, AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::mail::outbox::message(&state.db, &actor, id).await
}

#[server(prefix = "/api", endpoint = "retry_email")]
pub async fn retry_email(id: i64) -> Result<(), AppError> {
    let actor = crate::auth::server_fns::ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::mail::outbox::retry(&state.db, &actor, id).await?;
    crate::auth::server_fns::ssr::redirect_with_notice("/admin/outbox", "retried");
    Ok(())
}
