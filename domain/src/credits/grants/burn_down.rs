//! Burn-downs: a grant's ledger sampled to a chart with a forecast of when it runs out, and a
//! startup's credit per resource as its founders and mentors see it.
use super::views::{grant_row, named, with_newest_job, Named, NewestJob};
use crate::access::Actor;
use crate::credits::entity::{grant, ledger as ledger_entity};
use crate::credits::{BurnDown, ResourceCredit, StartupCredit};
use crate::credits::{GrantStatus, LedgerKind};
use crate::error::AppResult;
use crate::startups::entity::member;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::FromQueryResult;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use wire::auth::Role;

/// How many points a burn-down chart keeps, whatever the length of the ledger.
pub(super) const CHART_POINTS: i64 = 300;

/// A grant's ledger length, as a column of a query on grants (a correlated subquery).
pub(super) fn ledger_entries_expr() -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, Func, Query};
    sea_orm::sea_query::SimpleExpr::SubQuery(
        None,
        Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(
            Query::select()
                .expr(Func::count(Expr::col((
                    ledger_entity::Entity,
                    ledger_entity::Column::Id,
                ))))
                .from(ledger_entity::Entity)
                .and_where(
                    Expr::col((ledger_entity::Entity, ledger_entity::Column::GrantId))
                        .equals((grant::Entity, grant::Column::Id)),
                )
                .to_owned(),
        )),
    )
}

/// GPU-minutes a grant's ledger consumed since `since` (negative or none), as a column of a
/// query on grants.
pub(super) fn consumed_since_expr(since: DateTime<Utc>) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Alias, Expr, Func, Query};
    sea_orm::sea_query::SimpleExpr::SubQuery(
        None,
        Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(
            Query::select()
                // SUM of a bigint is numeric on PostgreSQL: cast it back.
                .expr(Func::cast_as(
                    Func::sum(Expr::col((
                        ledger_entity::Entity,
                        ledger_entity::Column::Minutes,
                    ))),
                    Alias::new("bigint"),
                ))
                .from(ledger_entity::Entity)
                .and_where(
                    Expr::col((ledger_entity::Entity, ledger_entity::Column::GrantId))
                        .equals((grant::Entity, grant::Column::Id)),
                )
                .and_where(
                    Expr::col((ledger_entity::Entity, ledger_entity::Column::Kind))
                        .eq(LedgerKind::Consumed),
                )
                .and_where(
                    Expr::col((ledger_entity::Entity, ledger_entity::Column::CreatedAt)).gte(since),
                )
                .to_owned(),
        )),
    )
}

/// What a burn-down needs beyond the grant: its ledger's length (to sample it) and its use
/// over the last 14 days (for the forecast).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct LedgerStats {
    pub(super) entries: i64,
    pub(super) used_14d: i64,
}

pub(super) fn forecast_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::days(14)
}

/// A grant's burn-down (two queries).
pub async fn burn_down(db: &impl ConnectionTrait, g: &grant::Model) -> AppResult<BurnDown> {
    let now = Utc::now();
    let (entries, used): (i64, Option<i64>) = grant::Entity::find_by_id(g.id)
        .select_only()
        .expr_as(ledger_entries_expr(), "entries")
        .expr_as(consumed_since_expr(forecast_since(now)), "used")
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or_default();
    let stats = LedgerStats {
        entries,
        used_14d: used.unwrap_or(0),
    };
    Ok(burn_downs(db, &[(g, stats)], now).await?.remove(0))
}

