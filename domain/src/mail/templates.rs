//! The emails Hatchery sends, in the recipient's language.
use crate::i18n::Locale;
use wire::auth::Role;
use wire::mail::MailKind;

/// A rendered message, ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailContent {
    pub kind: MailKind,
    pub subject: String,
    pub body: String,
    /// A one-time token the body's link holds as `TOKEN_SLOT`, put in only on delivery.
    pub secret: Option<String>,
}

/// Where a one-time token stands in a message's stored body (`/reset?token={one-time-token}`):
/// the outbox, which admins read, never holds the live link.
pub const TOKEN_SLOT: &str = "{one-time-token}";

impl MailContent {
    /// The message carries `token` in its link, until delivery only.
    pub fn with_secret(mut self, token: String) -> Self {
        self.secret = Some(token);
        self
    }
}

fn compose(locale: Locale, kind: MailKind, greeting_name: &str, lines: &[String]) -> MailContent {
    let mut body = if greeting_name.is_empty() {
        locale.t("mail.greeting_anonymous")
    } else {
        locale.t_with("mail.verify.greeting", &[("name", greeting_name)])
    };
    body.push_str("\n\n");
    for line in lines {
        body.push_str(line);
        body.push_str("\n\n");
    }
    body.push_str(&locale.t("mail.signature"));
    body.push('\n');
    MailContent {
        kind,
        subject: locale.t(&format!("mail.{kind}.subject")),
        body,
        secret: None,
    }
}

pub fn verify_email(locale: Locale, name: &str, link: &str) -> MailContent {
    compose(
        locale,
        MailKind::Verify,
        name,
        &[
            locale.t("mail.verify.intro"),
            link.to_string(),
            locale.t("mail.verify.ignore"),
        ],
    )
}

pub fn password_reset(locale: Locale, name: &str, link: &str) -> MailContent {
    compose(
        locale,
        MailKind::Reset,
        name,
        &[
            locale.t("mail.reset.intro"),
            link.to_string(),
            locale.t("mail.reset.ignore"),
        ],
    )
}

pub fn invitation(locale: Locale, inviter: &str, role: Role, link: &str) -> MailContent {
    let role_name = locale.t(role.label_key());
    compose(
        locale,
        MailKind::Invite,
        "",
        &[
            locale.t_with(
                "mail.invite.intro",
                &[("inviter", inviter), ("role", &role_name)],
            ),
            link.to_string(),
            locale.t("mail.invite.expiry"),
        ],
    )
}

pub fn application_submitted(locale: Locale, name: &str, round: &str, link: &str) -> MailContent {
    compose(
        locale,
        MailKind::Submitted,
        name,
        &[
            locale.t_with("mail.submitted.intro", &[("round", round)]),
            link.to_string(),
            locale.t("mail.submitted.next"),
        ],
    )
}

pub fn reviewer_assigned(locale: Locale, name: &str, round: &str, link: &str) -> MailContent {
    compose(
        locale,
        MailKind::Assigned,
        name,
        &[
            locale.t_with("mail.assigned.intro", &[("round", round)]),
            link.to_string(),
        ],
    )
}

pub fn reviewers_assigned_batch(
    locale: Locale,
    name: &str,
    round: &str,
    count: &str,
    link: &str,
) -> MailContent {
    compose(
        locale,
        MailKind::AssignedBatch,
        name,
        &[
            locale.t_with(
                "mail.assigned_batch.intro",
                &[("round", round), ("count", count)],
            ),
            link.to_string(),
        ],
    )
}

pub fn team_invitation(locale: Locale, inviter: &str, startup: &str, link: &str) -> MailContent {
    compose(
        locale,
        MailKind::TeamInvite,
        "",
        &[
            locale.t_with(
                "mail.team_invite.intro",
                &[("inviter", inviter), ("startup", startup)],
            ),
            link.to_string(),
            locale.t("mail.invite.expiry"),
        ],
    )
}

/// A mentor was assigned to an incubating startup.
pub fn mentor_assigned(locale: Locale, name: &str, startup: &str, link: &str) -> MailContent {
    let mut c = compose(
        locale,
        MailKind::MentorAssigned,
        name,
        &[
            locale.t_with("mentoring.mail_assigned_intro", &[("startup", startup)]),
            link.to_string(),
        ],
    );
    c.subject = locale.t_with("mentoring.mail_assigned_subject", &[("startup", startup)]);
    c
}

/// A planned milestone is due soon (to the team and the startup's mentors).
pub fn milestone_reminder(
    locale: Locale,
    name: &str,
    startup: &str,
    title: &str,
    due_on: &str,
    link: &str,
) -> MailContent {
    let mut c = compose(
        locale,
        MailKind::MilestoneReminder,
        name,
        &[
            locale.t_with(
                "milestones.mail_reminder_intro",
                &[("startup", startup), ("title", title), ("date", due_on)],
            ),
            locale.t("milestones.mail_reminder_next"),
            link.to_string(),
        ],
    );
    c.subject = locale.t_with(
        "milestones.mail_reminder_subject",
        &[("title", title), ("date", due_on)],
    );
    c
}

