//! Property tests of the address checker (F1) and the allow-list: every address inside each
//! special-use range is special whatever its spelling (IPv4, mapped or compatible IPv6,
//! NAT64, 6to4), public addresses are not, and an allow-list entry opens exactly what it
//! names. The fetch client's own properties (`federation::fetch`) reuse the ranges and
//! generators below.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;
use url::Url;

use super::*;

/// The special-use ranges of FEDERATION.md §5 F1, written out independently of the code.
pub(crate) const V4_RANGES: &[&str] = &[
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
/// The special-use IPv6 ranges, likewise.
pub(crate) const V6_RANGES: &[&str] = &[
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
pub(crate) fn inside(cidr: &str, random: u128) -> IpAddr {
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
pub(crate) fn public_v4(ip: Ipv4Addr) -> bool {
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

/// The IPv6 spellings of one IPv4 address (`low` fills the 6to4 host bits).
pub(crate) fn ipv6_spellings(v4: Ipv4Addr, low: u16) -> [(&'static str, IpAddr); 7] {
    let n = u128::from(u32::from(v4));
    [
        ("mapped", IpAddr::V6(v4.to_ipv6_mapped())),
        ("compatible", IpAddr::V6(v4.to_ipv6_compatible())),
        ("translated", IpAddr::V6(Ipv6Addr::from(0xffff_0000_u128 << 32 | n))),
        ("NAT64", IpAddr::V6(Ipv6Addr::from(0x0064_ff9b_u128 << 96 | n))),
        ("local NAT64", IpAddr::V6(Ipv6Addr::from(0x0064_ff9b_0001_u128 << 80 | n))),
        ("6to4", IpAddr::V6(Ipv6Addr::from(0x2002_u128 << 112 | n << 80 | u128::from(low)))),
        ("Teredo", IpAddr::V6(Ipv6Addr::from(0x2001_0000_u128 << 96 | n))),
    ]
}

/// A global unicast IPv6 address (2000::/3) from random bits, and whether it falls into a
/// special range of it.
pub(crate) fn global_unicast_v6(random: u128) -> (Ipv6Addr, bool) {
    let ip = Ipv6Addr::from((random & (u128::MAX >> 3)) | (1u128 << 125));
    let special = V6_RANGES.iter().any(|r| IpNet::parse(r).unwrap().contains(IpAddr::V6(ip)));
    (ip, special)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_address_in_a_special_range_is_special(
        range in proptest::sample::select(V4_RANGES.iter().chain(V6_RANGES).copied().collect::<Vec<_>>()),
        random in any::<u128>(),
    ) {
        let ip = inside(range, random);
        prop_assert!(is_special_address(ip), "{} in {} is not special", ip, range);
    }

    #[test]
    fn ipv4_in_any_ipv6_spelling_is_special(v4 in any::<u32>(), low in any::<u16>()) {
        for (name, ip) in ipv6_spellings(Ipv4Addr::from(v4), low) {
            prop_assert!(is_special_address(ip), "{} {} is not special", name, ip);
        }
    }

    #[test]
    fn public_ipv4_addresses_are_not_special(v4 in any::<u32>()) {
        let ip = Ipv4Addr::from(v4);
        prop_assume!(public_v4(ip));
        prop_assert!(!is_special_address(IpAddr::V4(ip)), "{} refused", ip);
    }

    #[test]
    fn global_unicast_ipv6_outside_the_special_ranges_is_not_special(random in any::<u128>()) {
        let (ip, special) = global_unicast_v6(random);
        prop_assume!(!special);
        prop_assert!(!is_special_address(IpAddr::V6(ip)), "{} refused", ip);
    }

    #[test]
    fn an_address_entry_lists_exactly_that_address_and_port(
        range in proptest::sample::select(V4_RANGES.to_vec()),
        random in any::<u128>(),
        port in 1u16..u16::MAX,
        other in any::<u32>(),
    ) {
        let ip = inside(range, random);
        let IpAddr::V4(v4) = ip else { unreachable!() };
        let list = AllowList::parse(&format!("{v4}:{port}")).unwrap();
        prop_assert!(list.allows_addr(SocketAddr::new(ip, port)));
        // Neighbouring ports, other addresses and the IPv6 spellings stay closed.
        for p in [port - 1, port + 1] {
            prop_assert!(!list.allows_addr(SocketAddr::new(ip, p)));
        }
        for v6 in [v4.to_ipv6_mapped(), v4.to_ipv6_compatible()] {
            prop_assert!(!list.allows_addr(SocketAddr::new(IpAddr::V6(v6), port)));
        }
        let other = Ipv4Addr::from(other);
        prop_assume!(other != v4);
        prop_assert!(!list.allows_addr(SocketAddr::new(IpAddr::V4(other), port)));
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
}
