//! Why a signature, a key or a signing attempt was refused.
//!
//! The inbox answers 400 when a header is malformed and 401 when a request is not
//! authenticated (missing, expired, wrong digest, bad signature): [`SignatureError`] is
//! precise enough to choose, and its messages are safe to send back to the peer (they
//! quote only bounded excerpts of what the peer itself sent).

use http::StatusCode;

/// Why an incoming request's signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Neither `Signature` nor `Signature-Input` is present.
    #[error("the request is not signed: it has no Signature or Signature-Input header")]
    Missing,
    /// A header we must parse is larger than we read.
    #[error("the {header} header is larger than {limit} bytes")]
    TooLarge {
        /// The header.
        header: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// A signature header does not follow its grammar.
    #[error("malformed {header} header: {reason}")]
    Malformed {
        /// The header.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature names an algorithm we do not accept.
    #[error(
        "unsupported signature algorithm {0:?} (accepted: rsa-sha256, hs2019, rsa-v1_5-sha256, rsa-pss-sha512, ed25519)"
    )]
    UnsupportedAlgorithm(String),
    /// The signature covers a component we cannot reproduce (e.g. RFC 9421 `@query-param`).
    #[error("the signature covers {0:?}, which we do not support")]
    UnsupportedComponent(String),
    /// The signature does not cover something it must (I3).
    #[error("the signature must cover {0}")]
    NotCovered(&'static str),
    /// The signature covers a header the request does not have.
    #[error("the signature covers the {0} header, which the request does not have")]
    CoveredHeaderMissing(String),
    /// The covered `Date` header is not an HTTP date (I5).
    #[error("the Date header is not a valid HTTP date")]
    InvalidDate,
    /// The signature claims to be made more than the allowed skew in the future (I5).
    #[error("the signature was made more than an hour in the future; check the sender's clock")]
    FromTheFuture,
    /// The signature is too old (I5).
    #[error("the signature has expired")]
    Expired,
    /// The covered digest header offers no algorithm we can check.
    #[error("the {header} header offers no digest we support (sha-256 or sha-512)")]
    DigestUnsupported {
        /// `Digest` or `Content-Digest`.
        header: &'static str,
    },
    /// The body does not hash to the covered digest (I4).
    #[error("the body does not match the {header} header")]
    DigestMismatch {
        /// `Digest` or `Content-Digest`.
        header: &'static str,
    },
    /// The key cannot make signatures of the named algorithm (e.g. an RSA key for `ed25519`).
    #[error("the signature says {algorithm} but the key is an {key} key")]
    KeyMismatch {
        /// The algorithm the signature names.
        algorithm: String,
        /// The kind of key we hold for the key id.
        key: &'static str,
    },
    /// The signature does not verify with the key.
    #[error("the signature does not verify with the sender's key")]
    BadSignature,
}

impl SignatureError {
    /// The status the inbox answers with: 400 for malformed or oversized headers, 401 for
    /// everything that means "not authenticated" (I9).
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } | Self::Malformed { .. } => StatusCode::BAD_REQUEST,
            Self::Missing
            | Self::UnsupportedAlgorithm(_)
            | Self::UnsupportedComponent(_)
            | Self::NotCovered(_)
            | Self::CoveredHeaderMissing(_)
            | Self::InvalidDate
            | Self::FromTheFuture
            | Self::Expired
            | Self::DigestUnsupported { .. }
            | Self::DigestMismatch { .. }
            | Self::KeyMismatch { .. }
            | Self::BadSignature => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A key in PEM form could not be used. For a remote actor's key the inbox answers 401; for
/// one of our own keys it is our fault (500).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No `-----BEGIN …-----`/`-----END …-----` block, or its base64 does not decode.
    #[error("not a PEM document")]
    NotPem,
    /// The PEM text is larger than any key we accept.
    #[error("the PEM text is larger than {0} bytes")]
    TooLarge(usize),
    /// A PEM label we do not read (we read `PUBLIC KEY`, `RSA PUBLIC KEY`, `PRIVATE KEY`,
    /// `RSA PRIVATE KEY`).
    #[error("unsupported PEM block {0:?}")]
    UnsupportedLabel(String),
    /// The DER inside is not a key we can use (malformed, not RSA/Ed25519, or RSA outside
    /// 2048–8192 bits).
    #[error("unusable key: {0}")]
    Rejected(&'static str),
}

/// Signing an outgoing request failed. Only our own inputs can cause it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The URL has no host, so there is no `Host` to sign.
    #[error("cannot sign a request to {0}: the URL has no host")]
    NoHost(String),
    /// A header value we would write is not a valid header value.
    #[error("cannot sign: invalid {0} header value")]
    InvalidHeader(&'static str),
    /// The crypto library refused to sign (it does not, in practice).
    #[error("RSA signing failed")]
    Crypto,
}
