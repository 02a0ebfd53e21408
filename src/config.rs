//! Typed, layered configuration: built-in defaults, then `openhouse.toml`, then
//! `OPENHOUSE_*` environment variables.
//!
//! Every key has the same name in the file and, upper-cased with an `OPENHOUSE_` prefix, in
//! the environment (`public_url` ↔ `OPENHOUSE_PUBLIC_URL`). Nothing here reads globals after
//! start-up: [`Config`] is built once and passed down, so tests build their own.
//! `docs/configuration.md` lists every key; keep the two in step.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;

pub use self::values::{DatabaseEngine, DatabaseUrl, PublicUrl};
use crate::net::{AllowList, IpNet};

mod values;

/// The validated configuration the whole application runs on.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// The URL the world sees; ids, handles and links are built from it.
    pub public_url: PublicUrl,
    /// Where the SQLite file and uploaded media live.
    pub data_dir: PathBuf,
    /// Database connection string (SQLite or PostgreSQL).
    pub database_url: DatabaseUrl,
    /// Remote endpoints that may be reached on private addresses and over plain http.
    pub allow_private_fetch: AllowList,
    /// Log output format.
    pub log_format: LogFormat,
    /// A `tracing` filter directive such as `info` or `openhouse=debug,info`.
    pub log_level: String,
    /// Maximum connections in the database pool.
    pub database_max_connections: u32,
    /// Delivery: requests in flight at once, per worker process.
    pub delivery_concurrency: u32,
    /// Delivery: requests in flight to one host at once (1–4).
    pub delivery_per_host: u32,
    /// Delivery: how long a worker owns a leased delivery before another may take it.
    pub delivery_lease_seconds: u32,
    /// Delivery: multiplies every retry delay (1.0 in production; tests shrink it).
    pub delivery_backoff_scale: f64,
    /// Inbox: requests per second one remote address may sustain (0 = no limit; I11).
    pub inbox_rate_per_ip: u32,
    /// Inbox: activities per second one remote actor may sustain (0 = no limit; I11).
    pub inbox_rate_per_actor: u32,
    /// Inbox: days a processed activity's id is kept for deduplication (I10, I12; at least 7).
    pub inbox_retention_days: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<IpNet>,
    /// Rate limits by address count an IPv6 client per prefix of this many bits (32–128).
    pub rate_limit_ipv6_prefix: u8,
    /// Remote-follow lookups one client address may make per minute (0 = no limit).
    pub remote_follow_per_minute: u32,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A configuration problem, naming the key and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {problem}")]
pub struct ConfigError {
    /// The key as written in `openhouse.toml` (the variable is `OPENHOUSE_` + upper case).
    pub key: String,
    /// What is wrong, in words an operator can act on.
    pub problem: String,
}

impl ConfigError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        Self { key: key.to_owned(), problem: problem.into() }
    }
}

/// The raw, all-optional shape of the file and of the environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    bind: Option<String>,
    public_url: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    allow_private_fetch: Option<String>,
    log_format: Option<String>,
    log_level: Option<String>,
    database_max_connections: Option<u32>,
    delivery_concurrency: Option<u32>,
    delivery_per_host: Option<u32>,
    delivery_lease_seconds: Option<u32>,
    delivery_backoff_scale: Option<f64>,
    inbox_rate_per_ip: Option<u32>,
    inbox_rate_per_actor: Option<u32>,
    inbox_retention_days: Option<u32>,
    trusted_proxies: Option<String>,
    rate_limit_ipv6_prefix: Option<u8>,
    remote_follow_per_minute: Option<u32>,
}

fn parse_env<T: std::str::FromStr>(
    env: &HashMap<String, String>,
    key: &str,
    what: &str,
) -> Result<Option<T>, ConfigError> {
    match env.get(&format!("OPENHOUSE_{}", key.to_uppercase())) {
        Some(v) => v.trim().parse().map(Some).map_err(|_| ConfigError::new(key, format!("{v:?} is not {what}"))),
        None => Ok(None),
    }
}

