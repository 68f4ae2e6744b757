//! Compute prices (admins): a resource's price per GPU-hour, in fen, from a day on. A price is
//! never edited: a new one starts on a later day, so every charge keeps the price in force on
//! the day its job ended (in the park's zone), and a price cannot start in the past.
use super::entity::{charge, price, resource};
use super::{parse_yuan, PriceRow};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::users_by_id;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};
use serde_json::json;
use wire::auth::Role;

/// A new price as the form submits it.
#[derive(Clone, Debug, Default)]
pub struct PriceInput {
    pub resource_id: i64,
    /// Yuan per GPU-hour, as typed.
    pub yuan_per_gpu_hour: String,
    /// The first day it applies, `YYYY-MM-DD`.
    pub starts_on: String,
    pub note: String,
}

/// The price in force on `day`: the one that started last on or before it. `prices` in any
/// order.
pub fn in_force(prices: &[price::Model], day: NaiveDate) -> Option<&price::Model> {
    prices
        .iter()
        .filter(|p| p.starts_on <= day)
        .max_by_key(|p| p.starts_on)
}

/// Checks a new price: every fault at once.
fn validate(input: &PriceInput, today: NaiveDate) -> AppResult<(i64, NaiveDate, String)> {
    let mut checks = crate::error::Checks::new();
    let fen = parse_yuan(&input.yuan_per_gpu_hour);
    checks.check(fen.is_some(), "yuan_per_gpu_hour", "error.price_invalid");
    let starts_on = checks.take(crate::time::parse_day(&input.starts_on, "starts_on"));
    if let Some(day) = starts_on {
        checks.check(day >= today, "starts_on", "error.price_start_past");
    }
    let note = input.note.trim();
    checks.check(note.chars().count() <= 500, "note", "error.too_long");
    checks.finish()?;
    Ok((
        fen.unwrap_or_default(),
        starts_on.unwrap_or(today),
        note.to_string(),
    ))
}

