//! Markdown rendering of our own posts (`src/markdown.rs`). The input is a post's source;
//! every `@user@host` it writes is resolved (to `https://host/@user`), so the mention
//! linking runs too.
//!
//! Checked beyond "no panic": the HTML parses (html5ever) to the elements of FEDERATION.md
//! §7 only, with no event attribute and only absolute http(s)/mailto links; every linked
//! mention is one we resolved; hashtags are non-empty.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use openhouse::markdown::{MentionLink, mention_handles, render};

/// FEDERATION.md §7: the elements our own posts may contain.
const OWN_TAGS: &[&str] =
    &["p", "br", "a", "span", "ul", "ol", "li", "blockquote", "pre", "code", "strong", "em", "del"];

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let mentions: Vec<MentionLink> = mention_handles(source)
        .into_iter()
        .map(|handle| {
            let (user, host) = handle.split_once('@').unwrap_or((&handle, "remote.example"));
            MentionLink { href: format!("https://{host}/@{user}"), handle }
        })
        .collect();
    let rendered = render(source, "https://openhouse.example/tags/", &mentions);
    common::check_inert_html(
        &rendered.html,
        OWN_TAGS,
        |element, attr| matches!((element, attr), ("a", "href" | "rel" | "class") | ("span", "class")),
        |href| url::Url::parse(href).is_ok_and(|u| matches!(u.scheme(), "http" | "https" | "mailto")),
    );
    for handle in &rendered.mentions {
        assert!(
            mentions.iter().any(|m| m.handle.eq_ignore_ascii_case(handle)),
            "mention {handle} linked but never resolved"
        );
    }
    assert!(rendered.hashtags.iter().all(|t| !t.is_empty()), "an empty hashtag: {:?}", rendered.hashtags);
});
