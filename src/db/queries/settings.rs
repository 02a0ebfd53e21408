//! Instance settings as key/value rows.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};

use crate::db::entities::instance_settings;

/// The public URL the instance first started with (ids are permanent).
pub const PUBLIC_URL: &str = "public_url";
/// The instance's display name.
pub const INSTANCE_NAME: &str = "instance_name";
/// SHA-256 (hex) of the pending first-run setup token.
pub const SETUP_TOKEN_SHA256: &str = "setup_token_sha256";
/// The setup session the token was exchanged for: `EXPIRES_UNIX_SECONDS:SHA256_HEX`.
pub const SETUP_SESSION: &str = "setup_session";

/// A setting's value.
pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(instance_settings::Entity::find_by_id(key.to_owned()).one(db).await?.map(|m| m.value))
}

/// Sets a value, replacing any earlier one.
pub async fn set(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), DbErr> {
    instance_settings::Entity::insert(instance_settings::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(instance_settings::Column::Key)
            .update_columns([instance_settings::Column::Value, instance_settings::Column::UpdatedAt])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Sets a value only when none exists; returns the value now stored.
pub async fn set_if_absent(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<String, DbErr> {
    let inserted = instance_settings::Entity::insert(instance_settings::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(OnConflict::column(instance_settings::Column::Key).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    if inserted == 1 {
        return Ok(value.to_owned());
    }
    Ok(get(db, key).await?.unwrap_or_else(|| value.to_owned()))
}

/// Removes a setting; returns whether it existed.
pub async fn delete(db: &impl ConnectionTrait, key: &str) -> Result<bool, DbErr> {
    Ok(instance_settings::Entity::delete_by_id(key.to_owned()).exec(db).await?.rows_affected > 0)
}
