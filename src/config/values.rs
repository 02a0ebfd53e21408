//! The validated value types of the configuration: the public URL everything is built
//! from, and the database connection string (which never prints its password).

use std::{fmt, path::Path};

use url::Url;

/// The public base URL, normalised: http(s), no path beyond `/`, no query or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(Url);

impl PublicUrl {
    /// Parses and validates a public URL.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw.trim()).map_err(|e| format!("not a URL ({e})"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err("must start with http:// or https://".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(
                "must be the bare origin, without a path, query or fragment (Openhouse cannot be served under a sub-path)"
                    .into(),
            );
        }
        Ok(Self(url))
    }

    /// The URL itself, ending in `/`.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The origin without a trailing slash, for building links: `https://community.acme.com`.
    pub fn origin(&self) -> String {
        self.0.as_str().trim_end_matches('/').to_owned()
    }

    /// The domain used in handles and by WebFinger: host, plus `:port` when one is given.
    pub fn handle_domain(&self) -> String {
        let host = self.0.host_str().unwrap_or_default();
        match self.0.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// The host without a port.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// Joins a path (starting with `/`) onto the origin.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.origin(), path)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())
    }
}

/// A database connection string. Its `Debug`/`Display` hide any password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

/// Which engine a [`DatabaseUrl`] points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseEngine {
    /// The embedded default.
    Sqlite,
    /// The scale-out engine.
    Postgres,
}

impl DatabaseUrl {
    /// Validates the scheme of a connection string.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("sqlite:") || raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must start with sqlite:, postgres:// or postgresql://".into())
        }
    }

    /// The SQLite file under the data directory used when no URL is configured.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self(format!("sqlite://{}?mode=rwc", data_dir.join("openhouse.sqlite").display()))
    }

    /// The engine this URL selects.
    pub fn engine(&self) -> DatabaseEngine {
        if self.0.starts_with("sqlite:") { DatabaseEngine::Sqlite } else { DatabaseEngine::Postgres }
    }

    /// The full connection string, password included: only for opening the connection.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("********"));
                f.write_str(url.as_str())
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}
