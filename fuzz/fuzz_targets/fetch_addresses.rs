//! The SSRF guard's parsers (`src/federation/fetch.rs`): `IpNet::parse`, `AllowList::parse`
//! and `SafeClient::check_url`. The input is an allow-list (`OPENHOUSE_ALLOW_PRIVATE_FETCH`
//! syntax), a newline, then a URL. The fuzzed list is parsed and queried; the URL is
//! checked by two fixed clients (building a client per input would test reqwest's TLS setup,
//! not us): a strict one, and one with a typical test allow-list.
//!
//! Checked beyond "no panic", against the standard library's own address predicates rather
//! than our tables: a URL the strict client accepts never names a loopback, private,
//! link-local, multicast, documentation or unspecified address (in any IPv4 or IPv6
//! spelling); nothing accepted has credentials or a non-web scheme unless listed; an address
//! lies in its own range; an `address:port` entry opens that address and port.

#![no_main]

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::OnceLock,
};

use libfuzzer_sys::fuzz_target;
use openhouse::{
    federation::fetch::SafeClient,
    net::{AllowList, IpNet, is_special_address},
};
use url::{Host, Url};

/// What the fixed allow-listing client lists.
const TEST_LIST: &str = "127.0.0.2:8080, [::1]:*, localhost:3000-3999, 10.0.0.0/8:443, fake.test:*";

fn clients() -> &'static [(AllowList, SafeClient); 2] {
    static CLIENTS: OnceLock<[(AllowList, SafeClient); 2]> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let make = |raw: &str| {
            let list = AllowList::parse(raw).expect("a valid allow-list");
            (list.clone(), SafeClient::new(list, "openhouse-fuzz").expect("a client"))
        };
        [make(""), make(TEST_LIST)]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (raw_list, raw_url) = text.split_once('\n').unwrap_or((text, ""));
    check_list(raw_list);
    for chunk in data.chunks_exact(16).take(4) {
        let bytes: [u8; 16] = chunk.try_into().expect("16 bytes");
        let v6 = Ipv6Addr::from(bytes);
        check_special(IpAddr::V6(v6));
        check_special(IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])));
    }
    let Ok(url) = Url::parse(raw_url.trim()) else { return };
    let list = AllowList::parse(raw_list).ok();
    if let Some(list) = &list {
        // Whatever the list, asking it never panics.
        let _ = list.allows_url(&url);
    }
    for (i, (list, client)) in clients().iter().enumerate() {
        let strict = i == 0;
        let listed = list.allows_url(&url);
        if client.check_url(&url).is_err() {
            continue;
        }
        assert!(!strict || !listed, "the empty list lists {url}");
        match url.scheme() {
            "https" => {}
            "http" => assert!(listed, "plain http to an unlisted {url}"),
            other => panic!("scheme {other} accepted in {url}"),
        }
        assert!(url.username().is_empty() && url.password().is_none(), "credentials accepted in {url}");
        match url.host() {
            None => panic!("no host in accepted {url}"),
            Some(Host::Domain(name)) => {
                let bare = name.trim_start_matches('[').trim_end_matches(']');
                assert!(bare.parse::<IpAddr>().is_err(), "an address {name} passed as a host name in {url}");
            }
            Some(Host::Ipv4(ip)) => assert!(listed || !std_special(IpAddr::V4(ip)), "{url} accepted unlisted"),
            Some(Host::Ipv6(ip)) => assert!(listed || !std_special(IpAddr::V6(ip)), "{url} accepted unlisted"),
        }
    }
});

/// `IpNet::parse` and `AllowList::parse` on the fuzzed list and each of its items.
fn check_list(raw: &str) {
    for item in raw.split(',').map(str::trim) {
        let net = IpNet::parse(item);
        let (addr, _) = item.split_once('/').unwrap_or((item, ""));
        if let Ok(ip) = addr.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            if let Ok(net) = &net {
                assert!(net.contains(ip), "{item} does not contain its own address");
            }
            if !item.contains('/') {
                assert!(net.is_ok_and(|n| n.contains(ip)), "the plain address {item} is not a range of itself");
            }
        }
    }
    let Ok(list) = AllowList::parse(raw) else { return };
    assert_eq!(list.is_empty(), raw.split(',').all(|i| i.trim().is_empty()));
    for item in raw.split(',').map(str::trim) {
        if let Ok(addr) = item.parse::<SocketAddr>()
            && (addr.is_ipv6() || item.split(':').next().is_some_and(|a| a.parse::<Ipv4Addr>().is_ok()))
        {
            assert!(list.allows_addr(addr), "the entry {item} does not open {addr}");
        }
    }
}

/// `is_special_address` agrees with the standard library wherever the standard library
/// knows an address is not public.
fn check_special(ip: IpAddr) {
    if std_special(ip) {
        assert!(is_special_address(ip), "{ip} is not public but not refused");
    }
}

/// Special-use by the standard library's own (stable) predicates, IPv4 in IPv6 included.
fn std_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || v6.to_ipv4_mapped().is_some_and(|v4| std_special(IpAddr::V4(v4)))
        }
    }
}
