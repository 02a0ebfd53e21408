//! Inbound activities, one file per type. Each file's `receive` checks what it needs
//! (without writing) and then calls a service. `dispatch` routes a stored row to its file.
//!
//! Types not handled yet are stored and marked ignored; the conversations work adds
//! `Create`, `Update`, `Delete`, `Like`, `Announce`, `Flag`, `Block` and `Move` here.

mod accept;
mod follow;
pub mod outbound;
mod reject;
mod undo;

use serde_json::Value;
use url::Url;

use crate::{
    db::{
        entities::{actors, inbox_activities},
        queries,
    },
    federation::{
        context::FederationContext,
        protocol::lenient::{id_of, type_of},
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
}

/// Processes one stored activity.
pub async fn dispatch(ctx: &FederationContext, row: &inbox_activities::Model) -> Result<Handled, HandleError> {
    let json: Value =
        serde_json::from_str(&row.payload).map_err(|e| HandleError::Rejected(format!("stored payload: {e}")))?;
    let actor_url = Url::parse(&row.actor_ap_id).map_err(|e| HandleError::Rejected(e.to_string()))?;
    let actor = resolve::actor(ctx, &actor_url, Freshness::Cached)
        .await
        .map_err(|e| HandleError::Temporary(format!("actor: {e}")))?;
    let inbound = Inbound { json, actor };
    match row.activity_type.as_str() {
        "Follow" => follow::receive(ctx, &inbound).await,
        "Undo" => undo::receive(ctx, &inbound).await,
        "Accept" => accept::receive(ctx, &inbound).await,
        "Reject" => reject::receive(ctx, &inbound).await,
        _ => Ok(Handled::Ignored("activity type not handled")),
    }
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
