//! The one way an event reaches the chat channels: `announce`, called inside the transaction
//! of the change that causes it, and the messages it posts, in each channel's language.
use super::ChannelEvent;
use crate::i18n::Locale;
use sea_orm::{ConnectionTrait, DbErr};

/// Stands for the public address in a stored message, for callers that do not know it (the
/// sync worker); the outbox puts the address in when it sends.
pub const SITE: &str = "{site}";

/// A message before it is a platform's card: a plain-text title, lines of markdown and a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    pub title: String,
    pub lines: Vec<String>,
    pub link: Option<(String, String)>,
}

impl ChatMessage {
    /// The body as markdown, which the three platforms read alike (bold, links, paragraphs).
    pub fn markdown(&self) -> String {
        let mut out = self.lines.join("\n\n");
        if let Some((label, url)) = &self.link {
            out.push_str(&format!("\n\n[{label}]({url})"));
        }
        out
    }
}

/// Text from people (names, titles) as it may stand in markdown: no links, tags, emphasis or
/// line breaks of its own.
pub fn plain(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '[' => '［',
            ']' => '］',
            '<' => '‹',
            '>' => '›',
            '*' => '∗',
            '_' => '＿',
            '`' => 'ʼ',
            '#' => '＃',
            '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .collect()
}

/// Queues `event` for every channel subscribed to it, rendered in the channel's language;
/// returns how many deliveries were queued. Runs in the caller's transaction, so the message
/// exists exactly when the change does.
pub async fn announce(
    db: &impl ConnectionTrait,
    event: ChannelEvent,
    render: impl Fn(Locale) -> ChatMessage,
) -> Result<usize, DbErr> {
    let channels = super::manage::subscribed(db, event).await?;
    for c in &channels {
        let locale = Locale::from_tag(&c.locale).unwrap_or_default();
        super::outbox::enqueue(db, c, event, &render(locale)).await?;
    }
    Ok(channels.len())
}

fn message(locale: Locale, title: String, lines: Vec<String>, link: &str) -> ChatMessage {
    ChatMessage {
        title,
        lines,
        link: Some((locale.t("channels.msg_link"), link.to_string())),
    }
}

pub fn application_submitted(
    locale: Locale,
    startup: &str,
    round: &str,
    link: &str,
) -> ChatMessage {
    let (startup, round) = (plain(startup), plain(round));
    let args = [("startup", startup.as_str()), ("round", round.as_str())];
    message(
        locale,
        locale.t_with("channels.msg_submitted_title", &args),
        vec![locale.t_with("channels.msg_submitted", &args)],
        link,
    )
}

/// `status` is accepted, rejected or waitlisted.
pub fn decision(
    locale: Locale,
    startup: &str,
    round: &str,
    status: &str,
    link: &str,
) -> ChatMessage {
    let (startup, round) = (plain(startup), plain(round));
    let outcome = locale.t(&format!("channels.outcome_{status}"));
    let args = [
        ("startup", startup.as_str()),
        ("round", round.as_str()),
        ("outcome", outcome.as_str()),
    ];
    message(
        locale,
        locale.t_with("channels.msg_decision_title", &args),
        vec![locale.t_with("channels.msg_decision", &args)],
        link,
    )
}

/// Which channel event a grant's change is: the usage and expiry alerts are credit alerts,
/// everything else (issued, adjusted, suspended, resumed, revoked, expired, a tranche
/// released) a grant change.
pub fn grant_event(event: &str) -> ChannelEvent {
    match event {
        "used_80" | "used_100" | "expiring" => ChannelEvent::CreditAlert,
        _ => ChannelEvent::Grant,
    }
}

