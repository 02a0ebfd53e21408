//! Publishing between two Openhouse instances over real HTTP: A's brand publishes, B (whose
//! staff member follows the brand) receives `Create{Note}`, then `Update`, then `Delete`;
//! the Note and its page on A; scheduled posts; the JSON API with its tokens.
//!
//! - `delivery`: what followers on another instance receive, and when.
//! - `rendering`: the Note, its page and the outbox.
//! - `api`: the posts API and its tokens.

mod api;
mod delivery;
mod rendering;

use openhouse::{
    db::{entities::actors, queries},
    domain::ActorKind,
    federation::{mentions::resolve_mentions, resolve},
    services::{
        follows,
        posts::{self, Draft},
    },
};

use crate::support::{TestApp, eventually, two_instances};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const PNG: &[u8] = include_bytes!("../../../frontend/static/avatar.png");

/// A and B, with B's staff member Ada following A's brand (accepted).
async fn followed_brand() -> (TestApp, TestApp, actors::Model) {
    let (a, b) = two_instances().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let ada = b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let remote_brand = resolve::by_handle_or_url(&b.state.federation, &format!("acme@{}", a.addr)).await.unwrap();
    follows::follow_remote(&b.state.db, &b.state.urls, &ada, &remote_brand).await.unwrap();
    eventually(20, "A accepted B's follower", || async {
        (queries::follows::count_followers(&a.state.db, brand.id).await.unwrap() == 1).then_some(())
    })
    .await;
    (a, b, brand)
}

fn draft(text: &str) -> Draft {
    Draft::public(text)
}

async fn publish(app: &TestApp, author: &actors::Model, draft: Draft) -> openhouse::db::entities::posts::Model {
    let mentions = resolve_mentions(&app.state.federation, &draft.text).await.unwrap();
    let media_dir = app.state.config.data_dir.join("media");
    let draft = Draft { mentioned: mentions, ..draft };
    posts::publish(&app.state.db, &app.state.urls, &media_dir, author, draft).await.unwrap()
}
