//! Extractors and responders shared by handlers: content negotiation and ActivityPub JSON.

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::federation::ACTIVITY_JSON;

/// What the client asked for in `Accept`: an ActivityPub document or a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    /// `application/activity+json` or `application/ld+json` (with or without profile).
    ActivityJson,
    /// Anything else: browsers get HTML.
    Html,
}

impl Representation {
    /// Decides from an `Accept` header value.
    pub fn from_accept(accept: &str) -> Self {
        let wants_ap = accept.split(',').any(|part| {
            let media = part.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            media == "application/activity+json" || media == "application/ld+json"
        });
        if wants_ap { Self::ActivityJson } else { Self::Html }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Representation {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let accept = parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
        Ok(Self::from_accept(accept))
    }
}

/// A JSON body served as `application/activity+json`, varying on `Accept`.
pub struct ActivityJson<T>(pub T);

impl<T: Serialize> IntoResponse for ActivityJson<T> {
    fn into_response(self) -> Response {
        json_with_type(&self.0, ACTIVITY_JSON, true)
    }
}

/// Serializes `body` with the given content type. `vary` adds `Vary: Accept` for URLs that
/// also serve HTML.
pub fn json_with_type<T: Serialize>(body: &T, content_type: &'static str, vary: bool) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            if vary {
                headers.insert(header::VARY, HeaderValue::from_static("Accept"));
            }
            response
        }
        Err(e) => crate::error::AppError::internal(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_mastodon_and_browsers() {
        use Representation::*;
        for (accept, want) in [
            ("application/activity+json", ActivityJson),
            ("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"", ActivityJson),
            ("application/activity+json, application/ld+json", ActivityJson),
            ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", Html),
            ("", Html),
            ("application/json", Html),
        ] {
            assert_eq!(Representation::from_accept(accept), want, "{accept}");
        }
    }
}
