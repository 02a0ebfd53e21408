//! The operator's allow-list (`OPENHOUSE_ALLOW_PRIVATE_FETCH`): the only remote endpoints
//! that may be reached on special-use addresses or over plain `http://` (FEDERATION.md §5).
//! The list itself is data; the fetch client applies it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use url::Url;

use super::IpNet;

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
    /// port, can check; the fetch client checks the port on the URL before connecting).
    pub fn allows_ip_any_port(&self, ip: IpAddr) -> bool {
        self.entries.iter().any(|e| matches!(&e.target, Target::Net(net) if net.contains(ip)))
    }

    /// Whether any address or range entry exists (only then can a host name legitimately
    /// resolve to a special address).
    pub fn has_net_entries(&self) -> bool {
        self.entries.iter().any(|e| matches!(e.target, Target::Net(_)))
    }
}
