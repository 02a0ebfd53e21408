//! `actors`: every account we know, local (ours) and remote (cached copies).

use sea_orm::entity::prelude::*;

/// One actor. Local actors' URLs are derived from the public URL; remote ones are stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "actors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The ActivityPub id (a URL), unique across the table.
    #[sea_orm(unique)]
    pub ap_id: String,
    pub username: String,
    /// Handle domain (`host[:port]`); for local actors, ours.
    pub domain: String,
    pub local: bool,
    /// Brand, product, staff or instance for local actors; remote otherwise.
    pub kind: crate::domain::ActorKind,
    pub display_name: String,
    /// Plain text for local actors, sanitized HTML for remote ones.
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    /// JSON array of `{name, value}`.
    #[sea_orm(column_type = "Text")]
    pub profile_fields: String,
    pub inbox_url: Option<String>,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub profile_url: Option<String>,
    pub icon_url: Option<String>,
    pub image_url: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub public_key_pem: String,
    pub public_key_id: String,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub published: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_fetched_at: Option<DateTimeUtc>,
    /// The ActivityStreams type of a remote actor (`Person`, `Service`, `Group`…).
    pub ap_type: Option<String>,
    pub following_url: Option<String>,
    /// When we last re-fetched this actor's key after a failed verification (FEDERATION.md I7).
    pub key_refetched_at: Option<DateTimeUtc>,
    /// A remote actor's `alsoKnownAs` as a JSON array of ids (capped), for `Move`.
    #[sea_orm(column_type = "Text", nullable)]
    pub also_known_as: Option<String>,
    /// Where a remote actor moved to (`movedTo`, or the target of a verified `Move`).
    pub moved_to_ap_id: Option<String>,
    /// When a remote actor was deleted (`Delete` of the actor): its content and relations
    /// are gone, the row stays as a tombstone so a replay cannot resurrect it.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::actor_keys::Entity")]
    ActorKeys,
}

impl Related<super::actor_keys::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ActorKeys.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
