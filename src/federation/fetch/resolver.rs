//! The client's DNS resolver: special-use addresses are dropped when the connection is
//! made, so a name that resolves differently the second time cannot slip through (F1).

use std::{net::SocketAddr, sync::Arc};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::net::{AllowList, is_special_address};

/// A DNS resolver that drops special-use addresses unless allow-listed: the check happens
/// on the very addresses the connection will use.
pub(super) struct CheckingResolver {
    pub(super) allow: Arc<AllowList>,
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
