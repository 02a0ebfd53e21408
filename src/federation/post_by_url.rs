//! Finding the post a URL names, for the callers of `services::posts` and
//! `services::reactions` (which never fetch anything themselves): the post a staff reply
//! answers, and the post one of our accounts likes or boosts. It is one of ours, a remote
//! note we hold, or a remote note fetched now and checked like an inbound one, with its
//! author.

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
        mentions::handle_of,
        objects::remote_note::RemoteNoteDoc,
        remote_notes,
        resolve::{self, Freshness},
    },
    services::posts::{Mention, ReplyTarget},
};

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
    let doc = remote_notes::fetch_note_at(ctx, &url, &mut budget)
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
            visibility: post.visibility,
            post: Some(post),
            author: Mention { handle: handle_of(ctx, &author), actor: author },
        },
        Found::Fetched(doc, author) => ReplyTarget {
            ap_id: doc.ap_id.to_string(),
            post: None,
            visibility: doc.visibility,
            author: Mention { handle: handle_of(ctx, &author), actor: author },
        },
    })
}

/// The post one of our accounts likes or boosts, named by its URL (see [`find_post`]): a
/// remote note fetched now is stored, so the reaction has a row to hang on.
pub async fn resolve_post(ctx: &FederationContext, raw: &str) -> AppResult<posts::Model> {
    match find_post(ctx, raw).await? {
        Found::Stored(post, _) => Ok(post),
        Found::Fetched(doc, author) => remote_notes::keep(ctx, doc, &author)
            .await
            .map_err(|e| AppError::unprocessable(format!("cannot keep {}: {e}", raw.trim()))),
    }
}
