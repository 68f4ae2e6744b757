//! No request waits forever: a panic anywhere in a request (its handler, a server function, a
//! page's resource running in a task of its own) and a request that outlives the time limit
//! both become an error answer, and the panic is logged once with its cause.
//!
//! A panic in the handler's own future is caught around it. A page's resources run in tasks
//! that Leptos spawns, where a panic would only end that task and leave the page waiting for
//! it: Hatchery's executor (`install_executor`) runs every task spawned while a request is
//! being answered under that request's `Alarm`, catches a panic there and rings the alarm,
//! which ends the request at once.
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

tokio::task_local! {
    /// The alarm of the request being answered, in its own task and in every task it spawns.
    static ALARM: Arc<Alarm>;
}

/// Rung when a task of a request panicked.
#[derive(Default)]
pub struct Alarm {
    rung: std::sync::atomic::AtomicBool,
    notify: Notify,
}

impl Alarm {
    fn ring(&self) {
        self.rung.store(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    async fn rung(&self) {
        loop {
            let notified = self.notify.notified();
            if self.rung.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

/// Runs `fut` under the current request's alarm (if any): a panic rings it instead of
/// vanishing with the task.
fn guarded<F>(fut: F) -> Pin<Box<dyn Future<Output = ()> + Send>>
where
    F: Future<Output = ()> + Send + 'static,
{
    match ALARM.try_with(Arc::clone) {
        Ok(alarm) => Box::pin(ALARM.scope(alarm.clone(), async move {
            if AssertUnwindSafe(fut).catch_unwind().await.is_err() {
                alarm.ring();
            }
        })),
        // Outside a request (a worker, start-up): the panic is logged by the hook, and the
        // task ends as it would on tokio.
        Err(_) => Box::pin(async move {
            let _ = AssertUnwindSafe(fut).catch_unwind().await;
        }),
    }
}

/// Leptos's task spawner: tokio's, with every task guarded (see the module comment).
struct GuardedExecutor;

impl any_spawner::CustomExecutor for GuardedExecutor {
    fn spawn(&self, fut: any_spawner::PinnedFuture<()>) {
        tokio::spawn(guarded(fut));
    }

    fn spawn_local(&self, fut: any_spawner::PinnedLocalFuture<()>) {
        let alarm = ALARM.try_with(Arc::clone).ok();
        tokio::task::spawn_local(async move {
            if AssertUnwindSafe(fut).catch_unwind().await.is_err() {
                if let Some(alarm) = alarm {
                    alarm.ring();
                }
            }
        });
    }

    fn poll_local(&self) {}
}

/// Makes Hatchery's executor the one Leptos spawns on, and logs panics through tracing, once
/// each with their cause and place. Call before building the router; later calls do nothing.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only if an executor is already set, which `install` is there to prevent.
        if any_spawner::Executor::init_custom_executor(GuardedExecutor).is_err() {
            tracing::warn!("an executor was set before Hatchery's: page panics are not caught");
        }
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Without a log (a test, a command before logging starts), the usual report.
            if !tracing::dispatcher::has_been_set() {
                return default_hook(info);
            }
            let cause = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            // With RUST_BACKTRACE=1, where it came from too.
            let trace = std::backtrace::Backtrace::capture();
            if trace.status() == std::backtrace::BacktraceStatus::Captured {
                tracing::error!(%cause, %place, %trace, "panic");
            } else {
                tracing::error!(%cause, %place, "panic");
            }
        }));
    });
}

/// The middleware: answers within `limit`, and at once after a panic.
pub async fn layer(limit: Duration, req: Request, next: Next) -> Response {
    let locale = domain::i18n::headers_locale(req.headers());
    let api = req.uri().path().starts_with("/api/v1");
    let path = req.uri().path().to_string();
    let alarm = Arc::new(Alarm::default());
    let run = ALARM.scope(
        alarm.clone(),
        AssertUnwindSafe(next.run(req)).catch_unwind(),
    );
    let failure = tokio::select! {
        res = run => match res {
            Ok(res) => return res,
            Err(_) => Failure::Panic,
        },
        _ = alarm.rung() => Failure::Panic,
        _ = tokio::time::sleep(limit) => Failure::TimedOut,
    };
    match failure {
        Failure::Panic => tracing::error!(%path, "request failed: a panic while answering it"),
        Failure::TimedOut => {
            tracing::error!(%path, limit_s = limit.as_secs_f64(), "request exceeded its time limit")
        }
    }
    failure.answer(locale, api)
}

enum Failure {
    Panic,
    TimedOut,
}

impl Failure {
    fn answer(&self, locale: domain::i18n::Locale, api: bool) -> Response {
        let (status, key) = match self {
            Failure::Panic => (StatusCode::INTERNAL_SERVER_ERROR, "error.internal"),
            Failure::TimedOut => (StatusCode::SERVICE_UNAVAILABLE, "error.timeout"),
        };
        let message = locale.t(key);
        let mut res = if api {
            let body = serde_json::json!({"error": {"code": key, "message": message}});
            (status, axum::Json(body)).into_response()
        } else {
            (status, error_page(locale, &message)).into_response()
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

/// A page that needs nothing that may have failed: no database, no rendering.
pub fn error_page(locale: domain::i18n::Locale, message: &str) -> axum::response::Html<String> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    axum::response::Html(format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/hatchery.css\"></head>\
         <body><main class=\"page\"><h1>{title}</h1><p role=\"alert\">{message}</p>\
         <p><a href=\"/\">{home}</a></p></main></body></html>",
        lang = locale.tag(),
        title = escape(&locale.t("app.name")),
        message = escape(message),
        home = escape(&locale.t("nav.home")),
    ))
}