/// A milestone was signed off as `done` or `missed`.
pub fn milestone_signed_off(
    locale: Locale,
    name: &str,
    startup: &str,
    title: &str,
    outcome: &str,
    link: &str,
) -> MailContent {
    let mut c = compose(
        locale,
        MailKind::MilestoneSignedOff,
        name,
        &[
            locale.t_with(
                &format!("milestones.mail_{outcome}_intro"),
                &[("startup", startup), ("title", title)],
            ),
            link.to_string(),
        ],
    );
    c.subject = locale.t_with(
        &format!("milestones.mail_{outcome}_subject"),
        &[("title", title)],
    );
    c
}

/// An incubation ended: `graduated` or `exited`, with the park's reason.
pub fn incubation_ended(
    locale: Locale,
    name: &str,
    startup: &str,
    outcome: &str,
    reason: &str,
    link: &str,
) -> MailContent {
    let mut c = compose(
        locale,
        MailKind::IncubationEnded,
        name,
        &[
            locale.t_with(
                &format!("incubation.mail_{outcome}_intro"),
                &[("startup", startup)],
            ),
            reason.to_string(),
            link.to_string(),
        ],
    );
    c.subject = locale.t_with(
        &format!("incubation.mail_{outcome}_subject"),
        &[("startup", startup)],
    );
    c
}

/// A grant of the recipient's startup was issued or changed (`event` is created, adjusted,
/// suspended, active, revoked or expired).
pub fn grant_changed(
    locale: Locale,
    name: &str,
    event: &str,
    resource: &str,
    remaining_hours: &str,
    link: &str,
) -> MailContent {
    grant_notice(locale, name, event, resource, "", remaining_hours, link)
}

/// A grant's change or alert: `event` names the line `mail.grant.<event>`, which may use
/// the resource and a date (used_80, used_100 and expiring are the alerts).
pub fn grant_notice(
    locale: Locale,
    name: &str,
    event: &str,
    resource: &str,
    date: &str,
    remaining_hours: &str,
    link: &str,
) -> MailContent {
    let mut c = compose(
        locale,
        MailKind::Grant,
        name,
        &[
            locale.t_with(
                &format!("mail.grant.{event}"),
                &[("resource", resource), ("date", date)],
            ),
            locale.t_with("mail.grant.remaining", &[("hours", remaining_hours)]),
            link.to_string(),
        ],
    );
    c.subject = locale.t_with("mail.grant.subject", &[("resource", resource)]);
    c
}

/// A change of the recipient's place in a training cohort: `event` is enrolled,
/// waitlisted (with the `position`), promoted or removed.
pub fn cohort_notice(
    locale: Locale,
    name: &str,
    event: &str,
    cohort: &str,
    position: &str,
    link: &str,
) -> MailContent {
    let mut c = compose(
        locale,
        MailKind::Cohort,
        name,
        &[
            locale.t_with(
                &format!("mail.cohort.{event}"),
                &[("cohort", cohort), ("position", position)],
            ),
            link.to_string(),
        ],
    );
    c.subject = locale.t_with(
        &format!("mail.cohort.subject_{event}"),
        &[("cohort", cohort)],
    );
    c
}

/// The recipient completed a cohort: their certificate and where anyone can verify it.
pub fn certificate_issued(
    locale: Locale,
    name: &str,
    cohort: &str,
    code: &str,
    link: &str,
) -> MailContent {
    let mut c = compose(
        locale,
        MailKind::Certificate,
        name,
        &[
            locale.t_with("mail.certificate.intro", &[("cohort", cohort)]),
            locale.t_with("mail.certificate.code", &[("code", code)]),
            link.to_string(),
        ],
    );
    c.subject = locale.t_with("mail.certificate.subject", &[("cohort", cohort)]);
    c
}

pub fn conflict_declared(
    locale: Locale,
    admin: &str,
    mentor: &str,
    round: &str,
    application: i64,
    link: &str,
) -> MailContent {
    compose(
        locale,
        MailKind::Conflict,
        admin,
        &[
            locale.t_with(
                "mail.conflict.intro",
                &[
                    ("mentor", mentor),
                    ("round", round),
                    ("application", &application.to_string()),
                ],
            ),
            link.to_string(),
        ],
    )
}

pub fn decision(
    locale: Locale,
    name: &str,
    round: &str,
    status: &str,
    message: &str,
    link: &str,
) -> MailContent {
    let outcome = locale.t(&format!("mail.decision.{status}"));
    let mut lines = vec![
        locale.t_with("mail.decision.intro", &[("round", round)]),
        outcome,
    ];
    if !message.is_empty() {
        lines.push(message.to_string());
    }
    lines.push(locale.t("mail.decision.details"));
    lines.push(link.to_string());
    compose(locale, MailKind::Decision, name, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_email_is_in_the_recipients_language() {
        let en = verify_email(Locale::En, "Wei", "http://x/verify?token=t");
        assert_eq!(en.subject, "Confirm your email address for Hatchery");
        assert!(en.body.starts_with("Hello Wei,"));
        assert!(en.body.contains("http://x/verify?token=t"));
        let zh = verify_email(Locale::ZhCn, "李雷", "http://x/verify?token=t");
        assert_eq!(zh.subject, "请确认您在 Hatchery 的邮箱地址");
        assert!(zh.body.starts_with("李雷，您好："));
    }

    #[test]
    fn invitation_names_the_role() {
        let zh = invitation(
            Locale::ZhCn,
            "王芳",
            Role::Mentor,
            "http://x/invite?token=t",
        );
        assert!(zh.body.contains("王芳"), "{}", zh.body);
        assert!(zh.body.contains("导师"), "{}", zh.body);
    }
}
