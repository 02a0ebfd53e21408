//! `reports`: `Flag`s received from other servers, kept for moderators.

use sea_orm::entity::prelude::*;

/// One report.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `Flag` activity's id.
    #[sea_orm(unique)]
    pub ap_id: String,
    /// Who sent it (often the remote instance actor).
    pub reporter_actor_id: i64,
    /// The local actor reported, when the `Flag` names one.
    pub target_actor_id: Option<i64>,
    /// The reporter's comment (plain text, capped).
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// JSON array of the object ids the `Flag` named (capped).
    #[sea_orm(column_type = "Text")]
    pub object_ap_ids: String,
    pub received_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::ReporterActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Reporter,
}

impl ActiveModelBehavior for ActiveModel {}
