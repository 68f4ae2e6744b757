//! Helpers shared by the tests against real Slurm clusters (22.05 and 24.11).
use super::{Jar, TestApp, TestResponse};
use app::credits::entity::sync_job;
use chrono::Utc;
use sea_orm::{EntityTrait, QueryOrder};

/// Polls `f` every second until it gives a value, failing the test after `seconds`.
pub async fn wait_for<F, Fut, T>(what: &str, seconds: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// An admin's form, posted from the admin pages.
pub async fn post(
    app: &TestApp,
    jar: &mut Jar,
    path: &str,
    fields: Vec<(&str, String)>,
) -> TestResponse {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(path, "/admin", &refs, jar).await
}

/// Applies the newest job, as the worker would: a transient failure of the cluster (slurmdbd
/// restarting) is retried after a pause rather than the job's backoff, which a test does not
/// wait out.
pub async fn sync(app: &TestApp) -> sync_job::Model {
    let newest = || async {
        sync_job::Entity::find()
            .order_by_desc(sync_job::Column::Id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
    };
    for _ in 0..app::credits::sync::MAX_ATTEMPTS {
        let due = newest().await.next_attempt_at.max(Utc::now());
        app::credits::sync::run_due(app.db(), due, 10)
            .await
            .unwrap();
        let job = newest().await;
        if job.status == "done" {
            return job;
        }
        eprintln!("sync attempt failed, retrying: {:?}", job.last_error);
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    let job = newest().await;
    panic!("the job did not apply: {:?}", job.last_error);
}
