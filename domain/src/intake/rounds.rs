//! Rules of intake rounds and their rubrics (admins only).
use super::entity::{self, application, criterion};
use super::{Criterion, OpenRound, Phase, RoundForm, RoundRow};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::intake::ApplicationStatus;
use crate::time::Zone;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use wire::auth::Role;

/// The round form as submitted.
#[derive(Clone, Debug, Default)]
pub struct RoundInput {
    pub title_en: String,
    pub title_zh: String,
    pub description_en: String,
    pub description_zh: String,
    pub opens_at: String,
    pub closes_at: String,
    pub review_deadline: String,
    pub mentors_per_application: String,
    pub blind_review: bool,
}

struct ValidRound {
    title_en: String,
    title_zh: String,
    description_en: String,
    description_zh: String,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    review_deadline: Option<DateTime<Utc>>,
    mentors_per_application: i32,
    blind_review: bool,
}

pub(crate) fn required(value: &str, field: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid(field, "error.field_required"));
    }
    if v.chars().count() > max {
        return Err(AppError::invalid(field, "error.too_long"));
    }
    Ok(v.to_string())
}

/// Reads a `datetime-local` field in the zone of the person who filled it in.
pub(crate) fn parse_time(zone: Zone, value: &str, field: &str) -> AppResult<DateTime<Utc>> {
    zone.parse_input(value, field)
}

/// A `datetime-local` field's value for `t`, in the zone of the person who will read it.
pub fn format_input_time(zone: Zone, t: &DateTime<Utc>) -> String {
    zone.input_value(t)
}

/// Every field's fault at once (see `Checks`).
fn validate(input: &RoundInput, zone: Zone) -> AppResult<ValidRound> {
    let mut checks = crate::error::Checks::new();
    let title_en = checks.value(required(&input.title_en, "title_en", 200));
    let title_zh = checks.value(required(&input.title_zh, "title_zh", 200));
    let description_en = checks.value(required(&input.description_en, "description_en", 5000));
    let description_zh = checks.value(required(&input.description_zh, "description_zh", 5000));
    let opens_at = checks.take(parse_time(zone, &input.opens_at, "opens_at"));
    let closes_at = checks.take(parse_time(zone, &input.closes_at, "closes_at"));
    if let (Some(o), Some(c)) = (opens_at, closes_at) {
        checks.check(c > o, "closes_at", "error.window_order");
    }
    let review_deadline = match input.review_deadline.trim() {
        "" => None,
        v => {
            let d = checks.take(parse_time(zone, v, "review_deadline"));
            if let (Some(d), Some(c)) = (d, closes_at) {
                checks.check(d >= c, "review_deadline", "error.deadline_before_close");
            }
            d
        }
    };
    let mentors_per_application = input
        .mentors_per_application
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=10).contains(n));
    checks.check(
        mentors_per_application.is_some(),
        "mentors_per_application",
        "error.mentors_per_application_invalid",
    );
    checks.finish()?;
    Ok(ValidRound {
        title_en,
        title_zh,
        description_en,
        description_zh,
        opens_at: opens_at.unwrap_or_default(),
        closes_at: closes_at.unwrap_or_default(),
        review_deadline,
        mentors_per_application: mentors_per_application.unwrap_or(1),
        blind_review: input.blind_review,
    })
}

fn round_json(v: &ValidRound) -> serde_json::Value {
    json!({
        "title_en": v.title_en, "title_zh": v.title_zh,
        "opens_at": v.opens_at, "closes_at": v.closes_at, "review_deadline": v.review_deadline,
        "mentors_per_application": v.mentors_per_application, "blind_review": v.blind_review,
    })
}

