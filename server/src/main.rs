//! `hatchery`: serve the web app (the default), migrate, create users, deliver mail once,
//! run one GPU-credit sync pass, load demo data, benchmark reconciliation, back up and
//! restore the database.
use clap::{Parser, Subcommand};
use hatchery::config::{Config, LogFormat};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// mimalloc instead of glibc's malloc: a page allocates many small strings on several
/// threads, and glibc's arenas took about 15 % of a page's CPU under load. It serves C's
/// `malloc` too (the crate's `override` feature), so SQLite's allocations on the connections'
/// threads no longer go to glibc's arenas either.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hatchery",
    about = "Runs an AI industry park's incubator programme"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and run the background workers (the default).
    Serve,
    /// Bring the database schema up to date.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Deliver the due messages of the email and chat-channel outboxes once, then exit.
    DeliverMail,
    /// One pass of GPU credit, then exit: expire grants, apply due sync jobs, import usage,
    /// and compare every resource with its cluster.
    Sync,
    /// Write a consistent copy of the database to a file; the server may keep running.
    ///
    /// SQLite: a database file (VACUUM INTO), integrity-checked. PostgreSQL: a pg_dump archive in
    /// custom format (needs pg_dump of the server's major version or later).
    Backup {
        /// The file to write.
        #[arg(long, value_name = "PATH")]
        to: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the database with a backup, then migrate it. Stop the server first.
    ///
    /// The server and every other hatchery command must be stopped: a restore refuses a
    /// database that another process has open. SQLite: the current database is kept beside it as
    /// hatchery.db.before-restore-<time>. PostgreSQL: the database's tables are replaced in one
    /// transaction (needs pg_restore and psql).
    Restore {
        /// The backup file, as written by `hatchery backup`.
        #[arg(long, value_name = "PATH")]
        from: PathBuf,
    },
    /// Load a bilingual demo park into an empty database: intake rounds with applications and
    /// reviews, incubating and alumni startups, training cohorts with attendance, and GPU
    /// credit with months of usage (about 100 ledger entries per startup).
    Demo {
        /// How many startups.
        #[arg(long, default_value_t = 200)]
        startups: usize,
        /// The same seed makes the same park.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// The password of every demo account (10 characters or more); random when absent.
        #[arg(long, env = "HATCHERY_DEMO_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Measure reconciling N startups against a real slurmrestd (see scripts/bench-reconcile.sh).
    BenchReconcile {
        #[arg(long, default_value_t = 1000)]
        startups: usize,
        #[arg(long, default_value = "http://127.0.0.1:6820")]
        slurm_url: String,
        #[arg(long, default_value = "ci")]
        cluster: String,
        /// Account names start with this (the bench's accounts are removed by this prefix).
        #[arg(long, default_value = "bench")]
        prefix: String,
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// A file holding slurmrestd's JWT (Slurm 24.11+); without it, no token is sent.
        #[arg(long, default_value = "")]
        token_file: String,
        /// The user the token acts as (X-SLURM-USER-NAME).
        #[arg(long, default_value = "")]
        token_user: String,
    },
    /// Serve a bare axum handler (`GET /` → `ok`) on the same runtime as the app: the
    /// ceiling the page benchmark compares the pages with (see scripts/bench-pages.sh).
    BenchCeiling {
        #[arg(long, default_value = "127.0.0.1:3098")]
        addr: SocketAddr,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a verified account; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// applicant, mentor or admin; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hatchery: configuration error: {e}");
            std::process::exit(2);
        }
    };
    init_tracing(config.log_format);
    if let Err(e) = run(cli, config).await {
        eprintln!("hatchery: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let db = hatchery::db::connect(&config.database).await?;
            hatchery::db::migrate(&db).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Backup { to, force } => {
            let report = hatchery::backup::backup(&config.database, &to, force).await?;
            println!("{report}");
            Ok(())
        }
        Command::Restore { from } => {
            let report = hatchery::backup::restore(&config.database, &from).await?;
            println!("{report}");
            Ok(())
        }
        Command::DeliverMail => {
            let state = hatchery::build_state(&config).await?;
            let sent = hatchery::worker::deliver_mail(&state).await?;
            let posted = hatchery::worker::deliver_channels(&state).await?;
            println!("delivered {sent} message(s), posted {posted} chat message(s)");
            Ok(())
        }
        Command::Sync => {
            let state = hatchery::build_state(&config).await?;
            let applied = hatchery::worker::sync_credits(&state)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let usage = domain::credits::usage::import_all(&state.db, &state.settings)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let repairs = domain::cluster::reconcile::pass(&state.db)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            println!(
                "applied {applied} sync job(s), imported {} job(s), queued {repairs} repair(s)",
                usage.imported
            );
            Ok(())
        }
        Command::Demo {
            startups,
            seed,
            password,
        } => {
            let db = hatchery::db::connect(&config.database).await?;
            hatchery::db::migrate(&db).await?;
            let summary = hatchery::demo::load(
                &db,
                hatchery::demo::Options {
                    startups,
                    seed,
                    password,
                },
            )
            .await?;
            let s = &summary.showcase;
            println!("Loaded the demo park ({startups} startups, seed {seed}):");
            print!("{}", summary.report());
            println!(
                "\nSign in at {} with the password {}\n  \
                 {:<34} park administrator\n  \
                 {:<34} mentor: reviews waiting, startups to mentor\n  \
                 {:<34} founder of an incubating startup with GPU credit\n  \
                 {:<34} applicant whose application is in review\n\
                 Every demo account (…@{}) has this password.",
                config.public_url,
                summary.password,
                s.admin,
                s.mentor,
                s.founder,
                s.applicant,
                hatchery::demo::DOMAIN,
            );
            Ok(())
        }
        Command::BenchReconcile {
            startups,
            slurm_url,
            cluster,
            prefix,
            workers,
            token_file,
            token_user,
        } => {
            let state = hatchery::build_state(&config).await?;
            hatchery::bench::reconcile(
                &state,
                hatchery::bench::Options {
                    startups,
                    slurm_url,
                    cluster,
                    prefix,
                    workers,
                    token_file,
                    token_user,
                },
            )
            .await
        }
        Command::BenchCeiling { addr } => hatchery::bench::ceiling(addr).await,
        Command::User {
            command: UserCommand::Create { email, name, roles },
        } => {
            let roles = roles
                .iter()
                .map(|r| {
                    domain::auth::Role::parse(r).ok_or_else(|| {
                        anyhow::anyhow!("unknown role {r:?}: use applicant, mentor or admin")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let state = hatchery::build_state(&config).await?;
            match domain::auth::users::create_user(&state.db, &email, &name, password, &roles).await
            {
                Ok(id) => {
                    println!("created user {id} <{}>", email.trim().to_lowercase());
                    Ok(())
                }
                Err(e) => Err(anyhow::anyhow!(e.message(domain::i18n::Locale::En))),
            }
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let state = hatchery::build_state(&config).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let replicas = hatchery::changes::listen(state.clone(), stop_rx.clone());
    let worker = hatchery::worker::spawn(
        state.clone(),
        Duration::from_millis(config.worker_poll_ms),
        Duration::from_secs(config.usage_import_seconds),
        stop_rx,
    );
    let app = hatchery::router::build(state);
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %config.addr, public_url = %config.public_url, "hatchery is listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    if let Some(replicas) = replicas {
        let _ = replicas.await;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
