//! The transactional outbox: services record *what happened* as a typed event, in the same
//! transaction as the change itself (FEDERATION.md D1). The federation wing later turns each
//! event into an activity and its deliveries; services never speak ActivityPub.

use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

/// Everything that other servers must hear about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxEvent {
    /// A remote actor's follow request to a local account was accepted.
    FollowAccepted {
        /// The `follows` row.
        follow_id: i64,
    },
    /// A remote actor's follow request was refused (the row is gone, so the event carries it).
    FollowRejected {
        /// The local account that refused.
        followee_id: i64,
        /// The remote actor that asked.
        follower_id: i64,
        /// The id of their `Follow`.
        follow_ap_id: String,
    },
    /// A local account asked to follow a remote one.
    FollowRequested {
        /// The `follows` row.
        follow_id: i64,
    },
    /// A local account stopped following a remote one.
    FollowWithdrawn {
        /// The local account.
        follower_id: i64,
        /// The remote account.
        followee_id: i64,
        /// The id of our original `Follow`.
        follow_ap_id: String,
    },
    /// A local post went out (at once, or when its scheduled time came).
    PostPublished {
        /// The `posts` row.
        post_id: i64,
    },
    /// A published local post was edited.
    PostEdited {
        /// The `posts` row.
        post_id: i64,
    },
    /// A published local post was deleted.
    PostDeleted {
        /// The `posts` row (kept, soft-deleted).
        post_id: i64,
    },
    /// A local account liked or boosted a post.
    ReactionGiven {
        /// The `reactions` row.
        reaction_id: i64,
    },
    /// A local account withdrew a like or boost (the row is gone, so the event carries it).
    ReactionWithdrawn {
        /// The local account.
        actor_id: i64,
        /// The post it was about.
        post_id: i64,
        /// `like` or `announce`.
        reaction: String,
        /// The id of the `Like`/`Announce` withdrawn.
        reaction_ap_id: String,
    },
}

impl OutboxEvent {
    /// The stored kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::FollowAccepted { .. } => "follow_accepted",
            Self::FollowRejected { .. } => "follow_rejected",
            Self::FollowRequested { .. } => "follow_requested",
            Self::FollowWithdrawn { .. } => "follow_withdrawn",
            Self::PostPublished { .. } => "post_published",
            Self::PostEdited { .. } => "post_edited",
            Self::PostDeleted { .. } => "post_deleted",
            Self::ReactionGiven { .. } => "reaction_given",
            Self::ReactionWithdrawn { .. } => "reaction_withdrawn",
        }
    }
}

/// Records an event; call inside the transaction of the change it describes.
pub async fn record(db: &impl ConnectionTrait, event: &OutboxEvent) -> Result<(), DbErr> {
    let payload = serde_json::to_string(event).map_err(|e| DbErr::Custom(format!("outbox event: {e}")))?;
    crate::db::queries::outbox::insert(db, event.kind(), payload).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn events_round_trip_with_their_kind() {
        let e = OutboxEvent::FollowRejected { followee_id: 1, follower_id: 2, follow_ap_id: "https://x/1".into() };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], e.kind());
        assert_eq!(serde_json::from_value::<OutboxEvent>(json).unwrap(), e);
    }
}
