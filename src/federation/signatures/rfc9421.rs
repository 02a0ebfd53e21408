//! RFC 9421 HTTP Message Signatures, which Mastodon verifies since 4.5 and moves to.
//!
//! `Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=…;keyid="…"`
//! and `Signature: sig1=:<base64>:`, both structured-field dictionaries (parsed with `sfv`).
//! The signature base is one `"component": value` line per covered component, then the
//! `"@signature-params"` line, the re-serialized inner list. We reproduce the request-side
//! derived components and plain header fields; component parameters (`;sf`, `;key`, `;bs`,
//! `;req`, `;tr`, `@query-param;name=`) and response components are refused as unsupported
//! rather than guessed at.

use std::time::SystemTime;

use http::HeaderName;
use sfv::{BareItem, Dictionary, InnerList, ListEntry, ListSerializer, Parser};

use super::{
    Algorithm, Candidate, RequestParts, SIGNATURE, SIGNATURE_INPUT, Scheme, SignatureError,
    cavage::{MAX_COVERED, MAX_SIGNATURE_BYTES, append_field, http_date},
    header_text, policy,
    policy::Coverage,
    truncate,
};

/// Most signatures of one request we consider; the rest are ignored.
const MAX_SIGNATURES: usize = 4;

fn malformed(header: &'static str, reason: impl Into<String>) -> SignatureError {
    SignatureError::Malformed { header, reason: reason.into() }
}

/// Extracts every RFC 9421 signature of the request (at most [`MAX_SIGNATURES`]), each
/// parsed on its own: one bad signature does not hide a good one.
pub(super) fn parse(parts: &RequestParts<'_>) -> Result<Vec<Result<Candidate, SignatureError>>, SignatureError> {
    let input = header_text(parts.headers, &SIGNATURE_INPUT, "Signature-Input")?.ok_or(SignatureError::Missing)?;
    let signatures = header_text(parts.headers, &SIGNATURE, "Signature")?.ok_or(SignatureError::Missing)?;
    let inputs: Dictionary = Parser::new(&input).parse().map_err(|e| malformed("Signature-Input", e.to_string()))?;
    let signatures: Dictionary = Parser::new(&signatures).parse().map_err(|e| malformed("Signature", e.to_string()))?;
    if inputs.is_empty() {
        return Err(malformed("Signature-Input", "no signature is described"));
    }
    Ok(inputs
        .iter()
        .take(MAX_SIGNATURES)
        .map(|(label, entry)| parse_one(parts, label.as_str(), entry, &signatures))
        .collect())
}

/// Extracts the signature labelled `label`.
fn parse_one(
    parts: &RequestParts<'_>,
    label: &str,
    entry: &ListEntry,
    signatures: &Dictionary,
) -> Result<Candidate, SignatureError> {
    let ListEntry::InnerList(list) = entry else {
        return Err(malformed("Signature-Input", format!("{label} is not an inner list")));
    };
    let signature = match signatures.get(label) {
        Some(ListEntry::Item(item)) => match &item.bare_item {
            BareItem::ByteSequence(bytes) if !bytes.is_empty() && bytes.len() <= MAX_SIGNATURE_BYTES => bytes.clone(),
            _ => return Err(malformed("Signature", format!("{label} is not a byte sequence of a plausible length"))),
        },
        _ => return Err(malformed("Signature", format!("no signature labelled {label}"))),
    };
    let params = Params::from_list(list)?;
    let algorithm = match params.alg.as_deref() {
        None => Algorithm::FromKey,
        Some("rsa-v1_5-sha256") => Algorithm::RsaPkcs1Sha256,
        Some("rsa-pss-sha512") => Algorithm::RsaPssSha512,
        Some("ed25519") => Algorithm::Ed25519,
        Some(other) => return Err(SignatureError::UnsupportedAlgorithm(truncate(other))),
    };
    let key_id = params.keyid.ok_or_else(|| malformed("Signature-Input", format!("{label} has no keyid")))?;

    let mut coverage = Coverage { time: params.created.is_some(), ..Coverage::default() };
    let mut date_at = None;
    let mut base = Vec::with_capacity(512);
    let mut seen: Vec<&str> = Vec::new();
    for item in &list.items {
        let name = component_name(item)?;
        if seen.contains(&name) {
            return Err(malformed("Signature-Input", format!("{name} is covered twice")));
        }
        if seen.len() == MAX_COVERED {
            return Err(malformed("Signature-Input", format!("more than {MAX_COVERED} components")));
        }
        seen.push(name);
        base.push(b'"');
        base.extend_from_slice(name.as_bytes());
        base.extend_from_slice(b"\": ");
        append_component(&mut base, parts, name, &mut coverage)?;
        base.push(b'\n');
        if name == "date" {
            coverage.time = true;
            date_at = Some(http_date(parts.headers)?);
        }
    }
    base.extend_from_slice(b"\"@signature-params\": ");
    base.extend_from_slice(serialize_params(entry).as_bytes());

    Ok(Candidate {
        scheme: Scheme::Rfc9421,
        algorithm,
        key_id,
        coverage,
        created: params.created.or(date_at),
        expires: params.expires,
        signing_string: base,
        signature,
    })
}

