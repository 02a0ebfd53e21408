//! Real peers' JSON (fixtures in `support/fixtures/`): each actor, note and activity is read
//! through the code paths the inbox uses (`inbox::envelope`, `parse_actor`, `parse_note`)
//! and keeps every field we use; and each reply, delivered signed over HTTP to a real
//! instance, is stored as the fixture says (author, thread, text, staff inbox).

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{
    db::{entities::conversations, queries},
    domain::ActorKind,
    federation::{
        inbox::envelope,
        objects::{remote_actor::parse_actor, remote_note::parse_note},
    },
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use url::Url;

use crate::support::{
    Options,
    fake_remote::{Doc, Fake, instance_with_fakes},
    fixtures::{Fill, load},
    signing,
    wait::inbox_done,
};

/// One peer's actor and one activity it sends, and a phrase of the activity's text.
struct Peer {
    actor: &'static str,
    activity: &'static str,
    says: &'static str,
    /// Whether the activity is a reply to our post that the instance keeps.
    kept: bool,
}

const PEERS: &[Peer] = &[
    Peer {
        actor: "mastodon_actor",
        activity: "mastodon_create_note",
        says: "The beta fixed my sync bug from Mastodon.",
        kept: true,
    },
    Peer {
        actor: "gotosocial_actor",
        activity: "gotosocial_create_note",
        says: "Works on GoToSocial too, thanks!",
        kept: true,
    },
    Peer { actor: "misskey_actor", activity: "misskey_create_note", says: "Misskey says:", kept: true },
    Peer { actor: "lemmy_person", activity: "lemmy_create_comment", says: "the export button moved", kept: true },
    Peer { actor: "lemmy_person", activity: "lemmy_create_page", says: "Sync is much faster", kept: false },
    Peer { actor: "pleroma_actor", activity: "pleroma_create_note", says: "the beta installs cleanly.", kept: true },
    Peer { actor: "fedify_actor", activity: "fedify_create_note", says: "A Fedify app read your update.", kept: true },
];

/// Actors that send nothing in these tests, read on their own.
const OTHER_ACTORS: &[&str] = &["lemmy_group"];

const PEM: &str =
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n";

fn offline_fill() -> Fill<'static> {
    Fill {
        peer: "https://peer.example",
        ours: "https://ours.example",
        our_post: "https://ours.example/users/acme/posts/1",
        public_key_pem: PEM,
    }
}

fn str_at<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(doc, |v, key| v.get(*key)).and_then(Value::as_str)
}

/// The actor fields we use, as the fixture has them and as `parse_actor` read them.
fn check_actor(name: &str, doc: &Value) {
    let id = Url::parse(doc["id"].as_str().unwrap()).unwrap();
    let actor = parse_actor(doc, &id).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(actor.ap_id, id, "{name}: id");
    assert_eq!(Some(actor.ap_type.as_str()), str_at(doc, &["type"]), "{name}: type");
    assert_eq!(Some(actor.username.as_str()), str_at(doc, &["preferredUsername"]), "{name}: preferredUsername");
    assert_eq!(actor.display_name, str_at(doc, &["name"]).unwrap_or_default(), "{name}: name");
    assert_eq!(Some(actor.inbox.as_str()), str_at(doc, &["inbox"]), "{name}: inbox");
    assert_eq!(actor.outbox.as_ref().map(Url::as_str), str_at(doc, &["outbox"]), "{name}: outbox");
    assert_eq!(actor.followers.as_ref().map(Url::as_str), str_at(doc, &["followers"]), "{name}: followers");
    assert_eq!(
        actor.shared_inbox.as_ref().map(Url::as_str),
        str_at(doc, &["endpoints", "sharedInbox"]),
        "{name}: endpoints.sharedInbox"
    );
    assert_eq!(Some(actor.public_key_id.as_str()), str_at(doc, &["publicKey", "id"]), "{name}: publicKey.id");
    assert_eq!(
        Some(actor.public_key_pem.as_str()),
        str_at(doc, &["publicKey", "publicKeyPem"]),
        "{name}: publicKey.publicKeyPem"
    );
    let flag = |key: &str| doc.get(key).and_then(Value::as_bool).unwrap_or(false);
    assert_eq!(actor.manually_approves_followers, flag("manuallyApprovesFollowers"), "{name}");
    assert_eq!(actor.discoverable, flag("discoverable"), "{name}: discoverable");
}

#[test]
fn every_peer_actor_is_read_with_the_fields_we_use() {
    let fill = offline_fill();
    let names = PEERS.iter().map(|p| p.actor).chain(OTHER_ACTORS.iter().copied());
    for name in names {
        check_actor(name, &load(name, &fill));
    }
}

