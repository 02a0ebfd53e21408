//! The remote-HTML sanitizer (`src/text.rs`, `sanitize_remote_html`), what every note and
//! profile from another server goes through. The input is that HTML.
//!
//! Checked beyond "no panic": the output, parsed with html5ever as a browser would, holds
//! no executable markup (no script, style, iframe, object, embed, svg or math element, no
//! `on*` attribute, no `javascript:`/`data:`/`vbscript:` link), only the allow-listed
//! elements and attributes, links with allowed schemes; and sanitizing it again changes
//! nothing (a fixed point).

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use openhouse::text::sanitize_remote_html;

/// FEDERATION.md §7: the elements kept from remote HTML.
const REMOTE_TAGS: &[&str] =
    &["p", "br", "a", "span", "ul", "ol", "li", "blockquote", "pre", "code", "strong", "em", "del", "b", "i", "u", "s"];
/// URL schemes allowed in remote links.
const REMOTE_SCHEMES: &[&str] = &["http", "https", "mailto", "xmpp", "gemini", "matrix"];

fuzz_target!(|data: &[u8]| {
    let Ok(html) = std::str::from_utf8(data) else { return };
    let clean = sanitize_remote_html(html);
    common::check_inert_html(
        &clean,
        REMOTE_TAGS,
        |element, attr| matches!((element, attr), ("a", "href" | "rel") | ("span", "class")),
        // Relative links pass through; one that does not resolve (`//`) is dead, not a risk.
        |href| {
            let base = url::Url::parse("https://base.example/dir/").expect("a valid base");
            base.join(href).map_or(true, |u| REMOTE_SCHEMES.contains(&u.scheme()))
        },
    );
    assert_eq!(sanitize_remote_html(&clean), clean, "not a fixed point for {html:?}");
});
