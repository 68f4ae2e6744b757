//! Background work on a schedule: delivering the email and chat-channel outboxes, applying grant changes to the
//! cluster, expiring grants past their end date, and milestone reminders.
use app::state::AppState;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One pass: deliver every due message, in batches, until none is left.
pub async fn deliver_mail(state: &AppState) -> Result<usize, sea_orm::DbErr> {
    let mut total = 0;
    loop {
        let sent = domain::mail::outbox::deliver_due(
            &state.db,
            &state.mailer,
            &state.settings.mail_from,
            20,
        )
        .await?;
        total += sent;
        if sent == 0 {
            return Ok(total);
        }
    }
}

/// One pass of the chat channels' outbox: post every due message, in batches, until none is
/// left; returns how many were sent.
pub async fn deliver_channels(state: &AppState) -> Result<usize, sea_orm::DbErr> {
    let mut total = 0;
    loop {
        let sent = domain::channels::outbox::deliver_due(&state.db, &state.settings.public_url, 20)
            .await?;
        total += sent;
        if sent == 0 {
            return Ok(total);
        }
    }
}

/// One pass of GPU credit: expire grants past their end, then apply every due sync job.
pub async fn sync_credits(state: &AppState) -> Result<usize, domain::error::AppError> {
    let now = chrono::Utc::now();
    domain::credits::grants::expire_due(&state.db, &state.settings, now).await?;
    domain::credits::grants::expiry_alerts(&state.db, &state.settings, now).await?;
    let mut total = 0;
    loop {
        let policy = domain::cluster::sync::policy(state.settings.sync_lease_seconds);
        let tried =
            domain::cluster::sync::run_due(&state.db, &policy, chrono::Utc::now(), 20).await?;
        total += tried;
        if tried == 0 {
            return Ok(total);
        }
    }
}

/// How often each resource is compared with its cluster.
const RECONCILE_EVERY: Duration = Duration::from_secs(600);

/// Starts the background worker: it looks for due work every `poll`, and reads finished jobs
/// back from the clusters every `usage_every`.
pub fn spawn(
    state: AppState,
    poll: Duration,
    usage_every: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_usage: Option<tokio::time::Instant> = None;
        let mut last_reconcile: Option<tokio::time::Instant> = None;
        loop {
            let version = state.sql.changes();
            if last_reconcile.is_none_or(|t| t.elapsed() >= RECONCILE_EVERY) {
                last_reconcile = Some(tokio::time::Instant::now());
                if let Err(e) = domain::cluster::reconcile::pass(&state.db).await {
                    tracing::error!(error = ?e, "reconciliation pass failed");
                }
            }
            if last_usage.is_none_or(|t| t.elapsed() >= usage_every) {
                last_usage = Some(tokio::time::Instant::now());
                match domain::credits::usage::import_all(&state.db, &state.settings).await {
                    Ok(o) if o.imported > 0 => {
                        tracing::info!(imported = o.imported, "usage imported")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = ?e, "usage import failed"),
                }
            }
            if let Err(e) =
                domain::settlement::statements::run_due(&state.db, state.settings.park_zone, 2)
                    .await
            {
                tracing::error!(error = ?e, "statement preparation pass failed");
            }
            if let Err(e) = sync_credits(&state).await {
                tracing::error!(error = ?e, "sync worker pass failed");
            }
            if let Err(e) = domain::incubation::milestones::send_reminders(
                &state.db,
                &state.settings,
                chrono::Utc::now(),
            )
            .await
            {
                tracing::error!(error = ?e, "milestone reminder pass failed");
            }
            if let Err(e) = deliver_mail(&state).await {
                tracing::error!(error = %e, "mail worker pass failed");
            }
            if let Err(e) = deliver_channels(&state).await {
                tracing::error!(error = %e, "chat channel worker pass failed");
            }
            if state.sql.changes() != version {
                // Everything this pass wrote has committed: pages read meanwhile are stale.
                state.sql.note_change();
                crate::changes::announce(&state.db).await;
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}
