//! Images through the API: `POST /api/v1/posts` as `multipart/form-data`, each `image` with
//! the `alt` in the same position, and every way a form can be wrong refused with nothing kept.

use openhouse::{
    db::entities::{media, posts},
    domain::ActorKind,
    services::tokens,
};
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::support::TestApp;

const PNG: &[u8] = include_bytes!("../../frontend/static/avatar.png");
/// The smallest GIF: a different type than the PNG, so the order of attachments is visible.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

async fn app_with_token() -> (TestApp, String) {
    let a = TestApp::spawn().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let (_, token) = tokens::create(&a.state.db, "release-pipeline", None).await.unwrap();
    (a, token.expose().to_owned())
}

async fn send(a: &TestApp, token: &str, form: Form) -> (u16, Value) {
    let response =
        a.client.post(format!("{}/api/v1/posts", a.base)).bearer_auth(token).multipart(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn image(bytes: &[u8], name: &str) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_owned())
}

/// Posts, media rows and files on disk: what a refused request must leave untouched.
async fn kept(a: &TestApp) -> (u64, u64, usize) {
    let files = std::fs::read_dir(a.state.config.data_dir.join("media")).map(|d| d.count()).unwrap_or(0);
    (
        posts::Entity::find().count(&a.state.db).await.unwrap(),
        media::Entity::find().count(&a.state.db).await.unwrap(),
        files,
    )
}

#[tokio::test]
async fn a_form_publishes_images_with_their_alt_text() {
    let (a, token) = app_with_token().await;
    let form = Form::new()
        .text("actor", "acme")
        .text("text", "Release **3.0**: the new dashboard")
        .part("image", image(PNG, "dashboard.png"))
        .text("alt", "The new dashboard, with <three> charts")
        .part("image", image(GIF, "dot.gif"))
        .text("alt", "A single dot")
        .text("cw", "Screenshots");
    let (status, body) = send(&a, &token, form).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"], "published");
    let path = body["url"].as_str().unwrap().strip_prefix(&a.base).unwrap().to_owned();

    let note: Value = a.get_activity_json(&path).await.json().await.unwrap();
    assert_eq!(note["summary"], "Screenshots");
    assert!(note["content"].as_str().unwrap().contains("<strong>3.0</strong>"));
    let attachments = note["attachment"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["mediaType"], "image/png");
    assert_eq!(attachments[0]["name"], "The new dashboard, with <three> charts");
    assert_eq!(attachments[1]["mediaType"], "image/gif");
    assert_eq!(attachments[1]["name"], "A single dot");
    for (attachment, bytes) in attachments.iter().zip([PNG, GIF]) {
        let served = a.client.get(attachment["url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(served.status(), 200);
        assert_eq!(served.headers()["x-content-type-options"], "nosniff");
        assert_eq!(served.headers()["content-type"], attachment["mediaType"].as_str().unwrap());
        assert_eq!(served.bytes().await.unwrap().as_ref(), bytes);
    }
    // Text-only JSON still works on the same route.
    let (status, _) =
        a.api_publish(&token, serde_json::json!({ "actor": "acme", "text": "No pictures this time" })).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn a_bad_form_is_refused_and_nothing_is_kept() {
    let (a, token) = app_with_token().await;
    let base = || Form::new().text("actor", "acme").text("text", "Release notes");
    let over_limit = vec![0x89u8; 10 * 1024 * 1024 + 1];
    let cases: Vec<(&str, Form, u16)> = vec![
        ("an image without alt text", base().part("image", image(PNG, "a.png")), 422),
        (
            "more alt texts than images",
            base().part("image", image(PNG, "a.png")).text("alt", "one").text("alt", "two"),
            422,
        ),
        (
            "a file that is not an image",
            base().part("image", image(b"<svg onload=alert(1)>", "x.png")).text("alt", "x"),
            422,
        ),
        ("an image over 10 MiB", base().part("image", image(&over_limit, "big.png")).text("alt", "big"), 413),
        ("five images", (0..5).fold(base(), |f, _| f.part("image", image(PNG, "a.png")).text("alt", "a")), 422),
        ("an unknown field", base().text("colour", "blue"), 400),
        ("a field given twice", base().text("actor", "acme"), 400),
        ("no text", Form::new().text("actor", "acme"), 400),
        ("an account that does not exist", Form::new().text("actor", "nobody").text("text", "x"), 404),
        ("an empty text", Form::new().text("actor", "acme").text("text", "   "), 422),
    ];
    for (what, form, expected) in cases {
        let (status, body) = send(&a, &token, form).await;
        assert_eq!(status, expected, "{what}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{what}: a reason is given: {body}");
        assert_eq!(kept(&a).await, (0, 0, 0), "{what}: nothing kept");
    }
    // Neither JSON nor a form.
    let response = a
        .client
        .post(format!("{}/api/v1/posts", a.base))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("actor=acme")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    // Without a token, nothing is read at all.
    let response = a
        .client
        .post(format!("{}/api/v1/posts", a.base))
        .multipart(base().part("image", image(PNG, "a.png")).text("alt", "a"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(kept(&a).await, (0, 0, 0));
}
