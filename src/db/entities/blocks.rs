//! `blocks`: a remote actor blocks one of ours. We stop delivering that local actor's
//! activities to it (the delivery expander asks `db::queries::blocks`).

use sea_orm::entity::prelude::*;

/// One block.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blocks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The (remote) actor who blocks.
    pub actor_id: i64,
    /// The (local) actor blocked.
    pub target_actor_id: i64,
    /// The `Block` activity's id (an `Undo` names it).
    pub ap_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::ActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Blocker,
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::TargetActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Target,
}

impl ActiveModelBehavior for ActiveModel {}