/// Adds a price to a resource; returns its id.
pub async fn add(db: &DatabaseConnection, actor: &Actor, input: PriceInput) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let (fen, starts_on, note) = validate(&input, actor.zone.today())?;
    let txn = crate::txn::begin(db).await?;
    let r = resource::Entity::find_by_id(input.resource_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = price::ActiveModel {
        resource_id: Set(r.id),
        fen_per_gpu_hour: Set(fen),
        starts_on: Set(starts_on),
        note: Set(note),
        created_by: Set(Some(actor.user_id)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::invalid("starts_on", "error.price_day_taken")
        }
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "resource.price_added",
            entity_type: "resource",
            entity_id: r.id.to_string(),
            before: None,
            after: Some(json!({
                "price": row.id, "fen_per_gpu_hour": row.fen_per_gpu_hour,
                "starts_on": row.starts_on, "note": row.note,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Every price of a resource, the newest first, the one in force today marked.
pub async fn history(
    db: &DatabaseConnection,
    actor: &Actor,
    resource_id: i64,
) -> AppResult<Vec<PriceRow>> {
    actor.require(Role::Admin)?;
    resource::Entity::find_by_id(resource_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let prices = of_resource(db, resource_id).await?;
    let current = in_force(&prices, actor.zone.today()).map(|p| p.id);
    let people = users_by_id(db, prices.iter().filter_map(|p| p.created_by)).await?;
    Ok(prices
        .into_iter()
        .rev()
        .map(|p| PriceRow {
            id: p.id,
            fen_per_gpu_hour: p.fen_per_gpu_hour,
            starts_on: p.starts_on,
            created_by: p
                .created_by
                .and_then(|id| people.get(&id))
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            created_at: p.created_at,
            current: Some(p.id) == current,
            note: p.note,
        })
        .collect())
}

/// GPU-minutes at a price per GPU-hour, in fen, rounded half up (the settlement's `charge`).
pub fn amount(gpu_minutes: i64, fen_per_gpu_hour: i64) -> i64 {
    let exact = i128::from(gpu_minutes.max(0)) * i128::from(fen_per_gpu_hour.max(0));
    ((exact + 30) / 60) as i64
}

/// One finished job, as the usage import records it.
pub struct Job<'a> {
    pub startup_id: i64,
    pub job_ref: &'a str,
    pub gpu_minutes: i64,
    /// Of those, what the startup's grants still held when it ended.
    pub covered_minutes: i64,
    pub ended_at: DateTime<Utc>,
}

/// Prices a finished job on `r` at the price in force on the day it ended (in the park's
/// zone) and writes its charge, in the transaction that writes its ledger entries. A job
/// already charged is left as it is.
pub async fn charge_job(
    txn: &impl ConnectionTrait,
    zone: crate::time::Zone,
    r: &resource::Model,
    job: Job<'_>,
) -> AppResult<()> {
    let ended_on = zone.date(&job.ended_at);
    let price: Option<i64> = price::Entity::find()
        .select_only()
        .column(price::Column::FenPerGpuHour)
        .filter(price::Column::ResourceId.eq(r.id))
        .filter(price::Column::StartsOn.lte(ended_on))
        .order_by_desc(price::Column::StartsOn)
        .into_tuple()
        .one(txn)
        .await?;
    let amount = price.map_or(0, |p| amount(job.gpu_minutes, p));
    let row = charge::ActiveModel {
        startup_id: Set(job.startup_id),
        resource_id: Set(r.id),
        provider: Set(r.provider.clone()),
        job_ref: Set(job.job_ref.to_string()),
        gpu_minutes: Set(job.gpu_minutes),
        covered_minutes: Set(job.covered_minutes.clamp(0, job.gpu_minutes)),
        fen_per_gpu_hour: Set(price),
        amount_fen: Set(amount),
        domestic: Set(r.domestic),
        ended_at: Set(job.ended_at),
        ended_on: Set(ended_on),
        period: Set(wire::settlement::statements::period_of(ended_on)),
        ..Default::default()
    };
    charge::Entity::insert(row)
        .on_conflict_do_nothing_on([charge::Column::ResourceId, charge::Column::JobRef])
        .exec(txn)
        .await?;
    Ok(())
}

/// A resource's prices, oldest first.
pub async fn of_resource(
    db: &impl ConnectionTrait,
    resource_id: i64,
) -> AppResult<Vec<price::Model>> {
    Ok(price::Entity::find()
        .filter(price::Column::ResourceId.eq(resource_id))
        .order_by_asc(price::Column::StartsOn)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, d).unwrap()
    }

    fn price(id: i64, starts_on: NaiveDate, fen: i64) -> price::Model {
        price::Model {
            id,
            resource_id: 1,
            fen_per_gpu_hour: fen,
            starts_on,
            note: String::new(),
            created_by: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn the_price_in_force_is_the_last_one_started() {
        let prices = [
            price(2, day(4, 1), 900),
            price(1, day(1, 1), 1200),
            price(3, day(7, 1), 800),
        ];
        assert_eq!(in_force(&prices, day(1, 1)).map(|p| p.id), Some(1));
        assert_eq!(in_force(&prices, day(3, 31)).map(|p| p.id), Some(1));
        assert_eq!(in_force(&prices, day(4, 1)).map(|p| p.id), Some(2));
        assert_eq!(in_force(&prices, day(12, 31)).map(|p| p.id), Some(3));
        assert_eq!(in_force(&prices, day(1, 1).pred_opt().unwrap()), None);
        assert_eq!(in_force(&[], day(5, 5)), None);
    }

    fn input(yuan: &str, starts_on: &str) -> PriceInput {
        PriceInput {
            resource_id: 1,
            yuan_per_gpu_hour: yuan.into(),
            starts_on: starts_on.into(),
            note: String::new(),
        }
    }

    #[test]
    fn a_price_is_in_fen_and_starts_today_or_later() {
        let today = day(5, 10);
        assert_eq!(
            validate(&input("12.50", "2027-05-10"), today),
            Ok((1250, today, String::new()))
        );
        assert_eq!(
            validate(&input("12.50", "2027-05-09"), today),
            Err(AppError::invalid("starts_on", "error.price_start_past"))
        );
        assert_eq!(
            validate(&input("0", "2027-05-11"), today),
            Err(AppError::invalid(
                "yuan_per_gpu_hour",
                "error.price_invalid"
            ))
        );
        assert!(matches!(
            validate(&input("free", "soon"), today),
            Err(AppError::InvalidFields { errors }) if errors.len() == 2
        ));
    }
}
