//! Conversations on the staff side, over HTTP on two instances: B's staff member replies to
//! A's update (`in_reply_to`), A answers as the brand, B receives a reply that mentions and
//! addresses Ada; the conversation goes from unanswered to answered in
//! `GET /api/v1/conversations` with its time to first response; the update's page shows the
//! thread nested with its counts, escapes what remote servers send and pages long threads.
//!
//! - `staff_replies`, `staff_inbox`, `reactions`: the staff side over the API.
//! - `pages`: the thread page.
//! - `storage`: the queries and writes behind threads and actors.

mod pages;
mod reactions;
mod staff_inbox;
mod staff_replies;
mod storage;

use chrono::Utc;
use openhouse::db::{
    entities::{actors, conversations, posts},
    queries,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::support::{TestApp, eventually};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A remote actor stored as if fetched (for threads whose authors need no network).
pub async fn remote_actor(db: &impl ConnectionTrait, host: &str, name: &str, display_name: &str) -> actors::Model {
    let ap_id = format!("https://{host}/users/{name}");
    queries::actors::upsert_remote(
        db,
        queries::actors::RemoteActorRow {
            display_name: display_name.into(),
            shared_inbox_url: Some(format!("https://{host}/inbox")),
            profile_url: Some(format!("https://{host}/@{name}")),
            ..queries::actors::RemoteActorRow::person(&ap_id, name, host)
        },
    )
    .await
    .unwrap()
}

/// A remote reply stored under `parent` as the inbound side stores one (ADR 0008), with a
/// conversation row for `to` when given.
pub async fn remote_reply(
    db: &impl ConnectionTrait,
    author: &actors::Model,
    parent: &posts::Model,
    html: &str,
    to: Option<&actors::Model>,
) -> posts::Model {
    let now = Utc::now();
    let ap_id = format!("{}/statuses/{}", author.ap_id, uuid::Uuid::new_v4());
    let post = posts::Entity::insert(posts::ActiveModel {
        ap_id: Set(ap_id.clone()),
        actor_id: Set(author.id),
        local: Set(false),
        content_source: Set(String::new()),
        content_html: Set(html.into()),
        summary: Set(None),
        sensitive: Set(false),
        visibility: Set(openhouse::domain::Visibility::Public),
        in_reply_to_ap_id: Set(Some(parent.ap_id.clone())),
        in_reply_to_post_id: Set(Some(parent.id)),
        thread_root_id: Set(Some(parent.thread_root_id.unwrap_or(parent.id))),
        depth: Set(parent.depth + 1),
        url: Set(Some(ap_id)),
        published_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .unwrap();
    if let Some(local) = to {
        conversations::Entity::insert(conversations::ActiveModel {
            actor_id: Set(local.id),
            post_id: Set(post.id),
            kind: Set(conversations::ConversationKind::Reply),
            thread_root_id: Set(post.thread_root_id.unwrap_or(post.id)),
            received_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .unwrap();
    }
    post
}

/// The stored copy of a post on `app`, waiting for the inbound side to store it.
async fn stored_post(app: &TestApp, ap_id: &str) -> posts::Model {
    let ap_id = ap_id.to_owned();
    eventually(20, "the post is stored", || {
        let ap_id = ap_id.clone();
        async move { queries::posts::find_by_ap_id(&app.state.db, &ap_id).await.unwrap() }
    })
    .await
}

/// (likes, boosts) of the post `url` as `app` counts them.
async fn counts(app: &TestApp, url: &str) -> (i32, i32) {
    let post = queries::posts::find_by_ap_id(&app.state.db, url).await.unwrap().unwrap();
    (post.likes_count, post.announces_count)
}
