//! Public keys from PEM, and a bounded cache of parsed keys.
//!
//! Actors publish their key as `publicKeyPem`: almost always an RSA SubjectPublicKeyInfo
//! (`PUBLIC KEY`), sometimes PKCS#1 (`RSA PUBLIC KEY`), and on newer servers Ed25519.
//! Parsing PEM and building the key costs more than verifying a signature with it, and a
//! busy inbox sees the same few thousand senders again and again, so [`KeyCache`] keeps
//! parsed keys by key id (`FEDERATION.md` §3). It is keyed by key id *and* checked
//! against a fingerprint of the PEM, so a rotated key is never served stale.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, PoisonError},
};

use aws_lc_rs::{
    digest::{SHA256, digest},
    rsa,
    signature::{ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA512, UnparsedPublicKey},
};
use base64::{Engine, engine::general_purpose::STANDARD};

use super::{Algorithm, KeyError, SignatureError};

/// Largest PEM text we read: an RSA-8192 SPKI is about 1.5 KB.
const MAX_PEM_BYTES: usize = 16 * 1024;
/// RSA moduli we accept, in bytes (2048 to 8192 bits), as the verification algorithms do.
const RSA_MODULUS_BYTES: std::ops::RangeInclusive<usize> = 256..=1024;

/// The kind of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA, 2048 to 8192 bits.
    Rsa,
    /// Ed25519.
    Ed25519,
}

impl KeyKind {
    fn name(self) -> &'static str {
        match self {
            Self::Rsa => "RSA",
            Self::Ed25519 => "Ed25519",
        }
    }
}

/// A parsed public key, ready to verify signatures. Cheap to share behind an [`Arc`].
#[derive(Clone)]
pub struct PublicKey {
    kind: KeyKind,
    /// Parsed for the common case: RSA PKCS#1 v1.5 SHA-256, or Ed25519.
    parsed: ParsedPublicKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Parses a PEM public key: `PUBLIC KEY` (RSA or Ed25519 SubjectPublicKeyInfo) or
    /// `RSA PUBLIC KEY` (PKCS#1). RSA keys must be 2048 to 8192 bits.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_block(pem)?;
        match label.as_str() {
            "PUBLIC KEY" => {
                Self::rsa_from_der(&der).or_else(|rsa_error| Self::ed25519_from_der(&der).map_err(|_| rsa_error))
            }
            "RSA PUBLIC KEY" => Self::rsa_from_der(&der),
            _ => Err(KeyError::UnsupportedLabel(label)),
        }
    }

    /// An RSA key from PKCS#1 `RSAPublicKey` or SubjectPublicKeyInfo DER.
    fn rsa_from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = rsa::PublicKey::from_der(der).map_err(|_| KeyError::Rejected("not an RSA public key"))?;
        if !RSA_MODULUS_BYTES.contains(&key.modulus_len()) {
            return Err(KeyError::Rejected("RSA keys must be 2048 to 8192 bits"));
        }
        let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
            .map_err(|_| KeyError::Rejected("not an RSA public key"))?;
        Ok(Self { kind: KeyKind::Rsa, parsed })
    }

    /// An Ed25519 key from SubjectPublicKeyInfo DER.
    fn ed25519_from_der(der: &[u8]) -> Result<Self, KeyError> {
        let parsed =
            ParsedPublicKey::new(&ED25519, der).map_err(|_| KeyError::Rejected("not an Ed25519 public key"))?;
        Ok(Self { kind: KeyKind::Ed25519, parsed })
    }

    /// The kind of key.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Verifies `signature` over `message` with the named algorithm.
    pub(super) fn verify(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let ok = match (algorithm, self.kind) {
            (Algorithm::RsaPkcs1Sha256, KeyKind::Rsa) | (Algorithm::Ed25519 | Algorithm::FromKey, KeyKind::Ed25519) => {
                self.parsed.verify_sig(message, signature).is_ok()
            }
            (Algorithm::RsaPssSha512, KeyKind::Rsa) => self.verify_pss(message, signature),
            // Mastodon signs `hs2019` with PKCS#1 v1.5; the draft meant PSS. Accept either.
            (Algorithm::FromKey, KeyKind::Rsa) => {
                self.parsed.verify_sig(message, signature).is_ok() || self.verify_pss(message, signature)
            }
            (Algorithm::RsaPkcs1Sha256 | Algorithm::RsaPssSha512 | Algorithm::Ed25519, kind) => {
                return Err(SignatureError::KeyMismatch { algorithm: algorithm.to_string(), key: kind.name() });
            }
        };
        if ok { Ok(()) } else { Err(SignatureError::BadSignature) }
    }

    /// RSA-PSS is rare on the wire, so its key is not kept parsed: the DER is re-read here.
    fn verify_pss(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA512, self.parsed.as_ref()).verify(message, signature).is_ok()
    }
}

