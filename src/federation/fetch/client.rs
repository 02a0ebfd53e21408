//! [`SafeClient`]: the one outbound HTTP client (FEDERATION.md §5). URLs are checked before
//! any connection (scheme, credentials, address literals, the allow-list's ports), host
//! names again when they are resolved ([`CheckingResolver`]); redirects are followed by
//! hand so that every hop is checked; responses are capped in size and time (F3, F4).

use std::{
    fmt,
    net::IpAddr,
    sync::Arc,
    time::{Duration, SystemTime},
};

use reqwest::{
    Method, StatusCode,
    header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION},
};
use url::Url;

use super::{
    FetchBudget, FetchError, PageLimit,
    content_type::{ACTIVITY_ACCEPT, is_activity_content_type},
    error::error_chain,
    resolver::CheckingResolver,
};
use crate::{
    federation::signatures::{SigningKey, sign_request},
    net::{AllowList, is_special_address},
};

/// Largest response body we read from another server (F4).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Connect timeout (F4).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-request timeout (F4).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed for WebFinger (F3).
pub const WEBFINGER_MAX_REDIRECTS: usize = 5;
/// Redirects followed for ActivityPub objects (F3).
pub const OBJECT_MAX_REDIRECTS: usize = 1;

/// Idle keep-alive connections kept per host: 32. Deliveries use at most
/// `delivery_per_host` connections to a host at once, so they never leave more than that;
/// fetches are not limited per host, and a burst of first contacts from one big server
/// (replies from many of its users at once) fetches that many actor documents concurrently.
/// A smaller pool closes all but a few of those connections after each fetch and opens them
/// again for the next (over TLS, each is also a handshake). Idle connections still close
/// after [`POOL_IDLE_TIMEOUT`], so this bounds sockets only by what was in use in the last
/// two seconds.
pub const POOL_MAX_IDLE_PER_HOST: usize = 32;
/// How long an idle connection is kept. A fan-out touches thousands of hosts once each; with
/// the library default (90 s, unbounded per host) every one of them would hold a socket (and
/// its buffers) for a minute and a half: 10,000 hosts exhaust a 20,000-descriptor limit once
/// the peer's side is counted. Two seconds keeps back-to-back requests to a host on one
/// connection while bounding idle sockets to about four seconds' worth of new hosts.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The SSRF-safe client. Cheap to clone.
#[derive(Clone)]
pub struct SafeClient {
    client: reqwest::Client,
    allow: Arc<AllowList>,
}

impl fmt::Debug for SafeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SafeClient").field("allow", &self.allow).finish_non_exhaustive()
    }
}

impl SafeClient {
    /// Builds the client. `user_agent` names us and our public URL, as peers expect.
    pub fn new(allow: AllowList, user_agent: &str) -> Result<Self, reqwest::Error> {
        let allow = Arc::new(allow);
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .dns_resolver(Arc::new(CheckingResolver { allow: allow.clone() }))
            .build()?;
        Ok(Self { client, allow })
    }