/// Burn-downs of several grants: each ledger sampled to a few hundred points (every k-th
/// entry by id, plus the last), and the forecast from the last 14 days' use (one query).
pub(super) async fn burn_downs(
    db: &impl ConnectionTrait,
    grants: &[(&grant::Model, LedgerStats)],
    now: DateTime<Utc>,
) -> AppResult<Vec<BurnDown>> {
    use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, Query};
    if grants.is_empty() {
        return Ok(Vec::new());
    }
    let step_of =
        |entries: i64| Ord::max(entries.unsigned_abs().div_ceil(CHART_POINTS as u64), 1) as i64;
    let mut sampled = Condition::any().add(
        ledger_entity::Column::Id.in_subquery(
            Query::select()
                .expr(Func::max(Expr::col(ledger_entity::Column::Id)))
                .from(ledger_entity::Entity)
                .and_where(
                    Expr::col(ledger_entity::Column::GrantId)
                        .is_in(grants.iter().map(|(g, _)| g.id)),
                )
                .group_by_col(ledger_entity::Column::GrantId)
                .to_owned(),
        ),
    );
    for (g, stats) in grants {
        sampled = sampled.add(
            Expr::col(ledger_entity::Column::GrantId).eq(g.id).and(
                Expr::col(ledger_entity::Column::Id)
                    .modulo(step_of(stats.entries))
                    .eq(0),
            ),
        );
    }
    let points: Vec<(i64, DateTime<Utc>, i64, i64)> = ledger_entity::Entity::find()
        .select_only()
        .column(ledger_entity::Column::GrantId)
        .column(ledger_entity::Column::CreatedAt)
        .column(ledger_entity::Column::BalanceAfter)
        .column(ledger_entity::Column::Id)
        .filter(ledger_entity::Column::GrantId.is_in(grants.iter().map(|(g, _)| g.id)))
        .filter(sampled)
        .order_by_asc(ledger_entity::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(grants
        .iter()
        .map(|(g, stats)| {
            let mine: Vec<(DateTime<Utc>, i64)> = points
                .iter()
                .filter(|p| p.0 == g.id)
                .map(|p| (p.1, p.2))
                .collect();
            let burn_per_day = Ord::max(-stats.used_14d, 0) / 14;
            let remaining = g.remaining_minutes();
            let exhausts_at = (g.status == GrantStatus::Active)
                .then(|| exhaustion(now, remaining, burn_per_day, g.valid_until))
                .flatten();
            let peak = Ord::max(
                mine.iter().map(|p| p.1).max().unwrap_or(0),
                g.granted_minutes + Ord::max(g.adjusted_minutes, 0),
            );
            BurnDown {
                grant_id: g.id,
                points: mine,
                valid_from: g.valid_from,
                valid_until: g.valid_until,
                peak_minutes: peak,
                remaining_minutes: remaining,
                burn_per_day,
                exhausts_at,
                as_of: now,
            }
        })
        .collect())
}

/// A grant of the applicant's startup with what its page shows beside it.
#[derive(FromQueryResult)]
pub(super) struct CreditRow {
    #[sea_orm(nested)]
    pub(super) grant: grant::Model,
    pub(super) startup_name: String,
    pub(super) resource_name: String,
    pub(super) gpu_model: String,
    pub(super) ledger_entries: i64,
    pub(super) used_14d: Option<i64>,
    #[sea_orm(nested)]
    pub(super) job: NewestJob,
}

/// The signed-in applicant's own startup's credit; nobody else's (three queries).
pub async fn my_credit(db: &DatabaseConnection, actor: &Actor) -> AppResult<Option<StartupCredit>> {
    use sea_orm::QueryTrait;
    actor.require(Role::Applicant)?;
    let mine = member::Entity::find()
        .select_only()
        .column(member::Column::StartupId)
        .filter(member::Column::UserId.eq(actor.user_id))
        .into_query();
    let credit = credit_of(db, grant::Column::StartupId.in_subquery(mine)).await?;
    if credit.startup_id > 0 {
        return Ok(Some(credit));
    }
    Ok(crate::startups::profiles::startup_of(db, actor.user_id)
        .await?
        .map(|s| StartupCredit {
            startup_id: s.id,
            startup_name: s.name,
            ..credit
        }))
}

/// A startup's credit for its startup page, whose reading checked who asks (admins and the
/// startup's own mentors).
pub(crate) async fn credit_of_startup(
    db: &impl ConnectionTrait,
    startup_id: i64,
    name: &str,
) -> AppResult<StartupCredit> {
    let credit = credit_of(db, grant::Column::StartupId.eq(startup_id)).await?;
    Ok(StartupCredit {
        startup_id,
        startup_name: name.to_string(),
        ..credit
    })
}

