//! The one HTTP client for everything Openhouse fetches from other servers.
//!
//! It enforces `FEDERATION.md` §5: special-use addresses (loopback, private, link-local,
//! CGNAT, NAT64, 6to4, mapped/compatible IPv6, `0.0.0.0/8`, …) are refused **when the
//! connection is made**, through our own DNS resolver, so a name that resolves differently
//! the second time cannot slip through; redirects are followed by hand so that every hop is
//! checked again; responses are capped in size and time. Only entries of the operator's
//! [`AllowList`] (`OPENHOUSE_ALLOW_PRIVATE_FETCH`) may be reached on special addresses or
//! over plain `http://`; the check is never switched off as a whole.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration, SystemTime},
};

use reqwest::{
    Method, StatusCode,
    dns::{Addrs, Name, Resolve, Resolving},
    header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION},
};
use url::Url;

use crate::federation::signatures::{SigningKey, sign_request};

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
/// Fetches one inbound activity may cause, all kinds together (F5).
pub const FETCHES_PER_ACTIVITY: u32 = 20;
/// Pages of one collection we read at most (F5).
pub const MAX_COLLECTION_PAGES: u32 = 10;

/// What one unit of work (an inbound activity, one continuation of a thread walk) may still
/// fetch (F5). Passed by `&mut` through everything that fetches on its behalf; once spent,
/// fetches are refused with [`FetchError::BudgetSpent`] before any connection is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchBudget {
    remaining: u32,
}

impl FetchBudget {
    /// The budget of one inbound activity: [`FETCHES_PER_ACTIVITY`].
    pub fn per_activity() -> Self {
        Self { remaining: FETCHES_PER_ACTIVITY }
    }

    /// A budget of `n` fetches.
    pub fn of(n: u32) -> Self {
        Self { remaining: n }
    }

    /// Fetches left.
    pub fn remaining(&self) -> u32 {
        self.remaining
    }

    /// Takes one fetch; false when none is left.
    pub fn take(&mut self) -> bool {
        match self.remaining.checked_sub(1) {
            Some(left) => {
                self.remaining = left;
                true
            }
            None => false,
        }
    }
}

/// Counts the pages read of one collection against [`MAX_COLLECTION_PAGES`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageLimit {
    read: u32,
}

impl PageLimit {
    /// Takes one page; false once [`MAX_COLLECTION_PAGES`] were read.
    pub fn take(&mut self) -> bool {
        if self.read >= MAX_COLLECTION_PAGES {
            return false;
        }
        self.read += 1;
        true
    }
}

/// Idle keep-alive connections kept per host. Deliveries use at most `delivery_per_host`
/// (2 by default) at once, so they never leave more than that; fetches are not limited per
/// host, and a burst of first contacts from one big server (replies from 32 of its users at
/// once) fetches that many actor documents concurrently. With 2, all but two of those
/// connections were closed after each fetch and opened again for the next (in B2, connect and
/// shutdown took about a tenth of the process's CPU during first contacts; over TLS each would
/// also be a handshake). Idle connections still close after [`POOL_IDLE_TIMEOUT`], so this
/// bounds sockets only by what was in use in the last two seconds.
pub const POOL_MAX_IDLE_PER_HOST: usize = 32;
/// How long an idle connection is kept. A fan-out touches thousands of hosts once each; with
/// the library default (90 s, unbounded per host) every one of them would hold a socket (and
/// its buffers) for a minute and a half: 10,000 hosts exhaust a 20,000-descriptor limit once
/// the peer's side is counted. Two seconds keeps back-to-back requests to a host on one
/// connection while bounding idle sockets to about four seconds' worth of new hosts.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);
/// What we ask for when fetching ActivityPub documents.
const ACTIVITY_ACCEPT: &str =
    "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// F2: `application/activity+json`, or `application/ld+json` with the ActivityStreams
/// profile. (`content_type` is lower-cased.)
pub fn is_activity_content_type(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    media == "application/activity+json"
        || (media == "application/ld+json" && content_type.contains("https://www.w3.org/ns/activitystreams"))
}

/// A CIDR range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `10.0.0.0/8`, `::1/128` or a single address (a full-length prefix).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?} has an invalid prefix length"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` lies in this range (IPv4 and IPv6 never match each other).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_match(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_match(u128::from(net), u128::from(ip), self.prefix, 128),
            _ => false,
        }
    }
}

