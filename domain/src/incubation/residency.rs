//! Rules of incubation: who may see and manage an incubating startup, its residency window,
//! its mentors, its notes timeline, and its end (graduation or exit). Milestones are in
//! `milestones.rs`.
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::entity::{user, user_role};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::startups::access::{access, is_assigned, Access};
use crate::startups::domain::{startup_of, to_profile, validate, StartupInput};
use crate::startups::entity::{member, mentor, milestone, note, startup};
use crate::startups::incubation::{
    MentorRow, Mentoring, MentoringRow, MyIncubation, NextMilestone, NoteRow, StartupDetail,
    StartupRow, STARTUP_COLUMNS,
};
use crate::tables::{self, TablePage, TableQuery};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Set, SqlErr,
};
use serde_json::json;
use wire::auth::{EmailAddress, Role};
use wire::startups::incubation::{MilestoneStatus, StartupStatus};

/// The newest notes shown on a startup's page.
const NOTES_SHOWN: u64 = 200;
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

fn require_incubating(s: &startup::Model) -> AppResult<()> {
    if s.status != StartupStatus::Incubating {
        return Err(AppError::conflict("incubation.error_not_incubating"));
    }
    Ok(())
}

/// The next planned milestone of each of these startups, and how many are overdue (one query).
async fn next_milestones(
    db: &impl ConnectionTrait,
    startup_ids: &[i64],
    today: NaiveDate,
) -> AppResult<Vec<(i64, Option<NextMilestone>, usize)>> {
    // Every milestone of these startups (a few each) through the startup index, and the
    // planned ones picked here: filtering the state in SQL made SQLite walk the state index
    // over the whole park's planned milestones instead.
    let planned: Vec<milestone::Model> = milestone::Entity::find()
        .filter(milestone::Column::StartupId.is_in(startup_ids.iter().copied()))
        .order_by_asc(milestone::Column::DueOn)
        .order_by_asc(milestone::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|m| m.status == MilestoneStatus::Planned)
        .collect();
    Ok(startup_ids
        .iter()
        .map(|id| {
            let mine = planned.iter().filter(|m| m.startup_id == *id);
            let overdue = mine.clone().filter(|m| m.due_on < today).count();
            // The earliest planned one: an overdue milestone is the most pressing.
            let next = mine.clone().next();
            (
                *id,
                next.map(|m| NextMilestone {
                    title: m.title.clone(),
                    due_on: m.due_on,
                }),
                overdue,
            )
        })
        .collect())
}

/// The startups a table view selects: `status` is the startup's state, `of` its sector,
/// `q` part of its name; ordered by the chosen column.
fn startups_select(query: &TableQuery) -> AppResult<tables::Sorted<startup::Entity>> {
    let mut q = startup::Entity::find();
    if let Some(status) = tables::state_of(&query.status, StartupStatus::ALL, "status")? {
        q = q.filter(startup::Column::Status.eq(status));
    }
    if let Some(sector) = tables::one_of(&query.of, crate::startups::SECTORS, "of")? {
        q = q.filter(startup::Column::Sector.eq(sector));
    }
    if let Some(pattern) = tables::search(query)? {
        q = q.filter(tables::like(
            Expr::col((startup::Entity, startup::Column::Name)),
            &pattern,
        ));
    }
    let (column, order) = tables::sort(query, STARTUP_COLUMNS)?;
    let by = match column.key {
        "status" => startup::Column::Status,
        "sector" => startup::Column::Sector,
        "residency" => startup::Column::ResidencyUntil,
        "created" => startup::Column::CreatedAt,
        _ => startup::Column::Name,
    };
    // A startup not yet in residence has no end date.
    Ok(
        tables::order(q, Expr::col(by), Expr::col(startup::Column::Id), order)
            .nullable(column.key == "residency"),
    )
}

/// A startup with what its list row shows beside it, read by the page's own query.
#[derive(sea_orm::FromQueryResult)]
struct Listed {
    #[sea_orm(nested)]
    startup: startup::Model,
    mentors: i64,
    next_title: Option<String>,
    next_due: Option<NaiveDate>,
}

