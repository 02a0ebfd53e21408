//! The thread page of an update: nested replies with their counts, remote HTML escaped,
//! long threads paged, and served again from cache until the thread changes.

use chrono::{Duration, Utc};
use openhouse::{
    db::{entities::posts, queries},
    domain::ActorKind,
    services::tokens,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::support::TestApp;

use super::{remote_actor, remote_reply};

#[tokio::test]
async fn the_thread_page_nests_counts_escapes_and_pages() {
    let a = TestApp::spawn().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let (_, token) = tokens::create(&a.state.db, "t", None).await.unwrap();
    let (_, root) = a.api_publish(token.expose(), json!({ "actor": "acme", "text": "Root" })).await;
    let root_url = root["url"].as_str().unwrap().to_owned();
    let root = queries::posts::find(&a.state.db, root["id"].as_i64().unwrap()).await.unwrap().unwrap();
    let eve = remote_actor(&a.state.db, "evil.example", "eve", "<script>alert(1)</script> Eve").await;
    let first = remote_reply(&a.state.db, &eve, &root, "<p>first</p>", None).await;
    let nested = remote_reply(&a.state.db, &eve, &first, "<p>nested</p>", None).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::Summary, sea_orm::sea_query::Expr::value("<img src=x onerror=alert(2)>"))
        .col_expr(
            posts::Column::Attachments,
            sea_orm::sea_query::Expr::value(
                json!([{ "url": "https://evil.example/cat.png", "media_type": "image/png", "name": "a <cat>" },
                       { "url": "javascript:alert(3)", "media_type": "image/png", "name": "x" }])
                .to_string(),
            ),
        )
        .col_expr(posts::Column::LikesCount, sea_orm::sea_query::Expr::value(3))
        .filter(posts::Column::Id.eq(nested.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    posts::Entity::update_many()
        .col_expr(posts::Column::LikesCount, sea_orm::sea_query::Expr::value(2))
        .col_expr(posts::Column::AnnouncesCount, sea_orm::sea_query::Expr::value(1))
        .filter(posts::Column::Id.eq(root.id))
        .exec(&a.state.db)
        .await
        .unwrap();

    let path = root_url.strip_prefix(&a.base).unwrap().to_owned();
    let response = a.get_html(&path).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<span class="count likes" data-count="2">2 likes</span>"#), "{html}");
    assert!(html.contains(r#"<span class="count boosts" data-count="1">1 boost</span>"#));
    assert!(html.contains(r#"<span class="count likes" data-count="3">3 likes</span>"#));
    assert!(!html.contains("<script>alert(1)"), "display names are escaped");
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62; Eve"), "{html}");
    assert!(!html.contains("<img src=x"), "content warnings are escaped");
    assert!(html.contains(r#"href="https://evil.example/@eve""#), "handles link to their home server");
    assert!(html.contains("@eve@evil.example"));
    assert!(html.contains(
        r#"<a href="https://evil.example/cat.png" rel="nofollow noopener noreferrer ugc">Attached: a &#60;cat&#62;</a>"#
    ));
    assert!(!html.contains("src=\"https://evil.example"), "remote media is never embedded");
    assert!(!html.contains("javascript:alert(3)"));
    let at_first = html.find(&format!("data-ap-id=\"{}\"", first.ap_id)).unwrap();
    let at_nested = html.find(&format!("data-ap-id=\"{}\"", nested.ap_id)).unwrap();
    assert!(html[at_first..at_nested].contains("<ol class=\"replies\">"));
    assert_eq!(html.matches("<ol").count(), html.matches("</ol>").count(), "balanced lists");
    let items = html.matches("<li>").count() + html.matches("<li ").count();
    assert_eq!(items, html.matches("</li>").count(), "balanced items");

    // Past a page of direct replies, the page links to the next one.
    for i in 0..150 {
        remote_reply(&a.state.db, &eve, &root, &format!("<p>reply number {i}</p>"), None).await;
    }
    let html = a.get_html(&path).await.text().await.unwrap();
    assert!(html.contains("151 replies"));
    assert!(html.contains(&format!("href=\"{root_url}?page=2#replies\"")));
    assert!(html.contains("reply number 98<"));
    assert!(!html.contains("reply number 99<"));
    let html = a.get_html(&format!("{path}?page=2")).await.text().await.unwrap();
    assert!(html.contains("reply number 99<") && html.contains("reply number 149<"));
    assert!(!html.contains("reply number 98<"));
    assert!(html.contains(&format!("href=\"{root_url}?page=1#replies\"")));
    assert!(!html.contains("?page=3"));
}

#[tokio::test]
async fn the_thread_page_is_served_again_until_its_thread_changes() {
    let a = TestApp::spawn().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let (_, token) = tokens::create(&a.state.db, "t", None).await.unwrap();
    let (_, root) = a.api_publish(token.expose(), json!({ "actor": "acme", "text": "Root" })).await;
    let root_url = root["url"].as_str().unwrap().to_owned();
    let path = root_url.strip_prefix(&a.base).unwrap().to_owned();
    let root = queries::posts::find(&a.state.db, root["id"].as_i64().unwrap()).await.unwrap().unwrap();
    let eve = remote_actor(&a.state.db, "remote.example", "eve", "Eve").await;
    let first = remote_reply(&a.state.db, &eve, &root, "<p>first</p>", None).await;

    // The page and its validator; the browser's copy is confirmed with a 304 and no body.
    let page = |inm: Option<String>| {
        let mut request = a.client.get(&root_url).header("accept", "text/html");
        if let Some(tag) = inm {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let response = page(None).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(response.text().await.unwrap().contains("<p>first</p>"));
    let response = page(Some(etag.clone())).await.unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(response.text().await.unwrap().is_empty());
    assert_eq!(page(Some(format!("W/\"other\", {etag}"))).await.unwrap().status(), 304, "a list of tags");
    let again = a.get_html(&path).await;
    assert_eq!(again.headers()["etag"], etag.as_str(), "unchanged thread, same page");

    // Every change the page shows gives a new page: a new reply, an edit, a like, a delete.
    let mut seen = vec![etag];
    let mut expect_change = async |what: &str, shows: &str, hides: Option<&str>| {
        let response = page(seen.last().cloned()).await.unwrap();
        assert_eq!(response.status(), 200, "{what}: the page changed");
        let tag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert!(!seen.contains(&tag), "{what}: a new validator");
        let html = response.text().await.unwrap();
        assert!(html.contains(shows), "{what}: {html}");
        if let Some(gone) = hides {
            assert!(!html.contains(gone), "{what}: {html}");
        }
        seen.push(tag);
    };
    let second = remote_reply(&a.state.db, &eve, &first, "<p>second</p>", None).await;
    expect_change("a nested reply", "<p>second</p>", None).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::ContentHtml, sea_orm::sea_query::Expr::value("<p>second, edited</p>"))
        .col_expr(posts::Column::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now() + Duration::seconds(1)))
        .filter(posts::Column::Id.eq(second.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    expect_change("an edit", "<p>second, edited</p>", Some("<p>second</p>")).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::LikesCount, sea_orm::sea_query::Expr::value(4))
        .filter(posts::Column::Id.eq(first.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    expect_change("a like on a reply", r#"data-count="4">4 likes"#, None).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::ContentHtml, sea_orm::sea_query::Expr::value(""))
        .col_expr(posts::Column::DeletedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(posts::Column::Id.eq(second.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    expect_change("a delete", "<p>first</p>", Some("second, edited")).await;

    // A deleted update is gone at once, cached page or not.
    let response = a.client.delete(format!("{}/api/v1/posts/{}", a.base, root.id)).bearer_auth(token.expose());
    assert_eq!(response.send().await.unwrap().status(), 200);
    assert_eq!(a.get_html(&path).await.status(), 410);
}
