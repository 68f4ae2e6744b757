//! Reading the audit log (admins only): filtered by actor, entity, action and time, newest
//! first, a page at a time, or every matching entry as CSV.
use super::{AuditFilter, AuditPage, AuditRow};
use crate::access::Actor;
use crate::audit::entity as audit;
use crate::auth::accounts::users_by_id;
use crate::auth::entity::user;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use wire::auth::Role;

pub const PER_PAGE: u64 = 50;
/// At most this many entries go into one CSV file.
pub const EXPORT_LIMIT: u64 = 100_000;

fn day(value: &str, field: &str) -> AppResult<Option<NaiveDate>> {
    match value.trim() {
        "" => Ok(None),
        v => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::invalid(field, "error.date_invalid")),
    }
}

/// Days are the reader's (`zone`): an entry at 23:30 their time is on that day's page.
async fn filtered(
    db: &DatabaseConnection,
    f: &AuditFilter,
    zone: crate::time::Zone,
) -> AppResult<Select<audit::Entity>> {
    let mut q = audit::Entity::find();
    let actor = f.actor.trim().to_lowercase();
    if actor == "system" {
        q = q.filter(audit::Column::ActorUserId.is_null());
    } else if !actor.is_empty() {
        if actor.chars().count() > 100 {
            return Err(AppError::invalid("actor", "error.too_long"));
        }
        let pattern = format!("%{}%", actor.replace(['%', '_'], ""));
        let ids: Vec<i64> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(
                Condition::any()
                    .add(Expr::expr(Func::lower(Expr::col(user::Column::Email))).like(&pattern))
                    .add(Expr::expr(Func::lower(Expr::col(user::Column::Name))).like(&pattern)),
            )
            .limit(1000)
            .into_tuple()
            .all(db)
            .await?;
        q = q.filter(audit::Column::ActorUserId.is_in(ids));
    }
    if !f.entity_type.trim().is_empty() {
        q = q.filter(audit::Column::EntityType.eq(f.entity_type.trim()));
    }
    if !f.entity_id.trim().is_empty() {
        q = q.filter(audit::Column::EntityId.eq(f.entity_id.trim()));
    }
    if !f.action.trim().is_empty() {
        let prefix = f.action.trim().replace(['%', '_'], "");
        q = q.filter(audit::Column::Action.like(format!("{prefix}%")));
    }
    let from = day(&f.from, "from")?;
    let to = day(&f.to, "to")?;
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            return Err(AppError::invalid("to", "error.window_order"));
        }
    }
    if let Some(d) = from {
        q = q.filter(audit::Column::CreatedAt.gte(zone.start_of_day(d)));
    }
    if let Some(d) = to.and_then(|d| d.succ_opt()) {
        q = q.filter(audit::Column::CreatedAt.lt(zone.start_of_day(d)));
    }
    Ok(q.order_by_desc(audit::Column::Id))
}

async fn rows(db: &DatabaseConnection, entries: Vec<audit::Model>) -> AppResult<Vec<AuditRow>> {
    let people = users_by_id(db, entries.iter().filter_map(|e| e.actor_user_id)).await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let who = e.actor_user_id.and_then(|id| people.get(&id));
            AuditRow {
                id: e.id,
                at: e.created_at,
                actor_name: who.map(|u| u.name.clone()),
                actor_email: who.map(|u| u.email.clone()),
                action: e.action,
                entity_type: e.entity_type,
                entity_id: e.entity_id,
                before: e.before,
                after: e.after,
            }
        })
        .collect())
}

/// A page of the log, newest first. The log is not counted (it grows to millions of rows);
/// one more row than the page is read to know whether an older page exists. Past the first
/// page, the pager names the entry a page starts after (older than) or ends before: the page
/// is then read through the id index like the first, however deep.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &AuditFilter,
    page: u64,
    cursor: Option<crate::tables::Cursor>,
) -> AppResult<AuditPage> {
    use crate::tables::Cursor;
    actor.require(Role::Admin)?;
    let mut page = Ord::min(page, 10_000);
    let base = filtered(db, filter, actor.zone).await?;
    let first_page = base.clone().limit(PER_PAGE + 1);
    let (mut entries, more) = match cursor.filter(|_| page > 0) {
        Some(Cursor::After(id)) => {
            let entries = base
                .filter(audit::Column::Id.lt(id))
                .limit(PER_PAGE + 1)
                .all(db)
                .await?;
            let more = entries.len() as u64 > PER_PAGE;
            (entries, more)
        }
        Some(Cursor::Before(id)) => {
            let mut newer = base.filter(audit::Column::Id.gt(id));
            sea_orm::QueryTrait::query(&mut newer).clear_order_by();
            let mut entries = newer
                .order_by_asc(audit::Column::Id)
                .limit(PER_PAGE + 1)
                .all(db)
                .await?;
            if entries.len() as u64 > PER_PAGE {
                entries.truncate(PER_PAGE as usize);
                entries.reverse();
                (entries, true)
            } else {
                // Nothing newer lies before these any more: the first page.
                page = 0;
                let entries = first_page.all(db).await?;
                let more = entries.len() as u64 > PER_PAGE;
                (entries, more)
            }
        }
        None => {
            let entries = base
                .offset(page * PER_PAGE)
                .limit(PER_PAGE + 1)
                .all(db)
                .await?;
            let more = entries.len() as u64 > PER_PAGE;
            (entries, more)
        }
    };
    entries.truncate(PER_PAGE as usize);
    Ok(AuditPage {
        rows: rows(db, entries).await?,
        page,
        per_page: PER_PAGE,
        more,
    })
}

/// Every entry the filter matches (up to `EXPORT_LIMIT`), as CSV.
pub async fn csv(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &AuditFilter,
) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let times = crate::csv::Times(actor.zone);
    let time = times.header("time");
    let mut out = crate::csv::line([
        "id",
        time.as_str(),
        "actor_name",
        "actor_email",
        "action",
        "entity_type",
        "entity_id",
        "before",
        "after",
    ]);
    let mut offset = 0;
    // Batches keep memory flat; the id order is stable while new entries are added on top.
    let mut last_id: Option<i64> = None;
    while offset < EXPORT_LIMIT {
        let mut q = filtered(db, filter, actor.zone).await?;
        if let Some(id) = last_id {
            q = q.filter(audit::Column::Id.lt(id));
        }
        let batch = q.limit(5_000).all(db).await?;
        if batch.is_empty() {
            break;
        }
        offset += batch.len() as u64;
        last_id = batch.last().map(|e| e.id);
        for r in rows(db, batch).await? {
            let id = r.id.to_string();
            let at = times.cell(r.at);
            out.push_str(&crate::csv::line([
                id.as_str(),
                at.as_str(),
                r.actor_name.as_deref().unwrap_or(""),
                r.actor_email.as_deref().unwrap_or(""),
                r.action.as_str(),
                r.entity_type.as_str(),
                r.entity_id.as_str(),
                r.before.as_deref().unwrap_or(""),
                r.after.as_deref().unwrap_or(""),
            ]));
        }
    }
    Ok(out)
}