impl From<Listed> for StartupRow {
    fn from(l: Listed) -> Self {
        let s = l.startup;
        StartupRow {
            mentors: l.mentors as usize,
            id: s.id,
            name: s.name,
            sector: s.sector,
            stage: s.stage,
            status: s.status,
            residency_from: s.residency_from,
            residency_until: s.residency_until,
            next_milestone: l
                .next_title
                .zip(l.next_due)
                .map(|(title, due_on)| NextMilestone { title, due_on }),
        }
    }
}

/// Adds a list row's mentor count and earliest planned milestone to a query on startups, as
/// correlated subqueries (the milestones' (startup, status, due) index answers each with one
/// lookup), so a page is one statement.
fn with_row_columns(select: Select<startup::Entity>) -> Select<startup::Entity> {
    use sea_orm::sea_query::{
        ExprTrait, Order, Query, SelectStatement, SimpleExpr, SubQueryStatement,
    };
    let sub = |q: SelectStatement| {
        SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(q)))
    };
    let this = (startup::Entity, startup::Column::Id);
    let mentors = Query::select()
        .expr(Func::count(Expr::col((
            mentor::Entity,
            mentor::Column::UserId,
        ))))
        .from(mentor::Entity)
        .and_where(Expr::col((mentor::Entity, mentor::Column::StartupId)).equals(this))
        .to_owned();
    let next = |column: milestone::Column| {
        Query::select()
            .column((milestone::Entity, column))
            .from(milestone::Entity)
            .and_where(Expr::col((milestone::Entity, milestone::Column::StartupId)).equals(this))
            .and_where(
                Expr::col((milestone::Entity, milestone::Column::Status))
                    .eq(MilestoneStatus::Planned),
            )
            .order_by((milestone::Entity, milestone::Column::DueOn), Order::Asc)
            .order_by((milestone::Entity, milestone::Column::Id), Order::Asc)
            .limit(1)
            .to_owned()
    };
    select
        .expr_as(sub(mentors), "mentors")
        .expr_as(sub(next(milestone::Column::Title)), "next_title")
        .expr_as(sub(next(milestone::Column::DueOn)), "next_due")
}

/// One page of startups for admins, in one query.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<StartupRow>> {
    actor.require(Role::Admin)?;
    let select = startups_select(query)?.map(with_row_columns);
    let listed = tables::page_as::<_, Listed>(db, select, query).await?;
    Ok(listed.map(StartupRow::from))
}

/// Every startup the view selects, as CSV (in batches, up to the export limit).
pub async fn csv(db: &DatabaseConnection, actor: &Actor, query: &TableQuery) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let mut out = crate::csv::line([
        "id",
        "name",
        "status",
        "sector",
        "stage",
        "residency_from",
        "residency_until",
        "mentors",
        "next_milestone",
        "next_milestone_due",
    ]);
    let mut batches = tables::Batches::new(startups_select(query)?.map(with_row_columns));
    while let Some(batch) = batches.next_as::<Listed>(db).await? {
        for r in batch.into_iter().map(StartupRow::from) {
            let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            let due = date(r.next_milestone.as_ref().map(|n| n.due_on));
            out.push_str(&crate::csv::line([
                r.id.to_string(),
                r.name,
                r.status.to_string(),
                r.sector,
                r.stage,
                date(r.residency_from),
                date(r.residency_until),
                r.mentors.to_string(),
                r.next_milestone.map(|n| n.title).unwrap_or_default(),
                due,
            ]));
        }
    }
    Ok(out)
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

