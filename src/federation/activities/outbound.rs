//! Constructors of the activities we send about follows. (Each is small; they share the
//! envelope in `protocol::activity`.)

use serde_json::{Value, json};
use url::Url;

use crate::{
    db::entities::actors,
    federation::protocol::{activity::Activity, context::ACTIVITYSTREAMS},
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
