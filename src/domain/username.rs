//! Local account names: the `acme` in `@acme@community.acme.com`.

use std::fmt;

/// A local username: 1 to 30 characters of `a-z`, `0-9` and `_`.
///
/// Lower-case only, so that `@Acme` and `@acme` can never be two accounts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

/// Longest local username, as on Mastodon.
pub const MAX_USERNAME_LEN: usize = 30;

impl Username {
    /// Validates a username exactly as given (no case folding: the caller sees what is wrong).
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("a username cannot be empty".into());
        }
        if raw.len() > MAX_USERNAME_LEN {
            return Err(format!("{raw:?} is longer than {MAX_USERNAME_LEN} characters"));
        }
        if let Some(bad) = raw.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')) {
            return Err(format!(
                "{raw:?} contains {bad:?}; a username may use only lower-case letters a-z, digits and _"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["acme", "a", "acme_beta_2", "0", &"x".repeat(30)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_everything_else_with_a_reason() {
        for bad in ["", "Acme", "ac-me", "ac.me", "acmé", "a b", &"x".repeat(31), "../x"] {
            let err = Username::parse(bad).err();
            assert!(err.is_some_and(|e| !e.is_empty()), "{bad}");
        }
    }
}
