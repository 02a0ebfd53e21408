//! NodeInfo 2.1 (<https://nodeinfo.diaspora.software/>).

use serde::{Deserialize, Serialize};

/// The schema this document follows.
pub const SCHEMA_2_1: &str = "http://nodeinfo.diaspora.software/ns/schema/2.1";
/// Its media type.
pub const CONTENT_TYPE_2_1: &str = "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"";

/// `/.well-known/nodeinfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfoLinks {
    /// Where each schema version is served.
    pub links: Vec<NodeInfoLink>,
}

/// One schema link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfoLink {
    /// The schema URL.
    pub rel: String,
    /// The document URL.
    pub href: String,
}

/// The NodeInfo 2.1 document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// `2.1`.
    pub version: String,
    /// What runs here.
    pub software: Software,
    /// `["activitypub"]`.
    pub protocols: Vec<String>,
    /// Third-party services (none).
    pub services: Services,
    /// Whether anyone may sign up (no: staff are invited).
    pub open_registrations: bool,
    /// Counts.
    pub usage: Usage,
    /// Free-form extras: the instance name.
    pub metadata: serde_json::Value,
}

/// `software`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    /// `openhouse`.
    pub name: String,
    /// Our version.
    pub version: String,
    /// Source code, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Project home, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
}

/// `services`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Services {
    /// Inbound.
    pub inbound: Vec<String>,
    /// Outbound.
    pub outbound: Vec<String>,
}

/// `usage`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Accounts.
    pub users: UsageUsers,
    /// Posts by local accounts.
    pub local_posts: u64,
}

/// `usage.users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageUsers {
    /// All local accounts.
    pub total: u64,
    /// Active in the last 30 days.
    pub active_month: u64,
    /// Active in the last 180 days.
    pub active_halfyear: u64,
}
