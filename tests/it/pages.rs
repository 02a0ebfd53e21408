//! The public pages: front page, profiles, and that everything from users is escaped.

use openhouse::domain::{ActorKind, ProfileField};

use crate::support::TestApp;

#[tokio::test]
async fn the_front_page_lists_the_accounts() {
    let app = TestApp::spawn().await;
    let empty = app.get_html("/").await.text().await.unwrap();
    assert!(empty.contains("No accounts yet"), "{empty}");

    app.create_actor("acme", ActorKind::Brand, "Acme").await;
    app.create_actor_with("beta", ActorKind::Product, "Acme Beta", "", true, vec![]).await;
    let res = app.get_html("/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<title>Openhouse</title>"));
    assert!(html.contains("href=\"/@acme\"") && html.contains("href=\"/@beta\""), "{html}");
    assert!(html.contains(&format!("@beta@{}", app.addr)));
    assert!(html.contains("Approval required"));
    assert!(!html.contains(&format!("@127.0.0.1@{}", app.addr)), "the instance actor is not listed");
}

#[tokio::test]
async fn everything_a_user_typed_is_escaped() {
    let app = TestApp::spawn().await;
    let fields = vec![
        ProfileField::parse("<b>x</b>=<img src=x onerror=alert(1)>").unwrap(),
        ProfileField::parse("Site=javascript:alert(1)").unwrap(),
    ];
    app.create_actor_with(
        "acme",
        ActorKind::Brand,
        "<script>alert(1)</script>",
        "<iframe src=x></iframe>\n\"quoted\"",
        false,
        fields,
    )
    .await;
    for path in ["/", "/@acme", "/users/acme"] {
        let html = app.get_html(path).await.text().await.unwrap();
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<iframe"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(!html.contains("href=\"javascript:"), "{path}");
        // askama escapes with numeric references, our own text helpers with named ones.
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}: {html}"
        );
    }
    let profile = app.get_html("/@acme").await.text().await.unwrap();
    assert!(profile.contains("&lt;iframe src=x&gt;&lt;/iframe&gt;<br>&quot;quoted&quot;"), "{profile}");
}

#[tokio::test]
async fn static_files_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let css = app.get("/static/site.css", "*/*").await;
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains(".profile"));
    assert_eq!(app.get("/static/../Cargo.toml", "*/*").await.status(), 404);
    assert_eq!(app.get("/static/nothing.js", "*/*").await.status(), 404);
}