/// Creates a round, or updates round `id`; returns its id.
pub async fn save_round(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<i64>,
    input: RoundInput,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let v = validate(&input, actor.zone)?;
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    let after = round_json(&v);
    let (id, action, before) = match id {
        Some(id) => {
            let round = entity::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?;
            let before = json!({
                "title_en": round.title_en, "opens_at": round.opens_at, "closes_at": round.closes_at,
            });
            let mut a: entity::ActiveModel = round.into();
            a.title_en = Set(v.title_en);
            a.title_zh = Set(v.title_zh);
            a.description_en = Set(v.description_en);
            a.description_zh = Set(v.description_zh);
            a.opens_at = Set(v.opens_at);
            a.closes_at = Set(v.closes_at);
            a.review_deadline = Set(v.review_deadline);
            a.mentors_per_application = Set(v.mentors_per_application);
            a.blind_review = Set(v.blind_review);
            a.updated_at = Set(now);
            a.update(&txn).await?;
            (id, "round.updated", Some(before))
        }
        None => {
            let round = entity::ActiveModel {
                title_en: Set(v.title_en),
                title_zh: Set(v.title_zh),
                description_en: Set(v.description_en),
                description_zh: Set(v.description_zh),
                opens_at: Set(v.opens_at),
                closes_at: Set(v.closes_at),
                review_deadline: Set(v.review_deadline),
                mentors_per_application: Set(v.mentors_per_application),
                blind_review: Set(v.blind_review),
                created_by: Set(Some(actor.user_id)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            (round.id, "round.created", None)
        }
    };
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action,
            entity_type: "round",
            entity_id: id.to_string(),
            before,
            after: Some(after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

#[derive(FromQueryResult)]
struct RoundCount {
    round_id: i64,
    n: i64,
}

/// Every round, newest first, with how many applications were submitted to each (two queries).
pub async fn list_rounds(
    db: &DatabaseConnection,
    actor: &Actor,
    locale: Locale,
) -> AppResult<Vec<RoundRow>> {
    actor.require(Role::Admin)?;
    let rounds = entity::Entity::find()
        .order_by_desc(entity::Column::OpensAt)
        .all(db)
        .await?;
    let counts: Vec<RoundCount> = application::Entity::find()
        .select_only()
        .column(application::Column::RoundId)
        .column_as(
            Expr::from(Func::count(Expr::col(application::Column::Id))),
            "n",
        )
        .filter(application::Column::Status.ne(ApplicationStatus::Draft))
        .group_by(application::Column::RoundId)
        .into_model::<RoundCount>()
        .all(db)
        .await?;
    let now = Utc::now();
    Ok(rounds
        .into_iter()
        .map(|r| RoundRow {
            id: r.id,
            title: r.title(locale),
            opens_at: r.opens_at,
            closes_at: r.closes_at,
            phase: Phase::at(r.opens_at, r.closes_at, now),
            submitted: counts
                .iter()
                .find(|c| c.round_id == r.id)
                .map(|c| c.n as u64)
                .unwrap_or(0),
        })
        .collect())
}

async fn criteria_of(
    db: &impl sea_orm::ConnectionTrait,
    round_id: i64,
) -> AppResult<Vec<criterion::Model>> {
    Ok(criterion::Entity::find()
        .filter(criterion::Column::RoundId.eq(round_id))
        .order_by_asc(criterion::Column::Position)
        .order_by_asc(criterion::Column::Id)
        .all(db)
        .await?)
}

pub async fn round_form(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<RoundForm> {
    actor.require(Role::Admin)?;
    let r = entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let criteria = criteria_of(db, id)
        .await?
        .into_iter()
        .map(|c| Criterion {
            id: c.id,
            name_en: c.name_en,
            name_zh: c.name_zh,
            guidance_en: c.guidance_en,
            guidance_zh: c.guidance_zh,
            weight: c.weight,
        })
        .collect();
    Ok(RoundForm {
        id: Some(r.id),
        title_en: r.title_en,
        title_zh: r.title_zh,
        description_en: r.description_en,
        description_zh: r.description_zh,
        opens_at: format_input_time(actor.zone, &r.opens_at),
        closes_at: format_input_time(actor.zone, &r.closes_at),
        review_deadline: r
            .review_deadline
            .as_ref()
            .map(|t| format_input_time(actor.zone, t))
            .unwrap_or_default(),
        mentors_per_application: r.mentors_per_application,
        blind_review: r.blind_review,
        criteria,
    })
}

#[derive(Clone, Debug, Default)]
pub struct CriterionInput {
    pub name_en: String,
    pub name_zh: String,
    pub guidance_en: String,
    pub guidance_zh: String,
    pub weight: String,
}

/// Adds a criterion at the end of a round's rubric.
pub async fn add_criterion(
    db: &DatabaseConnection,
    actor: &Actor,
    round_id: i64,
    input: CriterionInput,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let name_en = required(&input.name_en, "name_en", 200)?;
    let name_zh = required(&input.name_zh, "name_zh", 200)?;
    let weight = input
        .weight
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|w| (1..=100).contains(w))
        .ok_or_else(|| AppError::invalid("weight", "error.weight_invalid"))?;
    let txn = crate::txn::begin(db).await?;
    entity::Entity::find_by_id(round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = criteria_of(&txn, round_id)
        .await?
        .iter()
        .map(|c| c.position)
        .max()
        .unwrap_or(0)
        + 1;
    let c = criterion::ActiveModel {
        round_id: Set(round_id),
        position: Set(position),
        name_en: Set(name_en.clone()),
        name_zh: Set(name_zh),
        guidance_en: Set(input.guidance_en.trim().chars().take(2000).collect()),
        guidance_zh: Set(input.guidance_zh.trim().chars().take(2000).collect()),
        weight: Set(weight),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "round.criterion_added",
            entity_type: "round",
            entity_id: round_id.to_string(),
            before: None,
            after: Some(json!({"criterion": c.id, "name_en": name_en, "weight": weight})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(c.id)
}

/// Removes a criterion; returns the round it belonged to.
pub async fn remove_criterion(
    db: &DatabaseConnection,
    actor: &Actor,
    criterion_id: i64,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let c = criterion::Entity::find_by_id(criterion_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    criterion::Entity::delete_by_id(c.id).exec(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "round.criterion_removed",
            entity_type: "round",
            entity_id: c.round_id.to_string(),
            before: Some(json!({"criterion": c.id, "name_en": c.name_en, "weight": c.weight})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(c.round_id)
}

/// Rounds accepting applications at `now`, soonest closing first.
pub async fn open_rounds(
    db: &impl ConnectionTrait,
    locale: Locale,
    now: DateTime<Utc>,
) -> AppResult<Vec<OpenRound>> {
    let rounds = entity::Entity::find()
        .filter(entity::Column::OpensAt.lte(now))
        .filter(entity::Column::ClosesAt.gt(now))
        .order_by_asc(entity::Column::ClosesAt)
        .all(db)
        .await?;
    Ok(rounds
        .into_iter()
        .map(|r| OpenRound {
            id: r.id,
            title: r.title(locale),
            description: r.description(locale),
            closes_at: r.closes_at,
        })
        .collect())
}
