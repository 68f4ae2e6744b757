//! Channels (admins only): adding, changing and removing them, their page, the test message
//! and sending dead deliveries again. Every change is audited.
use super::entity::{channel, delivery};
use super::{ChannelDetail, ChannelEvent, ChannelView, DeliveryRow, DeliveryStatus, Platform};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use wire::auth::Role;

/// How many deliveries a channel's page lists.
const RECENT: u64 = 50;

/// The admin's form, as typed.
#[derive(Clone, Debug, Default)]
pub struct ChannelInput {
    pub name: String,
    pub platform: String,
    /// Empty keeps the stored address (it is never shown whole).
    pub webhook_url: String,
    /// Empty keeps the stored secret.
    pub secret: String,
    /// Removes the stored secret (for a robot without 加签 / signature check).
    pub clear_secret: bool,
    /// The keys of the chosen events.
    pub events: Vec<String>,
    pub locale: String,
}

/// The subscribed events as stored: `,key,key,` so that one `LIKE '%,key,%'` finds them.
pub(super) fn events_column(events: &[ChannelEvent]) -> String {
    let mut s = String::from(",");
    for e in events {
        s.push_str(e.as_str());
        s.push(',');
    }
    s
}

fn events_of(column: &str) -> Vec<ChannelEvent> {
    column.split(',').filter_map(ChannelEvent::parse).collect()
}

pub(super) fn delivery_row(d: delivery::Model) -> DeliveryRow {
    DeliveryRow {
        id: d.id,
        event: d.event,
        title: d.title,
        status: d.status,
        attempts: d.attempts,
        error_kind: d.error_kind,
        last_error: d.last_error,
        created_at: d.created_at,
        sent_at: d.sent_at,
        next_attempt_at: d.next_attempt_at,
    }
}

fn secret_hint(secret: &str) -> Option<String> {
    if secret.is_empty() {
        return None;
    }
    let chars: Vec<char> = secret.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    // Short secrets show nothing of themselves.
    Some(if chars.len() >= 12 {
        format!("…{tail}")
    } else {
        "…".into()
    })
}

fn view(c: &channel::Model) -> ChannelView {
    ChannelView {
        id: c.id,
        name: c.name.clone(),
        platform: c.platform,
        webhook_hint: super::platform::mask_url(&c.webhook_url),
        secret_hint: secret_hint(&c.secret),
        events: events_of(&c.events),
        locale: c.locale.clone(),
        last: None,
        dead: 0,
    }
}

/// What an audit entry keeps of a channel: never the secret nor the whole address.
fn audited(c: &channel::Model) -> serde_json::Value {
    let v = view(c);
    json!({
        "name": v.name,
        "platform": v.platform.as_str(),
        "webhook": v.webhook_hint,
        "signed": v.secret_hint.is_some(),
        "events": v.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "locale": v.locale,
    })
}

fn webhook_ok(url: &str) -> bool {
    url.len() <= 2000
        && url::Url::parse(url).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        })
}

/// Checks the form; returns the row's values (platform, address, secret, events, locale).
fn validate(
    input: &ChannelInput,
    stored: Option<&channel::Model>,
) -> AppResult<(String, Platform, String, String, Vec<ChannelEvent>, Locale)> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "error.channel_name_invalid"));
    }
    let platform = Platform::parse(input.platform.trim())
        .ok_or_else(|| AppError::invalid("platform", "error.channel_platform_invalid"))?;
    let url = match (input.webhook_url.trim(), stored) {
        ("", Some(s)) => s.webhook_url.clone(),
        (u, _) => u.to_string(),
    };
    if !webhook_ok(&url) {
        return Err(AppError::invalid(
            "webhook_url",
            "error.webhook_url_invalid",
        ));
    }
    let secret = match (input.secret.trim(), stored) {
        _ if !platform.signs() || input.clear_secret => String::new(),
        ("", Some(s)) => s.secret.clone(),
        (s, _) => s.to_string(),
    };
    if secret.chars().count() > 200 {
        return Err(AppError::invalid("secret", "error.too_long"));
    }
    let mut events = Vec::new();
    for key in &input.events {
        match ChannelEvent::parse(key) {
            Some(e) if e != ChannelEvent::Test => {
                if !events.contains(&e) {
                    events.push(e);
                }
            }
            _ => return Err(AppError::invalid("events", "error.channel_event_invalid")),
        }
    }
    // The form's order, whatever order the fields came in.
    events.sort_by_key(|e| ChannelEvent::SUBSCRIBABLE.iter().position(|s| s == e));
    let locale = match input.locale.trim() {
        "en" => Locale::En,
        "zh-CN" => Locale::ZhCn,
        _ => return Err(AppError::invalid("locale", "error.channel_locale_invalid")),
    };
    Ok((name.to_string(), platform, url, secret, events, locale))
}

