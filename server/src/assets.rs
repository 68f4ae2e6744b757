//! The browser bundle — the wasm module, its JavaScript glue and the stylesheet — served from
//! memory under names that carry a hash of the build (`/pkg/hatchery.3f9c…​.wasm`), so a
//! browser keeps them for a year (`immutable`) and a new build is fetched at once because its
//! pages name new files.
//!
//! Each file goes out in the best encoding the browser accepts: brotli, else gzip, else as
//! is (`Vary: Accept-Encoding`). The brotli and gzip copies are made at build time
//! (`compress_site` in `scripts/setup.sh`, beside each file as `.br` and `.gz`); a copy older
//! than its file is ignored (it belongs to an earlier build), and a missing gzip copy is made
//! in memory on first use. The unhashed names stay served, revalidated on every use
//! (`no-cache` with an `ETag`), for pages rendered before a deployment; everything else under
//! `/pkg/` (wasm-bindgen's snippets) comes from the directory.
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// The bundle's base name, as cargo-leptos writes it (`LEPTOS_OUTPUT_NAME`).
pub const OUTPUT_NAME: &str = "hatchery";
/// What a hashed name may be kept for: its content never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

const KINDS: [(&str, &str); 3] = [
    ("js", "text/javascript; charset=utf-8"),
    ("wasm", "application/wasm"),
    ("css", "text/css; charset=utf-8"),
];

/// One built file and its encoded copies.
struct Asset {
    path: PathBuf,
    content_type: &'static str,
    /// The hash of the content, the `ETag`'s base.
    tag: String,
    identity: Bytes,
    brotli: OnceLock<Option<Bytes>>,
    gzip: OnceLock<Bytes>,
}

/// The files of one build, found in the site's `pkg` directory when the server starts.
pub struct Bundle {
    /// `hatchery.<hash>` when the bundle is there, else `hatchery` (tests without a build).
    stem: String,
    files: HashMap<&'static str, Asset>,
}

impl Bundle {
    /// The bundle under `site_root`, read once per process and directory.
    pub fn load(site_root: &Path) -> Arc<Bundle> {
        static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<Bundle>>>> = OnceLock::new();
        let mut loaded = LOADED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        loaded
            .entry(site_root.to_path_buf())
            .or_insert_with(|| Arc::new(Bundle::read(&site_root.join("pkg"))))
            .clone()
    }

    fn read(pkg: &Path) -> Bundle {
        let mut files = HashMap::new();
        let mut build = Sha256::new();
        for (ext, content_type) in KINDS {
            let path = pkg.join(format!("{OUTPUT_NAME}.{ext}"));
            let Ok(content) = std::fs::read(&path) else {
                // Without the whole bundle (tests, or a build under way) nothing is hashed.
                return Bundle {
                    stem: OUTPUT_NAME.into(),
                    files: HashMap::new(),
                };
            };
            let tag = short_hash(&Sha256::digest(&content));
            build.update(tag.as_bytes());
            files.insert(
                ext,
                Asset {
                    path,
                    content_type,
                    tag,
                    identity: Bytes::from(content),
                    brotli: OnceLock::new(),
                    gzip: OnceLock::new(),
                },
            );
        }
        Bundle {
            stem: format!("{OUTPUT_NAME}.{}", short_hash(&build.finalize())),
            files,
        }
    }

    /// The name pages use for the bundle's files (`<stem>.js`, `<stem>.wasm`, `<stem>.css`).
    pub fn stem(&self) -> &str {
        &self.stem
    }

