//! Who may see a post.

use std::{fmt, str::FromStr};

/// A post's audience.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Anyone; listed in public timelines.
    Public,
    /// Anyone with the link; kept out of public timelines.
    Unlisted,
    /// Accepted followers (and mentioned accounts) only.
    Followers,
}

impl Visibility {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Followers => "followers",
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
        assert!("direct".parse::<Visibility>().unwrap_err().contains("public, unlisted or followers"));
    }
}
