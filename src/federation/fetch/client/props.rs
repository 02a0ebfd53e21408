//! Property tests of the client's URL check (F1): every address inside each special-use
//! range is refused whatever its spelling, public addresses over https pass, and an
//! allow-list entry opens exactly what it names. The ranges and generators are the
//! address module's (`net::props`), whose own properties cover the checks underneath.

#![allow(clippy::unwrap_used)]
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use proptest::prelude::*;

use super::*;
use crate::net::props::{V4_RANGES, V6_RANGES, global_unicast_v6, inside, ipv6_spellings, public_v4};

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
        prop_assert!(strict().check_url(&url_for("https", ip, port)).is_err(), "{} reachable", ip);
        prop_assert!(strict().check_url(&url_for("http", ip, port)).is_err());
    }

    #[test]
    fn ipv4_in_any_ipv6_spelling_is_refused(v4 in any::<u32>(), low in any::<u16>()) {
        for (name, ip) in ipv6_spellings(Ipv4Addr::from(v4), low) {
            prop_assert!(strict().check_url(&url_for("https", ip, 443)).is_err(), "{} {} reachable", name, ip);
        }
    }

    #[test]
    fn public_ipv4_addresses_are_accepted(v4 in any::<u32>()) {
        let ip = Ipv4Addr::from(v4);
        prop_assume!(public_v4(ip));
        prop_assert!(strict().check_url(&url_for("https", IpAddr::V4(ip), 443)).is_ok());
        // Plain http to the world stays refused.
        prop_assert!(strict().check_url(&url_for("http", IpAddr::V4(ip), 80)).is_err());
    }

    #[test]
    fn global_unicast_ipv6_outside_the_special_ranges_is_accepted(random in any::<u128>()) {
        let (ip, special) = global_unicast_v6(random);
        prop_assume!(!special);
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
        let c = client(&format!("{v4}:{port}"));
        prop_assert!(c.check_url(&url_for("http", ip, port)).is_ok());
        prop_assert!(c.check_url(&url_for("https", ip, port)).is_ok());
        // Neighbouring ports, other addresses and the IPv6 spellings stay closed.
        for p in [port - 1, port + 1] {
            prop_assert!(c.check_url(&url_for("http", ip, p)).is_err());
        }
        for v6 in [v4.to_ipv6_mapped(), v4.to_ipv6_compatible()] {
            prop_assert!(c.check_url(&url_for("https", IpAddr::V6(v6), port)).is_err(), "{} opened", v6);
        }
        let other = Ipv4Addr::from(other);
        prop_assume!(other != v4);
        if is_special_address(IpAddr::V4(other)) {
            prop_assert!(c.check_url(&url_for("https", IpAddr::V4(other), port)).is_err());
        }
    }

    #[test]
    fn url_checks_never_panic(raw in any::<String>()) {
        if let Ok(url) = Url::parse(&raw) {
            let _ = client("127.0.0.1:80").check_url(&url);
        }
    }
}
