//! The Hatchery server: configuration, state, router, workers. The binary is `hatchery`.
#![recursion_limit = "256"]
pub mod api;
pub mod assets;
pub mod backup;
pub mod bench;
pub mod changes;
pub mod client;
pub mod config;
pub mod db;
pub mod demo;
pub mod exports;
pub mod guard;
pub mod metrics;
pub mod nojs;
pub mod page_cache;
pub mod router;
pub mod worker;

use app::state::AppState;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Options for serving the built site: where cargo-leptos put the bundle, and the name pages
/// give it (hashed: see `assets`).
pub fn leptos_options(config: &config::Config) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("PROD") | Ok("prod") => leptos::config::Env::PROD,
        _ => leptos::config::Env::DEV,
    };
    LeptosOptions::builder()
        .output_name(assets::Bundle::load(&config.site_root).stem())
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .env(env)
        .build()
}

/// Connects, migrates and assembles the shared state.
pub async fn build_state(config: &config::Config) -> anyhow::Result<AppState> {
    // Migrate on a pool of its own: an SQLite connection that read the schema before a
    // migration changed a table keeps the old shape for statements it prepares, and sqlx
    // panics when SQLite then re-prepares one with more columns (seen with `RETURNING *`
    // after a column was added). The serving pool starts with the final schema.
    let migrating = db::connect(&config.database).await?;
    db::migrate(&migrating).await?;
    migrating.close().await?;
    let mut db = db::connect(&config.database).await?;
    let sql = Arc::new(domain::state::SqlStats::default());
    let stats = sql.clone();
    db.set_metric_callback(move |info| {
        stats.record(&info.statement.sql, info.elapsed, info.failed)
    });
    Ok(AppState {
        leptos_options: leptos_options(config),
        db,
        settings: Arc::new(config.settings()),
        mailer: config.mailer(),
        sql,
        overview: Default::default(),
    })
}
