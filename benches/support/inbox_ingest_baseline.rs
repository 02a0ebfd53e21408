//! B2's baseline (PERFORMANCE.md): the same load against activitypub_federation's own
//! synchronous inbox, i.e. its axum `ActivityData` extractor and `receive_activity`, which
//! checks the digest, dereferences the actor (database, else an HTTP fetch), verifies the
//! signature with the RustCrypto `rsa` crate, then runs the handler before answering. The
//! handler stores the activity exactly as Openhouse did before group commit: one
//! `INSERT … ON CONFLICT (ap_id) DO NOTHING` into the same `inbox_activities` table (same
//! schema, same pool and SQLite settings, its own database), then 202.
//!
//! The library refuses actor ids with an IP address as host, so the actor server answers on
//! 127.0.0.1 with ids on `http://localhost:{port}` (its resolver allows `localhost`); it
//! runs in debug mode, which only allows http URLs and ports in ids. Actors are stored
//! in the same `actors` table through the same query; `last_refreshed_at` is the stored
//! fetch time (the library refetches after 24 h in release builds, 20 s in debug builds).

#![allow(dead_code)]

use std::collections::HashMap;

use activitypub_federation::{
    axum::inbox::{ActivityData, receive_activity},
    config::{Data, FederationConfig, FederationMiddleware},
    fetch::object_id::ObjectId,
    kinds::activity::CreateType,
    protocol::{public_key::PublicKey, verification::verify_domains_match},
    traits::{Activity, Actor, Object},
};
use axum::{Router, http::StatusCode, routing::post};
use chrono::{DateTime, Utc};
use openhouse::{
    config::Config,
    crypto::generate_rsa_keys,
    db::{
        self,
        entities::{actors, inbox_activities},
        queries::actors::{RemoteActorRow, find_by_ap_id, upsert_remote},
    },
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use url::Url;

use super::inbox_ingest::{Params, Report, presign, send_all, serve_actors};

/// What the library hands to every handler.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
}

/// A remote actor as stored (the same row Openhouse stores).
#[derive(Debug)]
pub struct StoredActor {
    row: actors::Model,
    id: Url,
}

impl StoredActor {
    fn new(row: actors::Model) -> anyhow::Result<Self> {
        let id = Url::parse(&row.ap_id)?;
        Ok(Self { row, id })
    }
}

/// The actor document as fetched.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    id: Url,
    #[serde(rename = "type")]
    kind: String,
    preferred_username: String,
    inbox: Url,
    public_key: PublicKey,
}

#[async_trait::async_trait]
impl Object for StoredActor {
    type DataType = Store;
    type Kind = Person;
    type Error = anyhow::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_fetched_at
    }

    async fn read_from_id(id: Url, data: &Data<Store>) -> Result<Option<Self>, anyhow::Error> {
        find_by_ap_id(&data.db, id.as_str()).await?.map(StoredActor::new).transpose()
    }

    async fn into_json(self, _data: &Data<Store>) -> Result<Person, anyhow::Error> {
        anyhow::bail!("not served in the benchmark")
    }

    async fn verify(json: &Person, expected_domain: &Url, _data: &Data<Store>) -> Result<(), anyhow::Error> {
        verify_domains_match(&json.id, expected_domain)?;
        Ok(())
    }

    async fn from_json(json: Person, data: &Data<Store>) -> Result<Self, anyhow::Error> {
        let row = RemoteActorRow {
            ap_type: json.kind,
            inbox_url: json.inbox.to_string(),
            public_key_pem: json.public_key.public_key_pem,
            public_key_id: json.public_key.id,
            ..RemoteActorRow::person(json.id.as_str(), &json.preferred_username, json.id.host_str().unwrap_or_default())
        };
        StoredActor::new(upsert_remote(&data.db, row).await?)
    }
}

impl Actor for StoredActor {
    fn public_key_pem(&self) -> &str {
        &self.row.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        None
    }

    fn inbox(&self) -> Url {
        Url::parse(self.row.inbox_url.as_deref().unwrap_or_default()).unwrap_or_else(|_| self.id().clone())
    }
}

/// The activity as the library parses it.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateNote {
    id: Url,
    #[serde(rename = "type")]
    kind: CreateType,
    actor: ObjectId<StoredActor>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

