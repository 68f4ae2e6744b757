//! Milestones of an incubating startup: admins plan them; an admin or one of its mentors
//! signs each off once, as done (with evidence) or missed (with notes); teams and mentors are
//! reminded before the due date. Sign-off releases or cancels the GPU-credit tranches tied to
//! the milestone in the same transaction.
use super::residency::parse_date;
use super::residency::require_incubating;
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::entity::user;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::startups::access::{access, Access};
use crate::startups::entity::{member, mentor, milestone, startup};
use crate::startups::incubation::{MilestoneRow, REMINDER_DAYS};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use wire::auth::Role;
use wire::startups::incubation::{MilestoneStatus, StartupStatus};

const TITLE_MAX: usize = 200;
const TEXT_MAX: usize = 5000;

/// The milestone form as submitted.
#[derive(Clone, Debug, Default)]
pub struct MilestoneInput {
    pub title: String,
    pub description: String,
    pub due_on: String,
}

struct ValidMilestone {
    title: String,
    description: String,
    due_on: NaiveDate,
}

fn validate(input: &MilestoneInput, today: NaiveDate) -> AppResult<ValidMilestone> {
    let title = input.title.trim();
    if title.is_empty() {
        return Err(AppError::invalid(
            "title",
            "milestones.error_title_required",
        ));
    }
    if title.chars().count() > TITLE_MAX {
        return Err(AppError::invalid("title", "error.too_long"));
    }
    let description = input.description.trim();
    if description.chars().count() > TEXT_MAX {
        return Err(AppError::invalid("description", "error.too_long"));
    }
    let due_on = parse_date("due_on", &input.due_on)?;
    if due_on < today {
        return Err(AppError::invalid("due_on", "milestones.error_due_past"));
    }
    Ok(ValidMilestone {
        title: title.into(),
        description: description.into(),
        due_on,
    })
}

fn audit_of(m: &milestone::Model) -> serde_json::Value {
    json!({
        "title": m.title, "due_on": m.due_on, "status": m.status,
        "evidence": m.evidence, "notes": m.notes,
    })
}

async fn record(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    action: &'static str,
    before: Option<&milestone::Model>,
    after: Option<&milestone::Model>,
    id: i64,
) -> AppResult<()> {
    audit::record(
        txn,
        Change {
            actor: Some(actor.user_id),
            action,
            entity_type: "milestone",
            entity_id: id.to_string(),
            before: before.map(audit_of),
            after: after.map(audit_of),
        },
    )
    .await?;
    Ok(())
}

/// The milestone and its startup, if the actor may see them, with what they may do.
async fn load(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<(milestone::Model, startup::Model, Access)> {
    if !actor.has(Role::Admin) && !actor.has(Role::Mentor) {
        return Err(AppError::Forbidden);
    }
    let m = milestone::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let (s, access) = access(txn, actor, m.startup_id).await?;
    Ok((m, s, access))
}

fn require_planned(m: &milestone::Model) -> AppResult<()> {
    if m.status != MilestoneStatus::Planned {
        return Err(AppError::conflict("milestones.error_final"));
    }
    Ok(())
}

/// A startup's milestones by due date, with who signed them off and their tranches (three
/// queries).
pub async fn rows_for_startup(
    db: &impl ConnectionTrait,
    startup_id: i64,
) -> AppResult<Vec<MilestoneRow>> {
    let ms = milestone::Entity::find()
        .filter(milestone::Column::StartupId.eq(startup_id))
        .order_by_asc(milestone::Column::DueOn)
        .order_by_asc(milestone::Column::Id)
        .all(db)
        .await?;
    let signers = user::Entity::find()
        .filter(user::Column::Id.is_in(ms.iter().filter_map(|m| m.signed_off_by)))
        .all(db)
        .await?;
    let tranches = crate::credits::tranches::for_milestones(db, &ms).await?;
    Ok(ms
        .into_iter()
        .map(|m| MilestoneRow {
            signed_off_by: m
                .signed_off_by
                .and_then(|id| signers.iter().find(|u| u.id == id))
                .map(|u| u.name.clone()),
            tranches: tranches
                .iter()
                .filter(|t| t.milestone_id == m.id)
                .cloned()
                .collect(),
            id: m.id,
            title: m.title,
            description: m.description,
            due_on: m.due_on,
            status: m.status,
            evidence: m.evidence,
            notes: m.notes,
            signed_off_at: m.signed_off_at,
        })
        .collect())
}

/// An admin plans a milestone for an incubating startup.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    startup_id: i64,
    input: MilestoneInput,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let now = Utc::now();
    let v = validate(&input, actor.zone.date(&now))?;
    let txn = crate::txn::begin(db).await?;
    let (s, _) = access(&txn, actor, startup_id).await?;
    require_incubating(&s)?;
    let m = milestone::ActiveModel {
        startup_id: Set(s.id),
        title: Set(v.title),
        description: Set(v.description),
        due_on: Set(v.due_on),
        status: Set(MilestoneStatus::Planned),
        evidence: Set(None),
        notes: Set(None),
        signed_off_by: Set(None),
        signed_off_at: Set(None),
        reminded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(&txn, actor, "milestone.created", None, Some(&m), m.id).await?;
    txn.commit().await?;
    Ok(m.id)
}

/// An admin edits a planned milestone; a new due date re-arms its reminder. Returns the
/// startup's id.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    input: MilestoneInput,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let now = Utc::now();
    let v = validate(&input, actor.zone.date(&now))?;
    let txn = crate::txn::begin(db).await?;
    let (m, s, _) = load(&txn, actor, id).await?;
    require_incubating(&s)?;
    require_planned(&m)?;
    let before = m.clone();
    let moved = m.due_on != v.due_on;
    let mut a: milestone::ActiveModel = m.into();
    a.title = Set(v.title);
    a.description = Set(v.description);
    a.due_on = Set(v.due_on);
    if moved {
        a.reminded_at = Set(None);
    }
    a.updated_at = Set(now);
    let m = a.update(&txn).await?;
    record(
        &txn,
        actor,
        "milestone.updated",
        Some(&before),
        Some(&m),
        m.id,
    )
    .await?;
    txn.commit().await?;
    Ok(s.id)
}

