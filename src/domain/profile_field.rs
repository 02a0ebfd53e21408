//! Name/value pairs shown on a profile ("Website", "Support hours"…).

use serde::{Deserialize, Serialize};

/// Most fields on one local profile: Mastodon shows four, so four is what people will see
/// (its cap on remote profiles, 50, applies to what we ingest).
pub const MAX_PROFILE_FIELDS: usize = 4;
/// Longest field name or value, in characters.
pub const MAX_FIELD_LEN: usize = 255;

/// One profile field, as plain text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileField {
    /// The label.
    pub name: String,
    /// The value; an `http(s)://` URL becomes a link when rendered.
    pub value: String,
}

impl ProfileField {
    /// Parses the CLI form `Name=value`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (name, value) = raw.split_once('=').ok_or_else(|| format!("{raw:?} is not of the form Name=value"))?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || value.is_empty() {
            return Err(format!("{raw:?} needs both a name and a value"));
        }
        if name.chars().count() > MAX_FIELD_LEN || value.chars().count() > MAX_FIELD_LEN {
            return Err(format!("profile field names and values are at most {MAX_FIELD_LEN} characters"));
        }
        Ok(Self { name: name.to_owned(), value: value.to_owned() })
    }

    /// The value as a link target, when it is a web URL.
    pub fn link(&self) -> Option<url::Url> {
        url::Url::parse(&self.value).ok().filter(|u| u.scheme() == "https" || u.scheme() == "http")
    }
}
