//! Remote HTML (profile summaries, replies) is stored sanitized: nothing executable
//! survives, read back with an HTML parser.

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{db::queries, domain::ActorKind};
use scraper::{Html, node::Node};
use serde_json::json;

use crate::support::{
    Options,
    fake_remote::{Doc, instance_with_fakes},
    wait::inbox_handled,
};

/// Whether stored HTML contains anything executable, read with an HTML parser.
fn executable_parts(html: &str) -> Vec<String> {
    let doc = Html::parse_fragment(html);
    let mut found = Vec::new();
    for node in doc.tree.nodes() {
        if let Node::Element(el) = node.value() {
            let name = el.name();
            if ["script", "style", "svg", "math", "iframe", "embed", "object", "img", "form", "base"].contains(&name) {
                found.push(format!("<{name}>"));
            }
            for (attr, value) in el.attrs() {
                let v = value.trim().to_ascii_lowercase();
                if attr.starts_with("on")
                    || attr == "style"
                    || attr == "src"
                    || v.starts_with("javascript:")
                    || v.starts_with("data:")
                    || v.starts_with("vbscript:")
                {
                    found.push(format!("{attr}={value:?} on <{name}>"));
                }
            }
        }
    }
    found
}

const HOSTILE_HTML: &str = r#"<p onclick="steal()">Hello <b onmouseover="x()">there</b></p>
<script>alert(document.cookie)</script><style>body{display:none}</style>
<a href="javascript:alert(1)">click</a> <a href=" JaVaScRiPt:alert(2)">again</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>
<svg onload="alert(3)"><script>alert(4)</script></svg><math><mi xlink:href="javascript:alert(5)">x</mi></math>
<iframe src="https://evil.example/"></iframe><embed src="https://evil.example/x.swf"><object data="x"></object>
<img src="x" onerror="alert(6)"><a href="https://ok.example/">fine link</a>"#;

#[tokio::test]
async fn hostile_html_in_profiles_and_replies_is_sanitized_on_ingest() {
    let (a, fake1, _fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let eve = fake1.actor("eve");
    let mut doc = eve.doc.clone();
    doc["summary"] = json!(HOSTILE_HTML);
    doc["name"] = json!("<script>alert('name')</script>Eve");
    fake1.put(&eve.id, Doc::Json(doc));

    // Any activity makes A fetch and store eve: her summary is stored sanitized.
    let hello = eve.activity("Listen", json!(brand.ap_id));
    assert_eq!(eve.send(&a, &hello).await, 202);
    let stored = queries::actors::find_by_ap_id(&a.state.db, &eve.id).await.unwrap().unwrap();
    assert_eq!(executable_parts(&stored.summary), Vec::<String>::new(), "{}", stored.summary);
    assert!(
        stored.summary.contains("Hello") && stored.summary.contains(r#"href="https://ok.example/""#),
        "{}",
        stored.summary
    );
    assert!(!stored.summary.contains("alert"), "script text dropped: {}", stored.summary);
    assert!(executable_parts(HOSTILE_HTML).len() >= 10, "the checker sees the attacks in the input");

    // A reply carrying the same HTML is stored sanitized too.
    let reply = eve.note(Some(&update.ap_id), HOSTILE_HTML);
    let create = eve.activity("Create", reply.clone());
    assert_eq!(eve.send(&a, &create).await, 202);
    assert_eq!(inbox_handled(&a, create["id"].as_str().unwrap()).await.0, InboxState::Done);
    let post = queries::posts::find_by_ap_id(&a.state.db, reply["id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(executable_parts(&post.content_html), Vec::<String>::new(), "{}", post.content_html);
    assert!(post.content_html.contains("fine link"), "{}", post.content_html);
}
