//! Two indexes on `posts` serve queries about a few rows only: scheduled posts not yet
//! released, and orphans whose parent is to be fetched. Every other row (every reply that
//! arrives threaded, every published update) was still written into both, and each of
//! those writes holds SQLite's one write lock: storing a reply wrote eight index entries in
//! `posts`, where six do now. They become partial indexes over the rows their queries ask
//! for (`scheduled_at IS NOT NULL`, `parent_fetch_after IS NOT NULL`), named `…_due`;
//! the queries' own conditions (`scheduled_at <= ?`, `parent_fetch_after <= ?`) imply those,
//! so both engines still use them (`tests/it/threads.rs` checks the plans).

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The indexes replaced, and their partial successors. The new ones get new names and are
/// created before the old ones are dropped (as in 000005): a drop and a create under one
/// name failed now and then on SQLite ("already exists"), the create apparently running on
/// a pooled connection that had not yet seen the drop.
const SCHEDULED: (&str, &str) = ("ix_posts_scheduled", "ix_posts_scheduled_due");
const PARENT_FETCH: (&str, &str) = ("ix_posts_parent_fetch", "ix_posts_parent_fetch_due");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        partial(
            manager,
            SCHEDULED.1,
            &[Posts::ScheduledAt, Posts::PublishedAt],
            Expr::col(Posts::ScheduledAt).is_not_null(),
        )
        .await?;
        partial(manager, PARENT_FETCH.1, &[Posts::ParentFetchAfter], Expr::col(Posts::ParentFetchAfter).is_not_null())
            .await?;
        for (old, _) in [SCHEDULED, PARENT_FETCH] {
            manager.drop_index(Index::drop().name(old).table(Posts::Table).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, SCHEDULED.0, Posts::Table, &[Posts::ScheduledAt, Posts::PublishedAt]).await?;
        index(manager, PARENT_FETCH.0, Posts::Table, &[Posts::ParentFetchAfter]).await?;
        for (_, new) in [SCHEDULED, PARENT_FETCH] {
            manager.drop_index(Index::drop().name(new).table(Posts::Table).to_owned()).await?;
        }
        Ok(())
    }
}

/// An index on `columns` of `posts` over the rows where `condition` holds.
async fn partial(
    manager: &SchemaManager<'_>,
    name: &str,
    columns: &[Posts],
    condition: SimpleExpr,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(Posts::Table);
    for c in columns {
        stmt.col(*c);
    }
    stmt.and_where(condition);
    manager.create_index(stmt.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    ScheduledAt,
    PublishedAt,
    ParentFetchAfter,
}
