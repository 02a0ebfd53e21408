//! Activities, one file per type, both ways (ADR 0015). Inbound, each file's `receive`
//! checks what it needs (without writing) and then calls a service; `dispatch_round`
//! routes stored rows to their files by the `type` string. Outbound, the same file builds
//! what we send of that type: an `outgoing` function turns one outbox event into a
//! [`Built`](crate::federation::delivery::expand::Built) activity and its audience (called
//! by `delivery::expand`), beside a pure function that writes the JSON.
//!
//! Handled inbound: `Follow`, `Accept`, `Reject`, `Undo` (of Follow, Like, Announce, Block),
//! `Create`/`Update`/`Delete` of notes (and `Update`/`Delete` of actors), `Like`,
//! `Announce`, `Flag`, `Block`, `Move`. Other types are stored and marked ignored.
//! Sent: `Follow`, `Accept`, `Reject`, `Undo` (of Follow, Like, Announce), `Create`,
//! `Update` and `Delete` of our posts, `Like`, `Announce`.
//!
//! Origin rules (FEDERATION.md I8) on top of the inbox's envelope checks: an object id is on
//! the actor's host and never ours, `attributedTo` is the actor, `Update`/`Delete` only
//! touch what the actor owns, and an embedded object is trusted only from its own host
//! (anything else is fetched by id).

pub(crate) mod accept;
mod announce;
mod block;
pub(crate) mod create;
pub(crate) mod delete;
mod flag;
pub(crate) mod follow;
mod like;
mod moved;
pub(crate) mod reaction;
pub(crate) mod reject;
pub(crate) mod undo;
pub(crate) mod update;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::{
    db::{
        entities::{actors, inbox_activities},
        queries,
    },
    federation::{
        context::FederationContext,
        fetch::FetchBudget,
        objects::{
            remote_actor::same_origin,
            remote_note::{NOTE_TYPES, RemoteNoteDoc, parse_note},
        },
        protocol::lenient::{id_of, type_of},
        remote_notes,
        resolve::{self, Freshness},
    },
};

/// What processing achieved.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// The activity changed something (or confirmed it).
    Applied,
    /// Nothing to do, with the reason.
    Ignored(&'static str),
}

/// Why processing failed.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Not worth retrying: the activity itself is unacceptable.
    #[error("rejected: {0}")]
    Rejected(String),
    /// Try again later (network, database).
    #[error("temporary: {0}")]
    Temporary(String),
}

impl HandleError {
    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Temporary(_))
    }
}

impl From<sea_orm::DbErr> for HandleError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Temporary(format!("database: {e}"))
    }
}

impl From<crate::error::AppError> for HandleError {
    fn from(e: crate::error::AppError) -> Self {
        match e.kind {
            crate::error::ErrorKind::Internal | crate::error::ErrorKind::Unavailable => Self::Temporary(e.to_string()),
            _ => Self::Rejected(e.to_string()),
        }
    }
}

/// A stored activity, parsed, with its verified actor.
pub(crate) struct Inbound {
    pub json: Value,
    pub actor: actors::Model,
}

impl Inbound {
    /// The `object` of the activity, as given.
    pub fn object(&self) -> &Value {
        self.json.get("object").unwrap_or(&Value::Null)
    }

    /// The activity's `id` as given (empty when missing), for logs and spans.
    pub fn id(&self) -> &str {
        self.json.get("id").and_then(Value::as_str).unwrap_or_default()
    }
}

