//! Delivery health for staff and operators (FEDERATION.md D8): how far each post's
//! activities got, per host, and the state of the queue.

use sea_orm::DatabaseConnection;

use crate::{
    db::{
        entities::posts,
        queries::deliveries::{self, ActivityProgress, QueueSummary},
    },
    error::AppResult,
};

/// Progress of every activity sent about a post (its Create, Updates and Delete).
pub async fn for_post(db: &DatabaseConnection, post: &posts::Model) -> AppResult<Vec<ActivityProgress>> {
    Ok(deliveries::for_object(db, &post.ap_id).await?)
}

/// Queue depth by outcome, and the failing hosts.
pub async fn queue(db: &DatabaseConnection) -> AppResult<QueueSummary> {
    Ok(deliveries::queue_summary(db).await?)
}
