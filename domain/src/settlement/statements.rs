//! Statements (issue 17): each month's bill of a startup with one provider, from the charges
//! the usage import wrote, split by `split` into the park's credit, every programme the
//! startup is enrolled in (never past a cap, counted across every statement) and the
//! startup's own payment.
//!
//! An admin prepares a month: every startup and provider with charges that month gets a
//! draft, a draft is computed again, and a month whose issued statement lacks jobs that came
//! in later gets a correction (the next revision, naming the one it corrects). A statement
//! then moves draft → issued → paid → claimed → reimbursed, one step at a time, each step
//! with who and when and audited; issued, its amounts and lines never change. Founders see
//! their own startup's statements once issued; mentors none.
use super::entity::{
    enrolment, programme, statement, statement_line, statement_line_subsidy, statement_run,
    statement_subsidy,
};
use super::split::{self, Fund, Line};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::users_by_id;
use crate::credits::entity::{charge, resource};
use crate::error::{AppError, AppResult, Checks};
use crate::startups::entity::startup;
use crate::tables::{self, TablePage, TableQuery};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    SqlErr,
};
use serde_json::json;
use std::collections::HashMap;
use wire::auth::Role;
use wire::settlement::statements::{
    parse_period, Prepared, RunRow, RunStatus, StatementDetail, StatementLine, StatementRow,
    StatementStatus, StatementStep, StatementSubsidy, STATEMENT_COLUMNS,
};

/// The longest evidence reference accepted (a contract, invoice or payment number).
const MAX_REFERENCE: usize = 100;

/// A month named as statements name it, not later than the current one.
fn checked_period(text: &str, today: NaiveDate) -> AppResult<String> {
    let (y, m) = parse_period(text).ok_or(AppError::invalid("period", "error.period_invalid"))?;
    let period = format!("{y:04}-{m:02}");
    if period > wire::settlement::statements::period_of(today) {
        return Err(AppError::invalid("period", "error.period_future"));
    }
    Ok(period)
}

/// Prepares the statements of a month (admins): see the module's comment. Each statement is
/// written in a transaction of its own, so a long month can be prepared again where it
/// stopped.
pub async fn prepare(db: &DatabaseConnection, actor: &Actor, period: &str) -> AppResult<Prepared> {
    actor.require(Role::Admin)?;
    let period = checked_period(period, actor.zone.today())?;
    let months: Vec<(i64, String)> = charge::Entity::find()
        .select_only()
        .column(charge::Column::StartupId)
        .column(charge::Column::Provider)
        .distinct()
        .filter(charge::Column::Period.eq(&period))
        .order_by_asc(charge::Column::StartupId)
        .order_by_asc(charge::Column::Provider)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Prepared::default();
    for (startup_id, provider) in months {
        match prepare_one(db, actor, startup_id, &provider, &period).await? {
            Outcome::Created => out.created += 1,
            Outcome::Refreshed => out.refreshed += 1,
            Outcome::Unchanged => out.unchanged += 1,
        }
    }
    Ok(out)
}

/// How the worker runs a month's preparation: a lease long enough for a month of 10⁴
/// startups, retried after 30 s doubling to 10 min, given up after 5 attempts.
pub const RUNS: crate::queue::Policy = crate::queue::Policy {
    lease_seconds: 1800,
    first_retry_seconds: 30,
    longest_retry_seconds: 600,
    max_attempts: 5,
};

