//! Network addresses, apart from anything that uses them: CIDR ranges ([`IpNet`]), the
//! special-use ranges a public server never lives on ([`is_special_address`], FEDERATION.md
//! §5 F1), and the operator's allow-list of private endpoints ([`AllowList`]).
//!
//! Neutral ground: the configuration, the rate limiter and the fetch client
//! (`federation::fetch`) all read these types, and this module imports none of them.

mod allow_list;
mod cidr;

pub use allow_list::{AllowList, PortRange};
pub use cidr::{IpNet, is_special_address};

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod props;
