//! The annual report for the programme's sponsors, in the shape of the Torch centre's
//! incubator statistics: a year's firms, jobs, financing, services and training, for the
//! whole park and per firm. Each figure comes from aggregate queries over the year (a dozen in
//! all, whatever the number of firms); days and years are the park's.
use super::sponsor::{ProgrammeYear, ReportFirm, SponsorReport};
use crate::access::Actor;
use crate::cohorts::entity::{attendance, certificate, enrolment, session};
use crate::credits::entity::ledger;
use crate::error::{AppError, AppResult};
use crate::intake::entity::application;
use crate::settlement::entity::{programme, statement, statement_subsidy};
use crate::startups::entity::{financing, mentor, startup};
use crate::time::Zone;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QuerySelect, QueryTrait, Statement,
};
use std::collections::{HashMap, HashSet};
use wire::auth::Role;
use wire::credits::LedgerKind;
use wire::intake::ApplicationStatus;
use wire::settlement::statements::StatementStatus;
use wire::startups::incubation::StartupStatus;

/// A firm counts as young for this many years after it was registered.
pub const YOUNG_YEARS: u32 = 3;

/// The year a report is asked for: empty means the park's last full year; from 2000 to the
/// park's current year.
pub fn parse_year(text: &str, park: Zone) -> AppResult<i32> {
    let this_year = park.today().year();
    match text.trim() {
        "" => Ok(this_year - 1),
        t => t
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=this_year).contains(y))
            .ok_or_else(|| AppError::invalid("year", "sponsor.error_year")),
    }
}

/// The year's bounds: its first and last days, and the instants they begin and end at.
struct Year {
    first: NaiveDate,
    last: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Year {
    fn of(year: i32, park: Zone) -> AppResult<Self> {
        let day = |y: i32| {
            NaiveDate::from_ymd_opt(y, 1, 1)
                .ok_or_else(|| AppError::invalid("year", "sponsor.error_year"))
        };
        let (first, next) = (day(year)?, day(year + 1)?);
        Ok(Year {
            first,
            last: next.pred_opt().unwrap_or(next),
            start: park.start_of_day(first),
            end: park.start_of_day(next),
        })
    }
}

/// SUM of a bigint, cast back so both databases answer an i64.
fn sum(col: impl sea_orm::sea_query::IntoColumnRef) -> sea_orm::sea_query::SimpleExpr {
    crate::settlement::claims::sum(col)
}

/// Each firm's latest headcount on or before `day` (one query; the unique index on
/// (startup, day) finds each latest).
async fn headcounts_on(
    db: &impl ConnectionTrait,
    day: NaiveDate,
) -> AppResult<HashMap<i64, (NaiveDate, i64)>> {
    let backend = db.get_database_backend();
    let slot = super::overview::slot(backend, 1);
    let sql = format!(
        "SELECT h.startup_id, h.employees, h.as_of FROM headcounts h \
         WHERE h.as_of = (SELECT MAX(h2.as_of) FROM headcounts h2 \
         WHERE h2.startup_id = h.startup_id AND h2.as_of <= {slot})"
    );
    #[derive(FromQueryResult)]
    struct Row {
        startup_id: i64,
        employees: i32,
        as_of: NaiveDate,
    }
    let rows = Row::find_by_statement(Statement::from_sql_and_values(backend, sql, [day.into()]))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.startup_id, (r.as_of, i64::from(r.employees))))
        .collect())
}

/// The statements billed for the year's months: issued or later, not replaced by a correction.
fn billed(year: i32) -> sea_orm::Condition {
    let replaced = Query::select()
        .column(statement::Column::CorrectsId)
        .from(statement::Entity)
        .and_where(Expr::col(statement::Column::CorrectsId).is_not_null())
        .to_owned();
    sea_orm::Condition::all()
        .add(statement::Column::Period.like(format!("{year}-%")))
        .add(statement::Column::Status.ne(StatementStatus::Draft))
        .add(statement::Column::Id.not_in_subquery(replaced))
}

