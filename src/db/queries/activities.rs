//! `activities`: the activities we send, stored once as delivered (JSON and audience).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::OnConflict,
};

use crate::db::entities::activities;

/// An activity to store.
pub struct NewActivity {
    /// Its id (deterministic per event, so a second expansion finds the first).
    pub ap_id: String,
    /// Our actor that sends it.
    pub actor_id: i64,
    /// `Create`, `Follow`…
    pub activity_type: String,
    /// The id of its object, when it has one.
    pub object_ap_id: Option<String>,
    /// The JSON as delivered.
    pub payload: String,
    /// Who receives it, serialized.
    pub audience: String,
    /// When it was built.
    pub now: DateTime<Utc>,
}

/// Stores the activity unless one with its id exists; the row id either way.
pub async fn insert_or_find(db: &impl ConnectionTrait, new: NewActivity) -> Result<i64, DbErr> {
    let ap_id = new.ap_id.clone();
    activities::Entity::insert(activities::ActiveModel {
        ap_id: Set(new.ap_id),
        actor_id: Set(new.actor_id),
        activity_type: Set(new.activity_type),
        object_ap_id: Set(new.object_ap_id),
        payload: Set(new.payload),
        audience: Set(new.audience),
        created_at: Set(new.now),
        expanded_at: Set(Some(new.now)),
        ..Default::default()
    })
    .on_conflict(OnConflict::column(activities::Column::ApId).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    activities::Entity::find()
        .select_only()
        .column(activities::Column::Id)
        .filter(activities::Column::ApId.eq(ap_id.as_str()))
        .into_tuple()
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("activity {ap_id} vanished")))
}