    /// Checks a URL before any connection: scheme, and address literals. Host names are
    /// checked again at connect time by the resolver.
    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        let refused = || FetchError::Refused(url.to_string());
        let listed = self.allow.allows_url(url);
        match url.scheme() {
            "https" => {}
            "http" if listed => {}
            _ => return Err(refused()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refused());
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(refused()),
        };
        if let Some(ip) = literal
            && is_special_address(ip)
            && !listed
        {
            return Err(refused());
        }
        Ok(())
    }

    /// For a host name that resolves to special addresses, checks the URL's port against the
    /// allow-list entries of those addresses. The resolver repeats the address check at
    /// connect time (it cannot see ports). Only runs when address entries are configured.
    async fn check_resolved_port(&self, url: &Url) -> Result<(), FetchError> {
        let (Some(url::Host::Domain(name)), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Ok(());
        };
        if !self.allow.has_net_entries() || self.allow.allows_url(url) {
            return Ok(());
        }
        let addrs = tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| FetchError::Unreachable { host: name.to_owned(), reason: e.to_string() })?;
        for addr in addrs {
            if is_special_address(addr.ip()) && !self.allow.allows_addr(addr) {
                return Err(FetchError::Refused(url.to_string()));
            }
        }
        Ok(())
    }

    /// GETs an ActivityPub document, signed by `signer` (the instance actor, so servers in
    /// authorized-fetch mode answer), following at most one redirect (F3), and requiring an
    /// ActivityPub content type (F2). Returns the final URL and the document: which id the
    /// document may be accepted under is `identity::fetch_object`'s decision, the one caller
    /// outside this module.
    pub async fn get_activity_json(
        &self,
        url: &Url,
        signer: Option<&SigningKey>,
    ) -> Result<(Url, serde_json::Value), FetchError> {
        self.get(url, ACTIVITY_ACCEPT, OBJECT_MAX_REDIRECTS, signer, is_activity_content_type).await
    }

    /// [`Self::get_activity_json`] on a budget: one fetch is taken from `budget` first, and
    /// none is made when it is spent.
    pub async fn get_activity_json_budgeted(
        &self,
        url: &Url,
        signer: Option<&SigningKey>,
        budget: &mut FetchBudget,
    ) -> Result<(Url, serde_json::Value), FetchError> {
        if !budget.take() {
            return Err(FetchError::BudgetSpent(url.to_string()));
        }
        self.get_activity_json(url, signer).await
    }

    /// One page of a collection, counted against both the activity's budget and the
    /// collection's [`PageLimit`].
    pub async fn get_collection_page(
        &self,
        url: &Url,
        signer: Option<&SigningKey>,
        budget: &mut FetchBudget,
        pages: &mut PageLimit,
    ) -> Result<(Url, serde_json::Value), FetchError> {
        if !pages.take() {
            return Err(FetchError::BudgetSpent(url.to_string()));
        }
        self.get_activity_json_budgeted(url, signer, budget).await
    }

    /// POSTs a signed activity to an inbox (the caller signs `headers`). Redirects are not
    /// followed. Returns the status and any `Retry-After` value.
    pub async fn post_activity(
        &self,
        inbox: &Url,
        headers: HeaderMap,
        body: impl Into<reqwest::Body>,
    ) -> Result<(StatusCode, Option<String>), FetchError> {
        self.check_url(inbox)?;
        self.check_resolved_port(inbox).await?;
        let host = inbox.host_str().unwrap_or_default().to_owned();
        let response = self.client.post(inbox.clone()).headers(headers).body(body).send().await.map_err(|e| {
            FetchError::Unreachable { host, reason: if e.is_timeout() { "timed out".into() } else { error_chain(&e) } }
        })?;
        let retry_after =
            response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok((response.status(), retry_after))
    }

    /// GETs a JSON document (`accept` names the media type), following at most
    /// `max_redirects` same-scheme redirects, each checked like the first URL. Returns the
    /// final URL and the body.
    pub async fn get_json(
        &self,
        url: &Url,
        accept: &str,
        max_redirects: usize,
    ) -> Result<(Url, serde_json::Value), FetchError> {
        self.get(url, accept, max_redirects, None, |ct| ct.contains("json")).await
    }

    /// One GET with its redirects, within [`REQUEST_TIMEOUT`] in all (F4): the client's own
    /// timeout applies per request, so without this deadline each redirect hop would get
    /// its own 10 seconds.
    async fn get(
        &self,
        url: &Url,
        accept: &str,
        max_redirects: usize,
        signer: Option<&SigningKey>,
        content_type_ok: fn(&str) -> bool,
    ) -> Result<(Url, serde_json::Value), FetchError> {
        let hops = self.get_following(url, accept, max_redirects, signer, content_type_ok);
        tokio::time::timeout(REQUEST_TIMEOUT, hops).await.unwrap_or_else(|_| {
            Err(FetchError::Unreachable {
                host: url.host_str().unwrap_or_default().to_owned(),
                reason: "timed out".into(),
            })
        })
    }

    async fn get_following(
        &self,
        url: &Url,
        accept: &str,
        max_redirects: usize,
        signer: Option<&SigningKey>,
        content_type_ok: fn(&str) -> bool,
    ) -> Result<(Url, serde_json::Value), FetchError> {
        let mut current = url.clone();
        for _hop in 0..=max_redirects {
            self.check_url(&current)?;
            self.check_resolved_port(&current).await?;
            let host = current.host_str().unwrap_or_default().to_owned();
            let unreachable = |e: reqwest::Error| FetchError::Unreachable {
                host: host.clone(),
                reason: if e.is_timeout() { "timed out".into() } else { error_chain(&e) },
            };
            let mut headers = HeaderMap::new();
            headers
                .insert(ACCEPT, HeaderValue::from_str(accept).map_err(|_| FetchError::Refused(current.to_string()))?);
            if let Some(key) = signer {
                sign_request(key, &Method::GET, &current, &mut headers, None, SystemTime::now())
                    .map_err(|e| FetchError::Refused(format!("{current} ({e})")))?;
            }
            let mut response = self.client.get(current.clone()).headers(headers).send().await.map_err(unreachable)?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                    .ok_or_else(|| FetchError::BadResponse {
                        host: host.clone(),
                        reason: "redirect without a usable Location".into(),
                    })?;
                if next.scheme() != current.scheme() || next == current {
                    return Err(FetchError::BadResponse { host, reason: "redirect changes scheme or loops".into() });
                }
                current = next;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status { host, status });
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !content_type_ok(&content_type) {
                return Err(FetchError::BadResponse {
                    host,
                    reason: format!("content type {content_type:?} is not accepted"),
                });
            }
            if response.content_length().is_some_and(|len| len > MAX_RESPONSE_BYTES as u64) {
                return Err(FetchError::BadResponse { host, reason: "response larger than 1 MiB".into() });
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(FetchError::BadResponse { host, reason: "response larger than 1 MiB".into() });
                }
                body.extend_from_slice(&chunk);
            }
            let json = serde_json::from_slice(&body)
                .map_err(|e| FetchError::BadResponse { host, reason: format!("invalid JSON: {e}") })?;
            return Ok((current, json));
        }
        Err(FetchError::BadResponse {
            host: url.host_str().unwrap_or_default().to_owned(),
            reason: format!("more than {max_redirects} redirects"),
        })
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