fn prefix_match(net: u128, ip: u128, prefix: u8, bits: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix.min(bits));
    (net >> shift) == (ip >> shift)
}

/// Ports an allow-list entry covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    low: u16,
    high: u16,
}

impl PortRange {
    fn parse(s: &str) -> Result<Self, String> {
        let port = |p: &str| p.trim().parse::<u16>().map_err(|_| format!("{p:?} is not a port number"));
        if s == "*" {
            return Ok(Self { low: 0, high: u16::MAX });
        }
        let (low, high) = match s.split_once('-') {
            Some((l, h)) => (port(l)?, port(h)?),
            None => (port(s)?, port(s)?),
        };
        if low > high {
            return Err(format!("port range {s:?} runs backwards"));
        }
        Ok(Self { low, high })
    }

    fn contains(&self, port: u16) -> bool {
        (self.low..=self.high).contains(&port)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Name(String),
    Net(IpNet),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct AllowEntry {
    target: Target,
    ports: PortRange,
}

/// Remote endpoints that may be reached on special-use addresses and over plain `http://`.
///
/// Entries, comma-separated: `host:port`, `address:port`, `cidr:port`, where the port may be
/// a range `20000-29999` or `*`; IPv6 addresses in brackets: `[::1]:8080`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<AllowEntry>,
}

impl AllowList {
    /// Parses the comma-separated form of `OPENHOUSE_ALLOW_PRIVATE_FETCH`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (target, ports) = item
                .rsplit_once(':')
                .filter(|(t, _)| !t.is_empty() && (!t.contains(':') || t.ends_with(']')))
                .ok_or_else(|| {
                    format!("{item:?} needs a port: host:port, address:port, cidr:port, or :* for any port")
                })?;
            let ports = PortRange::parse(ports).map_err(|e| format!("{item:?}: {e}"))?;
            let target = if target.starts_with('[')
                || target.chars().next().is_some_and(|c| c.is_ascii_digit())
                    && (target.contains('/') || target.parse::<Ipv4Addr>().is_ok())
            {
                Target::Net(IpNet::parse(target).map_err(|e| format!("{item:?}: {e}"))?)
            } else {
                let name = target.to_ascii_lowercase();
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
                    return Err(format!("{item:?}: {target:?} is neither a host name nor an address"));
                }
                Target::Name(name)
            };
            entries.push(AllowEntry { target, ports });
        }
        Ok(Self { entries })
    }

    /// True when no entry is configured (the production default).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the URL's own authority (host name or address literal, and port) is listed:
    /// such a URL may use plain `http://`.
    pub fn allows_url(&self, url: &Url) -> bool {
        let Some(port) = url.port_or_known_default() else { return false };
        match url.host() {
            Some(url::Host::Domain(name)) => self.entries.iter().any(|e| {
                e.ports.contains(port) && matches!(&e.target, Target::Name(n) if n.eq_ignore_ascii_case(name))
            }),
            Some(url::Host::Ipv4(ip)) => self.allows_addr(SocketAddr::new(IpAddr::V4(ip), port)),
            Some(url::Host::Ipv6(ip)) => self.allows_addr(SocketAddr::new(IpAddr::V6(ip), port)),
            None => false,
        }
    }

    /// Whether a concrete address and port is listed.
    pub fn allows_addr(&self, addr: SocketAddr) -> bool {
        self.entries
            .iter()
            .any(|e| e.ports.contains(addr.port()) && matches!(&e.target, Target::Net(net) if net.contains(addr.ip())))
    }

    /// Whether an address is listed for any port (what a DNS resolver, which never sees the
    /// port, can check; [`SafeClient`] checks the port on the URL before connecting).
    fn allows_ip_any_port(&self, ip: IpAddr) -> bool {
        self.entries.iter().any(|e| matches!(&e.target, Target::Net(net) if net.contains(ip)))
    }

    /// Whether any address or range entry exists (only then can a host name legitimately
    /// resolve to a special address).
    fn has_net_entries(&self) -> bool {
        self.entries.iter().any(|e| matches!(e.target, Target::Net(_)))
    }
}

