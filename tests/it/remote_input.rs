//! What other servers send us about themselves, over HTTP to a real instance: an actor whose
//! `preferredUsername` could not be a handle is refused whole, and links in remote HTML are
//! stored absolute, on the sender's own origin.

use openhouse::{
    db::{entities::actors, queries},
    domain::ActorKind,
};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::support::{
    Options, TestApp,
    fake_remote::{Fake, FakeActor},
};

/// A (served at 127.0.0.2) with `acme`, and a fake server on 127.0.0.3 it may fetch from.
async fn instance_and_fake() -> (TestApp, Fake) {
    let fake = Fake::start("127.0.0.3").await;
    let a = TestApp::spawn_with(Options {
        ip: Some("127.0.0.2"),
        allow_private_fetch: Some(fake.base.trim_start_matches("http://").to_owned()),
        ..Default::default()
    })
    .await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    (a, fake)
}

/// POSTs a `Follow` of `acme` signed by `actor` to A's shared inbox; the status.
async fn follow(a: &TestApp, actor: &FakeActor) -> u16 {
    actor.send(a, &actor.activity("Follow", json!(a.actor_url("acme")))).await
}

async fn actor_rows(a: &TestApp) -> u64 {
    actors::Entity::find().count(&a.state.db).await.unwrap()
}

#[tokio::test]
async fn an_actor_whose_username_cannot_be_a_handle_is_refused_and_not_stored() {
    let (a, fake) = instance_and_fake().await;
    let before = actor_rows(&a).await;
    // 100 KB of username: cut to the cap it would be a shorter, different handle.
    let long = format!("ada{}", "a".repeat(100_000));
    let huge = fake.actor_with("huge", |doc| doc["preferredUsername"] = json!(long));
    assert_eq!(follow(&a, &huge).await, 401);
    // A username with an `@` in it names an account on another server.
    let at = fake.actor_with("at", |doc| doc["preferredUsername"] = json!("ada@mastodon.example"));
    assert_eq!(follow(&a, &at).await, 401);
    assert_eq!(actor_rows(&a).await, before, "no actor row stored");
    assert!(queries::actors::find_by_ap_id(&a.state.db, &huge.id).await.unwrap().is_none());

    // The same server's well-formed actor (non-Latin letters, a dot and a dash) is welcome.
    let ok = fake.actor_with("ok", |doc| doc["preferredUsername"] = json!("Łukasz.山田-2"));
    assert_eq!(follow(&a, &ok).await, 202);
    let stored = queries::actors::find_by_ap_id(&a.state.db, &ok.id).await.unwrap().unwrap();
    assert_eq!(stored.username, "Łukasz.山田-2");
}

#[tokio::test]
async fn relative_links_in_a_remote_profile_are_stored_on_the_senders_origin() {
    let (a, fake) = instance_and_fake().await;
    let summary = r#"<p>See <a href="/about">about</a>, <a href="../settings">settings</a>.</p>"#;
    let eve = fake.actor_with("eve", |doc| doc["summary"] = json!(summary));
    assert_eq!(follow(&a, &eve).await, 202);
    let stored = queries::actors::find_by_ap_id(&a.state.db, &eve.id).await.unwrap().unwrap();
    // Left relative, these would point at A's own /about and /settings on A's pages.
    assert!(stored.summary.contains(&format!(r#"href="{}/about""#, fake.base)), "{}", stored.summary);
    assert!(stored.summary.contains(&format!(r#"href="{}/settings""#, fake.base)), "{}", stored.summary);
    assert!(!stored.summary.contains(r#"href="/"#) && !stored.summary.contains(r#"href=".."#), "{}", stored.summary);
}
