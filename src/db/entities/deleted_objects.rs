//! `deleted_objects`: `Delete`s of objects we never stored, remembered for a while so that
//! a `Create` of the same id arriving after its `Delete` is refused (FEDERATION.md I13).

use sea_orm::entity::prelude::*;

/// One remembered `Delete`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deleted_objects")]
pub struct Model {
    /// The deleted object's id (on its owner's host).
    #[sea_orm(primary_key, auto_increment = false)]
    pub ap_id: String,
    /// The actor that deleted it: only its `Create` of that id is refused.
    pub actor_id: i64,
    pub deleted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
