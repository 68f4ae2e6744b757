//! Chat channels: WeCom, DingTalk and Feishu group robots that park-wide events are posted
//! to, through an outbox of their own (retries, dead letters an admin can send again).
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// The group-robot platforms a channel can post to; each has a label
    /// `channels.platform_<platform>`.
    #[derive(Default)]
    pub enum Platform {
        #[default]
        Wecom = "wecom",
        Dingtalk = "dingtalk",
        Feishu = "feishu",
    }
}

impl Platform {
    /// Whether the platform signs with a secret of its own (WeCom's key is in the URL).
    pub fn signs(self) -> bool {
        !matches!(self, Platform::Wecom)
    }
}

crate::states::states! {
    /// What a channel can be told about. `Test` is the admin's test message; no one subscribes
    /// to it.
    pub enum ChannelEvent {
        ApplicationSubmitted = "application_submitted",
        Decision = "decision",
        Grant = "grant",
        CreditAlert = "credit_alert",
        SyncDead = "sync_dead",
        WaitlistPromoted = "waitlist_promoted",
        CertificateIssued = "certificate_issued",
        Test = "test",
    }
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

    /// The translation key of the event's name.
    pub fn label_key(self) -> String {
        format!("channels.event_{}", self.as_str())
    }
}

crate::states::states! {
    /// The state of one delivery in the channels' outbox; each has a label
    /// `channels.status_<state>`.
    pub enum DeliveryStatus {
        Pending = "pending",
        Sent = "sent",
        Dead = "dead",
    }
}

impl DeliveryStatus {
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

crate::states::states! {
    /// Why a delivery failed, as the channel page explains it (`channels.error_<kind>`).
    pub enum FailureKind {
        /// No connection (refused, DNS, timeout): tried again later.
        Unreachable = "unreachable",
        /// The platform answered 5xx: tried again later.
        ServerError = "server_error",
        /// The platform asked to slow down: tried again later.
        RateLimited = "rate_limited",
        /// HTTP 4xx: the address is wrong or the robot was removed.
        ClientError = "client_error",
        /// The platform refused the signature (DingTalk 310000, Feishu 19021): the secret is
        /// wrong.
        Signature = "signature",
        /// WeCom refused the key in the address (93000).
        InvalidWebhook = "invalid_webhook",
        /// Any other error code in the platform's answer.
        Platform = "platform",
    }
}

impl FailureKind {
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
        for e in ChannelEvent::SUBSCRIBABLE {
            assert_eq!(ChannelEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(ChannelEvent::parse("test"), Some(ChannelEvent::Test));
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
