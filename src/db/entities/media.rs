//! `media`: uploaded images, stored as files under `<data_dir>/media/`.

use sea_orm::entity::prelude::*;

/// One uploaded file.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The post it is attached to (none while unattached).
    pub post_id: Option<i64>,
    /// Who uploaded it.
    pub actor_id: i64,
    /// The file name under `<data_dir>/media/` (random, with the type's extension).
    #[sea_orm(unique)]
    pub file_name: String,
    /// The real image type, checked from the file's first bytes.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// Alt text (at most 1,500 characters).
    #[sea_orm(column_type = "Text")]
    pub alt_text: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
