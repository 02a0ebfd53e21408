//! Remote actors: found in our cache (in memory, then the `actors` table), or fetched
//! (signed by the instance actor), checked and stored. An actor is always resolved under
//! its own id: a URL resolves to the actor whose id it is, or to nothing (F2, I6); only what
//! a person typed (a profile URL, a handle) may lead elsewhere, under the checks of
//! [`by_handle_or_url`]. Cached copies are refreshed after 24 hours (F6); a 410 deletes them
//! (their notes become tombstones and the row stays as a deleted marker, see ADR 0008).

use chrono::{Duration, Utc};
use url::Url;

use crate::{
    db::{entities::actors, queries},
    federation::{
        context::FederationContext,
        fetch::{FetchBudget, FetchError},
        identity,
        objects::remote_actor::{RemoteActorDoc, parse_actor},
        webfinger::{self, Handle},
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

/// The actor whose id is `url`, from the cache or the network (a fetch costs up to two of
/// the default budget, see [`identity::fetch_object`]). Never another actor: a URL that
/// leads to a document with another id (a redirect, a copy) is refused (F2, I6).
pub async fn actor(ctx: &FederationContext, url: &Url, freshness: Freshness) -> Result<actors::Model, ResolveError> {
    actor_within(ctx, url, freshness, Exactly::Yes, &mut FetchBudget::of(2)).await
}

/// Whether a resolution must yield the actor whose id is the URL asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exactly {
    /// Yes: every protocol path (the actor of an activity, a note's author, a Move target).
    Yes,
    /// No: the URL a person typed or a WebFinger link may lead to an actor with another id,
    /// which its own server vouches for (F2).
    No,
}

async fn actor_within(
    ctx: &FederationContext,
    url: &Url,
    freshness: Freshness,
    exactly: Exactly,
    budget: &mut FetchBudget,
) -> Result<actors::Model, ResolveError> {
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
    let fetched = match fetch(ctx, url, budget).await {
        Ok(doc) if exactly == Exactly::Yes && doc.ap_id != *url => Err(ResolveError::Invalid {
            url: url.to_string(),
            reason: format!("the document there is the actor {}, not {url}", doc.ap_id),
        }),
        other => other,
    };
    match fetched {
        Ok(doc) => store(ctx, doc, url, cached.as_ref()).await,
        Err(ResolveError::Fetch(FetchError::Status { status, .. })) if status == reqwest::StatusCode::GONE => {
            ctx.actors.remove(url.as_str());
            if let Some(found) = cached {
                ctx.keys.remove(&found.public_key_id);
                // Its notes may hold threads together: they become tombstones, the row a
                // deleted marker, and its relations go (as for a `Delete` of the actor).
                crate::services::remote_actors::actor_deleted(&ctx.db, &found)
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

/// The actor document at `url`, accepted under its own id (F2), which may differ from `url`.
async fn fetch(ctx: &FederationContext, url: &Url, budget: &mut FetchBudget) -> Result<RemoteActorDoc, ResolveError> {
    let fetched = identity::fetch_object(&ctx.fetcher, url, Some(&ctx.instance_key), budget).await?;
    if ctx.is_local(&fetched.id) {
        return Err(ResolveError::Local(fetched.id.to_string()));
    }
    parse_actor(&fetched.json, &fetched.id)
        .map_err(|e| ResolveError::Invalid { url: url.to_string(), reason: e.to_string() })
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

/// [`actor`] on a fetch budget (F5): a cached copy costs nothing, a fetch one or two.
pub async fn actor_budgeted(
    ctx: &FederationContext,
    url: &Url,
    budget: &mut FetchBudget,
) -> Result<actors::Model, ResolveError> {
    actor_within(ctx, url, Freshness::Cached, Exactly::Yes, budget).await
}

/// A remote actor fetched now, whatever the cache holds, on a budget (a `Move` target must
/// be read fresh: its `alsoKnownAs` is the proof).
pub async fn actor_fresh(
    ctx: &FederationContext,
    url: &Url,
    budget: &mut FetchBudget,
) -> Result<actors::Model, ResolveError> {
    actor_within(ctx, url, Freshness::Refetch, Exactly::Yes, budget).await
}

/// A remote actor named by a handle (`user@host`, see [`by_handle`]) or by a URL a person
/// gave, which may lead to an actor with another id (its profile page, say) as long as that
/// actor's own server vouches for it (F2).
pub async fn by_handle_or_url(ctx: &FederationContext, target: &str) -> anyhow::Result<actors::Model> {
    match Url::parse(target.trim()) {
        Ok(url) if url.scheme() == "https" || url.scheme() == "http" => {
            Ok(actor_within(ctx, &url, Freshness::Cached, Exactly::No, &mut FetchBudget::of(2)).await?)
        }
        _ => by_handle(ctx, &Handle::parse(target).map_err(|e| anyhow::anyhow!(e))?).await,
    }
}

/// The actor a handle names (F8): WebFinger on the handle's host gives its `self` link; the
/// actor found there stands if it is on that host, or if its own server confirms the handle
/// (WebFinger for `preferredUsername@its host` answers with the same actor). Otherwise any
/// server could name someone else's account as one of its users.
pub async fn by_handle(ctx: &FederationContext, handle: &Handle) -> anyhow::Result<actors::Model> {
    let href = self_link(ctx, handle).await?;
    let actor = actor_within(ctx, &href, Freshness::Cached, Exactly::No, &mut FetchBudget::of(2)).await?;
    if actor.domain.eq_ignore_ascii_case(&handle.host) {
        return Ok(actor);
    }
    let own = Handle { user: actor.username.clone(), host: actor.domain.to_ascii_lowercase() };
    match self_link(ctx, &own).await {
        Ok(back) if back.as_str() == actor.ap_id => Ok(actor),
        Ok(back) => anyhow::bail!(
            "{}@{} leads to {}, but its server says @{}@{} is {back}",
            handle.user,
            handle.host,
            actor.ap_id,
            own.user,
            own.host
        ),
        Err(e) => anyhow::bail!(
            "{}@{} leads to {}, whose server does not confirm the handle: {e}",
            handle.user,
            handle.host,
            actor.ap_id
        ),
    }
}

/// The ActivityPub actor URL of a WebFinger answer (its `self` link).
async fn self_link(ctx: &FederationContext, handle: &Handle) -> anyhow::Result<Url> {
    let jrd = webfinger::lookup(&ctx.fetcher, handle).await?;
    let href = jrd
        .links
        .iter()
        .find(|l| {
            l.rel == "self" && l.kind.as_deref().is_some_and(|k| k.contains("activity+json") || k.contains("ld+json"))
        })
        .and_then(|l| l.href.as_deref())
        .ok_or_else(|| anyhow::anyhow!("{}@{} has no ActivityPub actor", handle.user, handle.host))?;
    Ok(Url::parse(href)?)
}
