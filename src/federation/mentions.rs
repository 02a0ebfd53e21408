//! Resolving what a post refers to, for the callers of `services::posts` (which never fetch
//! anything themselves): the `@user@host` handles its text names, and the post it replies to
//! (ours, a remote note we hold, or a remote note fetched now and checked like an inbound
//! one) with its author.

use url::Url;

use crate::{
    db::{
        entities::{actors, posts},
        queries,
    },
    error::{AppError, AppResult},
    federation::{
        context::FederationContext,
        fetch::FetchBudget,
        objects::remote_note::RemoteNoteDoc,
        resolve::{self, Freshness},
        threads,
    },
    markdown,
    services::posts::{Mention, ReplyTarget},
};

/// Most distinct mentions in one post (each may cost a WebFinger lookup and a fetch).
pub const MAX_MENTIONS: usize = 20;

/// The accounts `text` mentions: ours by name, others by WebFinger and a signed fetch.
/// An unknown handle is an error naming it, so that a typo does not go out silently.
pub async fn resolve_mentions(ctx: &FederationContext, text: &str) -> AppResult<Vec<Mention>> {
    resolve_mentions_knowing(ctx, text, &[]).await
}

/// [`resolve_mentions`], where the handles of `known` need no lookup (the author of the post
/// replied to, already resolved).
pub async fn resolve_mentions_knowing(
    ctx: &FederationContext,
    text: &str,
    known: &[Mention],
) -> AppResult<Vec<Mention>> {
    let handles = markdown::mention_handles(text);
    if handles.len() > MAX_MENTIONS {
        return Err(AppError::unprocessable(format!("at most {MAX_MENTIONS} accounts can be mentioned in one post")));
    }
    let ours = ctx.urls.handle_domain();
    let mut mentions = Vec::with_capacity(handles.len());
    for handle in handles {
        if let Some(found) = known.iter().find(|m| m.handle.eq_ignore_ascii_case(&handle)) {
            mentions.push(Mention { handle, actor: found.actor.clone() });
            continue;
        }
        let (user, host) = handle.split_once('@').unwrap_or((handle.as_str(), ""));
        let actor = if host.eq_ignore_ascii_case(&ours) {
            queries::actors::find_local_by_username(&ctx.db, &user.to_ascii_lowercase())
                .await?
                .ok_or_else(|| AppError::unprocessable(format!("there is no account @{handle} here")))?
        } else {
            resolve::by_handle_or_url(ctx, &handle)
                .await
                .map_err(|e| AppError::unprocessable(format!("cannot find @{handle}: {e}")))?
        };
        mentions.push(Mention { handle, actor });
    }
    Ok(mentions)
}

/// The `user@host` handle of an actor, ours or remote.
pub fn handle_of(ctx: &FederationContext, actor: &actors::Model) -> String {
    let domain = if actor.local { ctx.urls.handle_domain() } else { actor.domain.clone() };
    format!("{}@{domain}", actor.username)
}

/// A post named by its URL, as staff name the post they answer or react to.
enum Found {
    /// Ours, or a remote note we stored, with its author.
    Stored(posts::Model, actors::Model),
    /// A remote note fetched now and checked, with its author.
    Fetched(RemoteNoteDoc, actors::Model),
}

/// Finds the post at `raw`: one of ours, a remote note already stored, or a remote note
/// fetched now (signed by the instance actor, accepted under its own id, F2), whose author
/// is the actor whose id is its `attributedTo`.
async fn find_post(ctx: &FederationContext, raw: &str) -> AppResult<Found> {
    let raw = raw.trim();
    let url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| AppError::unprocessable(format!("expected the URL of a post, not {raw:?}")))?;
    let stored = match queries::posts::find_by_ap_id(&ctx.db, url.as_str()).await? {
        Some(post) => Some(post),
        None => queries::posts::find_by_ap_id(&ctx.db, url.as_str().trim_end_matches('/')).await?,
    };
    if let Some(post) = stored {
        if post.deleted_at.is_some() {
            return Err(AppError::gone(format!("{raw} was deleted")));
        }
        if post.local && post.published_at.is_none() {
            return Err(AppError::unprocessable(format!("{raw} is not published yet")));
        }
        let author = queries::actors::find(&ctx.db, post.actor_id)
            .await?
            .ok_or_else(|| AppError::unprocessable(format!("the author of {raw} is unknown")))?;
        return Ok(Found::Stored(post, author));
    }
    if ctx.is_local(&url) {
        return Err(AppError::unprocessable(format!("there is no post {raw} here")));
    }
    // Fetched on a budget and checked like any inbound note (F2, F5, F7, I8).
    let mut budget = FetchBudget::per_activity();
    let doc = threads::fetch_note_at(ctx, &url, &mut budget)
        .await
        .map_err(|e| AppError::unprocessable(format!("cannot fetch {raw}: {e}")))?;
    let author = resolve::actor(ctx, &doc.attributed_to, Freshness::Cached)
        .await
        .map_err(|e| AppError::unprocessable(format!("cannot fetch {raw}: its author: {e}")))?;
    Ok(Found::Fetched(doc, author))
}

/// The post a staff reply answers, named by its URL (see [`find_post`]).
pub async fn resolve_reply_target(ctx: &FederationContext, raw: &str) -> AppResult<ReplyTarget> {
    Ok(match find_post(ctx, raw).await? {
        Found::Stored(post, author) => ReplyTarget {
            ap_id: post.ap_id.clone(),
            visibility: post.visibility.clone(),
            post: Some(post),
            author: Mention { handle: handle_of(ctx, &author), actor: author },
        },
        Found::Fetched(doc, author) => ReplyTarget {
            ap_id: doc.ap_id.to_string(),
            post: None,
            visibility: doc.visibility.to_owned(),
            author: Mention { handle: handle_of(ctx, &author), actor: author },
        },
    })
}

/// The post one of our accounts likes or boosts, named by its URL (see [`find_post`]): a
/// remote note fetched now is stored, so the reaction has a row to hang on.
pub async fn resolve_post(ctx: &FederationContext, raw: &str) -> AppResult<posts::Model> {
    match find_post(ctx, raw).await? {
        Found::Stored(post, _) => Ok(post),
        Found::Fetched(doc, author) => threads::keep(ctx, doc, &author)
            .await
            .map_err(|e| AppError::unprocessable(format!("cannot keep {}: {e}", raw.trim()))),
    }
}
