//! Each platform's wire format: the markdown card, the signature, and what its answer means.
//!
//! - WeCom: `{"msgtype":"markdown","markdown":{"content":…}}` to the robot's address, whose
//!   `key` is the only credential; answers `{"errcode":0,"errmsg":"ok"}`.
//! - DingTalk: `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`; with 加签 the
//!   address gets `&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(key = secret,
//!   "<ms>\n<secret>")))>`; answers `{"errcode":0,…}`, 310000 when the signature (or the
//!   robot's keyword or IP rule) does not match.
//! - Feishu: `{"msg_type":"interactive","card":{header, elements:[markdown]}}`, with
//!   `"timestamp":"<s>","sign":base64(HMAC-SHA256(key = "<s>\n<secret>", empty message))`
//!   in the body; answers `{"code":0,…}`, 19021 when the signature does not match.
use super::{FailureKind, Platform};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::{json, Value};
use std::sync::LazyLock;
use std::time::Duration;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// WeCom refuses markdown longer than 4096 bytes.
const WECOM_MAX_BYTES: usize = 4096;
/// DingTalk and Feishu take more, but a group message should stay short.
const MAX_BYTES: usize = 12_000;

/// A request ready to go: where, and what.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub url: String,
    pub body: Value,
}

/// A failed attempt: why (for the page, translated) and what the platform said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub detail: String,
}

fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// DingTalk's `sign` for a timestamp in milliseconds, before URL encoding.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    hmac_base64(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    )
}

/// Feishu's `sign` for a timestamp in seconds: the string to sign is the key.
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    hmac_base64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

/// Cuts `text` to at most `max` bytes, on a character boundary, marking the cut.
fn fit(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The request for one message (`title` plain text, `body` markdown) at time `now`.
pub fn request(
    platform: Platform,
    webhook_url: &str,
    secret: &str,
    title: &str,
    body: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Outgoing {
    match platform {
        Platform::Wecom => Outgoing {
            url: webhook_url.to_string(),
            body: json!({
                "msgtype": "markdown",
                "markdown": {"content": fit(&format!("### {title}\n{body}"), WECOM_MAX_BYTES)},
            }),
        },
        Platform::Dingtalk => {
            let mut url = webhook_url.to_string();
            if !secret.is_empty() {
                let ts = now.timestamp_millis();
                let sign: String =
                    url::form_urlencoded::byte_serialize(dingtalk_sign(secret, ts).as_bytes())
                        .collect();
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&format!("timestamp={ts}&sign={sign}"));
            }
            Outgoing {
                url,
                body: json!({
                    "msgtype": "markdown",
                    "markdown": {
                        "title": title,
                        "text": fit(&format!("### {title}\n\n{body}"), MAX_BYTES),
                    },
                }),
            }
        }
        Platform::Feishu => {
            let mut card = json!({
                "msg_type": "interactive",
                "card": {
                    "config": {"wide_screen_mode": true},
                    "header": {
                        "title": {"tag": "plain_text", "content": title},
                        "template": "blue",
                    },
                    "elements": [{"tag": "markdown", "content": fit(body, MAX_BYTES)}],
                },
            });
            if !secret.is_empty() {
                let ts = now.timestamp();
                card["timestamp"] = json!(ts.to_string());
                card["sign"] = json!(feishu_sign(secret, ts));
            }
            Outgoing {
                url: webhook_url.to_string(),
                body: card,
            }
        }
    }
}

/// What an answer means: success, or why not. The platforms answer 200 with an error code
/// in the body for what they refuse (a wrong signature among them).
pub fn outcome(platform: Platform, status: u16, body: &str) -> Result<(), Failure> {
    let short = |s: &str| s.chars().take(300).collect::<String>();
    if status == 429 {
        return Err(Failure {
            kind: FailureKind::RateLimited,
            detail: format!("HTTP {status}"),
        });
    }
    if status >= 500 {
        return Err(Failure {
            kind: FailureKind::ServerError,
            detail: format!("HTTP {status}: {}", short(body.trim())),
        });
    }
    if !(200..300).contains(&status) {
        return Err(Failure {
            kind: FailureKind::ClientError,
            detail: format!("HTTP {status}: {}", short(body.trim())),
        });
    }
    let answer: Value = serde_json::from_str(body).map_err(|_| Failure {
        kind: FailureKind::Platform,
        detail: format!("HTTP {status}, not JSON: {}", short(body.trim())),
    })?;
    // Feishu says `code` (older robots `StatusCode`), the others `errcode`.
    let code = ["errcode", "code", "StatusCode"]
        .iter()
        .find_map(|k| answer.get(*k).and_then(Value::as_i64))
        .unwrap_or(0);
    if code == 0 {
        return Ok(());
    }
    let message = ["errmsg", "msg", "StatusMessage"]
        .iter()
        .find_map(|k| answer.get(*k).and_then(Value::as_str))
        .unwrap_or_default();
    let label = match platform {
        Platform::Feishu => "code",
        _ => "errcode",
    };
    let kind = match (platform, code) {
        (Platform::Dingtalk, 310000) | (Platform::Feishu, 19021) => FailureKind::Signature,
        (Platform::Wecom, 93000) => FailureKind::InvalidWebhook,
        (Platform::Dingtalk, 130101) | (Platform::Feishu, 11232) | (Platform::Wecom, 45009) => {
            FailureKind::RateLimited
        }
        _ => FailureKind::Platform,
    };
    Err(Failure {
        kind,
        detail: format!("{label} {code}: {}", short(message)),
    })
}

/// One HTTP client for the channels, with timeouts that keep a dead platform from holding the
/// worker.
static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    // reqwest needs the process's TLS provider installed (ring, as lettre and sqlx use).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap_or_default()
});

