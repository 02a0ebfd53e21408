//! Passwords and one-time tokens: hashing, verification, random generation.
//!
//! argon2id with the crate's defaults (19 MiB, 2 passes) for passwords; random tokens are
//! stored only as SHA-256 digests and compared in constant time.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use aws_lc_rs::{constant_time, digest, rand::SecureRandom};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// Shortest password we accept.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest password we hash (bounds the work an attacker can make us do).
pub const MAX_PASSWORD_LEN: usize = 512;

/// A secret string whose `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Random failed or hashing failed inside the library.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecretError(&'static str);

/// `n` random bytes from the system generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| SecretError("random generator failed"))?;
    Ok(bytes)
}

/// A random URL-safe token with 256 bits of entropy.
pub fn random_token() -> Result<String, SecretError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A random password for `openhouse user create` (24 URL-safe characters, 144 bits).
pub fn random_password() -> Result<String, SecretError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<18>()?))
}

/// Hex SHA-256 of a token, what we store in its place.
pub fn token_digest(token: &str) -> String {
    digest::digest(&digest::SHA256, token.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` hashes to `stored_digest`, in constant time.
pub fn token_matches(token: &str, stored_digest: &str) -> bool {
    constant_time::verify_slices_are_equal(token_digest(token).as_bytes(), stored_digest.as_bytes()).is_ok()
}

/// Checks a new password against the policy; the message says what to fix.
pub fn check_password_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(format!("the password must have at least {MIN_PASSWORD_LEN} characters"));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(format!("the password must have at most {MAX_PASSWORD_LEN} bytes"));
    }
    Ok(())
}

/// argon2id PHC string for a password. CPU-heavy: call from `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| SecretError("salt encoding failed"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| SecretError("password hashing failed"))
}

/// Whether `password` matches a stored PHC string. CPU-heavy: call from `spawn_blocking`.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwords_round_trip_and_wrong_ones_fail() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterx", &phc));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_compare_by_digest() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(token_matches(&a, &token_digest(&a)));
        assert!(!token_matches(&b, &token_digest(&a)));
    }

    #[test]
    fn policy_names_the_rule() {
        assert!(check_password_policy("short").unwrap_err().contains("at least 10"));
        assert!(check_password_policy(&"x".repeat(600)).is_err());
        assert!(check_password_policy("long enough pass").is_ok());
    }
}