/// Every channel, with its newest delivery and how many deliveries are dead.
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> AppResult<Vec<ChannelView>> {
    actor.require(Role::Admin)?;
    let channels = channel::Entity::find()
        .order_by_asc(channel::Column::Name)
        .order_by_asc(channel::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(channels.len());
    // A park has a handful of channels: two small queries each.
    for c in channels {
        let mut v = view(&c);
        v.last = delivery::Entity::find()
            .filter(delivery::Column::ChannelId.eq(c.id))
            .order_by_desc(delivery::Column::Id)
            .one(db)
            .await?
            .map(delivery_row);
        v.dead = delivery::Entity::find()
            .filter(delivery::Column::ChannelId.eq(c.id))
            .filter(delivery::Column::Status.eq(DeliveryStatus::Dead))
            .count(db)
            .await?;
        out.push(v);
    }
    Ok(out)
}

/// A channel's page: its settings and its recent deliveries.
pub async fn detail(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<ChannelDetail> {
    actor.require(Role::Admin)?;
    let c = channel::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let deliveries: Vec<DeliveryRow> = delivery::Entity::find()
        .filter(delivery::Column::ChannelId.eq(id))
        .order_by_desc(delivery::Column::Id)
        .limit(RECENT)
        .all(db)
        .await?
        .into_iter()
        .map(delivery_row)
        .collect();
    let mut channel = view(&c);
    channel.last = deliveries.first().cloned();
    channel.dead = delivery::Entity::find()
        .filter(delivery::Column::ChannelId.eq(id))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Dead))
        .count(db)
        .await?;
    Ok(ChannelDetail {
        channel,
        deliveries,
    })
}

