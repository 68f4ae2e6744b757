//! The channels' outbox: a row per channel and event, written in the caller's transaction,
//! delivered by the worker with retries; what keeps failing is dead and waits for an admin.
use super::entity::{channel, delivery};
use super::notify::ChatMessage;
use super::{ChannelEvent, DeliveryStatus};
use crate::queue::{AfterFailure, Outbox, Policy};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

/// How deliveries are leased and retried: as email (30 s doubling to an hour, dead after the
/// 8th failure), except that a refusal is dead at once.
pub const POLICY: Policy = Policy::OUTBOX;

const OUTBOX: Outbox<delivery::Entity> = Outbox {
    table: "chat_deliveries",
    pending: || DeliveryStatus::Pending.into(),
    id: |row| row.id,
};

pub async fn enqueue(
    db: &impl ConnectionTrait,
    channel: &channel::Model,
    event: ChannelEvent,
    message: &ChatMessage,
) -> Result<i64, DbErr> {
    let now = Utc::now();
    let row = delivery::ActiveModel {
        channel_id: Set(channel.id),
        event: Set(event),
        title: Set(message.title.clone()),
        body: Set(message.markdown()),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        error_kind: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// Claims up to `limit` due deliveries (or the one `only`) with a lease (see `crate::queue`).
async fn claim(
    db: &impl ConnectionTrait,
    limit: u64,
    only: Option<i64>,
) -> Result<Vec<delivery::Model>, DbErr> {
    crate::queue::claim(db, &OUTBOX, &POLICY, limit, only).await
}

/// Posts the claimed deliveries and records each outcome; returns how many were sent.
async fn deliver(
    db: &impl ConnectionTrait,
    public_url: &str,
    rows: Vec<delivery::Model>,
) -> Result<usize, DbErr> {
    let site = public_url.trim_end_matches('/');
    let mut sent = 0;
    for row in rows {
        let Some(c) = channel::Entity::find_by_id(row.channel_id).one(db).await? else {
            continue;
        };
        let platform = c.platform;
        let body = row.body.replace(super::notify::SITE, site);
        let result =
            super::platform::send(platform, &c.webhook_url, &c.secret, &row.title, &body).await;
        let now = Utc::now();
        let attempts = row.attempts + 1;
        let mut active: delivery::ActiveModel = row.clone().into();
        active.attempts = Set(attempts);
        active.locked_until = Set(None);
        match result {
            Ok(()) => {
                active.status = Set(DeliveryStatus::Sent);
                active.sent_at = Set(Some(now));
                active.error_kind = Set(None);
                active.last_error = Set(None);
                sent += 1;
                tracing::info!(
                    delivery_id = row.id,
                    channel_id = c.id,
                    event = row.event.as_str(),
                    "chat message sent"
                );
            }
            Err(failure) => {
                tracing::warn!(
                    delivery_id = row.id,
                    channel_id = c.id,
                    attempts,
                    kind = failure.kind.as_str(),
                    error = %failure.detail,
                    "chat message delivery failed"
                );
                // A refusal (wrong secret, removed robot) will not mend itself: it waits for
                // an admin at once instead of being tried eight times.
                let next = POLICY.after_failure(attempts, now, failure.kind.transient());
                active.error_kind = Set(Some(failure.kind));
                active.last_error = Set(Some(failure.detail));
                match next {
                    AfterFailure::Dead => active.status = Set(DeliveryStatus::Dead),
                    AfterFailure::RetryAt(at) => active.next_attempt_at = Set(at),
                }
            }
        }
        active.update(db).await?;
    }
    Ok(sent)
}

/// Delivers what is due, up to `limit`; returns how many messages were sent.
#[tracing::instrument(skip_all)]
pub async fn deliver_due(
    db: &impl ConnectionTrait,
    public_url: &str,
    limit: u64,
) -> Result<usize, DbErr> {
    let rows = claim(db, limit, None).await?;
    deliver(db, public_url, rows).await
}

/// Delivers one delivery now, if it is due and no worker holds it (the admin's test
/// message); true when it was sent.
pub async fn deliver_now(
    db: &impl ConnectionTrait,
    public_url: &str,
    id: i64,
) -> Result<bool, DbErr> {
    let rows = claim(db, 1, Some(id)).await?;
    Ok(deliver(db, public_url, rows).await? == 1)
}
