//! Background work on a schedule: delivering the email outbox, and housekeeping.
use app::state::AppState;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One pass: deliver every due message, in batches, until none is left.
pub async fn deliver_mail(state: &AppState) -> Result<usize, sea_orm::DbErr> {
    let mut total = 0;
    loop {
        let sent =
            app::mail::outbox::deliver_due(&state.db, &state.mailer, &state.settings.mail_from, 20)
                .await?;
        total += sent;
        if sent == 0 {
            return Ok(total);
        }
    }
}

pub fn spawn(
    state: AppState,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_mail(&state).await {
                tracing::error!(error = %e, "mail worker pass failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}
