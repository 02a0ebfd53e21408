//! `api_tokens`: bearer tokens for the JSON API (release pipelines). Only the SHA-256
//! digest is stored; the token itself is shown once, when created.

use sea_orm::entity::prelude::*;

/// One token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What it is for, e.g. `release-pipeline`.
    pub name: String,
    /// Hex SHA-256 of the token.
    #[sea_orm(unique)]
    pub token_digest: String,
    /// The one account it may publish as; `None`: any local account.
    pub actor_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
