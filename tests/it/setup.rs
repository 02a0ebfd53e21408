//! First run: the setup link creates the owner and the first brand account. The link's token
//! is exchanged once for a short-lived session cookie, and the form works from the cookie.

use openhouse::services::setup;
use serde_json::Value;

use crate::support::TestApp;

fn form(username: &str, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("instance_name", "Acme Community".to_owned()),
        ("owner_email", "Owner@Acme.example".to_owned()),
        ("owner_password", password.to_owned()),
        ("brand_username", username.to_owned()),
        ("brand_display_name", "Acme".to_owned()),
    ]
}

/// Opens the setup link; the `name=value` of the session cookie it sets (after checking the
/// 303 to the token-less `/setup` and the cookie's attributes).
async fn open_link(app: &TestApp, token: &str) -> String {
    let res = app.get_html(&format!("/setup?token={token}")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/setup");
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    for wanted in ["HttpOnly", "SameSite=Lax", "Path=/setup", "Max-Age=1800"] {
        assert!(attributes.contains(&wanted), "{wanted} in {set_cookie}");
    }
    assert!(!attributes.contains(&"Secure"), "plain http test instance: {set_cookie}");
    let pair = attributes[0].to_owned();
    assert!(pair.starts_with("openhouse_setup=") && !pair.contains(token), "a new secret, not the token: {pair}");
    pair
}

async fn post_setup(app: &TestApp, cookie: Option<&str>, fields: &[(&'static str, String)]) -> reqwest::Response {
    let mut req = app.client.post(format!("{}/setup", app.base)).form(fields);
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

async fn get_setup(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.client.get(format!("{}/setup", app.base)).header("cookie", cookie).send().await.unwrap()
}

#[tokio::test]
async fn the_setup_link_creates_the_owner_and_a_discoverable_brand() {
    let app = TestApp::spawn().await;
    let token = setup::issue_token_if_needed(&app.state.db).await.unwrap().expect("no owner yet, so a token");
    let token = token.expose().to_owned();

    let cookie = open_link(&app, &token).await;
    let page = get_setup(&app, &cookie).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"owner_password\""), "{html}");
    assert!(html.contains(&format!("@{}", app.addr)), "the form shows the handle domain");
    assert!(!html.contains(&token) && !html.contains("name=\"token\""), "the form carries no token");

    let res = post_setup(&app, Some(&cookie), &form("acme", "a long enough password")).await;
    assert_eq!(res.status(), 201);
    let cleared = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.starts_with("openhouse_setup=;") && cleared.contains("Max-Age=0"), "{cleared}");
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

    // The link and the session are spent, and no new link is issued once an owner exists.
    let again = post_setup(&app, Some(&cookie), &form("other", "a long enough password")).await;
    assert_eq!(again.status(), 403);
    assert_eq!(get_setup(&app, &cookie).await.status(), 403);
    assert_eq!(app.get_html(&format!("/setup?token={token}")).await.status(), 403);
    assert!(setup::issue_token_if_needed(&app.state.db).await.unwrap().is_none());
}

#[tokio::test]
async fn the_link_works_once_and_a_copy_from_a_log_is_useless() {
    let app = TestApp::spawn().await;
    let token = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap().expose().to_owned();
    let cookie = open_link(&app, &token).await;
    // Someone replaying the logged URL without the cookie gets nothing.
    assert_eq!(app.get_html(&format!("/setup?token={token}")).await.status(), 403);
    assert_eq!(app.get_html("/setup").await.status(), 403);
    // The browser that opened it may reload the old URL: it is sent on to the form.
    let reload =
        app.client.get(format!("{}/setup?token={token}", app.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(reload.status(), 303);
    assert!(reload.headers().get("set-cookie").is_none());
    assert_eq!(get_setup(&app, &cookie).await.status(), 200);
    // A forged or stale cookie is refused, and a session cookie is not a link token.
    assert_eq!(get_setup(&app, "openhouse_setup=guess").await.status(), 403);
    let secret = cookie.trim_start_matches("openhouse_setup=");
    assert_eq!(app.get_html(&format!("/setup?token={secret}")).await.status(), 403);
    // A new link (a restart of `serve`) replaces the session when it is opened.
    let token2 = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap().expose().to_owned();
    let cookie2 = open_link(&app, &token2).await;
    assert_eq!(get_setup(&app, &cookie).await.status(), 403, "the older session is gone");
    assert_eq!(get_setup(&app, &cookie2).await.status(), 200);
}

#[tokio::test]
async fn an_expired_session_is_refused_and_says_how_to_get_a_new_link() {
    let app = TestApp::spawn().await;
    let token = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap().expose().to_owned();
    let cookie = open_link(&app, &token).await;
    // Age the session past its 30 minutes (the stored value is `EXPIRES:DIGEST`).
    let db = &app.state.db;
    let stored = openhouse::db::queries::settings::get(db, "setup_session").await.unwrap().unwrap();
    let (expires, digest) = stored.split_once(':').unwrap();
    let past = expires.parse::<i64>().unwrap() - 30 * 60 - 1;
    openhouse::db::queries::settings::set(db, "setup_session", &format!("{past}:{digest}")).await.unwrap();
    let res = get_setup(&app, &cookie).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Restart `openhouse serve`"));
    let res = post_setup(&app, Some(&cookie), &form("acme", "a long enough password")).await;
    assert_eq!(res.status(), 403);
    assert!(setup::is_pending(db).await.unwrap());
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_public_url_is_https() {
    let app = TestApp::spawn_with_env(
        crate::support::Options::default(),
        &[("OPENHOUSE_PUBLIC_URL", "https://community.acme.example")],
    )
    .await;
    let token = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap().expose().to_owned();
    let res = app.get_html(&format!("/setup?token={token}")).await;
    assert_eq!(res.status(), 303);
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(set_cookie.split(';').any(|a| a.trim() == "Secure"), "{set_cookie}");
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let _token = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap();
    assert_eq!(app.get_html("/setup").await.status(), 403);
    assert_eq!(app.get_html("/setup?token=guess").await.status(), 403);
    assert_eq!(post_setup(&app, None, &form("acme", "a long enough password")).await.status(), 403);
    // The old hidden field is no way in either.
    let mut with_field = form("acme", "a long enough password");
    with_field.push(("token", "guess".to_owned()));
    assert_eq!(post_setup(&app, None, &with_field).await.status(), 403);
    assert_eq!(post_setup(&app, Some("openhouse_setup=guess"), &with_field).await.status(), 403);
    assert!(setup::is_pending(&app.state.db).await.unwrap());
    assert_eq!(app.get_actor("acme").await.status(), 404);
}

#[tokio::test]
async fn invalid_setup_input_is_explained_and_nothing_is_half_created() {
    let app = TestApp::spawn().await;
    let token = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap().expose().to_owned();
    let cookie = open_link(&app, &token).await;
    let cases = [
        (form("Acme!", "a long enough password"), 400, "lower-case letters"),
        (form("acme", "short"), 400, "at least 10"),
        (form("127.0.0.1", "a long enough password"), 400, "may use only"),
    ];
    for (fields, status, message) in cases {
        let res = post_setup(&app, Some(&cookie), &fields).await;
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
    let res = post_setup(&app, Some(&cookie), &form("acme", "a long enough password")).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("already taken"));
    assert!(setup::is_pending(&app.state.db).await.unwrap(), "no owner without the brand");
    // The session still works after failures.
    let ok = post_setup(&app, Some(&cookie), &form("acme2", "a long enough password")).await;
    assert_eq!(ok.status(), 201);
}
