//! `hatchery backup` and `hatchery restore`: a consistent copy of the database in a file, and
//! putting one back.
//!
//! SQLite: `VACUUM INTO` copies the database while the server keeps running; a restore checks
//! the file, then swaps it in by rename, keeping the previous database beside it. PostgreSQL:
//! pg_dump's custom format; a restore replays it through psql in a single transaction, so it is
//! applied whole or not at all.
use crate::config::{Database, Secret};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement,
};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; pass --force to replace it")]
    TargetExists(PathBuf),
    #[error("cannot write a backup to {path}: {problem}")]
    BadTarget { path: PathBuf, problem: String },
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("the database holds no Hatchery schema (no seaql_migrations table); run `hatchery migrate` first")]
    NoSchema,
    #[error("{path} is not a Hatchery backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{path} holds migration {migration}, which this hatchery binary does not know: it was made by a newer Hatchery; restore it with that version or a later one")]
    NewerBackup { path: PathBuf, migration: String },
    #[error("the database is in use {0}; stop the Hatchery server and any other hatchery command or database session first")]
    InUse(String),
    #[error("{0} was not found; install the PostgreSQL client tools (Debian: apt-get install postgresql-client)")]
    ToolMissing(&'static str),
    #[error("{tool} is version {found}, older than the PostgreSQL server ({server}); install the client tools of version {server} or later (Debian: postgresql-client-{server})")]
    ToolTooOld {
        tool: &'static str,
        found: u32,
        server: u32,
    },
    #[error("{tool} failed: {message}")]
    ToolFailed { tool: &'static str, message: String },
    #[error("the copy at {path} failed its integrity check: {detail}")]
    Damaged { path: PathBuf, detail: String },
    #[error("cannot {action} {path}: {error}")]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("database: {0}")]
    Db(DbErr),
}

// Not `#[from]`, which would make the error its source too: the message already holds it, and
// the CLI prints every source after the message.
impl From<DbErr> for BackupError {
    fn from(e: DbErr) -> Self {
        BackupError::Db(e)
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_path_buf();
    move |error| BackupError::Io {
        action,
        path,
        error,
    }
}

/// What `hatchery backup` wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    /// The migrations the backup holds, oldest first.
    pub migrations: Vec<String>,
    /// How the copy was checked after writing.
    pub check: &'static str,
    pub took: Duration,
}

/// What `hatchery restore` did.
#[derive(Debug)]
pub struct RestoreReport {
    pub from: PathBuf,
    /// The newest migration the backup held.
    pub backup_schema: String,
    /// Where the replaced SQLite database was kept.
    pub set_aside: Option<PathBuf>,
    /// Migrations run after restoring, because the backup was older than this binary.
    pub migrated: Vec<String>,
    pub took: Duration,
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "backup written to {}", self.path.display())?;
        writeln!(
            f,
            "  {} in {:.1} s; {}",
            human_size(self.bytes),
            self.took.as_secs_f64(),
            self.check
        )?;
        write!(
            f,
            "  schema at migration {} ({} of the {} this binary knows)",
            self.migrations.last().map(String::as_str).unwrap_or("-"),
            self.migrations.len(),
            known_migrations().len()
        )
    }
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "restored {} (schema at migration {}) in {:.1} s",
            self.from.display(),
            self.backup_schema,
            self.took.as_secs_f64()
        )?;
        if let Some(aside) = &self.set_aside {
            writeln!(f, "  the previous database is kept at {}", aside.display())?;
        }
        if self.migrated.is_empty() {
            write!(f, "  the schema is up to date")
        } else {
            write!(
                f,
                "  brought up to date with {} migration(s): {}",
                self.migrated.len(),
                self.migrated.join(", ")
            )
        }
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

fn known_migrations() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// A backup may be older than this binary (migrations bring it up to date), never newer.
fn check_known(path: &Path, migrations: &[String]) -> Result<(), BackupError> {
    let known = known_migrations();
    match migrations.iter().find(|m| !known.contains(m)) {
        Some(unknown) => Err(BackupError::NewerBackup {
            path: path.to_path_buf(),
            migration: unknown.clone(),
        }),
        None => Ok(()),
    }
}

