//! Usage import: finished jobs come back from the cluster as `consumed` ledger entries,
//! idempotent per job, for every startup holding grants on a resource.
use super::entity::{grant, ledger, resource};
use crate::cluster::allocation::account_name;
use crate::cluster::backend::{AllocationBackend, Backend};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// How far back each pass reaches before the newest job already imported: slurmdbd may record a
/// job's end a little after it happened, and a window that overlaps costs nothing (the import
/// is idempotent per job).
const WINDOW_OVERLAP: Duration = Duration::hours(1);

/// Where an account's next import window starts: the end of the newest job imported for the
/// startup on the resource (its ledger entry is dated by it), less the overlap; None (the
/// whole history) before the first.
async fn window_start(
    db: &DatabaseConnection,
    resource_id: i64,
    startup_id: i64,
) -> AppResult<Option<DateTime<Utc>>> {
    let newest: Option<DateTime<Utc>> = ledger::Entity::find()
        .select_only()
        .column(ledger::Column::CreatedAt)
        .filter(ledger::Column::ResourceId.eq(resource_id))
        .filter(ledger::Column::StartupId.eq(startup_id))
        .filter(ledger::Column::Kind.eq(super::LedgerKind::Consumed))
        .filter(ledger::Column::ExternalRef.is_not_null())
        .order_by_desc(ledger::Column::CreatedAt)
        .into_tuple()
        .one(db)
        .await?;
    Ok(window_from(newest))
}

/// The start of an import window, from the end of the newest job already imported.
fn window_from(newest: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    newest.map(|t| t - WINDOW_OVERLAP)
}

/// How a finished job's GPU-minutes are taken from a startup's grants on a resource (those
/// valid from before the job ended): the grants still valid when it ended first, the park's
/// credit before hours the startup bought, each soonest to expire first, then those already
/// ended; each gives at most what it still holds, and what
/// exceeds them all stays on the last one (its balance goes negative: the cluster let the job
/// run). Returns the grants that give something, in that order, with their minutes.
pub fn spill_over(
    mut grants: Vec<grant::Model>,
    ended_at: DateTime<Utc>,
    gpu_minutes: i64,
) -> Vec<(grant::Model, i64)> {
    if gpu_minutes <= 0 {
        return Vec::new();
    }
    grants.sort_by_key(|g| {
        (
            g.valid_until < ended_at,
            g.funding != wire::credits::GrantFunding::Park,
            g.valid_until,
        )
    });
    let mut left = gpu_minutes;
    let last = grants.len().saturating_sub(1);
    let mut out = Vec::new();
    for (i, g) in grants.into_iter().enumerate() {
        if left == 0 {
            break;
        }
        let take = if i == last {
            left
        } else {
            Ord::min(left, Ord::max(g.remaining_minutes(), 0))
        };
        if take == 0 {
            continue;
        }
        left -= take;
        out.push((g, take));
    }
    out
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub jobs_seen: usize,
    pub imported: usize,
}

/// Imports the finished jobs of every account on one resource. A cluster that cannot be
/// reached is reported, and the next pass tries again: nothing is lost, nothing counted twice.
pub async fn import(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    resource_id: i64,
) -> AppResult<ImportOutcome> {
    let r = resource::Entity::find_by_id(resource_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let backend = Backend::for_resource(&r).map_err(|e| {
        tracing::warn!(resource = r.id, error = %e, "usage import: bad resource settings");
        AppError::conflict("error.cluster_unreachable")
    })?;
    let startups: Vec<i64> = grant::Entity::find()
        .select_only()
        .column(grant::Column::StartupId)
        .distinct()
        .filter(grant::Column::ResourceId.eq(r.id))
        .into_tuple()
        .all(db)
        .await?;
    let mut outcome = ImportOutcome::default();
    for startup_id in startups {
        let account = account_name(&r, startup_id);
        let since = window_start(db, r.id, startup_id).await?;
        let jobs = backend.usage(&account, since).await.map_err(|e| {
            tracing::warn!(resource = r.id, account, error = %e, "usage import failed");
            AppError::conflict("error.cluster_unreachable")
        })?;
        // Jobs come back every pass; those already in the ledger are skipped with one query
        // per account rather than one transaction per job.
        let known: std::collections::HashSet<String> = ledger::Entity::find()
            .select_only()
            .column(ledger::Column::ExternalRef)
            .filter(ledger::Column::ResourceId.eq(r.id))
            .filter(ledger::Column::ExternalRef.is_in(jobs.iter().map(|j| j.job_ref.clone())))
            .into_tuple::<Option<String>>()
            .all(db)
            .await?
            .into_iter()
            .flatten()
            .collect();
        outcome.jobs_seen += jobs.len();
        for job in jobs.into_iter().filter(|j| !known.contains(&j.job_ref)) {
            if super::grants::record_usage(
                db,
                settings,
                startup_id,
                r.id,
                &job.job_ref,
                job.gpu_minutes,
                job.ended_at,
            )
            .await?
            {
                outcome.imported += 1;
            }
        }
    }
    Ok(outcome)
}

/// Imports usage from every resource; failures are logged and left for the next pass.
pub async fn import_all(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
) -> AppResult<ImportOutcome> {
    let ids: Vec<i64> = resource::Entity::find()
        .select_only()
        .column(resource::Column::Id)
        .filter(resource::Column::Backend.ne(wire::credits::BackendKind::TrackOnly))
        .into_tuple()
        .all(db)
        .await?;
    let mut total = ImportOutcome::default();
    for id in ids {
        match import(db, settings, id).await {
            Ok(o) => {
                total.jobs_seen += o.jobs_seen;
                total.imported += o.imported;
            }
            Err(e) => tracing::warn!(resource = id, error = ?e, "usage import skipped"),
        }
    }
    Ok(total)
}

/// One finished job as a cluster pushes it (the API's usage ingestion).
#[derive(Clone, Debug)]
pub struct UsageReport {
    pub resource_id: i64,
    pub startup_id: i64,
    /// The cluster's job id: a job is counted once per resource, pushed or pulled.
    pub job_id: String,
    pub gpu_minutes: i64,
    pub ended_at: chrono::DateTime<chrono::Utc>,
}

/// What became of a pushed job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ingested {
    Recorded,
    /// Already in the ledger (pushed twice, or imported): nothing changed.
    Duplicate,
    /// The startup holds no grant on the resource valid when the job ended.
    NoGrant,
}

