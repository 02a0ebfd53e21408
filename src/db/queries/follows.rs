//! Reading and writing follow relations.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::db::entities::{
    actors,
    follows::{self, FollowState},
};

/// The relation between two actors, if any.
pub async fn find_pair(
    db: &impl ConnectionTrait,
    follower_id: i64,
    followee_id: i64,
) -> Result<Option<follows::Model>, DbErr> {
    follows::Entity::find()
        .filter(follows::Column::FollowerId.eq(follower_id))
        .filter(follows::Column::FolloweeId.eq(followee_id))
        .one(db)
        .await
}

/// A relation by the id of its `Follow` activity.
pub async fn find_by_follow_ap_id(
    db: &impl ConnectionTrait,
    follow_ap_id: &str,
) -> Result<Option<follows::Model>, DbErr> {
    follows::Entity::find().filter(follows::Column::FollowApId.eq(follow_ap_id)).one(db).await
}

/// A relation by row id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<follows::Model>, DbErr> {
    follows::Entity::find_by_id(id).one(db).await
}

/// Inserts a relation in `state`.
pub async fn insert(
    db: &impl ConnectionTrait,
    follower_id: i64,
    followee_id: i64,
    follow_ap_id: &str,
    state: FollowState,
    now: DateTime<Utc>,
) -> Result<follows::Model, DbErr> {
    follows::Entity::insert(follows::ActiveModel {
        follower_id: Set(follower_id),
        followee_id: Set(followee_id),
        state: Set(state),
        follow_ap_id: Set(follow_ap_id.to_owned()),
        created_at: Set(now),
        accepted_at: Set((state == FollowState::Accepted).then_some(now)),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// Marks a relation accepted (and records the latest `Follow` id).
pub async fn accept(
    db: &impl ConnectionTrait,
    row: follows::Model,
    follow_ap_id: &str,
    now: DateTime<Utc>,
) -> Result<follows::Model, DbErr> {
    let mut active: follows::ActiveModel = row.into();
    active.state = Set(FollowState::Accepted);
    active.follow_ap_id = Set(follow_ap_id.to_owned());
    active.accepted_at = Set(Some(now));
    active.update(db).await
}

/// Deletes a relation by id.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    follows::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// Accepted followers of an actor.
pub async fn count_followers(db: &impl ConnectionTrait, followee_id: i64) -> Result<u64, DbErr> {
    follows::Entity::find()
        .filter(follows::Column::FolloweeId.eq(followee_id))
        .filter(follows::Column::State.eq(FollowState::Accepted))
        .count(db)
        .await
}

/// Accounts an actor follows (accepted).
pub async fn count_following(db: &impl ConnectionTrait, follower_id: i64) -> Result<u64, DbErr> {
    follows::Entity::find()
        .filter(follows::Column::FollowerId.eq(follower_id))
        .filter(follows::Column::State.eq(FollowState::Accepted))
        .count(db)
        .await
}

/// A page of accepted followers, newest first, with their actors.
pub async fn followers_page(
    db: &impl ConnectionTrait,
    followee_id: i64,
    offset: u64,
    limit: u64,
) -> Result<Vec<actors::Model>, DbErr> {
    page(db, follows::Column::FolloweeId, followee_id, follows::Column::FollowerId, offset, limit).await
}

/// A page of accounts an actor follows (accepted), newest first.
pub async fn following_page(
    db: &impl ConnectionTrait,
    follower_id: i64,
    offset: u64,
    limit: u64,
) -> Result<Vec<actors::Model>, DbErr> {
    page(db, follows::Column::FollowerId, follower_id, follows::Column::FolloweeId, offset, limit).await
}

/// Accepted relations where `side` = `id`, newest first, as the actors on the `other` side.
async fn page(
    db: &impl ConnectionTrait,
    side: follows::Column,
    id: i64,
    other: follows::Column,
    offset: u64,
    limit: u64,
) -> Result<Vec<actors::Model>, DbErr> {
    let ids: Vec<i64> = follows::Entity::find()
        .select_only()
        .column(other)
        .filter(side.eq(id))
        .filter(follows::Column::State.eq(FollowState::Accepted))
        .order_by_desc(follows::Column::Id)
        .offset(offset)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    actors_in_order(db, ids).await
}

/// Pending requests to an actor, oldest first, with the requesting actors.
pub async fn pending_requests(
    db: &impl ConnectionTrait,
    followee_id: i64,
) -> Result<Vec<(follows::Model, actors::Model)>, DbErr> {
    let rows = follows::Entity::find()
        .filter(follows::Column::FolloweeId.eq(followee_id))
        .filter(follows::Column::State.eq(FollowState::Pending))
        .order_by_asc(follows::Column::Id)
        .limit(1000)
        .all(db)
        .await?;
    let actors = actors_in_order(db, rows.iter().map(|r| r.follower_id).collect()).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| actors.iter().find(|a| a.id == row.follower_id).cloned().map(|a| (row, a)))
        .collect())
}

async fn actors_in_order(db: &impl ConnectionTrait, ids: Vec<i64>) -> Result<Vec<actors::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = actors::Entity::find().filter(actors::Column::Id.is_in(ids.clone())).all(db).await?;
    found.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
    Ok(found)
}

