//! draft-cavage-http-signatures-12, the format the fediverse has signed with since 2017.
//!
//! `Signature: keyId="…",algorithm="rsa-sha256",headers="(request-target) host date digest",
//! signature="<base64>"`. The signing string is one `name: value` line per name in
//! `headers`, joined by `\n`. The grammar is loose in the wild, so the parser accepts
//! quoted or bare values, any parameter order and optional spaces, and refuses duplicates,
//! unknown pseudo-headers and anything unbounded. Both directions build the signing string
//! with [`signing_string`], so what we sign is exactly what we would verify.

use std::time::SystemTime;

use base64::{
    Engine,
    alphabet::STANDARD as STANDARD_ALPHABET,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use http::{HeaderMap, HeaderName, Method, header::DATE};

use super::{
    Algorithm, Candidate, RequestParts, SIGNATURE, Scheme, SignatureError, header_text, policy, policy::Coverage,
    truncate,
};

/// Standard base64 that tolerates missing padding, as some signers omit it.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD_ALPHABET,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Most parameters in one `Signature` header.
const MAX_PARAMS: usize = 16;
/// Most names in `headers`.
pub(super) const MAX_COVERED: usize = 32;
/// Largest decoded signature: RSA-8192.
pub(super) const MAX_SIGNATURE_BYTES: usize = 1024;

fn malformed(reason: impl Into<String>) -> SignatureError {
    SignatureError::Malformed { header: "Signature", reason: reason.into() }
}

/// Extracts a draft-cavage signature from the `Signature` header.
pub(super) fn parse(parts: &RequestParts<'_>) -> Result<Candidate, SignatureError> {
    let header = header_text(parts.headers, &SIGNATURE, "Signature")?.ok_or(SignatureError::Missing)?;
    let params = parse_params(&header).map_err(malformed)?;
    let get = |name: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());

    let key_id = get("keyId").filter(|k| !k.is_empty()).ok_or_else(|| malformed("keyId is missing"))?;
    let algorithm = match get("algorithm").map(str::to_ascii_lowercase).as_deref() {
        Some("rsa-sha256") => Algorithm::RsaPkcs1Sha256,
        Some("hs2019") | None => Algorithm::FromKey,
        Some(other) => return Err(SignatureError::UnsupportedAlgorithm(truncate(other))),
    };
    let signature = get("signature").ok_or_else(|| malformed("signature is missing"))?;
    let signature = LENIENT_BASE64
        .decode(signature)
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= MAX_SIGNATURE_BYTES)
        .ok_or_else(|| malformed("signature is not base64 of a plausible length"))?;
    let created = get("created").map(|v| timestamp(v, "created")).transpose()?;
    let expires = get("expires").map(|v| timestamp(v, "expires")).transpose()?;

    // Mastodon's defaults when `headers` is absent.
    let default = if algorithm == Algorithm::FromKey { "(created)" } else { "date" };
    let names = covered_names(get("headers").unwrap_or(default))?;

    let mut coverage = Coverage::default();
    let (mut created_at, mut date_at, mut expires_at) = (None, None, None);
    for name in &names {
        match name.as_str() {
            "(request-target)" => (coverage.method, coverage.path) = (true, true),
            "host" => coverage.authority = true,
            "digest" => coverage.digest = true,
            "content-digest" => coverage.content_digest = true,
            "date" => {
                coverage.time = true;
                date_at = Some(http_date(parts.headers)?);
            }
            "(created)" => {
                coverage.time = true;
                let (_, at) = created.ok_or_else(|| malformed("(created) is covered but created is missing"))?;
                created_at = Some(at);
            }
            "(expires)" => {
                let (_, at) = expires.ok_or_else(|| malformed("(expires) is covered but expires is missing"))?;
                expires_at = Some(at);
            }
            _ => {}
        }
    }
    let signing_string = signing_string(
        &names,
        parts.method,
        parts.target(),
        parts.authority,
        parts.headers,
        created.map(|(raw, _)| raw),
        expires.map(|(raw, _)| raw),
    )?;
    Ok(Candidate {
        scheme: Scheme::Cavage,
        algorithm,
        key_id: key_id.to_owned(),
        coverage,
        created: created_at.or(date_at),
        expires: expires_at,
        signing_string,
        signature,
    })
}

/// Builds the signing string for the covered `names` (already lower-case and checked).
/// `host` is the request's authority, so a request replayed to another server fails.
pub(super) fn signing_string(
    names: &[String],
    method: &Method,
    target: &str,
    authority: &str,
    headers: &HeaderMap,
    created: Option<&str>,
    expires: Option<&str>,
) -> Result<Vec<u8>, SignatureError> {
    let mut out = Vec::with_capacity(256);
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        match name.as_str() {
            "(request-target)" => {
                out.extend_from_slice(method.as_str().to_ascii_lowercase().as_bytes());
                out.push(b' ');
                out.extend_from_slice(target.as_bytes());
            }
            "(created)" => out.extend_from_slice(created.unwrap_or_default().as_bytes()),
            "(expires)" => out.extend_from_slice(expires.unwrap_or_default().as_bytes()),
            "host" => out.extend_from_slice(authority.as_bytes()),
            field => append_field(&mut out, headers, field)?,
        }
    }
    Ok(out)
}

