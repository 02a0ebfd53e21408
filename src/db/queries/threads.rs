//! Reading threads and the staff conversations inbox, and marking conversations answered.
//! The rows are written by the inbound side (`services::conversations`); this file is the
//! read side (thread pages, `GET /api/v1/conversations`) plus the one write a staff answer makes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

use crate::db::entities::{actors, conversations, posts};

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
pub async fn conversations_page(
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

/// Posts by row id, in one query.
pub async fn posts_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<posts::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    posts::Entity::find().filter(posts::Column::Id.is_in(ids.to_vec())).all(db).await
}

/// Actors by row id, in one query.
pub async fn actors_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<actors::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    actors::Entity::find().filter(actors::Column::Id.is_in(ids.to_vec())).all(db).await
}

/// Visibilities a public thread page shows.
const SHOWN: &[&str] = &["public", "unlisted"];

/// Readable replies to `root_id` (depth 1), oldest first: `offset`, `limit`, plus how many
/// there are in all.
pub async fn top_replies(
    db: &impl ConnectionTrait,
    root_id: i64,
    offset: u64,
    limit: u64,
) -> Result<Vec<posts::Model>, DbErr> {
    posts::Entity::find()
        .filter(readable())
        .filter(posts::Column::InReplyToPostId.eq(root_id))
        .order_by_asc(posts::Column::PublishedAt)
        .order_by_asc(posts::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}

/// How many readable direct replies `root_id` has.
pub async fn count_top_replies(db: &impl ConnectionTrait, root_id: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    posts::Entity::find().filter(readable()).filter(posts::Column::InReplyToPostId.eq(root_id)).count(db).await
}

/// The readable replies to any of `parents` (one level of a thread), oldest first, at most `limit`.
pub async fn replies_to(db: &impl ConnectionTrait, parents: &[i64], limit: u64) -> Result<Vec<posts::Model>, DbErr> {
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    posts::Entity::find()
        .filter(readable())
        .filter(posts::Column::InReplyToPostId.is_in(parents.to_vec()))
        .order_by_asc(posts::Column::PublishedAt)
        .order_by_asc(posts::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Published and world-readable; deleted replies stay (shown as deleted) so their children
/// keep their place.
fn readable() -> Condition {
    Condition::all()
        .add(posts::Column::PublishedAt.is_not_null())
        .add(posts::Column::Visibility.is_in(SHOWN.iter().map(|v| (*v).to_owned())))
}

/// What a thread page shows of the replies under `root_id`, summed up: when any reply is
/// added, edited, deleted, liked or boosted, this changes. The page cache keys on it
/// (`http::pages::cache`); one aggregate over the thread's index, no rows decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadStamp {
    pub replies: i64,
    pub last_updated: Option<DateTime<Utc>>,
    pub last_deleted: Option<DateTime<Utc>>,
    pub likes: i64,
    pub announces: i64,
}

/// The [`ThreadStamp`] of the thread rooted at `root_id`.
pub async fn thread_stamp(db: &impl ConnectionTrait, root_id: i64) -> Result<ThreadStamp, DbErr> {
    type Row = (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<i64>, Option<i64>);
    let row: Option<Row> = posts::Entity::find()
        .select_only()
        .column_as(posts::Column::Id.count(), "replies")
        .column_as(posts::Column::UpdatedAt.max(), "last_updated")
        .column_as(posts::Column::DeletedAt.max(), "last_deleted")
        // SUM of an integer is a 64-bit integer on both engines.
        .column_as(posts::Column::LikesCount.sum(), "likes")
        .column_as(posts::Column::AnnouncesCount.sum(), "announces")
        .filter(posts::Column::ThreadRootId.eq(root_id))
        .into_tuple()
        .one(db)
        .await?;
    let (replies, last_updated, last_deleted, likes, announces) = row.unwrap_or((0, None, None, None, None));
    Ok(ThreadStamp {
        replies,
        last_updated,
        last_deleted,
        likes: likes.unwrap_or(0),
        announces: announces.unwrap_or(0),
    })
}
