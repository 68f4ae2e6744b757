//! Server functions for the admin's chat channels.
// A form's fields arrive as arguments, one per input.
#![allow(clippy::too_many_arguments)]
use super::{ChannelDetail, ChannelView};
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::HashMap;

#[cfg(feature = "ssr")]
use crate::auth::server_fns::ssr::{redirect_with_notice, require_actor};

#[server(prefix = "/api", endpoint = "list_channels")]
pub async fn list_channels() -> Result<Vec<ChannelView>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::channels::manage::list(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "channel_detail")]
pub async fn get_channel(id: i64) -> Result<ChannelDetail, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::channels::manage::detail(&state.db, &actor, id).await
}

/// Adds a channel (id 0) or changes one; `events[<key>]` are the ticked events. Goes to the
/// channel's page.
#[server(prefix = "/api", endpoint = "save_channel")]
pub async fn save_channel(
    #[server(default)] id: i64,
    #[server(default)] name: String,
    #[server(default)] platform: String,
    #[server(default)] webhook_url: String,
    #[server(default)] secret: String,
    #[server(default)] clear_secret: String,
    #[server(default)] events: HashMap<String, String>,
    #[server(default)] locale: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = domain::channels::manage::ChannelInput {
        name,
        platform,
        webhook_url,
        secret,
        clear_secret: !clear_secret.is_empty(),
        events: events
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k)
            .collect(),
        locale,
    };
    let id =
        domain::channels::manage::save(&state.db, &actor, (id > 0).then_some(id), input).await?;
    redirect_with_notice(&format!("/admin/channels/{id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_channel")]
pub async fn delete_channel(id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::channels::manage::delete(&state.db, &actor, id).await?;
    redirect_with_notice("/admin/channels", "channel_deleted");
    Ok(())
}

/// Sends a test message through the channel's outbox at once; its result is on the page.
#[server(prefix = "/api", endpoint = "test_channel")]
pub async fn test_channel(id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let delivery =
        domain::channels::manage::queue_test(&state.db, &state.settings, &actor, id).await?;
    // Queued and committed first: if this request dies, the worker still sends it.
    let sent =
        domain::channels::outbox::deliver_now(&state.db, &state.settings.public_url, delivery)
            .await?;
    redirect_with_notice(
        &format!("/admin/channels/{id}"),
        if sent {
            "channel_test_sent"
        } else {
            "channel_test_failed"
        },
    );
    Ok(())
}

/// Sends a channel's dead deliveries back to the queue: one (`delivery`), or all (0).
#[server(prefix = "/api", endpoint = "retry_chat_delivery")]
pub async fn retry_chat_delivery(
    channel: i64,
    #[server(default)] delivery: i64,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::channels::manage::retry(
        &state.db,
        &actor,
        channel,
        (delivery > 0).then_some(delivery),
    )
    .await?;
    redirect_with_notice(&format!("/admin/channels/{channel}"), "retried");
    Ok(())
}
