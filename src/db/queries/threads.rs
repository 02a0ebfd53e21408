//! Threads (reply trees): reading them for thread pages and the replies collection, and
//! changing their shape as remote notes arrive: orphans moved under their parent, the
//! parent fetches of orphans scheduled and claimed (`services::thread_links`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    db::entities::{actors, posts},
    domain::Visibility,
};

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
const SHOWN: &[Visibility] = &[Visibility::Public, Visibility::Unlisted];

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
        .add(posts::Column::Visibility.is_in(SHOWN.iter().copied()))
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

/// Replies collection of a post: how many world-readable, not deleted replies it has, and
/// one page of their ids, oldest first.
pub async fn replies_page(
    db: &impl ConnectionTrait,
    post_id: i64,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<String>), DbErr> {
    let visible = || {
        posts::Entity::find()
            .filter(posts::Column::InReplyToPostId.eq(post_id))
            .filter(posts::Column::DeletedAt.is_null())
            .filter(posts::Column::PublishedAt.is_not_null())
            .filter(posts::Column::Visibility.is_in(SHOWN.iter().copied()))
    };
    let total = visible().count(db).await?;
    let ids: Vec<String> = visible()
        .select_only()
        .column(posts::Column::ApId)
        .order_by_asc(posts::Column::PublishedAt)
        .order_by_asc(posts::Column::Id)
        .offset(offset)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok((total, ids))
}

/// Moves the orphan `orphan_id` and its subtree under `parent_id` (whose thread is rooted at
/// `root`, at depth `depth - 1`): the subtree takes the new root and grows `depth` deeper,
/// the orphan itself is linked and its parent fetch ends. Two `UPDATE`s.
pub async fn link_orphan(
    db: &impl ConnectionTrait,
    orphan_id: i64,
    parent_id: i64,
    root: i64,
    depth: i32,
) -> Result<(), DbErr> {
    posts::Entity::update_many()
        .col_expr(posts::Column::ThreadRootId, Expr::value(root))
        .col_expr(posts::Column::Depth, Expr::col(posts::Column::Depth).add(depth))
        .filter(posts::Column::ThreadRootId.eq(orphan_id))
        .exec(db)
        .await?;
    posts::Entity::update_many()
        .col_expr(posts::Column::InReplyToPostId, Expr::value(parent_id))
        .col_expr(posts::Column::ThreadRootId, Expr::value(root))
        .col_expr(posts::Column::Depth, Expr::value(depth))
        .col_expr(posts::Column::ParentFetchAfter, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(posts::Column::Id.eq(orphan_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The remote posts of the subtree rooted at `root_id` (not the root itself): id and arrival.
pub async fn remote_below(db: &impl ConnectionTrait, root_id: i64) -> Result<Vec<(i64, DateTime<Utc>)>, DbErr> {
    posts::Entity::find()
        .select_only()
        .column(posts::Column::Id)
        .column(posts::Column::CreatedAt)
        .filter(posts::Column::ThreadRootId.eq(root_id))
        .filter(posts::Column::Local.eq(false))
        .into_tuple()
        .all(db)
        .await
}

/// How deep the subtree under `post_id` goes (0 when it has no stored descendants).
pub async fn subtree_depth(db: &impl ConnectionTrait, post_id: i64) -> Result<i32, DbErr> {
    let max: Option<Option<i32>> = posts::Entity::find()
        .select_only()
        .column_as(posts::Column::Depth.max(), "max_depth")
        .filter(posts::Column::ThreadRootId.eq(post_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Why an orphan's parent fetch is put off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reschedule {
    /// The activity's fetch budget ran out: the walk continues later; no attempt failed.
    Continue,
    /// A fetch failed for now: one more failed attempt is counted.
    Retry,
}

/// Sets when the parent of orphan `post_id` is fetched next.
pub async fn schedule_parent_fetch(
    db: &impl ConnectionTrait,
    post_id: i64,
    at: DateTime<Utc>,
    why: Reschedule,
) -> Result<(), DbErr> {
    let mut update = posts::Entity::update_many().col_expr(posts::Column::ParentFetchAfter, Expr::value(Some(at)));
    if why == Reschedule::Retry {
        update =
            update.col_expr(posts::Column::ParentFetchAttempts, Expr::col(posts::Column::ParentFetchAttempts).add(1));
    }
    update.filter(posts::Column::Id.eq(post_id)).exec(db).await.map(|_| ())
}

/// No more parent fetches for orphan `post_id`.
pub async fn end_parent_fetch(db: &impl ConnectionTrait, post_id: i64) -> Result<(), DbErr> {
    posts::Entity::update_many()
        .col_expr(posts::Column::ParentFetchAfter, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(posts::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Up to `limit` orphans whose parent fetch is due at `now`, the earliest first.
pub async fn due_parent_fetches(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<posts::Model>, DbErr> {
    posts::Entity::find()
        .filter(posts::Column::ParentFetchAfter.lte(now))
        .order_by_asc(posts::Column::ParentFetchAfter)
        .limit(limit)
        .all(db)
        .await
}

/// Pushes the parent fetch of `post` (as read) to `lease_until`, unless another worker moved
/// it since: a conditional update, so one worker wins each. Whether this one did.
pub async fn claim_parent_fetch(
    db: &impl ConnectionTrait,
    post: &posts::Model,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = posts::Entity::update_many()
        .col_expr(posts::Column::ParentFetchAfter, Expr::value(Some(lease_until)))
        .filter(posts::Column::Id.eq(post.id))
        .filter(posts::Column::ParentFetchAfter.eq(post.parent_fetch_after))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
