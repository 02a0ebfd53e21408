//! API tokens, stored as digests.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};

use crate::db::entities::api_tokens;

/// Stores a new token's digest.
pub async fn insert(
    db: &impl ConnectionTrait,
    name: &str,
    digest: &str,
    actor_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<api_tokens::Model, DbErr> {
    api_tokens::Entity::insert(api_tokens::ActiveModel {
        name: Set(name.to_owned()),
        token_digest: Set(digest.to_owned()),
        actor_id: Set(actor_id),
        created_at: Set(now),
        last_used_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// The token with this digest.
pub async fn find_by_digest(db: &impl ConnectionTrait, digest: &str) -> Result<Option<api_tokens::Model>, DbErr> {
    api_tokens::Entity::find().filter(api_tokens::Column::TokenDigest.eq(digest)).one(db).await
}

/// Records a use.
pub async fn touch(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::LastUsedAt, Expr::value(now))
        .filter(api_tokens::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Every token, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_tokens::Model>, DbErr> {
    api_tokens::Entity::find().order_by_asc(api_tokens::Column::Id).all(db).await
}

/// Deletes a token; whether it existed.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(api_tokens::Entity::delete_by_id(id).exec(db).await?.rows_affected == 1)
}