/// Extracts the first PEM block: its label and decoded contents. Whitespace inside the
/// base64 (any line length, `\r\n`) is tolerated, as actor documents vary.
pub(super) fn pem_block(pem: &str) -> Result<(String, Vec<u8>), KeyError> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(KeyError::TooLarge(MAX_PEM_BYTES));
    }
    let (_, rest) = pem.split_once("-----BEGIN ").ok_or(KeyError::NotPem)?;
    let (label, rest) = rest.split_once("-----").ok_or(KeyError::NotPem)?;
    let end = format!("-----END {label}-----");
    let (body, _) = rest.split_once(end.as_str()).ok_or(KeyError::NotPem)?;
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(b64).map_err(|_| KeyError::NotPem)?;
    Ok((label.to_owned(), der))
}

/// A thread-safe, bounded map from key id to parsed key.
///
/// Two generations approximate least-recently-used eviction in O(1): entries go into the
/// young generation; when it holds half the capacity it becomes the old one (the previous
/// old one is dropped); a hit in the old generation moves the entry back to the young
/// one. At most `capacity` keys are held, and keys in steady use are never evicted.
pub struct KeyCache {
    half: usize,
    inner: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    young: HashMap<String, Entry>,
    old: HashMap<String, Entry>,
}

#[derive(Clone)]
struct Entry {
    /// SHA-256 of the PEM the key was parsed from.
    fingerprint: [u8; 32],
    key: Arc<PublicKey>,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache").field("capacity", &self.capacity()).field("len", &self.len()).finish()
    }
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl KeyCache {
    /// The default number of keys held: the senders of a busy instance.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A cache holding at most `capacity` keys (at least 2).
    pub fn new(capacity: usize) -> Self {
        Self { half: (capacity / 2).max(1), inner: Mutex::new(Generations::default()) }
    }

    /// The most keys held at once.
    pub fn capacity(&self) -> usize {
        self.half * 2
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        let g = self.lock();
        g.young.len() + g.old.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key for `key_id` parsed from `pem`: from the cache when the same PEM was parsed
    /// before under this id, else parsed now (outside the lock) and remembered.
    pub fn get_or_parse(&self, key_id: &str, pem: &str) -> Result<Arc<PublicKey>, KeyError> {
        let fingerprint = fingerprint(pem);
        if let Some(entry) = self.lookup(key_id)
            && entry.fingerprint == fingerprint
        {
            return Ok(entry.key);
        }
        let key = Arc::new(PublicKey::from_pem(pem)?);
        self.insert(key_id, Entry { fingerprint, key: key.clone() });
        Ok(key)
    }

    /// The key cached for `key_id`, whatever PEM it came from. Call [`KeyCache::remove`]
    /// when the key is known to have changed.
    pub fn get(&self, key_id: &str) -> Option<Arc<PublicKey>> {
        self.lookup(key_id).map(|e| e.key)
    }

    /// Forgets the key for `key_id` (after a re-fetch shows the actor rotated it).
    pub fn remove(&self, key_id: &str) {
        let mut g = self.lock();
        g.young.remove(key_id);
        g.old.remove(key_id);
    }

    fn lookup(&self, key_id: &str) -> Option<Entry> {
        let mut g = self.lock();
        if let Some(entry) = g.young.get(key_id) {
            return Some(entry.clone());
        }
        let entry = g.old.remove(key_id)?;
        Self::insert_young(&mut g, self.half, key_id.to_owned(), entry.clone());
        Some(entry)
    }

    fn insert(&self, key_id: &str, entry: Entry) {
        let mut g = self.lock();
        g.old.remove(key_id);
        Self::insert_young(&mut g, self.half, key_id.to_owned(), entry);
    }

    fn insert_young(g: &mut Generations, half: usize, key_id: String, entry: Entry) {
        if g.young.len() >= half && !g.young.contains_key(&key_id) {
            g.old = std::mem::take(&mut g.young);
        }
        g.young.insert(key_id, entry);
    }

    /// A panic elsewhere while holding the lock leaves the maps consistent, so poisoning is
    /// ignored.
    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn fingerprint(pem: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, b) in out.iter_mut().zip(digest(&SHA256, pem.as_bytes()).as_ref()) {
        *o = *b;
    }
    out
}