/// Parses a stored activity and loads the actor that the inbox verified (I6); `Ok(Err(handled))`
/// when there is nothing more to do. The actor is the row recorded with the activity: it is
/// never decided again over the network, where a redirecting actor URL could name another
/// actor this time.
async fn load(ctx: &FederationContext, row: &inbox_activities::Model) -> Result<Result<Inbound, Handled>, HandleError> {
    let json: Value =
        serde_json::from_str(&row.payload).map_err(|e| HandleError::Rejected(format!("stored payload: {e}")))?;
    let actor = match row.actor_id {
        Some(id) => verified_actor(ctx, id, &row.actor_ap_id).await?,
        // Stored before the verified actor was recorded: the actor whose id is the claimed URL.
        None => {
            let url = Url::parse(&row.actor_ap_id).map_err(|e| HandleError::Rejected(e.to_string()))?;
            resolve::actor(ctx, &url, Freshness::Cached)
                .await
                .map_err(|e| HandleError::Temporary(format!("actor: {e}")))?
        }
    };
    if actor.ap_id != row.actor_ap_id || json.get("actor").and_then(id_of).is_none_or(|a| a.as_str() != actor.ap_id) {
        return Err(HandleError::Rejected("the activity's actor is not the actor that signed it".into()));
    }
    if actor.deleted_at.is_some() {
        return Ok(Err(Handled::Ignored("the actor was deleted")));
    }
    Ok(Ok(Inbound { json, actor }))
}

/// The actor row the inbox verified, from the in-memory cache when it holds that very row
/// (the inbox just put it there: no database read for a busy sender), else from the table.
async fn verified_actor(ctx: &FederationContext, id: i64, ap_id: &str) -> Result<actors::Model, HandleError> {
    if let Some(found) = ctx.actors.get(ap_id).filter(|a| a.id == id) {
        return Ok(found);
    }
    if let Some(found) = queries::actors::find(&ctx.db, id).await? {
        return Ok(found);
    }
    Err(HandleError::Rejected("the verified actor is no longer stored".into()))
}

/// Processes one stored activity of any type but `Create`.
async fn handle(ctx: &FederationContext, kind: &str, inbound: &Inbound) -> Result<Handled, HandleError> {
    match kind {
        "Follow" => follow::receive(ctx, inbound).await,
        "Undo" => undo::receive(ctx, inbound).await,
        "Accept" => accept::receive(ctx, inbound).await,
        "Reject" => reject::receive(ctx, inbound).await,
        "Update" => update::receive(ctx, inbound).await,
        "Delete" => delete::receive(ctx, inbound).await,
        "Like" => like::receive(ctx, inbound).await,
        "Announce" => announce::receive(ctx, inbound).await,
        "Flag" => flag::receive(ctx, inbound).await,
        "Block" => block::receive(ctx, inbound).await,
        "Move" => moved::receive(ctx, inbound).await,
        _ => Ok(Handled::Ignored("activity type not handled")),
    }
}

/// Processes stored activities in order, one outcome per row; `None` for rows not started
/// because the round ran past `budget`. The notes of consecutive `Create`s are stored
/// together (`create::store`); any other activity first waits for the `Create`s before
/// it, so order is kept (an `Update` right after its `Create` finds the note).
pub async fn dispatch_round(
    ctx: &FederationContext,
    rows: &[inbox_activities::Model],
    budget: std::time::Duration,
) -> Vec<Option<Result<Handled, HandleError>>> {
    let started = std::time::Instant::now();
    let mut outcomes: Vec<Option<Result<Handled, HandleError>>> = rows.iter().map(|_| None).collect();
    let mut creates: Vec<(usize, remote_notes::Arrived)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if started.elapsed() > budget {
            break;
        }
        let outcome = match load(ctx, row).await {
            Err(e) => Err(e),
            Ok(Err(settled)) => Ok(settled),
            Ok(Ok(inbound)) if row.activity_type == "Create" => match create::prepare(ctx, inbound).await {
                Ok(create::Prepared::Note(note)) => {
                    creates.push((i, *note));
                    continue;
                }
                Ok(create::Prepared::Settled(settled)) => Ok(settled),
                Err(e) => Err(e),
            },
            Ok(Ok(inbound)) => {
                store_creates(ctx, &mut creates, &mut outcomes).await;
                handle(ctx, &row.activity_type, &inbound).await
            }
        };
        if let Some(slot) = outcomes.get_mut(i) {
            *slot = Some(outcome);
        }
    }
    store_creates(ctx, &mut creates, &mut outcomes).await;
    outcomes
}

