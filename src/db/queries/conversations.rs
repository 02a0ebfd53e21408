//! The staff inbox (`conversations`): recording rows when a note arrives, keeping them in
//! step when a thread changes, listing them, and marking them answered. The rows are written
//! by `services::staff_inbox` and read by it and by the staff reply (`services::posts`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};

use crate::db::entities::conversations::{self, ConversationKind};

/// A new, unanswered staff-inbox row.
pub fn new_row(
    actor_id: i64,
    post_id: i64,
    kind: ConversationKind,
    thread_root_id: i64,
    received_at: DateTime<Utc>,
) -> conversations::ActiveModel {
    conversations::ActiveModel {
        actor_id: Set(actor_id),
        post_id: Set(post_id),
        kind: Set(kind),
        thread_root_id: Set(thread_root_id),
        received_at: Set(received_at),
        answered_at: Set(None),
        answer_post_id: Set(None),
        ..Default::default()
    }
}

/// Inserts staff-inbox rows, skipping those that exist (one per actor and post).
pub async fn insert_new(db: &impl ConnectionTrait, rows: Vec<conversations::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    conversations::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([conversations::Column::ActorId, conversations::Column::PostId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// The rows of the thread rooted at `old_root` now belong to the thread rooted at `new_root`
/// (an orphan and its subtree moved under a parent).
pub async fn move_thread(db: &impl ConnectionTrait, old_root: i64, new_root: i64) -> Result<(), DbErr> {
    conversations::Entity::update_many()
        .col_expr(conversations::Column::ThreadRootId, Expr::value(new_root))
        .filter(conversations::Column::ThreadRootId.eq(old_root))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes the rows of the posts `post_ids` (deleted notes).
pub async fn delete_of_posts(db: &impl ConnectionTrait, post_ids: &[i64]) -> Result<(), DbErr> {
    conversations::Entity::delete_many()
        .filter(conversations::Column::PostId.is_in(post_ids.to_vec()))
        .exec(db)
        .await
        .map(|_| ())
}

/// The rows of one post.
pub async fn of_post(db: &impl ConnectionTrait, post_id: i64) -> Result<Vec<conversations::Model>, DbErr> {
    conversations::Entity::find().filter(conversations::Column::PostId.eq(post_id)).all(db).await
}

/// Marks every unanswered conversation of thread `root_id` received before `now` as answered
/// by `answer_post_id`. Returns how many rows changed.
pub async fn mark_answered(
    db: &impl ConnectionTrait,
    root_id: i64,
    answer_post_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let done = conversations::Entity::update_many()
        .col_expr(conversations::Column::AnsweredAt, Expr::value(now))
        .col_expr(conversations::Column::AnswerPostId, Expr::value(answer_post_id))
        .filter(conversations::Column::ThreadRootId.eq(root_id))
        .filter(conversations::Column::AnsweredAt.is_null())
        .filter(conversations::Column::ReceivedAt.lte(now))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Which conversations to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnsweredFilter {
    Unanswered,
    Answered,
    All,
}

/// A page of conversations, newest first (by row id, which follows arrival), for one local
/// actor or all; `before` is the last id of the previous page. Returns up to `limit` rows.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: AnsweredFilter,
    actor_id: Option<i64>,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<conversations::Model>, DbErr> {
    let mut cond = Condition::all();
    match filter {
        AnsweredFilter::Unanswered => cond = cond.add(conversations::Column::AnsweredAt.is_null()),
        AnsweredFilter::Answered => cond = cond.add(conversations::Column::AnsweredAt.is_not_null()),
        AnsweredFilter::All => {}
    }
    if let Some(actor_id) = actor_id {
        cond = cond.add(conversations::Column::ActorId.eq(actor_id));
    }
    if let Some(before) = before {
        cond = cond.add(conversations::Column::Id.lt(before));
    }
    conversations::Entity::find().filter(cond).order_by_desc(conversations::Column::Id).limit(limit).all(db).await
}