/// Special-use ranges that a public server never lives on (F1), from the IANA registries.
const SPECIAL_V4: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0A00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 CGNAT
    (0x7F00_0000, 8),  // 127.0.0.0/8 loopback
    (0xA9FE_0000, 16), // 169.254.0.0/16 link-local
    (0xAC10_0000, 12), // 172.16.0.0/12 private
    (0xC000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xC000_0200, 24), // 192.0.2.0/24 documentation
    (0xC058_6300, 24), // 192.88.99.0/24 6to4 relay anycast
    (0xC0A8_0000, 16), // 192.168.0.0/16 private
    (0xC612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xC633_6400, 24), // 198.51.100.0/24 documentation
    (0xCB00_7100, 24), // 203.0.113.0/24 documentation
    (0xE000_0000, 4),  // 224.0.0.0/4 multicast
    (0xF000_0000, 4),  // 240.0.0.0/4 reserved, and broadcast
];

const SPECIAL_V6: &[(u128, u8)] = &[
    (0, 96),                                         // ::/96 unspecified, loopback, IPv4-compatible
    (0xffff_0000_0000, 96),                          // ::ffff:0:0/96 IPv4-mapped
    (0xffff_0000_0000_0000, 96),                     // ::ffff:0:0:0/96 IPv4-translated (SIIT)
    (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96), // 64:ff9b::/96 NAT64
    (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // 64:ff9b:1::/48 local NAT64
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // 100::/64 discard
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // 2001::/23 IETF protocol assignments (Teredo, ORCHID…)
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32 documentation
    (0x2002_0000_0000_0000_0000_0000_0000_0000, 16), // 2002::/16 6to4
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // 3fff::/20 documentation
    (0x5f00_0000_0000_0000_0000_0000_0000_0000, 16), // 5f00::/16 SRv6 SIDs
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // fc00::/7 unique local
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10 link-local
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // fec0::/10 site-local (deprecated)
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8),  // ff00::/8 multicast
];

/// Whether an address is special-use: anything a public federated server cannot have.
pub fn is_special_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let n = u128::from(u32::from(v4));
            SPECIAL_V4.iter().any(|&(net, p)| prefix_match(u128::from(net), n, p, 32))
        }
        IpAddr::V6(v6) => {
            let n = u128::from(v6);
            SPECIAL_V6.iter().any(|&(net, p)| prefix_match(net, n, p, 128))
        }
    }
}

