//! Rate limits for the inboxes (FEDERATION.md §4 I11): a keyed token bucket, one per remote
//! IP address and one per remote actor, answering "wait this long" when a key is over its
//! rate. Memory is bounded: at most `max_keys` buckets are kept, idle (full) buckets are
//! dropped first, and when every kept bucket is busy a new key is let through rather than
//! growing the table (a flood of distinct keys must not exhaust memory; each key alone is
//! still limited once it has a bucket).
//!
//! An IPv4 client is one address, but an IPv6 client is usually given a whole /64 (or more):
//! limits by address key IPv6 on its prefix (`rate_limit_ipv6_prefix`, /64 by default), or a
//! sender would get a fresh budget for each of its 2^64 addresses.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::http::HeaderMap;

use crate::net::IpNet;

/// How many seconds of the sustained rate a burst may use at once.
pub const BURST_SECONDS: u32 = 10;

/// Buckets kept per limiter.
const MAX_KEYS: usize = 100_000;

/// A token bucket per key: `rate` requests per second sustained, `rate × BURST_SECONDS` at once.
#[derive(Debug)]
pub struct KeyedLimiter {
    per_second: f64,
    burst: f64,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl KeyedLimiter {
    /// A limiter allowing `per_second` requests per second per key; `None` when 0 (off).
    pub fn new(per_second: u32) -> Option<Self> {
        Self::with_capacity(per_second, MAX_KEYS)
    }

    fn with_capacity(per_second: u32, max_keys: usize) -> Option<Self> {
        (per_second > 0).then(|| Self {
            per_second: f64::from(per_second),
            burst: f64::from(per_second) * f64::from(BURST_SECONDS),
            max_keys,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one token for `key` at `now`. `Err(wait)` when the key is over its rate: the
    /// next token is available after `wait`.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        // A poisoned lock only means another thread panicked mid-update; the map is still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| refilled(b, now, per_second, burst) < burst);
            if buckets.len() >= self.max_keys {
                return Ok(());
            }
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: self.burst, at: now });
        let tokens = refilled(bucket, now, self.per_second, self.burst);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at: now };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }
}

fn refilled(bucket: &Bucket, now: Instant, per_second: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * per_second).min(burst)
}

/// The default `rate_limit_ipv6_prefix`: the block one IPv6 subscriber (or host) is given.
pub const DEFAULT_IPV6_PREFIX: u8 = 64;

/// The rate-limit key of a client address: an IPv4 (or IPv4-mapped) address is itself, an
/// IPv6 address is its first `ipv6_prefix` bits (`2001:db8:1:2::/64`).
pub fn ip_key(ip: IpAddr, ipv6_prefix: u8) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let bits = u32::from(ipv6_prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            format!("{}/{bits}", Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// A limit per client address (see [`ip_key`] for how IPv6 addresses are grouped).
#[derive(Debug)]
pub struct IpLimiter {
    limiter: Option<KeyedLimiter>,
    ipv6_prefix: u8,
}

impl IpLimiter {
    /// `per_second` requests per second per client (0 = no limit), IPv6 grouped by `ipv6_prefix`.
    pub fn new(per_second: u32, ipv6_prefix: u8) -> Self {
        Self { limiter: KeyedLimiter::new(per_second), ipv6_prefix }
    }

    /// A limit counted per minute (0 = no limit): `per_minute` at once, then one more every
    /// `60 / per_minute` seconds. For slow, costly actions a person does by hand.
    pub fn per_minute(per_minute: u32, ipv6_prefix: u8) -> Self {
        let limiter = (per_minute > 0).then(|| {
            let per_second = f64::from(per_minute) / 60.0;
            KeyedLimiter {
                per_second,
                burst: f64::from(per_minute),
                max_keys: MAX_KEYS,
                buckets: Mutex::new(HashMap::new()),
            }
        });
        Self { limiter, ipv6_prefix }
    }

    /// Takes one token for the client `ip`; `Err(wait)` when it is over its rate.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        match &self.limiter {
            Some(limiter) => limiter.check(&ip_key(ip, self.ipv6_prefix), Instant::now()),
            None => Ok(()),
        }
    }
}

