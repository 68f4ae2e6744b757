//! Claims (issue 17): the park files with a programme's sponsor for some months. A claim
//! takes every paid statement of those months on which the programme pays (a statement not
//! yet paid waits for a later claim; one replaced by a correction is never claimed), each
//! once per programme; they move to `claimed`. When the sponsor pays, the claim is marked
//! reimbursed with the sponsor's reference, and each statement whose every claim is
//! reimbursed moves to `reimbursed`. Every step is audited. Admins only.
//!
//! Here too each programme's money as it stands: its pool used and left, the companies
//! nearest their yearly cap, and when the pool runs out at the recent rate.
use super::entity::{
    claim, claim_line, programme, statement, statement_line, statement_line_subsidy,
    statement_subsidy,
};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::users_by_id;
use crate::credits::entity::{charge, resource};
use crate::error::{AppError, AppResult, Checks};
use crate::startups::entity::startup;
use chrono::{Datelike, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use wire::auth::Role;
use wire::settlement::claims::{
    ClaimDetail, ClaimRow, ClaimStartup, ClaimStatement, ClaimStatus, ClaimsOverview, CompanyYear,
    ProgrammeMoney,
};
use wire::settlement::statements::{parse_period, period_of, StatementStatus};

/// A claim as the form submits it.
#[derive(Clone, Debug, Default)]
pub struct ClaimInput {
    pub programme_id: i64,
    /// The first and last month it covers, `YYYY-MM`.
    pub from: String,
    pub until: String,
}

/// The statements that replaced ones are not: every statement not corrected by another.
fn replaced() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(statement::Column::CorrectsId)
        .from(statement::Entity)
        .and_where(Expr::col(statement::Column::CorrectsId).is_not_null())
        .to_owned()
}

fn months(input: &ClaimInput, today: chrono::NaiveDate) -> AppResult<(String, String)> {
    let mut checks = Checks::new();
    let month = |text: &str| parse_period(text).map(|(y, m)| format!("{y:04}-{m:02}"));
    let from = month(&input.from);
    let until = month(&input.until);
    checks.check(from.is_some(), "from", "error.period_invalid");
    checks.check(until.is_some(), "until", "error.period_invalid");
    if let (Some(f), Some(u)) = (&from, &until) {
        checks.check(f <= u, "until", "error.claim_months_order");
        checks.check(*u <= period_of(today), "until", "error.period_future");
    }
    checks.finish()?;
    Ok((from.unwrap_or_default(), until.unwrap_or_default()))
}

