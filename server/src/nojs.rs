//! Forms sent without JavaScript (or before the bundle has loaded), made as useful as with it.
//!
//! A server function answers such a form with a redirect to the page it came from; a rejected
//! one adds `?__path=…&__err=…` (the error) to that address. Left alone, that loses what was
//! typed (the page is drawn afresh) and, from a page that already carried an error, the
//! address grows with every rejection. Here:
//!
//! - the page to return to is the form's `__page` field (see `components::PageField`), with
//!   any earlier error taken out of it, and the field is removed before the server function
//!   reads the form (JavaScript submissions included);
//! - a rejected form is answered with its page drawn again, with the error and what was typed
//!   (`components::Submitted`, passwords left out), under the error's own status (422, 409…);
//!   the page's script puts the page's address back in the address bar.
use app::components::Submitted;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::error::AppError;
use leptos::server_fn::error::ServerFnUrlError;
use url::form_urlencoded;

/// The largest form read here (the longest is an application: a few answers of a few thousand
/// characters); larger bodies are refused, as the server function's own limit would.
const MAX_FORM_BYTES: usize = 1 << 20;

pub async fn layer(req: Request, next: Next) -> Response {
    let is_form = req.method() == Method::POST
        && req.uri().path().starts_with("/api/")
        && !req.uri().path().starts_with("/api/v1/")
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(req).await;
    }
    let no_js = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let mut page = None;
    let mut fields = Vec::new();
    for (k, v) in form_urlencoded::parse(&bytes) {
        if k == "__page" {
            page = Some(v.into_owned());
        } else {
            fields.push((k.into_owned(), v.into_owned()));
        }
    }
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish();
    parts.headers.remove(header::CONTENT_LENGTH);
    if !no_js {
        return next.run(Request::from_parts(parts, Body::from(body))).await;
    }
    // Where to send the person back: the form's page, else the browser's Referer; in either,
    // without an earlier error.
    let back = page
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .or_else(|| {
            parts
                .headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_string(),
                })
        })
        .map(|p| without_error(&p));
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    if let Some(back) = &back {
        if let Ok(v) = HeaderValue::from_str(&format!("http://{host}{back}")) {
            parts.headers.insert(header::REFERER, v);
        }
    }
    let function = parts.uri.path().to_string();
    let headers = parts.headers.clone();
    let res = next
        .clone()
        .run(Request::from_parts(parts, Body::from(body)))
        .await;
    let Some((target, error)) = rejection(&res) else {
        return res;
    };
    // The page again, as its own GET would draw it, with the error and what was typed.
    let mut again = match Request::builder()
        .method(Method::GET)
        .uri(&target)
        .body(Body::empty())
    {
        Ok(r) => r,
        Err(_) => return res,
    };
    for (name, value) in headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            again.headers_mut().insert(name.clone(), value.clone());
        }
    }
    again.extensions_mut().insert(Submitted {
        path: function,
        url: target,
        fields: fields
            .into_iter()
            .filter(|(k, _)| !k.contains("password") && !k.starts_with("__"))
            .collect(),
    });
    let mut page = next.run(again).await;
    if page.status() == StatusCode::OK {
        *page.status_mut() = error.status();
    }
    page
}

/// The page address and the error of a server function's redirect after a rejection.
fn rejection(res: &Response) -> Option<(String, AppError)> {
    if !res.status().is_redirection() {
        return None;
    }
    let location = res.headers().get(header::LOCATION)?.to_str().ok()?;
    let url = url::Url::parse(location)
        .or_else(|_| url::Url::parse("http://localhost").and_then(|b| b.join(location)))
        .ok()?;
    let err = url
        .query_pairs()
        .find(|(k, _)| k == "__err")
        .map(|(_, v)| v.into_owned())?;
    let error = ServerFnUrlError::<AppError>::decode_err(&err);
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    Some((target, error))
}

/// `path` without the `__path`/`__err` of an earlier rejection.
fn without_error(path: &str) -> String {
    let Ok(url) = url::Url::parse("http://localhost").and_then(|b| b.join(path)) else {
        return "/".into();
    };
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "__path" && k != "__err")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.path().to_string()
    } else {
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish();
        format!("{}?{q}", url.path())
    }
}

#[cfg(test)]
mod tests {
    use super::without_error;

    #[test]
    fn an_earlier_error_is_taken_out_of_the_page_address() {
        assert_eq!(
            without_error("/startup?__path=%2Fapi%2Fx&__err=e30"),
            "/startup"
        );
        assert_eq!(
            without_error("/admin/grants?page=2&__path=a&__err=b&__path=a&__err=b&q=x"),
            "/admin/grants?page=2&q=x"
        );
        assert_eq!(without_error("/cohorts/4"), "/cohorts/4");
    }
}