#[test]
fn every_peer_activity_is_read_with_the_fields_we_use() {
    let fill = offline_fill();
    for peer in PEERS {
        let name = peer.activity;
        let doc = load(name, &fill);
        let envelope = envelope(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Some(envelope.id.as_str()), str_at(&doc, &["id"]), "{name}: id");
        assert_eq!(Some(envelope.kind.as_str()), str_at(&doc, &["type"]), "{name}: type");
        assert_eq!(Some(envelope.actor.as_str()), str_at(&doc, &["actor"]), "{name}: actor");
        assert_eq!(envelope.object.as_ref().map(Url::as_str), str_at(&doc, &["object", "id"]), "{name}: object");

        let object = &doc["object"];
        let note = parse_note(object).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Some(note.ap_id.as_str()), str_at(object, &["id"]), "{name}: object.id");
        assert_eq!(Some(note.attributed_to.as_str()), str_at(object, &["attributedTo"]), "{name}: attributedTo");
        assert_eq!(note.in_reply_to.as_ref().map(Url::as_str), str_at(object, &["inReplyTo"]), "{name}: inReplyTo");
        assert_eq!(note.url.as_ref().map(Url::as_str), str_at(object, &["url"]), "{name}: url");
        assert!(note.content_html.contains(peer.says), "{name}: content {:?}", note.content_html);
        // Every fixture is addressed to the public collection (in `to`, in any of its forms).
        assert_eq!(note.visibility, openhouse::domain::Visibility::Public, "{name}: to/cc");
        let published = str_at(object, &["published"]).unwrap();
        assert_eq!(note.published, chrono::DateTime::parse_from_rfc3339(published).unwrap(), "{name}: published");
        // A mention of our brand that is also addressed is one it hears of.
        let brand = format!("{}/users/acme", fill.ours);
        let mentions_brand = note.addressed_mentions.iter().any(|(href, _)| href.as_str() == brand);
        assert_eq!(mentions_brand, peer.kept, "{name}: tag mentions {:?}", note.addressed_mentions);
        let attachments: Vec<Value> =
            note.attachments_json.as_deref().map(|j| serde_json::from_str(j).unwrap()).unwrap_or_default();
        let expected: Vec<&str> = object["attachment"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("url").or_else(|| a.get("href")).and_then(Value::as_str))
            .collect();
        let got: Vec<&str> = attachments.iter().filter_map(|a| a["url"].as_str()).collect();
        assert_eq!(got, expected, "{name}: attachment");
    }
}

#[tokio::test]
async fn every_peer_reply_delivered_over_http_is_stored_as_it_says() {
    let (a, _fake1, _fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "Acme 3.0 beta is out").await;
    for peer in PEERS {
        let name = peer.activity;
        // Each peer on a server of its own, so that their paths do not collide.
        let fake = Fake::start("127.0.0.4").await;
        // The key is named as the peer names it; the fixture gets the public half.
        let offline = load(peer.actor, &offline_fill());
        let key_id = str_at(&offline, &["publicKey", "id"]).unwrap().replace("https://peer.example", &fake.base);
        let (key, public_pem) = signing::key_named(&key_id);
        let fill = Fill { peer: &fake.base, ours: &a.base, our_post: &update.ap_id, public_key_pem: &public_pem };
        let actor = load(peer.actor, &fill);
        let actor_id = actor["id"].as_str().unwrap().to_owned();
        fake.put(&actor_id, Doc::Json(actor.clone()));
        let activity = load(name, &fill);
        let response = signing::post_signed(
            &a.client,
            &key,
            &a.shared_inbox(),
            activity.to_string().as_bytes(),
            std::time::SystemTime::now(),
            |_, _| {},
        )
        .await;
        assert_eq!(response.status().as_u16(), 202, "{name}");
        let state = inbox_done(&a, activity["id"].as_str().unwrap()).await;

        // The author, stored as its document says.
        let author = queries::actors::find_by_ap_id(&a.state.db, &actor_id).await.unwrap().expect("author stored");
        assert_eq!(Some(author.public_key_id.as_str()), str_at(&actor, &["publicKey", "id"]), "{name}");
        assert_eq!(author.shared_inbox_url.as_deref(), str_at(&actor, &["endpoints", "sharedInbox"]), "{name}");
        assert_eq!(Some(author.username.as_str()), str_at(&actor, &["preferredUsername"]), "{name}");

        let object_id = activity["object"]["id"].as_str().unwrap();
        let stored = a.post(object_id).await;
        if !peer.kept {
            assert_eq!(state, InboxState::Ignored, "{name}: not a reply to us, not kept");
            assert!(stored.is_none(), "{name}");
            continue;
        }
        assert_eq!(state, InboxState::Done, "{name}");
        let post = stored.unwrap_or_else(|| panic!("{name}: the reply is stored"));
        assert_eq!(post.actor_id, author.id, "{name}: attributedTo");
        assert_eq!((post.in_reply_to_post_id, post.thread_root_id, post.depth), (Some(update.id), Some(update.id), 1));
        assert!(post.content_html.contains(peer.says), "{name}: {}", post.content_html);
        assert!(!post.local && post.deleted_at.is_none(), "{name}");
        let in_staff_inbox = conversations::Entity::find()
            .filter(conversations::Column::PostId.eq(post.id))
            .filter(conversations::Column::ActorId.eq(brand.id))
            .one(&a.state.db)
            .await
            .unwrap();
        assert!(in_staff_inbox.is_some(), "{name}: the brand's staff inbox has it");
    }
}