/// The signature parameters we use; others (`nonce`, `tag`, …) are only signed over.
#[derive(Default)]
struct Params {
    created: Option<SystemTime>,
    expires: Option<SystemTime>,
    keyid: Option<String>,
    alg: Option<String>,
}

impl Params {
    fn from_list(list: &InnerList) -> Result<Self, SignatureError> {
        let mut out = Self::default();
        for (name, value) in &list.params {
            let bad = || malformed("Signature-Input", format!("the {} parameter has the wrong type", name.as_str()));
            match name.as_str() {
                "created" | "expires" => {
                    let time = value.as_integer().map(i64::from).and_then(policy::unix_time).ok_or_else(bad)?;
                    if name.as_str() == "created" {
                        out.created = Some(time);
                    } else {
                        out.expires = Some(time);
                    }
                }
                "keyid" => out.keyid = Some(value.as_string().ok_or_else(bad)?.as_str().to_owned()),
                "alg" => out.alg = Some(value.as_string().ok_or_else(bad)?.as_str().to_owned()),
                _ => {}
            }
        }
        Ok(out)
    }
}

/// The name of a covered component: a string without parameters.
fn component_name(item: &sfv::Item) -> Result<&str, SignatureError> {
    let BareItem::String(name) = &item.bare_item else {
        return Err(malformed("Signature-Input", "a covered component is not a string"));
    };
    let name = name.as_str();
    if let Some((param, _)) = item.params.first() {
        return Err(SignatureError::UnsupportedComponent(format!("{};{}", truncate(name), param.as_str())));
    }
    Ok(name)
}

/// Appends the value of one component and records what it covers.
fn append_component(
    out: &mut Vec<u8>,
    parts: &RequestParts<'_>,
    name: &str,
    coverage: &mut Coverage,
) -> Result<(), SignatureError> {
    let target = parts.target();
    let (path, query) = target.split_once('?').map_or((target, None), |(p, q)| (p, Some(q)));
    match name {
        "@method" => {
            coverage.method = true;
            out.extend_from_slice(parts.method.as_str().as_bytes());
        }
        "@target-uri" => {
            (coverage.path, coverage.authority) = (true, true);
            let uri =
                format!("{}://{}{target}", parts.scheme.to_ascii_lowercase(), parts.authority.to_ascii_lowercase());
            out.extend_from_slice(uri.as_bytes());
        }
        "@authority" | "host" => {
            coverage.authority = true;
            out.extend_from_slice(parts.authority.to_ascii_lowercase().as_bytes());
        }
        "@scheme" => out.extend_from_slice(parts.scheme.to_ascii_lowercase().as_bytes()),
        "@request-target" => {
            coverage.path = true;
            out.extend_from_slice(target.as_bytes());
        }
        "@path" => {
            coverage.path = true;
            out.extend_from_slice(if path.is_empty() { "/" } else { path }.as_bytes());
        }
        "@query" => {
            out.push(b'?');
            out.extend_from_slice(query.unwrap_or_default().as_bytes());
        }
        derived if derived.starts_with('@') => return Err(SignatureError::UnsupportedComponent(truncate(derived))),
        field => {
            // Field names in a signature are lower-case by definition (RFC 9421 §2.1).
            if HeaderName::from_bytes(field.as_bytes()).map_or(true, |h| h.as_str() != field) {
                return Err(malformed(
                    "Signature-Input",
                    format!("{:?} is not a lower-case field name", truncate(field)),
                ));
            }
            coverage.digest |= field == "digest";
            coverage.content_digest |= field == "content-digest";
            append_field(out, parts.headers, field)?;
        }
    }
    Ok(())
}

/// The `@signature-params` value: the inner list with its parameters, re-serialized.
fn serialize_params(entry: &ListEntry) -> String {
    let mut serializer = ListSerializer::new();
    serializer.members(std::iter::once(entry));
    serializer.finish().unwrap_or_default()
}
