//! Chat channels: WeCom, DingTalk and Feishu group robots that park-wide events are posted
//! to, through an outbox of their own (retries, dead letters an admin can send again).
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
use serde::{Deserialize, Serialize};

/// The group-robot platforms a channel can post to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    #[default]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "wecom"))]
    Wecom,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "dingtalk"))]
    Dingtalk,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "feishu"))]
    Feishu,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Wecom, Platform::Dingtalk, Platform::Feishu];

    pub fn key(self) -> &'static str {
        match self {
            Platform::Wecom => "wecom",
            Platform::Dingtalk => "dingtalk",
            Platform::Feishu => "feishu",
        }
    }

    pub fn parse(key: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.key() == key)
    }

    /// Whether the platform signs with a secret of its own (WeCom's key is in the URL).
    pub fn signs(self) -> bool {
        !matches!(self, Platform::Wecom)
    }
}

/// What a channel can be told about. `Test` is the admin's test message; no one subscribes
/// to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelEvent {
    ApplicationSubmitted,
    Decision,
    Grant,
    CreditAlert,
    SyncDead,
    WaitlistPromoted,
    CertificateIssued,
    Test,
}

impl ChannelEvent {
    /// The events an admin can subscribe a channel to, in the form's order.
    pub const SUBSCRIBABLE: [ChannelEvent; 7] = [
        ChannelEvent::ApplicationSubmitted,
        ChannelEvent::Decision,
        ChannelEvent::Grant,
        ChannelEvent::CreditAlert,
        ChannelEvent::SyncDead,
        ChannelEvent::WaitlistPromoted,
        ChannelEvent::CertificateIssued,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ChannelEvent::ApplicationSubmitted => "application_submitted",
            ChannelEvent::Decision => "decision",
            ChannelEvent::Grant => "grant",
            ChannelEvent::CreditAlert => "credit_alert",
            ChannelEvent::SyncDead => "sync_dead",
            ChannelEvent::WaitlistPromoted => "waitlist_promoted",
            ChannelEvent::CertificateIssued => "certificate_issued",
            ChannelEvent::Test => "test",
        }
    }

    pub fn parse(key: &str) -> Option<ChannelEvent> {
        Self::SUBSCRIBABLE
            .into_iter()
            .chain([ChannelEvent::Test])
            .find(|e| e.key() == key)
    }

    /// The translation key of the event's name.
    pub fn label_key(self) -> String {
        format!("channels.event_{}", self.key())
    }
}

/// The state of one delivery in the channels' outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "pending"))]
    Pending,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "sent"))]
    Sent,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "dead"))]
    Dead,
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(key: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Sent,
            DeliveryStatus::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == key)
    }

    /// Which states may follow this one: the worker sends or gives up; an admin sends a dead
    /// delivery back to the queue.
    pub fn may_become(self, next: DeliveryStatus) -> bool {
        use DeliveryStatus::*;
        matches!(
            (self, next),
            (Pending, Pending) | (Pending, Sent) | (Pending, Dead) | (Dead, Pending)
        )
    }
}

/// Why a delivery failed, as the channel page explains it (`channels.error_<key>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// No connection (refused, DNS, timeout): tried again later.
    Unreachable,
    /// The platform answered 5xx: tried again later.
    ServerError,
    /// The platform asked to slow down: tried again later.
    RateLimited,
    /// HTTP 4xx: the address is wrong or the robot was removed.
    ClientError,
    /// The platform refused the signature (DingTalk 310000, Feishu 19021): the secret is wrong.
    Signature,
    /// WeCom refused the key in the address (93000).
    InvalidWebhook,
    /// Any other error code in the platform's answer.
    Platform,
}

impl FailureKind {
    pub const ALL: [FailureKind; 7] = [
        FailureKind::Unreachable,
        FailureKind::ServerError,
        FailureKind::RateLimited,
        FailureKind::ClientError,
        FailureKind::Signature,
        FailureKind::InvalidWebhook,
        FailureKind::Platform,
    ];

    pub fn key(self) -> &'static str {
        match self {
            FailureKind::Unreachable => "unreachable",
            FailureKind::ServerError => "server_error",
            FailureKind::RateLimited => "rate_limited",
            FailureKind::ClientError => "client_error",
            FailureKind::Signature => "signature",
            FailureKind::InvalidWebhook => "invalid_webhook",
            FailureKind::Platform => "platform",
        }
    }

    pub fn parse(key: &str) -> Option<FailureKind> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Whether trying again later may succeed without anyone changing anything.
    pub fn transient(self) -> bool {
        matches!(
            self,
            FailureKind::Unreachable | FailureKind::ServerError | FailureKind::RateLimited
        )
    }
}

/// A channel as admins see it: never its secret, and its address with the key masked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    pub id: i64,
    pub name: String,
    pub platform: Platform,
    /// The webhook address with its token masked (`…?access_token=ab…yz`).
    pub webhook_hint: String,
    /// The last characters of the signing secret, when one is stored.
    pub secret_hint: Option<String>,
    pub events: Vec<ChannelEvent>,
    /// `en` or `zh-CN`: the language of the channel's messages.
    pub locale: String,
    /// The newest delivery's state and error, for the list.
    pub last: Option<DeliveryRow>,
    /// Deliveries that gave up, waiting for an admin.
    pub dead: u64,
}

/// One message in a channel's outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub event: ChannelEvent,
    pub title: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub error_kind: Option<FailureKind>,
    /// What the platform said (e.g. `errcode 310000: sign not match`), untranslated.
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
}

/// A channel's page: its settings and its recent deliveries, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelDetail {
    pub channel: ChannelView,
    pub deliveries: Vec<DeliveryRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back() {
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.key()), Some(p));
        }
        for e in ChannelEvent::SUBSCRIBABLE {
            assert_eq!(ChannelEvent::parse(e.key()), Some(e));
        }
        assert_eq!(ChannelEvent::parse("test"), Some(ChannelEvent::Test));
        for k in FailureKind::ALL {
            assert_eq!(FailureKind::parse(k.key()), Some(k));
        }
        assert_eq!(Platform::parse("slack"), None);
    }

    #[test]
    fn delivery_transitions() {
        use DeliveryStatus::*;
        let table = [
            (Pending, Sent, true),
            (Pending, Dead, true),
            (Pending, Pending, true),
            (Dead, Pending, true),
            (Sent, Pending, false),
            (Sent, Dead, false),
            (Dead, Sent, false),
        ];
        for (from, to, ok) in table {
            assert_eq!(from.may_become(to), ok, "{from:?} → {to:?}");
        }
    }

    #[test]
    fn only_transient_failures_are_retried_by_themselves() {
        assert!(FailureKind::Unreachable.transient());
        assert!(FailureKind::ServerError.transient());
        assert!(FailureKind::RateLimited.transient());
        assert!(!FailureKind::Signature.transient());
        assert!(!FailureKind::ClientError.transient());
        assert!(!FailureKind::InvalidWebhook.transient());
    }
}
