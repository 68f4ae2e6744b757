//! The channels' outbox: a row per channel and event, written in the caller's transaction,
//! delivered by the worker with retries; what keeps failing is dead and waits for an admin.
use super::entity::{channel, delivery};
use super::notify::ChatMessage;
use super::{ChannelEvent, DeliveryStatus};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Set, Statement,
};

/// After this many failed attempts a delivery is dead and waits for an admin.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a worker may hold a claimed delivery before another may take it over.
const LEASE_SECONDS: i64 = 120;

pub async fn enqueue(
    db: &impl ConnectionTrait,
    channel: &channel::Model,
    event: ChannelEvent,
    message: &ChatMessage,
) -> Result<i64, DbErr> {
    let now = Utc::now();
    let row = delivery::ActiveModel {
        channel_id: Set(channel.id),
        event: Set(event.key().into()),
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

/// The delay before attempt `n + 1` after `n` failures: 30 s doubling, capped at an hour.
pub fn backoff(attempts: i32) -> Duration {
    crate::mail::outbox::backoff(attempts)
}

/// Claims up to `limit` due deliveries (or the one `only`) with a lease. On PostgreSQL rows
/// another worker holds are skipped, so no message is posted twice at once.
async fn claim(
    db: &impl ConnectionTrait,
    limit: u64,
    only: Option<i64>,
) -> Result<Vec<delivery::Model>, DbErr> {
    let now = Utc::now();
    let lease = now + Duration::seconds(LEASE_SECONDS);
    let backend = db.get_database_backend();
    let postgres = backend == DatabaseBackend::Postgres;
    let mut values: Vec<sea_orm::Value> =
        vec![lease.into(), DeliveryStatus::Pending.into(), now.into()];
    let p = |n: usize| {
        if postgres {
            format!("${n}")
        } else {
            "?".to_string()
        }
    };
    let mut sql = format!(
        "UPDATE chat_deliveries SET locked_until = {} WHERE id IN (\
           SELECT id FROM chat_deliveries WHERE status = {} AND next_attempt_at <= {} \
           AND (locked_until IS NULL OR locked_until < {})",
        p(1),
        p(2),
        p(3),
        // PostgreSQL numbers its parameters and takes $3 again; SQLite needs it twice.
        if postgres { p(3) } else { p(4) }
    );
    if !postgres {
        values.push(now.into());
    }
    if let Some(id) = only {
        values.push(id.into());
        sql.push_str(&format!(" AND id = {}", p(values.len())));
    }
    values.push((limit as i64).into());
    sql.push_str(&format!(" ORDER BY id LIMIT {}", p(values.len())));
    if postgres {
        sql.push_str(" FOR UPDATE SKIP LOCKED");
    }
    sql.push_str(") RETURNING *");
    let mut rows = delivery::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
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
                    event = row.event,
                    "chat message sent"
                );
            }
            Err(failure) => {
                tracing::warn!(
                    delivery_id = row.id,
                    channel_id = c.id,
                    attempts,
                    kind = failure.kind.key(),
                    error = %failure.detail,
                    "chat message delivery failed"
                );
                // A refusal (wrong secret, removed robot) will not mend itself: it waits for
                // an admin at once instead of being tried eight times.
                let give_up = attempts >= MAX_ATTEMPTS || !failure.kind.transient();
                active.error_kind = Set(Some(failure.kind.key().into()));
                active.last_error = Set(Some(failure.detail));
                if give_up {
                    active.status = Set(DeliveryStatus::Dead);
                } else {
                    active.next_attempt_at = Set(now + backoff(attempts));
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
