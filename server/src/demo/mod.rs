//! `hatchery demo`: loads a realistic, bilingual demo park of any size into an empty
//! database — intake rounds with applications in every state and mentors' reviews, incubating
//! and alumni startups with milestones, training cohorts with attendance and certificates, and
//! GPU credit with months of usage in the ledger (about 100 entries per startup). The same
//! seed gives the same park (dated relative to the day it is loaded).
//!
//! Rows are made in memory by replaying each history with the domain's rules (the ledger's
//! counters and balances, the waitlist's promotions, completion at the threshold), then
//! written in large batches in one transaction: a failed load leaves nothing behind.
mod credit;
mod figures;
mod funding;
mod incubation;
mod intake;
mod statements;
mod training;
mod words;
mod world;
mod write;

pub use world::{Showcase, DOMAIN};

use domain::audit::{self, Change};
use domain::auth::entity::user;
use domain::auth::Password;
use domain::cohorts::entity::cohort;
use domain::credits::entity::resource;
use domain::intake::entity::round;
use domain::startups::entity::startup;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait};
use std::time::{Duration, Instant};

/// The largest park the demo makes (a ledger of about 10⁸ entries).
pub const MAX_STARTUPS: usize = 1_000_000;

pub struct Options {
    pub startups: usize,
    pub seed: u64,
    /// The password of every demo account; a random one when None.
    pub password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the database already holds data ({0}). The demo loads only into an empty database: \
         point HATCHERY_DATA_DIR at a new directory, or HATCHERY_DATABASE_URL at a new PostgreSQL database"
    )]
    NotEmpty(String),
    #[error("--startups must be between 1 and {MAX_STARTUPS}")]
    Size,
    #[error("the demo password must have 10 to 128 characters")]
    Password,
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("the demo could not be made: {0}")]
    Internal(String),
}

pub struct Summary {
    /// Rows written per table, in the order written.
    pub rows: Vec<(&'static str, usize)>,
    pub generated_in: Duration,
    pub written_in: Duration,
    pub password: String,
    pub showcase: Showcase,
}

impl Summary {
    pub fn rows_of(&self, table: &str) -> usize {
        self.rows
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    /// The table of counts and times the command prints.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let total: usize = self.rows.iter().map(|(_, n)| n).sum();
        for (table, n) in &self.rows {
            out.push_str(&format!("  {table:<20} {n:>10}\n"));
        }
        out.push_str(&format!("  {:<20} {total:>10}\n", "(all rows)"));
        out.push_str(&format!(
            "made in {:.1} s, written in {:.1} s, {:.1} s in all\n",
            self.generated_in.as_secs_f64(),
            self.written_in.as_secs_f64(),
            (self.generated_in + self.written_in).as_secs_f64(),
        ));
        out
    }
}

/// What the database already holds, if anything ("3 users, 1 compute resources").
async fn existing(db: &impl ConnectionTrait) -> Result<Option<String>, DbErr> {
    let counts = [
        (user::Entity::find().count(db).await?, "users"),
        (startup::Entity::find().count(db).await?, "startups"),
        (round::Entity::find().count(db).await?, "intake rounds"),
        (cohort::Entity::find().count(db).await?, "cohorts"),
        (
            resource::Entity::find().count(db).await?,
            "compute resources",
        ),
    ];
    let found: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    Ok((!found.is_empty()).then(|| found.join(", ")))
}

/// A password to print once: four groups of letters and digits that cannot be misread.
fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Loads the demo park into an empty, migrated database, or refuses and changes nothing.
pub async fn load(db: &DatabaseConnection, o: Options) -> Result<Summary, DemoError> {
    if !(1..=MAX_STARTUPS).contains(&o.startups) {
        return Err(DemoError::Size);
    }
    let password = o.password.unwrap_or_else(random_password);
    let parsed = Password::parse(&password).map_err(|_| DemoError::Password)?;
    // Refused before the work; asked again inside the transaction that writes.
    if let Some(found) = existing(db).await? {
        return Err(DemoError::NotEmpty(found));
    }
    let started = Instant::now();
    // One hash for every account: argon2 per person would take minutes for a large park.
    let hash = domain::auth::passwords::hash_password(&parsed)
        .await
        .map_err(|e| DemoError::Internal(format!("{e:?}")))?;
    let today = chrono::Utc::now().date_naive();
    let (startups, seed) = (o.startups, o.seed);
    let world = tokio::task::spawn_blocking(move || {
        let mut w = world::World::new(seed, startups, today, hash);
        w.people();
        w.rounds();
        w.startups();
        w.incubation();
        w.credit();
        w.funding();
        w.statements();
        w.training();
        w.company_figures();
        w
    })
    .await
    .map_err(|e| DemoError::Internal(e.to_string()))?;
    let generated_in = started.elapsed();
    tracing::info!(
        seconds = generated_in.as_secs_f64(),
        ledger = world.data.ledger.len(),
        "demo park made in memory"
    );

    let started = Instant::now();
    let showcase = world.showcase.clone();
    let txn = domain::txn::begin(db).await?;
    if let Some(found) = existing(&txn).await? {
        return Err(DemoError::NotEmpty(found));
    }
    let rows = write::all(&txn, world.data).await?;
    audit::record(
        &txn,
        Change {
            actor: None,
            action: "demo.loaded",
            entity_type: "database",
            entity_id: "demo".into(),
            before: None,
            after: Some(serde_json::json!({
                "startups": startups,
                "seed": seed,
                "rows": rows.iter().map(|(t, n)| (t.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Summary {
        rows,
        generated_in,
        written_in: started.elapsed(),
        password,
        showcase,
    })
}
