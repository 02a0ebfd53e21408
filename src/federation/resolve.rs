//! Remote actors: found in our cache (in memory, then the `actors` table), or fetched
//! (signed by the instance actor), checked and stored. Cached copies are refreshed after
//! 24 hours (F6); a 410 deletes them (their notes become tombstones and the row stays as a
//! deleted marker, see ADR 0008).

use chrono::{Duration, Utc};
use url::Url;

use crate::{
    db::{entities::actors, queries},
    federation::{
        context::FederationContext,
        fetch::{FetchBudget, FetchError},
        objects::remote_actor::{RemoteActorDoc, parse_actor},
    },
};

/// How long a cached remote actor is trusted before it is fetched again (F6).
pub const ACTOR_REFRESH: Duration = Duration::hours(24);

/// Why an actor could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The URL is ours: no one else may speak for it.
    #[error("{0} is on this server")]
    Local(String),
    /// Fetching failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The document is not an acceptable actor.
    #[error("{url}: {reason}")]
    Invalid {
        /// What was fetched.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// How fresh the answer must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// A cached copy younger than [`ACTOR_REFRESH`] will do.
    Cached,
    /// Fetch now (a signature failed with the cached key: it may have rotated).
    Refetch,
}

/// The actor at `url`, from the cache or the network.
pub async fn actor(ctx: &FederationContext, url: &Url, freshness: Freshness) -> Result<actors::Model, ResolveError> {
    if ctx.is_local(url) {
        return Err(ResolveError::Local(url.to_string()));
    }
    // The in-memory copy first (no database read for a known sender), under the same rule.
    if freshness == Freshness::Cached
        && let Some(found) = ctx.actors.get(url.as_str())
        && is_fresh(&found)
    {
        return Ok(found);
    }
    let cached = queries::actors::find_by_ap_id(&ctx.db, url.as_str()).await?;
    if let Some(found) = &cached {
        if found.local {
            return Err(ResolveError::Local(url.to_string()));
        }
        if is_fresh(found) && freshness == Freshness::Cached {
            ctx.actors.put(found);
            return Ok(found.clone());
        }
    }
    match fetch(ctx, url).await {
        Ok(doc) => store(ctx, doc, url, cached.as_ref()).await,
        Err(ResolveError::Fetch(FetchError::Status { status, .. })) if status == reqwest::StatusCode::GONE => {
            ctx.actors.remove(url.as_str());
            if let Some(found) = cached {
                ctx.keys.remove(&found.public_key_id);
                // Its notes may hold threads together: they become tombstones, the row a
                // deleted marker, and its relations go (as for a `Delete` of the actor).
                crate::services::conversations::actor_deleted(&ctx.db, &found)
                    .await
                    .map_err(|e| ResolveError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
            }
            Err(ResolveError::Invalid { url: url.to_string(), reason: "the actor is gone (410)".into() })
        }
        // A stale copy beats none when the remote is briefly down, unless a refetch was asked.
        Err(e) => match cached {
            Some(found) if freshness == Freshness::Cached => {
                tracing::debug!(error = %e, actor = %url, "refresh failed; using the cached copy");
                Ok(found)
            }
            _ => Err(e),
        },
    }
}

/// Whether a stored copy is young enough to use without fetching (F6).
fn is_fresh(actor: &actors::Model) -> bool {
    actor.last_fetched_at.is_some_and(|at| Utc::now() - at < ACTOR_REFRESH)
}

/// The actor as stored in the database right now (the in-memory copy is dropped), without
/// fetching: what another process may have stored since we cached it.
pub async fn reload(ctx: &FederationContext, url: &Url) -> Result<Option<actors::Model>, ResolveError> {
    ctx.actors.remove(url.as_str());
    let found = queries::actors::find_by_ap_id(&ctx.db, url.as_str()).await?.filter(|a| !a.local);
    if let Some(actor) = &found
        && is_fresh(actor)
    {
        ctx.actors.put(actor);
    }
    Ok(found)
}

async fn fetch(ctx: &FederationContext, url: &Url) -> Result<RemoteActorDoc, ResolveError> {
    let (final_url, json) = ctx.fetcher.get_activity_json(url, Some(&ctx.instance_key)).await?;
    if ctx.is_local(&final_url) {
        return Err(ResolveError::Local(final_url.to_string()));
    }
    parse_actor(&json, &final_url).map_err(|e| ResolveError::Invalid { url: url.to_string(), reason: e.to_string() })
}

/// Stores a fetched actor document through the actor writer (one upsert; on SQLite,
/// concurrent ones share a write turn). `cached` is the row read for `url` before the fetch.
async fn store(
    ctx: &FederationContext,
    doc: RemoteActorDoc,
    url: &Url,
    cached: Option<&actors::Model>,
) -> Result<actors::Model, ResolveError> {
    // The key to forget if it changed, from the row read before the fetch; read again only
    // when the document's id is not the URL asked for (a redirect). The key cache also
    // checks each key against the stored PEM, so a race here cannot make a stale key verify.
    let previous_key = if doc.ap_id == *url {
        cached.map(|found| found.public_key_id.clone())
    } else {
        queries::actors::find_by_ap_id(&ctx.db, doc.ap_id.as_str()).await?.map(|a| a.public_key_id)
    };
    let also_known_as_json = (!doc.also_known_as.is_empty())
        .then(|| serde_json::to_string(&doc.also_known_as.iter().map(Url::as_str).collect::<Vec<_>>()).ok())
        .flatten();
    let row = queries::actors::RemoteActorRow {
        ap_id: doc.ap_id.to_string(),
        ap_type: doc.ap_type,
        username: doc.username,
        domain: doc.domain,
        display_name: doc.display_name,
        summary_html: doc.summary_html,
        inbox_url: doc.inbox.to_string(),
        shared_inbox_url: doc.shared_inbox.map(String::from),
        outbox_url: doc.outbox.map(String::from),
        followers_url: doc.followers.map(String::from),
        profile_url: doc.profile_url.map(String::from),
        icon_url: doc.icon.map(String::from),
        image_url: doc.image.map(String::from),
        public_key_pem: doc.public_key_pem,
        public_key_id: doc.public_key_id,
        manually_approves_followers: doc.manually_approves_followers,
        discoverable: doc.discoverable,
        also_known_as_json,
        moved_to: doc.moved_to.map(String::from),
        now: Utc::now(),
    };
    // Concurrent first contacts share one write turn and transaction (`actor_writer`).
    let stored = ctx.actor_writer.upsert(row).await?;
    for key_id in previous_key.iter().chain(std::iter::once(&stored.public_key_id)) {
        ctx.keys.remove(key_id);
    }
    ctx.actors.put(&stored);
    Ok(stored)
}

/// [`actor`] on a fetch budget (F5): a cached copy costs nothing, a fetch costs one.
pub async fn actor_budgeted(
    ctx: &FederationContext,
    url: &Url,
    budget: &mut FetchBudget,
) -> Result<actors::Model, ResolveError> {
    if ctx.is_local(url) {
        return Err(ResolveError::Local(url.to_string()));
    }
    if let Some(found) = queries::actors::find_by_ap_id(&ctx.db, url.as_str()).await?
        && !found.local
        && found.last_fetched_at.is_some_and(|at| Utc::now() - at < ACTOR_REFRESH)
    {
        return Ok(found);
    }
    if !budget.take() {
        return Err(ResolveError::Fetch(FetchError::BudgetSpent(url.to_string())));
    }
    actor(ctx, url, Freshness::Cached).await
}

/// A remote actor fetched now, whatever the cache holds, on a budget (a `Move` target must
/// be read fresh: its `alsoKnownAs` is the proof).
pub async fn actor_fresh(
    ctx: &FederationContext,
    url: &Url,
    budget: &mut FetchBudget,
) -> Result<actors::Model, ResolveError> {
    if !budget.take() {
        return Err(ResolveError::Fetch(FetchError::BudgetSpent(url.to_string())));
    }
    actor(ctx, url, Freshness::Refetch).await
}

/// A remote actor named by a handle (`user@host`, looked up with WebFinger) or an actor URL.
pub async fn by_handle_or_url(ctx: &FederationContext, target: &str) -> anyhow::Result<actors::Model> {
    let url = match Url::parse(target.trim()) {
        Ok(url) if url.scheme() == "https" || url.scheme() == "http" => url,
        _ => {
            let handle = crate::federation::webfinger::Handle::parse(target).map_err(|e| anyhow::anyhow!(e))?;
            let jrd = crate::federation::webfinger::lookup(&ctx.fetcher, &handle).await?;
            let href = jrd
                .links
                .iter()
                .find(|l| {
                    l.rel == "self"
                        && l.kind.as_deref().is_some_and(|k| k.contains("activity+json") || k.contains("ld+json"))
                })
                .and_then(|l| l.href.as_deref())
                .ok_or_else(|| anyhow::anyhow!("{target} has no ActivityPub actor"))?;
            Url::parse(href)?
        }
    };
    Ok(actor(ctx, &url, Freshness::Cached).await?)
}
