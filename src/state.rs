//! Shared application state: built once by `startup`, cloned cheaply into every handler.

use std::{ops::Deref, sync::Arc};

use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    federation::{context::FederationContext, fetch::SafeClient},
    http::pages::cache::PageCache,
    rate_limit::{InboxLimits, IpLimiter},
    urls::Urls,
};

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The configuration the process started with.
    pub config: Config,
    /// Our URL layout.
    pub urls: Urls,
    /// The SSRF-safe client for everything fetched from elsewhere.
    pub fetcher: SafeClient,
    /// The federation wing's state (instance key, key cache, worker wake-ups).
    pub federation: FederationContext,
    /// Inbox rate limits (I11), per remote address and per remote actor.
    pub inbox_limits: InboxLimits,
    /// Remote-follow lookups per client address (the form fetches what a stranger names).
    pub remote_follow_limit: IpLimiter,
    /// Rendered thread pages, served again while their thread is unchanged.
    pub pages: PageCache,
}

impl AppState {
    /// Builds the state; loads (or creates) the instance actor and its key.
    pub async fn new(db: DatabaseConnection, config: Config, fetcher: SafeClient) -> anyhow::Result<Self> {
        let urls = Urls::new(config.public_url.clone());
        let federation = FederationContext::new(db.clone(), urls.clone(), fetcher.clone()).await?;
        let inbox_limits = InboxLimits::new(
            config.inbox_rate_per_ip,
            config.inbox_rate_per_actor,
            config.trusted_proxies.clone(),
            config.rate_limit_ipv6_prefix,
        );
        let remote_follow_limit = IpLimiter::per_minute(config.remote_follow_per_minute, config.rate_limit_ipv6_prefix);
        Ok(Self(Arc::new(Inner {
            db,
            config,
            urls,
            fetcher,
            federation,
            inbox_limits,
            remote_follow_limit,
            pages: PageCache::default(),
        })))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
