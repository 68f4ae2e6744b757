//! The demo park in memory: every row of every table, with ids assigned as rows are made, and
//! the people, rounds and startups the generators share.
use super::words::{self, Person, Sector};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::auth::entity::{user, user_role};
use domain::auth::Role;
use domain::cohorts::entity::{attendance, certificate, cohort, enrolment, session};
use domain::credits::entity::tranche;
use domain::credits::entity::{grant, ledger, price, resource, sync_job};
use domain::intake::entity::{application, criterion, event, round};
use domain::review::entity::{assignment, mentor_profile, score};
use domain::startups::entity::{member, mentor, milestone, note, startup};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

/// Where every demo account's email lives (a reserved name: nothing is ever delivered there).
pub const DOMAIN: &str = "demo.hatchery.example";

/// Every row the demo writes, table by table, in an order the foreign keys accept.
#[derive(Default)]
pub struct Dataset {
    pub users: Vec<user::Model>,
    pub roles: Vec<user_role::Model>,
    pub mentor_profiles: Vec<mentor_profile::Model>,
    pub rounds: Vec<round::Model>,
    pub criteria: Vec<criterion::Model>,
    pub startups: Vec<startup::Model>,
    pub members: Vec<member::Model>,
    pub applications: Vec<application::Model>,
    pub events: Vec<event::Model>,
    pub assignments: Vec<assignment::Model>,
    pub scores: Vec<score::Model>,
    pub startup_mentors: Vec<mentor::Model>,
    pub milestones: Vec<milestone::Model>,
    pub notes: Vec<note::Model>,
    pub headcounts: Vec<domain::startups::entity::headcount::Model>,
    pub financings: Vec<domain::startups::entity::financing::Model>,
    pub resources: Vec<resource::Model>,
    pub prices: Vec<price::Model>,
    pub programmes: Vec<domain::settlement::entity::programme::Model>,
    pub programme_enrolments: Vec<domain::settlement::entity::enrolment::Model>,
    pub grants: Vec<grant::Model>,
    pub tranches: Vec<tranche::Model>,
    pub ledger: Vec<ledger::Model>,
    pub charges: Vec<domain::credits::entity::charge::Model>,
    pub statements: Vec<domain::settlement::entity::statement::Model>,
    pub statement_lines: Vec<domain::settlement::entity::statement_line::Model>,
    pub statement_subsidies: Vec<domain::settlement::entity::statement_subsidy::Model>,
    pub statement_line_subsidies: Vec<domain::settlement::entity::statement_line_subsidy::Model>,
    pub sync_jobs: Vec<sync_job::Model>,
    pub cohorts: Vec<cohort::Model>,
    pub sessions: Vec<session::Model>,
    pub enrolments: Vec<enrolment::Model>,
    pub attendance: Vec<attendance::Model>,
    pub certificates: Vec<certificate::Model>,
}

/// The next id of a table: rows are numbered from 1 in the order they are made.
pub fn next_id<T>(rows: &[T]) -> i64 {
    rows.len() as i64 + 1
}

pub struct Mentor {
    pub id: i64,
    pub name: String,
    pub zh: bool,
    /// Harsh (negative) or lenient (positive): what the decision board's normalised score
    /// is there to calibrate.
    pub bias: f64,
    pub affiliations: String,
    pub reviews: usize,
    pub startups: usize,
}

pub struct Admin {
    pub id: i64,
    pub zh: bool,
}

/// An intake round, as the generators need it.
pub struct Round {
    pub id: i64,
    pub opens: DateTime<Utc>,
    pub closes: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Still taking applications.
    pub open: bool,
    pub per_application: usize,
    pub criteria: Vec<(i64, i32)>,
}

/// A startup's time in incubation.
pub struct Residency {
    pub from: NaiveDate,
    pub until: NaiveDate,
    /// When the incubation ended, and how (`graduated` or `exited`).
    pub end: Option<(DateTime<Utc>, domain::startups::incubation::StartupStatus)>,
    /// Ids of its milestones, by due date.
    pub milestones: Vec<i64>,
}

/// A startup and its team.
pub struct Company {
    pub id: i64,
    pub name: String,
    pub founders_text: String,
    /// The team writes in Chinese.
    pub zh: bool,
    pub sector: &'static Sector,
    /// Founder first.
    pub members: Vec<i64>,
    /// When its application was accepted.
    pub admitted: Option<DateTime<Utc>>,
    pub residency: Option<Residency>,
}

/// The four accounts the summary names.
#[derive(Clone, Debug, Default)]
pub struct Showcase {
    pub admin: String,
    pub mentor: String,
    /// The founder of an incubating startup with GPU credit and a cohort place.
    pub founder: String,
    /// The founder of a startup whose application is in review.
    pub applicant: String,
}

