//! GPU credit: the park's compute resources and, for every admitted startup, its grants with
//! months of use. Each grant's history (issue, tranches released by milestones, top-ups,
//! jobs, suspension, revocation or expiry) is replayed in time order with the rules of
//! `domain::credits::ledger::append`, so the counters, every running balance and the alerts agree
//! with what the app itself would have written. Each allocation has one applied sync job (the
//! newest, as the grant tables read it), not the whole history of superseded ones.
use super::words::{self, lang, Bi};
use super::world::{days, midnight, next_id, World};
use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use domain::credits::entity::tranche;
use domain::credits::entity::{grant, ledger, price, resource, sync_job};
use domain::credits::format_gpu_hours;
use domain::credits::{GrantStatus, LedgerKind, SyncStatus};
use domain::startups::incubation::{MilestoneStatus, StartupStatus, TrancheStatus};
use rand::Rng;

/// (name, GPU model, cluster, account pattern).
const RESOURCES: [(&str, &str, &str, &str); 3] = [
    (
        "Turing H100 partition · 图灵 H100 分区",
        "NVIDIA H100 80GB",
        "turing",
        "h100-{id}",
    ),
    (
        "Turing A800 partition · 图灵 A800 分区",
        "NVIDIA A800 80GB",
        "turing",
        "a800-{id}",
    ),
    (
        "Ascend 910B pilot pool · 昇腾 910B 试点池",
        "Ascend 910B",
        "ascend",
        "ascend-{id}",
    ),
];
const PILOT: usize = 2;

/// Usage entries the demo aims at per startup (the benchmark's 10⁶ for 10⁴ startups).
const ENTRIES_PER_STARTUP: f64 = 100.0;

/// A grant before it is replayed.
struct Plan {
    company: usize,
    resource: usize,
    created: DateTime<Utc>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    minutes: i64,
    reason: Bi,
    /// Revoked when the startup left before the grant's end.
    revoked: Option<DateTime<Utc>>,
    suspended: Option<DateTime<Utc>>,
    /// Jobs run from `from` until this.
    usage_end: DateTime<Utc>,
    /// The share of days the team runs jobs on.
    activity: f64,
    /// The share of the credit the team means to use over the whole window.
    appetite: f64,
    with_tranches: bool,
}

impl Plan {
    fn closes_at(&self) -> DateTime<Utc> {
        self.revoked.unwrap_or(self.until)
    }
}

enum Step {
    Grant,
    Release(usize),
    Adjust { minutes: i64, note: Bi, actor: i64 },
    Use { minutes: i64, gpus: i64 },
    Suspend,
    Close,
}

struct PlannedTranche {
    milestone: i64,
    minutes: i64,
    /// When its milestone was signed off as done, and by whom.
    done: Option<(DateTime<Utc>, i64)>,
    status: TrancheStatus,
    released_at: Option<DateTime<Utc>>,
}

/// The four counters the ledger keeps, as `ledger::append` moves them.
#[derive(Default)]
struct Counters {
    granted: i64,
    adjusted: i64,
    consumed: i64,
    forfeited: i64,
}

impl Counters {
    fn remaining(&self) -> i64 {
        self.granted + self.adjusted - self.consumed - self.forfeited
    }

    /// As `grant::Model::used_percent`.
    fn used_percent(&self) -> i64 {
        let total = self.granted + self.adjusted;
        if total <= 0 {
            0
        } else {
            self.consumed * 100 / total
        }
    }

    fn apply(&mut self, k: LedgerKind, minutes: i64) {
        match k {
            LedgerKind::Granted | LedgerKind::TrancheReleased => self.granted += minutes,
            LedgerKind::Adjusted => self.adjusted += minutes,
            LedgerKind::Consumed => self.consumed -= minutes,
            LedgerKind::Expired | LedgerKind::Revoked => self.forfeited -= minutes,
        }
    }
}