/// Appends a header's values, each trimmed, joined by `, ` (draft-cavage §2.3).
pub(super) fn append_field(out: &mut Vec<u8>, headers: &HeaderMap, name: &str) -> Result<(), SignatureError> {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return Err(SignatureError::CoveredHeaderMissing(name.to_owned()));
    }
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(value.as_bytes().trim_ascii());
    }
    Ok(())
}

/// Splits and checks the `headers` parameter: lower-cased, at most [`MAX_COVERED`] names,
/// each a known pseudo-header or a valid header name, none twice.
fn covered_names(list: &str) -> Result<Vec<String>, SignatureError> {
    let mut names: Vec<String> = Vec::new();
    for name in list.split_ascii_whitespace() {
        let name = name.to_ascii_lowercase();
        let valid = matches!(name.as_str(), "(request-target)" | "(created)" | "(expires)")
            || HeaderName::from_bytes(name.as_bytes()).is_ok();
        if !valid {
            return Err(malformed(format!("{:?} in headers is not a header name", truncate(&name))));
        }
        if names.contains(&name) {
            return Err(malformed(format!("{name} is listed twice in headers")));
        }
        if names.len() == MAX_COVERED {
            return Err(malformed(format!("more than {MAX_COVERED} names in headers")));
        }
        names.push(name);
    }
    if names.is_empty() {
        return Err(malformed("headers is empty"));
    }
    Ok(names)
}

/// The covered `Date` header as a time; unparseable is [`SignatureError::InvalidDate`] (I5).
pub(super) fn http_date(headers: &HeaderMap) -> Result<SystemTime, SignatureError> {
    let date = header_text(headers, &DATE, "Date")?.ok_or(SignatureError::CoveredHeaderMissing("date".into()))?;
    httpdate::parse_http_date(&date).map_err(|_| SignatureError::InvalidDate)
}

/// A `created`/`expires` parameter: a non-negative integer of seconds since the epoch.
fn timestamp<'a>(raw: &'a str, name: &str) -> Result<(&'a str, SystemTime), SignatureError> {
    raw.parse::<i64>()
        .ok()
        .and_then(policy::unix_time)
        .map(|t| (raw, t))
        .ok_or_else(|| malformed(format!("{name} is not a Unix timestamp")))
}

/// Splits `name="value",name=value,…` into pairs. Quoted values may escape `"` and `\`
/// with a backslash. Names are compared case-insensitively by the caller; a name given
/// twice is an error.
fn parse_params(input: &str) -> Result<Vec<(String, String)>, &'static str> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut rest = input.trim_start();
    while !rest.is_empty() {
        let name_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(rest.len());
        let (name, after) = rest.split_at_checked(name_len).ok_or("malformed parameter")?;
        if name.is_empty() {
            return Err("expected a parameter name");
        }
        let after = after.trim_start().strip_prefix('=').ok_or("expected = after a parameter name")?.trim_start();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.push(chars.next().ok_or("unterminated quoted value")?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.ok_or("unterminated quoted value")?;
            (value, quoted.get(end..).unwrap_or_default())
        } else {
            let len = after.find(',').unwrap_or(after.len());
            let (value, after) = after.split_at_checked(len).ok_or("malformed parameter")?;
            (value.trim_end().to_owned(), after)
        };
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err("a parameter is given twice");
        }
        if out.len() == MAX_PARAMS {
            return Err("too many parameters");
        }
        out.push((name.to_owned(), value));
        rest = after.trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
        } else if !rest.is_empty() {
            return Err("expected , between parameters");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parameters_parse_quoted_bare_and_escaped_values() {
        let p = parse_params(r#"keyId="https://a.example/u#k", algorithm=hs2019 ,created=123,x="a\"b\\c""#).unwrap();
        assert_eq!(
            p,
            [
                ("keyId".into(), "https://a.example/u#k".into()),
                ("algorithm".into(), "hs2019".into()),
                ("created".into(), "123".into()),
                ("x".into(), r#"a"b\c"#.into()),
            ]
        );
        assert_eq!(parse_params(""), Ok(vec![]));
    }

    #[test]
    fn malformed_parameters_are_refused() {
        for bad in [r#"keyId="a"#, "=x", "keyId", r#"a="1" b="2""#, r#"a="1",A="2""#, "a=1,,", r#"a="x\"#] {
            assert!(parse_params(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn covered_names_are_lowercased_checked_and_unique() {
        assert_eq!(covered_names("(request-target) Host DATE").unwrap(), ["(request-target)", "host", "date"]);
        assert!(covered_names("host host").is_err());
        assert!(covered_names("(bogus)").is_err());
        assert!(covered_names("  ").is_err());
    }
}
