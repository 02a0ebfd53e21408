//! What a staff user may do in the console.

use std::{fmt, str::FromStr};

/// Staff roles, from most to least powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Runs the instance; there is at least one.
    Owner,
    /// Manages accounts, staff and settings.
    Admin,
    /// Handles reports, blocks and the hold queue.
    Moderator,
    /// Writes updates and answers conversations.
    Editor,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Moderator => "moderator",
            Self::Editor => "editor",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "moderator" => Ok(Self::Moderator),
            "editor" => Ok(Self::Editor),
            other => Err(format!("{other:?} is not a role (owner, admin, moderator, editor)")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
