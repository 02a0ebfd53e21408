//! Every row an inbound activity could create or change, to assert that a refused request
//! changed nothing at all.

use openhouse::db::entities::{
    activities, actors, blocks, conversations, deliveries, follows, inbox_activities, posts, reactions, reports,
};
use sea_orm::{EntityTrait, PaginatorTrait};

use super::app::TestApp;

/// The rows of the tables activities can touch, and the counts of the rest.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Snapshot {
    pub inbox_rows: u64,
    pub actors: u64,
    pub rows: Vec<String>,
}

pub async fn snapshot(a: &TestApp) -> Snapshot {
    let db = &a.state.db;
    let mut rows = Vec::new();
    macro_rules! dump {
        ($($entity:ident),*) => {$(
            for row in $entity::Entity::find().all(db).await.unwrap() {
                rows.push(format!("{row:?}"));
            }
        )*};
    }
    dump!(posts, reactions, conversations, reports, blocks, follows, activities, deliveries);
    rows.sort();
    Snapshot {
        inbox_rows: inbox_activities::Entity::find().count(db).await.unwrap(),
        actors: actors::Entity::find().count(db).await.unwrap(),
        rows,
    }
}
