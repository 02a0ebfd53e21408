//! First run: the setup link creates the owner and the first brand account.

use openhouse::services::setup;
use serde_json::Value;

use crate::helpers::TestApp;

fn form(token: &str, username: &str, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("token", token.to_owned()),
        ("instance_name", "Acme Community".to_owned()),
        ("owner_email", "Owner@Acme.example".to_owned()),
        ("owner_password", password.to_owned()),
        ("brand_username", username.to_owned()),
        ("brand_display_name", "Acme".to_owned()),
    ]
}

#[tokio::test]
async fn the_setup_link_creates_the_owner_and_a_discoverable_brand() {
    let app = TestApp::spawn().await;
    let token = setup::issue_token_if_needed(&app.state.db).await.unwrap().expect("no owner yet, so a token");
    let token = token.expose().to_owned();

    let page = app.get_html(&format!("/setup?token={token}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"owner_password\""), "{html}");
    assert!(html.contains(&format!("@{}", app.addr)), "the form shows the handle domain");

    let res = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&form(&token, "acme", "a long enough password"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let done = res.text().await.unwrap();
    assert!(done.contains("Acme Community is ready"), "{done}");
    assert!(done.contains(&format!("@acme@{}", app.addr)));

    // The brand is discoverable at once, the instance has its name, and the owner can sign in.
    let jrd = app.get(&format!("/.well-known/webfinger?resource=acct:acme@{}", app.addr), "*/*").await;
    assert_eq!(jrd.status(), 200);
    let info: Value = app.get("/nodeinfo/2.1", "*/*").await.json().await.unwrap();
    assert_eq!(info["metadata"]["nodeName"], "Acme Community");
    let password = openhouse::secrets::Secret::new("a long enough password");
    let user = openhouse::services::staff::authenticate(&app.state.db, "owner@acme.example", &password).await.unwrap();
    assert_eq!(user.map(|u| u.role), Some("owner".to_owned()));
    let wrong = openhouse::secrets::Secret::new("not the password");
    assert!(
        openhouse::services::staff::authenticate(&app.state.db, "owner@acme.example", &wrong).await.unwrap().is_none()
    );

    // The link is spent, and no new one is issued once an owner exists.
    let again = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&form(&token, "other", "a long enough password"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403);
    assert_eq!(app.get_html(&format!("/setup?token={token}")).await.status(), 403);
    assert!(setup::issue_token_if_needed(&app.state.db).await.unwrap().is_none());
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let _token = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap();
    assert_eq!(app.get_html("/setup").await.status(), 403);
    assert_eq!(app.get_html("/setup?token=guess").await.status(), 403);
    let res = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&form("guess", "acme", "a long enough password"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(setup::is_pending(&app.state.db).await.unwrap());
    assert_eq!(app.get_activity_json("/users/acme").await.status(), 404);
}

#[tokio::test]
async fn invalid_setup_input_is_explained_and_nothing_is_half_created() {
    let app = TestApp::spawn().await;
    let token = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap().expose().to_owned();
    let cases = [
        (form(&token, "Acme!", "a long enough password"), 400, "lower-case letters"),
        (form(&token, "acme", "short"), 400, "at least 10"),
        (form(&token, "127.0.0.1", "a long enough password"), 400, "may use only"),
    ];
    for (fields, status, message) in cases {
        let res = app.client.post(format!("{}/setup", app.base)).form(&fields).send().await.unwrap();
        assert_eq!(res.status(), status, "{message}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{message}: {html}");
        assert!(
            html.contains("value=\"owner@acme.example\"") || html.contains("value=\"Owner@Acme.example\""),
            "the form keeps what was typed"
        );
        assert!(!html.contains("a long enough password"), "passwords are never echoed");
    }
    // A taken username is a conflict, and the owner is not created without the brand.
    app.create_actor("acme", openhouse::domain::ActorKind::Brand, "Acme").await;
    let res = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&form(&token, "acme", "a long enough password"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("already taken"));
    assert!(setup::is_pending(&app.state.db).await.unwrap(), "no owner without the brand");
    // The token still works after failures.
    let ok = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&form(&token, "acme2", "a long enough password"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
}