#[async_trait::async_trait]
impl Activity for CreateNote {
    type DataType = Store;
    type Error = anyhow::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data<Store>) -> Result<(), anyhow::Error> {
        Ok(())
    }

    /// The store: the durable insert, before the library answers.
    async fn receive(self, data: &Data<Store>) -> Result<(), anyhow::Error> {
        let now = Utc::now();
        let row = inbox_activities::ActiveModel {
            ap_id: Set(self.id.to_string()),
            activity_type: Set("Create".to_owned()),
            actor_ap_id: Set(self.actor.inner().to_string()),
            payload: Set(serde_json::to_string(&self)?),
            state: Set(inbox_activities::InboxState::Pending),
            attempts: Set(0),
            received_at: Set(now),
            available_at: Set(now),
            lease_until: Set(None),
            processed_at: Set(None),
            last_error: Set(None),
            ..Default::default()
        };
        inbox_activities::Entity::insert(row)
            .on_conflict(OnConflict::column(inbox_activities::Column::ApId).do_nothing().to_owned())
            .exec_without_returning(&data.db)
            .await?;
        Ok(())
    }
}

async fn inbox(data: Data<Store>, activity: ActivityData) -> (StatusCode, String) {
    match receive_activity::<CreateNote, StoredActor, Store>(activity, &data).await {
        Ok(()) => (StatusCode::ACCEPTED, String::new()),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
    }
}

/// Runs the baseline once. With a PostgreSQL URL, a sibling database `<name>_baseline` is
/// (re)created next to the given one.
pub async fn run(params: Params) -> Report {
    let tmp = tempfile::tempdir().expect("temp dir");
    let keys = generate_rsa_keys().expect("keys");
    let remote_origin = serve_actors("127.0.0.1", Some("localhost"), &keys.public_pem).await;

    let database_url = match &params.database_url {
        Some(url) => sibling_database(url, "_baseline").await,
        None => format!("sqlite://{}?mode=rwc", tmp.path().join("baseline.sqlite").display()),
    };
    let listener = TcpListener::bind("127.0.0.2:0").await.expect("bind");
    let authority = listener.local_addr().expect("addr").to_string();
    let env = HashMap::from([
        ("OPENHOUSE_PUBLIC_URL".to_owned(), format!("http://{authority}")),
        ("OPENHOUSE_DATA_DIR".to_owned(), tmp.path().display().to_string()),
        ("OPENHOUSE_DATABASE_URL".to_owned(), database_url),
        ("OPENHOUSE_DATABASE_MAX_CONNECTIONS".to_owned(), "16".to_owned()),
    ]);
    let config = Config::from_sources("", &env).expect("config");
    let database = db::connect(&config).await.expect("database");
    db::migrate(&database).await.expect("migrations");
    let federation = FederationConfig::builder()
        .domain(authority.clone())
        .app_data(Store { db: database.clone() })
        .debug(true)
        .build()
        .await
        .expect("federation config");
    let app = Router::new().route("/inbox", post(inbox)).layer(FederationMiddleware::new(federation));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });

    let inbox = Url::parse(&format!("http://{authority}/inbox")).expect("inbox");
    let reply_to = format!("http://{authority}/users/acme/posts/1");
    let requests = presign(&params, &remote_origin, &inbox, &reply_to, &keys.private_pem);
    let sent = send_all(requests, &inbox, params.senders, params.actors).await;
    let stored = inbox_activities::Entity::find().count(&database).await.expect("count");
    let _ = stop.send(());
    let _ = server.await;
    database.close().await.ok();
    Report {
        requests: params.requests,
        accepted: sent.accepted,
        stored: stored as usize,
        threaded: 0,
        seconds: sent.seconds,
        per_second: sent.accepted as f64 / sent.seconds,
        p50_ms: sent.percentile_ms(0.50),
        p99_ms: sent.percentile_ms(0.99),
        steady_p99_ms: sent.steady_percentile_ms(0.99),
        first_contact_p50_ms: super::inbox_ingest::quantile_ms(&sent.first, 0.5),
        first_contact_p99_ms: super::inbox_ingest::quantile_ms(&sent.first, 0.99),
        drain_seconds: 0.0,
        processed_per_second: sent.accepted as f64 / sent.seconds,
        write_lock: super::inbox_ingest::WriteLock::default(),
    }
}

/// `url` with the database name suffixed, after dropping and creating that database.
async fn sibling_database(url: &str, suffix: &str) -> String {
    let mut parsed = Url::parse(url).expect("database URL");
    let name = format!("{}{suffix}", parsed.path().trim_start_matches('/'));
    let admin = sea_orm::Database::connect(url).await.expect("connect");
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await.expect("drop");
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create");
    admin.close().await.ok();
    parsed.set_path(&name);
    parsed.to_string()
}
