//! `hatchery backup` and `hatchery restore` as an operator runs them, on the test's database
//! (SQLite, or PostgreSQL when `HATCHERY_TEST_DATABASE=postgres`).
mod common;

use common::{use_postgres, TestApp};
use hatchery::config::{Database, Secret};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `hatchery` binary pointed at a test app's database.
struct Operator {
    data_dir: PathBuf,
    database_url: Option<String>,
}

impl Operator {
    fn of(app: &TestApp) -> Operator {
        Operator {
            data_dir: app.data_dir.path().to_path_buf(),
            database_url: app.database_url.clone(),
        }
    }

    fn database(&self) -> Database {
        match &self.database_url {
            Some(url) => Database::Postgres(Secret::new(url.clone())),
            None => Database::Sqlite(self.data_dir.join("hatchery.db")),
        }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hatchery"));
        command
            .args(args)
            .env_clear()
            // pg_dump, pg_restore and psql are found on the PATH.
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HATCHERY_DATA_DIR", &self.data_dir)
            .env("RUST_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = &self.database_url {
            command.env("HATCHERY_DATABASE_URL", url);
        }
        let mut child = command.spawn().expect("the binary starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs a command that must succeed; returns what it printed.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, "");
        assert!(
            out.status.success(),
            "hatchery {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail; returns its error message.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args, "");
        assert!(
            !out.status.success(),
            "hatchery {args:?} should have failed; it printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn create_user(&self, email: &str, name: &str) {
        let out = self.run(
            &[
                "user", "create", "--email", email, "--name", name, "--role", "mentor",
            ],
            "a long enough password",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn connect(&self) -> DatabaseConnection {
        hatchery::db::connect(&self.database()).await.unwrap()
    }

    async fn execute(&self, sql: &str) {
        let db = self.connect().await;
        db.execute_unprepared(sql).await.unwrap();
        db.close().await.unwrap();
    }

    /// Everything a restore must bring back: every table's row count, the accounts and their
    /// roles in full, and the schema's migrations.
    async fn contents(&self) -> Vec<String> {
        let db = self.connect().await;
        let backend = db.get_database_backend();
        let strings = |sql: &str| {
            let db = &db;
            let sql = sql.to_string();
            async move {
                db.query_all_raw(Statement::from_string(backend, sql))
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.try_get_by_index::<String>(0).unwrap())
                    .collect::<Vec<_>>()
            }
        };
        let tables = strings(if use_postgres() {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        })
        .await;
        let mut contents = Vec::new();
        for table in tables {
            let n = strings(&format!("SELECT CAST(count(*) AS TEXT) FROM \"{table}\"")).await;
            contents.push(format!("{table}: {} row(s)", n[0]));
        }
        contents.extend(
            strings(
                "SELECT CAST(id AS TEXT) || ' ' || email || ' ' || name || ' ' || password_hash \
                 FROM users ORDER BY id",
            )
            .await,
        );
        contents.extend(
            strings(
                "SELECT CAST(user_id AS TEXT) || ' ' || role FROM user_roles ORDER BY user_id, role",
            )
            .await,
        );
        contents.extend(strings("SELECT version FROM seaql_migrations ORDER BY version").await);
        db.close().await.unwrap();
        contents
    }
}

/// Stops the test app's "server": closes its connections to the database.
async fn stop(app: &TestApp) {
    app.db().clone().close().await.unwrap();
}

fn latest_migration() -> String {
    Migrator::migrations().last().unwrap().name().to_string()
}

/// The names of the `n` newest migrations, oldest first.
fn newest_migrations(n: usize) -> Vec<String> {
    let all = Migrator::migrations();
    all[all.len() - n..]
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// The files in the data directory, to see what a refused restore left behind.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("hatchery.db"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_restore_brings_back_exactly_what_was_backed_up() {
    let app = TestApp::new().await;
    let operator = Operator::of(&app);
    app.signed_in_applicant("founder@startup.cn", "Founder")
        .await;
    operator.create_user("mentor@park.cn", "Mentor");
    let at_backup = operator.contents().await;

    // Taken while the app is running, as an operator's nightly job would.
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("hatchery.backup");
    let file = file.to_str().unwrap();
    let printed = operator.ok(&["backup", "--to", file]);
    assert!(printed.contains("backup written to"), "{printed}");
    assert!(printed.contains(&latest_migration()), "{printed}");
    if use_postgres() {
        assert!(printed.contains("read back with pg_restore"), "{printed}");
    } else {
        assert!(printed.contains("integrity check ok"), "{printed}");
    }

    // Life goes on: an account added, one renamed, a role taken away.
    operator.create_user("later@park.cn", "Later");
    operator
        .execute("UPDATE users SET name = 'Renamed' WHERE email = 'founder@startup.cn'")
        .await;
    operator
        .execute(
            "DELETE FROM user_roles WHERE user_id = (SELECT id FROM users WHERE email = 'mentor@park.cn')",
        )
        .await;
    let changed = operator.contents().await;
    assert_ne!(changed, at_backup);

    // Not while the app still has the database open.
    let err = operator.refused(&["restore", "--from", file]);
    assert!(err.contains("the database is in use"), "{err}");
    assert_eq!(operator.contents().await, changed);

    stop(&app).await;
    let printed = operator.ok(&["restore", "--from", file]);
    assert!(printed.contains("restored"), "{printed}");
    assert!(printed.contains("the schema is up to date"), "{printed}");
    assert_eq!(operator.contents().await, at_backup);

    if !use_postgres() {
        // The replaced database is kept, with what was there before the restore.
        let aside = files_in(app.data_dir.path())
            .into_iter()
            .find(|n| n.starts_with("hatchery.db.before-restore-"))
            .expect("the previous database is kept");
        assert!(printed.contains(&aside), "{printed}");
        let kept = hatchery::db::connect(&Database::Sqlite(app.data_dir.path().join(&aside)))
            .await
            .unwrap();
        let names = kept
            .query_all_raw(Statement::from_string(
                kept.get_database_backend(),
                "SELECT name FROM users WHERE email IN ('founder@startup.cn', 'later@park.cn') ORDER BY email",
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).unwrap())
            .collect::<Vec<_>>();
        kept.close().await.unwrap();
        assert_eq!(names, ["Renamed", "Later"]);
    }

    // The restored database is in working order: new rows get fresh ids.
    operator.create_user("after@park.cn", "After");
    assert!(operator
        .contents()
        .await
        .iter()
        .any(|l| l.contains("after@park.cn")));
}

#[tokio::test]
async fn what_is_not_a_backup_is_refused_and_nothing_changes() {
    let app = TestApp::new().await;
    let operator = Operator::of(&app);
    operator.create_user("mentor@park.cn", "Mentor");
    stop(&app).await;
    let before = operator.contents().await;
    let files = files_in(app.data_dir.path());

    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not the rows you are looking for\n").unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, "").unwrap();
    // A SQLite database, but not Hatchery's.
    let other = dir.path().join("other.db");
    let db = hatchery::db::connect(&Database::Sqlite(other.clone()))
        .await
        .unwrap();
    db.execute_unprepared("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi')")
        .await
        .unwrap();
    db.close().await.unwrap();
    let missing = dir.path().join("missing.backup");

    for path in [&text, &empty, &other, &missing] {
        let err = operator.refused(&["restore", "--from", path.to_str().unwrap()]);
        assert!(err.contains("is not a Hatchery backup"), "{err}");
        assert_eq!(operator.contents().await, before);
        assert_eq!(files_in(app.data_dir.path()), files);
    }
}

#[tokio::test]
async fn a_backup_from_a_newer_hatchery_is_refused() {
    let app = TestApp::new().await;
    let operator = Operator::of(&app);
    stop(&app).await;
    operator
        .execute("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000001_from_the_future', 0)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("future.backup");
    let file = file.to_str().unwrap();
    operator.ok(&["backup", "--to", file]);
    operator
        .execute("DELETE FROM seaql_migrations WHERE version = 'm29990101_000001_from_the_future'")
        .await;
    operator.create_user("mentor@park.cn", "Mentor");
    let before = operator.contents().await;

    let err = operator.refused(&["restore", "--from", file]);
    assert!(err.contains("m29990101_000001_from_the_future"), "{err}");
    assert!(err.contains("newer Hatchery"), "{err}");
    assert_eq!(operator.contents().await, before);
}

#[tokio::test]
async fn an_existing_file_is_only_replaced_with_force() {
    let app = TestApp::new().await;
    let operator = Operator::of(&app);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hatchery.backup");
    std::fs::write(&path, "last week's backup").unwrap();
    let file = path.to_str().unwrap();

    let err = operator.refused(&["backup", "--to", file]);
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"last week's backup");

    operator.ok(&["backup", "--to", file, "--force"]);
    assert_ne!(std::fs::read(&path).unwrap(), b"last week's backup");
    // Only the backup: nothing half-written is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let err = operator.refused(&["backup", "--to", dir.path().to_str().unwrap()]);
    assert!(err.contains("is a directory"), "{err}");
    let nowhere = dir.path().join("no/such/dir/hatchery.backup");
    let err = operator.refused(&["backup", "--to", nowhere.to_str().unwrap()]);
    assert!(err.contains("directory does not exist"), "{err}");
}

#[tokio::test]
async fn an_older_backup_is_restored_over_a_newer_schema_and_migrated() {
    let app = TestApp::new().await;
    let operator = Operator::of(&app);
    operator.create_user("mentor@park.cn", "Mentor");
    stop(&app).await;
    // A backup made before the three newest migrations existed (the two newest add only
    // indexes; the one before them adds a table).
    let db = operator.connect().await;
    Migrator::down(&db, Some(3)).await.unwrap();
    db.close().await.unwrap();
    let old = operator.contents().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.backup");
    let file = file.to_str().unwrap();
    operator.ok(&["backup", "--to", file]);

    // Upgraded since, with a table the backup does not know that refers to one it does.
    operator.ok(&["migrate"]);
    operator
        .execute("CREATE TABLE later_feature (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users (id))")
        .await;
    operator
        .execute("INSERT INTO later_feature (id, user_id) SELECT 1, id FROM users")
        .await;
    operator.create_user("later@park.cn", "Later");

    let printed = operator.ok(&["restore", "--from", file]);
    assert!(
        printed.contains(&format!(
            "brought up to date with 3 migration(s): {}",
            newest_migrations(3).join(", ")
        )),
        "{printed}"
    );
    // The backup's rows and nothing else, at the current schema: the newest migration's
    // tables are back, empty, and the table the backup did not know is gone.
    let restored = operator.contents().await;
    assert!(
        !restored.iter().any(|l| l.starts_with("later_feature")),
        "{restored:?}"
    );
    let table = |l: &str| l.split(':').next().unwrap().to_string();
    let is_new_table =
        |l: &String| l.ends_with(" row(s)") && !old.iter().any(|o| table(o) == table(l));
    let new_tables: Vec<&String> = restored.iter().filter(|l| is_new_table(l)).collect();
    assert!(!new_tables.is_empty());
    assert!(
        new_tables.iter().all(|l| l.ends_with(": 0 row(s)")),
        "{new_tables:?}"
    );
    // The migrations are compared by name, below the counts.
    let counted = |l: &String| !l.starts_with("seaql_migrations:");
    let mut expected: Vec<String> = old.iter().filter(|l| counted(l)).cloned().collect();
    expected.extend(newest_migrations(3));
    let rest: Vec<String> = restored
        .into_iter()
        .filter(|l| !is_new_table(l) && counted(l))
        .collect();
    assert_eq!(rest, expected);
}

#[tokio::test]
async fn a_damaged_sqlite_database_can_be_replaced() {
    if use_postgres() {
        return;
    }
    let app = TestApp::new().await;
    let operator = Operator::of(&app);
    operator.create_user("mentor@park.cn", "Mentor");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("good.db");
    let file = file.to_str().unwrap();
    operator.ok(&["backup", "--to", file]);
    let at_backup = operator.contents().await;
    stop(&app).await;

    // What a disk failure leaves: not a database any more.
    let live = app.data_dir.path().join("hatchery.db");
    std::fs::write(&live, vec![0x5a; 8192]).unwrap();
    for companion in ["hatchery.db-wal", "hatchery.db-shm"] {
        let _ = std::fs::remove_file(app.data_dir.path().join(companion));
    }
    operator.ok(&["restore", "--from", file]);
    assert_eq!(operator.contents().await, at_backup);
}
