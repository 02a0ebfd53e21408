//! What other servers send us about themselves, over HTTP to a real instance: an actor whose
//! `preferredUsername` could not be a handle is refused whole, and links in remote HTML are
//! stored absolute, on the sender's own origin.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::SystemTime,
};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use openhouse::{
    crypto::generate_rsa_keys,
    db::{entities::actors, queries},
    domain::ActorKind,
    federation::signatures::{SigningKey, sign_request},
};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

use crate::helpers::{Options, TestApp};

/// A remote server on a loopback address, serving the JSON documents put into it.
#[derive(Clone)]
struct Fake {
    base: String,
    docs: Arc<Mutex<HashMap<String, Value>>>,
}

async fn serve(State(fake): State<Fake>, uri: Uri) -> Response {
    match fake.docs.lock().unwrap().get(uri.path()).cloned() {
        Some(doc) => ([(header::CONTENT_TYPE, "application/activity+json")], doc.to_string()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Fake {
    async fn start(ip: &str) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let fake = Fake { base: format!("http://{}", listener.local_addr().unwrap()), docs: Arc::default() };
        let app = Router::new().fallback(serve).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    /// A remote actor with a fresh key; `edit` changes its document before it is served.
    fn actor(&self, name: &str, edit: impl FnOnce(&mut Value)) -> (String, SigningKey) {
        let id = format!("{}/users/{name}", self.base);
        let keys = generate_rsa_keys().unwrap();
        let key =
            SigningKey::from_pkcs8_pem(Url::parse(&format!("{id}#main-key")).unwrap(), &keys.private_pem).unwrap();
        let mut doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": format!("{id}/inbox"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": keys.public_pem},
        });
        edit(&mut doc);
        let path = Url::parse(&id).unwrap().path().to_owned();
        self.docs.lock().unwrap().insert(path, doc);
        (id, key)
    }
}

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

/// POSTs a `Follow` of `acme` signed by `key` for `actor` to A's shared inbox; the status.
async fn follow(a: &TestApp, actor: &str, key: &SigningKey) -> u16 {
    let body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/1"),
        "type": "Follow",
        "actor": actor,
        "object": a.actor_url("acme"),
    })
    .to_string()
    .into_bytes();
    let inbox = Url::parse(&format!("{}/inbox", a.base)).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
    sign_request(key, &reqwest::Method::POST, &inbox, &mut headers, Some(&body), SystemTime::now()).unwrap();
    headers.remove(reqwest::header::HOST);
    a.client.post(inbox).headers(headers).body(body).send().await.unwrap().status().as_u16()
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
    let (huge, huge_key) = fake.actor("huge", |doc| doc["preferredUsername"] = json!(long));
    assert_eq!(follow(&a, &huge, &huge_key).await, 401);
    // A username with an `@` in it names an account on another server.
    let (at, at_key) = fake.actor("at", |doc| doc["preferredUsername"] = json!("ada@mastodon.example"));
    assert_eq!(follow(&a, &at, &at_key).await, 401);
    assert_eq!(actor_rows(&a).await, before, "no actor row stored");
    assert!(queries::actors::find_by_ap_id(&a.state.db, &huge).await.unwrap().is_none());

    // The same server's well-formed actor (non-Latin letters, a dot and a dash) is welcome.
    let (ok, ok_key) = fake.actor("ok", |doc| doc["preferredUsername"] = json!("Łukasz.山田-2"));
    assert_eq!(follow(&a, &ok, &ok_key).await, 202);
    let stored = queries::actors::find_by_ap_id(&a.state.db, &ok).await.unwrap().unwrap();
    assert_eq!(stored.username, "Łukasz.山田-2");
}

#[tokio::test]
async fn relative_links_in_a_remote_profile_are_stored_on_the_senders_origin() {
    let (a, fake) = instance_and_fake().await;
    let summary = r#"<p>See <a href="/about">about</a>, <a href="../settings">settings</a>.</p>"#;
    let (eve, key) = fake.actor("eve", |doc| doc["summary"] = json!(summary));
    assert_eq!(follow(&a, &eve, &key).await, 202);
    let stored = queries::actors::find_by_ap_id(&a.state.db, &eve).await.unwrap().unwrap();
    // Left relative, these would point at A's own /about and /settings on A's pages.
    assert!(stored.summary.contains(&format!(r#"href="{}/about""#, fake.base)), "{}", stored.summary);
    assert!(stored.summary.contains(&format!(r#"href="{}/settings""#, fake.base)), "{}", stored.summary);
    assert!(!stored.summary.contains(r#"href="/"#) && !stored.summary.contains(r#"href=".."#), "{}", stored.summary);
}
