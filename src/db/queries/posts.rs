//! Reading and writing posts with their mentions, hashtags and media.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};

use crate::{
    db::entities::{media, post_mentions, post_tags, posts},
    domain::Visibility,
};

/// A mention to store with a post: the actor named, its id, and the name as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MentionRow {
    pub actor_id: i64,
    /// The actor's id (or profile URL), the `href` of the `Mention` tag.
    pub href: String,
    /// The name as written, `@user@host`.
    pub name: String,
}

impl MentionRow {
    fn into_row(self, post_id: i64) -> post_mentions::ActiveModel {
        post_mentions::ActiveModel {
            post_id: Set(post_id),
            actor_id: Set(self.actor_id),
            href: Set(self.href),
            name: Set(self.name),
            ..Default::default()
        }
    }
}

/// A post's row and what hangs off it.
#[derive(Clone, Debug, Default)]
pub struct Parts {
    /// Mentions, in the order written.
    pub mentions: Vec<post_mentions::Model>,
    /// Hashtags, in the order written.
    pub tags: Vec<post_tags::Model>,
    /// Attached media, in upload order.
    pub media: Vec<media::Model>,
}

/// A post by row id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<posts::Model>, DbErr> {
    posts::Entity::find_by_id(id).one(db).await
}

/// A post by its ActivityPub id.
pub async fn find_by_ap_id(db: &impl ConnectionTrait, ap_id: &str) -> Result<Option<posts::Model>, DbErr> {
    posts::Entity::find().filter(posts::Column::ApId.eq(ap_id)).one(db).await
}

/// The posts whose `inReplyTo` is one of `ap_ids`, linked to their parent or not. Callers
/// after orphans (not linked yet) keep the rows whose `in_reply_to_post_id` is `None`
/// themselves: with `in_reply_to_post_id IS NULL` in the statement, SQLite (which has no
/// statistics here) searched `ix_posts_parent` for the NULLs, that is every top-level post,
/// instead of `ix_posts_in_reply_to_ap_id` for the few answers: 58 ms instead of 0.6 ms for a
/// batch of 64 ids among 100,000 top-level posts, inside the write lock. PostgreSQL did the
/// same without statistics. With only this condition, both search the `inReplyTo` index,
/// with or without statistics.
pub fn answering<'a>(ap_ids: impl IntoIterator<Item = &'a str>) -> sea_orm::Select<posts::Entity> {
    posts::Entity::find().filter(posts::Column::InReplyToApId.is_in(ap_ids))
}

/// Inserts the mentions of one or more posts (`(post id, mention)`), in one statement.
pub async fn insert_mentions(
    db: &impl ConnectionTrait,
    mentions: impl IntoIterator<Item = (i64, MentionRow)>,
) -> Result<(), DbErr> {
    let rows: Vec<_> = mentions.into_iter().map(|(post_id, m)| m.into_row(post_id)).collect();
    if rows.is_empty() {
        return Ok(());
    }
    post_mentions::Entity::insert_many(rows).exec_without_returning(db).await.map(|_| ())
}

/// The posts whose ActivityPub id is one of `ap_ids`, in one query.
pub async fn find_by_ap_ids<'a>(
    db: &impl ConnectionTrait,
    ap_ids: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<posts::Model>, DbErr> {
    posts::Entity::find().filter(posts::Column::ApId.is_in(ap_ids)).all(db).await
}

