//! Incubation's commands: an admin adds a startup (with its first founder's invitation),
//! sets its residency window, assigns and unassigns its mentors and ends it (graduation or
//! exit); its mentors and admins add notes to its timeline. Milestones are in `milestones.rs`,
//! what the pages show in `views.rs`.
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::entity::{user, user_role};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::startups::access::{access, is_assigned};
use crate::startups::entity::{member, mentor, note, startup};
use crate::startups::profiles::{validate, StartupInput};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr,
};
use serde_json::json;
use wire::auth::{EmailAddress, Role};
use wire::startups::incubation::StartupStatus;

const NOTE_MAX: usize = 5000;
const REASON_MAX: usize = 2000;

/// A date as a date field sends it (`2027-01-31`).
pub(crate) fn parse_date(field: &str, text: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, "incubation.error_date_invalid"))
}

/// An optional residency window: both ends, one, or none; the end after the start.
fn parse_window(from: &str, until: &str) -> AppResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    let from = match from.trim() {
        "" => None,
        t => Some(parse_date("residency_from", t)?),
    };
    let until = match until.trim() {
        "" => None,
        t => Some(parse_date("residency_until", t)?),
    };
    if let (Some(f), Some(u)) = (from, until) {
        if u <= f {
            return Err(AppError::invalid(
                "residency_until",
                "incubation.error_window_order",
            ));
        }
    }
    Ok((from, until))
}

/// Only an incubating startup's residency, mentors, milestones and end may change.
pub(super) fn require_incubating(s: &startup::Model) -> AppResult<()> {
    if s.status != StartupStatus::Incubating {
        return Err(AppError::conflict("incubation.error_not_incubating"));
    }
    Ok(())
}

/// What an admin types to add a startup directly.
#[derive(Clone, Debug, Default)]
pub struct NewStartup {
    pub profile: StartupInput,
    pub residency_from: String,
    pub residency_until: String,
    /// Optional: the founder, who gets a team invitation.
    pub founder_email: String,
    pub lang: String,
}

/// An admin adds a startup straight into incubation (not through an intake round); with a
/// founder's email, the founder is invited onto its team.
pub async fn add(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    input: NewStartup,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let v = validate(&input.profile)?;
    let (from, until) = parse_window(&input.residency_from, &input.residency_until)?;
    let founder =
        match input.founder_email.trim() {
            "" => None,
            e => Some(EmailAddress::parse(e).map_err(|_| {
                AppError::invalid("founder_email", "incubation.error_founder_email")
            })?),
        };
    let locale = Locale::from_tag(&input.lang).unwrap_or(actor.locale);
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    let s = startup::ActiveModel {
        name: Set(v.name),
        credit_code: Set(v.credit_code.map(|c| c.as_str().to_string())),
        sector: Set(v.sector),
        stage: Set(v.stage),
        team_size: Set(v.team_size),
        website: Set(v.website),
        founders: Set(v.founders),
        status: Set(StartupStatus::Incubating),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        residency_from: Set(from),
        residency_until: Set(until),
        ended_at: Set(None),
        end_reason: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::conflict("error.credit_code_taken"),
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "startup.added",
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: None,
            after: Some(json!({
                "name": s.name, "status": s.status,
                "residency_from": s.residency_from, "residency_until": s.residency_until,
                "founder_email": founder.as_ref().map(|e| e.as_str()),
            })),
        },
    )
    .await?;
    if let Some(email) = &founder {
        crate::startups::team::send_invitation(&txn, settings, actor, &s, email, locale)
            .await
            .map_err(|e| match e {
                // The founder is already on another startup's team: say so on the field.
                AppError::Conflict { key } => AppError::invalid("founder_email", &key),
                e => e,
            })?;
    }
    txn.commit().await?;
    Ok(s.id)
}