/// Writes a consistent copy of the database to `to`; the server may keep running.
pub async fn backup(
    database: &Database,
    to: &Path,
    force: bool,
) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let bad_target = |problem: &str| BackupError::BadTarget {
        path: to.to_path_buf(),
        problem: problem.into(),
    };
    if to.is_dir() {
        return Err(bad_target("it is a directory; name a file in it"));
    }
    if to.exists() && !force {
        return Err(BackupError::TargetExists(to.to_path_buf()));
    }
    let file_name = to
        .file_name()
        .ok_or_else(|| bad_target("it does not name a file"))?;
    let dir = parent_dir(to);
    if !dir.is_dir() {
        return Err(bad_target("its directory does not exist"));
    }
    // Written beside the target and renamed over it only once checked, so an interrupted or
    // failed backup never leaves a half-written file under the name a restore would use.
    let partial = dir.join(format!("{}.partial", file_name.to_string_lossy()));
    remove_if_exists(&partial)?;
    let written = match database {
        Database::Sqlite(live) => sqlite::backup(live, &partial).await,
        Database::Postgres(url) => postgres::backup(url, &partial).await,
    };
    let (migrations, check) = match written {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    sync_file(&partial)?;
    std::fs::rename(&partial, to).map_err(io("rename into place", to))?;
    sync_dir(dir);
    let bytes = std::fs::metadata(to)
        .map_err(io("read the size of", to))?
        .len();
    Ok(BackupReport {
        path: to.to_path_buf(),
        bytes,
        migrations,
        check,
        took: started.elapsed(),
    })
}

/// Replaces the database with the backup at `from`, then runs the migrations it lacks.
/// The server must be stopped.
pub async fn restore(database: &Database, from: &Path) -> Result<RestoreReport, BackupError> {
    let started = Instant::now();
    if !from.is_file() {
        return Err(BackupError::NotABackup {
            path: from.to_path_buf(),
            reason: "there is no such file".into(),
        });
    }
    let (set_aside, restored) = match database {
        Database::Sqlite(live) => sqlite::restore(live, from).await?,
        Database::Postgres(url) => (None, postgres::restore(url, from).await?),
    };
    let db = crate::db::connect(database).await?;
    crate::db::migrate(&db).await?;
    let now = applied_migrations(&db).await?.unwrap_or_default();
    db.close().await?;
    Ok(RestoreReport {
        from: from.to_path_buf(),
        backup_schema: restored.last().cloned().unwrap_or_default(),
        set_aside,
        migrated: now.into_iter().filter(|m| !restored.contains(m)).collect(),
        took: started.elapsed(),
    })
}

/// The migrations recorded in a database, oldest first; `None` without a migrations table.
async fn applied_migrations(db: &DatabaseConnection) -> Result<Option<Vec<String>>, DbErr> {
    let backend = db.get_database_backend();
    let exists = match backend {
        DatabaseBackend::Sqlite => {
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'"
        }
        _ => "SELECT count(*) FROM pg_tables WHERE tablename = 'seaql_migrations' AND schemaname = current_schema()",
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, exists))
        .await?;
    if row.map(|r| r.try_get_by_index::<i64>(0)).transpose()? != Some(1) {
        return Ok(None);
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await?;
    let versions = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(versions))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn remove_if_exists(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", path)(e)),
        _ => Ok(()),
    }
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io("flush to disk", path))
}

/// Makes a rename durable; best effort, as not every file system can sync a directory.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The first bytes of a file, to tell a SQLite database from a pg_dump archive from anything.
fn magic(path: &Path) -> Result<Vec<u8>, BackupError> {
    use std::io::Read;
    let mut head = Vec::with_capacity(SQLITE_MAGIC.len());
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(SQLITE_MAGIC.len() as u64)
                .read_to_end(&mut head)
                .map(|_| ())
        })
        .map_err(io("read", path))?;
    Ok(head)
}

mod sqlite {
    use super::*;

