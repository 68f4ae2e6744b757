//! Enrolments (admins): a startup joins a programme by an admin's decision, with the reason
//! and, if smaller than the programme's, a yearly cap of its own; it must pass the programme's
//! eligibility rules (the first one it fails is named). An enrolment ends; it is not deleted.
//! The firms affiliated with a startup, which the "unaffiliated provider" rule reads, are kept
//! here too. Every change is audited.
use super::entity::{affiliate, enrolment, programme};
use super::funding::{exclusions_of, rules_of};
use super::programmes::{eligibility, Candidate};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::users_by_id;
use crate::credits::entity::{grant, resource};
use crate::error::{AppError, AppResult, Checks};
use crate::startups::entity::startup;
use chrono::Utc;
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};
use serde_json::json;
use std::collections::HashMap;
use wire::auth::Role;
use wire::credits::parse_money;
use wire::settlement::{AffiliateRow, EnrolmentRow, StartupFunding, MAX_CAP_FEN};
use wire::startups::CreditCode;

/// Enrolment rows matching `filter`, current ones first, then the newest.
pub(crate) async fn rows(
    db: &impl ConnectionTrait,
    filter: SimpleExpr,
) -> AppResult<Vec<EnrolmentRow>> {
    let found = enrolment::Entity::find()
        .filter(filter)
        .find_also_related(programme::Entity)
        .order_by_asc(enrolment::Column::EndedAt.is_not_null())
        .order_by_desc(enrolment::Column::DecidedAt)
        .all(db)
        .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let startups: HashMap<i64, String> = startup::Entity::find()
        .filter(startup::Column::Id.is_in(found.iter().map(|(e, _)| e.startup_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let people = users_by_id(db, found.iter().filter_map(|(e, _)| e.decided_by)).await?;
    Ok(found
        .into_iter()
        .filter_map(|(e, p)| {
            let p = p?;
            Some(EnrolmentRow {
                id: e.id,
                programme_id: p.id,
                programme_en: p.name_en,
                programme_zh: p.name_zh,
                startup_id: e.startup_id,
                startup: startups.get(&e.startup_id).cloned().unwrap_or_default(),
                cap_fen: e.cap_fen,
                reason: e.reason,
                decided_by: e
                    .decided_by
                    .and_then(|id| people.get(&id))
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                decided_at: e.decided_at,
                ended_at: e.ended_at,
            })
        })
        .collect())
}

/// The credit codes of the providers whose compute the startup is granted (and so billed
/// for), where known and well-formed.
async fn providers_of(db: &impl ConnectionTrait, startup_id: i64) -> AppResult<Vec<CreditCode>> {
    let codes: Vec<Option<String>> = grant::Entity::find()
        .inner_join(resource::Entity)
        .filter(grant::Column::StartupId.eq(startup_id))
        .select_only()
        .column(resource::Column::ProviderCreditCode)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    Ok(codes
        .into_iter()
        .flatten()
        .filter_map(|c| CreditCode::parse(&c).ok())
        .collect())
}

/// The credit codes of the firms affiliated with a startup.
pub(super) async fn affiliates_of(
    db: &impl ConnectionTrait,
    startup_id: i64,
) -> AppResult<Vec<CreditCode>> {
    Ok(affiliate::Entity::find()
        .filter(affiliate::Column::StartupId.eq(startup_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|a| CreditCode::parse(&a.credit_code).ok())
        .collect())
}

/// Enrols a startup in a programme; returns the enrolment's id.
pub async fn enrol(
    db: &DatabaseConnection,
    actor: &Actor,
    programme_id: i64,
    startup_id: i64,
    cap: &str,
    reason: &str,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let mut checks = Checks::new();
    let reason = reason.trim();
    checks.check(
        !reason.is_empty() && reason.chars().count() <= 1000,
        "reason",
        "error.reason_required",
    );
    let cap = match cap.trim() {
        "" => None,
        typed => {
            let fen = parse_money(typed, MAX_CAP_FEN);
            checks.check(fen.is_some(), "cap", "error.programme_cap_invalid");
            fen
        }
    };
    checks.finish()?;
    let txn = crate::txn::begin(db).await?;
    let p = programme::Entity::find_by_id(programme_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let s = startup::Entity::find_by_id(startup_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if p.valid_until < actor.zone.today() {
        return Err(AppError::conflict("error.programme_ended"));
    }
    if let (Some(own), Some(programme_cap)) = (cap, p.cap_company_year_fen) {
        if own > programme_cap {
            return Err(AppError::invalid("cap", "error.enrolment_cap_above"));
        }
    }
    let credit_code = s
        .credit_code
        .as_deref()
        .and_then(|c| CreditCode::parse(c).ok());
    let providers = providers_of(&txn, startup_id).await?;
    let affiliates = affiliates_of(&txn, startup_id).await?;
    let enrolled_in: Vec<i64> = enrolment::Entity::find()
        .filter(enrolment::Column::StartupId.eq(startup_id))
        .filter(enrolment::Column::EndedAt.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .map(|e| e.programme_id)
        .collect();
    let rules = rules_of(&p, exclusions_of(&txn, p.id).await?);
    eligibility(
        &rules,
        &Candidate {
            credit_code: credit_code.as_ref(),
            providers: &providers,
            affiliates: &affiliates,
            enrolled_in: &enrolled_in,
        },
    )?;
    let row = enrolment::ActiveModel {
        programme_id: Set(p.id),
        startup_id: Set(s.id),
        cap_fen: Set(cap),
        reason: Set(reason.to_string()),
        decided_by: Set(Some(actor.user_id)),
        decided_at: Set(Utc::now()),
        ended_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::conflict("error.programme_already_enrolled")
        }
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "programme.enrolled",
            entity_type: "startup",
            entity_id: s.id.to_string(),
            before: None,
            after: Some(json!({
                "enrolment": row.id, "programme": p.id, "cap_fen": cap, "reason": reason,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Ends an enrolment (it pays for nothing after now); returns the programme's id.
pub async fn end(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let e = enrolment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if e.ended_at.is_some() {
        return Err(AppError::conflict("error.enrolment_already_ended"));
    }
    let now = Utc::now();
    // Only an enrolment still running is ended: two admins at once, the second is told.
    let done = enrolment::Entity::update_many()
        .col_expr(enrolment::Column::EndedAt, now.into())
        .filter(enrolment::Column::Id.eq(id))
        .filter(enrolment::Column::EndedAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::conflict("error.enrolment_already_ended"));
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "programme.enrolment_ended",
            entity_type: "startup",
            entity_id: e.startup_id.to_string(),
            before: Some(json!({ "enrolment": id, "programme": e.programme_id, "ended_at": null })),
            after: Some(json!({ "enrolment": id, "programme": e.programme_id, "ended_at": now })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(e.programme_id)
}

/// A startup's programmes for its page: its enrolments, the programmes still open on `today`
/// that it is not in, and its affiliated firms. Admins only: the page's reading checks who
/// asks (three queries).
pub(crate) async fn funding_of(
    db: &impl ConnectionTrait,
    startup_id: i64,
    today: chrono::NaiveDate,
) -> AppResult<StartupFunding> {
    let enrolments = rows(db, enrolment::Column::StartupId.eq(startup_id)).await?;
    let programmes = programme::Entity::find()
        .filter(programme::Column::ValidUntil.gte(today))
        .order_by_asc(programme::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|p| !enrolments.iter().any(|e| e.programme_id == p.id))
        .map(|p| (p.id, p.name_en, p.name_zh))
        .collect();
    let affiliates = affiliate::Entity::find()
        .filter(affiliate::Column::StartupId.eq(startup_id))
        .order_by_asc(affiliate::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| AffiliateRow {
            id: a.id,
            credit_code: a.credit_code,
            name: a.name,
        })
        .collect();
    Ok(StartupFunding {
        enrolments,
        programmes,
        affiliates,
    })
}

/// Records a firm affiliated with a startup; returns its id.
pub async fn add_affiliate(
    db: &DatabaseConnection,
    actor: &Actor,
    startup_id: i64,
    credit_code: &str,
    name: &str,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let mut checks = Checks::new();
    let code = checks.take(
        CreditCode::parse(credit_code)
            .map_err(|_| AppError::invalid("credit_code", "error.credit_code_invalid")),
    );
    let name = name.trim();
    checks.check(
        !name.is_empty() && name.chars().count() <= 200,
        "affiliate_name",
        "error.affiliate_name_required",
    );
    checks.finish()?;
    let code = code.ok_or_else(|| AppError::invalid("credit_code", "error.credit_code_invalid"))?;
    let txn = crate::txn::begin(db).await?;
    startup::Entity::find_by_id(startup_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = affiliate::ActiveModel {
        startup_id: Set(startup_id),
        credit_code: Set(code.as_str().to_string()),
        name: Set(name.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::invalid("credit_code", "error.affiliate_taken")
        }
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "startup.affiliate_added",
            entity_type: "startup",
            entity_id: startup_id.to_string(),
            before: None,
            after: Some(
                json!({ "affiliate": row.id, "credit_code": row.credit_code, "name": row.name }),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Removes an affiliated firm; returns the startup's id.
pub async fn remove_affiliate(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let a = affiliate::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    affiliate::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "startup.affiliate_removed",
            entity_type: "startup",
            entity_id: a.startup_id.to_string(),
            before: Some(
                json!({ "affiliate": a.id, "credit_code": a.credit_code, "name": a.name }),
            ),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(a.startup_id)
}