/// The checks of a pushed job that need no database: its job id (trimmed, returned), between
/// 1 and a billion GPU-minutes, and an end no later than five minutes after `now` (clocks
/// drift a little).
fn check_report(report: &UsageReport, now: DateTime<Utc>) -> AppResult<&str> {
    let job = report.job_id.trim();
    if job.is_empty() || job.len() > 120 || job.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid("job_id", "error.job_id_invalid"));
    }
    if !(1..=1_000_000_000).contains(&report.gpu_minutes) {
        return Err(AppError::invalid(
            "gpu_minutes",
            "error.gpu_minutes_invalid",
        ));
    }
    if report.ended_at > now + chrono::Duration::minutes(5) {
        return Err(AppError::invalid("ended_at", "error.ended_in_future"));
    }
    Ok(job)
}

/// Records a pushed job as `consumed`, idempotent per (resource, job id). Admins only (an
/// API token acts with its issuer's roles).
pub async fn ingest(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &crate::access::Actor,
    report: &UsageReport,
) -> AppResult<Ingested> {
    actor.require(wire::auth::Role::Admin)?;
    let job = check_report(report, chrono::Utc::now())?;
    resource::Entity::find_by_id(report.resource_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("resource_id", "error.resource_unknown"))?;
    crate::startups::entity::startup::Entity::find_by_id(report.startup_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("startup_id", "error.startup_unknown"))?;
    let seen = ledger::Entity::find()
        .filter(ledger::Column::ResourceId.eq(report.resource_id))
        .filter(ledger::Column::ExternalRef.eq(job))
        .one(db)
        .await?;
    if seen.is_some() {
        return Ok(Ingested::Duplicate);
    }
    let recorded = super::grants::record_usage(
        db,
        settings,
        report.startup_id,
        report.resource_id,
        job,
        report.gpu_minutes,
        report.ended_at,
    )
    .await;
    if matches!(recorded, Ok(true)) {
        return Ok(Ingested::Recorded);
    }
    // Not recorded: another push of the same job won the race (its unique ledger reference
    // refused ours), or no grant covers the job.
    let seen = ledger::Entity::find()
        .filter(ledger::Column::ResourceId.eq(report.resource_id))
        .filter(ledger::Column::ExternalRef.eq(job))
        .one(db)
        .await?;
    match (seen, recorded) {
        (Some(_), _) => Ok(Ingested::Duplicate),
        (None, Ok(_)) => Ok(Ingested::NoGrant),
        (None, Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credits::ledger::tests::{day, grant};
    use crate::credits::GrantStatus;

    /// Who gives what: (grant id, minutes) in the order they are taken.
    fn split(grants: Vec<grant::Model>, ended_on: i64, minutes: i64) -> Vec<(i64, i64)> {
        spill_over(grants, day(ended_on), minutes)
            .into_iter()
            .map(|(g, m)| (g.id, m))
            .collect()
    }

    /// Two grants of 10 GPU-hours: #1 ends on day 10, #2 on day 20.
    fn two() -> Vec<grant::Model> {
        vec![
            grant(2, GrantStatus::Active, 600, 20),
            grant(1, GrantStatus::Active, 600, 10),
        ]
    }

    #[test]
    fn a_job_is_taken_from_the_grant_that_expires_first() {
        assert_eq!(split(two(), 5, 300), vec![(1, 300)]);
    }

    #[test]
    fn what_the_first_grant_cannot_hold_spills_onto_the_next() {
        assert_eq!(split(two(), 5, 900), vec![(1, 600), (2, 300)]);
    }

    #[test]
    fn a_job_that_empties_a_grant_exactly_touches_no_other() {
        assert_eq!(split(two(), 5, 600), vec![(1, 600)]);
    }

    #[test]
    fn use_beyond_every_grant_stays_on_the_last() {
        let taken = spill_over(two(), day(5), 1500);
        let ids: Vec<(i64, i64)> = taken.iter().map(|(g, m)| (g.id, *m)).collect();
        assert_eq!(ids, vec![(1, 600), (2, 900)]);
        // The last grant's balance goes 300 below zero.
        let (last, minutes) = &taken[1];
        assert_eq!(last.remaining_minutes() - minutes, -300);
    }

    #[test]
    fn an_empty_or_overdrawn_grant_gives_nothing() {
        let mut grants = two();
        grants[1].consumed_minutes = 600;
        assert_eq!(split(grants.clone(), 5, 300), vec![(2, 300)]);
        grants[1].consumed_minutes = 700;
        assert_eq!(split(grants, 5, 300), vec![(2, 300)]);
    }

    #[test]
    fn grants_that_had_ended_when_the_job_ended_come_last() {
        // On day 15 grant #1 has ended: #2 gives first, #1 takes only the excess.
        assert_eq!(split(two(), 15, 300), vec![(2, 300)]);
        assert_eq!(split(two(), 15, 900), vec![(2, 600), (1, 300)]);
    }

    #[test]
    fn a_grant_ending_the_moment_the_job_ends_still_counts_as_valid() {
        assert_eq!(split(two(), 10, 300), vec![(1, 300)]);
    }

    #[test]
    fn a_single_grant_takes_the_whole_job() {
        let one = vec![grant(1, GrantStatus::Active, 600, 10)];
        assert_eq!(split(one, 5, 2000), vec![(1, 2000)]);
    }

    #[test]
    fn no_use_or_no_grant_takes_nothing() {
        assert_eq!(split(two(), 5, 0), Vec::<(i64, i64)>::new());
        assert_eq!(split(two(), 5, -60), Vec::<(i64, i64)>::new());
        assert_eq!(split(Vec::new(), 5, 60), Vec::<(i64, i64)>::new());
    }

    #[test]
    fn each_import_window_reaches_an_hour_before_the_newest_job() {
        assert_eq!(window_from(None), None);
        assert_eq!(window_from(Some(day(1))), Some(day(1) - Duration::hours(1)));
    }

    fn report(job_id: &str, gpu_minutes: i64, ended_at: DateTime<Utc>) -> UsageReport {
        UsageReport {
            resource_id: 3,
            startup_id: 7,
            job_id: job_id.into(),
            gpu_minutes,
            ended_at,
        }
    }

    #[test]
    fn a_pushed_job_needs_a_plain_job_id() {
        let now = day(1);
        assert_eq!(check_report(&report(" ci:42 ", 60, now), now), Ok("ci:42"));
        let longest = "j".repeat(120);
        assert_eq!(
            check_report(&report(&longest, 60, now), now),
            Ok(longest.as_str())
        );
        let refused = Err(AppError::invalid("job_id", "error.job_id_invalid"));
        for bad in ["", "   ", "ci:4\n2", "ci:\t42"] {
            assert_eq!(check_report(&report(bad, 60, now), now), refused, "{bad:?}");
        }
        assert_eq!(
            check_report(&report(&"j".repeat(121), 60, now), now),
            refused
        );
    }

    #[test]
    fn a_pushed_job_uses_between_one_minute_and_a_billion() {
        let now = day(1);
        let refused = Err(AppError::invalid(
            "gpu_minutes",
            "error.gpu_minutes_invalid",
        ));
        for ok in [1, 1_000_000_000] {
            assert_eq!(check_report(&report("j", ok, now), now), Ok("j"), "{ok}");
        }
        for bad in [0, -60, 1_000_000_001] {
            assert_eq!(check_report(&report("j", bad, now), now), refused, "{bad}");
        }
    }

    #[test]
    fn a_pushed_job_may_end_at_most_five_minutes_ahead() {
        let now = day(1);
        let ahead = |s: i64| report("j", 60, now + Duration::seconds(s));
        assert_eq!(check_report(&ahead(-86_400), now), Ok("j"));
        assert_eq!(check_report(&ahead(300), now), Ok("j"));
        assert_eq!(
            check_report(&ahead(301), now),
            Err(AppError::invalid("ended_at", "error.ended_in_future"))
        );
    }
}
