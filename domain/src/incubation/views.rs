//! What incubation shows: the admin's list of startups (and its CSV), a startup's page, a
//! mentor's startups and what is due next, a team's own incubation.
use crate::access::Actor;
use crate::auth::entity::{user, user_role};
use crate::error::AppResult;
use crate::startups::access::{access, Access};
use crate::startups::entity::{mentor, milestone, note, startup};
use crate::startups::incubation::{
    MentorRow, Mentoring, MentoringRow, MyIncubation, NextMilestone, NoteRow, StartupDetail,
    StartupRow, STARTUP_COLUMNS,
};
use crate::startups::profiles::{startup_of, to_profile};
use crate::tables::{self, TablePage, TableQuery};
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use wire::auth::Role;
use wire::startups::incubation::{MilestoneStatus, StartupStatus};

/// The newest notes shown on a startup's page.
const NOTES_SHOWN: u64 = 200;

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
    if let Some(sector) = tables::state_of(&query.of, crate::startups::Sector::ALL, "of")? {
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
                r.sector.to_string(),
                r.stage.to_string(),
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

/// How many mentors a search on a startup's page lists.
const MENTOR_MATCHES: u64 = 20;

/// The startup page: profile, team, residency, mentors, milestones, notes, figures, GPU
/// credit and, for admins, programmes (a fixed number of queries whatever the number of rows,
/// read in one snapshot on one connection). For admins, `mentor_q` (a name or email, in part)
/// finds mentors to assign: a park has hundreds, too many to list on every view of the page.
pub async fn detail(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    mentor_q: &str,
) -> AppResult<StartupDetail> {
    let txn = crate::txn::read(db).await?;
    let detail = detail_in(&txn, actor, id, mentor_q).await?;
    txn.commit().await?;
    Ok(detail)
}

async fn detail_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    mentor_q: &str,
) -> AppResult<StartupDetail> {
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
    let pattern = tables::pattern(mentor_q, "mentor")?;
    let mentor_choices = if let (Access::Manage, Some(pattern)) = (access, pattern) {
        // The first mentors not yet assigned whose name or email matches, by name: their id,
        // name and email only (one query).
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
            .filter(
                sea_orm::Condition::any()
                    .add(crate::tables::like(Expr::col(user::Column::Name), &pattern))
                    .add(crate::tables::like(
                        Expr::col(user::Column::Email),
                        &pattern,
                    )),
            )
            .order_by_asc(user::Column::Name)
            .order_by_asc(user::Column::Id)
            .limit(MENTOR_MATCHES)
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
    let figures = crate::startups::figures::of(db, &s, access == Access::Manage).await?;
    let credit = crate::credits::grants::credit_of_startup(db, s.id, &s.name).await?;
    let funding = match access {
        Access::Manage => {
            Some(crate::settlement::enrolments::funding_of(db, s.id, actor.zone.today()).await?)
        }
        Access::Mentor => None,
    };
    Ok(StartupDetail {
        figures,
        credit,
        funding,
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
