//! `Update`: inbound, an author edits its note (never creates one), or an actor updates its
//! own profile (re-fetched, so what we store is what its server serves); outbound, one of
//! our published posts was edited.

use chrono::Utc;
use sea_orm::DbErr;
use url::Url;

use crate::{
    federation::{
        activities::{
            HandleError, Handled, Inbound,
            create::{note_activity, note_of, sendable},
            note_from_activity,
        },
        context::FederationContext,
        delivery::expand::{Audience, Built},
        fetch::FetchBudget,
        protocol::{
            activity::Activity,
            lenient::{id_of, type_of},
            note::Note,
        },
        resolve,
    },
    services::{
        Change,
        remote_notes::{self, NoteEdit},
    },
};

/// Actor types whose `Update` refreshes the cached profile.
const ACTOR_TYPES: &[&str] = &["Person", "Service", "Organization", "Group", "Application"];

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let mut budget = FetchBudget::per_activity();
    let object = activity.object();
    if type_of(object).is_some_and(|t| ACTOR_TYPES.contains(&t.as_str())) {
        if id_of(object).is_none_or(|id| id.as_str() != activity.actor.ap_id) {
            return Err(HandleError::Rejected("Update of another actor".into()));
        }
        let url = url::Url::parse(&activity.actor.ap_id).map_err(|e| HandleError::Rejected(e.to_string()))?;
        resolve::actor_fresh(ctx, &url, &mut budget).await.map_err(|e| HandleError::Temporary(e.to_string()))?;
        return Ok(Handled::Applied);
    }
    // Unknown notes are not fetched: an Update never creates.
    let Some(id) = id_of(object) else { return Err(HandleError::Rejected("Update without an object".into())) };
    if remote_notes::find_post(&ctx.db, id.as_str()).await?.is_none() {
        return Ok(Handled::Ignored("Update of a note we do not have"));
    }
    let Some(doc) = note_from_activity(ctx, activity, &mut budget).await? else {
        return Ok(Handled::Ignored("Update of an object type not handled"));
    };
    let edit = NoteEdit {
        content_html: doc.content_html,
        summary: doc.summary,
        sensitive: doc.sensitive,
        updated: doc.updated.unwrap_or_else(Utc::now),
        attachments_json: doc.attachments_json,
    };
    Ok(match remote_notes::edit_note(&ctx.db, &activity.actor, doc.ap_id.as_str(), edit).await? {
        Change::Applied => Handled::Applied,
        Change::Unchanged => Handled::Ignored("edit already applied, stale, or of a deleted note"),
    })
}

/// Outbound: the `Update{Note}` of one of our published posts that was edited
/// (`PostEdited`), to the same audience as its `Create`; `None` when the post is not (or no
/// longer) out.
#[tracing::instrument(skip_all, fields(post = post_id, activity = %id))]
pub(crate) async fn outgoing(ctx: &FederationContext, post_id: i64, id: Url) -> Result<Option<Built>, DbErr> {
    let Some(d) = sendable(ctx, post_id).await? else { return Ok(None) };
    let note = note_of(ctx, &d);
    let audience = Audience::of_post(ctx, &d).await?;
    Ok(note.and_then(|n| activity(id, &n)).map(|activity| Built { activity, actor_id: d.author.id, audience }))
}

/// `Update{Note}` from the Note's author, addressed as the Note is.
pub(super) fn activity(id: Url, note: &Note) -> Option<Activity> {
    note_activity(id, "Update", note)
}
