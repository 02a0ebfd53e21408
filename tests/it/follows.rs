//! Follows between two Openhouse instances over real HTTP: B's staff member follows A's
//! brand; A accepts (signed Accept back to B); unfollowing removes the follower; locked
//! accounts hold requests for staff.

use openhouse::{
    db::queries,
    domain::ActorKind,
    federation::resolve,
    services::{follows, tokens},
};
use serde_json::Value;

use crate::support::{eventually, two_instances};

#[tokio::test]
async fn a_remote_follow_is_accepted_and_undone() {
    let (a, b) = two_instances().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let ada = b.create_actor("ada", ActorKind::Staff, "Ada").await;

    // B resolves A's brand by handle (WebFinger, then a signed fetch) and follows it.
    let target = format!("acme@{}", a.addr);
    let remote_brand = resolve::by_handle_or_url(&b.state.federation, &target).await.unwrap();
    assert_eq!(remote_brand.ap_id, a.actor_url("acme"));
    let row = follows::follow_remote(&b.state.db, &b.state.urls, &ada, &remote_brand).await.unwrap();
    assert_eq!(row.state, openhouse::db::entities::follows::FollowState::Pending);

    // A receives the Follow, accepts it, and B hears the Accept.
    let accepted = eventually(20, "B's follow accepted by A", || async {
        let row = queries::follows::find_pair(&b.state.db, ada.id, remote_brand.id).await.unwrap()?;
        (row.state == openhouse::db::entities::follows::FollowState::Accepted).then_some(row)
    })
    .await;
    assert!(accepted.accepted_at.is_some());
    let followers: Value = a.get_activity_json("/users/acme/followers").await.json().await.unwrap();
    assert_eq!(followers["totalItems"], 1);
    let page: Value = a.get_activity_json("/users/acme/followers?page=1").await.json().await.unwrap();
    assert_eq!(page["orderedItems"], serde_json::json!([b.actor_url("ada")]));
    let following: Value = b.get_activity_json("/users/ada/following").await.json().await.unwrap();
    assert_eq!(following["totalItems"], 1);

    // A's copy of B's actor came from a signed fetch and is cached.
    let cached = queries::actors::find_by_ap_id(&a.state.db, &b.actor_url("ada")).await.unwrap().unwrap();
    assert!(!cached.local);
    assert_eq!(cached.username, "ada");
    assert_eq!(cached.shared_inbox_url.as_deref(), Some(format!("{}/inbox", b.base).as_str()));

    // Undo: A forgets the follower.
    assert!(follows::unfollow_remote(&b.state.db, &ada, &remote_brand).await.unwrap());
    eventually(20, "A drops the follower after Undo", || async {
        (queries::follows::count_followers(&a.state.db, brand.id).await.unwrap() == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_locked_account_holds_requests_until_staff_decide() {
    let (a, b) = two_instances().await;
    let beta = a.create_actor_with("beta", ActorKind::Product, "Acme Beta", "", true, vec![]).await;
    let ada = b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let bob = b.create_actor("bob", ActorKind::Staff, "Bob").await;
    let remote_beta = resolve::by_handle_or_url(&b.state.federation, &a.actor_url("beta")).await.unwrap();
    follows::follow_remote(&b.state.db, &b.state.urls, &ada, &remote_beta).await.unwrap();
    follows::follow_remote(&b.state.db, &b.state.urls, &bob, &remote_beta).await.unwrap();

    eventually(20, "two requests waiting on A", || async {
        (follows::pending_for(&a.state.db, beta.id).await.unwrap().len() == 2).then_some(())
    })
    .await;
    assert_eq!(queries::follows::count_followers(&a.state.db, beta.id).await.unwrap(), 0);

    // Staff decide through the API (the CLI's `follow-requests` calls the same service).
    let (_, token) = tokens::create(&a.state.db, "community-team", None).await.unwrap();
    let token = token.expose().to_owned();
    let (_, listed) = a.api_get(&token, "/api/v1/follow-requests?actor=beta").await;
    let requests = listed["requests"].as_array().unwrap();
    let id_of = |name: &str| {
        requests.iter().find(|r| r["handle"].as_str().unwrap().starts_with(&format!("@{name}@"))).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (ada_request, bob_request) = (id_of("ada"), id_of("bob"));
    let decide = |id: i64, verb: &str| {
        a.client.post(format!("{}/api/v1/follow-requests/{id}/{verb}", a.base)).bearer_auth(&token).send()
    };
    assert_eq!(decide(ada_request, "approve").await.unwrap().status(), 200);
    assert_eq!(decide(bob_request, "reject").await.unwrap().status(), 200);

    eventually(20, "Ada accepted, Bob refused, on B", || async {
        let ada_row = queries::follows::find_pair(&b.state.db, ada.id, remote_beta.id).await.unwrap()?;
        let bob_row = queries::follows::find_pair(&b.state.db, bob.id, remote_beta.id).await.unwrap();
        (ada_row.state == openhouse::db::entities::follows::FollowState::Accepted && bob_row.is_none()).then_some(())
    })
    .await;
    assert_eq!(queries::follows::count_followers(&a.state.db, beta.id).await.unwrap(), 1);
    // Deciding twice is refused with a reason; no token, no decision.
    let again = decide(ada_request, "approve").await.unwrap();
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("not pending"));
    let anonymous =
        a.client.post(format!("{}/api/v1/follow-requests/{bob_request}/approve", a.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// D2 at the query: one inbox per accepted follower, the shared inbox when there is one, each
/// once, in a stable order; pending requests and other accounts' followers are not included.
#[tokio::test]
async fn follower_inboxes_are_distinct_shared_first_and_accepted_only() {
    let a = crate::support::TestApp::spawn().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let locked = a.create_actor_with("beta", ActorKind::Product, "Beta", "", true, vec![]).await;
    let remote = |n: u32, host: &str, shared: bool| queries::actors::RemoteActorRow {
        shared_inbox_url: shared.then(|| format!("https://{host}/inbox")),
        ..queries::actors::RemoteActorRow::person(&format!("https://{host}/users/u{n}"), &format!("u{n}"), host)
    };
    // Three on one server with a shared inbox, two on a server without one.
    let rows = [
        (1, "big.example", true),
        (2, "big.example", true),
        (3, "big.example", true),
        (4, "small.example", false),
        (5, "small.example", false),
    ];
    for (n, host, shared) in rows {
        let actor = queries::actors::upsert_remote(&a.state.db, remote(n, host, shared)).await.unwrap();
        follows::receive_follow(&a.state.db, &actor, &brand, &format!("https://{host}/follows/{n}")).await.unwrap();
        // Requests to the locked account stay pending: they must not count for it.
        follows::receive_follow(&a.state.db, &actor, &locked, &format!("https://{host}/follows/l{n}")).await.unwrap();
    }
    let inboxes = queries::follows::follower_inboxes(&a.state.db, brand.id).await.unwrap();
    assert_eq!(
        inboxes,
        ["https://big.example/inbox", "https://small.example/users/u4/inbox", "https://small.example/users/u5/inbox"]
    );
    assert!(queries::follows::follower_inboxes(&a.state.db, locked.id).await.unwrap().is_empty());
}

/// A fan-out's audience query reads the follows side from the `(followee_id, state,
/// follower_id)` index alone (migration 000007): with the old `(followee_id, state)` index it
/// read one scattered `follows` row per follower, three times slower at 100,000 followers.
/// Asked of both engines (PostgreSQL with sequential scans off, since the table is small).
#[tokio::test]
async fn follower_inboxes_read_the_follows_index_alone() {
    use sea_orm::{DbBackend, QueryTrait};

    let a = crate::support::TestApp::spawn().await;
    let db = &a.state.db;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    for n in 0..50 {
        let host = format!("h{}.example", n % 5);
        let row =
            queries::actors::RemoteActorRow::person(&format!("https://{host}/users/u{n}"), &format!("u{n}"), &host);
        let actor = queries::actors::upsert_remote(db, row).await.unwrap();
        follows::receive_follow(db, &actor, &brand, &format!("https://{host}/follows/{n}")).await.unwrap();
    }
    let backend = db.get_database_backend();
    let query = queries::follows::follower_inboxes_query(brand.id).build(backend);
    let plan = crate::support::query_plan(db, query, true).await;
    match backend {
        DbBackend::Sqlite => assert!(
            plan.contains("USING COVERING INDEX ix_follows_followee_state_follower"),
            "the follows side is not read from the index alone:\n{plan}"
        ),
        _ => assert!(
            plan.contains("Index Only Scan using ix_follows_followee_state_follower"),
            "the follows side is not read from the index alone:\n{plan}"
        ),
    }
    assert_eq!(queries::follows::follower_inboxes(db, brand.id).await.unwrap().len(), 50);
}
