//! The JSON we send, byte for byte: peers (and the Fedify interop run) read exactly these
//! documents, so a change here is a change of the protocol, never a refactoring detail.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeZone, Utc};
use url::Url;

use crate::{
    db::entities::actors,
    federation::{
        activities::{accept, announce, create, delete, follow, like, undo, update},
        objects::note::{LdContext, tombstone},
        protocol::{activity::Activity, context::PUBLIC, note::Note},
    },
};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

fn actor(name: &str, host: &str) -> actors::Model {
    actors::Model {
        id: 1,
        ap_id: format!("https://{host}/users/{name}"),
        username: name.into(),
        domain: host.into(),
        local: true,
        kind: crate::domain::ActorKind::Brand,
        display_name: name.into(),
        summary: String::new(),
        profile_fields: "[]".into(),
        inbox_url: Some(format!("https://{host}/users/{name}/inbox")),
        shared_inbox_url: None,
        outbox_url: None,
        followers_url: Some(format!("https://{host}/users/{name}/followers")),
        profile_url: None,
        icon_url: None,
        image_url: None,
        public_key_pem: String::new(),
        public_key_id: String::new(),
        manually_approves_followers: false,
        discoverable: true,
        published: at(),
        created_at: at(),
        updated_at: at(),
        last_fetched_at: None,
        ap_type: None,
        following_url: None,
        key_refetched_at: None,
        also_known_as: None,
        moved_to_ap_id: None,
        deleted_at: None,
    }
}

fn id() -> Url {
    Url::parse("https://ours.example/activities/7").unwrap()
}

fn json(activity: Option<Activity>) -> String {
    serde_json::to_string(&activity.unwrap()).unwrap()
}

fn note() -> Note {
    let post = Url::parse("https://ours.example/users/acme/posts/3").unwrap();
    Note {
        context: None,
        id: post.clone(),
        kind: "Note".into(),
        attributed_to: Url::parse("https://ours.example/users/acme").unwrap(),
        url: post,
        published: "2026-01-02T03:04:05Z".into(),
        updated: None,
        content: "<p>hi</p>".into(),
        summary: None,
        sensitive: false,
        to: vec![Url::parse(PUBLIC).unwrap()],
        cc: vec![Url::parse("https://ours.example/users/acme/followers").unwrap()],
        tag: Vec::new(),
        attachment: Vec::new(),
        in_reply_to: None,
        replies: Url::parse("https://ours.example/users/acme/posts/3/replies").unwrap(),
    }
}

#[test]
fn follows_answers_and_withdrawals() {
    let (ours, theirs) = (actor("acme", "ours.example"), actor("bob", "theirs.example"));
    let theirs_follow = "https://theirs.example/follows/1";
    assert_eq!(
        json(accept::answer(id(), "Accept", &ours, &theirs, theirs_follow)),
        r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"https://ours.example/activities/7","type":"Accept","actor":"https://ours.example/users/acme","object":{"id":"https://theirs.example/follows/1","type":"Follow","actor":"https://theirs.example/users/bob","object":"https://ours.example/users/acme"},"to":["https://theirs.example/users/bob"]}"#
    );
    assert_eq!(
        json(accept::answer(id(), "Reject", &ours, &theirs, theirs_follow)),
        r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"https://ours.example/activities/7","type":"Reject","actor":"https://ours.example/users/acme","object":{"id":"https://theirs.example/follows/1","type":"Follow","actor":"https://theirs.example/users/bob","object":"https://ours.example/users/acme"},"to":["https://theirs.example/users/bob"]}"#
    );
    let our_follow = "https://ours.example/follows/2";
    assert_eq!(
        json(follow::activity(our_follow, &ours, &theirs)),
        r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"https://ours.example/follows/2","type":"Follow","actor":"https://ours.example/users/acme","object":"https://theirs.example/users/bob","to":["https://theirs.example/users/bob"]}"#
    );
    assert_eq!(
        json(undo::undo_follow(id(), our_follow, &ours, &theirs)),
        r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"https://ours.example/activities/7","type":"Undo","actor":"https://ours.example/users/acme","object":{"id":"https://ours.example/follows/2","type":"Follow","actor":"https://ours.example/users/acme","object":"https://theirs.example/users/bob"},"to":["https://theirs.example/users/bob"]}"#
    );
}