/// The credit of the startup whose grants `which` selects (one startup's). Three queries
/// whatever the number of grants: the grants with their names, ledger figures and sync state,
/// their sampled ledgers, their tranches; the per-resource totals are computed from
/// the grants' burn-downs. Without grants, the startup's id and name are left empty.
pub(super) async fn credit_of(
    db: &impl ConnectionTrait,
    which: sea_orm::sea_query::SimpleExpr,
) -> AppResult<StartupCredit> {
    let now = Utc::now();
    let rows = with_newest_job(named())
        .expr_as(ledger_entries_expr(), "ledger_entries")
        .expr_as(consumed_since_expr(forecast_since(now)), "used_14d")
        .filter(which)
        .order_by_desc(Expr::col((grant::Entity, grant::Column::Id)))
        .into_model::<CreditRow>()
        .all(db)
        .await?;
    let (startup_id, startup_name) = rows
        .first()
        .map(|r| (r.grant.startup_id, r.startup_name.clone()))
        .unwrap_or_default();
    let with_stats: Vec<(&grant::Model, LedgerStats)> = rows
        .iter()
        .map(|r| {
            (
                &r.grant,
                LedgerStats {
                    entries: r.ledger_entries,
                    used_14d: r.used_14d.unwrap_or(0),
                },
            )
        })
        .collect();
    let burns = burn_downs(db, &with_stats, now).await?;
    let resources = by_resource(&rows, &with_stats, &burns, now);
    let ids: Vec<i64> = rows.iter().map(|r| r.grant.id).collect();
    let tranches = crate::credits::tranches::for_grants(db, &ids).await?;
    let grants = rows
        .into_iter()
        .map(|r| {
            let named = Named {
                grant: r.grant,
                startup_name: r.startup_name,
                resource_name: r.resource_name,
                gpu_model: r.gpu_model,
            };
            grant_row(named, r.job.state())
        })
        .collect();
    Ok(StartupCredit {
        startup_id,
        startup_name,
        grants,
        burns,
        resources,
        tranches,
    })
}

