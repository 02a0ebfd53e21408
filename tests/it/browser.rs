//! Pages in a real browser: headless Chromium driven over the WebDriver protocol by
//! chromedriver, both from Debian's packages. A newcomer's first run, clicked through:
//! the setup form, then the brand's profile, with the stylesheet applied and no
//! Content-Security-Policy violation logged.
//!
//! Runs when Chromium and chromedriver are installed. `.ci/run` installs them and sets
//! `OPENHOUSE_TEST_BROWSER`, which turns a missing browser into a failure, not a skip.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use base64::Engine;
use openhouse::services::setup;
use serde_json::{Value, json};

use crate::support::{TestApp, eventually};

/// W3C WebDriver's key for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    driver: Child,
    endpoint: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, or `None` when not installed
    /// and not required.
    async fn start() -> Option<Self> {
        let required = std::env::var("OPENHOUSE_TEST_BROWSER").ok().filter(|v| !v.is_empty());
        let chromium = PathBuf::from(required.clone().unwrap_or_else(|| "/usr/bin/chromium".into()));
        let chromedriver = PathBuf::from(
            std::env::var("OPENHOUSE_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()),
        );
        if !chromium.exists() || !chromedriver.exists() {
            assert!(
                required.is_none(),
                "OPENHOUSE_TEST_BROWSER is set but {chromium:?} or {chromedriver:?} is missing"
            );
            eprintln!("browser tests skipped: install chromium and chromium-driver, or set OPENHOUSE_TEST_BROWSER");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        eventually(10, "chromedriver to answer", || async {
            http.get(format!("{endpoint}/status")).send().await.ok().map(|_| ())
        })
        .await;
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let mut browser = Self { driver, endpoint, session: String::new(), http, _profile: profile };
        let created = browser.call(reqwest::Method::POST, "/session", Some(caps)).await;
        browser.session = created["sessionId"].as_str().expect("a WebDriver session").to_owned();
        Some(browser)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.endpoint)
        } else {
            format!("{}/session/{}{path}", self.endpoint, self.session)
        };
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res: Value = req.send().await.expect("chromedriver answers").json().await.unwrap();
        assert!(res["value"].get("error").is_none(), "WebDriver error on {path}: {res}");
        res["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    async fn find(&self, css: &str) -> String {
        let found =
            self.call(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        found[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/value"), Some(json!({ "text": text }))).await;
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/click"), Some(json!({}))).await;
    }

    async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{el}/text"), None).await.as_str().unwrap().to_owned()
    }

    async fn css(&self, css: &str, property: &str) -> String {
        let el = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{el}/css/{property}"), None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap().to_owned()
    }

    async fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None).await.as_str().unwrap().to_owned()
    }

    /// Waits (up to 30 s) for the page after a click to be the expected one: chromedriver does
    /// not always wait for a form submission's navigation, and a loaded machine is slow.
    async fn wait_for_title(&self, expected: &str) {
        eventually(30, &format!("the page titled {expected:?}"), || async {
            (self.title().await == expected).then_some(())
        })
        .await;
    }

    /// Console messages since the last call (CSP violations appear here).
    async fn console(&self) -> Vec<String> {
        let logs = self.call(reqwest::Method::POST, "/se/log", Some(json!({ "type": "browser" }))).await;
        logs.as_array().into_iter().flatten().map(|l| l["message"].as_str().unwrap_or_default().to_owned()).collect()
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
async fn a_newcomer_sets_up_the_instance_in_a_real_browser() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::spawn().await;
    let token = setup::issue_token_if_needed(&app.state.db).await.unwrap().unwrap();

    browser.goto(&format!("{}/setup?token={}", app.base, token.expose())).await;
    assert_eq!(browser.title().await, "Set up Openhouse");
    // The token was exchanged for a cookie: the address bar (and history) no longer holds it.
    assert_eq!(browser.url().await, format!("{}/setup", app.base));
    browser.type_into("#instance_name", "Acme Community").await;
    browser.type_into("#owner_email", "owner@acme.example").await;
    browser.type_into("#owner_password", "a long enough password").await;
    browser.type_into("#brand_username", "acme").await;
    browser.type_into("#brand_display_name", "Acme <Inc>").await;
    browser.screenshot("setup-form.png").await;
    browser.click("button[type=submit]").await;

    browser.wait_for_title("Acme Community is ready").await;
    assert!(browser.text("main").await.contains(&format!("@acme@{}", app.addr)));
    browser.click("a.button").await;

    browser.wait_for_title(&format!("Acme <Inc> (@acme@{})", app.addr)).await;
    assert_eq!(browser.text("h1").await, "Acme <Inc>", "shown as text, not markup");
    // The stylesheet loaded under the CSP: the button has the accent colour, not the default.
    let colour = browser.css(".follow button", "background-color").await;
    assert!(colour.starts_with("rgb(58, 91, 217") || colour.starts_with("rgba(58, 91, 217, 1"), "{colour}");
    browser.screenshot("profile.png").await;
    let violations: Vec<String> = browser
        .console()
        .await
        .into_iter()
        .filter(|m| m.contains("Content Security Policy") || m.contains("Refused"))
        .collect();
    assert!(violations.is_empty(), "{violations:?}");
}

#[tokio::test]
async fn a_thread_page_renders_nested_under_the_csp() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::spawn().await;
    let brand = app.create_actor("acme", openhouse::domain::ActorKind::Brand, "Acme").await;
    let draft = openhouse::services::posts::Draft {
        text: "Acme 3.0 is out".into(),
        content_warning: None,
        visibility: openhouse::domain::Visibility::Public,
        scheduled_at: None,
        in_reply_to: None,
        mentioned: Vec::new(),
        uploads: Vec::new(),
    };
    let media_dir = app.state.config.data_dir.join("media");
    let root =
        openhouse::services::posts::publish(&app.state.db, &app.state.urls, &media_dir, &brand, draft).await.unwrap();
    let eve = crate::threads::remote_actor(&app.state.db, "social.example", "eve", "<b>Eve</b>").await;
    let first = crate::threads::remote_reply(&app.state.db, &eve, &root, "<p>first reply</p>", None).await;
    crate::threads::remote_reply(&app.state.db, &eve, &first, "<p>nested reply</p>", None).await;

    browser.goto(&root.ap_id).await;
    assert_eq!(browser.text("#replies h2").await, "1 reply");
    assert_eq!(browser.text(".replies .replies .reply .post-content").await, "nested reply");
    assert_eq!(browser.text(".reply .account-name").await, "<b>Eve</b>", "shown as text, not markup");
    // The thread's own styles loaded under the CSP: nested lists are indented.
    let indent = browser.css(".replies .replies", "padding-left").await;
    assert_ne!(indent, "0px", "{indent}");
    browser.screenshot("thread.png").await;
    let violations: Vec<String> = browser
        .console()
        .await
        .into_iter()
        .filter(|m| m.contains("Content Security Policy") || m.contains("Refused"))
        .collect();
    assert!(violations.is_empty(), "{violations:?}");
}
