//! Key material for actors, on aws-lc-rs (see `docs/adr/0003-crypto-backend.md`).
//!
//! Every local actor gets an RSA-2048 key pair when it is created: the public half goes in
//! its actor document, the private half stays in `actor_keys` and never leaves the server.

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der},
    rsa::{KeyPair, KeySize},
    signature::KeyPair as _,
};
use base64::{Engine, engine::general_purpose::STANDARD};

/// A freshly generated key pair in PEM form.
pub struct GeneratedKeys {
    /// PKCS#8 `PRIVATE KEY` PEM. Secret.
    pub private_pem: String,
    /// SubjectPublicKeyInfo `PUBLIC KEY` PEM, what `publicKeyPem` carries.
    pub public_pem: String,
}

/// Key generation failed inside the crypto library (it does not, in practice).
#[derive(Debug, thiserror::Error)]
#[error("RSA key generation failed")]
pub struct KeyGenError;

/// Generates an RSA-2048 key pair. Takes tens of milliseconds: call it off the async
/// executor (`spawn_blocking`) on request paths.
pub fn generate_rsa_keys() -> Result<GeneratedKeys, KeyGenError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyGenError)?;
    let private: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| KeyGenError)?;
    let public: PublicKeyX509Der<'static> = pair.public_key().as_der().map_err(|_| KeyGenError)?;
    Ok(GeneratedKeys {
        private_pem: pem("PRIVATE KEY", private.as_ref()),
        public_pem: pem("PUBLIC KEY", public.as_ref()),
    })
}

/// Wraps DER bytes in PEM armour with 64-character lines.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_keys_are_pem_and_the_private_half_parses_back() {
        let keys = generate_rsa_keys().unwrap();
        assert!(keys.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(keys.private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(keys.public_pem.lines().all(|l| l.len() <= 64));
        let body: String = keys.private_pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(body).unwrap();
        let pair = KeyPair::from_pkcs8(&der).unwrap();
        assert_eq!(pair.public_modulus_len(), 256, "RSA-2048");
    }
}
