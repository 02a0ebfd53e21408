//! Examples of the address checks and of every documented allow-list form.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::net::IpAddr;

use url::Url;

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
