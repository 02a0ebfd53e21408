//! Likes and boosts through the API: checked, sent, and counted once on the other side.

use openhouse::{domain::ActorKind, services::tokens};
use serde_json::json;

use crate::support::TestApp;

use super::counts;

#[tokio::test]
async fn reactions_are_checked_and_counted_once() {
    let a = TestApp::spawn().await;
    let acme = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    a.create_actor("bob", ActorKind::Staff, "Bob").await;
    let (_, token) = tokens::create(&a.state.db, "t", None).await.unwrap();
    let (_, acme_only) = tokens::create(&a.state.db, "acme only", Some(&acme)).await.unwrap();
    let token = token.expose().to_owned();
    let (_, post) = a.api_publish(&token, json!({ "actor": "acme", "text": "Vote for the next feature" })).await;
    let url = post["url"].as_str().unwrap().to_owned();

    let (status, body) = a.api_react(&token, "bob", &url, "love").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = a.api_react(&token, "nobody", &url, "like").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = a.api_react(&token, "bob", "not a url", "like").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = a.api_react(&token, "bob", &format!("{}/users/acme/posts/999999", a.base), "like").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = a.api_react(acme_only.expose(), "bob", &url, "like").await;
    assert_eq!(status, 403, "a token for @acme cannot act as @bob: {body}");
    let response = a.client.post(format!("{}/api/v1/reactions", a.base)).bearer_auth(&token).body("{").send();
    assert_eq!(response.await.unwrap().status(), 400);

    // A staff member +1s the brand's post: counted once, withdrawn once.
    let (status, like) = a.api_react(&token, "bob", &url, "like").await;
    assert_eq!(status, 201, "{like}");
    assert_eq!(a.api_react(&token, "bob", &url, "like").await.0, 200);
    assert_eq!(counts(&a, &url).await, (1, 0));
    let withdraw = |token: String| {
        a.client.delete(format!("{}/api/v1/reactions/{}", a.base, like["id"])).bearer_auth(token).send()
    };
    assert_eq!(withdraw(acme_only.expose().to_owned()).await.unwrap().status(), 403);
    assert_eq!(withdraw(token.clone()).await.unwrap().status(), 200);
    assert_eq!(withdraw(token.clone()).await.unwrap().status(), 404, "withdrawn already");
    assert_eq!(counts(&a, &url).await, (0, 0));
    let response = a.client.delete(format!("{}/api/v1/reactions/abc", a.base)).bearer_auth(&token).send();
    assert_eq!(response.await.unwrap().status(), 404);
}