/// Adds a channel (id None) or changes one; returns its id.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<i64>,
    input: ChannelInput,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let existing = match id {
        Some(id) => Some(
            channel::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let (name, platform, url, secret, events, locale) = validate(&input, existing.as_ref())?;
    let now = Utc::now();
    let before = existing.as_ref().map(audited);
    let mut a: channel::ActiveModel = match existing {
        Some(c) => c.into(),
        None => channel::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    a.name = Set(name);
    a.platform = Set(platform);
    a.webhook_url = Set(url);
    a.secret = Set(secret);
    a.events = Set(events_column(&events));
    a.locale = Set(locale.tag().into());
    a.updated_at = Set(now);
    let saved: channel::Model = a
        .save(&txn)
        .await?
        .try_into()
        .map_err(|_| AppError::Internal)?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: if before.is_some() {
                "channel.updated"
            } else {
                "channel.created"
            },
            entity_type: "channel",
            entity_id: saved.id.to_string(),
            before,
            after: Some(audited(&saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved.id)
}

/// Removes a channel with its outbox: what it had not sent yet is not sent.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let c = channel::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    // Explicitly, not only by the foreign key: SQLite enforces it only when asked to.
    delivery::Entity::delete_many()
        .filter(delivery::Column::ChannelId.eq(id))
        .exec(&txn)
        .await?;
    channel::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "channel.deleted",
            entity_type: "channel",
            entity_id: id.to_string(),
            before: Some(audited(&c)),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Queues a test message for the channel (through its outbox like any other); returns the
/// delivery's id, which the caller may deliver at once.
pub async fn queue_test(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    id: i64,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let c = channel::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let locale = Locale::from_tag(&c.locale).unwrap_or_default();
    let message = super::notify::test_message(locale, &c.name, &settings.link("/admin/channels"));
    let delivery = super::outbox::enqueue(&txn, &c, ChannelEvent::Test, &message).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "channel.tested",
            entity_type: "channel",
            entity_id: id.to_string(),
            before: None,
            after: Some(json!({"delivery": delivery})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(delivery)
}

/// Sends a channel's dead deliveries back to the queue: one (`delivery`), or all of them
/// (None). Returns how many.
pub async fn retry(
    db: &DatabaseConnection,
    actor: &Actor,
    channel_id: i64,
    delivery: Option<i64>,
) -> AppResult<u64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    channel::Entity::find_by_id(channel_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut find = delivery::Entity::find().filter(delivery::Column::ChannelId.eq(channel_id));
    if let Some(d) = delivery {
        find = find.filter(delivery::Column::Id.eq(d));
    }
    let rows = find.all(&txn).await?;
    if delivery.is_some() && rows.is_empty() {
        return Err(AppError::NotFound);
    }
    let dead: Vec<delivery::Model> = rows
        .into_iter()
        .filter(|d| {
            d.status.may_become(DeliveryStatus::Pending) && d.status != DeliveryStatus::Pending
        })
        .collect();
    if dead.is_empty() {
        return Err(AppError::conflict("error.delivery_not_dead"));
    }
    let now = Utc::now();
    let ids: Vec<i64> = dead.iter().map(|d| d.id).collect();
    for d in dead {
        let mut a: delivery::ActiveModel = d.into();
        a.status = Set(DeliveryStatus::Pending);
        a.attempts = Set(0);
        a.next_attempt_at = Set(now);
        a.update(&txn).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "channel.retried",
            entity_type: "channel",
            entity_id: channel_id.to_string(),
            before: Some(json!({"status": DeliveryStatus::Dead, "deliveries": ids})),
            after: Some(json!({"status": DeliveryStatus::Pending})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ids.len() as u64)
}

/// The channels subscribed to `event`.
pub(super) async fn subscribed(
    db: &impl ConnectionTrait,
    event: ChannelEvent,
) -> Result<Vec<channel::Model>, sea_orm::DbErr> {
    channel::Entity::find()
        .filter(channel::Column::Events.contains(format!(",{},", event.as_str())))
        .order_by_asc(channel::Column::Id)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: &str) -> ChannelInput {
        ChannelInput {
            name: "Ops group".into(),
            platform: "dingtalk".into(),
            webhook_url: url.into(),
            secret: "SEC123".into(),
            clear_secret: false,
            events: vec!["grant".into(), "application_submitted".into()],
            locale: "zh-CN".into(),
        }
    }

    #[test]
    fn webhook_addresses_are_http_or_https() {
        assert!(validate(
            &input("https://oapi.dingtalk.com/robot/send?access_token=x"),
            None
        )
        .is_ok());
        assert!(validate(&input("http://10.0.0.5:8080/hook"), None).is_ok());
        for bad in [
            "ftp://x/y",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "oapi.dingtalk.com",
            "",
        ] {
            assert_eq!(
                validate(&input(bad), None).unwrap_err(),
                AppError::invalid("webhook_url", "error.webhook_url_invalid"),
                "{bad}"
            );
        }
    }

    #[test]
    fn events_are_kept_in_the_forms_order_and_test_is_not_subscribable() {
        let (_, _, _, _, events, locale) =
            validate(&input("https://x.example/hook"), None).unwrap();
        assert_eq!(
            events,
            [ChannelEvent::ApplicationSubmitted, ChannelEvent::Grant]
        );
        assert_eq!(locale, Locale::ZhCn);
        assert_eq!(events_column(&events), ",application_submitted,grant,");
        let mut i = input("https://x.example/hook");
        i.events = vec!["test".into()];
        assert!(validate(&i, None).is_err());
    }

    #[test]
    fn wecom_keeps_no_secret() {
        let mut i = input("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k");
        i.platform = "wecom".into();
        let (_, _, _, secret, _, _) = validate(&i, None).unwrap();
        assert_eq!(secret, "");
    }

    #[test]
    fn secrets_show_only_their_end() {
        assert_eq!(secret_hint(""), None);
        assert_eq!(secret_hint("SEC123").as_deref(), Some("…"));
        assert_eq!(secret_hint("SECd8a9f2b6c0e14a77").as_deref(), Some("…4a77"));
    }
}