/// A startup's grants grouped by resource, each group's figures summed and its burn-downs
/// combined; ordered by resource name.
pub(super) fn by_resource(
    rows: &[CreditRow],
    stats: &[(&grant::Model, LedgerStats)],
    burns: &[BurnDown],
    now: DateTime<Utc>,
) -> Vec<ResourceCredit> {
    let mut ids: Vec<i64> = rows.iter().map(|r| r.grant.resource_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out: Vec<ResourceCredit> = ids
        .into_iter()
        .filter_map(|rid| {
            let at: Vec<usize> = (0..rows.len())
                .filter(|i| rows[*i].grant.resource_id == rid)
                .collect();
            let first = &rows[*at.first()?];
            let grants: Vec<(&grant::Model, LedgerStats)> = at.iter().map(|i| stats[*i]).collect();
            let their_burns: Vec<&BurnDown> = at.iter().map(|i| &burns[*i]).collect();
            Some(ResourceCredit {
                resource_id: rid,
                resource_name: first.resource_name.clone(),
                gpu_model: first.gpu_model.clone(),
                grants: at.len(),
                granted_minutes: grants
                    .iter()
                    .map(|(g, _)| g.granted_minutes + g.adjusted_minutes)
                    .sum(),
                consumed_minutes: grants.iter().map(|(g, _)| g.consumed_minutes).sum(),
                remaining_minutes: grants.iter().map(|(g, _)| g.remaining_minutes()).sum(),
                burn: combined_burn_down(&grants, &their_burns, now),
            })
        })
        .collect();
    out.sort_by(|a, b| a.resource_name.cmp(&b.resource_name));
    out
}

/// Several grants' burn-downs as one (on one resource): at each point in time, the sum of
/// every grant's latest balance; the burn rate from their summed use over the last 14 days;
/// exhaustion when the active grants' balance runs out at that rate, if before the last of
/// them ends. `burns` are the grants' own, in the same order.
pub(super) fn combined_burn_down(
    grants: &[(&grant::Model, LedgerStats)],
    burns: &[&BurnDown],
    now: DateTime<Utc>,
) -> BurnDown {
    // Merged by time, each grant's points kept in their own (ledger) order: imported usage
    // can be dated before a later entry, and a grant's last point must stay its balance.
    let mut next = vec![0_usize; burns.len()];
    let mut latest = vec![0_i64; burns.len()];
    let mut points: Vec<(DateTime<Utc>, i64)> =
        Vec::with_capacity(burns.iter().map(|b| b.points.len()).sum());
    while let Some(i) = (0..burns.len())
        .filter(|i| next[*i] < burns[*i].points.len())
        .min_by_key(|i| burns[*i].points[next[*i]].0)
    {
        let (t, m) = burns[i].points[next[i]];
        next[i] += 1;
        latest[i] = m;
        let total = latest.iter().sum();
        match points.last_mut() {
            // Changes at the same moment are one step.
            Some(last) if last.0 == t => last.1 = total,
            _ => points.push((t, total)),
        }
    }
    if points.len() > CHART_POINTS as usize {
        let step = points.len().div_ceil(CHART_POINTS as usize);
        let last = points.last().copied();
        points = points.into_iter().step_by(step).collect();
        if points.last().copied() != last {
            points.extend(last);
        }
    }
    let active: Vec<&grant::Model> = grants
        .iter()
        .map(|(g, _)| *g)
        .filter(|g| g.status == GrantStatus::Active)
        .collect();
    let usable: i64 = active
        .iter()
        .map(|g| Ord::max(g.remaining_minutes(), 0))
        .sum();
    let burn_per_day = Ord::max(-grants.iter().map(|(_, s)| s.used_14d).sum::<i64>(), 0) / 14;
    let exhausts_at = active
        .iter()
        .map(|g| g.valid_until)
        .max()
        .and_then(|ends| exhaustion(now, usable, burn_per_day, ends));
    let peak = points
        .iter()
        .map(|p| p.1)
        .chain(burns.iter().map(|b| b.peak_minutes))
        .max()
        .unwrap_or(0);
    BurnDown {
        grant_id: 0,
        points,
        valid_from: grants
            .iter()
            .map(|(g, _)| g.valid_from)
            .min()
            .unwrap_or(now),
        valid_until: grants
            .iter()
            .map(|(g, _)| g.valid_until)
            .max()
            .unwrap_or(now),
        peak_minutes: peak,
        remaining_minutes: grants.iter().map(|(g, _)| g.remaining_minutes()).sum(),
        burn_per_day,
        exhausts_at,
        as_of: now,
    }
}

/// When `remaining` GPU-minutes run out at `burn_per_day`, if that is before `ends`. None when
/// nothing burns, nothing is left, or the date lies beyond what a date can hold (a huge grant
/// barely used): such a grant does not run out in any time worth showing.
pub(super) fn exhaustion(
    now: DateTime<Utc>,
    remaining: i64,
    burn_per_day: i64,
    ends: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if burn_per_day <= 0 || remaining <= 0 {
        return None;
    }
    let minutes = remaining.checked_mul(24 * 60)? / burn_per_day;
    now.checked_add_signed(chrono::Duration::try_minutes(minutes)?)
        .filter(|t| *t < ends)
}

#[cfg(test)]
mod exhaustion_tests {
    use super::exhaustion;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn a_forecast_never_overflows() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let far = now + Duration::days(365);
        // 2,000,000 GPU-hours with 20 GPU-minutes used in 14 days: out of any date's range.
        assert_eq!(exhaustion(now, 120_000_000, 1, far), None);
        assert_eq!(exhaustion(now, i64::MAX, 1, far), None);
        assert_eq!(
            exhaustion(now, i64::MAX / 1440, 1, chrono::DateTime::<Utc>::MAX_UTC),
            None
        );
        // An ordinary grant: 1,440 minutes left at 720 a day lasts two days.
        assert_eq!(
            exhaustion(now, 1_440, 720, far),
            Some(now + Duration::days(2))
        );
        // Past the end of the grant, or nothing burning, or nothing left: no date.
        assert_eq!(exhaustion(now, 1_440, 720, now + Duration::days(1)), None);
        assert_eq!(exhaustion(now, 1_440, 0, far), None);
        assert_eq!(exhaustion(now, 0, 720, far), None);
    }
}
