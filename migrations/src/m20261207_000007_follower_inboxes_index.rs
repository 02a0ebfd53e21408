//! A fan-out reads the inboxes of a brand's accepted followers (`follower_inboxes`): the
//! follows of one followee in one state, joined to their followers. The index on
//! `(followee_id, state)` found those follows but not who follows, so the database read one
//! `follows` row per follower, scattered over the table. With `follower_id` in the index the
//! follows side is read from the index alone. Measured on a copy of B1's shape (100,000
//! followers on 10,000 hosts, SQLite, follows inserted in random order): 230 ms for the query
//! before, 79 ms after. The old index is a prefix of the new one and goes.

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "ix_follows_followee_state";
const NEW: &str = "ix_follows_followee_state_follower";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, NEW, Follows::Table, &[Follows::FolloweeId, Follows::State, Follows::FollowerId]).await?;
        manager.drop_index(Index::drop().name(OLD).table(Follows::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, OLD, Follows::Table, &[Follows::FolloweeId, Follows::State]).await?;
        manager.drop_index(Index::drop().name(NEW).table(Follows::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Follows {
    Table,
    FolloweeId,
    State,
    FollowerId,
}