    async fn open(path: &Path, mode: &str) -> Result<DatabaseConnection, DbErr> {
        let mut options = ConnectOptions::new(format!("sqlite://{}?mode={mode}", path.display()));
        options
            .sqlx_logging(false)
            .max_connections(1)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10));
        sea_orm::Database::connect(options).await
    }

    /// `path` followed by SQLite's suffix for its write-ahead log or shared memory.
    fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    }

    fn remove_with_companions(path: &Path) -> Result<(), BackupError> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            remove_if_exists(&with_suffix(path, suffix))?;
        }
        Ok(())
    }

    pub(super) async fn backup(
        live: &Path,
        partial: &Path,
    ) -> Result<(Vec<String>, &'static str), BackupError> {
        if !live.is_file() {
            return Err(BackupError::NoDatabase(live.to_path_buf()));
        }
        // Read-only is enough: VACUUM INTO reads one snapshot and writes only the new file.
        let db = open(live, "ro").await?;
        let copied = async {
            if applied_migrations(&db).await?.is_none() {
                return Err(BackupError::NoSchema);
            }
            db.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                "VACUUM INTO ?",
                [partial.to_string_lossy().into_owned().into()],
            ))
            .await?;
            Ok(())
        }
        .await;
        db.close().await?;
        copied?;
        let copy = open(partial, "ro").await?;
        let checked = inspect(&copy, partial).await;
        copy.close().await?;
        Ok((checked?, "integrity check ok"))
    }

    /// The integrity check and the migrations of a copy.
    async fn inspect(db: &DatabaseConnection, path: &Path) -> Result<Vec<String>, BackupError> {
        let rows = db
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await?;
        let problems = rows
            .iter()
            .map(|r| r.try_get_by_index::<String>(0))
            .collect::<Result<Vec<_>, _>>()?;
        if problems != ["ok"] {
            return Err(BackupError::Damaged {
                path: path.to_path_buf(),
                detail: problems.into_iter().take(5).collect::<Vec<_>>().join("; "),
            });
        }
        applied_migrations(db)
            .await?
            .ok_or_else(|| BackupError::NotABackup {
                path: path.to_path_buf(),
                reason: "it holds no Hatchery schema (no seaql_migrations table)".into(),
            })
    }

    pub(super) async fn restore(
        live: &Path,
        from: &Path,
    ) -> Result<(Option<PathBuf>, Vec<String>), BackupError> {
        let not_a_backup = |reason: String| BackupError::NotABackup {
            path: from.to_path_buf(),
            reason,
        };
        let head = magic(from)?;
        if head.starts_with(PG_DUMP_MAGIC) {
            return Err(not_a_backup(
                "it is a PostgreSQL backup (pg_dump archive), and this Hatchery uses SQLite".into(),
            ));
        }
        if head != SQLITE_MAGIC {
            return Err(not_a_backup("it is not a SQLite database".into()));
        }
        let dir = parent_dir(live);
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        // Staged beside the live database so the final rename stays on one file system.
        let file_name = live
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "hatchery.db".into());
        let staged = dir.join(format!("{file_name}.restoring"));
        remove_with_companions(&staged)?;
        std::fs::copy(from, &staged).map_err(io("copy the backup to", &staged))?;
        let checked = async {
            let db = open(&staged, "rw").await?;
            let checked = inspect(&db, from).await;
            db.close().await?;
            let migrations = checked.map_err(|e| match e {
                BackupError::Db(e) => not_a_backup(format!("SQLite cannot read it ({e})")),
                other => other,
            })?;
            check_known(from, &migrations)?;
            Ok::<_, BackupError>(migrations)
        }
        .await;
        let migrations = match checked {
            Ok(m) => m,
            Err(e) => {
                let _ = remove_with_companions(&staged);
                return Err(e);
            }
        };
        let has_live = live.exists();
        let lock = if has_live {
            match lock(live).await {
                Ok(lock) => lock,
                Err(e) => {
                    let _ = remove_with_companions(&staged);
                    return Err(e);
                }
            }
        } else {
            None
        };
        let swapped = swap(live, &staged, has_live);
        if let Some(lock) = lock {
            let _ = lock.execute_unprepared("ROLLBACK").await;
            let _ = lock.close().await;
        }
        if swapped.is_err() {
            let _ = remove_with_companions(&staged);
        }
        Ok((swapped?, migrations))
    }

    /// Takes the live database for ourselves, or says who holds it. Every connection to a
    /// database in WAL mode (the server keeps at least one open) blocks leaving WAL mode, so
    /// switching to a rollback journal succeeds only when no other process has the file open;
    /// the exclusive transaction then keeps newcomers out until the swap is done. A file that
    /// SQLite cannot read as a database is in no one's use, and is replaced without a lock.
    async fn lock(live: &Path) -> Result<Option<DatabaseConnection>, BackupError> {
        let in_use = || {
            BackupError::InUse(format!(
                "by another process (is the server running?): {}",
                live.display()
            ))
        };
        // SQLite's messages for SQLITE_BUSY/SQLITE_LOCKED and SQLITE_NOTADB.
        let unusable = |e: DbErr| {
            let text = e.to_string();
            if text.contains("locked") || text.contains("busy") {
                Err(in_use())
            } else if text.contains("not a database") {
                Ok(None)
            } else {
                Err(BackupError::from(e))
            }
        };
        let db = match open(live, "rw").await {
            Ok(db) => db,
            Err(e) => return unusable(e),
        };
        let locked = async {
            db.execute_unprepared("PRAGMA busy_timeout = 1000").await?;
            let mode = db
                .query_one_raw(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    "PRAGMA journal_mode = DELETE",
                ))
                .await?
                .map(|r| r.try_get_by_index::<String>(0))
                .transpose()?;
            if mode.as_deref() != Some("delete") {
                return Ok(false);
            }
            db.execute_unprepared("BEGIN EXCLUSIVE").await?;
            Ok::<_, DbErr>(true)
        }
        .await;
        match locked {
            Ok(true) => Ok(Some(db)),
            Ok(false) => {
                let _ = db.close().await;
                Err(in_use())
            }
            Err(e) => {
                let _ = db.close().await;
                unusable(e)
            }
        }
    }

    /// Moves the live database (and any -wal/-shm) aside, then renames the staged copy into
    /// its place; puts the old one back if that fails.
    fn swap(live: &Path, staged: &Path, has_live: bool) -> Result<Option<PathBuf>, BackupError> {
        let aside = if has_live {
            let aside = aside_path(live);
            std::fs::rename(live, &aside).map_err(io("move aside", live))?;
            for suffix in ["-wal", "-shm"] {
                let companion = with_suffix(live, suffix);
                if companion.exists() {
                    std::fs::rename(&companion, with_suffix(&aside, suffix))
                        .map_err(io("move aside", &companion))?;
                }
            }
            Some(aside)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(staged, live) {
            if let Some(aside) = &aside {
                let _ = std::fs::rename(aside, live);
            }
            return Err(io("rename the restored database to", live)(e));
        }
        sync_dir(parent_dir(live));
        Ok(aside)
    }

    fn aside_path(live: &Path) -> PathBuf {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let base = with_suffix(live, &format!(".before-restore-{stamp}"));
        let mut candidate = base.clone();
        let mut n = 1;
        while candidate.exists() {
            n += 1;
            candidate = with_suffix(&base, &format!("-{n}"));
        }
        candidate
    }
}

