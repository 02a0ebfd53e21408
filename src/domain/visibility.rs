//! Who may see a post.
//!
//! Stored as text in `posts.visibility` (the derive maps each variant to its string, so a
//! typo does not compile). Our own posts are public, unlisted or followers-only; `Direct`
//! only describes remote notes addressed to named people alone, and is never a choice a
//! staff member parses from input.

use std::{fmt, str::FromStr};

use sea_orm::{DeriveActiveEnum, EnumIter, entity::prelude::StringLen};
use serde::{Serialize, Serializer};

/// A post's audience.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Visibility {
    /// Anyone; listed in public timelines.
    #[sea_orm(string_value = "public")]
    Public,
    /// Anyone with the link; kept out of public timelines.
    #[sea_orm(string_value = "unlisted")]
    Unlisted,
    /// Accepted followers (and mentioned accounts) only.
    #[sea_orm(string_value = "followers")]
    Followers,
    /// The mentioned accounts alone (remote notes only).
    #[sea_orm(string_value = "direct")]
    Direct,
}

impl Visibility {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Followers => "followers",
            Self::Direct => "direct",
        }
    }

    /// Whether anyone may read it at its URL.
    pub fn is_world_readable(self) -> bool {
        matches!(self, Self::Public | Self::Unlisted)
    }
}

impl FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "public" => Ok(Self::Public),
            "unlisted" => Ok(Self::Unlisted),
            "followers" | "private" => Ok(Self::Followers),
            other => Err(format!("unknown visibility {other:?}: use public, unlisted or followers")),
        }
    }
}

impl Serialize for Visibility {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_and_names_the_choices() {
        for v in [Visibility::Public, Visibility::Unlisted, Visibility::Followers] {
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(v));
        }
        // Stored strings are what earlier versions wrote.
        use sea_orm::ActiveEnum;
        for (v, stored) in [
            (Visibility::Public, "public"),
            (Visibility::Unlisted, "unlisted"),
            (Visibility::Followers, "followers"),
            (Visibility::Direct, "direct"),
        ] {
            assert_eq!((v.to_value(), v.as_str()), (stored.to_owned(), stored));
        }
        assert!("direct".parse::<Visibility>().unwrap_err().contains("public, unlisted or followers"));
    }
}