impl Layer {
    fn from_env(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |key: &str| env.get(&format!("OPENHOUSE_{}", key.to_uppercase())).cloned();
        Ok(Self {
            bind: get("bind"),
            public_url: get("public_url"),
            data_dir: get("data_dir"),
            database_url: get("database_url"),
            allow_private_fetch: get("allow_private_fetch"),
            log_format: get("log_format"),
            log_level: get("log_level"),
            database_max_connections: parse_env(env, "database_max_connections", "a whole number")?,
            delivery_concurrency: parse_env(env, "delivery_concurrency", "a whole number")?,
            delivery_per_host: parse_env(env, "delivery_per_host", "a whole number")?,
            delivery_lease_seconds: parse_env(env, "delivery_lease_seconds", "a whole number")?,
            delivery_backoff_scale: parse_env(env, "delivery_backoff_scale", "a number")?,
            inbox_rate_per_ip: parse_env(env, "inbox_rate_per_ip", "a whole number")?,
            inbox_rate_per_actor: parse_env(env, "inbox_rate_per_actor", "a whole number")?,
            inbox_retention_days: parse_env(env, "inbox_retention_days", "a whole number")?,
            trusted_proxies: get("trusted_proxies"),
            rate_limit_ipv6_prefix: parse_env(env, "rate_limit_ipv6_prefix", "a prefix length")?,
            remote_follow_per_minute: parse_env(env, "remote_follow_per_minute", "a whole number")?,
        })
    }

    /// Values set in `other` win.
    fn merge(self, other: Layer) -> Layer {
        Layer {
            bind: other.bind.or(self.bind),
            public_url: other.public_url.or(self.public_url),
            data_dir: other.data_dir.or(self.data_dir),
            database_url: other.database_url.or(self.database_url),
            allow_private_fetch: other.allow_private_fetch.or(self.allow_private_fetch),
            log_format: other.log_format.or(self.log_format),
            log_level: other.log_level.or(self.log_level),
            database_max_connections: other.database_max_connections.or(self.database_max_connections),
            delivery_concurrency: other.delivery_concurrency.or(self.delivery_concurrency),
            delivery_per_host: other.delivery_per_host.or(self.delivery_per_host),
            delivery_lease_seconds: other.delivery_lease_seconds.or(self.delivery_lease_seconds),
            delivery_backoff_scale: other.delivery_backoff_scale.or(self.delivery_backoff_scale),
            inbox_rate_per_ip: other.inbox_rate_per_ip.or(self.inbox_rate_per_ip),
            inbox_rate_per_actor: other.inbox_rate_per_actor.or(self.inbox_rate_per_actor),
            inbox_retention_days: other.inbox_retention_days.or(self.inbox_retention_days),
            trusted_proxies: other.trusted_proxies.or(self.trusted_proxies),
            rate_limit_ipv6_prefix: other.rate_limit_ipv6_prefix.or(self.rate_limit_ipv6_prefix),
            remote_follow_per_minute: other.remote_follow_per_minute.or(self.remote_follow_per_minute),
        }
    }
}

/// Default values, as documented in `docs/configuration.md`.
pub mod defaults {
    /// `bind`
    pub const BIND: &str = "127.0.0.1:8080";
    /// `public_url`
    pub const PUBLIC_URL: &str = "http://localhost:8080";
    /// `data_dir`
    pub const DATA_DIR: &str = "./data";
    /// `log_level`
    pub const LOG_LEVEL: &str = "info";
    /// `database_max_connections`
    pub const DATABASE_MAX_CONNECTIONS: u32 = 16;
    /// `delivery_concurrency`
    pub const DELIVERY_CONCURRENCY: u32 = 64;
    /// `delivery_per_host`
    pub const DELIVERY_PER_HOST: u32 = 2;
    /// `delivery_lease_seconds`
    pub const DELIVERY_LEASE_SECONDS: u32 = 120;
    /// `inbox_rate_per_ip`: far above what one healthy server sends us, low enough to blunt a flood.
    pub const INBOX_RATE_PER_IP: u32 = 300;
    /// `inbox_rate_per_actor`
    pub const INBOX_RATE_PER_ACTOR: u32 = 30;
    /// `inbox_retention_days`: also the least allowed, the deduplication window of I10.
    pub const INBOX_RETENTION_DAYS: u32 = 7;
    /// `remote_follow_per_minute`: a person retyping a handle a few times, not a scanner.
    pub const REMOTE_FOLLOW_PER_MINUTE: u32 = 5;
    /// `trusted_proxies`: a reverse proxy on the same machine.
    pub const TRUSTED_PROXIES: &str = "127.0.0.0/8, ::1";
}

