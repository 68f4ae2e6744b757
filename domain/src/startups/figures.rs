//! A firm's figures for the sponsor's annual report: the day it was registered, its headcount
//! as recorded over time (one count per day; recording a day again corrects it), and the
//! financing rounds it closed. Its team and the park's admins record them; its assigned
//! mentors see them. Every change is audited.
use super::access::is_assigned;
use super::entity::{financing, headcount, member, startup};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::entity::user;
use crate::error::{AppError, AppResult, Checks};
use crate::time::Zone;
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use wire::auth::Role;
pub use wire::startups::figures::{CompanyFigures, FinancingRound, FinancingRow, HeadcountRow};

/// At most this many employees (a typo guard, not a rule of the report).
pub const MAX_EMPLOYEES: i32 = 1_000_000;
/// A round of at most ¥100 billion, in fen.
pub const MAX_ROUND_FEN: i64 = 10_000_000_000_000;
const MAX_INVESTORS: usize = 500;
/// The first day a company's registration or a count may carry.
fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
}

/// What the actor may do with a firm's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Can {
    See,
    Edit,
}

/// The firm, if the actor is one of its team, an admin (both may record) or one of its
/// assigned mentors (may see); anyone else is refused before learning whether it exists.
async fn access(
    db: &impl ConnectionTrait,
    actor: &Actor,
    startup_id: i64,
) -> AppResult<(startup::Model, Can)> {
    let can = if actor.has(Role::Admin)
        || member::Entity::find_by_id((startup_id, actor.user_id))
            .one(db)
            .await?
            .is_some()
    {
        Can::Edit
    } else if actor.has(Role::Mentor) && is_assigned(db, startup_id, actor.user_id).await? {
        Can::See
    } else {
        return Err(AppError::Forbidden);
    };
    let s = startup::Entity::find_by_id(startup_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((s, can))
}

async fn editable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    startup_id: i64,
) -> AppResult<startup::Model> {
    match access(db, actor, startup_id).await? {
        (s, Can::Edit) => Ok(s),
        _ => Err(AppError::Forbidden),
    }
}

/// A day as a date field sends it, not after `today` nor before 1900.
fn past_day(checks: &mut Checks, field: &str, text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
    checks.check(day.is_some(), field, "error.date_invalid");
    let day = day?;
    checks.check(day <= today, field, "figures.error_future");
    checks.check(day >= earliest(), field, "error.date_invalid");
    Some(day)
}

/// A firm's figures for whoever may see them, the newest first (three reads).
pub async fn figures(
    db: &DatabaseConnection,
    actor: &Actor,
    startup_id: i64,
) -> AppResult<CompanyFigures> {
    let (s, can) = access(db, actor, startup_id).await?;
    of(db, &s, can == Can::Edit).await
}

/// The figures of the firm the actor is on, if any.
pub async fn mine(db: &DatabaseConnection, actor: &Actor) -> AppResult<Option<CompanyFigures>> {
    match super::profiles::startup_of(db, actor.user_id).await? {
        Some(s) => Ok(Some(of(db, &s, true).await?)),
        None => Ok(None),
    }
}