/// The year's report and its firms, for admins.
pub async fn report(
    db: &DatabaseConnection,
    actor: &Actor,
    park: Zone,
    year: i32,
) -> AppResult<(SponsorReport, Vec<ReportFirm>)> {
    actor.require(Role::Admin)?;
    let y = Year::of(year, park)?;
    let firms = firms_of(db, park, &y).await?;
    let ids: HashSet<i64> = firms.iter().map(|f| f.startup_id).collect();
    let mut r = SponsorReport {
        year,
        zone: park.name().to_string(),
        as_of: Some(Utc::now()),
        firms: firms.len() as i64,
        ..Default::default()
    };
    for f in &firms {
        let ended = f.ended_on.is_some_and(|d| d <= y.last);
        r.incubating_at_end += i64::from(!ended);
        r.admitted += i64::from(f.admitted_on >= y.first);
        if ended {
            r.graduated += i64::from(f.status == StartupStatus::Graduated);
            r.exited += i64::from(f.status == StartupStatus::Exited);
        }
        r.young_firms += i64::from(
            f.founded_on
                .is_some_and(|d| y.last.years_since(d).unwrap_or(0) < YOUNG_YEARS),
        );
        if let Some(n) = f.employees {
            r.headcount_firms += 1;
            r.employees += n;
        }
        r.jobs_created += f.jobs_created.unwrap_or(0);
        r.financed_firms += i64::from(f.rounds > 0);
        r.rounds += f.rounds;
        r.financing_fen += f.financing_fen;
        r.gpu_minutes_consumed += f.gpu_minutes;
    }
    r.graduated_total = startup::Entity::find()
        .filter(startup::Column::Status.eq(StartupStatus::Graduated))
        .filter(startup::Column::EndedAt.lt(y.end))
        .count(db)
        .await? as i64;
    let granted: Option<i64> = ledger::Entity::find()
        .select_only()
        .expr(sum(ledger::Column::Minutes))
        .filter(ledger::Column::Kind.is_in([
            LedgerKind::Granted,
            LedgerKind::TrancheReleased,
            LedgerKind::Adjusted,
        ]))
        .filter(ledger::Column::CreatedAt.gte(y.start))
        .filter(ledger::Column::CreatedAt.lt(y.end))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    r.gpu_minutes_granted = granted.unwrap_or(0);
    let bills: Option<[Option<i64>; 4]> = statement::Entity::find()
        .select_only()
        .expr(sum(statement::Column::AmountFen))
        .expr(sum(statement::Column::ParkFen))
        .expr(sum(statement::Column::SubsidyFen))
        .expr(sum(statement::Column::OwnFen))
        .filter(billed(year))
        .into_tuple::<(Option<i64>, Option<i64>, Option<i64>, Option<i64>)>()
        .one(db)
        .await?
        .map(|(a, b, c, d)| [a, b, c, d]);
    if let Some([amount, park_fen, subsidy, own]) = bills {
        r.compute_fen = amount.unwrap_or(0);
        r.park_fen = park_fen.unwrap_or(0);
        r.subsidy_fen = subsidy.unwrap_or(0);
        r.own_fen = own.unwrap_or(0);
    }
    r.programmes = programmes_of(db, year).await?;
    let mentors: Vec<(i64, i64)> = mentor::Entity::find()
        .select_only()
        .column(mentor::Column::StartupId)
        .column(mentor::Column::UserId)
        .filter(mentor::Column::AssignedAt.lt(y.end))
        .into_tuple()
        .all(db)
        .await?;
    r.mentors = mentors
        .into_iter()
        .filter(|(s, _)| ids.contains(s))
        .map(|(_, u)| u)
        .collect::<HashSet<_>>()
        .len() as i64;
    training(db, &y, &mut r).await?;
    Ok((r, firms))
}

/// What each programme paid on the year's bills, and on how many firms.
async fn programmes_of(db: &DatabaseConnection, year: i32) -> AppResult<Vec<ProgrammeYear>> {
    let paid: Vec<(i64, Option<i64>, i64)> = statement_subsidy::Entity::find()
        .select_only()
        .column(statement_subsidy::Column::ProgrammeId)
        .expr(sum((
            statement_subsidy::Entity,
            statement_subsidy::Column::AmountFen,
        )))
        .expr(Expr::col((statement::Entity, statement::Column::StartupId)).count_distinct())
        .inner_join(statement::Entity)
        .filter(billed(year))
        .group_by(statement_subsidy::Column::ProgrammeId)
        .into_tuple()
        .all(db)
        .await?;
    let programmes = programme::Entity::find()
        .filter(programme::Column::Id.is_in(paid.iter().map(|p| p.0)))
        .all(db)
        .await?;
    let mut out: Vec<ProgrammeYear> = programmes
        .into_iter()
        .map(|p| {
            let (fen, firms) = paid
                .iter()
                .find(|x| x.0 == p.id)
                .map(|x| (x.1.unwrap_or(0), x.2))
                .unwrap_or_default();
            ProgrammeYear {
                programme_id: p.id,
                name_en: p.name_en,
                name_zh: p.name_zh,
                sponsor: p.sponsor,
                subsidy_fen: fen,
                firms,
            }
        })
        .collect();
    out.sort_by_key(|p| (std::cmp::Reverse(p.subsidy_fen), p.programme_id));
    Ok(out)
}

