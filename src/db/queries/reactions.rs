//! Likes and announces (`reactions`) and the counters on `posts` that mirror them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use crate::db::entities::{
    posts,
    reactions::{self, Reaction},
};

/// The `posts` column that counts reactions of this kind.
fn counter(reaction: Reaction) -> posts::Column {
    match reaction {
        Reaction::Like => posts::Column::LikesCount,
        Reaction::Announce => posts::Column::AnnouncesCount,
    }
}

/// The reaction with row id `id`.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<reactions::Model>, DbErr> {
    reactions::Entity::find_by_id(id).one(db).await
}

/// A stored reaction that is either `actor_id`'s `reaction` of `post_id` or the activity
/// `ap_id`: what a repeated `Like`/`Announce` finds.
pub async fn find_same(
    db: &impl ConnectionTrait,
    post_id: i64,
    actor_id: i64,
    reaction: Reaction,
    ap_id: &str,
) -> Result<Option<reactions::Model>, DbErr> {
    reactions::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(reactions::Column::PostId.eq(post_id))
                        .add(reactions::Column::ActorId.eq(actor_id))
                        .add(reactions::Column::Kind.eq(reaction)),
                )
                .add(reactions::Column::ApId.eq(ap_id)),
        )
        .one(db)
        .await
}

/// How an `Undo` names the reaction it withdraws, once resolved to our rows.
#[derive(Clone, Copy, Debug)]
pub enum Named<'a> {
    /// By the `Like`/`Announce` activity id.
    Activity(&'a str),
    /// By the post it was about (row id).
    Post(i64),
}

/// `actor_id`'s reaction of kind `reaction` that `which` names.
pub async fn find_of_actor(
    db: &impl ConnectionTrait,
    actor_id: i64,
    reaction: Reaction,
    which: Named<'_>,
) -> Result<Option<reactions::Model>, DbErr> {
    let query = reactions::Entity::find()
        .filter(reactions::Column::ActorId.eq(actor_id))
        .filter(reactions::Column::Kind.eq(reaction));
    let query = match which {
        Named::Activity(ap_id) => query.filter(reactions::Column::ApId.eq(ap_id)),
        Named::Post(post_id) => query.filter(reactions::Column::PostId.eq(post_id)),
    };
    query.one(db).await
}

/// Every reaction `actor_id` gave.
pub async fn given_by(db: &impl ConnectionTrait, actor_id: i64) -> Result<Vec<reactions::Model>, DbErr> {
    reactions::Entity::find().filter(reactions::Column::ActorId.eq(actor_id)).all(db).await
}

/// Inserts a reaction row (the counter is the caller's, see [`bump`]).
pub async fn insert(
    db: &impl ConnectionTrait,
    post_id: i64,
    actor_id: i64,
    reaction: Reaction,
    ap_id: &str,
    now: DateTime<Utc>,
) -> Result<reactions::Model, DbErr> {
    reactions::Entity::insert(reactions::ActiveModel {
        post_id: Set(post_id),
        actor_id: Set(actor_id),
        kind: Set(reaction),
        ap_id: Set(ap_id.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// Deletes reaction `id`; `false` when it was gone already.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(reactions::Entity::delete_by_id(id).exec(db).await?.rows_affected > 0)
}

/// Deletes the reactions of the posts `post_ids` (their counters are the caller's).
pub async fn delete_of_posts(db: &impl ConnectionTrait, post_ids: &[i64]) -> Result<(), DbErr> {
    reactions::Entity::delete_many()
        .filter(reactions::Column::PostId.is_in(post_ids.to_vec()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Moves a post's like or announce counter by `by`.
pub async fn bump(db: &impl ConnectionTrait, post_id: i64, reaction: Reaction, by: i32) -> Result<(), DbErr> {
    let column = counter(reaction);
    posts::Entity::update_many()
        .col_expr(column, Expr::col(column).add(by))
        .filter(posts::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(|_| ())
}
