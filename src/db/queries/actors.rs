//! Reading and writing actors and their keys.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::db::entities::{actor_keys, actors};

/// The stored `kind` of the instance actor.
pub const INSTANCE_KIND: &str = "instance";

/// A local actor by username (exact match; usernames are lower-case).
pub async fn find_local_by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<actors::Model>, DbErr> {
    actors::Entity::find()
        .filter(actors::Column::Local.eq(true))
        .filter(actors::Column::Username.eq(username))
        .one(db)
        .await
}

/// Any actor by its ActivityPub id.
pub async fn find_by_ap_id(db: &impl ConnectionTrait, ap_id: &str) -> Result<Option<actors::Model>, DbErr> {
    actors::Entity::find().filter(actors::Column::ApId.eq(ap_id)).one(db).await
}

/// The instance actor, once created.
pub async fn find_instance_actor(db: &impl ConnectionTrait) -> Result<Option<actors::Model>, DbErr> {
    actors::Entity::find()
        .filter(actors::Column::Local.eq(true))
        .filter(actors::Column::Kind.eq(INSTANCE_KIND))
        .one(db)
        .await
}

/// Local accounts people follow (brand, product, staff), brand first, then by name.
pub async fn list_local_accounts(db: &impl ConnectionTrait) -> Result<Vec<actors::Model>, DbErr> {
    actors::Entity::find()
        .filter(actors::Column::Local.eq(true))
        .filter(actors::Column::Kind.ne(INSTANCE_KIND))
        .order_by_asc(actors::Column::Kind)
        .order_by_asc(actors::Column::Username)
        .all(db)
        .await
}

/// How many local accounts exist (the instance actor is not an account).
pub async fn count_local_accounts(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    actors::Entity::find()
        .filter(actors::Column::Local.eq(true))
        .filter(actors::Column::Kind.ne(INSTANCE_KIND))
        .count(db)
        .await
}

/// Everything needed to insert a local actor.
pub struct NewLocalActor {
    pub ap_id: String,
    pub username: String,
    pub domain: String,
    pub kind: String,
    pub display_name: String,
    pub summary: String,
    pub profile_fields_json: String,
    pub inbox_url: String,
    pub shared_inbox_url: String,
    pub outbox_url: String,
    pub followers_url: String,
    pub profile_url: String,
    pub public_key_pem: String,
    pub public_key_id: String,
    pub private_key_pem: String,
    pub manually_approves_followers: bool,
    pub now: DateTime<Utc>,
}

/// Inserts a local actor and its private key. Call inside a transaction so both or neither
/// are stored.
pub async fn insert_local(db: &impl ConnectionTrait, new: NewLocalActor) -> Result<actors::Model, DbErr> {
    let actor = actors::ActiveModel {
        ap_id: Set(new.ap_id),
        username: Set(new.username),
        domain: Set(new.domain),
        local: Set(true),
        kind: Set(new.kind),
        display_name: Set(new.display_name),
        summary: Set(new.summary),
        profile_fields: Set(new.profile_fields_json),
        inbox_url: Set(Some(new.inbox_url)),
        shared_inbox_url: Set(Some(new.shared_inbox_url)),
        outbox_url: Set(Some(new.outbox_url)),
        followers_url: Set(Some(new.followers_url)),
        profile_url: Set(Some(new.profile_url)),
        icon_url: Set(None),
        image_url: Set(None),
        public_key_pem: Set(new.public_key_pem),
        public_key_id: Set(new.public_key_id),
        manually_approves_followers: Set(new.manually_approves_followers),
        discoverable: Set(true),
        published: Set(new.now),
        created_at: Set(new.now),
        updated_at: Set(new.now),
        last_fetched_at: Set(None),
        ..Default::default()
    };
    let actor = actors::Entity::insert(actor).exec_with_returning(db).await?;
    actor_keys::Entity::insert(actor_keys::ActiveModel {
        actor_id: Set(actor.id),
        private_key_pem: Set(new.private_key_pem),
        created_at: Set(new.now),
    })
    .exec(db)
    .await?;
    Ok(actor)
}