impl Config {
    /// Loads the configuration from the process: the file named by `--config` (or
    /// `OPENHOUSE_CONFIG`, or `./openhouse.toml` when it exists), then the environment.
    pub fn load(config_path: Option<&Path>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("OPENHOUSE_")).collect();
        let path = config_path.map(Path::to_path_buf).or_else(|| env.get("OPENHOUSE_CONFIG").map(PathBuf::from));
        let file = match path {
            Some(path) => Some(read_file(&path, true)?),
            None => {
                let default = Path::new("openhouse.toml");
                if default.exists() { Some(read_file(default, false)?) } else { None }
            }
        };
        Self::from_layers(file.unwrap_or_default(), Layer::from_env(&env)?)
    }

    /// Builds a configuration from TOML text and environment pairs, without touching the
    /// process: the seam the tests use.
    pub fn from_sources(toml_text: &str, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let file: Layer =
            toml::from_str(toml_text).map_err(|e| ConfigError::new("openhouse.toml", e.message().to_owned()))?;
        Self::from_layers(file, Layer::from_env(env)?)
    }

    fn from_layers(file: Layer, env: Layer) -> Result<Self, ConfigError> {
        let raw = file.merge(env);
        let bind_raw = raw.bind.as_deref().unwrap_or(defaults::BIND);
        let bind = bind_raw.trim().parse().map_err(|_| {
            ConfigError::new("bind", format!("{bind_raw:?} is not an address:port such as 127.0.0.1:8080"))
        })?;
        let public_url = PublicUrl::parse(raw.public_url.as_deref().unwrap_or(defaults::PUBLIC_URL))
            .map_err(|p| ConfigError::new("public_url", p))?;
        let data_dir = PathBuf::from(raw.data_dir.as_deref().unwrap_or(defaults::DATA_DIR));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        let database_url = match raw.database_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => DatabaseUrl::parse(url).map_err(|p| ConfigError::new("database_url", p))?,
            _ => DatabaseUrl::sqlite_in(&data_dir),
        };
        let allow_private_fetch = AllowList::parse(raw.allow_private_fetch.as_deref().unwrap_or(""))
            .map_err(|p| ConfigError::new("allow_private_fetch", p))?;
        let log_format = match raw.log_format.as_deref().map(str::trim).unwrap_or("text") {
            "text" | "" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(ConfigError::new("log_format", format!("{other:?} is not one of: text, json"))),
        };
        let log_level = raw.log_level.unwrap_or_else(|| defaults::LOG_LEVEL.to_owned());
        let database_max_connections = raw.database_max_connections.unwrap_or(defaults::DATABASE_MAX_CONNECTIONS);
        if database_max_connections == 0 {
            return Err(ConfigError::new("database_max_connections", "must be at least 1"));
        }
        let delivery_concurrency = raw.delivery_concurrency.unwrap_or(defaults::DELIVERY_CONCURRENCY);
        if !(1..=1024).contains(&delivery_concurrency) {
            return Err(ConfigError::new("delivery_concurrency", "must be from 1 to 1024"));
        }
        let delivery_per_host = raw.delivery_per_host.unwrap_or(defaults::DELIVERY_PER_HOST);
        if !(1..=4).contains(&delivery_per_host) {
            return Err(ConfigError::new("delivery_per_host", "must be from 1 to 4"));
        }
        let delivery_lease_seconds = raw.delivery_lease_seconds.unwrap_or(defaults::DELIVERY_LEASE_SECONDS);
        if !(1..=3600).contains(&delivery_lease_seconds) {
            return Err(ConfigError::new("delivery_lease_seconds", "must be from 1 to 3600"));
        }
        let delivery_backoff_scale = raw.delivery_backoff_scale.unwrap_or(1.0);
        if !(delivery_backoff_scale > 0.0 && delivery_backoff_scale <= 1.0) {
            return Err(ConfigError::new("delivery_backoff_scale", "must be above 0 and at most 1"));
        }
        let inbox_rate_per_ip = raw.inbox_rate_per_ip.unwrap_or(defaults::INBOX_RATE_PER_IP);
        let inbox_rate_per_actor = raw.inbox_rate_per_actor.unwrap_or(defaults::INBOX_RATE_PER_ACTOR);
        let inbox_retention_days = raw.inbox_retention_days.unwrap_or(defaults::INBOX_RETENTION_DAYS);
        if !(defaults::INBOX_RETENTION_DAYS..=3650).contains(&inbox_retention_days) {
            return Err(ConfigError::new(
                "inbox_retention_days",
                format!(
                    "must be from {} to 3650: activity ids are kept at least {} days to recognise redeliveries",
                    defaults::INBOX_RETENTION_DAYS,
                    defaults::INBOX_RETENTION_DAYS
                ),
            ));
        }
        let trusted_proxies = raw
            .trusted_proxies
            .as_deref()
            .unwrap_or(defaults::TRUSTED_PROXIES)
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(IpNet::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|p| ConfigError::new("trusted_proxies", p))?;
        let rate_limit_ipv6_prefix = raw.rate_limit_ipv6_prefix.unwrap_or(crate::rate_limit::DEFAULT_IPV6_PREFIX);
        if !(32..=128).contains(&rate_limit_ipv6_prefix) {
            return Err(ConfigError::new("rate_limit_ipv6_prefix", "must be from 32 to 128"));
        }
        Ok(Self {
            rate_limit_ipv6_prefix,
            remote_follow_per_minute: raw.remote_follow_per_minute.unwrap_or(defaults::REMOTE_FOLLOW_PER_MINUTE),
            inbox_rate_per_ip,
            inbox_rate_per_actor,
            inbox_retention_days,
            trusted_proxies,
            delivery_concurrency,
            delivery_per_host,
            delivery_lease_seconds,
            delivery_backoff_scale,
            bind,
            public_url,
            data_dir,
            database_url,
            allow_private_fetch,
            log_format,
            log_level,
            database_max_connections,
        })
    }
}