/// Weekends are quieter on the cluster.
fn day_weight(d: chrono::NaiveDate) -> f64 {
    match d.weekday() {
        Weekday::Sat | Weekday::Sun => 0.4,
        _ => 1.0,
    }
}

/// The reason of a grant of hours the team bought.
const BOUGHT: Bi = ("Compute hours bought by the team", "团队自购算力");

impl World {
    pub fn credit(&mut self) {
        let created = self.t0 - days(900);
        for (i, (name, gpu, cluster, pattern)) in RESOURCES.iter().enumerate() {
            self.data.resources.push(resource::Model {
                id: i as i64 + 1,
                name: (*name).into(),
                gpu_model: (*gpu).into(),
                // Nothing is pushed until an admin points the resource at a cluster.
                backend: wire::credits::BackendKind::TrackOnly,
                cluster: (*cluster).into(),
                account_pattern: (*pattern).into(),
                settings: r#"{"base_url":"","secret":""}"#.into(),
                repair_mode: wire::credits::RepairMode::Approve,
                dialect: "auto".into(),
                created_at: created,
                updated_at: created,
                // The Ascend pool is domestic compute; the park's vendor runs all three.
                domestic: i == PILOT,
                provider: "Turing Compute Co. · 图灵算力有限公司".into(),
                provider_credit_code: None,
            });
            // The price list the vendor's contract set, and its cut half a year ago: ¥/GPU-hour.
            let (opening, now) = [(2_800, 2_200), (1_900, 1_600), (1_200, 900)][i];
            for (fen, since) in [(opening, created), (now, self.t0 - days(180))] {
                let id = next_id(&self.data.prices);
                self.data.prices.push(price::Model {
                    id,
                    resource_id: i as i64 + 1,
                    fen_per_gpu_hour: fen,
                    starts_on: since.date_naive(),
                    note: "Turing Compute price list · 图灵算力价目表".into(),
                    created_by: None,
                    created_at: since,
                });
            }
        }
        let mut plans = Vec::new();
        for ci in 0..self.companies.len() {
            self.plan_grants(ci, &mut plans);
        }
        // Jobs per active day, so that the park has about ENTRIES_PER_STARTUP usage entries
        // per startup whatever the mix of rounds and residencies.
        let active_days: f64 = plans
            .iter()
            .map(|p| {
                let mut d = p.from.date_naive();
                let mut sum = 0.0;
                while midnight(d) < p.usage_end {
                    sum += day_weight(d);
                    d += days(1);
                }
                sum * p.activity
            })
            .sum();
        let wanted = ENTRIES_PER_STARTUP * self.startups_wanted as f64;
        let jobs_per_day = if active_days > 0.0 {
            (wanted / active_days).clamp(0.3, 24.0)
        } else {
            1.0
        };
        let mut by_company: Vec<Vec<i64>> = vec![Vec::new(); self.companies.len()];
        for plan in plans {
            let company = plan.company;
            let id = self.replay(plan, jobs_per_day);
            by_company[company].push(id);
        }
        self.job_refs();
        for (ci, grants) in by_company.into_iter().enumerate() {
            if !grants.is_empty() {
                self.sync_jobs(ci, &grants);
            }
        }
    }