/// One inbox per accepted follower of `followee_id`: the shared inbox when it has one (D2:
/// each inbox once), deduplicated.
pub async fn follower_inboxes(db: &impl ConnectionTrait, followee_id: i64) -> Result<Vec<String>, DbErr> {
    follower_inboxes_query(followee_id).into_tuple().all(db).await
}

/// The statement of [`follower_inboxes`]. The database picks and deduplicates: a brand with
/// 100,000 followers on 10,000 servers sends 10,000 rows over the wire, not 100,000 (B1's
/// enqueue time); and the `(followee_id, state, follower_id)` index answers the follows side
/// alone, without reading one `follows` row per follower (migration 000007).
pub fn follower_inboxes_query(followee_id: i64) -> sea_orm::Select<follows::Entity> {
    use sea_orm::{
        JoinType, QueryOrder, RelationTrait,
        sea_query::{Expr, ExprTrait, Func},
    };
    let target = || {
        Expr::from(Func::coalesce([
            Expr::col((actors::Entity, actors::Column::SharedInboxUrl)),
            Expr::col((actors::Entity, actors::Column::InboxUrl)),
        ]))
    };
    follows::Entity::find()
        .select_only()
        .column_as(target(), "inbox")
        .distinct()
        .join(JoinType::InnerJoin, follows::Relation::Follower.def())
        .filter(follows::Column::FolloweeId.eq(followee_id))
        .filter(follows::Column::State.eq(FollowState::Accepted))
        .filter(target().is_not_null())
        .order_by_asc(target())
}

/// Deletes the follows between `a` and `b`, both ways (a block ends them).
pub async fn delete_between(db: &impl ConnectionTrait, a: i64, b: i64) -> Result<(), DbErr> {
    let pair = |follower: i64, followee: i64| {
        sea_orm::Condition::all()
            .add(follows::Column::FollowerId.eq(follower))
            .add(follows::Column::FolloweeId.eq(followee))
    };
    follows::Entity::delete_many()
        .filter(sea_orm::Condition::any().add(pair(a, b)).add(pair(b, a)))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes every follow of or by `actor_id` (a deleted actor).
pub async fn delete_involving(db: &impl ConnectionTrait, actor_id: i64) -> Result<(), DbErr> {
    follows::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(follows::Column::FollowerId.eq(actor_id))
                .add(follows::Column::FolloweeId.eq(actor_id)),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// Local accounts that follow (or asked to follow) `actor_id`, by row id.
pub async fn local_followers_of(db: &impl ConnectionTrait, actor_id: i64) -> Result<Vec<actors::Model>, DbErr> {
    let ids: Vec<i64> = follows::Entity::find()
        .select_only()
        .column(follows::Column::FollowerId)
        .filter(follows::Column::FolloweeId.eq(actor_id))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    actors::Entity::find()
        .filter(actors::Column::Id.is_in(ids))
        .filter(actors::Column::Local.eq(true))
        .order_by_asc(actors::Column::Id)
        .all(db)
        .await
}
