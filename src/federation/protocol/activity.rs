//! Outbound activities: the envelope every activity we send shares.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// An activity as we send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// JSON-LD context.
    #[serde(rename = "@context")]
    pub context: Value,
    /// Our id for it.
    pub id: Url,
    /// `Follow`, `Accept`, `Reject`, `Undo`, `Create`…
    #[serde(rename = "type")]
    pub kind: String,
    /// The local actor sending it.
    pub actor: Url,
    /// What it acts on: an id or an embedded object.
    pub object: Value,
    /// Primary recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Url>,
    /// Secondary recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<Url>,
}
