//! Rendered pages kept for a few seconds, for the same person asking for the same page again.
//!
//! A page is rendered from the database for one signed-in person, so an entry is keyed by the
//! whole request as far as it can change the answer: host, path and query, every cookie (the
//! session among them) and the preferred languages. It is served again only while the data
//! version (`SqlStats::changes`) is the one it was rendered at, and for at most the configured
//! seconds:
//!
//! - every statement that may write moves the version, so a change made through this process
//!   (a form, a server function, the API, a worker, a test's own set-up) empties the cache;
//! - a non-GET request that wrote moves it again once answered, and so does a worker pass
//!   that wrote, when done: a write statement moves it before its commit, and a page read
//!   between the two would otherwise be kept;
//! - on PostgreSQL those two also tell the other replicas, whose versions move in turn
//!   (`changes`);
//! - a page whose rendering saw the version move is not kept at all;
//! - what the version can't see (a command-line process writing to the same database, a
//!   notification lost with its connection, the clock crossing a due date) shows at the latest
//!   when the entry expires.
//!
//! Only complete `200 text/html` answers without `Set-Cookie` are kept. A browser's reload
//! (`Cache-Control: max-age=0`, or `no-cache` for a hard one) always renders afresh.
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use domain::state::SqlStats;
use futures_util::{Stream, StreamExt};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A page larger than this is not kept (the decision board of a very large round, say).
const MAX_ENTRY_BYTES: usize = 4 << 20;
/// All entries together; past it the cache starts over.
const MAX_TOTAL_BYTES: usize = 64 << 20;

pub struct PageCache {
    ttl: Duration,
    sql: Arc<SqlStats>,
    /// Where changes are announced to other replicas (see `changes`).
    db: DatabaseConnection,
    slots: Mutex<Slots>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

#[derive(Default)]
struct Slots {
    /// The data version every entry here was rendered at.
    version: u64,
    bytes: usize,
    entries: HashMap<String, Entry>,
}

struct Entry {
    stored: Instant,
    headers: HeaderMap,
    body: Bytes,
}

impl PageCache {
    pub fn new(ttl: Duration, sql: Arc<SqlStats>, db: DatabaseConnection) -> Self {
        PageCache {
            ttl,
            sql,
            db,
            slots: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// Bytes held now (for `/metrics`).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        // A panic elsewhere while holding it leaves nothing half-written that matters here.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, key: &str) -> Option<Response> {
        let version = self.sql.changes();
        let mut slots = self.lock();
        if slots.version != version {
            return None;
        }
        let e = slots.entries.get(key)?;
        if e.stored.elapsed() < self.ttl {
            let mut res = Response::new(Body::from(e.body.clone()));
            *res.headers_mut() = e.headers.clone();
            return Some(res);
        }
        if let Some(old) = slots.entries.remove(key) {
            slots.bytes -= old.body.len();
        }
        None
    }

    fn put(&self, key: String, version: u64, headers: HeaderMap, body: Bytes) {
        if self.sql.changes() != version {
            return;
        }
        let mut slots = self.lock();
        if version < slots.version {
            // A newer page was kept while this one was being finished.
            return;
        }
        if slots.version != version || slots.bytes + body.len() > MAX_TOTAL_BYTES {
            slots.entries.clear();
            slots.bytes = 0;
            slots.version = version;
        }
        slots.bytes += body.len();
        let entry = Entry {
            stored: Instant::now(),
            headers,
            body,
        };
        if let Some(old) = slots.entries.insert(key, entry) {
            slots.bytes -= old.body.len();
        }
    }
}

/// The middleware: answers a repeated page from the cache, keeps what it may, and marks a
/// non-GET request's changes as committed once it is answered.
pub async fn layer(State(cache): State<Arc<PageCache>>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let version = cache.sql.changes();
        let res = next.run(req).await;
        if cache.sql.changes() != version {
            cache.sql.note_change();
            crate::changes::announce(&cache.db).await;
        }
        return res;
    }
    // A rejected form's page, drawn again with what one person typed, is theirs alone.
    let redrawn = req
        .extensions()
        .get::<app::components::Submitted>()
        .is_some();
    if req.method() != Method::GET || !cache.enabled() || !is_page_request(&req) || redrawn {
        return next.run(req).await;
    }
    let key = key_of(&req);
    let fresh_wanted = req
        .headers()
        .get_all(header::CACHE_CONTROL)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|v| v.contains("no-cache") || v.contains("max-age=0"))
        });
    if !fresh_wanted {
        if let Some(res) = cache.get(&key) {
            cache.hits.fetch_add(1, Relaxed);
            return res;
        }
    }
    cache.misses.fetch_add(1, Relaxed);
    let version = cache.sql.changes();
    let res = next.run(req).await;
    if !keepable(&res) {
        return res;
    }
    let (parts, body) = res.into_parts();
    // The kept copy is sent whole, with its length; the streamed original is chunked.
    let mut headers = parts.headers.clone();
    headers.remove(header::TRANSFER_ENCODING);
    headers.remove(header::CONTENT_LENGTH);
    let tee = Tee {
        inner: body.into_data_stream(),
        seen: Vec::new(),
        len: 0,
        done: Some(Box::new(move |body: Bytes| {
            cache.put(key, version, headers, body)
        })),
    };
    Response::from_parts(parts, Body::from_stream(tee))
}

/// GETs of pages: not the assets, server functions, the API, exports or probes.
fn is_page_request(req: &Request) -> bool {
    let path = req.uri().path();
    let other = path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.ends_with(".csv")
        || matches!(path, "/metrics" | "/healthz" | "/readyz" | "/favicon.svg");
    !other && !req.headers().contains_key(header::RANGE)
}

fn key_of(req: &Request) -> String {
    let h = req.headers();
    let text = |name: header::HeaderName| {
        h.get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let uri = req.uri();
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!(
        "{}\n{path}\n{}\n{}",
        text(header::HOST),
        text(header::COOKIE),
        text(header::ACCEPT_LANGUAGE)
    )
}

fn keepable(res: &Response) -> bool {
    res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
        && !res
            .headers()
            .get(header::CACHE_CONTROL)
            .is_some_and(|v| v.as_bytes().windows(8).any(|w| w == b"no-store"))
}

type Done = Box<dyn FnOnce(Bytes) + Send>;

/// Passes a body through unchanged and, if it ends normally and is small enough, hands a copy
/// to `done`. A body cut short (an error, or the client gone) is not kept.
struct Tee<S> {
    inner: S,
    seen: Vec<Bytes>,
    len: usize,
    done: Option<Done>,
}

impl<S> Stream for Tee<S>
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Unpin,
{
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let next = this.inner.poll_next_unpin(cx);
        match &next {
            Poll::Ready(Some(Ok(chunk))) if this.done.is_some() => {
                this.len += chunk.len();
                if this.len > MAX_ENTRY_BYTES {
                    this.done = None;
                    this.seen = Vec::new();
                } else {
                    this.seen.push(chunk.clone());
                }
            }
            Poll::Ready(Some(Err(_))) => this.done = None,
            Poll::Ready(None) => {
                if let Some(done) = this.done.take() {
                    let mut whole = Vec::with_capacity(this.len);
                    for chunk in this.seen.drain(..) {
                        whole.extend_from_slice(&chunk);
                    }
                    done(Bytes::from(whole));
                }
            }
            _ => {}
        }
        next
    }
}