/// The year's training: sessions held, who attended, who completed, certificates.
async fn training(db: &DatabaseConnection, y: &Year, r: &mut SponsorReport) -> AppResult<()> {
    let held: Vec<(i64, i64)> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .column(session::Column::CohortId)
        .filter(session::Column::StartsAt.gte(y.start))
        .filter(session::Column::StartsAt.lt(y.end))
        .into_tuple()
        .all(db)
        .await?;
    r.sessions = held.len() as i64;
    r.cohorts = held.iter().map(|h| h.1).collect::<HashSet<_>>().len() as i64;
    let in_year = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::StartsAt.gte(y.start))
        .filter(session::Column::StartsAt.lt(y.end))
        .into_query();
    r.trainees = attendance::Entity::find()
        .select_only()
        .column(attendance::Column::UserId)
        .distinct()
        .filter(attendance::Column::Present.eq(true))
        .filter(attendance::Column::SessionId.in_subquery(in_year))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .len() as i64;
    r.completed = enrolment::Entity::find()
        .select_only()
        .column(enrolment::Column::UserId)
        .distinct()
        .filter(enrolment::Column::CompletedAt.gte(y.start))
        .filter(enrolment::Column::CompletedAt.lt(y.end))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .len() as i64;
    r.certificates = certificate::Entity::find()
        .filter(certificate::Column::IssuedAt.gte(y.start))
        .filter(certificate::Column::IssuedAt.lt(y.end))
        .count(db)
        .await? as i64;
    Ok(())
}