mod postgres {
    use super::*;
    use std::process::{Output, Stdio};
    use tokio::io::AsyncWriteExt;
    use tokio::process::Command;

    /// Where the client tools connect: the URL without its password, which goes to them in
    /// `PGPASSWORD` instead, out of sight of `ps`.
    struct Target {
        url: String,
        password: Option<String>,
    }

    impl Target {
        fn new(url: &Secret) -> Target {
            match url::Url::parse(url.expose()) {
                Ok(mut parsed) => {
                    let password = parsed.password().map(|p| {
                        percent_encoding::percent_decode_str(p)
                            .decode_utf8_lossy()
                            .into_owned()
                    });
                    let _ = parsed.set_password(None);
                    Target {
                        url: parsed.to_string(),
                        password,
                    }
                }
                Err(_) => Target {
                    url: url.expose().to_string(),
                    password: None,
                },
            }
        }

        fn command(&self, tool: &str) -> Command {
            let mut c = Command::new(tool);
            if let Some(password) = &self.password {
                c.env("PGPASSWORD", password);
            }
            c.kill_on_drop(true);
            c
        }
    }

    async fn connect(url: &Secret) -> Result<DatabaseConnection, DbErr> {
        let mut options = ConnectOptions::new(url.expose().to_string());
        options
            .sqlx_logging(false)
            .max_connections(1)
            .connect_timeout(Duration::from_secs(10));
        sea_orm::Database::connect(options).await
    }

    fn spawn_error(tool: &'static str) -> impl FnOnce(std::io::Error) -> BackupError {
        move |e| match e.kind() {
            std::io::ErrorKind::NotFound => BackupError::ToolMissing(tool),
            _ => BackupError::ToolFailed {
                tool,
                message: e.to_string(),
            },
        }
    }

    async fn run(tool: &'static str, command: &mut Command) -> Result<Output, BackupError> {
        command
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(spawn_error(tool))
    }