pub struct World {
    pub rng: StdRng,
    /// Midnight (UTC) today: everything before it has happened, nothing after it has.
    pub t0: DateTime<Utc>,
    pub startups_wanted: usize,
    pub data: Dataset,
    password_hash: String,
    pub admins: Vec<Admin>,
    pub mentors: Vec<Mentor>,
    pub rounds: Vec<Round>,
    pub companies: Vec<Company>,
    /// People who come to the talent centre's cohorts without a startup here.
    pub trainees: Vec<i64>,
    pub showcase: Showcase,
    /// Consumed ledger entries waiting for their job reference: (entry index, resource
    /// index, GPUs the job used).
    pub jobs: Vec<(usize, usize, i64)>,
    names: HashSet<String>,
    pub credit_codes: HashSet<String>,
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

impl World {
    pub fn new(seed: u64, startups: usize, today: NaiveDate, password_hash: String) -> World {
        World {
            rng: StdRng::seed_from_u64(seed),
            t0: midnight(today),
            startups_wanted: startups,
            data: Dataset::default(),
            password_hash,
            admins: Vec::new(),
            mentors: Vec::new(),
            rounds: Vec::new(),
            companies: Vec::new(),
            trainees: Vec::new(),
            showcase: Showcase::default(),
            jobs: Vec::new(),
            names: HashSet::new(),
            credit_codes: HashSet::new(),
        }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// A moment in [a, b); `a` when the range is empty.
    pub fn between(&mut self, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
        let span = (b - a).num_seconds();
        if span <= 0 {
            return a;
        }
        a + Duration::seconds(self.rng.random_range(0..span))
    }

    /// A moment of office hours (Beijing, 09:00–18:00) on a day.
    pub fn office_hours(&mut self, d: NaiveDate) -> DateTime<Utc> {
        midnight(d) + Duration::minutes(self.rng.random_range(60..600))
    }

    /// A startup name no other demo startup has.
    pub fn unique_name(&mut self, s: &Sector) -> (String, String) {
        for _ in 0..40 {
            let (name, slug) = words::startup_name(&mut self.rng, s);
            if self.names.insert(name.clone()) {
                return (name, slug);
            }
        }
        // The vocabulary runs out only for very large parks: number the rest.
        let (name, slug) = words::startup_name(&mut self.rng, s);
        let n = self.names.len();
        let name = format!("{name} {n}");
        self.names.insert(name.clone());
        (name, format!("{slug}-{n}"))
    }

    /// A verified account with the shared demo password.
    pub fn add_user(
        &mut self,
        p: &Person,
        email: Option<&str>,
        roles: &[Role],
        created: DateTime<Utc>,
    ) -> i64 {
        let id = next_id(&self.data.users);
        let email = match email {
            Some(e) => e.to_string(),
            None => format!("{}.{id}@{DOMAIN}", p.stem),
        };
        let verified = created + Duration::minutes(self.rng.random_range(2..40));
        self.data.users.push(user::Model {
            id,
            email,
            name: p.name.clone(),
            password_hash: self.password_hash.clone(),
            locale: if p.zh { "zh-CN" } else { "en" }.into(),
            email_verified_at: Some(verified),
            created_at: created,
            updated_at: verified,
            cluster_login: None,
            time_zone: None,
        });
        for role in roles {
            self.data.roles.push(user_role::Model {
                user_id: id,
                role: *role,
                granted_at: created,
            });
        }
        id
    }

    pub fn user(&self, id: i64) -> &user::Model {
        &self.data.users[(id - 1) as usize]
    }

    pub fn user_zh(&self, id: i64) -> bool {
        self.user(id).locale == "zh-CN"
    }

    /// Gives a person a login on the park's cluster (unique: it carries their id).
    pub fn give_cluster_login(&mut self, user_id: i64) {
        let u = &mut self.data.users[(user_id - 1) as usize];
        if u.cluster_login.is_none() {
            // `wei.zhang.123@…` becomes `weizhang123`.
            let local = u.email.split('@').next().unwrap_or_default();
            let stem: String = local
                .split('.')
                .filter(|part| !part.chars().all(|c| c.is_ascii_digit()))
                .flat_map(str::chars)
                .filter(char::is_ascii_alphabetic)
                .take(20)
                .collect();
            u.cluster_login = Some(format!("{stem}{user_id}"));
        }
    }

    pub fn admin(&mut self) -> i64 {
        let i = self.rng.random_range(0..self.admins.len());
        self.admins[i].id
    }

    /// Admins, mentors (with their declared affiliations) and the talent centre's trainees.
    pub fn people(&mut self) {
        let t0 = self.t0;
        let admins = [("admin", false), ("operations", true), ("talent", true)];
        for (i, (local, zh)) in admins.into_iter().enumerate() {
            let mut p = words::person(&mut self.rng);
            p.zh = zh;
            let created = t0 - days(1100) + days(i as i64 * 30);
            let email = format!("{local}@{DOMAIN}");
            let id = self.add_user(&p, Some(&email), &[Role::Admin], created);
            self.admins.push(Admin { id, zh });
        }
        self.showcase.admin = format!("admin@{DOMAIN}");

        let n = (self.startups_wanted / 25).clamp(8, 400);
        for i in 0..n {
            let p = words::person(&mut self.rng);
            // Before the first round's reviews.
            let created = self.between(t0 - days(1040), t0 - days(950));
            let email = (i == 0).then(|| format!("mentor@{DOMAIN}"));
            let id = self.add_user(&p, email.as_deref(), &[Role::Mentor], created);
            let affiliations = if self.chance(0.75) {
                let k = self.rng.random_range(1..=2);
                let mut lines: Vec<&str> = Vec::new();
                while lines.len() < k {
                    let a = *words::pick(&mut self.rng, words::AFFILIATIONS);
                    if !lines.contains(&a) {
                        lines.push(a);
                    }
                }
                lines.join("\n")
            } else {
                String::new()
            };
            if !affiliations.is_empty() {
                self.data.mentor_profiles.push(mentor_profile::Model {
                    user_id: id,
                    affiliations: affiliations.clone(),
                    updated_at: created + days(1),
                });
            }
            let bias = self.rng.random_range(-0.6..0.6);
            self.mentors.push(Mentor {
                id,
                name: p.name,
                zh: p.zh,
                bias,
                affiliations,
                reviews: 0,
                startups: 0,
            });
        }
        self.showcase.mentor = format!("mentor@{DOMAIN}");

        for _ in 0..(self.startups_wanted / 2 + 20) {
            let p = words::person(&mut self.rng);
            let created = self.between(t0 - days(760), t0 - days(2));
            let id = self.add_user(&p, None, &[Role::Applicant], created);
            self.trainees.push(id);
        }
    }
}