/// The startup page: profile, team, residency, mentors, milestones and notes (eight queries
/// whatever the number of rows).
pub async fn detail(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<StartupDetail> {
    let (s, access) = access(db, actor, id).await?;
    let team = crate::startups::team::members_of(db, s.id).await?;
    let assigned = mentor::Entity::find()
        .filter(mentor::Column::StartupId.eq(s.id))
        .order_by_asc(mentor::Column::AssignedAt)
        .all(db)
        .await?;
    let notes = note::Entity::find()
        .filter(note::Column::StartupId.eq(s.id))
        .order_by_desc(note::Column::CreatedAt)
        .order_by_desc(note::Column::Id)
        .limit(NOTES_SHOWN)
        .all(db)
        .await?;
    let people = user::Entity::find()
        .filter(
            user::Column::Id.is_in(
                assigned
                    .iter()
                    .map(|m| m.user_id)
                    .chain(notes.iter().map(|n| n.author_id)),
            ),
        )
        .all(db)
        .await?;
    let name_of = |id: i64| {
        people
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let mentor_choices = if access == Access::Manage {
        // Every mentor not yet assigned, by name: their id, name and email only (one query).
        let mentors = user_role::Entity::find()
            .select_only()
            .column(user_role::Column::UserId)
            .filter(user_role::Column::Role.eq(Role::Mentor.as_str()))
            .into_query();
        let rows: Vec<(i64, String, String)> = user::Entity::find()
            .select_only()
            .columns([user::Column::Id, user::Column::Name, user::Column::Email])
            .filter(user::Column::Id.in_subquery(mentors))
            .filter(user::Column::Id.is_not_in(assigned.iter().map(|m| m.user_id)))
            .order_by_asc(user::Column::Name)
            .order_by_asc(user::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        rows.into_iter()
            .map(|(id, name, email)| (id, format!("{name} <{email}>")))
            .collect()
    } else {
        Vec::new()
    };
    let milestones = super::milestones::rows_for_startup(db, s.id).await?;
    Ok(StartupDetail {
        residency_from: s.residency_from,
        residency_until: s.residency_until,
        ended_at: s.ended_at,
        end_reason: s.end_reason.clone(),
        team,
        mentors: assigned
            .iter()
            .filter_map(|m| {
                let u = people.iter().find(|u| u.id == m.user_id)?;
                Some(MentorRow {
                    user_id: u.id,
                    name: u.name.clone(),
                    email: u.email.clone(),
                    assigned_at: m.assigned_at,
                })
            })
            .collect(),
        mentor_choices,
        milestones,
        notes: notes
            .into_iter()
            .map(|n| NoteRow {
                id: n.id,
                author: name_of(n.author_id),
                body: n.body,
                created_at: n.created_at,
            })
            .collect(),
        can_manage: access == Access::Manage,
        today: actor.zone.today(),
        profile: to_profile(s),
    })
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

/// The signed-in mentor's assigned startups, with what is due next (four queries).
pub async fn mentoring(db: &DatabaseConnection, actor: &Actor) -> AppResult<Mentoring> {
    actor.require(Role::Mentor)?;
    let ids: Vec<i64> = mentor::Entity::find()
        .filter(mentor::Column::UserId.eq(actor.user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.startup_id)
        .collect();
    let startups = startup::Entity::find()
        .filter(startup::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(startup::Column::Name)
        .all(db)
        .await?;
    let today = actor.zone.today();
    let ids: Vec<i64> = startups.iter().map(|s| s.id).collect();
    let next = next_milestones(db, &ids, today).await?;
    Ok(Mentoring {
        rows: startups
            .into_iter()
            .zip(next)
            .map(|(s, (_, next_milestone, overdue))| MentoringRow {
                startup_id: s.id,
                name: s.name,
                status: s.status,
                residency_until: s.residency_until,
                next_milestone,
                overdue,
            })
            .collect(),
        today,
    })
}

/// The signed-in applicant's own incubation, read-only; None before admission.
pub async fn my_incubation(
    db: &DatabaseConnection,
    actor: &Actor,
) -> AppResult<Option<MyIncubation>> {
    actor.require(Role::Applicant)?;
    let Some(s) = startup_of(db, actor.user_id).await? else {
        return Ok(None);
    };
    if s.status == StartupStatus::Applicant {
        return Ok(None);
    }
    let mentor_ids: Vec<i64> = mentor::Entity::find()
        .filter(mentor::Column::StartupId.eq(s.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let mentors = user::Entity::find()
        .filter(user::Column::Id.is_in(mentor_ids))
        .order_by_asc(user::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    Ok(Some(MyIncubation {
        milestones: super::milestones::rows_for_startup(db, s.id).await?,
        status: s.status,
        residency_from: s.residency_from,
        residency_until: s.residency_until,
        ended_at: s.ended_at,
        mentors,
        today: actor.zone.today(),
    }))
}