#[test]
fn posts_created_updated_and_deleted() {
    let ours = actor("acme", "ours.example");
    let note = note();
    assert_eq!(
        json(create::activity(id(), &note)),
        r#"{"@context":["https://www.w3.org/ns/activitystreams",{"sensitive":"as:sensitive","Hashtag":"as:Hashtag","toot":"http://joinmastodon.org/ns#"}],"id":"https://ours.example/activities/7","type":"Create","actor":"https://ours.example/users/acme","object":{"id":"https://ours.example/users/acme/posts/3","type":"Note","attributedTo":"https://ours.example/users/acme","url":"https://ours.example/users/acme/posts/3","published":"2026-01-02T03:04:05Z","content":"<p>hi</p>","sensitive":false,"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://ours.example/users/acme/followers"],"tag":[],"attachment":[],"replies":"https://ours.example/users/acme/posts/3/replies"},"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://ours.example/users/acme/followers"]}"#
    );
    assert_eq!(
        json(update::activity(id(), &note)),
        r#"{"@context":["https://www.w3.org/ns/activitystreams",{"sensitive":"as:sensitive","Hashtag":"as:Hashtag","toot":"http://joinmastodon.org/ns#"}],"id":"https://ours.example/activities/7","type":"Update","actor":"https://ours.example/users/acme","object":{"id":"https://ours.example/users/acme/posts/3","type":"Note","attributedTo":"https://ours.example/users/acme","url":"https://ours.example/users/acme/posts/3","published":"2026-01-02T03:04:05Z","content":"<p>hi</p>","sensitive":false,"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://ours.example/users/acme/followers"],"tag":[],"attachment":[],"replies":"https://ours.example/users/acme/posts/3/replies"},"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://ours.example/users/acme/followers"]}"#
    );
    let gone = tombstone(note.id.as_str(), at(), LdContext::Omitted).unwrap();
    assert_eq!(
        json(delete::activity(id(), &ours, &gone, note.to.clone(), note.cc.clone())),
        r#"{"@context":["https://www.w3.org/ns/activitystreams",{"sensitive":"as:sensitive","Hashtag":"as:Hashtag","toot":"http://joinmastodon.org/ns#"}],"id":"https://ours.example/activities/7","type":"Delete","actor":"https://ours.example/users/acme","object":{"id":"https://ours.example/users/acme/posts/3","type":"Tombstone","formerType":"Note","deleted":"2026-01-02T03:04:05Z"},"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://ours.example/users/acme/followers"]}"#
    );
}

#[test]
fn likes_boosts_and_their_undos() {
    let (ours, theirs) = (actor("acme", "ours.example"), actor("bob", "theirs.example"));
    let post = "https://theirs.example/notes/9";
    let (like_id, boost_id) =
        ("https://ours.example/users/acme#likes/1", "https://ours.example/users/acme#announces/1");
    let liked = like::activity(like_id, &ours, post, &theirs.ap_id);
    assert_eq!(
        json(liked.clone()),
        r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"https://ours.example/users/acme#likes/1","type":"Like","actor":"https://ours.example/users/acme","object":"https://theirs.example/notes/9","to":["https://theirs.example/users/bob"]}"#
    );
    let boosted = announce::activity(boost_id, &ours, post, &theirs.ap_id);
    assert_eq!(
        json(boosted.clone()),
        r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"https://ours.example/users/acme#announces/1","type":"Announce","actor":"https://ours.example/users/acme","object":"https://theirs.example/notes/9","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://theirs.example/users/bob","https://ours.example/users/acme/followers"]}"#
    );
    // The embedded activity loses its `@context`, and its keys come in the order the
    // serializer leaves them: kept as it is, since peers have been reading it so.
    assert_eq!(
        json(undo::undo_reaction(id(), liked.unwrap())),
        r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"https://ours.example/activities/7","type":"Undo","actor":"https://ours.example/users/acme","object":{"to":["https://theirs.example/users/bob"],"id":"https://ours.example/users/acme#likes/1","type":"Like","actor":"https://ours.example/users/acme","object":"https://theirs.example/notes/9"},"to":["https://theirs.example/users/bob"]}"#
    );
    assert_eq!(
        json(undo::undo_reaction(id(), boosted.unwrap())),
        r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"https://ours.example/activities/7","type":"Undo","actor":"https://ours.example/users/acme","object":{"cc":["https://theirs.example/users/bob","https://ours.example/users/acme/followers"],"id":"https://ours.example/users/acme#announces/1","type":"Announce","actor":"https://ours.example/users/acme","object":"https://theirs.example/notes/9","to":["https://www.w3.org/ns/activitystreams#Public"]},"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://theirs.example/users/bob","https://ours.example/users/acme/followers"]}"#
    );
}
