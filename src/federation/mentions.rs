//! Resolving the `@user@host` handles a post's text names, for the callers of
//! `services::posts` (which never fetch anything themselves): ours by name, others by
//! WebFinger and a signed fetch. The post a reply answers is `post_by_url`'s.

use crate::{
    db::{entities::actors, queries},
    error::{AppError, AppResult},
    federation::{context::FederationContext, resolve},
    markdown,
    services::posts::Mention,
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