/// Why a fetch was refused or failed. The messages are safe to show to the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not one we may fetch (scheme, special address, malformed).
    #[error("refused to fetch {0}")]
    Refused(String),
    /// A network problem or timeout.
    #[error("could not reach {host}: {reason}")]
    Unreachable {
        /// The host we tried.
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// The remote answered with a status we do not accept.
    #[error("{host} answered {status}")]
    Status {
        /// The host that answered.
        host: String,
        /// Its status code.
        status: StatusCode,
    },
    /// The per-activity fetch budget or the collection-page limit is spent (F5).
    #[error("fetch budget spent before {0}")]
    BudgetSpent(String),
    /// The response broke a rule: size, type, too many redirects, bad JSON.
    #[error("unusable response from {host}: {reason}")]
    BadResponse {
        /// The host that answered.
        host: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// A DNS resolver that drops special-use addresses unless allow-listed: the check happens
/// on the very addresses the connection will use.
struct CheckingResolver {
    allow: Arc<AllowList>,
}

impl Resolve for CheckingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let addrs: Vec<SocketAddr> =
                resolved.filter(|a| !is_special_address(a.ip()) || allow.allows_ip_any_port(a.ip())).collect();
            if addrs.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves only to addresses that may not be fetched").into();
                return Err(err);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

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

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_addresses_are_recognised() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.168.1.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "::ffff:0:127.0.0.1",
            "::ffff:0:8.8.8.8",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "2001::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(is_special_address(ip(s)), "{s} should be special");
        }
        for s in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700::1111", "2a00:1450::1"] {
            assert!(!is_special_address(ip(s)), "{s} should be public");
        }
    }

    #[test]
    fn allow_list_parses_every_documented_form() {
        let list =
            AllowList::parse("127.0.0.3:8083, 127.0.0.0/8:20000-29999,10.1.0.0/16:*,peer.test:443,[::1]:9000").unwrap();
        assert!(list.allows_addr("127.0.0.3:8083".parse().unwrap()));
        assert!(!list.allows_addr("127.0.0.3:8084".parse().unwrap()));
        assert!(list.allows_addr("127.9.9.9:25000".parse().unwrap()));
        assert!(!list.allows_addr("127.9.9.9:30000".parse().unwrap()));
        assert!(list.allows_addr("10.1.200.3:1".parse().unwrap()));
        assert!(!list.allows_addr("10.2.0.1:1".parse().unwrap()));
        assert!(list.allows_addr("[::1]:9000".parse().unwrap()));
        assert!(list.allows_url(&Url::parse("https://PEER.test/x").unwrap()));
        assert!(!list.allows_url(&Url::parse("http://peer.test:80/x").unwrap()));
        assert!(list.allows_url(&Url::parse("http://127.0.0.3:8083/x").unwrap()));
        for bad in ["127.0.0.1", "10.0.0.0/40:*", "x:99999", "a b:80", "1.2.3.4:9-1", ":80"] {
            assert!(AllowList::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn urls_are_checked_before_connecting() {
        let client = SafeClient::new(AllowList::parse("127.0.0.3:8083").unwrap(), "test").unwrap();
        let ok = |u: &str| client.check_url(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("https://mastodon.example/users/a"));
        assert!(ok("http://127.0.0.3:8083/users/a"));
        assert!(!ok("http://mastodon.example/users/a"), "plain http to the world");
        assert!(!ok("https://127.0.0.1/x"));
        assert!(!ok("https://[::ffff:127.0.0.1]/x"));
        assert!(!ok("https://0.0.0.0/x"));
        assert!(!ok("https://169.254.169.254/latest"));
        assert!(!ok("http://127.0.0.3:8084/x"));
        assert!(!ok("ftp://mastodon.example/x"));
        assert!(!ok("https://user:pw@mastodon.example/x"));
    }

    #[test]
    fn budgets_run_out_and_stay_out() {
        let mut budget = FetchBudget::per_activity();
        assert_eq!((0..25).filter(|_| budget.take()).count(), FETCHES_PER_ACTIVITY as usize);
        assert!(!budget.take());
        let mut pages = PageLimit::default();
        assert_eq!((0..15).filter(|_| pages.take()).count(), MAX_COLLECTION_PAGES as usize);
    }

    #[tokio::test]
    async fn a_spent_budget_makes_no_request() {
        let client = SafeClient::new(AllowList::default(), "test").unwrap();
        let mut budget = FetchBudget::of(0);
        let url = Url::parse("https://127.0.0.1/never").unwrap();
        let result = client.get_activity_json_budgeted(&url, None, &mut budget).await;
        assert!(matches!(result, Err(FetchError::BudgetSpent(_))), "{result:?}");
    }

    #[test]
    fn only_activitypub_content_types_are_objects() {
        assert!(is_activity_content_type("application/activity+json"));
        assert!(is_activity_content_type("application/activity+json; charset=utf-8"));
        assert!(is_activity_content_type("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""));
        assert!(!is_activity_content_type("application/ld+json"));
        assert!(!is_activity_content_type("application/json"));
        assert!(!is_activity_content_type("text/html"));
    }

    #[tokio::test]
    async fn host_names_resolving_to_listed_addresses_must_also_match_the_port() {
        // localhost may resolve to both loopback addresses; both are listed for port 9.
        let client = SafeClient::new(AllowList::parse("127.0.0.1:9,[::1]:9").unwrap(), "test").unwrap();
        let wrong_port = client.get_json(&Url::parse("https://localhost:1/x").unwrap(), "*/*", 0).await;
        assert!(matches!(wrong_port, Err(FetchError::Refused(_))), "{wrong_port:?}");
        // The listed port passes the checks and then fails to connect (nothing listens there).
        let listed = client.get_json(&Url::parse("https://localhost:9/x").unwrap(), "*/*", 0).await;
        assert!(matches!(listed, Err(FetchError::Unreachable { .. })), "{listed:?}");
        // Without an entry, loopback is refused at connect time by the resolver.
        let strict = SafeClient::new(AllowList::default(), "test").unwrap();
        let refused = strict.get_json(&Url::parse("https://localhost:9/x").unwrap(), "*/*", 0).await;
        let reason = format!("{refused:?}");
        assert!(reason.contains("may not be fetched"), "{reason}");
    }

    /// F4: 10 s is the deadline for the whole fetch, redirects included, not for each hop: two
    /// hops of 6 s each are given up on at 10 s.
    #[tokio::test]
    async fn the_ten_second_limit_covers_every_redirect_hop_together() {
        use axum::{Router, response::IntoResponse, routing::get};

        let slow = |response: axum::response::Response| async move {
            tokio::time::sleep(std::time::Duration::from_secs(6)).await;
            response
        };
        let app = Router::new()
            .route("/first", get(move || slow((StatusCode::FOUND, [(LOCATION, "/second")]).into_response())))
            .route("/second", get(move || slow(([(CONTENT_TYPE, "application/json")], "{}").into_response())));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = SafeClient::new(AllowList::parse(&addr.to_string()).unwrap(), "test").unwrap();
        let started = std::time::Instant::now();
        let result = client.get_json(&Url::parse(&format!("http://{addr}/first")).unwrap(), "*/*", 1).await;
        assert!(matches!(&result, Err(FetchError::Unreachable { reason, .. }) if reason == "timed out"), "{result:?}");
        let took = started.elapsed();
        assert!(took < REQUEST_TIMEOUT + std::time::Duration::from_secs(1), "gave up after {took:?}");
    }

    /// A burst of concurrent fetches from one host (first contacts from many of its users)
    /// keeps its connections: the next burst reuses them instead of connecting again.
    #[tokio::test]
    async fn concurrent_fetches_to_one_host_keep_their_connections_for_the_next_burst() {
        use std::{collections::HashSet, sync::Mutex};

        use axum::{Router, extract::ConnectInfo, routing::get};

        const BURST: usize = 16;
        let peers: Arc<Mutex<HashSet<SocketAddr>>> = Arc::default();
        let seen = peers.clone();
        let handler = move |ConnectInfo(peer): ConnectInfo<SocketAddr>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().insert(peer);
                // Long enough for every request of a burst to be in flight at once.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                ([(CONTENT_TYPE, "application/json")], "{}")
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/doc", get(handler)).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let client = SafeClient::new(AllowList::parse(&addr.to_string()).unwrap(), "test").unwrap();
        let url = Url::parse(&format!("http://{addr}/doc")).unwrap();
        for burst in 1..=2 {
            let mut fetches = tokio::task::JoinSet::new();
            for _ in 0..BURST {
                let (client, url) = (client.clone(), url.clone());
                fetches.spawn(async move { client.get_json(&url, "application/json", 0).await.map(|_| ()) });
            }
            while let Some(result) = fetches.join_next().await {
                assert!(matches!(result, Ok(Ok(()))), "burst {burst}: {result:?}");
            }
            assert_eq!(peers.lock().unwrap().len(), BURST, "connections opened after burst {burst}");
            // Let the last responses hand their connections back to the pool.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Property tests of the address checker (F1) and the allow-list: every address inside each
/// special-use range is refused whatever its spelling (IPv4, mapped or compatible IPv6,
/// NAT64, 6to4), public addresses pass, and an allow-list entry opens exactly what it names.
#[cfg(test)]
mod props {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use std::net::Ipv6Addr;

    use proptest::prelude::*;

    use super::*;

    /// The special-use ranges of FEDERATION.md §5 F1, written out independently of the code.
    const V4_RANGES: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ];
    const V6_RANGES: &[&str] = &[
        "::/96",
        "::ffff:0:0/96",
        "::ffff:0:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    ];

    /// An address inside `cidr`: the network bits kept, the host bits random.
    fn inside(cidr: &str, random: u128) -> IpAddr {
        let (net, prefix) = cidr.split_once('/').unwrap();
        let prefix: u32 = prefix.parse().unwrap();
        match net.parse::<IpAddr>().unwrap() {
            IpAddr::V4(v4) => {
                let host_mask = u32::MAX.checked_shr(prefix).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from((u32::from(v4) & !host_mask) | (random as u32 & host_mask)))
            }
            IpAddr::V6(v6) => {
                let host_mask = u128::MAX.checked_shr(prefix).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from((u128::from(v6) & !host_mask) | (random & host_mask)))
            }
        }
    }

    /// An oracle for "a public IPv4 address" built from the standard library's predicates
    /// plus the ranges it does not know.
    fn public_v4(ip: Ipv4Addr) -> bool {
        let o = ip.octets();
        !(ip.is_private()
            || ip.is_loopback()
            || ip.is_link_local()
            || ip.is_multicast()
            || ip.is_broadcast()
            || ip.is_documentation()
            || ip.is_unspecified()
            || o[0] == 0
            || o[0] >= 240
            || (o[0] == 100 && (64..128).contains(&o[1]))
            || (o[0] == 192 && o[1] == 0 && o[2] == 0)
            || (o[0] == 192 && o[1] == 88 && o[2] == 99)
            || (o[0] == 198 && (o[1] == 18 || o[1] == 19)))
    }

    /// The production client, without allow-list entries (built once: building is slow).
    fn strict() -> &'static SafeClient {
        static STRICT: std::sync::LazyLock<SafeClient> = std::sync::LazyLock::new(|| client(""));
        &STRICT
    }

    fn client(allow: &str) -> SafeClient {
        SafeClient::new(AllowList::parse(allow).unwrap(), "test").unwrap()
    }

    fn url_for(scheme: &str, ip: IpAddr, port: u16) -> Url {
        Url::parse(&format!("{scheme}://{}/x", SocketAddr::new(ip, port))).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn every_address_in_a_special_range_is_refused(
            range in proptest::sample::select(V4_RANGES.iter().chain(V6_RANGES).copied().collect::<Vec<_>>()),
            random in any::<u128>(),
            port in any::<u16>(),
        ) {
            let ip = inside(range, random);
            prop_assert!(is_special_address(ip), "{} in {} is not special", ip, range);
            prop_assert!(strict().check_url(&url_for("https", ip, port)).is_err(), "{} reachable", ip);
            prop_assert!(strict().check_url(&url_for("http", ip, port)).is_err());
        }

        #[test]
        fn ipv4_in_any_ipv6_spelling_is_refused(v4 in any::<u32>(), low in any::<u16>()) {
            let v4 = Ipv4Addr::from(v4);
            let n = u128::from(u32::from(v4));
            let spellings = [
                ("mapped", IpAddr::V6(v4.to_ipv6_mapped())),
                ("compatible", IpAddr::V6(v4.to_ipv6_compatible())),
                ("translated", IpAddr::V6(Ipv6Addr::from(0xffff_0000_u128 << 32 | n))),
                ("NAT64", IpAddr::V6(Ipv6Addr::from(0x0064_ff9b_u128 << 96 | n))),
                ("local NAT64", IpAddr::V6(Ipv6Addr::from(0x0064_ff9b_0001_u128 << 80 | n))),
                ("6to4", IpAddr::V6(Ipv6Addr::from(0x2002_u128 << 112 | n << 80 | u128::from(low)))),
                ("Teredo", IpAddr::V6(Ipv6Addr::from(0x2001_0000_u128 << 96 | n))),
            ];
            for (name, ip) in spellings {
                prop_assert!(is_special_address(ip), "{} {} is not special", name, ip);
                prop_assert!(strict().check_url(&url_for("https", ip, 443)).is_err(), "{} {} reachable", name, ip);
            }
        }

        #[test]
        fn public_ipv4_addresses_are_accepted(v4 in any::<u32>()) {
            let ip = Ipv4Addr::from(v4);
            prop_assume!(public_v4(ip));
            prop_assert!(!is_special_address(IpAddr::V4(ip)), "{} refused", ip);
            prop_assert!(strict().check_url(&url_for("https", IpAddr::V4(ip), 443)).is_ok());
            // Plain http to the world stays refused.
            prop_assert!(strict().check_url(&url_for("http", IpAddr::V4(ip), 80)).is_err());
        }

        #[test]
        fn global_unicast_ipv6_outside_the_special_ranges_is_accepted(random in any::<u128>()) {
            // 2000::/3 is global unicast; skip what falls into a special range of it.
            let ip = Ipv6Addr::from((random & (u128::MAX >> 3)) | (1u128 << 125));
            let special = V6_RANGES.iter().any(|r| IpNet::parse(r).unwrap().contains(IpAddr::V6(ip)));
            prop_assume!(!special);
            prop_assert!(!is_special_address(IpAddr::V6(ip)), "{} refused", ip);
            prop_assert!(strict().check_url(&url_for("https", IpAddr::V6(ip), 443)).is_ok());
        }

        #[test]
        fn an_address_entry_opens_exactly_that_address_and_port(
            range in proptest::sample::select(V4_RANGES.to_vec()),
            random in any::<u128>(),
            port in 1u16..u16::MAX,
            other in any::<u32>(),
        ) {
            let ip = inside(range, random);
            let IpAddr::V4(v4) = ip else { unreachable!() };
            let list = AllowList::parse(&format!("{v4}:{port}")).unwrap();
            let c = client(&format!("{v4}:{port}"));
            prop_assert!(list.allows_addr(SocketAddr::new(ip, port)));
            prop_assert!(c.check_url(&url_for("http", ip, port)).is_ok());
            prop_assert!(c.check_url(&url_for("https", ip, port)).is_ok());
            // Neighbouring ports, other addresses and the IPv6 spellings stay closed.
            for p in [port - 1, port + 1] {
                prop_assert!(!list.allows_addr(SocketAddr::new(ip, p)));
                prop_assert!(c.check_url(&url_for("http", ip, p)).is_err());
            }
            let other = Ipv4Addr::from(other);
            prop_assume!(other != v4);
            prop_assert!(!list.allows_addr(SocketAddr::new(IpAddr::V4(other), port)));
            if is_special_address(IpAddr::V4(other)) {
                prop_assert!(c.check_url(&url_for("https", IpAddr::V4(other), port)).is_err());
            }
            for v6 in [v4.to_ipv6_mapped(), v4.to_ipv6_compatible()] {
                prop_assert!(!list.allows_addr(SocketAddr::new(IpAddr::V6(v6), port)));
                prop_assert!(c.check_url(&url_for("https", IpAddr::V6(v6), port)).is_err(), "{} opened", v6);
            }
        }

        #[test]
        fn a_range_entry_opens_exactly_its_range(
            net in any::<u32>(),
            prefix in 8u8..=32,
            probe in any::<u32>(),
            low in any::<u16>(),
            width in 0u16..1000,
            port in any::<u16>(),
        ) {
            let high = low.saturating_add(width);
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            let net = Ipv4Addr::from(net & mask);
            let list = AllowList::parse(&format!("{net}/{prefix}:{low}-{high}")).unwrap();
            let probe = Ipv4Addr::from(probe);
            let in_range = u32::from(probe) & mask == u32::from(net);
            let in_ports = (low..=high).contains(&port);
            prop_assert_eq!(list.allows_addr(SocketAddr::new(IpAddr::V4(probe), port)), in_range && in_ports);
            // An address of the range, on a port of the range, is always open.
            let member = Ipv4Addr::from(u32::from(net) | (u32::from(probe) & !mask));
            prop_assert!(list.allows_addr(SocketAddr::new(IpAddr::V4(member), low)));
            prop_assert!(list.allows_addr(SocketAddr::new(IpAddr::V4(member), high)));
        }

        #[test]
        fn a_name_entry_opens_only_that_name_and_port(
            name in "[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,4})?\\.[a-z]{2,5}",
            other in "[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,4})?\\.[a-z]{2,5}",
            port in 1u16..u16::MAX,
        ) {
            let list = AllowList::parse(&format!("{name}:{port}")).unwrap();
            let at = |host: &str, p: u16| Url::parse(&format!("http://{host}:{p}/x")).unwrap();
            prop_assert!(list.allows_url(&at(&name, port)));
            prop_assert!(list.allows_url(&at(&name.to_ascii_uppercase(), port)));
            prop_assert!(!list.allows_url(&at(&name, port - 1)));
            prop_assert!(!list.allows_url(&at(&format!("x.{name}"), port)), "subdomains are not included");
            prop_assume!(other != name);
            prop_assert!(!list.allows_url(&at(&other, port)));
            // A name entry never opens an address.
            prop_assert!(!list.has_net_entries());
            prop_assert!(!list.allows_ip_any_port(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        }

        #[test]
        fn allow_list_parsing_never_panics(raw in "[0-9a-z.:/\\[\\],* -]{0,60}") {
            let _ = AllowList::parse(&raw);
        }

        #[test]
        fn url_checks_never_panic(raw in any::<String>()) {
            if let Ok(url) = Url::parse(&raw) {
                let _ = client("127.0.0.1:80").check_url(&url);
            }
        }
    }
}