/// An admin sets (or clears) the residency window of an incubating startup.
pub async fn set_residency(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    from: &str,
    until: &str,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let (from, until) = parse_window(from, until)?;
    let txn = crate::txn::begin(db).await?;
    let (s, _) = access(&txn, actor, id).await?;
    require_incubating(&s)?;
    let before = json!({"residency_from": s.residency_from, "residency_until": s.residency_until});
    let mut a: startup::ActiveModel = s.into();
    a.residency_from = Set(from);
    a.residency_until = Set(until);
    a.updated_at = Set(Utc::now());
    let s = a.update(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "startup.residency_set",
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: Some(before),
            after: Some(
                json!({"residency_from": s.residency_from, "residency_until": s.residency_until}),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An admin assigns a person with the mentor role to an incubating startup; the mentor is told
/// by email.
pub async fn assign_mentor(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    id: i64,
    user_id: i64,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let (s, _) = access(&txn, actor, id).await?;
    require_incubating(&s)?;
    let is_mentor = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .filter(user_role::Column::Role.eq(Role::Mentor.as_str()))
        .one(&txn)
        .await?
        .is_some();
    let u = user::Entity::find_by_id(user_id).one(&txn).await?;
    let Some(u) = u.filter(|_| is_mentor) else {
        return Err(AppError::invalid(
            "user_id",
            "incubation.error_not_a_mentor",
        ));
    };
    if is_assigned(&txn, s.id, u.id).await? {
        return Err(AppError::conflict("incubation.error_already_assigned"));
    }
    let now = Utc::now();
    mentor::ActiveModel {
        startup_id: Set(s.id),
        user_id: Set(u.id),
        assigned_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::conflict("incubation.error_already_assigned")
        }
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "startup.mentor_assigned",
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: None,
            after: Some(json!({"mentor": u.id})),
        },
    )
    .await?;
    let locale = Locale::from_tag(&u.locale).unwrap_or_default();
    let content = templates::mentor_assigned(
        locale,
        &u.name,
        &s.name,
        &settings.link(&format!("/startups/{}", s.id)),
    );
    outbox::enqueue(&txn, &u.email, &u.name, locale, &content).await?;
    txn.commit().await?;
    Ok(())
}

/// An admin takes a mentor off a startup (at any stage; the notes they wrote stay).
pub async fn unassign_mentor(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    user_id: i64,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let (s, _) = access(&txn, actor, id).await?;
    let deleted = mentor::Entity::delete_by_id((s.id, user_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::conflict("incubation.error_not_assigned"));
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "startup.mentor_unassigned",
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: Some(json!({"mentor": user_id})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An admin or an assigned mentor adds a note to the startup's timeline.
pub async fn add_note(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    body: &str,
) -> AppResult<()> {
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::invalid("body", "incubation.error_note_required"));
    }
    if body.chars().count() > NOTE_MAX {
        return Err(AppError::invalid("body", "error.too_long"));
    }
    let txn = crate::txn::begin(db).await?;
    let (s, _) = access(&txn, actor, id).await?;
    let n = note::ActiveModel {
        startup_id: Set(s.id),
        author_id: Set(actor.user_id),
        body: Set(body.into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "startup.note_added",
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: None,
            after: Some(json!({"note": n.id})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An admin ends an incubation: `graduated` (the startup stays listed as alumni) or `exited`,
/// with a reason. Only an incubating startup can end; GPU-credit tranches still waiting on its
/// milestones are cancelled, and its team is told by email.
pub async fn end(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    id: i64,
    to: &str,
    reason: &str,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let to = match StartupStatus::parse(to) {
        Some(to) if to.has_ended() => to,
        _ => return Err(AppError::invalid("to", "incubation.error_end_invalid")),
    };
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "incubation.error_reason_required",
        ));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(AppError::invalid("reason", "error.too_long"));
    }
    let txn = crate::txn::begin(db).await?;
    let (s, _) = access(&txn, actor, id).await?;
    require_incubating(&s)?;
    let now = Utc::now();
    // Guarded on the status, so two admins ending it at once cannot both succeed.
    let updated = startup::Entity::update_many()
        .col_expr(startup::Column::Status, Expr::value(to))
        .col_expr(startup::Column::EndedAt, Expr::value(now))
        .col_expr(startup::Column::EndReason, Expr::value(reason))
        .col_expr(startup::Column::UpdatedAt, Expr::value(now))
        .filter(startup::Column::Id.eq(s.id))
        .filter(startup::Column::Status.eq(StartupStatus::Incubating))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::conflict("incubation.error_not_incubating"));
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: if to == StartupStatus::Graduated {
                "startup.graduated"
            } else {
                "startup.exited"
            },
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: Some(json!({"status": s.status})),
            after: Some(json!({"status": to, "reason": reason})),
        },
    )
    .await?;
    // Credit that waits on a milestone no one can sign off any more will never come.
    crate::credits::tranches::cancel_for_ended_startup(&txn, actor, s.id).await?;
    let ids: Vec<i64> = member::Entity::find()
        .filter(member::Column::StartupId.eq(s.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let link = settings.link("/startup");
    for u in user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(&txn)
        .await?
    {
        let locale = Locale::from_tag(&u.locale).unwrap_or_default();
        let content =
            templates::incubation_ended(locale, &u.name, &s.name, to.as_str(), reason, &link);
        outbox::enqueue(&txn, &u.email, &u.name, locale, &content).await?;
    }
    txn.commit().await?;
    Ok(())
}
