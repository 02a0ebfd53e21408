//! `TestApp`: a real instance on a loopback port with its own database, and one method per
//! endpoint the tests call (as zero-to-production's `spawn_app` does), so a test reads as
//! the requests it makes.

use std::{collections::HashMap, net::SocketAddr};

use openhouse::{
    config::Config,
    db::{
        entities::{actors, posts},
        queries,
    },
    domain::{ActorKind, ProfileField, Username},
    services::{
        accounts::{self, NewAccount},
        posts::{self as post_service, Draft},
    },
    startup::Application,
    state::AppState,
};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use tokio::{net::TcpListener, sync::oneshot};

/// The variable that switches the suite to PostgreSQL: an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/postgres`. Each test creates its own database there.
pub const PG_ENV: &str = "OPENHOUSE_TEST_DATABASE_URL";

/// A test's database, removed when the test ends.
pub enum TestDb {
    /// A temporary directory holding the SQLite file (and the data dir).
    Sqlite,
    /// A PostgreSQL database created for this test.
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Async drop does not exist; a short-lived runtime on its own thread does the job.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(db) = Database::connect(&admin_url).await {
                        let _ =
                            db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    }
                });
            })
            .join();
        }
    }
}

/// A running instance.
pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.x:port`
    pub base: String,
    pub state: AppState,
    /// A client that does not follow redirects, so tests can see them.
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    // Dropped last: the database outlives the server.
    _tmp: tempfile::TempDir,
    _db: TestDb,
}

/// Options for [`TestApp::spawn_with`].
#[derive(Default, Clone)]
pub struct Options {
    /// Loopback address to listen on (default 127.0.0.1); distinct addresses give distinct
    /// domains for two-instance tests.
    pub ip: Option<&'static str>,
    /// `OPENHOUSE_ALLOW_PRIVATE_FETCH`.
    pub allow_private_fetch: Option<String>,
    /// Serve without the background workers (`serve --no-workers`): the test runs them.
    pub no_workers: bool,
}

impl TestApp {
    /// An instance on 127.0.0.1 with default settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    /// An instance with options.
    pub async fn spawn_with(options: Options) -> Self {
        Self::spawn_with_env(options, &[]).await
    }

    /// An instance with options and extra `OPENHOUSE_*` settings.
    pub async fn spawn_with_env(options: Options, extra: &[(&str, &str)]) -> Self {
        let ip = options.ip.unwrap_or("127.0.0.1");
        let listener = TcpListener::bind((ip, 0)).await.expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let tmp = tempfile::tempdir().unwrap();
        let (database_url, db) = test_database(&tmp).await;
        let mut env = HashMap::from([
            ("OPENHOUSE_BIND".to_owned(), addr.to_string()),
            ("OPENHOUSE_PUBLIC_URL".to_owned(), base.clone()),
            ("OPENHOUSE_DATA_DIR".to_owned(), tmp.path().join("data").display().to_string()),
            ("OPENHOUSE_DATABASE_URL".to_owned(), database_url),
            ("OPENHOUSE_DATABASE_MAX_CONNECTIONS".to_owned(), "4".to_owned()),
        ]);
        if let Some(allow) = options.allow_private_fetch {
            env.insert("OPENHOUSE_ALLOW_PRIVATE_FETCH".to_owned(), allow);
        }
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let config = Config::from_sources("", &env).expect("valid test configuration");
        let mut app = Application::build_on(config, listener).await.expect("application builds");
        if options.no_workers {
            app = app.without_workers();
        }
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { addr, base, state, client, shutdown: Some(tx), _tmp: tmp, _db: db }
    }

    /// Starts a graceful shutdown: the server stops accepting and finishes open requests.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// The actor id of a local account.
    pub fn actor_url(&self, username: &str) -> String {
        format!("{}/users/{username}", self.base)
    }

    /// Creates an account through the service, as the CLI does.
    pub async fn create_actor(&self, username: &str, kind: ActorKind, name: &str) -> actors::Model {
        self.create_actor_with(username, kind, name, "", false, vec![]).await
    }

    /// Creates an account with every option.
    pub async fn create_actor_with(
        &self,
        username: &str,
        kind: ActorKind,
        name: &str,
        summary: &str,
        locked: bool,
        fields: Vec<ProfileField>,
    ) -> actors::Model {
        let new = NewAccount {
            username: Username::parse(username).unwrap(),
            kind,
            display_name: name.to_owned(),
            summary: summary.to_owned(),
            locked,
            fields,
        };
        accounts::create(&self.state.db, &self.state.urls, new).await.expect("account created")
    }

    /// GET with an `Accept` header.
    pub async fn get(&self, path: &str, accept: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).header("Accept", accept).send().await.unwrap()
    }

    /// GET as an ActivityPub peer does.
    pub async fn get_activity_json(&self, path: &str) -> reqwest::Response {
        self.get(path, "application/activity+json").await
    }

    /// GET as a browser does.
    pub async fn get_html(&self, path: &str) -> reqwest::Response {
        self.get(path, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8").await
    }

    /// The local actor `username`'s document, as a peer fetches it.
    pub async fn get_actor(&self, username: &str) -> reqwest::Response {
        self.get_activity_json(&format!("/users/{username}")).await
    }

    /// The shared inbox's URL.
    pub fn shared_inbox(&self) -> url::Url {
        url::Url::parse(&format!("{}/inbox", self.base)).unwrap()
    }

    /// A JSON request to the API as the bearer of `token`; the status and the JSON answer
    /// (`null` when there is none).
    pub async fn api(&self, method: reqwest::Method, token: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST` to the API with a JSON body.
    pub async fn api_post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.api(reqwest::Method::POST, token, path, Some(body)).await
    }

    /// `GET` from the API.
    pub async fn api_get(&self, token: &str, path: &str) -> (u16, Value) {
        self.api(reqwest::Method::GET, token, path, None).await
    }

    /// `POST /api/v1/posts`: publishes (or answers, with `in_reply_to`) as an account.
    pub async fn api_publish(&self, token: &str, body: Value) -> (u16, Value) {
        self.api_post(token, "/api/v1/posts", &body).await
    }

    /// `GET /api/v1/conversations?{query}`: the staff inbox.
    pub async fn api_conversations(&self, token: &str, query: &str) -> (u16, Value) {
        self.api_get(token, &format!("/api/v1/conversations?{query}")).await
    }

    /// `POST /api/v1/reactions`: likes or boosts `object` as the local account `actor`.
    pub async fn api_react(&self, token: &str, actor: &str, object: &str, kind: &str) -> (u16, Value) {
        let body = serde_json::json!({ "actor": actor, "object": object, "kind": kind });
        self.api_post(token, "/api/v1/reactions", &body).await
    }

    /// Publishes a public post by `author` now, through the service.
    pub async fn publish(&self, author: &actors::Model, text: &str) -> posts::Model {
        let draft = Draft::public(text);
        let media_dir = self.state.config.data_dir.join("media");
        post_service::publish(&self.state.db, &self.state.urls, &media_dir, author, draft).await.unwrap()
    }

    /// The stored post whose ActivityPub id is `ap_id`, local or remote.
    pub async fn post(&self, ap_id: &str) -> Option<posts::Model> {
        queries::posts::find_by_ap_id(&self.state.db, ap_id).await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The database for one test: a SQLite file in `tmp`, or a new PostgreSQL database.
pub async fn test_database(tmp: &tempfile::TempDir) -> (String, TestDb) {
    match std::env::var(PG_ENV) {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("openhouse_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("PostgreSQL reachable for tests");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
            admin.close().await.ok();
            let mut url = url::Url::parse(&admin_url).expect("admin URL parses");
            url.set_path(&format!("/{name}"));
            (url.to_string(), TestDb::Postgres { admin_url, name })
        }
        _ => (format!("sqlite://{}?mode=rwc", tmp.path().join("openhouse.sqlite").display()), TestDb::Sqlite),
    }
}

/// Two instances on different loopback addresses that may reach each other.
pub async fn two_instances() -> (TestApp, TestApp) {
    two_instances_with(&[]).await
}

/// [`two_instances`], with extra `OPENHOUSE_*` settings for A.
pub async fn two_instances_with(extra_a: &[(&str, &str)]) -> (TestApp, TestApp) {
    let a = TestApp::spawn_with_env(
        Options { ip: Some("127.0.0.2"), allow_private_fetch: Some("127.0.0.3/32:*".into()), ..Default::default() },
        extra_a,
    )
    .await;
    let b = TestApp::spawn_with(Options {
        ip: Some("127.0.0.3"),
        allow_private_fetch: Some("127.0.0.2/32:*".into()),
        ..Default::default()
    })
    .await;
    (a, b)
}

/// The plan the database chooses for `query`, one line per step (SQLite's `EXPLAIN QUERY
/// PLAN` details, or PostgreSQL's `EXPLAIN`). `forbid_scans`: on PostgreSQL, planned with
/// sequential scans off, so that a test table too small to be worth an index still shows
/// whether an index can serve the query (SQLite plans without statistics either way).
pub async fn query_plan(db: &sea_orm::DatabaseConnection, query: sea_orm::Statement, forbid_scans: bool) -> String {
    use sea_orm::{DbBackend, TransactionTrait};

    let txn = db.begin().await.expect("begin");
    let (prefix, column) = match db.get_database_backend() {
        DbBackend::Sqlite => ("EXPLAIN QUERY PLAN", "detail"),
        _ => {
            if forbid_scans {
                txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.expect("set");
            }
            ("EXPLAIN", "QUERY PLAN")
        }
    };
    let sql = format!("{prefix} {}", query.sql);
    let rows = txn.query_all_raw(sea_orm::Statement { sql, ..query }).await.expect("explain");
    txn.rollback().await.expect("rollback");
    let lines: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", column).expect("plan line")).collect();
    lines.join("\n")
}
