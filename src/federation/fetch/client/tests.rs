//! The client's checks before and at connection time, its time limit over redirects, and
//! its connection pool, against local servers.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::net::SocketAddr;

use super::*;

#[test]
fn urls_are_checked_before_connecting() {
    let client = SafeClient::new(AllowList::parse("127.0.0.3:8083").unwrap(), "test").unwrap();
    let ok = |u: &str| client.check_url(&Url::parse(u).unwrap()).is_ok();
    assert!(ok("https://mastodon.example/users/a"));
    assert!(ok("http://127.0.0.3:8083/users/a"));
    assert!(!ok("http://mastodon.example/users/a"), "plain http to the world");
    assert!(!ok("https://127.0.0.1/x"));
    assert!(!ok("https://[::ffff:127.0.0.1]/x"));
    assert!(!ok("https://0.0.0.0/x"));
    assert!(!ok("https://169.254.169.254/latest"));
    assert!(!ok("http://127.0.0.3:8084/x"));
    assert!(!ok("ftp://mastodon.example/x"));
    assert!(!ok("https://user:pw@mastodon.example/x"));
}

#[tokio::test]
async fn a_spent_budget_makes_no_request() {
    let client = SafeClient::new(AllowList::default(), "test").unwrap();
    let mut budget = FetchBudget::of(0);
    let url = Url::parse("https://127.0.0.1/never").unwrap();
    let result = client.get_activity_json_budgeted(&url, None, &mut budget).await;
    assert!(matches!(result, Err(FetchError::BudgetSpent(_))), "{result:?}");
}

#[tokio::test]
async fn host_names_resolving_to_listed_addresses_must_also_match_the_port() {
    // localhost may resolve to both loopback addresses; both are listed for port 9.
    let client = SafeClient::new(AllowList::parse("127.0.0.1:9,[::1]:9").unwrap(), "test").unwrap();
    let wrong_port = client.get_json(&Url::parse("https://localhost:1/x").unwrap(), "*/*", 0).await;
    assert!(matches!(wrong_port, Err(FetchError::Refused(_))), "{wrong_port:?}");
    // The listed port passes the checks and then fails to connect (nothing listens there).
    let listed = client.get_json(&Url::parse("https://localhost:9/x").unwrap(), "*/*", 0).await;
    assert!(matches!(listed, Err(FetchError::Unreachable { .. })), "{listed:?}");
    // Without an entry, loopback is refused at connect time by the resolver.
    let strict = SafeClient::new(AllowList::default(), "test").unwrap();
    let refused = strict.get_json(&Url::parse("https://localhost:9/x").unwrap(), "*/*", 0).await;
    let reason = format!("{refused:?}");
    assert!(reason.contains("may not be fetched"), "{reason}");
}

/// F4: 10 s is the deadline for the whole fetch, redirects included, not for each hop: two
/// hops of 6 s each are given up on at 10 s.
#[tokio::test]
async fn the_ten_second_limit_covers_every_redirect_hop_together() {
    use axum::{Router, response::IntoResponse, routing::get};

    let slow = |response: axum::response::Response| async move {
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        response
    };
    let app = Router::new()
        .route("/first", get(move || slow((StatusCode::FOUND, [(LOCATION, "/second")]).into_response())))
        .route("/second", get(move || slow(([(CONTENT_TYPE, "application/json")], "{}").into_response())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = SafeClient::new(AllowList::parse(&addr.to_string()).unwrap(), "test").unwrap();
    let started = std::time::Instant::now();
    let result = client.get_json(&Url::parse(&format!("http://{addr}/first")).unwrap(), "*/*", 1).await;
    assert!(matches!(&result, Err(FetchError::Unreachable { reason, .. }) if reason == "timed out"), "{result:?}");
    let took = started.elapsed();
    assert!(took < REQUEST_TIMEOUT + std::time::Duration::from_secs(1), "gave up after {took:?}");
}

/// A burst of concurrent fetches from one host (first contacts from many of its users)
/// keeps its connections: the next burst reuses them instead of connecting again.
#[tokio::test]
async fn concurrent_fetches_to_one_host_keep_their_connections_for_the_next_burst() {
    use std::{collections::HashSet, sync::Mutex};

    use axum::{Router, extract::ConnectInfo, routing::get};

    const BURST: usize = 16;
    let peers: Arc<Mutex<HashSet<SocketAddr>>> = Arc::default();
    let seen = peers.clone();
    let handler = move |ConnectInfo(peer): ConnectInfo<SocketAddr>| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().insert(peer);
            // Long enough for every request of a burst to be in flight at once.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            ([(CONTENT_TYPE, "application/json")], "{}")
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/doc", get(handler)).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = SafeClient::new(AllowList::parse(&addr.to_string()).unwrap(), "test").unwrap();
    let url = Url::parse(&format!("http://{addr}/doc")).unwrap();
    for burst in 1..=2 {
        let mut fetches = tokio::task::JoinSet::new();
        for _ in 0..BURST {
            let (client, url) = (client.clone(), url.clone());
            fetches.spawn(async move { client.get_json(&url, "application/json", 0).await.map(|_| ()) });
        }
        while let Some(result) = fetches.join_next().await {
            assert!(matches!(result, Ok(Ok(()))), "burst {burst}: {result:?}");
        }
        assert_eq!(peers.lock().unwrap().len(), BURST, "connections opened after burst {burst}");
        // Let the last responses hand their connections back to the pool.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