/// A grant's change or alert (`event` as the team's email names it).
pub fn grant(
    locale: Locale,
    event: &str,
    startup: &str,
    resource: &str,
    date: &str,
    remaining_hours: &str,
    link: &str,
) -> ChatMessage {
    let (startup, resource) = (plain(startup), plain(resource));
    let args = [
        ("startup", startup.as_str()),
        ("resource", resource.as_str()),
        ("date", date),
    ];
    let title = match grant_event(event) {
        ChannelEvent::CreditAlert => "channels.msg_alert_title",
        _ => "channels.msg_grant_title",
    };
    message(
        locale,
        locale.t_with(title, &args),
        vec![
            locale.t_with(&format!("channels.msg_grant_{event}"), &args),
            locale.t_with("channels.msg_remaining", &[("hours", remaining_hours)]),
        ],
        link,
    )
}

pub fn sync_dead(
    locale: Locale,
    startup: &str,
    resource: &str,
    attempts: i32,
    error: &str,
    link: &str,
) -> ChatMessage {
    let (startup, resource) = (plain(startup), plain(resource));
    let attempts = attempts.to_string();
    let args = [
        ("startup", startup.as_str()),
        ("resource", resource.as_str()),
        ("attempts", attempts.as_str()),
    ];
    let error: String = plain(error).chars().take(300).collect();
    message(
        locale,
        locale.t_with("channels.msg_sync_dead_title", &args),
        vec![
            locale.t_with("channels.msg_sync_dead", &args),
            locale.t_with("channels.msg_sync_error", &[("error", &error)]),
        ],
        link,
    )
}

pub fn waitlist_promoted(locale: Locale, person: &str, cohort: &str, link: &str) -> ChatMessage {
    let (person, cohort) = (plain(person), plain(cohort));
    let args = [("person", person.as_str()), ("cohort", cohort.as_str())];
    message(
        locale,
        locale.t_with("channels.msg_promoted_title", &args),
        vec![locale.t_with("channels.msg_promoted", &args)],
        link,
    )
}

pub fn certificate_issued(
    locale: Locale,
    person: &str,
    cohort: &str,
    code: &str,
    link: &str,
) -> ChatMessage {
    let (person, cohort, code) = (plain(person), plain(cohort), plain(code));
    let args = [
        ("person", person.as_str()),
        ("cohort", cohort.as_str()),
        ("code", code.as_str()),
    ];
    message(
        locale,
        locale.t_with("channels.msg_certificate_title", &args),
        vec![locale.t_with("channels.msg_certificate", &args)],
        link,
    )
}

pub fn test_message(locale: Locale, channel: &str, link: &str) -> ChatMessage {
    let channel = plain(channel);
    message(
        locale,
        locale.t("channels.msg_test_title"),
        vec![locale.t_with("channels.msg_test", &[("channel", &channel)])],
        link,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_bring_their_own_markdown() {
        assert_eq!(
            plain("Evil](http://x) **Co**\n# <at id=all>"),
            "Evil］(http://x) ∗∗Co∗∗ ＃ ‹at id=all›"
        );
    }

    #[test]
    fn messages_are_in_the_channels_language() {
        let en = application_submitted(Locale::En, "DeepPark AI", "Spring 2027", "http://h/a/1");
        let zh = application_submitted(Locale::ZhCn, "深园智能", "2027 春季", "http://h/a/1");
        assert!(en.title.contains("DeepPark AI"), "{}", en.title);
        assert!(en.markdown().ends_with("(http://h/a/1)"));
        assert!(zh.markdown().contains("深园智能"));
        assert_ne!(
            en.title.replace("DeepPark AI", ""),
            zh.title.replace("深园智能", "")
        );
        for event in [
            "created",
            "adjusted",
            "suspended",
            "active",
            "revoked",
            "expired",
            "tranche_released",
            "used_80",
            "used_100",
            "expiring",
        ] {
            for locale in [Locale::En, Locale::ZhCn] {
                let m = grant(locale, event, "S", "A800", "2027-01-01", "10", "http://h");
                assert!(!m.lines[0].contains("channels."), "{event}: {}", m.lines[0]);
            }
        }
        for status in ["accepted", "rejected", "waitlisted"] {
            let m = decision(Locale::ZhCn, "S", "R", status, "http://h");
            assert!(!m.lines[0].contains("channels."), "{}", m.lines[0]);
        }
    }
}
