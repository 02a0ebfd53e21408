//! Reading and writing actors and their keys.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use crate::{
    db::entities::{actor_keys, actors},
    domain::ActorKind,
};

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
        .filter(actors::Column::Kind.eq(ActorKind::Instance))
        .one(db)
        .await
}

/// Local accounts people follow (brand, product, staff), brand first, then by name.
pub async fn list_local_accounts(db: &impl ConnectionTrait) -> Result<Vec<actors::Model>, DbErr> {
    actors::Entity::find()
        .filter(actors::Column::Local.eq(true))
        .filter(actors::Column::Kind.ne(ActorKind::Instance))
        .order_by_asc(actors::Column::Kind)
        .order_by_asc(actors::Column::Username)
        .all(db)
        .await
}

/// How many local accounts exist (the instance actor is not an account).
pub async fn count_local_accounts(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    actors::Entity::find()
        .filter(actors::Column::Local.eq(true))
        .filter(actors::Column::Kind.ne(ActorKind::Instance))
        .count(db)
        .await
}

/// Everything needed to insert a local actor.
pub struct NewLocalActor {
    pub ap_id: String,
    pub username: String,
    pub domain: String,
    pub kind: ActorKind,
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
        ap_type: Set(None),
        following_url: Set(None),
        key_refetched_at: Set(None),
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

/// What we store of a remote actor.
#[derive(Clone, Debug)]
pub struct RemoteActorRow {
    pub ap_id: String,
    pub ap_type: String,
    pub username: String,
    pub domain: String,
    pub display_name: String,
    pub summary_html: String,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub profile_url: Option<String>,
    pub icon_url: Option<String>,
    pub image_url: Option<String>,
    pub public_key_pem: String,
    pub public_key_id: String,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    /// `alsoKnownAs`, as a JSON array of ids (`None`: none given).
    pub also_known_as_json: Option<String>,
    /// `movedTo`.
    pub moved_to: Option<String>,
    pub now: DateTime<Utc>,
}

impl RemoteActorRow {
    /// The least a remote `Person` needs: its id, name and server, its inbox at
    /// `{ap_id}/inbox` and its key id `{ap_id}#main-key` with an empty PEM, discoverable,
    /// nothing else. Fixtures and benchmarks fill in the rest with struct update syntax;
    /// `resolve` builds its rows field by field from the fetched document.
    pub fn person(ap_id: &str, username: &str, domain: &str) -> Self {
        Self {
            ap_id: ap_id.to_owned(),
            ap_type: "Person".into(),
            username: username.to_owned(),
            domain: domain.to_owned(),
            display_name: String::new(),
            summary_html: String::new(),
            inbox_url: format!("{ap_id}/inbox"),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            profile_url: None,
            icon_url: None,
            image_url: None,
            public_key_pem: String::new(),
            public_key_id: format!("{ap_id}#main-key"),
            manually_approves_followers: false,
            discoverable: true,
            also_known_as_json: None,
            moved_to: None,
            now: Utc::now(),
        }
    }
}

/// Inserts or refreshes a remote actor by `ap_id`, in one statement
/// (`INSERT … ON CONFLICT (ap_id) DO UPDATE … WHERE NOT local RETURNING *`): a first contact
/// holds SQLite's write lock for one round trip. Never touches a local actor: a remote
/// document claiming one of our ids is refused before it gets here, and the `local = false`
/// condition on the update makes sure (the statement then returns nothing: an error). Two
/// first activities of one actor may race here: the second refreshes the first's row.
pub async fn upsert_remote(db: &impl ConnectionTrait, row: RemoteActorRow) -> Result<actors::Model, DbErr> {
    use actors::Column as C;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let ap_id = row.ap_id.clone();
    let actor = actors::ActiveModel {
        ap_id: Set(row.ap_id),
        username: Set(row.username),
        domain: Set(row.domain),
        local: Set(false),
        kind: Set(ActorKind::Remote),
        display_name: Set(row.display_name),
        summary: Set(row.summary_html),
        profile_fields: Set("[]".to_owned()),
        inbox_url: Set(Some(row.inbox_url)),
        shared_inbox_url: Set(row.shared_inbox_url),
        outbox_url: Set(row.outbox_url),
        followers_url: Set(row.followers_url),
        profile_url: Set(row.profile_url),
        icon_url: Set(row.icon_url),
        image_url: Set(row.image_url),
        public_key_pem: Set(row.public_key_pem),
        public_key_id: Set(row.public_key_id),
        manually_approves_followers: Set(row.manually_approves_followers),
        discoverable: Set(row.discoverable),
        published: Set(row.now),
        created_at: Set(row.now),
        updated_at: Set(row.now),
        last_fetched_at: Set(Some(row.now)),
        ap_type: Set(Some(row.ap_type)),
        following_url: Set(None),
        key_refetched_at: Set(None),
        also_known_as: Set(row.also_known_as_json),
        moved_to_ap_id: Set(row.moved_to),
        ..Default::default()
    };
    let refresh = OnConflict::column(C::ApId)
        .update_columns([
            C::ApType,
            C::Username,
            C::DisplayName,
            C::Summary,
            C::InboxUrl,
            C::SharedInboxUrl,
            C::OutboxUrl,
            C::FollowersUrl,
            C::ProfileUrl,
            C::IconUrl,
            C::ImageUrl,
            C::PublicKeyPem,
            C::PublicKeyId,
            C::ManuallyApprovesFollowers,
            C::Discoverable,
            C::UpdatedAt,
            C::LastFetchedAt,
            C::AlsoKnownAs,
            C::MovedToApId,
        ])
        .action_and_where(Expr::col((actors::Entity, C::Local)).eq(false))
        .to_owned();
    match actors::Entity::insert(actor).on_conflict(refresh).exec_with_returning(db).await {
        Err(DbErr::RecordNotFound(_) | DbErr::RecordNotInserted) => {
            Err(DbErr::Custom(format!("{ap_id} is a local actor")))
        }
        stored => stored,
    }
}

/// A remote actor by the id of one of its keys (`…#main-key`).
pub async fn find_by_key_id(db: &impl ConnectionTrait, key_id: &str) -> Result<Option<actors::Model>, DbErr> {
    actors::Entity::find().filter(actors::Column::PublicKeyId.eq(key_id)).one(db).await
}

/// A local actor's private key PEM. Only signing code calls this.
pub async fn private_key(db: &impl ConnectionTrait, actor_id: i64) -> Result<Option<String>, DbErr> {
    Ok(actor_keys::Entity::find_by_id(actor_id).one(db).await?.map(|k| k.private_key_pem))
}

/// An actor by row id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<actors::Model>, DbErr> {
    actors::Entity::find_by_id(id).one(db).await
}

/// Marks a remote actor deleted at `now`: its profile text goes, the row stays.
pub async fn mark_deleted(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    actors::Entity::update_many()
        .col_expr(actors::Column::DeletedAt, sea_orm::sea_query::Expr::value(now))
        .col_expr(actors::Column::Summary, sea_orm::sea_query::Expr::value(""))
        .col_expr(actors::Column::DisplayName, sea_orm::sea_query::Expr::value(""))
        .filter(actors::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records that actor `id` moved to `target_ap_id`; `false` when that was recorded already.
pub async fn set_moved_to(db: &impl ConnectionTrait, id: i64, target_ap_id: &str) -> Result<bool, DbErr> {
    let done = actors::Entity::update_many()
        .col_expr(actors::Column::MovedToApId, sea_orm::sea_query::Expr::value(target_ap_id))
        .filter(actors::Column::Id.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(actors::Column::MovedToApId.is_null())
                .add(actors::Column::MovedToApId.ne(target_ap_id)),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}
