//! Looking up accounts on other servers by handle (`user@host`) through WebFinger.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

use crate::federation::{
    fetch::{FetchError, SafeClient, WEBFINGER_MAX_REDIRECTS},
    protocol::webfinger::Jrd,
};

/// A fediverse handle: `user@host`, typed with or without the leading `@`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handle {
    /// The user part.
    pub user: String,
    /// The host, with a port when one was given.
    pub host: String,
}

impl Handle {
    /// Parses `@user@host` or `user@host`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let raw = raw.strip_prefix("acct:").unwrap_or(raw);
        let raw = raw.strip_prefix('@').unwrap_or(raw);
        let (user, host) = raw
            .split_once('@')
            .filter(|(u, h)| !u.is_empty() && !h.is_empty() && !h.contains('@'))
            .ok_or_else(|| "enter your handle as you@your.server".to_owned())?;
        let user_ok = user.len() <= 256 && user.chars().all(|c| c.is_alphanumeric() || "_.-".contains(c));
        let host_ok = host.len() <= 253 && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
        if !user_ok || !host_ok {
            return Err(format!("{raw:?} is not a fediverse handle"));
        }
        Ok(Self { user: user.to_owned(), host: host.to_ascii_lowercase() })
    }
}

/// Fetches the JRD for a handle. https is used unless the operator allow-listed the host
/// for plain http (local networks and tests).
pub async fn lookup(client: &SafeClient, handle: &Handle) -> Result<Jrd, FetchError> {
    let resource = utf8_percent_encode(&format!("acct:{}@{}", handle.user, handle.host), NON_ALPHANUMERIC).to_string();
    let url_for =
        |scheme: &str| Url::parse(&format!("{scheme}://{}/.well-known/webfinger?resource={resource}", handle.host));
    let https = url_for("https").map_err(|_| FetchError::Refused(handle.host.clone()))?;
    let url = match url_for("http") {
        Ok(http) if client.check_url(&http).is_ok() => http,
        _ => https,
    };
    let (_final_url, json) =
        client.get_json(&url, "application/jrd+json, application/json", WEBFINGER_MAX_REDIRECTS).await?;
    serde_json::from_value(json).map_err(|e| FetchError::BadResponse {
        host: handle.host.clone(),
        reason: format!("not a WebFinger document: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_parse_in_the_forms_people_type() {
        let want = Handle { user: "ada".into(), host: "mastodon.social".into() };
        for raw in ["ada@mastodon.social", "@ada@mastodon.social", " @ada@Mastodon.Social ", "acct:ada@mastodon.social"]
        {
            assert_eq!(Handle::parse(raw).as_ref(), Ok(&want), "{raw}");
        }
        assert_eq!(Handle::parse("ada@127.0.0.1:8080").map(|h| h.host), Ok("127.0.0.1:8080".into()));
        for bad in ["ada", "@ada", "ada@", "a@b@c", "ada@host/path", "<x>@host", "ada@ho st"] {
            assert!(Handle::parse(bad).is_err(), "{bad}");
        }
    }
}