/// An admin deletes a planned milestone that no GPU credit waits on. Returns the startup's id.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let (m, s, _) = load(&txn, actor, id).await?;
    require_planned(&m)?;
    if crate::credits::tranches::any_for_milestone(&txn, m.id).await? {
        return Err(AppError::conflict("milestones.error_has_tranches"));
    }
    milestone::Entity::delete_by_id(m.id).exec(&txn).await?;
    record(&txn, actor, "milestone.deleted", Some(&m), None, m.id).await?;
    txn.commit().await?;
    Ok(s.id)
}

/// An admin or an assigned mentor signs a planned milestone off, once: `done` with evidence
/// (releasing its GPU-credit tranches) or `missed` with notes (cancelling them). The team is
/// told by email. Returns the startup's id.
pub async fn sign_off(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    id: i64,
    outcome: &str,
    evidence: &str,
    notes: &str,
) -> AppResult<i64> {
    let evidence = evidence.trim();
    let notes = notes.trim();
    let outcome = MilestoneStatus::parse(outcome)
        .ok_or_else(|| AppError::invalid("outcome", "milestones.error_outcome"))?;
    match outcome {
        MilestoneStatus::Done if evidence.is_empty() => {
            return Err(AppError::invalid(
                "evidence",
                "milestones.error_evidence_required",
            ))
        }
        MilestoneStatus::Missed if notes.is_empty() => {
            return Err(AppError::invalid(
                "notes",
                "milestones.error_notes_required",
            ))
        }
        MilestoneStatus::Done | MilestoneStatus::Missed => {}
        _ => return Err(AppError::invalid("outcome", "milestones.error_outcome")),
    }
    if evidence.chars().count() > TEXT_MAX {
        return Err(AppError::invalid("evidence", "error.too_long"));
    }
    if notes.chars().count() > TEXT_MAX {
        return Err(AppError::invalid("notes", "error.too_long"));
    }
    let txn = crate::txn::begin(db).await?;
    let (m, s, _) = load(&txn, actor, id).await?;
    require_incubating(&s)?;
    require_planned(&m)?;
    let now = Utc::now();
    let none_if_empty = |t: &str| (!t.is_empty()).then(|| t.to_string());
    // Guarded on the status: of two sign-offs at once, one wins and the other changes nothing.
    let updated = milestone::Entity::update_many()
        .col_expr(milestone::Column::Status, Expr::value(outcome))
        .col_expr(
            milestone::Column::Evidence,
            Expr::value(none_if_empty(evidence)),
        )
        .col_expr(milestone::Column::Notes, Expr::value(none_if_empty(notes)))
        .col_expr(milestone::Column::SignedOffBy, Expr::value(actor.user_id))
        .col_expr(milestone::Column::SignedOffAt, Expr::value(now))
        .col_expr(milestone::Column::UpdatedAt, Expr::value(now))
        .filter(milestone::Column::Id.eq(m.id))
        .filter(milestone::Column::Status.eq(MilestoneStatus::Planned))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::conflict("milestones.error_final"));
    }
    let after = milestone::Entity::find_by_id(m.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let action = if outcome == MilestoneStatus::Done {
        "milestone.done"
    } else {
        "milestone.missed"
    };
    record(&txn, actor, action, Some(&m), Some(&after), m.id).await?;
    if outcome == MilestoneStatus::Done {
        crate::credits::tranches::release_for(&txn, settings, actor, &after).await?;
    } else {
        crate::credits::tranches::cancel_for_milestone(&txn, actor, &after).await?;
    }
    let link = settings.link("/startup");
    for u in team_users(&txn, s.id).await? {
        let locale = Locale::from_tag(&u.locale).unwrap_or_default();
        let content = templates::milestone_signed_off(
            locale,
            &u.name,
            &s.name,
            &after.title,
            outcome.as_str(),
            &link,
        );
        outbox::enqueue(&txn, &u.email, &u.name, locale, &content).await?;
    }
    txn.commit().await?;
    Ok(s.id)
}