/// The figures of `s` (the caller has checked who may see them).
pub async fn of(
    db: &impl ConnectionTrait,
    s: &startup::Model,
    can_edit: bool,
) -> AppResult<CompanyFigures> {
    let counts = headcount::Entity::find()
        .filter(headcount::Column::StartupId.eq(s.id))
        .order_by_desc(headcount::Column::AsOf)
        .all(db)
        .await?;
    let rounds = financing::Entity::find()
        .filter(financing::Column::StartupId.eq(s.id))
        .order_by_desc(financing::Column::ClosedOn)
        .order_by_desc(financing::Column::Id)
        .all(db)
        .await?;
    let people = user::Entity::find()
        .filter(
            user::Column::Id.is_in(
                counts
                    .iter()
                    .filter_map(|c| c.recorded_by)
                    .chain(rounds.iter().filter_map(|r| r.recorded_by)),
            ),
        )
        .all(db)
        .await?;
    let name = |id: Option<i64>| {
        people
            .iter()
            .find(|u| Some(u.id) == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    Ok(CompanyFigures {
        startup_id: s.id,
        founded_on: s.founded_on,
        headcounts: counts
            .into_iter()
            .map(|c| HeadcountRow {
                id: c.id,
                as_of: c.as_of,
                employees: c.employees,
                recorded_by: name(c.recorded_by),
                recorded_at: c.recorded_at,
            })
            .collect(),
        financings: rounds
            .into_iter()
            .map(|r| FinancingRow {
                id: r.id,
                closed_on: r.closed_on,
                round: r.round,
                amount_fen: r.amount_fen,
                investors: r.investors.clone(),
                recorded_by: name(r.recorded_by),
                recorded_at: r.recorded_at,
            })
            .collect(),
        can_edit,
    })
}

async fn record(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    action: &'static str,
    entity: (&'static str, i64),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AppResult<()> {
    audit::record(
        txn,
        Change {
            actor: Some(actor.user_id),
            action,
            entity_type: entity.0,
            entity_id: entity.1.to_string(),
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

/// Sets (or, with an empty field, clears) the day the company was registered.
pub async fn set_founded_on(
    db: &DatabaseConnection,
    actor: &Actor,
    park: Zone,
    startup_id: i64,
    founded_on: &str,
) -> AppResult<()> {
    let mut checks = Checks::new();
    let day = match founded_on.trim() {
        "" => None,
        t => past_day(&mut checks, "founded_on", t, park.today()),
    };
    checks.finish()?;
    let txn = crate::txn::begin(db).await?;
    let s = editable(&txn, actor, startup_id).await?;
    if s.founded_on == day {
        return Ok(());
    }
    let before = json!({ "founded_on": s.founded_on });
    let mut a: startup::ActiveModel = s.into();
    a.founded_on = Set(day);
    a.updated_at = Set(Utc::now());
    a.update(&txn).await?;
    record(
        &txn,
        actor,
        "startup.founded_on_set",
        ("startup", startup_id),
        Some(before),
        Some(json!({ "founded_on": day })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The headcount form as submitted.
#[derive(Clone, Debug, Default)]
pub struct HeadcountInput {
    pub startup_id: i64,
    pub as_of: String,
    pub employees: String,
}

/// Records the number of employees on a day; a count for the same day is corrected.
pub async fn record_headcount(
    db: &DatabaseConnection,
    actor: &Actor,
    park: Zone,
    input: HeadcountInput,
) -> AppResult<i64> {
    let mut checks = Checks::new();
    let as_of = past_day(&mut checks, "as_of", &input.as_of, park.today());
    let employees = input
        .employees
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (0..=MAX_EMPLOYEES).contains(n));
    checks.check(employees.is_some(), "employees", "figures.error_employees");
    checks.finish()?;
    let (Some(as_of), Some(employees)) = (as_of, employees) else {
        return Err(AppError::invalid("as_of", "error.date_invalid"));
    };
    let txn = crate::txn::begin(db).await?;
    editable(&txn, actor, input.startup_id).await?;
    // Two people recording the same day at once: the second corrects the first.
    crate::txn::lock(&txn, &format!("headcount:{}:{as_of}", input.startup_id)).await?;
    let existing = headcount::Entity::find()
        .filter(headcount::Column::StartupId.eq(input.startup_id))
        .filter(headcount::Column::AsOf.eq(as_of))
        .one(&txn)
        .await?;
    let before = existing
        .as_ref()
        .map(|c| json!({ "as_of": c.as_of, "employees": c.employees }));
    let row = match existing {
        Some(c) => {
            let mut a: headcount::ActiveModel = c.into();
            a.employees = Set(employees);
            a.recorded_by = Set(Some(actor.user_id));
            a.recorded_at = Set(Utc::now());
            a.update(&txn).await?
        }
        None => {
            headcount::ActiveModel {
                startup_id: Set(input.startup_id),
                as_of: Set(as_of),
                employees: Set(employees),
                recorded_by: Set(Some(actor.user_id)),
                recorded_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    record(
        &txn,
        actor,
        "headcount.recorded",
        ("startup", input.startup_id),
        before,
        Some(json!({ "as_of": as_of, "employees": employees })),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// The financing form as submitted.
#[derive(Clone, Debug, Default)]
pub struct FinancingInput {
    pub startup_id: i64,
    pub closed_on: String,
    pub round: String,
    /// Yuan as typed.
    pub amount: String,
    pub investors: String,
}

fn financing_audit(r: &financing::Model) -> serde_json::Value {
    json!({
        "closed_on": r.closed_on, "round": r.round, "amount_fen": r.amount_fen,
        "investors": r.investors,
    })
}

/// Records a financing round the firm closed.
pub async fn add_financing(
    db: &DatabaseConnection,
    actor: &Actor,
    park: Zone,
    input: FinancingInput,
) -> AppResult<i64> {
    let mut checks = Checks::new();
    let closed_on = past_day(&mut checks, "closed_on", &input.closed_on, park.today());
    let round = FinancingRound::parse(input.round.trim());
    checks.check(round.is_some(), "round", "figures.error_round");
    let amount = wire::credits::parse_money(&input.amount, MAX_ROUND_FEN);
    checks.check(amount.is_some(), "amount", "figures.error_amount");
    let investors = input.investors.trim();
    checks.check(
        investors.chars().count() <= MAX_INVESTORS,
        "investors",
        "error.too_long",
    );
    checks.finish()?;
    let (Some(closed_on), Some(round), Some(amount)) = (closed_on, round, amount) else {
        return Err(AppError::invalid("amount", "figures.error_amount"));
    };
    let txn = crate::txn::begin(db).await?;
    editable(&txn, actor, input.startup_id).await?;
    let row = financing::ActiveModel {
        startup_id: Set(input.startup_id),
        closed_on: Set(closed_on),
        round: Set(round),
        amount_fen: Set(amount),
        investors: Set(investors.to_string()),
        recorded_by: Set(Some(actor.user_id)),
        recorded_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        actor,
        "financing.recorded",
        ("startup", input.startup_id),
        None,
        Some(financing_audit(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Removes a round recorded by mistake (the audit log keeps what it said). Returns the firm.
pub async fn remove_financing(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<i64> {
    let txn = crate::txn::begin(db).await?;
    let row = financing::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    editable(&txn, actor, row.startup_id).await?;
    financing::Entity::delete_by_id(id).exec(&txn).await?;
    record(
        &txn,
        actor,
        "financing.removed",
        ("startup", row.startup_id),
        Some(financing_audit(&row)),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(row.startup_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_in_the_future_or_before_1900_are_refused() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let mut c = Checks::new();
        assert_eq!(
            past_day(&mut c, "d", "2027-03-01", today),
            NaiveDate::from_ymd_opt(2027, 3, 1)
        );
        assert!(c.finish().is_ok());
        for bad in ["2027-03-02", "1899-12-31", "31/12/2020", ""] {
            let mut c = Checks::new();
            past_day(&mut c, "d", bad, today);
            assert!(c.finish().is_err(), "{bad}");
        }
    }
}