/// Asks the worker to prepare a month's statements (admins); a month already waiting is not
/// asked twice. Returns the request's id.
pub async fn request(db: &DatabaseConnection, actor: &Actor, period: &str) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let period = checked_period(period, actor.zone.today())?;
    let txn = crate::txn::begin(db).await?;
    crate::txn::lock(&txn, &format!("statement_run:{period}")).await?;
    let waiting = statement_run::Entity::find()
        .filter(statement_run::Column::Period.eq(&period))
        .filter(statement_run::Column::Status.eq(RunStatus::Pending))
        .one(&txn)
        .await?;
    if let Some(run) = waiting {
        return Ok(run.id);
    }
    let now = Utc::now();
    let run = statement_run::ActiveModel {
        period: Set(period.clone()),
        status: Set(RunStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(String::new()),
        requested_by: Set(Some(actor.user_id)),
        requested_at: Set(now),
        finished_at: Set(None),
        created: Set(0),
        refreshed: Set(0),
        unchanged: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "statements.requested",
            entity_type: "statement_run",
            entity_id: run.id.to_string(),
            before: None,
            after: Some(json!({ "period": period })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(run.id)
}

/// The worker's pass: claims due requests and prepares their months, each as the admin who
/// asked (so their statements and audit entries name them). Returns how many it ran.
pub async fn run_due(
    db: &DatabaseConnection,
    park: crate::time::Zone,
    limit: u64,
) -> AppResult<usize> {
    let outbox = crate::queue::Outbox::<statement_run::Entity> {
        table: "statement_runs",
        pending: || RunStatus::Pending.as_str().into(),
        id: |r| r.id,
    };
    let runs = crate::queue::claim(db, &outbox, &RUNS, limit, None).await?;
    for run in &runs {
        let outcome = match run.requested_by {
            Some(user) => match crate::auth::sessions::actor_by_id(db, user, park).await? {
                Some(actor) => prepare(db, &actor, &run.period).await,
                None => Err(AppError::Forbidden),
            },
            None => Err(AppError::Forbidden),
        };
        let now = Utc::now();
        let mut row: statement_run::ActiveModel = run.clone().into();
        row.locked_until = Set(None);
        match outcome {
            Ok(done) => {
                row.status = Set(RunStatus::Done);
                row.finished_at = Set(Some(now));
                row.created = Set(done.created as i64);
                row.refreshed = Set(done.refreshed as i64);
                row.unchanged = Set(done.unchanged as i64);
                row.last_error = Set(String::new());
            }
            Err(e) => {
                tracing::warn!(run = run.id, period = %run.period, error = ?e, "preparing statements failed");
                let attempts = run.attempts + 1;
                // A refusal (the month, the asker's role) will not mend by waiting.
                let transient = !matches!(
                    e,
                    AppError::Forbidden
                        | AppError::Unauthenticated
                        | AppError::Invalid { .. }
                        | AppError::InvalidFields { .. }
                );
                row.attempts = Set(attempts);
                row.last_error = Set(e.message_key().to_string());
                match RUNS.after_failure(attempts, now, transient) {
                    crate::queue::AfterFailure::RetryAt(at) => row.next_attempt_at = Set(at),
                    crate::queue::AfterFailure::Dead => {
                        row.status = Set(RunStatus::Dead);
                        row.finished_at = Set(Some(now));
                    }
                }
            }
        }
        row.update(db).await?;
    }
    Ok(runs.len())
}

/// The latest requests to prepare months (admins), newest first.
pub async fn runs(db: &DatabaseConnection, actor: &Actor, limit: u64) -> AppResult<Vec<RunRow>> {
    actor.require(Role::Admin)?;
    let rows = statement_run::Entity::find()
        .order_by_desc(statement_run::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let people = users_by_id(db, rows.iter().filter_map(|r| r.requested_by)).await?;
    Ok(rows
        .into_iter()
        .map(|r| RunRow {
            id: r.id,
            period: r.period,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            requested_by: r
                .requested_by
                .and_then(|u| people.get(&u).map(|p| p.name.clone()))
                .unwrap_or_default(),
            requested_at: r.requested_at,
            finished_at: r.finished_at,
            done: Prepared {
                created: u64::try_from(r.created).unwrap_or(0),
                refreshed: u64::try_from(r.refreshed).unwrap_or(0),
                unchanged: u64::try_from(r.unchanged).unwrap_or(0),
            },
        })
        .collect())
}

enum Outcome {
    Created,
    Refreshed,
    Unchanged,
}

/// The month's statement of one startup with one provider, made, computed again or corrected.
async fn prepare_one(
    db: &DatabaseConnection,
    actor: &Actor,
    startup_id: i64,
    provider: &str,
    period: &str,
) -> AppResult<Outcome> {
    let txn = crate::txn::begin(db).await?;
    let latest = statement::Entity::find()
        .filter(statement::Column::StartupId.eq(startup_id))
        .filter(statement::Column::Provider.eq(provider))
        .filter(statement::Column::Period.eq(period))
        .order_by_desc(statement::Column::Revision)
        .one(&txn)
        .await?;
    let charges = charge::Entity::find()
        .filter(charge::Column::StartupId.eq(startup_id))
        .filter(charge::Column::Provider.eq(provider))
        .filter(charge::Column::Period.eq(period))
        .order_by_asc(charge::Column::EndedAt)
        .order_by_asc(charge::Column::Id)
        .all(&txn)
        .await?;
    let now = Utc::now();
    let (model, outcome) = match latest {
        Some(s) if s.status == StatementStatus::Draft => {
            statement_line::Entity::delete_many()
                .filter(statement_line::Column::StatementId.eq(s.id))
                .exec(&txn)
                .await?;
            statement_subsidy::Entity::delete_many()
                .filter(statement_subsidy::Column::StatementId.eq(s.id))
                .exec(&txn)
                .await?;
            statement_line_subsidy::Entity::delete_many()
                .filter(statement_line_subsidy::Column::StatementId.eq(s.id))
                .exec(&txn)
                .await?;
            (s, Outcome::Refreshed)
        }
        Some(s) => {
            let on_it = statement_line::Entity::find()
                .filter(statement_line::Column::StatementId.eq(s.id))
                .count(&txn)
                .await?;
            if on_it == charges.len() as u64 {
                return Ok(Outcome::Unchanged);
            }
            let m = new_draft(&txn, actor, startup_id, provider, period, Some(&s)).await?;
            (m, Outcome::Created)
        }
        None => {
            let m = new_draft(&txn, actor, startup_id, provider, period, None).await?;
            (m, Outcome::Created)
        }
    };
    let before = totals_json(&model);
    let funds = funds_for(&txn, &model, actor.zone).await?;
    let mut split_funds: Vec<Fund> = funds.iter().map(|(f, _)| f.clone()).collect();
    let lines: Vec<Line> = charges
        .iter()
        .map(|c| Line {
            gpu_minutes: c.gpu_minutes,
            covered_minutes: c.covered_minutes,
            price_per_gpu_hour: c.fen_per_gpu_hour.unwrap_or(0),
            domestic: c.domestic,
            ended_on: c.ended_on,
        })
        .collect();
    let (parts, totals) = split::split(&lines, &mut split_funds);
    if !charges.is_empty() {
        let rows = charges
            .iter()
            .zip(&parts)
            .map(|(c, p)| statement_line::ActiveModel {
                statement_id: Set(model.id),
                charge_id: Set(c.id),
                park_fen: Set(p.park),
                subsidy_fen: Set(p.subsidies.iter().sum()),
                own_fen: Set(p.own),
                ..Default::default()
            });
        // In batches: a busy month has thousands of jobs, and SQLite binds at most 32,766.
        let rows: Vec<_> = rows.collect();
        for chunk in rows.chunks(1000) {
            statement_line::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        // Each programme's share of each job, for the claims to each sponsor.
        let shares: Vec<statement_line_subsidy::ActiveModel> = charges
            .iter()
            .zip(&parts)
            .flat_map(|(c, p)| {
                funds
                    .iter()
                    .zip(&p.subsidies)
                    .filter(|(_, paid)| **paid > 0)
                    .map(|((f, _), paid)| statement_line_subsidy::ActiveModel {
                        statement_id: Set(model.id),
                        charge_id: Set(c.id),
                        programme_id: Set(f.programme_id),
                        amount_fen: Set(*paid),
                    })
            })
            .collect();
        for chunk in shares.chunks(1000) {
            statement_line_subsidy::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
    }
    let subsidies: Vec<statement_subsidy::ActiveModel> = funds
        .iter()
        .zip(&totals.subsidies)
        .filter(|(_, paid)| **paid > 0)
        .map(|((f, _), paid)| statement_subsidy::ActiveModel {
            statement_id: Set(model.id),
            programme_id: Set(f.programme_id),
            amount_fen: Set(*paid),
        })
        .collect();
    if !subsidies.is_empty() {
        statement_subsidy::Entity::insert_many(subsidies)
            .exec(&txn)
            .await?;
    }
    let mut am = model.clone().into_active_model();
    am.jobs = Set(charges.len() as i64);
    am.gpu_minutes = Set(charges.iter().map(|c| c.gpu_minutes).sum());
    am.amount_fen = Set(totals.amount);
    am.park_fen = Set(totals.park);
    am.subsidy_fen = Set(totals.subsidies.iter().sum());
    am.own_fen = Set(totals.own);
    am.updated_at = Set(now);
    let saved = am.update(&txn).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: match outcome {
                Outcome::Refreshed => "statement.recomputed",
                _ => "statement.drafted",
            },
            entity_type: "statement",
            entity_id: saved.id.to_string(),
            before: matches!(outcome, Outcome::Refreshed).then_some(before),
            after: Some(totals_json(&saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(outcome)
}

fn totals_json(s: &statement::Model) -> serde_json::Value {
    json!({
        "startup": s.startup_id, "provider": s.provider, "period": s.period,
        "revision": s.revision, "corrects": s.corrects_id, "status": s.status,
        "jobs": s.jobs, "gpu_minutes": s.gpu_minutes, "amount_fen": s.amount_fen,
        "park_fen": s.park_fen, "subsidy_fen": s.subsidy_fen, "own_fen": s.own_fen,
    })
}

async fn new_draft(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    startup_id: i64,
    provider: &str,
    period: &str,
    corrects: Option<&statement::Model>,
) -> AppResult<statement::Model> {
    let now = Utc::now();
    let m = statement::ActiveModel {
        startup_id: Set(startup_id),
        provider: Set(provider.to_string()),
        period: Set(period.to_string()),
        revision: Set(corrects.map_or(0, |c| c.revision + 1)),
        corrects_id: Set(corrects.map(|c| c.id)),
        status: Set(StatementStatus::Draft),
        jobs: Set(0),
        gpu_minutes: Set(0),
        amount_fen: Set(0),
        park_fen: Set(0),
        subsidy_fen: Set(0),
        own_fen: Set(0),
        // A correction keeps the month's contract.
        contract_no: Set(corrects.map(|c| c.contract_no.clone()).unwrap_or_default()),
        contract_date: Set(corrects.and_then(|c| c.contract_date)),
        invoice_no: Set(String::new()),
        payment_ref: Set(String::new()),
        created_by: Set(Some(actor.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| match e.sql_err() {
        // Another admin prepared the same month at the same moment.
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::conflict("error.statement_busy"),
        _ => e.into(),
    })?;
    Ok(m)
}

/// The statements whose subsidies count against the caps: every one not replaced by a
/// correction, other than `s` and the one it corrects.
fn counted(s: &statement::Model) -> Condition {
    let replaced = Query::select()
        .column(statement::Column::CorrectsId)
        .from(statement::Entity)
        .and_where(Expr::col(statement::Column::CorrectsId).is_not_null())
        .to_owned();
    let mut c = Condition::all()
        .add(statement::Column::Id.ne(s.id))
        .add(statement::Column::Id.not_in_subquery(replaced));
    if let Some(old) = s.corrects_id {
        c = c.add(statement::Column::Id.ne(old));
    }
    c
}

/// What `programme` has paid on the statements `filter` selects (besides those `counted`
/// leaves out).
async fn paid(
    db: &impl ConnectionTrait,
    s: &statement::Model,
    programme_id: i64,
    filter: Condition,
) -> AppResult<i64> {
    let sum: Option<i64> = statement_subsidy::Entity::find()
        .select_only()
        .expr(super::claims::sum((
            statement_subsidy::Entity,
            statement_subsidy::Column::AmountFen,
        )))
        .inner_join(statement::Entity)
        .filter(statement_subsidy::Column::ProgrammeId.eq(programme_id))
        .filter(counted(s))
        .filter(filter)
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(sum.unwrap_or(0))
}

/// The programmes that pay on `s`, in the order they pay (the city's, the district's, then
/// the park's), each with the days it pays for and what its caps have left.
async fn funds_for(
    db: &impl ConnectionTrait,
    s: &statement::Model,
    zone: crate::time::Zone,
) -> AppResult<Vec<(Fund, programme::Model)>> {
    let mut found = enrolment::Entity::find()
        .filter(enrolment::Column::StartupId.eq(s.startup_id))
        .find_also_related(programme::Entity)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(e, p)| Some((e, p?)))
        .collect::<Vec<_>>();
    found.sort_by_key(|(_, p)| (p.sponsor_kind, p.id));
    let year = format!("{}-%", &s.period[..4]);
    // A young startup's rate holds for a month when the firm was young on its first day.
    let founded: Option<NaiveDate> = if found.iter().any(|(_, p)| p.young_rate_bp.is_some()) {
        startup::Entity::find_by_id(s.startup_id)
            .select_only()
            .column(startup::Column::FoundedOn)
            .into_tuple::<Option<NaiveDate>>()
            .one(db)
            .await?
            .flatten()
    } else {
        None
    };
    // A programme that pays only for unaffiliated providers pays nothing on a statement from
    // the startup's own or an affiliated firm's compute, as the firms stand now.
    let affiliated = if found.iter().any(|(_, p)| p.unaffiliated_provider) {
        statement_provider_affiliated(db, s).await?
    } else {
        false
    };
    let month_start = wire::settlement::statements::parse_period(&s.period)
        .and_then(|(y, m)| NaiveDate::from_ymd_opt(y, m, 1));
    let mut out = Vec::new();
    for (e, p) in found {
        let from = Ord::max(p.valid_from, zone.date(&e.decided_at));
        let until = match e.ended_at {
            Some(end) => Ord::min(p.valid_until, zone.date(&end)),
            None => p.valid_until,
        };
        if from > until || (p.unaffiliated_provider && affiliated) {
            continue;
        }
        let rules = super::funding::rules_of(&p, Vec::new());
        let company_year = paid(
            db,
            s,
            p.id,
            Condition::all()
                .add(statement::Column::StartupId.eq(s.startup_id))
                .add(statement::Column::Period.like(&year)),
        )
        .await?;
        let pool = paid(db, s, p.id, Condition::all()).await?;
        let contract = if s.contract_no.is_empty() {
            0
        } else {
            paid(
                db,
                s,
                p.id,
                Condition::all()
                    .add(statement::Column::StartupId.eq(s.startup_id))
                    .add(statement::Column::ContractNo.eq(&s.contract_no)),
            )
            .await?
        };
        let left = super::programmes::left(
            &rules.caps,
            e.cap_fen,
            super::programmes::Paid {
                company_year,
                pool,
                contract,
            },
        );
        // A firm that has not said when it was registered gets the ordinary rates.
        let (domestic_rate, other_rate) = match (founded, month_start) {
            (Some(founded), Some(on)) => rules.rates.for_startup(founded, on),
            _ => (rules.rates.domestic, rules.rates.other),
        };
        out.push((
            Fund {
                programme_id: p.id,
                domestic_rate,
                other_rate,
                from,
                until,
                left,
            },
            p,
        ));
    }
    Ok(out)
}

/// Whether the provider `s` bills for is the startup itself or a firm affiliated with it, by
/// the credit codes its resources record.
async fn statement_provider_affiliated(
    db: &impl ConnectionTrait,
    s: &statement::Model,
) -> AppResult<bool> {
    use crate::startups::CreditCode;
    let codes: Vec<Option<String>> = resource::Entity::find()
        .select_only()
        .column(resource::Column::ProviderCreditCode)
        .filter(resource::Column::Provider.eq(&s.provider))
        .into_tuple()
        .all(db)
        .await?;
    let providers: Vec<CreditCode> = codes
        .into_iter()
        .flatten()
        .filter_map(|c| CreditCode::parse(&c).ok())
        .collect();
    if providers.is_empty() {
        return Ok(false);
    }
    let own: Option<Option<String>> = startup::Entity::find_by_id(s.startup_id)
        .select_only()
        .column(startup::Column::CreditCode)
        .into_tuple()
        .one(db)
        .await?;
    let own = own.flatten().and_then(|c| CreditCode::parse(&c).ok());
    let affiliates = super::enrolments::affiliates_of(db, s.startup_id).await?;
    Ok(super::programmes::provider_affiliated(
        &super::programmes::Candidate {
            credit_code: own.as_ref(),
            providers: &providers,
            affiliates: &affiliates,
            enrolled_in: &[],
        },
    ))
}

/// A step asked of a statement, with the evidence it brings.
#[derive(Clone, Debug, Default)]
pub struct MoveInput {
    pub id: i64,
    /// The state to move to: the one after the statement's.
    pub to: String,
    /// Issuing: the contract with the provider, when there is one.
    pub contract_no: String,
    pub contract_date: String,
    /// Marking paid: the invoice and the payment.
    pub invoice_no: String,
    pub payment_ref: String,
}

/// Why a statement cannot move from `from` to `to`, if it cannot.
pub fn refusal(from: StatementStatus, to: StatementStatus) -> Option<&'static str> {
    use StatementStatus::*;
    if from.next() == Some(to) {
        return None;
    }
    Some(match (to, from >= to) {
        (Issued, true) => "error.statement_issued_already",
        (Paid, true) => "error.statement_paid_already",
        (Paid, false) => "error.statement_not_issued",
        (Claimed, true) => "error.statement_claimed_already",
        (Claimed, false) => "error.statement_not_paid",
        (Reimbursed, true) => "error.statement_reimbursed_already",
        (Reimbursed, false) => "error.statement_not_claimed",
        (Draft, _) => "error.statement_issued_already",
        (Issued, false) => "error.statement_issued_already",
    })
}

/// An evidence reference as typed; `required` is the message when it is missing.
fn reference(checks: &mut Checks, text: &str, field: &str, required: Option<&str>) -> String {
    let t = text.trim();
    if let Some(key) = required {
        checks.check(!t.is_empty(), field, key);
    }
    checks.check(t.chars().count() <= MAX_REFERENCE, field, "error.too_long");
    t.to_string()
}

/// Moves a statement one step on (admins), with the evidence the step needs: issuing keeps
/// the contract (optional), marking paid needs the invoice and the payment reference. The
/// later steps come with claims.
pub async fn advance(db: &DatabaseConnection, actor: &Actor, input: MoveInput) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let to = StatementStatus::parse(input.to.trim())
        .filter(|s| *s != StatementStatus::Draft)
        .ok_or(AppError::invalid("to", "error.statement_step_invalid"))?;
    // Claimed and reimbursed come with a claim filed with the sponsor (`claims`).
    if matches!(to, StatementStatus::Claimed | StatementStatus::Reimbursed) {
        return Err(AppError::invalid("to", "error.statement_step_claims"));
    }
    let mut checks = Checks::new();
    let (contract_no, contract_date, invoice_no, payment_ref) = match to {
        StatementStatus::Issued => {
            let no = reference(&mut checks, &input.contract_no, "contract_no", None);
            let date = match input.contract_date.trim() {
                "" => None,
                d => checks.take(crate::time::parse_day(d, "contract_date")),
            };
            (Some(no), Some(date), None, None)
        }
        StatementStatus::Paid => (
            None,
            None,
            Some(reference(
                &mut checks,
                &input.invoice_no,
                "invoice_no",
                Some("error.invoice_required"),
            )),
            Some(reference(
                &mut checks,
                &input.payment_ref,
                "payment_ref",
                Some("error.payment_ref_required"),
            )),
        ),
        _ => (None, None, None, None),
    };
    checks.finish()?;
    let txn = crate::txn::begin(db).await?;
    let s = statement::Entity::find_by_id(input.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(key) = refusal(s.status, to) {
        return Err(AppError::conflict(key));
    }
    let now = Utc::now();
    let before = s.clone();
    let mut am = s.clone().into_active_model();
    am.status = Set(to);
    am.updated_at = Set(now);
    match to {
        StatementStatus::Issued => {
            am.issued_by = Set(Some(actor.user_id));
            am.issued_at = Set(Some(now));
        }
        StatementStatus::Paid => {
            am.paid_by = Set(Some(actor.user_id));
            am.paid_at = Set(Some(now));
        }
        StatementStatus::Claimed => {
            am.claimed_by = Set(Some(actor.user_id));
            am.claimed_at = Set(Some(now));
        }
        StatementStatus::Reimbursed => {
            am.reimbursed_by = Set(Some(actor.user_id));
            am.reimbursed_at = Set(Some(now));
        }
        StatementStatus::Draft => {}
    }
    if let Some(no) = contract_no {
        am.contract_no = Set(no);
    }
    if let Some(date) = contract_date {
        am.contract_date = Set(date);
    }
    if let Some(no) = invoice_no {
        am.invoice_no = Set(no);
    }
    if let Some(r) = payment_ref {
        am.payment_ref = Set(r);
    }
    // Only if it is still where it was read: two admins pressing at once move it once.
    let moved = statement::Entity::update_many()
        .set(am)
        .filter(statement::Column::Id.eq(s.id))
        .filter(statement::Column::Status.eq(s.status))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict(
            refusal(to, to).unwrap_or("error.statement_issued_already"),
        ));
    }
    let after = statement::Entity::find_by_id(s.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let evidence = |m: &statement::Model| {
        json!({
            "status": m.status, "contract_no": m.contract_no, "contract_date": m.contract_date,
            "invoice_no": m.invoice_no, "payment_ref": m.payment_ref,
        })
    };
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: match to {
                StatementStatus::Issued => "statement.issued",
                StatementStatus::Paid => "statement.paid",
                StatementStatus::Claimed => "statement.claimed",
                StatementStatus::Reimbursed => "statement.reimbursed",
                StatementStatus::Draft => "statement.drafted",
            },
            entity_type: "statement",
            entity_id: s.id.to_string(),
            before: Some(evidence(&before)),
            after: Some(evidence(&after)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct Named {
    #[sea_orm(nested)]
    statement: statement::Model,
    startup_name: String,
}

fn row(n: Named) -> StatementRow {
    let s = n.statement;
    StatementRow {
        id: s.id,
        startup_id: s.startup_id,
        startup: n.startup_name,
        provider: s.provider,
        period: s.period,
        revision: s.revision,
        status: s.status,
        jobs: s.jobs,
        gpu_minutes: s.gpu_minutes,
        amount_fen: s.amount_fen,
        park_fen: s.park_fen,
        subsidy_fen: s.subsidy_fen,
        own_fen: s.own_fen,
        updated_at: s.updated_at,
    }
}

/// Who reads which statements: admins all, a founder their startup's once issued (an
/// applicant without a startup yet: none, an empty list), others none (403).
async fn scope(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<Option<i64>> {
    if actor.has(Role::Admin) {
        return Ok(None);
    }
    if actor.has(Role::Applicant) {
        let startup = crate::startups::profiles::startup_of(db, actor.user_id).await?;
        // No startup has id 0.
        return Ok(Some(startup.map_or(0, |s| s.id)));
    }
    Err(AppError::Forbidden)
}

/// The statements a list selects: `status` their state, `of` a month (`YYYY-MM`), `q` part
/// of the startup's name.
fn select(query: &TableQuery, only: Option<i64>) -> AppResult<tables::Sorted<statement::Entity>> {
    let mut q = statement::Entity::find()
        .column_as(
            Expr::col((startup::Entity, startup::Column::Name)),
            "startup_name",
        )
        .inner_join(startup::Entity);
    if let Some(id) = only {
        q = q
            .filter(statement::Column::StartupId.eq(id))
            .filter(statement::Column::Status.ne(StatementStatus::Draft));
    }
    if let Some(s) = tables::state_of(&query.status, StatementStatus::ALL, "status")? {
        q = q.filter(statement::Column::Status.eq(s));
    }
    match query.of.trim() {
        "" => {}
        of => {
            let (y, m) = parse_period(of).ok_or(AppError::invalid("of", "error.filter_invalid"))?;
            q = q.filter(statement::Column::Period.eq(format!("{y:04}-{m:02}")));
        }
    }
    if let Some(pattern) = tables::search(query)? {
        let startups = Query::select()
            .column(startup::Column::Id)
            .from(startup::Entity)
            .and_where(tables::like(
                Expr::col((startup::Entity, startup::Column::Name)),
                &pattern,
            ))
            .to_owned();
        q = q.filter(statement::Column::StartupId.in_subquery(startups));
    }
    let (_, order) = tables::sort(query, STATEMENT_COLUMNS)?;
    let id = Expr::col((statement::Entity, statement::Column::Id));
    Ok(tables::order(q, id.clone(), id, order))
}

/// One page of statements (one query): admins see every one, a founder their startup's.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<StatementRow>> {
    let only = scope(db, actor).await?;
    let page = tables::page_as::<_, Named>(db, select(query, only)?, query).await?;
    Ok(page.map(row))
}

/// Fen as yuan for a spreadsheet: `1234.50`.
pub(crate) fn plain_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// Every statement the view selects (up to the export limit), as CSV in yuan.
pub async fn list_csv(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<String> {
    let only = scope(db, actor).await?;
    let yuan = plain_yuan;
    let mut out = crate::csv::line([
        "id",
        "period",
        "revision",
        "startup_id",
        "startup",
        "provider",
        "status",
        "jobs",
        "gpu_hours",
        "amount_yuan",
        "park_credit_yuan",
        "subsidy_yuan",
        "own_yuan",
    ]);
    let mut batches = tables::Batches::new(select(query, only)?);
    while let Some(batch) = batches.next_as::<Named>(db).await? {
        for s in batch.into_iter().map(row) {
            out.push_str(&crate::csv::line([
                s.id.to_string(),
                s.period,
                s.revision.to_string(),
                s.startup_id.to_string(),
                s.startup,
                s.provider,
                s.status.to_string(),
                s.jobs.to_string(),
                format!("{:.2}", s.gpu_minutes as f64 / 60.0),
                yuan(s.amount_fen),
                yuan(s.park_fen),
                yuan(s.subsidy_fen),
                yuan(s.own_fen),
            ]));
        }
    }
    Ok(out)
}

/// A statement with its lines, subsidies and steps, for whoever may read it.
pub async fn detail(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<StatementDetail> {
    let only = scope(db, actor).await?;
    let (s, st) = statement::Entity::find_by_id(id)
        .find_also_related(startup::Entity)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if only.is_some_and(|o| o != s.startup_id || s.status == StatementStatus::Draft) {
        return Err(AppError::NotFound);
    }
    let st = st.ok_or(AppError::NotFound)?;
    let lines = statement_line::Entity::find()
        .filter(statement_line::Column::StatementId.eq(s.id))
        .find_also_related(charge::Entity)
        .order_by_asc(statement_line::Column::Id)
        .all(db)
        .await?;
    let resources: HashMap<i64, resource::Model> = resource::Entity::find()
        .filter(
            resource::Column::Id.is_in(
                lines
                    .iter()
                    .filter_map(|(_, c)| c.as_ref().map(|c| c.resource_id)),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let subsidies = statement_subsidy::Entity::find()
        .filter(statement_subsidy::Column::StatementId.eq(s.id))
        .find_also_related(programme::Entity)
        .all(db)
        .await?;
    let corrected_by: Option<i64> = statement::Entity::find()
        .select_only()
        .column(statement::Column::Id)
        .filter(statement::Column::CorrectsId.eq(s.id))
        .into_tuple()
        .one(db)
        .await?;
    let people = users_by_id(
        db,
        [
            s.created_by,
            s.issued_by,
            s.paid_by,
            s.claimed_by,
            s.reimbursed_by,
        ]
        .into_iter()
        .flatten(),
    )
    .await?;
    let name = |id: Option<i64>| {
        id.and_then(|i| people.get(&i))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let steps = [
        (StatementStatus::Draft, s.created_by, Some(s.created_at)),
        (StatementStatus::Issued, s.issued_by, s.issued_at),
        (StatementStatus::Paid, s.paid_by, s.paid_at),
        (StatementStatus::Claimed, s.claimed_by, s.claimed_at),
        (
            StatementStatus::Reimbursed,
            s.reimbursed_by,
            s.reimbursed_at,
        ),
    ]
    .into_iter()
    .filter_map(|(status, by, at)| {
        at.map(|at| StatementStep {
            status,
            by: name(by),
            at,
        })
    })
    .collect();
    let provider_code = resources
        .values()
        .find_map(|r| r.provider_credit_code.clone());
    Ok(StatementDetail {
        startup_credit_code: st.credit_code.clone(),
        provider_credit_code: provider_code,
        corrects: s.corrects_id,
        corrected_by,
        contract_no: s.contract_no.clone(),
        contract_date: s.contract_date,
        invoice_no: s.invoice_no.clone(),
        payment_ref: s.payment_ref.clone(),
        subsidies: subsidies
            .into_iter()
            .filter_map(|(x, p)| {
                let p = p?;
                Some(StatementSubsidy {
                    programme_id: p.id,
                    programme_en: p.name_en,
                    programme_zh: p.name_zh,
                    amount_fen: x.amount_fen,
                })
            })
            .collect(),
        lines: lines
            .into_iter()
            .filter_map(|(l, c)| {
                let c = c?;
                Some(StatementLine {
                    job_ref: c.job_ref,
                    resource: resources
                        .get(&c.resource_id)
                        .map(|r| r.name.clone())
                        .unwrap_or_default(),
                    ended_at: c.ended_at,
                    gpu_minutes: c.gpu_minutes,
                    fen_per_gpu_hour: c.fen_per_gpu_hour,
                    amount_fen: c.amount_fen,
                    park_fen: l.park_fen,
                    subsidy_fen: l.subsidy_fen,
                    own_fen: l.own_fen,
                })
            })
            .collect(),
        steps,
        can_manage: actor.has(Role::Admin),
        statement: row(Named {
            statement: s,
            startup_name: st.name,
        }),
    })
}

/// A statement's jobs as CSV: what a sponsor checks a claim against.
pub async fn csv(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<String> {
    let d = detail(db, actor, id).await?;
    let times = crate::csv::Times(actor.zone);
    let ended = times.header("ended");
    let yuan = plain_yuan;
    let mut out = crate::csv::line([
        "statement",
        "period",
        "startup",
        "provider",
        "job",
        "resource",
        ended.as_str(),
        "gpu_hours",
        "yuan_per_gpu_hour",
        "amount_yuan",
        "park_credit_yuan",
        "subsidy_yuan",
        "own_yuan",
    ]);
    for l in &d.lines {
        out.push_str(&crate::csv::line([
            d.statement.id.to_string(),
            d.statement.period.clone(),
            d.statement.startup.clone(),
            d.statement.provider.clone(),
            l.job_ref.clone(),
            l.resource.clone(),
            times.cell(l.ended_at),
            format!("{:.2}", l.gpu_minutes as f64 / 60.0),
            l.fen_per_gpu_hour.map(yuan).unwrap_or_default(),
            yuan(l.amount_fen),
            yuan(l.park_fen),
            yuan(l.subsidy_fen),
            yuan(l.own_fen),
        ]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatementStatus::*;

    #[test]
    fn a_statement_moves_only_to_the_next_state_and_says_why_not() {
        assert_eq!(refusal(Draft, Issued), None);
        assert_eq!(refusal(Issued, Paid), None);
        assert_eq!(refusal(Paid, Claimed), None);
        assert_eq!(refusal(Claimed, Reimbursed), None);
        assert_eq!(
            refusal(Issued, Issued),
            Some("error.statement_issued_already")
        );
        assert_eq!(
            refusal(Paid, Issued),
            Some("error.statement_issued_already")
        );
        assert_eq!(refusal(Draft, Paid), Some("error.statement_not_issued"));
        assert_eq!(refusal(Issued, Claimed), Some("error.statement_not_paid"));
        assert_eq!(refusal(Draft, Claimed), Some("error.statement_not_paid"));
        assert_eq!(
            refusal(Claimed, Claimed),
            Some("error.statement_claimed_already")
        );
        assert_eq!(
            refusal(Paid, Reimbursed),
            Some("error.statement_not_claimed")
        );
        assert_eq!(
            refusal(Reimbursed, Reimbursed),
            Some("error.statement_reimbursed_already")
        );
    }

    #[test]
    fn a_month_is_checked_and_never_in_the_future() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 15).unwrap();
        assert_eq!(checked_period("2027-03", today), Ok("2027-03".into()));
        assert_eq!(checked_period("2026-12", today), Ok("2026-12".into()));
        assert_eq!(
            checked_period("2027-04", today),
            Err(AppError::invalid("period", "error.period_future"))
        );
        assert_eq!(
            checked_period("March", today),
            Err(AppError::invalid("period", "error.period_invalid"))
        );
    }
}