fn read_file(path: &Path, required: bool) -> Result<Layer, ConfigError> {
    let key = "config";
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Layer::default()),
        Err(e) => return Err(ConfigError::new(key, format!("cannot read {}: {e}", path.display()))),
    };
    toml::from_str(&text).map_err(|e| ConfigError::new(key, format!("{}: {}", path.display(), e.message())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_give_a_local_sqlite_instance() {
        let config = Config::from_sources("", &env(&[])).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url.origin(), "http://localhost:8080");
        assert_eq!(config.public_url.handle_domain(), "localhost:8080");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.database_url.engine(), DatabaseEngine::Sqlite);
        assert!(config.database_url.expose().contains("data/openhouse.sqlite"));
        assert!(config.allow_private_fetch.is_empty());
        assert_eq!(config.rate_limit_ipv6_prefix, 64);
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = "public_url = \"https://community.acme.com\"\nbind = \"0.0.0.0:9000\"\n";
        let config = Config::from_sources(file, &env(&[("OPENHOUSE_BIND", "127.0.0.2:8082")])).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.2:8082");
        assert_eq!(config.public_url.handle_domain(), "community.acme.com");
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("OPENHOUSE_BIND", "nowhere", "bind"),
            ("OPENHOUSE_PUBLIC_URL", "ftp://x", "public_url"),
            ("OPENHOUSE_PUBLIC_URL", "https://x.com/community", "public_url"),
            ("OPENHOUSE_DATABASE_URL", "mysql://x", "database_url"),
            ("OPENHOUSE_ALLOW_PRIVATE_FETCH", "10.0.0.0/33:*", "allow_private_fetch"),
            ("OPENHOUSE_LOG_FORMAT", "xml", "log_format"),
            ("OPENHOUSE_DATABASE_MAX_CONNECTIONS", "many", "database_max_connections"),
            ("OPENHOUSE_DELIVERY_PER_HOST", "8", "delivery_per_host"),
            ("OPENHOUSE_DELIVERY_BACKOFF_SCALE", "0", "delivery_backoff_scale"),
            ("OPENHOUSE_DELIVERY_LEASE_SECONDS", "soon", "delivery_lease_seconds"),
            ("OPENHOUSE_INBOX_RATE_PER_IP", "-1", "inbox_rate_per_ip"),
            ("OPENHOUSE_INBOX_RATE_PER_ACTOR", "lots", "inbox_rate_per_actor"),
            ("OPENHOUSE_INBOX_RETENTION_DAYS", "6", "inbox_retention_days"),
            ("OPENHOUSE_INBOX_RETENTION_DAYS", "0", "inbox_retention_days"),
            ("OPENHOUSE_TRUSTED_PROXIES", "127.0.0.1, proxy.local", "trusted_proxies"),
            ("OPENHOUSE_RATE_LIMIT_IPV6_PREFIX", "16", "rate_limit_ipv6_prefix"),
            ("OPENHOUSE_RATE_LIMIT_IPV6_PREFIX", "/64", "rate_limit_ipv6_prefix"),
            ("OPENHOUSE_REMOTE_FOLLOW_PER_MINUTE", "some", "remote_follow_per_minute"),
        ];
        for (var, value, key) in cases {
            let err = Config::from_sources("", &env(&[(var, value)])).unwrap_err();
            assert_eq!(err.key, key, "{var}={value}");
            assert!(err.to_string().contains(key));
        }
        let err = Config::from_sources("colour = \"blue\"", &env(&[])).unwrap_err();
        assert!(err.problem.contains("colour"), "{err}");
    }

    #[test]
    fn handle_domain_keeps_the_port() {
        let url = PublicUrl::parse("http://127.0.0.2:8082").unwrap();
        assert_eq!(url.handle_domain(), "127.0.0.2:8082");
        assert_eq!(url.join("/users/acme"), "http://127.0.0.2:8082/users/acme");
    }

    #[test]
    fn database_url_display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db/openhouse").unwrap();
        assert!(!format!("{url} {url:?}").contains("hunter2"));
        assert_eq!(url.engine(), DatabaseEngine::Postgres);
    }
}