/// Posts one message and reads the platform's answer.
pub async fn send(
    platform: Platform,
    webhook_url: &str,
    secret: &str,
    title: &str,
    body: &str,
) -> Result<(), Failure> {
    let out = request(
        platform,
        webhook_url,
        secret,
        title,
        body,
        chrono::Utc::now(),
    );
    let unreachable = |e: reqwest::Error| Failure {
        kind: FailureKind::Unreachable,
        detail: without_url(&e),
    };
    let response = CLIENT
        .post(&out.url)
        .json(&out.body)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(unreachable)?;
    outcome(platform, status, &text)
}

/// A transport error without the address it names (which holds the robot's token).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}

/// The webhook address with its credentials masked: the value of every query parameter
/// (WeCom's `key`, DingTalk's `access_token`) and, for Feishu, the hook id at the path's end.
pub fn mask_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return String::new();
    };
    let mask = |v: &str| {
        let chars: Vec<char> = v.chars().collect();
        if chars.len() <= 8 {
            "…".to_string()
        } else {
            format!(
                "{}…{}",
                chars[..2].iter().collect::<String>(),
                chars[chars.len() - 2..].iter().collect::<String>()
            )
        }
    };
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), mask(&v)))
        .collect();
    if !pairs.is_empty() {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let path = parsed.path().to_string();
    if let Some((head, last)) = path.rsplit_once('/') {
        if last.len() > 16 {
            parsed.set_path(&format!("{head}/{}", mask(last)));
        }
    }
    // The masks are readable, not percent-encoded.
    parsed
        .to_string()
        .replace("%E2%80%A6", "…")
        .replace("%e2%80%a6", "…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dingtalk_signs_timestamp_and_secret_with_the_secret() {
        // Computed independently: printf '1700000000000\nSECabc' | openssl dgst -sha256 -hmac SECabc -binary | base64
        let sign = dingtalk_sign("SECabc", 1_700_000_000_000);
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(b"SECabc").unwrap();
        mac.update(b"1700000000000\nSECabc");
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(sign, expected);
        let now = chrono::DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let out = request(
            Platform::Dingtalk,
            "https://oapi.dingtalk.com/robot/send?access_token=t",
            "SECabc",
            "Title",
            "Body",
            now,
        );
        assert!(out.url.starts_with(
            "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign="
        ));
        assert!(
            !out.url.contains('+') && !out.url.ends_with('='),
            "{}",
            out.url
        );
        assert_eq!(out.body["msgtype"], "markdown");
        assert_eq!(out.body["markdown"]["title"], "Title");
    }

    #[test]
    fn feishu_signs_with_the_string_as_key_and_puts_it_in_the_body() {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let out = request(
            Platform::Feishu,
            "https://open.feishu.cn/open-apis/bot/v2/hook/x",
            "s3cret",
            "T",
            "**B**",
            now,
        );
        assert_eq!(out.body["timestamp"], "1700000000");
        assert_eq!(
            out.body["sign"],
            json!(feishu_sign("s3cret", 1_700_000_000))
        );
        assert_eq!(out.body["msg_type"], "interactive");
        assert_eq!(out.body["card"]["elements"][0]["tag"], "markdown");
        // Unsigned robots get no signature fields.
        let out = request(Platform::Feishu, "https://x/y", "", "T", "B", now);
        assert!(out.body.get("sign").is_none());
    }

    #[test]
    fn wecom_markdown_stays_within_4096_bytes() {
        let long = "长".repeat(3000);
        let out = request(
            Platform::Wecom,
            "https://x/?key=k",
            "",
            "T",
            &long,
            chrono::Utc::now(),
        );
        let content = out.body["markdown"]["content"].as_str().unwrap();
        assert!(content.len() <= WECOM_MAX_BYTES);
        assert!(content.ends_with('…'));
    }

    #[test]
    fn answers_are_read_per_platform() {
        assert_eq!(
            outcome(Platform::Dingtalk, 200, r#"{"errcode":0,"errmsg":"ok"}"#),
            Ok(())
        );
        assert_eq!(
            outcome(
                Platform::Dingtalk,
                200,
                r#"{"errcode":310000,"errmsg":"sign not match"}"#
            )
            .unwrap_err()
            .kind,
            FailureKind::Signature
        );
        let f = outcome(
            Platform::Feishu,
            200,
            r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time","data":{}}"#,
        )
        .unwrap_err();
        assert_eq!(f.kind, FailureKind::Signature);
        assert!(f.detail.starts_with("code 19021: sign match fail"));
        assert_eq!(
            outcome(
                Platform::Feishu,
                200,
                r#"{"StatusCode":0,"StatusMessage":"success"}"#
            ),
            Ok(())
        );
        assert_eq!(
            outcome(
                Platform::Wecom,
                200,
                r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#
            )
            .unwrap_err()
            .kind,
            FailureKind::InvalidWebhook
        );
        assert_eq!(
            outcome(Platform::Wecom, 404, "not found").unwrap_err().kind,
            FailureKind::ClientError
        );
        assert_eq!(
            outcome(Platform::Wecom, 503, "").unwrap_err().kind,
            FailureKind::ServerError
        );
        assert_eq!(
            outcome(Platform::Wecom, 429, "").unwrap_err().kind,
            FailureKind::RateLimited
        );
    }

    #[test]
    fn addresses_are_masked() {
        assert_eq!(
            mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=69…aa"
        );
        assert_eq!(
            mask_url(
                "https://open.feishu.cn/open-apis/bot/v2/hook/6223fc9e-58c6-4526-b463-140820b5e7c9"
            ),
            "https://open.feishu.cn/open-apis/bot/v2/hook/62…c9"
        );
    }
}