/// Files a claim (admins); returns its id.
pub async fn file(db: &DatabaseConnection, actor: &Actor, input: ClaimInput) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let (from, until) = months(&input, actor.zone.today())?;
    let txn = crate::txn::begin(db).await?;
    let p = programme::Entity::find_by_id(input.programme_id)
        .one(&txn)
        .await?
        .ok_or(AppError::invalid("programme_id", "error.programme_unknown"))?;
    let claimed_already = Query::select()
        .column(claim_line::Column::StatementId)
        .from(claim_line::Entity)
        .and_where(Expr::col(claim_line::Column::ProgrammeId).eq(p.id))
        .to_owned();
    let found: Vec<(statement_subsidy::Model, Option<statement::Model>)> =
        statement_subsidy::Entity::find()
            .find_also_related(statement::Entity)
            .filter(statement_subsidy::Column::ProgrammeId.eq(p.id))
            .filter(statement_subsidy::Column::AmountFen.gt(0))
            .filter(statement::Column::Period.between(from.clone(), until.clone()))
            .filter(
                statement::Column::Status.is_in([StatementStatus::Paid, StatementStatus::Claimed]),
            )
            .filter(statement::Column::Id.not_in_subquery(replaced()))
            .filter(statement::Column::Id.not_in_subquery(claimed_already))
            .order_by_asc(statement::Column::Period)
            .order_by_asc(statement::Column::Id)
            .all(&txn)
            .await?;
    let found: Vec<(i64, statement::Model)> = found
        .into_iter()
        .filter_map(|(x, s)| Some((x.amount_fen, s?)))
        .collect();
    if found.is_empty() {
        return Err(AppError::conflict("error.claim_nothing"));
    }
    let now = Utc::now();
    let total: i64 = found.iter().map(|(a, _)| a).sum();
    let c = claim::ActiveModel {
        programme_id: Set(p.id),
        period_from: Set(from.clone()),
        period_until: Set(until.clone()),
        status: Set(ClaimStatus::Filed),
        statements: Set(found.len() as i64),
        total_fen: Set(total),
        sponsor_ref: Set(String::new()),
        filed_by: Set(Some(actor.user_id)),
        filed_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let lines: Vec<claim_line::ActiveModel> = found
        .iter()
        .map(|(amount, s)| claim_line::ActiveModel {
            claim_id: Set(c.id),
            programme_id: Set(p.id),
            statement_id: Set(s.id),
            amount_fen: Set(*amount),
            ..Default::default()
        })
        .collect();
    for chunk in lines.chunks(1000) {
        claim_line::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for (_, s) in found
        .iter()
        .filter(|(_, s)| s.status == StatementStatus::Paid)
    {
        move_statement(&txn, actor, s, StatementStatus::Claimed, c.id).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "claim.filed",
            entity_type: "claim",
            entity_id: c.id.to_string(),
            before: None,
            after: Some(json!({
                "programme": p.id, "from": from, "until": until, "statements": c.statements,
                "total_fen": total,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(c.id)
}

/// Moves a statement on because of claim `claim_id`, if it is still where it was read.
async fn move_statement(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    s: &statement::Model,
    to: StatementStatus,
    claim_id: i64,
) -> AppResult<()> {
    let now = Utc::now();
    let mut update = statement::Entity::update_many()
        .col_expr(statement::Column::Status, Expr::value(to.as_str()))
        .col_expr(statement::Column::UpdatedAt, Expr::value(now));
    update = match to {
        StatementStatus::Claimed => update
            .col_expr(statement::Column::ClaimedBy, Expr::value(actor.user_id))
            .col_expr(statement::Column::ClaimedAt, Expr::value(now)),
        _ => update
            .col_expr(statement::Column::ReimbursedBy, Expr::value(actor.user_id))
            .col_expr(statement::Column::ReimbursedAt, Expr::value(now)),
    };
    let moved = update
        .filter(statement::Column::Id.eq(s.id))
        .filter(statement::Column::Status.eq(s.status))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict("error.claim_busy"));
    }
    audit::record(
        txn,
        Change {
            actor: Some(actor.user_id),
            action: match to {
                StatementStatus::Claimed => "statement.claimed",
                _ => "statement.reimbursed",
            },
            entity_type: "statement",
            entity_id: s.id.to_string(),
            before: Some(json!({ "status": s.status })),
            after: Some(json!({ "status": to, "claim": claim_id })),
        },
    )
    .await?;
    Ok(())
}

/// Records that the sponsor paid a claim (admins), with its reference; each statement whose
/// every claim is now reimbursed moves to `reimbursed`.
pub async fn reimburse(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    sponsor_ref: &str,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let reference = sponsor_ref.trim();
    if reference.is_empty() {
        return Err(AppError::invalid(
            "sponsor_ref",
            "error.sponsor_ref_required",
        ));
    }
    if reference.chars().count() > 100 {
        return Err(AppError::invalid("sponsor_ref", "error.too_long"));
    }
    let txn = crate::txn::begin(db).await?;
    let c = claim::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let moved = claim::Entity::update_many()
        .col_expr(
            claim::Column::Status,
            Expr::value(ClaimStatus::Reimbursed.as_str()),
        )
        .col_expr(claim::Column::SponsorRef, Expr::value(reference))
        .col_expr(claim::Column::ReimbursedBy, Expr::value(actor.user_id))
        .col_expr(claim::Column::ReimbursedAt, Expr::value(now))
        .filter(claim::Column::Id.eq(c.id))
        .filter(claim::Column::Status.eq(ClaimStatus::Filed))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict("error.claim_reimbursed_already"));
    }
    let ids: Vec<i64> = claim_line::Entity::find()
        .select_only()
        .column(claim_line::Column::StatementId)
        .filter(claim_line::Column::ClaimId.eq(c.id))
        .into_tuple()
        .all(&txn)
        .await?;
    // Each statement's claims, and whether each is still waiting for the sponsor.
    let waiting: Vec<i64> = claim_line::Entity::find()
        .select_only()
        .column(claim_line::Column::StatementId)
        .inner_join(claim::Entity)
        .filter(claim_line::Column::StatementId.is_in(ids.iter().copied()))
        .filter(claim::Column::Status.eq(ClaimStatus::Filed))
        .into_tuple()
        .all(&txn)
        .await?;
    let done: Vec<statement::Model> = statement::Entity::find()
        .filter(statement::Column::Id.is_in(ids.iter().copied()))
        .filter(statement::Column::Id.is_not_in(waiting))
        .filter(statement::Column::Status.eq(StatementStatus::Claimed))
        .all(&txn)
        .await?;
    for s in &done {
        move_statement(&txn, actor, s, StatementStatus::Reimbursed, c.id).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "claim.reimbursed",
            entity_type: "claim",
            entity_id: c.id.to_string(),
            before: Some(json!({ "status": c.status })),
            after: Some(json!({
                "status": ClaimStatus::Reimbursed, "sponsor_ref": reference,
                "statements_reimbursed": done.len(),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn rows(db: &impl ConnectionTrait, claims: Vec<claim::Model>) -> AppResult<Vec<ClaimRow>> {
    let programmes: HashMap<i64, programme::Model> = programme::Entity::find()
        .filter(programme::Column::Id.is_in(claims.iter().map(|c| c.programme_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let people = users_by_id(db, claims.iter().filter_map(|c| c.filed_by)).await?;
    Ok(claims
        .into_iter()
        .map(|c| {
            let p = programmes.get(&c.programme_id);
            ClaimRow {
                id: c.id,
                programme_id: c.programme_id,
                programme_en: p.map(|p| p.name_en.clone()).unwrap_or_default(),
                programme_zh: p.map(|p| p.name_zh.clone()).unwrap_or_default(),
                period_from: c.period_from,
                period_until: c.period_until,
                status: c.status,
                statements: c.statements,
                total_fen: c.total_fen,
                filed_by: c
                    .filed_by
                    .and_then(|u| people.get(&u))
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                filed_at: c.filed_at,
                reimbursed_at: c.reimbursed_at,
                sponsor_ref: c.sponsor_ref,
            }
        })
        .collect())
}

/// A sum of fen as a query's one column (PostgreSQL sums BIGINT as NUMERIC).
pub(crate) fn sum(col: impl sea_orm::sea_query::IntoColumnRef) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Func::cast_as(
        sea_orm::sea_query::Func::sum(Expr::col(col)),
        sea_orm::sea_query::Alias::new("BIGINT"),
    )
    .into()
}

/// What each programme has paid on statements `filter` selects (corrections counted once).
async fn paid_by_programme(
    db: &impl ConnectionTrait,
    filter: sea_orm::Condition,
) -> AppResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, Option<i64>)> = statement_subsidy::Entity::find()
        .select_only()
        .column(statement_subsidy::Column::ProgrammeId)
        .expr(sum((
            statement_subsidy::Entity,
            statement_subsidy::Column::AmountFen,
        )))
        .inner_join(statement::Entity)
        .filter(statement::Column::Id.not_in_subquery(replaced()))
        .filter(filter)
        .group_by(statement_subsidy::Column::ProgrammeId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(p, s)| (p, s.unwrap_or(0))).collect())
}

/// The first day of the month `back` months before today's.
fn month_back(today: chrono::NaiveDate, back: i32) -> String {
    let index = today.year() * 12 + today.month0() as i32 - back;
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

/// Every claim, the newest first, and each programme's money (admins).
pub async fn overview(db: &DatabaseConnection, actor: &Actor) -> AppResult<ClaimsOverview> {
    actor.require(Role::Admin)?;
    let claims = claim::Entity::find()
        .order_by_desc(claim::Column::Id)
        .limit(200)
        .all(db)
        .await?;
    let programmes = programme::Entity::find()
        .order_by_asc(programme::Column::Id)
        .all(db)
        .await?;
    let today = actor.zone.today();
    let used = paid_by_programme(db, sea_orm::Condition::all()).await?;
    let (first, last) = (month_back(today, 3), month_back(today, 1));
    let recent = paid_by_programme(
        db,
        sea_orm::Condition::all().add(statement::Column::Period.between(first, last)),
    )
    .await?;
    let by_status: Vec<(i64, ClaimStatus, Option<i64>)> = claim::Entity::find()
        .select_only()
        .column(claim::Column::ProgrammeId)
        .column(claim::Column::Status)
        .expr(sum((claim::Entity, claim::Column::TotalFen)))
        .group_by(claim::Column::ProgrammeId)
        .group_by(claim::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let year = format!("{}-%", today.year());
    let mut money = Vec::with_capacity(programmes.len());
    for p in programmes {
        let used_fen = used.get(&p.id).copied().unwrap_or(0);
        let monthly = recent.get(&p.id).copied().unwrap_or(0) / 3;
        let claimed = |status: ClaimStatus| {
            by_status
                .iter()
                .filter(|(id, s, _)| *id == p.id && *s == status)
                .filter_map(|(_, _, v)| *v)
                .sum::<i64>()
        };
        let runs_out = match (p.cap_pool_fen, monthly) {
            (Some(pool), m) if m > 0 => {
                let left = Ord::max(pool - used_fen, 0);
                let months = (left + m - 1) / m;
                Some(month_back(today, -(Ord::min(months, 1200) as i32)))
            }
            _ => None,
        };
        let top: Vec<(i64, Option<i64>)> = statement_subsidy::Entity::find()
            .select_only()
            .column(statement::Column::StartupId)
            .expr(sum((
                statement_subsidy::Entity,
                statement_subsidy::Column::AmountFen,
            )))
            .inner_join(statement::Entity)
            .filter(statement_subsidy::Column::ProgrammeId.eq(p.id))
            .filter(statement::Column::Id.not_in_subquery(replaced()))
            .filter(statement::Column::Period.like(&year))
            .group_by(statement::Column::StartupId)
            .order_by_desc(sum((
                statement_subsidy::Entity,
                statement_subsidy::Column::AmountFen,
            )))
            .limit(5)
            .into_tuple()
            .all(db)
            .await?;
        let names: HashMap<i64, String> = startup::Entity::find()
            .filter(startup::Column::Id.is_in(top.iter().map(|(id, _)| *id)))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        money.push(ProgrammeMoney {
            programme_id: p.id,
            programme_en: p.name_en.clone(),
            programme_zh: p.name_zh.clone(),
            pool_fen: p.cap_pool_fen,
            used_fen,
            claimed_fen: claimed(ClaimStatus::Filed) + claimed(ClaimStatus::Reimbursed),
            reimbursed_fen: claimed(ClaimStatus::Reimbursed),
            monthly_fen: monthly,
            runs_out,
            companies: top
                .into_iter()
                .map(|(id, paid)| CompanyYear {
                    startup_id: id,
                    startup: names.get(&id).cloned().unwrap_or_default(),
                    paid_fen: paid.unwrap_or(0),
                    cap_fen: p.cap_company_year_fen,
                })
                .collect(),
        });
    }
    Ok(ClaimsOverview {
        claims: rows(db, claims).await?,
        programmes: money,
    })
}

/// A claim with its statements, their evidence and each startup's total (admins).
pub async fn detail(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<ClaimDetail> {
    actor.require(Role::Admin)?;
    let c = claim::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let sponsor = programme::Entity::find_by_id(c.programme_id)
        .one(db)
        .await?
        .map(|p| p.sponsor)
        .unwrap_or_default();
    let lines: Vec<(claim_line::Model, Option<statement::Model>)> = claim_line::Entity::find()
        .find_also_related(statement::Entity)
        .filter(claim_line::Column::ClaimId.eq(c.id))
        .order_by_asc(claim_line::Column::Id)
        .all(db)
        .await?;
    let startups: HashMap<i64, startup::Model> = startup::Entity::find()
        .filter(
            startup::Column::Id.is_in(
                lines
                    .iter()
                    .filter_map(|(_, s)| s.as_ref().map(|s| s.startup_id)),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let statements: Vec<ClaimStatement> = lines
        .into_iter()
        .filter_map(|(l, s)| {
            let s = s?;
            let st = startups.get(&s.startup_id);
            Some(ClaimStatement {
                statement_id: s.id,
                startup_id: s.startup_id,
                startup: st.map(|x| x.name.clone()).unwrap_or_default(),
                credit_code: st.and_then(|x| x.credit_code.clone()),
                period: s.period,
                provider: s.provider,
                amount_fen: s.amount_fen,
                own_fen: s.own_fen,
                claimed_fen: l.amount_fen,
                contract_no: s.contract_no,
                contract_date: s.contract_date,
                invoice_no: s.invoice_no,
                payment_ref: s.payment_ref,
            })
        })
        .collect();
    let mut totals: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    for s in &statements {
        let t = totals.entry((s.startup.clone(), s.startup_id)).or_default();
        t.0 += 1;
        t.1 += s.claimed_fen;
    }
    Ok(ClaimDetail {
        claim: rows(db, vec![c]).await?.pop().ok_or(AppError::NotFound)?,
        sponsor,
        startups: totals
            .into_iter()
            .map(|((startup, startup_id), (n, fen))| ClaimStartup {
                startup_id,
                startup,
                statements: n,
                claimed_fen: fen,
            })
            .collect(),
        statements,
    })
}

/// The job-level usage that proves a claim, as CSV: every job of every statement on it, with
/// the statement's evidence.
pub async fn csv(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<String> {
    let d = detail(db, actor, id).await?;
    let times = crate::csv::Times(actor.zone);
    let ended = times.header("ended");
    let mut out = crate::csv::line([
        "claim",
        "statement",
        "startup",
        "credit_code",
        "period",
        "provider",
        "contract_no",
        "invoice_no",
        "payment_ref",
        "job",
        "resource",
        ended.as_str(),
        "gpu_hours",
        "yuan_per_gpu_hour",
        "amount_yuan",
        "park_credit_yuan",
        "subsidy_yuan",
        "other_programmes_yuan",
        "own_yuan",
    ]);
    let by_id: HashMap<i64, &ClaimStatement> =
        d.statements.iter().map(|s| (s.statement_id, s)).collect();
    let resources: HashMap<i64, String> = resource::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    for ids in d
        .statements
        .iter()
        .map(|s| s.statement_id)
        .collect::<Vec<_>>()
        .chunks(500)
    {
        let lines = statement_line::Entity::find()
            .find_also_related(charge::Entity)
            .filter(statement_line::Column::StatementId.is_in(ids.iter().copied()))
            .order_by_asc(statement_line::Column::StatementId)
            .order_by_asc(statement_line::Column::Id)
            .all(db)
            .await?;
        // This programme's share of each job; the rest of a job's subsidy is other programmes'.
        let shares: HashMap<(i64, i64), i64> = statement_line_subsidy::Entity::find()
            .filter(statement_line_subsidy::Column::StatementId.is_in(ids.iter().copied()))
            .filter(statement_line_subsidy::Column::ProgrammeId.eq(d.claim.programme_id))
            .all(db)
            .await?
            .into_iter()
            .map(|x| ((x.statement_id, x.charge_id), x.amount_fen))
            .collect();
        for (l, c) in lines {
            let (Some(c), Some(s)) = (c, by_id.get(&l.statement_id)) else {
                continue;
            };
            let ours = shares.get(&(l.statement_id, c.id)).copied().unwrap_or(0);
            out.push_str(&crate::csv::line([
                d.claim.id.to_string(),
                s.statement_id.to_string(),
                s.startup.clone(),
                s.credit_code.clone().unwrap_or_default(),
                s.period.clone(),
                s.provider.clone(),
                s.contract_no.clone(),
                s.invoice_no.clone(),
                s.payment_ref.clone(),
                c.job_ref.clone(),
                resources.get(&c.resource_id).cloned().unwrap_or_default(),
                times.cell(c.ended_at),
                format!("{:.2}", c.gpu_minutes as f64 / 60.0),
                c.fen_per_gpu_hour
                    .map(super::statements::plain_yuan)
                    .unwrap_or_default(),
                super::statements::plain_yuan(c.amount_fen),
                super::statements::plain_yuan(l.park_fen),
                super::statements::plain_yuan(ours),
                super::statements::plain_yuan(l.subsidy_fen - ours),
                super::statements::plain_yuan(l.own_fen),
            ]));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_covers_months_in_order_that_have_begun() {
        let today = chrono::NaiveDate::from_ymd_opt(2027, 3, 15).unwrap();
        let input = |from: &str, until: &str| ClaimInput {
            programme_id: 1,
            from: from.into(),
            until: until.into(),
        };
        assert_eq!(
            months(&input("2027-01", "2027-03"), today),
            Ok(("2027-01".into(), "2027-03".into()))
        );
        assert_eq!(
            months(&input("2027-03", "2027-01"), today),
            Err(AppError::invalid("until", "error.claim_months_order"))
        );
        assert_eq!(
            months(&input("2027-03", "2027-04"), today),
            Err(AppError::invalid("until", "error.period_future"))
        );
        assert!(months(&input("", "x"), today).is_err());
        assert_eq!(month_back(today, 3), "2026-12");
        assert_eq!(month_back(today, -10), "2028-01");
    }
}
