//! Reading and writing staff users.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{db::entities::users, domain::Role};

/// Whether any user holds the owner role.
pub async fn owner_exists(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(users::Entity::find().filter(users::Column::Role.eq(Role::Owner.as_str())).count(db).await? > 0)
}

/// A user by normalised e-mail.
pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find().filter(users::Column::Email.eq(email)).one(db).await
}

/// Inserts a user.
pub async fn insert(
    db: &impl ConnectionTrait,
    email: &str,
    password_hash: String,
    role: Role,
    actor_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<users::Model, DbErr> {
    users::Entity::insert(users::ActiveModel {
        email: Set(email.to_owned()),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_owned()),
        actor_id: Set(actor_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}
