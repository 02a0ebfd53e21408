//! Constructors of the activities we send: about follows, and about posts (`Create`,
//! `Update`, `Delete`). Each is small; they share the envelope in `protocol::activity`.

use serde_json::{Value, json};
use url::Url;

use crate::{
    db::entities::actors,
    federation::protocol::{
        activity::Activity,
        context::{ACTIVITYSTREAMS, PUBLIC, note_context},
        note::{Note, Tombstone},
    },
};

fn url(s: &str) -> Option<Url> {
    Url::parse(s).ok()
}

fn follow_object(follow_ap_id: &str, follower: &actors::Model, followee: &actors::Model) -> Value {
    json!({ "id": follow_ap_id, "type": "Follow", "actor": follower.ap_id, "object": followee.ap_id })
}

/// `Accept{Follow}` or `Reject{Follow}` from `followee` (ours) to `follower` (theirs).
pub fn answer(
    id: Url,
    kind: &str,
    followee: &actors::Model,
    follower: &actors::Model,
    follow_ap_id: &str,
) -> Option<Activity> {
    Some(Activity {
        context: Value::String(ACTIVITYSTREAMS.into()),
        id,
        kind: kind.to_owned(),
        actor: url(&followee.ap_id)?,
        object: follow_object(follow_ap_id, follower, followee),
        to: vec![url(&follower.ap_id)?],
        cc: Vec::new(),
    })
}

/// `Follow` from `follower` (ours) to `followee` (theirs); its id is the follow's id.
pub fn follow(follow_ap_id: &str, follower: &actors::Model, followee: &actors::Model) -> Option<Activity> {
    Some(Activity {
        context: Value::String(ACTIVITYSTREAMS.into()),
        id: url(follow_ap_id)?,
        kind: "Follow".into(),
        actor: url(&follower.ap_id)?,
        object: Value::String(followee.ap_id.clone()),
        to: vec![url(&followee.ap_id)?],
        cc: Vec::new(),
    })
}

/// `Undo{Follow}` from `follower` (ours).
pub fn undo_follow(
    id: Url,
    follow_ap_id: &str,
    follower: &actors::Model,
    followee: &actors::Model,
) -> Option<Activity> {
    Some(Activity {
        context: Value::String(ACTIVITYSTREAMS.into()),
        id,
        kind: "Undo".into(),
        actor: url(&follower.ap_id)?,
        object: follow_object(follow_ap_id, follower, followee),
        to: vec![url(&followee.ap_id)?],
        cc: Vec::new(),
    })
}

/// `Create{Note}` or `Update{Note}` from the Note's author, addressed as the Note is.
pub fn note_activity(id: Url, kind: &str, note: &Note) -> Option<Activity> {
    let mut object = serde_json::to_value(note).ok()?;
    if let Some(map) = object.as_object_mut() {
        map.remove("@context");
    }
    Some(Activity {
        context: note_context(),
        id,
        kind: kind.to_owned(),
        actor: note.attributed_to.clone(),
        object,
        to: note.to.clone(),
        cc: note.cc.clone(),
    })
}

/// `Delete{Tombstone}` from the author of a deleted post, to the post's audience.
pub fn delete_note(
    id: Url,
    author: &actors::Model,
    tombstone: &Tombstone,
    to: Vec<Url>,
    cc: Vec<Url>,
) -> Option<Activity> {
    let mut object = serde_json::to_value(tombstone).ok()?;
    if let Some(map) = object.as_object_mut() {
        map.remove("@context");
    }
    Some(Activity { context: note_context(), id, kind: "Delete".into(), actor: url(&author.ap_id)?, object, to, cc })
}

/// What a `Like` or `Announce` of `post_ap_id` by `actor` is addressed to: a like to the
/// post's author alone; a boost publicly, with the author and the booster's followers in `cc`.
pub fn reaction_addressing(kind: &str, actor: &actors::Model, author_ap_id: &str) -> Option<(Vec<Url>, Vec<Url>)> {
    let author = url(author_ap_id)?;
    if kind == "Announce" {
        let followers = url(actor.followers_url.as_deref()?)?;
        Some((vec![url(PUBLIC)?], vec![author, followers]))
    } else {
        Some((vec![author], Vec::new()))
    }
}

/// `Like` or `Announce` (`kind`) of the post `post_ap_id` by `actor` (ours); its id is the
/// reaction's.
pub fn reaction(
    ap_id: &str,
    kind: &str,
    actor: &actors::Model,
    post_ap_id: &str,
    author_ap_id: &str,
) -> Option<Activity> {
    let (to, cc) = reaction_addressing(kind, actor, author_ap_id)?;
    Some(Activity {
        context: Value::String(ACTIVITYSTREAMS.into()),
        id: url(ap_id)?,
        kind: kind.to_owned(),
        actor: url(&actor.ap_id)?,
        object: Value::String(post_ap_id.to_owned()),
        to,
        cc,
    })
}

/// `Undo` of the reaction `ap_id` (a `Like` or `Announce`), addressed as the reaction was.
pub fn undo_reaction(
    id: Url,
    ap_id: &str,
    kind: &str,
    actor: &actors::Model,
    post_ap_id: &str,
    author_ap_id: &str,
) -> Option<Activity> {
    let mut undone = reaction(ap_id, kind, actor, post_ap_id, author_ap_id)?;
    let object = serde_json::to_value(&undone).ok().map(|mut v| {
        if let Some(map) = v.as_object_mut() {
            map.remove("@context");
        }
        v
    })?;
    undone.id = id;
    undone.kind = "Undo".into();
    undone.object = object;
    Some(undone)
}