impl Default for IpLimiter {
    fn default() -> Self {
        Self { limiter: None, ipv6_prefix: DEFAULT_IPV6_PREFIX }
    }
}

/// The inbox limits of one process.
#[derive(Debug, Default)]
pub struct InboxLimits {
    /// Per remote address (after trusted proxies), IPv6 per prefix.
    pub per_ip: IpLimiter,
    /// Per remote actor (the activity's `actor`).
    pub per_actor: Option<KeyedLimiter>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

impl InboxLimits {
    /// Limits from the configured rates (0 turns one off).
    pub fn new(per_ip: u32, per_actor: u32, trusted_proxies: Vec<IpNet>, ipv6_prefix: u8) -> Self {
        Self { per_ip: IpLimiter::new(per_ip, ipv6_prefix), per_actor: KeyedLimiter::new(per_actor), trusted_proxies }
    }

    /// Checks the client address of a request (see [`client_ip`], [`ip_key`]).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Duration> {
        self.per_ip.check(ip)
    }

    /// Checks an actor id.
    pub fn check_actor(&self, actor: &str) -> Result<(), Duration> {
        match &self.per_actor {
            Some(limiter) => limiter.check(actor, Instant::now()),
            None => Ok(()),
        }
    }
}

/// The address a request came from. The TCP peer, unless the peer is a trusted proxy: then the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy (entries to its
/// left were written by the client and prove nothing).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer_ip = peer.ip().to_canonical();
    if !is_trusted(peer_ip) {
        return peer_ip;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip.to_canonical()) => continue,
            Ok(ip) => return ip.to_canonical(),
            // Garbage in the chain: stop believing it; the last trusted hop is the best we know.
            Err(_) => break,
        }
    }
    peer_ip
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_for_refill() {
        let limiter = KeyedLimiter::new(2).unwrap();
        let start = Instant::now();
        for _ in 0..(2 * BURST_SECONDS) {
            assert!(limiter.check("a", start).is_ok());
        }
        let wait = limiter.check("a", start).unwrap_err();
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500), "{wait:?}");
        // Another key is not affected.
        assert!(limiter.check("b", start).is_ok());
        // Half a second later one token is back, and only one.
        let later = start + Duration::from_millis(500);
        assert!(limiter.check("a", later).is_ok());
        assert!(limiter.check("a", later).is_err());
    }

    #[test]
    fn zero_turns_the_limit_off() {
        assert!(KeyedLimiter::new(0).is_none());
        let limits = InboxLimits::new(0, 0, Vec::new(), DEFAULT_IPV6_PREFIX);
        for _ in 0..10_000 {
            assert!(limits.check_ip("203.0.113.9".parse().unwrap()).is_ok());
            assert!(limits.check_actor("https://example.com/users/a").is_ok());
        }
    }

    #[test]
    fn the_table_stays_bounded_and_idle_buckets_go_first() {
        let limiter = KeyedLimiter::with_capacity(1, 3).unwrap();
        let start = Instant::now();
        // "busy" spends its burst; "idle1", "idle2" take one token each.
        for _ in 0..BURST_SECONDS {
            limiter.check("busy", start).unwrap();
        }
        limiter.check("idle1", start).unwrap();
        limiter.check("idle2", start).unwrap();
        // Much later the idle buckets are full again; a new key evicts them, the busy one stays
        // (it is full too by then, so it goes as well: nothing is lost by forgetting a full bucket).
        let later = start + Duration::from_secs(60);
        limiter.check("new", later).unwrap();
        assert!(limiter.buckets.lock().unwrap().len() <= 3);
        // While every kept bucket is busy, a new key is let through without growing the table.
        let limiter = KeyedLimiter::with_capacity(1, 2).unwrap();
        for key in ["x", "y"] {
            for _ in 0..BURST_SECONDS {
                limiter.check(key, start).unwrap();
            }
        }
        assert!(limiter.check("z", start).is_ok());
        assert_eq!(limiter.buckets.lock().unwrap().len(), 2);
        assert!(limiter.check("x", start).is_err(), "a kept key is still limited");
    }

    #[test]
    fn ipv6_is_keyed_on_its_prefix_and_ipv4_on_the_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(ip_key(ip("2001:db8:1:2:aaaa::1"), 64), "2001:db8:1:2::/64");
        assert_eq!(ip_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), 64), "2001:db8:1:2::/64");
        assert_ne!(ip_key(ip("2001:db8:1:3::1"), 64), ip_key(ip("2001:db8:1:2::1"), 64));
        assert_eq!(ip_key(ip("2001:db8:1:2::1"), 48), ip_key(ip("2001:db8:1:3::1"), 48));
        assert_eq!(ip_key(ip("2001:db8::1"), 128), "2001:db8::1/128");
        assert_eq!(ip_key(ip("2001:db8::1"), 0), "::/0");
        assert_eq!(ip_key(ip("203.0.113.9"), 64), "203.0.113.9");
        assert_ne!(ip_key(ip("203.0.113.9"), 64), ip_key(ip("203.0.113.10"), 64));
        // IPv4-mapped IPv6 is the IPv4 address, not the ::ffff:0:0/64 block all of IPv4 is in.
        assert_eq!(ip_key(ip("::ffff:203.0.113.9"), 64), "203.0.113.9");
        assert_ne!(ip_key(ip("::ffff:203.0.113.9"), 64), ip_key(ip("::ffff:203.0.113.10"), 64));
    }

    #[test]
    fn one_ipv6_sender_cannot_rotate_addresses_for_a_fresh_budget() {
        let limits = InboxLimits::new(1, 0, Vec::new(), DEFAULT_IPV6_PREFIX);
        for i in 0..BURST_SECONDS {
            assert!(limits.check_ip(format!("2001:db8:0:1::{i:x}").parse().unwrap()).is_ok());
        }
        assert!(limits.check_ip("2001:db8:0:1::ffff".parse().unwrap()).is_err(), "same /64, new address");
        assert!(limits.check_ip("2001:db8:0:2::1".parse().unwrap()).is_ok(), "another /64");
        for i in 0..BURST_SECONDS {
            assert!(limits.check_ip(format!("203.0.113.{i}").parse().unwrap()).is_ok(), "IPv4 per address");
        }
    }

    #[test]
    fn a_per_minute_limit_allows_its_count_then_waits() {
        let limiter = IpLimiter::per_minute(5, DEFAULT_IPV6_PREFIX);
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        let inner = limiter.limiter.as_ref().unwrap();
        let start = Instant::now();
        for _ in 0..5 {
            assert!(inner.check(&ip_key(ip, 64), start).is_ok());
        }
        let wait = inner.check(&ip_key(ip, 64), start).unwrap_err();
        assert!(wait > Duration::from_secs(11) && wait <= Duration::from_secs(12), "{wait:?}");
        assert!(IpLimiter::per_minute(0, 64).check(ip).is_ok(), "0 = off");
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in xff {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let loopback = vec![IpNet::parse("127.0.0.0/8").unwrap(), IpNet::parse("10.0.0.0/8").unwrap()];
        let proxy: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.7:4000".parse().unwrap();
        // From a stranger the header is ignored.
        assert_eq!(client_ip(stranger, &headers(&["203.0.113.1"]), &loopback), stranger.ip());
        // From the proxy: the right-most untrusted entry; a client-forged left part is ignored.
        let h = headers(&["1.2.3.4, 203.0.113.1", "10.1.1.1"]);
        assert_eq!(client_ip(proxy, &h, &loopback), "203.0.113.1".parse::<IpAddr>().unwrap());
        // No header: the proxy itself.
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &loopback), proxy.ip());
        // Garbage: fall back to the last trusted hop.
        assert_eq!(client_ip(proxy, &headers(&["203.0.113.1, nonsense"]), &loopback), proxy.ip());
        // IPv4-mapped IPv6 is the IPv4 address.
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:4000".parse().unwrap();
        assert_eq!(client_ip(mapped, &headers(&["203.0.113.1"]), &loopback), "203.0.113.1".parse::<IpAddr>().unwrap());
        // Nothing trusted: always the peer.
        assert_eq!(client_ip(proxy, &headers(&["203.0.113.1"]), &[]), proxy.ip());
    }
}
