//! `activities`: every activity we send, stored with its audience in the transaction of the
//! change that caused it; expanded once into `deliveries`.

use sea_orm::entity::prelude::*;

/// One outbound activity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub ap_id: String,
    /// The local actor sending it (its key signs every delivery).
    pub actor_id: i64,
    pub activity_type: String,
    pub object_ap_id: Option<String>,
    /// The JSON exactly as delivered.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// JSON: who receives it (followers of an actor, and/or explicit inboxes).
    #[sea_orm(column_type = "Text")]
    pub audience: String,
    pub created_at: DateTimeUtc,
    /// When the audience was expanded into deliveries.
    pub expanded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
