//! What several targets share: a fixed incoming request to hang fuzzed signature headers
//! on, and the HTML checks of the sanitizers' output.

#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, Method};
use openhouse::federation::signatures::{CONTENT_DIGEST, DIGEST, ParsedSignature, RequestParts, parse_request};
use scraper::{Html, node::Node};

/// The body of every fuzzed signed request; its digests are RFC 9530's examples.
pub const BODY: &[u8] = br#"{"hello": "world"}"#;
/// The instance the request was addressed to.
pub const AUTHORITY: &str = "openhouse.example";
/// The inbox path.
pub const TARGET: &str = "/inbox";
/// `Date` of the request, and the verifier's clock: Mon, 07 Dec 2026 20:00:00 GMT.
pub const NOW_SECS: u64 = 1_796_673_600;

/// The headers a Mastodon POST carries besides its signature, each valid for [`BODY`].
pub fn base_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(http::header::HOST, HeaderValue::from_static(AUTHORITY));
    h.insert(http::header::DATE, HeaderValue::from_static("Mon, 07 Dec 2026 20:00:00 GMT"));
    h.insert(DIGEST, HeaderValue::from_static("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="));
    h.insert(CONTENT_DIGEST, HeaderValue::from_static("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"));
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
    h
}

/// Parses the signature of a POST of [`BODY`] to [`TARGET`] with these headers.
pub fn parse_post(headers: &HeaderMap) -> Option<ParsedSignature> {
    let parts = RequestParts {
        method: &Method::POST,
        scheme: "https",
        authority: AUTHORITY,
        path_and_query: TARGET,
        headers,
        body: BODY,
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS);
    let first = parse_request(&parts, now);
    // Pure: the same request parses the same way twice.
    let again = parse_request(&parts, now);
    assert_eq!(first.as_ref().ok(), again.as_ref().ok(), "parsing is not deterministic");
    first.ok()
}

/// Checks what every accepted signature promises whatever its scheme: a key id that is an
/// http(s) URL with a host, and a signature of a plausible length.
pub fn check_parsed(parsed: &ParsedSignature) {
    let key = parsed.key_id();
    assert!(matches!(key.scheme(), "http" | "https") && key.has_host(), "key id {key}");
    assert!(parsed.key_owner().fragment().is_none());
    assert!((1..=1024).contains(&parsed.signature().len()), "signature of {} bytes", parsed.signature().len());
}

/// The lines of a signing string (they never contain a newline themselves).
pub fn lines(signing_string: &[u8]) -> Vec<&str> {
    let text = std::str::from_utf8(signing_string).expect("a signing string is ASCII");
    text.split('\n').collect()
}

/// Inert HTML: parses `html` with html5ever (through `scraper`), as a browser would, and
/// checks that it holds no executable element, no event attribute, no comment or
/// processing instruction, only `allowed` elements and attributes for which
/// `allowed_attr(element, attribute)`, and links only where `link_ok(href)`.
pub fn check_inert_html(
    html: &str,
    allowed: &[&str],
    allowed_attr: impl Fn(&str, &str) -> bool,
    link_ok: impl Fn(&str) -> bool,
) {
    const EXECUTABLE: &[&str] =
        &["script", "style", "iframe", "object", "embed", "svg", "math", "template", "frame", "frameset", "base"];
    let doc = Html::parse_fragment(html);
    for node in doc.tree.nodes() {
        match node.value() {
            Node::Element(el) => {
                let name = el.name();
                assert!(!EXECUTABLE.contains(&name), "executable element <{name}> in {html:?}");
                assert!(matches!(name, "html" | "body") || allowed.contains(&name), "element <{name}> in {html:?}");
                for (attr, value) in el.attrs() {
                    assert!(
                        !attr.to_ascii_lowercase().starts_with("on"),
                        "event attribute {attr}={value:?} in {html:?}"
                    );
                    assert!(allowed_attr(name, attr), "attribute {attr}={value:?} on <{name}> in {html:?}");
                    if attr == "href" {
                        assert!(!runs_code(value), "href {value:?} runs code in {html:?}");
                        assert!(link_ok(value), "href {value:?} in {html:?}");
                    }
                }
            }
            Node::Comment(_) => panic!("a comment in {html:?}"),
            Node::ProcessingInstruction(_) => panic!("a processing instruction in {html:?}"),
            _ => {}
        }
    }
}

/// Whether a link, resolved against a page as a browser would, uses a scheme that runs or
/// embeds code.
fn runs_code(href: &str) -> bool {
    let base = url::Url::parse("https://base.example/dir/").expect("a valid base");
    base.join(href).is_ok_and(|u| matches!(u.scheme(), "javascript" | "data" | "vbscript"))
}
