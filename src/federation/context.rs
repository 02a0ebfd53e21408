//! What the federation wing needs at hand: the database, our URLs, the safe client, the
//! instance actor's signing key, the caches of remote actors and parsed keys, the inbox
//! writer (group commit), and per-host delivery health. Built once at start-up.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use url::Url;

use crate::{
    db::queries,
    federation::{
        actor_cache::ActorCache,
        actor_writer::ActorWriter,
        delivery::hosts::HostHealth,
        fetch::SafeClient,
        inbox::writer::InboxWriter,
        key_refetch::KeyRefetches,
        signatures::{KeyCache, SigningKey},
    },
    services::accounts,
    urls::Urls,
};

/// Shared federation state. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FederationContext {
    /// The database pool.
    pub db: DatabaseConnection,
    /// Our URL layout.
    pub urls: Urls,
    /// The one outbound HTTP client.
    pub fetcher: SafeClient,
    /// The instance actor's key: signs every fetch (authorized-fetch servers require it).
    pub instance_key: Arc<SigningKey>,
    /// Parsed public keys of remote actors, by key id.
    pub keys: Arc<KeyCache>,
    /// Remote actors recently read or fetched (a cache of the `actors` table).
    pub actors: Arc<ActorCache>,
    /// Forced key re-fetches, at most one per actor per 5 minutes (I7).
    pub key_refetches: Arc<KeyRefetches>,
    /// Stores verified inbound activities, many requests per statement.
    pub inbox_writer: InboxWriter,
    /// Stores fetched actors, many callers per transaction (SQLite).
    pub actor_writer: ActorWriter,
    /// This process's copy of per-host delivery health (D7): the delivery worker gates on
    /// it, the inbox revives hosts that send us verified requests.
    pub hosts: Arc<HostHealth>,
    /// Wakes the inbox worker when a new activity is stored (in this process).
    pub inbox_wakeup: Arc<Notify>,
    /// Wakes the outbox expander when new events are recorded (in this process).
    pub outbox_wakeup: Arc<Notify>,
    /// Wakes the delivery worker when new deliveries are stored (in this process).
    pub delivery_wakeup: Arc<Notify>,
}

impl FederationContext {
    /// Loads the instance actor's key (creating the actor on first start) and starts the
    /// inbox writer task on the current runtime.
    pub async fn new(db: DatabaseConnection, urls: Urls, fetcher: SafeClient) -> anyhow::Result<Self> {
        let actor = accounts::instance_actor(&db, &urls).await.map_err(|e| anyhow::anyhow!("instance actor: {e}"))?;
        let pem = queries::actors::private_key(&db, actor.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the instance actor has no private key"))?;
        let key_id = Url::parse(&actor.public_key_id)?;
        let instance_key = Arc::new(SigningKey::from_pkcs8_pem(key_id, &pem)?);
        let inbox_wakeup = Arc::new(Notify::new());
        let inbox_writer = InboxWriter::spawn(db.clone(), inbox_wakeup.clone());
        let actor_writer = ActorWriter::spawn(db.clone());
        let hosts = Arc::new(HostHealth::load(&db).await?);
        Ok(Self {
            db,
            urls,
            fetcher,
            instance_key,
            keys: Arc::new(KeyCache::new(10_000)),
            actors: Arc::new(ActorCache::default()),
            key_refetches: Arc::new(KeyRefetches::default()),
            inbox_writer,
            actor_writer,
            hosts,
            inbox_wakeup,
            outbox_wakeup: Arc::new(Notify::new()),
            delivery_wakeup: Arc::new(Notify::new()),
        })
    }

    /// Whether a URL is on our own origin: nothing from outside may claim one.
    pub fn is_local(&self, url: &Url) -> bool {
        url.origin() == self.urls.base().url().origin()
    }
}