/// Stores the pending `Create`s and records their outcomes.
async fn store_creates(
    ctx: &FederationContext,
    creates: &mut Vec<(usize, remote_notes::Arrived)>,
    outcomes: &mut [Option<Result<Handled, HandleError>>],
) {
    if creates.is_empty() {
        return;
    }
    let (slots, notes): (Vec<usize>, Vec<remote_notes::Arrived>) = std::mem::take(creates).into_iter().unzip();
    for (slot, outcome) in slots.into_iter().zip(create::store(ctx, notes).await) {
        if let Some(o) = outcomes.get_mut(slot) {
            *o = Some(outcome);
        }
    }
}

/// The activity's own id (the inbox checked it is a URL on the actor's host).
pub(crate) fn activity_id(activity: &Inbound) -> Result<String, HandleError> {
    activity
        .json
        .get("id")
        .and_then(|v| v.as_str())
        .filter(|id| id.len() <= crate::federation::protocol::lenient::MAX_URL_LEN)
        .map(str::to_owned)
        .ok_or_else(|| HandleError::Rejected("the activity has no usable id".into()))
}

/// The note an activity (`Create`, `Update`) carries, checked against I8: its id on the
/// actor's host and not ours, its `attributedTo` the actor. An embedded note is used as
/// given (it comes from its own host, whose signature we verified); a bare id is fetched.
/// `None` when the object is not a note type.
pub(crate) async fn note_from_activity(
    ctx: &FederationContext,
    activity: &Inbound,
    budget: &mut FetchBudget,
) -> Result<Option<RemoteNoteDoc>, HandleError> {
    let object = activity.object();
    let Some(id) = id_of(object) else { return Err(HandleError::Rejected("the activity has no object".into())) };
    if ctx.is_local(&id) {
        return Err(HandleError::Rejected("an object on our own domain".into()));
    }
    let actor_url = Url::parse(&activity.actor.ap_id).map_err(|e| HandleError::Rejected(e.to_string()))?;
    if !same_origin(&id, &actor_url) {
        return Err(HandleError::Rejected("the object is not on the actor's host".into()));
    }
    let doc = if object.is_object() {
        if type_of(object).is_none_or(|t| !NOTE_TYPES.contains(&t.as_str())) {
            return Ok(None);
        }
        parse_note(object).map_err(|e| HandleError::Rejected(e.to_string()))?
    } else {
        remote_notes::fetch_note(ctx, &id, budget).await?
    };
    if doc.ap_id != id {
        return Err(HandleError::Rejected("the object's id changed".into()));
    }
    if doc.attributed_to != actor_url {
        return Err(HandleError::Rejected("attributedTo is not the activity's actor".into()));
    }
    Ok(Some(doc))
}

/// The local actor an URL names, if it is one of ours.
pub(crate) async fn local_actor(ctx: &FederationContext, url: &Url) -> Result<Option<actors::Model>, HandleError> {
    if !ctx.is_local(url) {
        return Ok(None);
    }
    Ok(queries::actors::find_by_ap_id(&ctx.db, url.as_str()).await?.filter(|a| a.local))
}

/// The `object` of an `Undo`/`Accept`/`Reject`: an embedded activity or its id.
pub(crate) fn inner_activity(value: &Value) -> (Option<Url>, Option<String>, Option<&Value>) {
    match value {
        Value::Object(_) => (value.get("id").and_then(id_of), type_of(value), Some(value)),
        other => (id_of(other), None, None),
    }
}

/// A URL we send, from a stored string; `None` (nothing sent) when it does not parse.
fn url(s: &str) -> Option<Url> {
    Url::parse(s).ok()
}

/// An object embedded in an activity we send: serialized without its own `@context` (the
/// activity carries one).
fn embedded(object: &impl Serialize) -> Option<Value> {
    let mut value = serde_json::to_value(object).ok()?;
    if let Some(map) = value.as_object_mut() {
        map.remove("@context");
    }
    Some(value)
}
