//! `conversations`: the staff inbox. One row per inbound reply or mention addressed to a
//! local actor, with when it arrived and when (and with which post) staff first answered.

use sea_orm::entity::prelude::*;

/// One inbound reply or mention for one local actor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The local actor (brand, product or staff) it is addressed to.
    pub actor_id: i64,
    /// The inbound (remote) post.
    pub post_id: i64,
    /// Why it is in this actor's inbox.
    pub kind: ConversationKind,
    /// The root of the post's thread (the post itself when it is a root); kept in step when
    /// an orphan is re-linked.
    pub thread_root_id: i64,
    pub received_at: DateTimeUtc,
    /// When staff first answered (a local reply in the thread); `None` = unanswered.
    pub answered_at: Option<DateTimeUtc>,
    /// The local post that answered it.
    pub answer_post_id: Option<i64>,
}

/// Why a post is in a local actor's inbox (stored as `reply` or `mention`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ConversationKind {
    /// It answers a post in one of this actor's threads.
    #[sea_orm(string_value = "reply")]
    Reply,
    /// It mentions this actor outside the actor's threads.
    #[sea_orm(string_value = "mention")]
    Mention,
}

impl ConversationKind {
    /// The stored string (also what the API shows).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::Mention => "mention",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::ActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Actor,
    #[sea_orm(
        belongs_to = "super::posts::Entity",
        from = "Column::PostId",
        to = "super::posts::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
}

impl Related<super::posts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::ConversationKind;

    #[test]
    fn kinds_are_stored_as_the_strings_rows_already_hold() {
        assert_eq!(ConversationKind::Reply.to_value(), "reply");
        assert_eq!(ConversationKind::Mention.to_value(), "mention");
        for kind in ConversationKind::iter() {
            assert_eq!(kind.to_value(), kind.as_str());
        }
    }
}
