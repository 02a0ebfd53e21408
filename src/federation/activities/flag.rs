//! `Flag`: a report from another server, stored for moderators.

use crate::{
    db::queries,
    federation::{
        activities::{HandleError, Handled, Inbound, activity_id, local_actor},
        context::FederationContext,
        protocol::lenient::{MAX_URL_LEN, id_of, items_of, string_of},
    },
    services::{
        Change,
        remote_actors::{self, IncomingReport},
    },
};

/// Longest report comment kept, in characters.
const MAX_COMMENT_CHARS: usize = 5_000;
/// Most objects a report names that we keep.
const MAX_OBJECTS: usize = 50;

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let objects: Vec<url::Url> = items_of(activity.object(), MAX_OBJECTS).into_iter().filter_map(id_of).collect();
    if objects.is_empty() {
        return Err(HandleError::Rejected("Flag without objects".into()));
    }
    let mut target_actor_id = None;
    for url in &objects {
        if let Some(actor) = local_actor(ctx, url).await? {
            target_actor_id = Some(actor.id);
            break;
        }
        if ctx.is_local(url)
            && let Some(post) = queries::posts::find_by_ap_id(&ctx.db, url.as_str()).await?
        {
            target_actor_id = Some(post.actor_id);
            break;
        }
    }
    let report = IncomingReport {
        ap_id: activity_id(activity)?,
        content: activity.json.get("content").and_then(|c| string_of(c, MAX_COMMENT_CHARS)).unwrap_or_default(),
        object_ap_ids: objects
            .iter()
            .map(|u| u.as_str())
            .filter(|u| u.len() <= MAX_URL_LEN)
            .map(String::from)
            .collect(),
        target_actor_id,
    };
    Ok(match remote_actors::receive_report(&ctx.db, &activity.actor, report).await? {
        Change::Applied => Handled::Applied,
        Change::Unchanged => Handled::Ignored("report already stored"),
    })
}
