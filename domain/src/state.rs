//! Settings the rules read, and the process-wide counters and caches they share.
use std::path::PathBuf;
use std::sync::Arc;

/// The settings the application layer needs; loaded and validated by the server binary.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the embedded database, outgoing .eml files and other state live.
    pub data_dir: PathBuf,
    /// The address people reach Hatchery at; used in links inside emails.
    pub public_url: String,
    /// The `From:` of every email.
    pub mail_from: String,
    /// Whether session cookies carry `Secure` (on when the public URL is https).
    pub secure_cookies: bool,
    /// How long a session lasts without activity.
    pub session_days: i64,
    /// How long a rendered page may be served again to the same person while no data has
    /// changed (see the server's page cache); zero renders every request.
    pub page_cache_seconds: u64,
    /// The most a request may take before it is answered with an error page.
    pub request_timeout_seconds: u64,
    /// Reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: Arc<crate::client::TrustedProxies>,
    /// The park's time zone: what times are shown and typed in unless a person chose their
    /// own, and whose days and months the reports count.
    pub park_zone: crate::time::Zone,
    /// How long a worker holds a claimed sync job before another may take it over.
    pub sync_lease_seconds: i64,
}

impl Settings {
    /// Defaults for a data directory; used by tests and as the base of the layered config.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Settings {
            data_dir,
            public_url: "http://127.0.0.1:3000".into(),
            mail_from: "Hatchery <noreply@hatchery.localhost>".into(),
            secure_cookies: false,
            session_days: 14,
            page_cache_seconds: 5,
            request_timeout_seconds: 30,
            trusted_proxies: Default::default(),
            park_zone: Default::default(),
            sync_lease_seconds: 120,
        }
    }

    pub fn link(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.public_url.trim_end_matches('/'),
            path_and_query
        )
    }
}

/// A value computed at most once per `max_age`, and again once the data it was read from has
/// changed (the data version moved) and it is at least `min_age` old; callers arriving while
/// it is being computed wait for that computation instead of starting their own.
pub struct Cached<T> {
    slot: tokio::sync::Mutex<Option<(std::time::Instant, u64, T)>>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            slot: tokio::sync::Mutex::new(None),
        }
    }
}

impl<T: Clone> Cached<T> {
    pub async fn get_or_refresh<F, Fut, E>(
        &self,
        ages: std::ops::Range<std::time::Duration>,
        version: u64,
        compute: F,
    ) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, read_at, value)) = slot.as_ref() {
            let age = at.elapsed();
            if age < ages.start || (age < ages.end && *read_at == version) {
                return Ok(value.clone());
            }
        }
        let value = compute().await?;
        *slot = Some((std::time::Instant::now(), version, value.clone()));
        Ok(value)
    }

    /// Forgets the value, so the next reader computes it afresh.
    pub async fn clear(&self) {
        *self.slot.lock().await = None;
    }
}

/// Counts of the SQL statements the process has run (through sea-orm's metric callback).
#[derive(Debug, Default)]
pub struct SqlStats {
    pub statements: std::sync::atomic::AtomicU64,
    pub failures: std::sync::atomic::AtomicU64,
    /// Time spent in statements, in microseconds.
    pub micros: std::sync::atomic::AtomicU64,
    /// The data version: moves on every statement that may change data, and again whenever a
    /// unit of work that changed data has committed (`note_change`). What was read while it
    /// stood still is still what the database holds, as far as this process can tell.
    changes: std::sync::atomic::AtomicU64,
}

impl SqlStats {
    pub fn record(&self, sql: &str, elapsed: std::time::Duration, failed: bool) {
        use std::sync::atomic::Ordering::{Relaxed, SeqCst};
        self.statements.fetch_add(1, Relaxed);
        self.micros
            .fetch_add(elapsed.as_micros().min(u64::MAX as u128) as u64, Relaxed);
        if failed {
            self.failures.fetch_add(1, Relaxed);
        }
        if may_write(sql) {
            self.changes.fetch_add(1, SeqCst);
        }
    }

    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The data version (see the field); equal readings mean no change was seen in between.
    pub fn changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Marks that a change has committed. A write statement already moved the version, but
    /// before its commit: a reader in between could still have read the old rows.
    pub fn note_change(&self) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Whether a statement may change data: anything but a plain query. A `WITH` query counts as
/// a write when it holds a data-changing verb (sea-query writes keywords in capitals).
fn may_write(sql: &str) -> bool {
    let sql = sql.trim_start();
    let head = sql.get(..6).unwrap_or(sql);
    if head.eq_ignore_ascii_case("SELECT") {
        return false;
    }
    if sql.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("WITH")) {
        return ["INSERT ", "UPDATE ", "DELETE "]
            .iter()
            .any(|verb| sql.contains(verb));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_queries_leave_the_data_version_alone() {
        let stats = SqlStats::default();
        let seen = |sql: &str| {
            let before = stats.changes();
            stats.record(sql, std::time::Duration::ZERO, false);
            stats.changes() != before
        };
        assert!(!seen(r#"SELECT "id" FROM "startups" LIMIT $1"#));
        assert!(!seen("  select 1"));
        assert!(!seen("WITH t AS (SELECT 1) SELECT * FROM t"));
        assert!(seen(r#"INSERT INTO "audit_log" ("action") VALUES ($1)"#));
        assert!(seen(r#"UPDATE "sessions" SET "seen_at" = $1"#));
        assert!(seen(r#"DELETE FROM "sessions" WHERE "id" = $1"#));
        assert!(seen(
            "WITH due AS (SELECT id FROM outbox) UPDATE outbox SET x = 1"
        ));
        assert!(seen("PRAGMA wal_checkpoint"));
        assert!(seen(""));
        let before = stats.changes();
        stats.note_change();
        assert_eq!(stats.changes(), before + 1);
    }
}