    /// The last few lines a tool wrote to stderr, on one line.
    fn summary(stderr: &[u8]) -> String {
        let text = String::from_utf8_lossy(stderr);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(5)..].join(" / ")
    }

    fn failed(tool: &'static str, stderr: &[u8]) -> BackupError {
        BackupError::ToolFailed {
            tool,
            message: summary(stderr),
        }
    }

    /// The major version of a client tool, from e.g. "pg_dump (PostgreSQL) 15.20 (Debian …)".
    async fn tool_major(tool: &'static str) -> Result<u32, BackupError> {
        let out = run(tool, Command::new(tool).arg("--version")).await?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .nth(2)
            .and_then(|v| {
                let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .ok_or_else(|| BackupError::ToolFailed {
                tool,
                message: format!("unexpected version output {:?}", text.trim()),
            })
    }

    async fn server_major(db: &DatabaseConnection) -> Result<u32, DbErr> {
        let row = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT current_setting('server_version_num')::int4",
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("no server version".into()))?;
        Ok(row.try_get_by_index::<i32>(0)? as u32 / 10_000)
    }

    pub(super) async fn backup(
        url: &Secret,
        partial: &Path,
    ) -> Result<(Vec<String>, &'static str), BackupError> {
        let db = connect(url).await?;
        let server = server_major(&db).await;
        let schema = applied_migrations(&db).await;
        db.close().await?;
        let server = server?;
        if schema?.is_none() {
            return Err(BackupError::NoSchema);
        }
        // pg_dump refuses servers newer than itself; say so before it does, in plain words.
        let found = tool_major("pg_dump").await?;
        if found < server {
            return Err(BackupError::ToolTooOld {
                tool: "pg_dump",
                found,
                server,
            });
        }
        let target = Target::new(url);
        let out = run(
            "pg_dump",
            target
                .command("pg_dump")
                .args(["--format=custom", "--no-owner", "--no-password", "--file"])
                .arg(partial)
                .arg("--dbname")
                .arg(&target.url),
        )
        .await?;
        if !out.status.success() {
            return Err(failed("pg_dump", &out.stderr));
        }
        // Read back what a restore will read.
        let migrations = inspect(partial).await?;
        Ok((migrations, "archive read back with pg_restore"))
    }

    /// The migrations an archive holds; refuses what is not a pg_dump archive of Hatchery.
    async fn inspect(path: &Path) -> Result<Vec<String>, BackupError> {
        let not_a_backup = |reason: String| BackupError::NotABackup {
            path: path.to_path_buf(),
            reason,
        };
        let head = super::magic(path)?;
        if head.starts_with(SQLITE_MAGIC) {
            return Err(not_a_backup(
                "it is a SQLite backup, and this Hatchery uses PostgreSQL".into(),
            ));
        }
        if !head.starts_with(PG_DUMP_MAGIC) {
            return Err(not_a_backup(
                "it is not a pg_dump archive in custom format".into(),
            ));
        }
        let out = run(
            "pg_restore",
            Command::new("pg_restore").arg("--list").arg(path),
        )
        .await?;
        if !out.status.success() {
            return Err(not_a_backup(format!(
                "pg_restore cannot read it ({})",
                summary(&out.stderr)
            )));
        }
        let toc = String::from_utf8_lossy(&out.stdout);
        let has_migrations = toc.lines().any(|l| {
            !l.starts_with(';')
                && l.contains(" TABLE DATA ")
                && l.split_whitespace().any(|w| w == "seaql_migrations")
        });
        if !has_migrations {
            return Err(not_a_backup(
                "it holds no Hatchery schema (no seaql_migrations table)".into(),
            ));
        }
        let out = run(
            "pg_restore",
            Command::new("pg_restore")
                .args(["--data-only", "--table=seaql_migrations", "--file=-"])
                .arg(path),
        )
        .await?;
        if !out.status.success() {
            return Err(failed("pg_restore", &out.stderr));
        }
        Ok(copied_versions(&String::from_utf8_lossy(&out.stdout)))
    }

    /// The first column of the rows in the `COPY … seaql_migrations … FROM stdin` block of a
    /// script written by pg_restore.
    fn copied_versions(script: &str) -> Vec<String> {
        let mut versions: Vec<String> = script
            .lines()
            .skip_while(|l| !(l.starts_with("COPY ") && l.contains("seaql_migrations")))
            .skip(1)
            .take_while(|l| *l != "\\.")
            .filter_map(|l| l.split('\t').next())
            .map(str::to_string)
            .collect();
        versions.sort();
        versions
    }

    pub(super) async fn restore(url: &Secret, from: &Path) -> Result<Vec<String>, BackupError> {
        let migrations = inspect(from).await?;
        check_known(from, &migrations)?;
        let db = connect(url).await?;
        let checked = async {
            let sessions = db
                .query_all_raw(Statement::from_string(
                    DatabaseBackend::Postgres,
                    "SELECT DISTINCT coalesce(nullif(application_name, '') || ' at ', '') \
                     || coalesce(host(client_addr), 'the local socket'), count(*) OVER () \
                     FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid() \
                     AND backend_type = 'client backend'",
                ))
                .await?;
            let connections = match sessions.first() {
                Some(row) => row.try_get_by_index::<i64>(1)?,
                None => 0,
            };
            let others = sessions
                .iter()
                .map(|r| r.try_get_by_index::<String>(0))
                .collect::<Result<Vec<_>, _>>()?;
            let tables = db
                .query_all_raw(Statement::from_string(
                    DatabaseBackend::Postgres,
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
                ))
                .await?
                .iter()
                .map(|r| r.try_get_by_index::<String>(0))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, DbErr>((connections, others, tables))
        }
        .await;
        db.close().await?;
        let (connections, others, tables) = checked?;
        if connections > 0 {
            return Err(BackupError::InUse(format!(
                "by {} other connection(s), from {}",
                connections,
                others.join(", ")
            )));
        }
        // pg_restore --clean drops only what the archive holds, and fails on a table of a later
        // migration that references one of them; dropping every table first, in the same
        // transaction, leaves exactly the backup.
        let prelude = if tables.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = tables
                .iter()
                .map(|t| format!("public.\"{}\"", t.replace('"', "\"\"")))
                .collect();
            format!("DROP TABLE IF EXISTS {} CASCADE;\n", names.join(", "))
        };
        replay(&Target::new(url), from, prelude).await?;
        Ok(migrations)
    }

    /// pg_restore writes the archive as SQL, psql runs it after `prelude` in one transaction
    /// that stops at the first error.
    async fn replay(target: &Target, from: &Path, prelude: String) -> Result<(), BackupError> {
        let mut restore = Command::new("pg_restore")
            .args(["--clean", "--if-exists", "--no-owner", "--file=-"])
            .arg(from)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(spawn_error("pg_restore"))?;
        let mut psql = target
            .command("psql")
            .args([
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                "--file=-",
                "--dbname",
            ])
            .arg(&target.url)
            // The --if-exists drops would otherwise print a notice per missing object.
            .env("PGOPTIONS", "-c client_min_messages=warning")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error("psql"))?;
        let (Some(mut script), Some(mut input)) = (restore.stdout.take(), psql.stdin.take()) else {
            unreachable!("both pipes were asked for")
        };
        let feed = async move {
            input.write_all(prelude.as_bytes()).await?;
            tokio::io::copy(&mut script, &mut input).await?;
            input.shutdown().await
        };
        let (fed, restored, applied) =
            tokio::join!(feed, restore.wait_with_output(), psql.wait_with_output());
        let applied = applied.map_err(spawn_error("psql"))?;
        if !applied.status.success() {
            return Err(failed("psql", &applied.stderr));
        }
        let restored = restored.map_err(spawn_error("pg_restore"))?;
        if !restored.status.success() {
            return Err(failed("pg_restore", &restored.stderr));
        }
        fed.map_err(|e| BackupError::ToolFailed {
            tool: "psql",
            message: e.to_string(),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_password_leaves_the_url() {
            let t = Target::new(&Secret::new(
                "postgres://hatch:p%40ss%20word@db:5432/h?sslmode=require",
            ));
            assert_eq!(t.url, "postgres://hatch@db:5432/h?sslmode=require");
            assert_eq!(t.password.as_deref(), Some("p@ss word"));
        }

        #[test]
        fn versions_are_read_from_the_copy_block() {
            let script = "SET x = 1;\n\nCOPY public.seaql_migrations (version, applied_at) FROM stdin;\nm2_b\t2\nm1_a\t1\n\\.\n\nSELECT 1;\n";
            assert_eq!(copied_versions(script), ["m1_a", "m2_b"]);
        }
    }
}
