//! Actor documents, complete for Mastodon (FEDERATION.md §1).

use activitypub_federation::kinds::object::ImageType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// The actor types Openhouse publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorType {
    /// Brand and product accounts (Mastodon shows `Service`/`Application` as bots).
    Organization,
    /// Staff members.
    Person,
    /// The instance actor.
    Application,
}

/// `endpoints`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// Where servers deliver once for all our followers on their side.
    pub shared_inbox: Url,
}

/// `publicKey`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    /// `<actor>#main-key`.
    pub id: String,
    /// The actor.
    pub owner: Url,
    /// SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
}

/// `icon` and `image`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// `Image`.
    #[serde(rename = "type")]
    pub kind: ImageType,
    /// The media type.
    pub media_type: String,
    /// Where the file is.
    pub url: Url,
}

/// A profile field (`attachment` of type `PropertyValue`); `value` is HTML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyValue {
    /// Always `PropertyValue`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The label (plain text).
    pub name: String,
    /// The value (HTML).
    pub value: String,
}

/// An actor document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// JSON-LD context.
    #[serde(rename = "@context")]
    pub context: Value,
    /// The actor's URL; equals the URL it is served from.
    pub id: Url,
    /// `Organization`, `Person` or `Application`.
    #[serde(rename = "type")]
    pub kind: ActorType,
    /// The `acme` of `@acme@host`.
    pub preferred_username: String,
    /// Display name.
    pub name: String,
    /// Bio, HTML.
    pub summary: String,
    /// The profile page for people.
    pub url: Url,
    /// Personal inbox.
    pub inbox: Url,
    /// Outbox collection.
    pub outbox: Url,
    /// Followers collection.
    pub followers: Url,
    /// Following collection.
    pub following: Url,
    /// Pinned posts.
    pub featured: Url,
    /// Shared inbox.
    pub endpoints: Endpoints,
    /// The key that signs our requests.
    pub public_key: PublicKey,
    /// Avatar.
    pub icon: Image,
    /// Header image.
    pub image: Image,
    /// Profile fields.
    pub attachment: Vec<PropertyValue>,
    /// Follow requests wait for approval.
    pub manually_approves_followers: bool,
    /// Listed in directories (Mastodon reads a missing value as false).
    pub discoverable: bool,
    /// Posts may be indexed for search (Mastodon reads a missing value as false).
    pub indexable: bool,
    /// When the account was created.
    pub published: DateTime<Utc>,
}
