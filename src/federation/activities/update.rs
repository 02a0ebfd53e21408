//! `Update`: an author edits its note (never creates one), or an actor updates its own
//! profile (re-fetched, so what we store is what its server serves).

use chrono::Utc;

use crate::{
    federation::{
        activities::{HandleError, Handled, Inbound, note_from_activity},
        context::FederationContext,
        fetch::FetchBudget,
        protocol::lenient::{id_of, type_of},
        resolve,
    },
    services::{
        Change,
        remote_notes::{self, NoteEdit},
    },
};

/// Actor types whose `Update` refreshes the cached profile.
const ACTOR_TYPES: &[&str] = &["Person", "Service", "Organization", "Group", "Application"];

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
