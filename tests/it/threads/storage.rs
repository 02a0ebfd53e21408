//! How threads and actors are stored: the partial indexes serve their queries, orphan
//! lookups use the `inReplyTo` index, the actor upsert never touches our accounts, and
//! concurrent actor stores share a batch.

use chrono::Utc;
use openhouse::{
    db::{
        entities::{actors, posts},
        queries,
    },
    domain::ActorKind,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::support::TestApp;

use super::remote_actor;

/// The partial indexes of migration 000006 (rows that are scheduled, or waiting for a parent
/// fetch) still serve the queries they were made for, on both engines: each query's own
/// conditions imply the index's. The statements have the conditions of
/// `queries::posts::due` and of the parent-fetch claim in `services::conversations`.
#[tokio::test]
async fn partial_post_indexes_serve_their_queries() {
    use sea_orm::{QueryOrder, QuerySelect, QueryTrait};

    let app = TestApp::spawn_with(crate::support::Options { no_workers: true, ..Default::default() }).await;
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let now = Utc::now();
    let queries = [
        (
            "ix_posts_scheduled_due",
            posts::Entity::find()
                .filter(posts::Column::ScheduledAt.lte(now))
                .filter(posts::Column::PublishedAt.is_null())
                .order_by_asc(posts::Column::ScheduledAt)
                .limit(10)
                .build(backend),
        ),
        (
            "ix_posts_parent_fetch_due",
            posts::Entity::find()
                .filter(posts::Column::ParentFetchAfter.lte(now))
                .order_by_asc(posts::Column::ParentFetchAfter)
                .limit(10)
                .build(backend),
        ),
    ];
    for (index, query) in queries {
        let plan = crate::support::query_plan(db, query, true).await;
        assert!(plan.contains(index), "{index} does not serve its query:\n{plan}");
    }
}

/// Finding the orphans a batch of notes may answer (`queries::posts::answering`) searches
/// the `inReplyTo` index, whatever the number of top-level posts: with `in_reply_to_post_id
/// IS NULL` in the statement, SQLite (which plans without statistics) searched
/// `ix_posts_parent` for the NULLs instead, reading every top-level post once per batch of
/// replies, and so did PostgreSQL without statistics. PostgreSQL is asked both without
/// statistics and with those of 3,000 top-level posts.
#[tokio::test]
async fn orphan_lookups_search_the_in_reply_to_index() {
    use sea_orm::{DbBackend, QuerySelect, QueryTrait};

    let app = TestApp::spawn_with(crate::support::Options { no_workers: true, ..Default::default() }).await;
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let ids = ["https://r.example/notes/1", "https://r.example/notes/2", "https://r.example/notes/3"];
    let assert_plans = |forbid_scans: bool| async move {
        let queries = [
            // What a batch prefetches: the answers to its notes.
            queries::posts::answering(ids)
                .select_only()
                .column(posts::Column::InReplyToApId)
                .column(posts::Column::InReplyToPostId)
                .build(backend),
            // What storing one note re-links: the answers to it.
            queries::posts::answering([ids[0]]).filter(posts::Column::Id.ne(1)).build(backend),
        ];
        for query in queries {
            let plan = crate::support::query_plan(db, query, forbid_scans).await;
            assert!(plan.contains("ix_posts_in_reply_to_ap_id"), "the inReplyTo index does not serve:\n{plan}");
            assert!(!plan.contains("ix_posts_parent"), "top-level posts are searched:\n{plan}");
        }
    };
    // Without statistics (PostgreSQL would scan a table this small: forbid that).
    assert_plans(true).await;
    if backend == DbBackend::Sqlite {
        return;
    }
    // With the statistics of 3,000 top-level posts.
    let author = remote_actor(db, "r.example", "ada", "Ada").await;
    let now = Utc::now();
    for chunk in (0..3_000).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| posts::ActiveModel {
            ap_id: Set(format!("https://r.example/notes/top-{n}")),
            actor_id: Set(author.id),
            local: Set(false),
            content_source: Set(String::new()),
            content_html: Set(String::new()),
            sensitive: Set(false),
            visibility: Set(openhouse::domain::Visibility::Public),
            published_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        posts::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    }
    db.execute_unprepared("ANALYZE posts").await.unwrap();
    assert_plans(false).await;
}

/// Storing a fetched actor is one upsert (`queries::actors::upsert_remote`): it refreshes a
/// remote row in place, keeps its id and `published`, records `alsoKnownAs` and `movedTo`,
/// and never overwrites one of our accounts, whatever a remote document claims.
#[tokio::test]
async fn the_actor_upsert_refreshes_remote_rows_and_never_touches_ours() {
    let app = TestApp::spawn_with(crate::support::Options { no_workers: true, ..Default::default() }).await;
    let db = &app.state.db;
    let first = remote_actor(db, "r.example", "ada", "Ada").await;
    let mut row = queries::actors::RemoteActorRow {
        display_name: "Ada L.".into(),
        public_key_pem: "rotated".into(),
        public_key_id: format!("{}#key-2", first.ap_id),
        manually_approves_followers: true,
        discoverable: false,
        also_known_as_json: Some(r#"["https://old.example/users/ada"]"#.into()),
        moved_to: Some("https://new.example/users/ada".into()),
        ..queries::actors::RemoteActorRow::person(&first.ap_id, "ada", "r.example")
    };
    let second = queries::actors::upsert_remote(db, row.clone()).await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.published, first.published);
    assert_eq!(second.display_name, "Ada L.");
    assert_eq!(second.public_key_id, row.public_key_id);
    assert!(second.manually_approves_followers);
    assert_eq!(second.also_known_as, row.also_known_as_json);
    assert_eq!(second.moved_to_ap_id, row.moved_to);

    let ours = app.create_actor("acme", ActorKind::Brand, "Acme").await;
    row.ap_id = ours.ap_id.clone();
    row.public_key_id = format!("{}#main-key-evil", ours.ap_id);
    let refused = queries::actors::upsert_remote(db, row).await;
    assert!(refused.is_err(), "a local actor was overwritten: {refused:?}");
    let after = actors::Entity::find_by_id(ours.id).one(db).await.unwrap().unwrap();
    assert_eq!(after.public_key_id, ours.public_key_id);
    assert_eq!(after.display_name, ours.display_name);
    assert!(after.local);
}

/// Concurrent first contacts store their actors together (`federation::actor_writer`): each
/// caller gets its own row, and one refused row (an id of one of our accounts) fails alone.
#[tokio::test]
async fn concurrent_actor_stores_share_a_batch_and_fail_alone() {
    let app = TestApp::spawn_with(crate::support::Options { no_workers: true, ..Default::default() }).await;
    let ours = app.create_actor("acme", ActorKind::Brand, "Acme").await;
    let writer = app.state.federation.actor_writer.clone();
    let row = |ap_id: String| queries::actors::RemoteActorRow {
        display_name: ap_id.clone(),
        ..queries::actors::RemoteActorRow::person(&ap_id, ap_id.rsplit('/').next().unwrap_or_default(), "r.example")
    };
    let mut ids: Vec<String> = (0..20).map(|n| format!("https://r.example/users/u{n}")).collect();
    ids.insert(7, ours.ap_id.clone());
    let mut stores = tokio::task::JoinSet::new();
    for id in &ids {
        let (writer, id, row) = (writer.clone(), id.clone(), row(id.clone()));
        stores.spawn(async move { (id, writer.upsert(row).await) });
    }
    let mut answered = 0;
    while let Some(joined) = stores.join_next().await {
        let (id, result) = joined.unwrap();
        answered += 1;
        if id == ours.ap_id {
            assert!(result.is_err(), "our own account was overwritten");
        } else {
            let stored = result.unwrap();
            assert_eq!(stored.ap_id, id);
            assert_eq!(stored.display_name, id);
        }
    }
    assert_eq!(answered, ids.len());
    let after = actors::Entity::find_by_id(ours.id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(after.display_name, ours.display_name);
    assert!(after.local);
}