type FirmRow = (
    i64,
    String,
    Option<String>,
    StartupStatus,
    Option<NaiveDate>,
    i32,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The firms in incubation at some time in the year (admitted before it ended, not ended
/// before it began), by name, each with its figures.
async fn firms_of(db: &DatabaseConnection, park: Zone, y: &Year) -> AppResult<Vec<ReportFirm>> {
    let rows: Vec<FirmRow> = startup::Entity::find()
        .select_only()
        .columns([
            startup::Column::Id,
            startup::Column::Name,
            startup::Column::CreditCode,
            startup::Column::Status,
            startup::Column::FoundedOn,
            startup::Column::TeamSize,
            startup::Column::CreatedAt,
            startup::Column::EndedAt,
        ])
        .filter(startup::Column::Status.ne(StartupStatus::Applicant))
        .filter(startup::Column::CreatedAt.lt(y.end))
        .filter(
            sea_orm::Condition::any()
                .add(startup::Column::EndedAt.is_null())
                .add(startup::Column::EndedAt.gte(y.start)),
        )
        .into_tuple()
        .all(db)
        .await?;
    // Admitted when its first application was accepted; one an admin added, when added.
    let admitted: HashMap<i64, Option<DateTime<Utc>>> = application::Entity::find()
        .select_only()
        .column(application::Column::StartupId)
        .column_as(application::Column::DecidedAt.min(), "decided")
        .filter(application::Column::Status.eq(ApplicationStatus::Accepted))
        .group_by(application::Column::StartupId)
        .into_tuple::<(i64, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let at_end = headcounts_on(db, y.last).await?;
    let before = headcounts_on(db, y.first.pred_opt().unwrap_or(y.first)).await?;
    let rounds: HashMap<i64, (i64, i64)> = financing::Entity::find()
        .select_only()
        .column(financing::Column::StartupId)
        .expr(Expr::col(financing::Column::Id).count())
        .expr(sum(financing::Column::AmountFen))
        .filter(financing::Column::ClosedOn.gte(y.first))
        .filter(financing::Column::ClosedOn.lte(y.last))
        .group_by(financing::Column::StartupId)
        .into_tuple::<(i64, i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(s, n, fen)| (s, (n, fen.unwrap_or(0))))
        .collect();
    let used: HashMap<i64, i64> = ledger::Entity::find()
        .select_only()
        .column(ledger::Column::StartupId)
        .expr(sum(ledger::Column::Minutes))
        .filter(ledger::Column::Kind.eq(LedgerKind::Consumed))
        .filter(ledger::Column::CreatedAt.gte(y.start))
        .filter(ledger::Column::CreatedAt.lt(y.end))
        .group_by(ledger::Column::StartupId)
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(s, m)| (s, -m.unwrap_or(0)))
        .collect();
    let bills: HashMap<i64, (i64, i64)> = statement::Entity::find()
        .select_only()
        .column(statement::Column::StartupId)
        .expr(sum(statement::Column::AmountFen))
        .expr(sum(statement::Column::SubsidyFen))
        .filter(billed(y.first.year()))
        .group_by(statement::Column::StartupId)
        .into_tuple::<(i64, Option<i64>, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(s, a, b)| (s, (a.unwrap_or(0), b.unwrap_or(0))))
        .collect();
    let mut firms: Vec<ReportFirm> = rows
        .into_iter()
        .filter_map(
            |(id, name, credit_code, status, founded_on, team, created, ended)| {
                let admitted_at = admitted.get(&id).copied().flatten().unwrap_or(created);
                if admitted_at >= y.end {
                    return None;
                }
                let employees = at_end.get(&id).map(|c| c.1);
                // Jobs created: the year-end count against the last one before the year, or
                // against the team the firm declared when it applied.
                let jobs_created = at_end
                    .get(&id)
                    .filter(|(day, _)| *day >= y.first)
                    .map(|(_, n)| n - before.get(&id).map(|b| b.1).unwrap_or(i64::from(team)));
                let (rounds, financing_fen) = rounds.get(&id).copied().unwrap_or_default();
                let (compute_fen, subsidy_fen) = bills.get(&id).copied().unwrap_or_default();
                Some(ReportFirm {
                    startup_id: id,
                    name,
                    credit_code,
                    status,
                    founded_on,
                    admitted_on: park.date(&admitted_at),
                    ended_on: ended.map(|t| park.date(&t)),
                    employees,
                    jobs_created,
                    rounds,
                    financing_fen,
                    gpu_minutes: used.get(&id).copied().unwrap_or(0),
                    compute_fen,
                    subsidy_fen,
                })
            },
        )
        .collect();
    firms.sort_by(|a, b| a.name.cmp(&b.name).then(a.startup_id.cmp(&b.startup_id)));
    Ok(firms)
}

/// GPU-minutes as GPU-hours for a spreadsheet: `1234.50`.
fn plain_hours(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let hundredths = (minutes.unsigned_abs() * 100 + 30) / 60;
    format!("{sign}{}.{:02}", hundredths / 100, hundredths % 100)
}

/// The report's figures as CSV: one row per figure (money in yuan, GPU time in hours).
pub fn summary_csv(r: &SponsorReport, locale: crate::i18n::Locale) -> String {
    let hours = plain_hours;
    let yuan = crate::settlement::statements::plain_yuan;
    let mut out = crate::csv::line(["figure", "value", "year"]);
    let year = r.year.to_string();
    let mut row = |label: String, value: String| {
        out.push_str(&crate::csv::line([
            label.as_str(),
            value.as_str(),
            year.as_str(),
        ]));
    };
    for (_, key, value) in super::sponsor::figures(r) {
        let value = match value {
            super::sponsor::Figure::Count(n) => n.to_string(),
            super::sponsor::Figure::Fen(f) => yuan(f),
            super::sponsor::Figure::Minutes(m) => hours(m),
        };
        row(locale.t(key), value);
    }
    for p in &r.programmes {
        let name = match locale {
            crate::i18n::Locale::ZhCn => &p.name_zh,
            _ => &p.name_en,
        };
        row(
            locale.t_with("sponsor.programme_paid", &[("programme", name)]),
            yuan(p.subsidy_fen),
        );
    }
    out
}

/// The firms as CSV, one row each.
pub fn firms_csv(firms: &[ReportFirm], year: i32) -> String {
    let yuan = crate::settlement::statements::plain_yuan;
    let mut out = crate::csv::line([
        "year",
        "startup_id",
        "name",
        "credit_code",
        "status",
        "founded_on",
        "admitted_on",
        "ended_on",
        "employees_at_year_end",
        "jobs_created",
        "financing_rounds",
        "financing_yuan",
        "gpu_hours_used",
        "compute_yuan",
        "subsidy_yuan",
    ]);
    let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let count = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    for f in firms {
        out.push_str(&crate::csv::line([
            year.to_string().as_str(),
            f.startup_id.to_string().as_str(),
            f.name.as_str(),
            f.credit_code.as_deref().unwrap_or(""),
            f.status.as_str(),
            day(f.founded_on).as_str(),
            f.admitted_on.to_string().as_str(),
            day(f.ended_on).as_str(),
            count(f.employees).as_str(),
            count(f.jobs_created).as_str(),
            f.rounds.to_string().as_str(),
            yuan(f.financing_fen).as_str(),
            plain_hours(f.gpu_minutes).as_str(),
            yuan(f.compute_fen).as_str(),
            yuan(f.subsidy_fen).as_str(),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_for_a_spreadsheet() {
        assert_eq!(plain_hours(660), "11.00");
        assert_eq!(plain_hours(61), "1.02");
        assert_eq!(plain_hours(-90), "-1.50");
        assert_eq!(plain_hours(6_000_000), "100000.00");
    }

    #[test]
    fn a_year_is_from_2000_to_this_one_and_defaults_to_the_last() {
        let park = Zone::default();
        let this = park.today().year();
        assert_eq!(parse_year("", park).unwrap(), this - 1);
        assert_eq!(parse_year(" 2026 ", park).unwrap(), 2026);
        for bad in ["1999", "abc", &(this + 1).to_string(), "2026.5"] {
            assert!(parse_year(bad, park).is_err(), "{bad}");
        }
    }
}
