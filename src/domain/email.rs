//! Staff sign-in addresses.

use std::fmt;

/// An e-mail address, trimmed and lower-cased. The check is deliberately plain (one `@`,
/// something on each side, a dot in the domain): the address is a sign-in name, not a
/// delivery target we verify.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Validates and normalises an address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid { Ok(Self(email)) } else { Err(format!("{raw:?} is not an e-mail address")) }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_rejects() {
        assert_eq!(Email::parse(" Ops@Acme.COM ").map(|e| e.to_string()), Ok("ops@acme.com".to_owned()));
        for bad in ["", "acme", "@acme.com", "ops@", "ops@acme", "o ps@acme.com", "a@b@c.com", "ops@.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