    /// The answer for `/pkg/<name>` when it names one of the bundle's files.
    pub async fn respond(
        self: &Arc<Self>,
        path: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> Option<Response> {
        let name = path.strip_prefix("/pkg/")?;
        let (stem, ext) = name.rsplit_once('.')?;
        let (&ext, asset) = self.files.get_key_value(ext)?;
        let hashed = stem == self.stem;
        if !hashed && stem != OUTPUT_NAME {
            return None;
        }
        let encoding = Encoding::chosen(headers);
        let (encoding, body) = if asset.ready(encoding) {
            asset.encoded(encoding)
        } else {
            // The first read of a compressed copy (or making the gzip one) is file and CPU
            // work; later ones are a clone of what is kept.
            let bundle = self.clone();
            tokio::task::spawn_blocking(move || bundle.files[ext].encoded(encoding))
                .await
                .ok()?
        };
        let etag = format!("\"{}{}\"", asset.tag, encoding.suffix());
        let mut res = if matches_etag(headers, &etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else if method == Method::HEAD {
            let mut res = StatusCode::OK.into_response();
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            res
        } else {
            Response::new(Body::from(body))
        };
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        if let Some(coding) = encoding.header() {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if hashed { IMMUTABLE } else { "no-cache" }),
        );
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        Some(res)
    }
}

impl Asset {
    /// Whether `encoded(wanted)` needs no file or CPU work any more.
    fn ready(&self, wanted: Encoding) -> bool {
        match wanted {
            Encoding::Identity => true,
            Encoding::Gzip => self.gzip.get().is_some(),
            Encoding::Brotli => match self.brotli.get() {
                Some(Some(_)) => true,
                Some(None) => self.gzip.get().is_some(),
                None => false,
            },
        }
    }

    /// The content in `wanted`'s encoding, or in the next best one there is.
    fn encoded(&self, wanted: Encoding) -> (Encoding, Bytes) {
        if wanted == Encoding::Brotli {
            let brotli = self
                .brotli
                .get_or_init(|| fresh_copy(&self.path, "br").map(Bytes::from));
            if let Some(body) = brotli {
                return (Encoding::Brotli, body.clone());
            }
        }
        if wanted != Encoding::Identity {
            let gzip = self
                .gzip
                .get_or_init(|| match fresh_copy(&self.path, "gz") {
                    Some(copy) => Bytes::from(copy),
                    None => gzip(&self.identity),
                });
            return (Encoding::Gzip, gzip.clone());
        }
        (Encoding::Identity, self.identity.clone())
    }
}

/// `file.<ext>` beside `file` when it was written after it (else it is an earlier build's).
fn fresh_copy(file: &Path, ext: &str) -> Option<Vec<u8>> {
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".{ext}"));
    let copy = PathBuf::from(name);
    let modified = |p: &Path| -> Option<SystemTime> { std::fs::metadata(p).ok()?.modified().ok() };
    let (made, source) = (modified(&copy)?, modified(file)?);
    if made < source {
        tracing::warn!(copy = %copy.display(), "a compressed copy is older than its file: not served");
        return None;
    }
    std::fs::read(&copy).ok()
}

fn gzip(content: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a vector cannot fail.
    let _ = encoder.write_all(content);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn short_hash(digest: &[u8]) -> String {
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| {
            let candidate = candidate.trim();
            candidate == "*" || candidate.trim_start_matches("W/") == etag
        })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The best encoding `Accept-Encoding` allows (a coding with `q=0` is refused).
    fn chosen(headers: &HeaderMap) -> Encoding {
        let mut brotli = false;
        let mut gzip = false;
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                if refused {
                    continue;
                }
                match coding.as_str() {
                    "br" => brotli = true,
                    "gzip" | "x-gzip" => gzip = true,
                    "*" => (brotli, gzip) = (true, true),
                    _ => {}
                }
            }
        }
        if brotli {
            Encoding::Brotli
        } else if gzip {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => "-br",
            Encoding::Gzip => "-gz",
            Encoding::Identity => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> Encoding {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        Encoding::chosen(&headers)
    }

    #[test]
    fn the_best_accepted_encoding_is_chosen() {
        assert_eq!(accepting("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(accepting("gzip, deflate"), Encoding::Gzip);
        assert_eq!(accepting("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(accepting("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(accepting("identity"), Encoding::Identity);
        assert_eq!(accepting("*"), Encoding::Brotli);
        assert_eq!(Encoding::chosen(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn an_etag_matches_in_a_list_and_weakly() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc-br\""),
        );
        assert!(matches_etag(&headers, "\"abc-br\""));
        assert!(!matches_etag(&headers, "\"abc\""));
    }
}
