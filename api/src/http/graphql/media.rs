//! Content negotiation for GraphQL over HTTP.
//!
//! `application/graphql-response+json` is the spec's media type: with it, a request that
//! fails before execution gets a 4xx status and no `data`. `application/json` is the legacy
//! type, answered 200 for GraphQL errors as older clients expect; it is also the answer to a
//! missing Accept header or `*/*`, as the spec asks.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    GraphqlResponseJson,
    Json,
}

impl Media {
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }

    /// The media type to answer in, or `None` when the client accepts neither (406).
    pub fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let Some(accept) = headers.get(ACCEPT) else {
            return Some(Self::Json);
        };
        let accept = accept.to_str().ok()?;
        // Qualities are compared in thousandths, the precision RFC 9110 allows.
        let mut best: Option<(Self, u16)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
            let quality = parts
                .find_map(|param| param.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map_or(1000, thousandths);
            let media = match essence.as_str() {
                "application/graphql-response+json" => Self::GraphqlResponseJson,
                "application/json" | "application/*" | "*/*" => Self::Json,
                _ => continue,
            };
            // On equal quality the spec's own type wins over the legacy one.
            let better = match best {
                None => true,
                Some((held, q)) => {
                    quality > q || (quality == q && media == Self::GraphqlResponseJson && held == Self::Json)
                }
            };
            if quality > 0 && better {
                best = Some((media, quality));
            }
        }
        best.map(|(media, _)| media)
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to 0..=1000 first
fn thousandths(q: f32) -> u16 {
    (q.clamp(0.0, 1.0) * 1000.0).round() as u16
}

/// Whether the client would rather see a page than JSON: browsers get GraphiQL.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.split(',').next().is_some_and(|first| first.trim().starts_with("text/html")))
}

/// A POST body must be JSON in UTF-8. A missing Content-Type is read as JSON; a browser cannot
/// send one without it, so this does not open a cross-site path, while `text/plain` and form
/// types, which a page can send cross-site without a preflight, are refused.
pub fn is_json_body(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    let essence_ok = parts.next().is_some_and(|essence| essence.eq_ignore_ascii_case("application/json"));
    let charset_ok = parts.all(|param| {
        param.strip_prefix("charset=").is_none_or(|charset| charset.trim_matches('"').eq_ignore_ascii_case("utf-8"))
    });
    essence_ok && charset_ok
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accept(value: &str) -> Option<Media> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).unwrap());
        Media::negotiate(&headers)
    }

    #[test]
    fn negotiates_by_quality_and_prefers_the_spec_type_on_ties() {
        assert_eq!(Media::negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(accept("application/json, application/graphql-response+json"), Some(Media::GraphqlResponseJson));
        assert_eq!(accept("application/graphql-response+json;q=0.5, application/json"), Some(Media::Json));
        assert_eq!(accept("application/json;q=0"), None);
        assert_eq!(accept("text/csv"), None);
    }

    #[test]
    fn only_json_bodies_in_utf8_are_read() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            is_json_body(&headers)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=UTF-8"));
        assert!(!with("application/json; charset=latin1"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(is_json_body(&HeaderMap::new()));
    }
}
