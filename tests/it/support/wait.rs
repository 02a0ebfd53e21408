//! Waiting on a condition instead of sleeping: work done by background workers (the inbox
//! worker, delivery, parent fetches) is checked for, never assumed after a pause.

use chrono::{DateTime, Utc};
use openhouse::db::entities::{
    activities, deliveries,
    inbox_activities::{self, InboxState},
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use super::app::TestApp;

/// Polls `check` until it returns `Some`, for at most `seconds` (work done by background
/// workers: the condition is checked, never assumed after a sleep).
pub async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The inbox row of the activity `id`, if it was stored.
pub async fn inbox_row(a: &TestApp, id: &str) -> Option<inbox_activities::Model> {
    inbox_activities::Entity::find().filter(inbox_activities::Column::ApId.eq(id)).one(&a.state.db).await.unwrap()
}

/// Waits until the worker has finished with the inbox row of `id` (it is no longer
/// pending); its final state.
pub async fn inbox_done(a: &TestApp, id: &str) -> InboxState {
    eventually(30, &format!("the worker to finish {id}"), || async {
        inbox_row(a, id).await.filter(|row| row.state != InboxState::Pending).map(|row| row.state)
    })
    .await
}

/// Waits until the worker has handled the inbox row of `id`: finished with it, or given it
/// an error and a retry; its state and last error.
pub async fn inbox_handled(a: &TestApp, id: &str) -> (InboxState, Option<String>) {
    eventually(30, &format!("the worker to process {id}"), || async {
        let row = inbox_row(a, id).await?;
        (row.state != InboxState::Pending || row.last_error.is_some()).then_some((row.state, row.last_error))
    })
    .await
}

/// Waits until the instance has nothing left to do that could change its rows: every
/// outgoing activity expanded, no delivery pending, no inbox row waiting for its first try.
pub async fn settled(a: &TestApp) {
    let db = &a.state.db;
    eventually(30, "the instance's background work to settle", || async {
        let unexpanded =
            activities::Entity::find().filter(activities::Column::ExpandedAt.is_null()).count(db).await.unwrap();
        let sending =
            deliveries::Entity::find().filter(deliveries::Column::State.eq("pending")).count(db).await.unwrap();
        let receiving = inbox_activities::Entity::find()
            .filter(inbox_activities::Column::State.eq("pending"))
            .filter(inbox_activities::Column::LastError.is_null())
            .count(db)
            .await
            .unwrap();
        (unexpanded + sending + receiving == 0).then_some(())
    })
    .await;
}

/// The activity of `kind` whose object is `object_id` (embedded, or named by its id) that
/// `app`'s inbox stored, with when it arrived; `None` until it has. The inbox drops the
/// payload once processed (I12), so the body is read from what `sender` sent under the
/// same id.
pub async fn received(app: &TestApp, sender: &TestApp, kind: &str, object_id: &str) -> Option<(Value, DateTime<Utc>)> {
    let rows = inbox_activities::Entity::find()
        .filter(inbox_activities::Column::ActivityType.eq(kind))
        .all(&app.state.db)
        .await
        .unwrap();
    for row in rows {
        let sent = activities::Entity::find()
            .filter(activities::Column::ApId.eq(row.ap_id.as_str()))
            .one(&sender.state.db)
            .await
            .unwrap()?;
        let json: Value = serde_json::from_str(&sent.payload).unwrap();
        if json["object"]["id"] == object_id || json["object"] == object_id {
            return Some((json, row.received_at));
        }
    }
    None
}
