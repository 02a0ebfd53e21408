//! `reactions`: remote `Like`s and `Announce`s of posts, one per (post, actor, kind), with the
//! activity id so an `Undo` finds it. `posts.likes_count` / `announces_count` mirror them.

use sea_orm::entity::prelude::*;

/// One like or announce.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    /// The (remote) actor who liked or announced.
    pub actor_id: i64,
    /// A like or an announce.
    pub kind: Reaction,
    /// The id of the `Like` or `Announce` activity.
    pub ap_id: String,
    pub created_at: DateTimeUtc,
}

/// A like or an announce (boost), stored as `like` or `announce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Reaction {
    #[sea_orm(string_value = "like")]
    Like,
    #[sea_orm(string_value = "announce")]
    Announce,
}

impl Reaction {
    /// The stored `kind` (also what an outbox event names).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Like => "like",
            Self::Announce => "announce",
        }
    }

    /// From the stored `kind`.
    pub fn from_kind(kind: &str) -> Option<Self> {
        match kind {
            "like" => Some(Self::Like),
            "announce" => Some(Self::Announce),
            _ => None,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::posts::Entity",
        from = "Column::PostId",
        to = "super::posts::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::ActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Actor,
}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::Reaction;

    #[test]
    fn kinds_are_stored_as_the_strings_rows_already_hold() {
        assert_eq!(Reaction::Like.to_value(), "like");
        assert_eq!(Reaction::Announce.to_value(), "announce");
        for kind in Reaction::iter() {
            assert_eq!(kind.to_value(), kind.as_str());
            assert_eq!(Reaction::from_kind(kind.as_str()), Some(kind));
        }
        assert_eq!(Reaction::from_kind("boost"), None);
    }
}