/// Which of `ap_ids` a stored orphan (a post not linked to its parent yet) answers.
pub async fn awaited_by_orphans<'a>(
    db: &impl ConnectionTrait,
    ap_ids: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, DbErr> {
    // Orphans only: the answers already linked are left out here, not in SQL (see
    // `answering`, for the index this keeps).
    let answers: Vec<(Option<String>, Option<i64>)> = answering(ap_ids)
        .select_only()
        .column(posts::Column::InReplyToApId)
        .column(posts::Column::InReplyToPostId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(answers.into_iter().filter(|(_, linked)| linked.is_none()).filter_map(|(wanted, _)| wanted).collect())
}

/// The orphans (not linked to a parent) that answer `post`, other than itself.
pub async fn orphans_of(db: &impl ConnectionTrait, post: &posts::Model) -> Result<Vec<posts::Model>, DbErr> {
    let answers = answering([post.ap_id.as_str()]).filter(posts::Column::Id.ne(post.id)).all(db).await?;
    Ok(answers.into_iter().filter(|answer| answer.in_reply_to_post_id.is_none()).collect())
}

/// Inserts several posts in one statement and returns their rows.
pub async fn insert_many(db: &impl ConnectionTrait, rows: Vec<posts::ActiveModel>) -> Result<Vec<posts::Model>, DbErr> {
    posts::Entity::insert_many(rows).exec_with_returning(db).await
}

/// What an edit of a remote note changes.
#[derive(Clone, Debug)]
pub struct Edit {
    pub content_html: String,
    pub summary: Option<String>,
    pub sensitive: bool,
    pub edited_at: DateTime<Utc>,
    pub attachments_json: Option<String>,
}

/// Applies an edit to post `id`.
pub async fn apply_edit(db: &impl ConnectionTrait, id: i64, edit: Edit, now: DateTime<Utc>) -> Result<(), DbErr> {
    posts::Entity::update_many()
        .col_expr(posts::Column::ContentHtml, Expr::value(edit.content_html))
        .col_expr(posts::Column::Summary, Expr::value(edit.summary))
        .col_expr(posts::Column::Sensitive, Expr::value(edit.sensitive))
        .col_expr(posts::Column::EditedAt, Expr::value(edit.edited_at))
        .col_expr(posts::Column::Attachments, Expr::value(edit.attachments_json))
        .col_expr(posts::Column::UpdatedAt, Expr::value(now))
        .filter(posts::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Which remote posts a deletion reaches.
#[derive(Clone, Copy, Debug)]
pub enum RemoteNotes {
    /// One post, by row id.
    Post(i64),
    /// Every post of a remote actor.
    By(i64),
}

/// The ids of the remote posts `which` names that are not deleted yet.
pub async fn live_remote_ids(db: &impl ConnectionTrait, which: RemoteNotes) -> Result<Vec<i64>, DbErr> {
    let which = match which {
        RemoteNotes::Post(id) => posts::Column::Id.eq(id),
        RemoteNotes::By(actor_id) => posts::Column::ActorId.eq(actor_id),
    };
    posts::Entity::find()
        .select_only()
        .column(posts::Column::Id)
        .filter(which)
        .filter(posts::Column::DeletedAt.is_null())
        .filter(posts::Column::Local.eq(false))
        .into_tuple()
        .all(db)
        .await
}

/// Turns posts into tombstones: content, warning, attachments and counters gone, deleted
/// at `now`, no parent fetch pending.
pub async fn tombstone(db: &impl ConnectionTrait, ids: &[i64], now: DateTime<Utc>) -> Result<(), DbErr> {
    posts::Entity::update_many()
        .col_expr(posts::Column::ContentHtml, Expr::value(""))
        .col_expr(posts::Column::Summary, Expr::value(Option::<String>::None))
        .col_expr(posts::Column::Attachments, Expr::value(Option::<String>::None))
        .col_expr(posts::Column::DeletedAt, Expr::value(now))
        .col_expr(posts::Column::UpdatedAt, Expr::value(now))
        .col_expr(posts::Column::ParentFetchAfter, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(posts::Column::LikesCount, Expr::value(0))
        .col_expr(posts::Column::AnnouncesCount, Expr::value(0))
        .filter(posts::Column::Id.is_in(ids.to_vec()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes the mentions of the posts `ids`.
pub async fn delete_mentions_of(db: &impl ConnectionTrait, ids: &[i64]) -> Result<(), DbErr> {
    post_mentions::Entity::delete_many()
        .filter(post_mentions::Column::PostId.is_in(ids.to_vec()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Inserts a post; its `ap_id` is set afterwards with [`set_ap_id`] once the id is known.
pub async fn insert(db: &impl ConnectionTrait, row: posts::ActiveModel) -> Result<posts::Model, DbErr> {
    posts::Entity::insert(row).exec_with_returning(db).await
}

/// Sets the ActivityPub id of a freshly inserted post.
pub async fn set_ap_id(db: &impl ConnectionTrait, id: i64, ap_id: &str) -> Result<(), DbErr> {
    posts::Entity::update_many()
        .col_expr(posts::Column::ApId, Expr::value(ap_id))
        .filter(posts::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Replaces the mentions and hashtags of a post.
pub async fn replace_refs(
    db: &impl ConnectionTrait,
    post_id: i64,
    mentions: Vec<MentionRow>,
    tags: Vec<(String, String)>,
) -> Result<(), DbErr> {
    post_mentions::Entity::delete_many().filter(post_mentions::Column::PostId.eq(post_id)).exec(db).await?;
    post_tags::Entity::delete_many().filter(post_tags::Column::PostId.eq(post_id)).exec(db).await?;
    insert_mentions(db, mentions.into_iter().map(|m| (post_id, m))).await?;
    if !tags.is_empty() {
        let rows = tags.into_iter().map(|(name, href)| post_tags::ActiveModel {
            post_id: Set(post_id),
            name: Set(name),
            href: Set(href),
            ..Default::default()
        });
        post_tags::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Attaches stored media to a post.
pub async fn insert_media(db: &impl ConnectionTrait, rows: Vec<media::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    media::Entity::insert_many(rows).exec_without_returning(db).await.map(|_| ())
}

/// Mentions, hashtags and media of several posts, in three queries.
pub async fn parts_of(db: &impl ConnectionTrait, post_ids: &[i64]) -> Result<HashMap<i64, Parts>, DbErr> {
    let mut out: HashMap<i64, Parts> = post_ids.iter().map(|id| (*id, Parts::default())).collect();
    if post_ids.is_empty() {
        return Ok(out);
    }
    let ids = post_ids.to_vec();
    for m in post_mentions::Entity::find()
        .filter(post_mentions::Column::PostId.is_in(ids.clone()))
        .order_by_asc(post_mentions::Column::Id)
        .all(db)
        .await?
    {
        out.entry(m.post_id).or_default().mentions.push(m);
    }
    for t in post_tags::Entity::find()
        .filter(post_tags::Column::PostId.is_in(ids.clone()))
        .order_by_asc(post_tags::Column::Id)
        .all(db)
        .await?
    {
        out.entry(t.post_id).or_default().tags.push(t);
    }
    for m in
        media::Entity::find().filter(media::Column::PostId.is_in(ids)).order_by_asc(media::Column::Id).all(db).await?
    {
        if let Some(post_id) = m.post_id {
            out.entry(post_id).or_default().media.push(m);
        }
    }
    Ok(out)
}

/// Published, not deleted posts of an actor with one of `visibilities`.
fn listed(actor_id: i64, visibilities: &[Visibility]) -> Condition {
    Condition::all()
        .add(posts::Column::ActorId.eq(actor_id))
        .add(posts::Column::PublishedAt.is_not_null())
        .add(posts::Column::DeletedAt.is_null())
        .add(posts::Column::Visibility.is_in(visibilities.iter().copied()))
}

/// How many posts [`page_of`] can list.
pub async fn count_listed(db: &impl ConnectionTrait, actor_id: i64, visibilities: &[Visibility]) -> Result<u64, DbErr> {
    posts::Entity::find().filter(listed(actor_id, visibilities)).count(db).await
}

/// A page of an actor's published posts, newest first.
pub async fn page_of(
    db: &impl ConnectionTrait,
    actor_id: i64,
    visibilities: &[Visibility],
    offset: u64,
    limit: u64,
) -> Result<Vec<posts::Model>, DbErr> {
    posts::Entity::find()
        .filter(listed(actor_id, visibilities))
        .order_by_desc(posts::Column::PublishedAt)
        .order_by_desc(posts::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}

/// The newest public, published, not deleted local posts with hashtag `tag` (lower-cased).
pub async fn tagged_public(db: &impl ConnectionTrait, tag: &str, limit: u64) -> Result<Vec<posts::Model>, DbErr> {
    let ids: Vec<i64> = post_tags::Entity::find()
        .select_only()
        .column(post_tags::Column::PostId)
        .filter(post_tags::Column::Name.eq(tag))
        .order_by_desc(post_tags::Column::PostId)
        .limit(1_000)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    posts::Entity::find()
        .filter(posts::Column::Id.is_in(ids))
        .filter(posts::Column::Local.eq(true))
        .filter(posts::Column::Visibility.eq(Visibility::Public))
        .filter(posts::Column::PublishedAt.is_not_null())
        .filter(posts::Column::DeletedAt.is_null())
        .order_by_desc(posts::Column::PublishedAt)
        .order_by_desc(posts::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Local posts that are out and not deleted (NodeInfo).
pub async fn count_local_published(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    posts::Entity::find()
        .filter(posts::Column::Local.eq(true))
        .filter(posts::Column::PublishedAt.is_not_null())
        .filter(posts::Column::DeletedAt.is_null())
        .count(db)
        .await
}

/// Scheduled posts whose time has come and that nobody released yet.
pub async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<i64>, DbErr> {
    posts::Entity::find()
        .select_only()
        .column(posts::Column::Id)
        .filter(posts::Column::ScheduledAt.lte(now))
        .filter(posts::Column::PublishedAt.is_null())
        .filter(posts::Column::DeletedAt.is_null())
        .order_by_asc(posts::Column::ScheduledAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Claims a due post for publication: a conditional UPDATE that only one process can win.
pub async fn claim_due(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let result = posts::Entity::update_many()
        .col_expr(posts::Column::PublishedAt, Expr::value(now))
        .col_expr(posts::Column::UpdatedAt, Expr::value(now))
        .filter(posts::Column::Id.eq(id))
        .filter(posts::Column::PublishedAt.is_null())
        .filter(posts::Column::DeletedAt.is_null())
        .filter(posts::Column::ScheduledAt.lte(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A media file by its name, with the post it belongs to.
pub async fn media_by_file(
    db: &impl ConnectionTrait,
    file_name: &str,
) -> Result<Option<(media::Model, Option<posts::Model>)>, DbErr> {
    let Some(row) = media::Entity::find().filter(media::Column::FileName.eq(file_name)).one(db).await? else {
        return Ok(None);
    };
    let post = match row.post_id {
        Some(id) => find(db, id).await?,
        None => None,
    };
    Ok(Some((row, post)))
}