async fn team_users(txn: &impl ConnectionTrait, startup_id: i64) -> AppResult<Vec<user::Model>> {
    let ids: Vec<i64> = member::Entity::find()
        .filter(member::Column::StartupId.eq(startup_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(txn)
        .await?)
}

/// The scheduled pass: once per milestone, `REMINDER_DAYS` days before a planned milestone of
/// an incubating startup is due, emails its team and its assigned mentors. One indexed query
/// when nothing is due.
pub async fn send_reminders(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let today = settings.park_zone.date(&now);
    let due = milestone::Entity::find()
        .filter(milestone::Column::Status.eq(MilestoneStatus::Planned))
        .filter(milestone::Column::DueOn.gte(today))
        .filter(milestone::Column::DueOn.lte(today + chrono::Duration::days(REMINDER_DAYS)))
        .filter(milestone::Column::RemindedAt.is_null())
        .order_by_asc(milestone::Column::DueOn)
        .limit(200)
        .all(db)
        .await?;
    let mut sent = 0;
    for m in due {
        let txn = crate::txn::begin(db).await?;
        // Claimed by whoever sets reminded_at first: two workers send it once.
        let claimed = milestone::Entity::update_many()
            .col_expr(milestone::Column::RemindedAt, Expr::value(now))
            .filter(milestone::Column::Id.eq(m.id))
            .filter(milestone::Column::Status.eq(MilestoneStatus::Planned))
            .filter(milestone::Column::RemindedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let Some(s) = startup::Entity::find_by_id(m.startup_id).one(&txn).await? else {
            continue;
        };
        if s.status != StartupStatus::Incubating {
            // Nothing to remind an alumnus of; marking it keeps the pass cheap.
            txn.commit().await?;
            continue;
        }
        let due_on = m.due_on.format("%Y-%m-%d").to_string();
        let team_link = settings.link("/startup");
        for u in team_users(&txn, s.id).await? {
            let locale = Locale::from_tag(&u.locale).unwrap_or_default();
            let content = templates::milestone_reminder(
                locale, &u.name, &s.name, &m.title, &due_on, &team_link,
            );
            outbox::enqueue(&txn, &u.email, &u.name, locale, &content).await?;
        }
        let mentor_ids: Vec<i64> = mentor::Entity::find()
            .filter(mentor::Column::StartupId.eq(s.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|a| a.user_id)
            .collect();
        let mentor_link = settings.link(&format!("/startups/{}", s.id));
        for u in user::Entity::find()
            .filter(user::Column::Id.is_in(mentor_ids))
            .all(&txn)
            .await?
        {
            let locale = Locale::from_tag(&u.locale).unwrap_or_default();
            let content = templates::milestone_reminder(
                locale,
                &u.name,
                &s.name,
                &m.title,
                &due_on,
                &mentor_link,
            );
            outbox::enqueue(&txn, &u.email, &u.name, locale, &content).await?;
        }
        txn.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