    /// Consecutive grants through the residency (none that would start in the future), and
    /// for some a pilot grant on the domestic accelerators.
    fn plan_grants(&mut self, ci: usize, plans: &mut Vec<Plan>) {
        let t0 = self.t0;
        let Some(r) = &self.companies[ci].residency else {
            return;
        };
        let (start, hard_end, end) = (midnight(r.from), midnight(r.until), r.end);
        let left = end
            .filter(|(_, how)| *how == StartupStatus::Exited)
            .map(|(at, _)| at);
        let stop = end.map(|(at, _)| at).unwrap_or(t0);
        let mut resource = if self.chance(0.55) { 0 } else { 1 };
        let mut from = start;
        let mut first = true;
        while from < t0 && from < stop && from < hard_end {
            let length = if first && self.chance(0.3) { 365 } else { 183 };
            let until = Ord::min(from + days(length), hard_end);
            let created = if first {
                from - days(1) + Duration::hours(8)
            } else {
                // Renewals are issued in the last week of the previous grant.
                let d = self.rng.random_range(1..=7);
                self.office_hours((from - days(d)).date_naive())
            };
            let minutes = self.rng.random_range(10..=120) * 100 * 60;
            let reason = if first {
                words::GRANT_REASONS[0]
            } else {
                words::GRANT_REASONS[1]
            };
            plans.push(self.plan(
                ci, resource, created, from, until, minutes, reason, left, first,
            ));
            if self.chance(0.15) {
                resource = 1 - resource;
            }
            from = until;
            first = false;
        }
        if self.chance(0.15) {
            let from = start + days(self.rng.random_range(30..120));
            let until = Ord::min(from + days(90), hard_end);
            if from < t0 && from < stop && from < until {
                let created = self.office_hours((from - days(2)).date_naive());
                let minutes = self.rng.random_range(2..=15) * 100 * 60;
                let reason = words::GRANT_REASONS[2];
                plans.push(self.plan(
                    ci, PILOT, created, from, until, minutes, reason, left, false,
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn plan(
        &mut self,
        ci: usize,
        resource: usize,
        created: DateTime<Utc>,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        minutes: i64,
        reason: Bi,
        left: Option<DateTime<Utc>>,
        first: bool,
    ) -> Plan {
        let t0 = self.t0;
        // An admin revokes what a leaving startup still holds, an hour after it leaves.
        let revoked = left
            .map(|at| at + Duration::hours(1))
            .filter(|at| *at > from && *at < until);
        let suspended = (ci != 0 && revoked.is_none() && until > t0 && self.chance(0.05))
            .then(|| self.between(from + days(15), t0 - days(1)))
            .filter(|at| *at > from);
        let usage_end = [Some(until), revoked, suspended, Some(t0)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(t0);
        let activity = self.rng.random_range(0.45..0.95);
        let appetite = self.rng.random_range(0.45..1.05);
        let with_tranches = first && (ci == 0 || self.chance(0.25));
        Plan {
            company: ci,
            resource,
            created,
            from,
            until,
            minutes,
            reason,
            revoked,
            suspended,
            usage_end,
            activity,
            appetite,
            with_tranches,
        }
    }

    /// Tranches of a first grant, on milestones due well after it starts.
    fn plan_tranches(&mut self, p: &Plan) -> Vec<PlannedTranche> {
        let Some(r) = &self.companies[p.company].residency else {
            return Vec::new();
        };
        let candidates: Vec<i64> = r
            .milestones
            .iter()
            .copied()
            .filter(|id| {
                let m = &self.data.milestones[(id - 1) as usize];
                midnight(m.due_on) > p.from + days(30) && m.created_at < p.created
            })
            .collect();
        let count = Ord::min(candidates.len(), self.rng.random_range(1..=2));
        let mut out = Vec::new();
        for &id in candidates.iter().take(count) {
            let m = &self.data.milestones[(id - 1) as usize];
            let done = (m.status == MilestoneStatus::Done)
                .then(|| m.signed_off_at.zip(m.signed_off_by))
                .flatten();
            let minutes = (p.minutes * self.rng.random_range(10..=25) / 100 / 60).max(1) * 60;
            out.push(PlannedTranche {
                milestone: id,
                minutes,
                done,
                status: TrancheStatus::Pending,
                released_at: None,
            });
        }
        out
    }

    /// Replays one grant's history through the ledger's rules and stores the grant, its
    /// entries and its tranches. Returns the grant's id.
    fn replay(&mut self, p: Plan, jobs_per_day: f64) -> i64 {
        let t0 = self.t0;
        let gid = next_id(&self.data.grants);
        let (startup_id, zh, ended) = {
            let c = &self.companies[p.company];
            let ended = c.residency.as_ref().is_some_and(|r| r.end.is_some());
            (c.id, c.zh, ended)
        };
        let issuer = self.admin();
        let mut steps: Vec<(DateTime<Utc>, u8, Step)> = vec![(p.created, 0, Step::Grant)];

        let mut tranches = Vec::new();
        if p.with_tranches {
            tranches = self.plan_tranches(&p);
            for (i, t) in tranches.iter().enumerate() {
                if let Some((at, _)) = t.done {
                    steps.push((at, 1, Step::Release(i)));
                }
            }
        }
        if p.usage_end > p.from + days(40) && self.chance(0.15) {
            let at = self.between(p.from + days(30), p.usage_end);
            let minutes = p.minutes * self.rng.random_range(10..=40) / 100 / 60 * 60;
            let note = *words::pick(&mut self.rng, words::TOP_UPS);
            let actor = self.admin();
            steps.push((
                at,
                1,
                Step::Adjust {
                    minutes,
                    note,
                    actor,
                },
            ));
        } else if p.usage_end > p.from + days(40) && self.chance(0.03) {
            let at = self.between(p.from + days(30), p.usage_end);
            let minutes = -(p.minutes * self.rng.random_range(5..=15) / 100 / 60 * 60);
            let actor = self.admin();
            let note = words::REDUCTIONS[0];
            steps.push((
                at,
                1,
                Step::Adjust {
                    minutes,
                    note,
                    actor,
                },
            ));
        }

        // Jobs: a daily burn that would use `appetite` of the credit over the window, on the
        // days the team is active, split into several jobs of whole GPU-minutes.
        let window = Ord::max((p.until - p.from).num_days(), 1) as f64;
        let daily = p.minutes as f64 * p.appetite / window / (p.activity * 0.83);
        let mut d = p.from.date_naive();
        while midnight(d) < p.usage_end {
            if self.chance(p.activity * day_weight(d)) {
                let whole = jobs_per_day.floor() as usize;
                let jobs = whole + usize::from(self.chance(jobs_per_day - whole as f64));
                let burn = daily * self.rng.random_range(0.4..1.6);
                let shares: Vec<f64> = (0..jobs).map(|_| self.rng.random_range(0.2..1.0)).collect();
                let total: f64 = shares.iter().sum();
                for share in shares {
                    let minutes = Ord::max((burn * share / total).round() as i64, 1);
                    let gpus = *words::pick(&mut self.rng, &[1, 1, 2, 4, 8, 8, 16]);
                    let gpus = if minutes < gpus { 1 } else { gpus };
                    let latest = Ord::min(midnight(d + days(1)), p.usage_end);
                    let at = self.between(midnight(d) + Duration::minutes(30), latest);
                    if at < p.usage_end && at < t0 {
                        steps.push((at, 2, Step::Use { minutes, gpus }));
                    }
                }
            }
            d += days(1);
        }
        if let Some(at) = p.suspended {
            steps.push((at, 3, Step::Suspend));
        }
        if p.closes_at() <= t0 {
            steps.push((p.closes_at(), 4, Step::Close));
        }
        steps.sort_by_key(|(at, order, _)| (*at, *order));

        let mut c = Counters::default();
        let mut state = GrantStatus::Active;
        let mut alert_80: Option<DateTime<Utc>> = None;
        let mut alert_100: Option<DateTime<Utc>> = None;
        let mut last_change = p.created;
        for (at, _, step) in steps {
            let entry: Option<(LedgerKind, i64, String, Option<i64>)> = match step {
                Step::Grant => Some((
                    LedgerKind::Granted,
                    p.minutes,
                    lang(p.reason, zh).into(),
                    Some(issuer),
                )),
                Step::Release(i) => {
                    let t = &mut tranches[i];
                    if matches!(state, GrantStatus::Active | GrantStatus::Suspended) {
                        t.status = TrancheStatus::Released;
                        t.released_at = Some(at);
                        let title = &self.data.milestones[(t.milestone - 1) as usize].title;
                        let note = format!("{title} ({})", format_gpu_hours(t.minutes));
                        Some((
                            LedgerKind::TrancheReleased,
                            t.minutes,
                            note,
                            t.done.map(|(_, who)| who),
                        ))
                    } else {
                        None
                    }
                }
                Step::Adjust {
                    minutes,
                    note,
                    actor,
                } => {
                    let delta = Ord::max(minutes, -c.remaining().max(0));
                    (delta != 0 && state != GrantStatus::Expired && state != GrantStatus::Revoked)
                        .then(|| {
                            (
                                LedgerKind::Adjusted,
                                delta,
                                lang(note, zh).to_string(),
                                Some(actor),
                            )
                        })
                }
                Step::Use { minutes, gpus } => {
                    // The cluster stops the team at its cap: a job takes what is left.
                    let used = Ord::min(minutes, c.remaining());
                    (state == GrantStatus::Active && used > 0).then(|| {
                        self.jobs.push((self.data.ledger.len(), p.resource, gpus));
                        (LedgerKind::Consumed, -used, String::new(), None)
                    })
                }
                Step::Suspend => {
                    state = GrantStatus::Suspended;
                    last_change = at;
                    None
                }
                Step::Close => {
                    let (k, next, note, actor) = if p.revoked.is_some() {
                        let note = lang(words::REVOCATIONS[0], zh).to_string();
                        (
                            LedgerKind::Revoked,
                            GrantStatus::Revoked,
                            note,
                            Some(self.admin()),
                        )
                    } else {
                        (
                            LedgerKind::Expired,
                            GrantStatus::Expired,
                            String::new(),
                            None,
                        )
                    };
                    state = next;
                    last_change = at;
                    let remaining = c.remaining();
                    (remaining > 0).then_some((k, -remaining, note, actor))
                }
            };
            let Some((k, minutes, note, actor)) = entry else {
                continue;
            };
            c.apply(k, minutes);
            last_change = at;
            let id = next_id(&self.data.ledger);
            self.data.ledger.push(ledger::Model {
                id,
                grant_id: gid,
                startup_id,
                resource_id: p.resource as i64 + 1,
                kind: k,
                minutes,
                balance_after: c.remaining(),
                external_ref: None,
                note,
                actor_user_id: actor,
                created_at: at,
            });
            // The alerts as `grants::record_usage` and `grants::adjust` raise and re-arm them.
            let pct = c.used_percent();
            if k == LedgerKind::Consumed {
                if pct >= 100 && alert_100.is_none() {
                    alert_100 = Some(at);
                    alert_80.get_or_insert(at);
                } else if pct >= 80 && alert_80.is_none() {
                    alert_80 = Some(at);
                }
            } else if k == LedgerKind::Adjusted && pct < 100 {
                alert_100 = None;
                if pct < 80 {
                    alert_80 = None;
                }
            }
        }

        // The expiry warning goes out 14 days before the end to grants still active then.
        let warn = Ord::max(p.until - days(14), p.created);
        let active_at_warning = warn <= t0
            && p.suspended.is_none_or(|s| s > warn)
            && p.revoked.is_none_or(|r| r > warn);
        // Spread by the grant's id, so the world's other draws stay as they were.
        let bought = gid % 4 == 3;
        self.data.grants.push(grant::Model {
            id: gid,
            startup_id,
            resource_id: p.resource as i64 + 1,
            status: state,
            granted_minutes: c.granted,
            adjusted_minutes: c.adjusted,
            consumed_minutes: c.consumed,
            forfeited_minutes: c.forfeited,
            // One grant in four is hours the team bought (its jobs are on its statements).
            funding: if bought {
                domain::credits::GrantFunding::Own
            } else {
                domain::credits::GrantFunding::Park
            },
            valid_from: p.from,
            valid_until: p.until,
            reason: if bought {
                lang(BOUGHT, zh).into()
            } else {
                lang(p.reason, zh).into()
            },
            created_by: Some(issuer),
            created_at: p.created,
            updated_at: last_change,
            alerted_80_at: alert_80,
            alerted_100_at: alert_100,
            alerted_expiry_at: active_at_warning.then_some(warn),
        });
        let open = matches!(state, GrantStatus::Active | GrantStatus::Suspended);
        for t in tranches {
            let planned =
                self.data.milestones[(t.milestone - 1) as usize].status == MilestoneStatus::Planned;
            let status = if t.status == TrancheStatus::Released {
                TrancheStatus::Released
            } else if planned && open && !ended {
                TrancheStatus::Pending
            } else {
                // Missed milestones, closed grants and ended incubations cancel what waits.
                TrancheStatus::Cancelled
            };
            let id = next_id(&self.data.tranches);
            self.data.tranches.push(tranche::Model {
                id,
                grant_id: gid,
                milestone_id: t.milestone,
                minutes: t.minutes,
                status,
                released_at: t.released_at,
                created_at: p.created,
            });
        }
        gid
    }

    /// Slurm-style job references (`cluster:job id:start`), job ids rising with time on each
    /// cluster, with gaps where other users' jobs ran.
    fn job_refs(&mut self) {
        let mut jobs = std::mem::take(&mut self.jobs);
        jobs.sort_by_key(|(i, r, _)| (RESOURCES[*r].2, self.data.ledger[*i].created_at, *i));
        let mut next: Vec<(&str, i64)> = vec![("turing", 2_150_000), ("ascend", 410_000)];
        for (i, r, gpus) in jobs {
            let cluster = RESOURCES[r].2;
            let Some(counter) = next.iter_mut().find(|(c, _)| *c == cluster) else {
                continue;
            };
            counter.1 += self.rng.random_range(1..=9);
            let e = &mut self.data.ledger[i];
            let elapsed = (-e.minutes + gpus - 1) / gpus;
            let started = e.created_at - Duration::minutes(elapsed);
            e.external_ref = Some(format!("{cluster}:{}:{}", counter.1, started.timestamp()));
        }
    }

    /// The newest sync job of each of a startup's allocations, applied.
    fn sync_jobs(&mut self, ci: usize, grant_ids: &[i64]) {
        let t0 = self.t0;
        let (startup_id, name, members) = {
            let c = &self.companies[ci];
            (c.id, c.name.clone(), c.members.clone())
        };
        let logins: Vec<String> = members
            .iter()
            .filter_map(|id| self.user(*id).cluster_login.clone())
            .collect();
        for r in 0..RESOURCES.len() {
            let grants: Vec<grant::Model> = grant_ids
                .iter()
                .map(|id| self.data.grants[(id - 1) as usize].clone())
                .filter(|g| g.resource_id == r as i64 + 1)
                .collect();
            let Some(changed) = grants.iter().map(|g| g.updated_at).max() else {
                continue;
            };
            let resource = &self.data.resources[r];
            let desired = domain::cluster::allocation::of(
                resource,
                startup_id,
                &name,
                &grants,
                logins.clone(),
            );
            let done = Ord::min(
                changed + Duration::seconds(self.rng.random_range(2..50)),
                t0 - Duration::seconds(1),
            );
            let key: u128 = self.rng.random();
            let id = next_id(&self.data.sync_jobs);
            self.data.sync_jobs.push(sync_job::Model {
                id,
                startup_id,
                resource_id: r as i64 + 1,
                desired: serde_json::to_string(&desired).unwrap_or_default(),
                idempotency_key: format!("{key:032x}"),
                status: SyncStatus::Done,
                attempts: 1,
                next_attempt_at: changed,
                lease_until: None,
                last_error: None,
                created_at: changed,
                updated_at: Ord::max(done, changed),
                done_at: Some(Ord::max(done, changed)),
            });
        }
    }
}
