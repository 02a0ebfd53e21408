//! Text and HTML: our own plain text turned into escaped HTML, and HTML from other servers
//! sanitized on ingest with an explicit allow-list (FEDERATION.md §7). Nothing is trusted.

use std::{collections::HashSet, sync::OnceLock};

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text to HTML paragraphs: blank lines separate paragraphs, single newlines become
/// `<br>`. Empty text gives an empty string.
pub fn paragraphs_to_html(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n");
    normalised
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", p.lines().map(escape_html).collect::<Vec<_>>().join("<br>")))
        .collect()
}

/// A link for a profile field value: `rel="me"` lets Mastodon verify the link back.
pub fn link_html(url: &url::Url) -> String {
    let href = escape_html(url.as_str());
    let shown =
        escape_html(url.as_str().trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/'));
    format!("<a href=\"{href}\" rel=\"me nofollow noopener noreferrer\" target=\"_blank\">{shown}</a>")
}

/// Elements kept from remote HTML; everything else is removed (its text kept, except for
/// `script`/`style`-like elements, whose content is dropped entirely).
const REMOTE_TAGS: &[&str] =
    &["p", "br", "a", "span", "ul", "ol", "li", "blockquote", "pre", "code", "strong", "em", "del", "b", "i", "u", "s"];
/// URL schemes allowed in remote links.
const REMOTE_SCHEMES: &[&str] = &["http", "https", "mailto", "xmpp", "gemini", "matrix"];

/// The allow-list, with what to do about relative links: resolve them against the sender's
/// document, or drop them. Kept (`PassThrough`, ammonia's default), a relative link would
/// point at our own paths once the HTML is shown on our pages.
fn remote_builder(relative: ammonia::UrlRelative<'_>) -> ammonia::Builder<'_> {
    // `Builder::empty()` empties only the tags: ammonia's default attributes (`title` and
    // `lang` everywhere, `cite`, `hreflang`, `start`, `datetime`…) must be cleared too.
    let mut b = ammonia::Builder::empty();
    b.url_relative(relative)
        .add_tags(REMOTE_TAGS.iter().copied())
        .generic_attributes(HashSet::new())
        .tag_attributes(std::collections::HashMap::new())
        .add_tag_attributes("a", ["href"])
        // Mastodon's markup for mentions, hashtags and ellipsed links; no styling hooks else.
        .add_allowed_classes("span", ["h-card", "invisible", "ellipsis"])
        .url_schemes(REMOTE_SCHEMES.iter().copied().collect::<HashSet<_>>())
        .link_rel(Some("nofollow noopener noreferrer"))
        .clean_content_tags(
            [
                "script", "style", "svg", "math", "iframe", "embed", "object", "template", "noscript", "title",
                "textarea",
            ]
            .into_iter()
            .collect(),
        )
        .strip_comments(true);
    b
}

fn relative_links_dropped() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| remote_builder(ammonia::UrlRelative::Deny))
}

/// Sanitizes HTML received from another server: only the allow-listed elements, `href` on
/// links with safe schemes, no event attributes, no `style`, no scripts or embedded
/// documents. A relative `href` is dropped (the link keeps its text): with no document to
/// resolve it against, it could only point at our own paths. The output is a fixed point:
/// sanitizing it again changes nothing.
pub fn sanitize_remote_html(html: &str) -> String {
    until_fixed(html, |h| relative_links_dropped().clean(h).to_string())
}

/// [`sanitize_remote_html`] for HTML that belongs to the document `base` (a note's or an
/// actor's id): a relative `href` is resolved against it, as the sender's own pages would,
/// so every kept link is absolute and points where the sender meant. The output is a fixed
/// point of both functions.
pub fn sanitize_remote_html_at(html: &str, base: &url::Url) -> String {
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return sanitize_remote_html(html);
    }
    let builder = remote_builder(ammonia::UrlRelative::RewriteWithBase(base.clone()));
    until_fixed(html, |h| builder.clean(h).to_string())
}

/// Cleans `html` with `clean` until the output stops changing.
///
/// Removing an element keeps its children where it stood, which can leave a tree that no
/// parser builds: in `<a><table><a>` the inner link is foster-parented out of the table, and
/// once the table is gone it sits inside the outer link. Its serialization then parses
/// differently. Cleaning the output again re-parses it as a browser (and the next
/// sanitizing) will, so we clean until nothing changes, which takes two passes (found by the
/// `sanitize_html` fuzz target); the bound only caps the work.
fn until_fixed(html: &str, clean: impl Fn(&str) -> String) -> String {
    const MAX_PASSES: usize = 4;
    let mut out = finish(clean(html));
    for _ in 1..MAX_PASSES {
        let again = finish(clean(&out));
        if again == out {
            break;
        }
        out = again;
    }
    out
}

fn finish(clean: String) -> String {
    // An HTML parser drops the first newline after `<pre>`, and the serializer does not
    // write it back: `<pre>\n\nx` would lose one newline per sanitizing pass. Doubling it
    // keeps what is shown and makes the output a fixed point. (`<pre>` has no allowed
    // attributes, and a literal `<` in text is escaped, so this text is always the tag.)
    if clean.contains("<pre>\n") { clean.replace("<pre>\n", "<pre>\n\n") } else { clean }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_html_keeps_text_and_links_and_drops_everything_executable() {
        let dirty = r#"<p onclick="x()">Hi <a href="https://a.example/@x" class="u-url mention" onmouseover="y()">@x</a>
            <script>alert(1)</script><style>p{}</style><svg><script>alert(2)</script></svg><math><mi>x</mi></math>
            <iframe src="https://evil.example"></iframe><embed src="x"><object data="y"></object>
            <a href="javascript:alert(3)">js</a><a href="data:text/html,x">data</a><img src=x onerror=alert(4)>
            <span class="h-card evil">@y</span><b style="color:red">bold</b></p>"#;
        let clean = sanitize_remote_html(dirty);
        for banned in [
            "<script",
            "alert(1)",
            "alert(2)",
            "<style",
            "<svg",
            "<math",
            "<iframe",
            "<embed",
            "<object",
            "javascript:",
            "data:",
            "<img",
            "onerror",
            "onclick",
            "onmouseover",
            "style=",
            "evil",
        ] {
            assert!(!clean.contains(banned), "{banned} survived: {clean}");
        }
        assert!(
            clean.contains(r#"<a href="https://a.example/@x" rel="nofollow noopener noreferrer">@x</a>"#),
            "{clean}"
        );
        assert!(clean.contains(r#"<span class="h-card">@y</span>"#), "{clean}");
        assert!(clean.contains("<b>bold</b>"), "{clean}");
        assert_eq!(sanitize_remote_html(&clean), clean, "a fixed point");
    }

    #[test]
    fn no_attribute_survives_but_href_on_links_and_known_classes_on_spans() {
        let dirty = r#"<p title="t" lang="en" dir="rtl" id="x">a</p><blockquote cite="https://c.example/">q</blockquote><ol start="3"><li>i</li></ol><del datetime="2020" cite="x">d</del><a href="https://a.example/" hreflang="en" title="t">l</a>"#;
        assert_eq!(
            sanitize_remote_html(dirty),
            r#"<p>a</p><blockquote>q</blockquote><ol><li>i</li></ol><del>d</del><a href="https://a.example/" rel="nofollow noopener noreferrer">l</a>"#
        );
    }

    #[test]
    fn relative_links_are_resolved_against_their_document_or_dropped() {
        let note = url::Url::parse("https://remote.example/users/ada/statuses/1").unwrap_or_else(|_| unreachable!());
        let dirty = r##"<a href="/tags/cats">#cats</a> <a href="../../bob">bob</a> <a href="settings">s</a> <a href="?q=1">q</a> <a href="#top">t</a> <a href="//cdn.example/x">cdn</a> <a href="https://abs.example/">abs</a>"##;
        let rel = r#" rel="nofollow noopener noreferrer""#;
        let resolved = sanitize_remote_html_at(dirty, &note);
        assert_eq!(
            resolved,
            format!(
                r##"<a href="https://remote.example/tags/cats"{rel}>#cats</a> <a href="https://remote.example/users/bob"{rel}>bob</a> <a href="https://remote.example/users/ada/statuses/settings"{rel}>s</a> <a href="https://remote.example/users/ada/statuses/1?q=1"{rel}>q</a> <a href="https://remote.example/users/ada/statuses/1#top"{rel}>t</a> <a href="https://cdn.example/x"{rel}>cdn</a> <a href="https://abs.example/"{rel}>abs</a>"##
            )
        );
        // Re-sanitized later, with or without a base, it is the same: every link is absolute.
        assert_eq!(sanitize_remote_html(&resolved), resolved);
        assert_eq!(sanitize_remote_html_at(&resolved, &note), resolved);
        let elsewhere = url::Url::parse("https://other.example/x/y").unwrap_or_else(|_| unreachable!());
        assert_eq!(sanitize_remote_html_at(&resolved, &elsewhere), resolved);
        // Without a document, a relative link loses its href and keeps its text.
        let dropped = sanitize_remote_html(dirty);
        assert!(dropped.starts_with(&format!("<a{rel}>#cats</a> <a{rel}>bob</a>")), "{dropped}");
        assert!(dropped.contains(r#"<a href="https://abs.example/""#), "{dropped}");
        assert_eq!(dropped.matches("href=").count(), 1, "{dropped}");
        assert_eq!(sanitize_remote_html(&dropped), dropped);
    }

    #[test]
    fn leading_newlines_in_pre_survive_sanitizing_again() {
        let once = sanitize_remote_html("<pre>\n\n code</pre>");
        assert_eq!(once, "<pre>\n\n code</pre>", "the first newline is the parser's, the second is content");
        assert_eq!(sanitize_remote_html(&once), once);
        assert_eq!(sanitize_remote_html("<pre>x</pre>"), "<pre>x</pre>");
    }

    #[test]
    fn a_link_lifted_into_a_link_by_removing_a_table_is_a_fixed_point() {
        // Found by the `sanitize_html` fuzz target (fuzz/corpus/sanitize_html/seed-nested-link).
        for dirty in
            ["<a><table><a>", "<a href=\"https://a.example/\">g<table><a href=\"https://b.example/\">x</a></table></a>"]
        {
            let once = sanitize_remote_html(dirty);
            assert_eq!(sanitize_remote_html(&once), once, "not a fixed point for {dirty:?}");
        }
    }

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape_html("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn paragraphs_and_line_breaks() {
        assert_eq!(
            paragraphs_to_html("Hello\nworld\n\n<b>Bye</b>\n\n\n"),
            "<p>Hello<br>world</p><p>&lt;b&gt;Bye&lt;/b&gt;</p>"
        );
        assert_eq!(paragraphs_to_html("  "), "");
    }

    #[test]
    fn links_escape_their_url() {
        let url = url::Url::parse("https://acme.example/a?b=\"c\"").unwrap_or_else(|_| unreachable!());
        let html = link_html(&url);
        assert!(!html.contains("\"c\""), "{html}");
        assert!(html.contains("rel=\"me"));
    }
}

/// Property tests of the remote-HTML sanitizer: whatever arrives, the output parses to
/// nothing but the allow-listed elements and attributes, no link can execute, and cleaning
/// again changes nothing. The output is checked with an HTML parser (html5ever through
/// `scraper`), not by searching for substrings.
#[cfg(test)]
mod props {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use proptest::prelude::*;
    use scraper::{Html, node::Node};

    use super::*;

    /// Fragments that browsers execute, or that sanitizers have historically mis-parsed.
    const NASTY: &[&str] = &[
        "<script>alert(1)</script>",
        "<script src=//evil.example/x.js></script>",
        "<style>*{x:expression(alert(1))}</style>",
        "<svg onload=alert(1)><script>alert(2)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\">x</a></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
        "<math href=\"javascript:alert(1)\">x</math>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<embed src=\"data:text/html,<script>alert(1)</script>\">",
        "<object data=\"javascript:alert(1)\"></object>",
        "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">j</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">j</a>",
        "<a href=\" java\tscript:alert(1)\">j</a>",
        "<a href=\"&#106;avascript:alert(1)\">j</a>",
        "<a href=\"&#x6A;avascript&#x3A;alert(1)\">j</a>",
        "<a href=\"vbscript:msgbox(1)\">v</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">d</a>",
        "<a href=\"https://ok.example/\" onclick=\"alert(1)\" style=\"x\" target=_top>ok</a>",
        "<p onmouseover=alert(1) class=\"x\">p</p>",
        "<span class=\"h-card invisible evil\" onfocus=alert(1) tabindex=1>s</span>",
        "<form action=javascript:alert(1)><input type=submit></form>",
        "<base href=\"javascript:/\">",
        "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
        "<link rel=stylesheet href=//evil.example/x.css>",
        "<template><script>alert(1)</script></template>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
        "<textarea></textarea><script>alert(1)</script>",
        "<title><script>alert(1)</script></title>",
        "<!--<script>alert(1)</script>-->",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<details open ontoggle=alert(1)>",
        "<video><source onerror=alert(1)></video>",
        "<a href=\"https://a.example/\"><a href=\"https://b.example/\">nested</a></a>",
        "<p><ul><li>x</p></li></ul>",
        "<table><tr><td>cell<script>alert(1)</script></td></tr></table>",
        "<pre>\n\n code</pre>",
        "<b><i>mis</b>nested</i>",
        "</p></a></script>",
        "<",
        "&lt;script&gt;",
        "&",
        "\u{0}",
        "<scr<script>ipt>alert(1)</script>",
        "<p title=\"t\" lang=en dir=rtl id=x>t</p>",
        "<blockquote cite=\"javascript:alert(1)\">q</blockquote><ol start=3><li>i</li></ol>",
        "<a href=mailto:x@y.example>m</a>",
        "<a href=/relative>r</a>",
        "<a href=\"#frag\">f</a>",
        "<a href=\"//other.example/x\">p</a>",
        "<a href=\"../../up\">u</a>",
        "<a href=\"?q=<x>&amp;y\">q</a>",
        "<a href=\"  /sp ace \">s</a>",
        "<a href=\"\\\\evil.example\">b</a>",
        "<a href=\"/%2e%2e/x\">e</a>",
    ];

    /// Documents the HTML may belong to (a note's or an actor's id).
    fn base_url() -> impl Strategy<Value = url::Url> {
        let raw = prop_oneof![
            Just("https://remote.example/users/ada/statuses/1".to_owned()),
            Just("http://127.0.0.1:8080/notes/a?b=c#d".to_owned()),
            Just("https://xn--bcher-kva.example/".to_owned()),
            "https://[a-z]{1,8}\\.example/[a-z/%.]{0,20}",
        ];
        raw.prop_filter_map("a URL", |s| url::Url::parse(&s).ok())
    }

    fn html_input() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => proptest::sample::select(NASTY).prop_map(str::to_owned),
            1 => "[<>/=\"' a-z!&#;:-]{0,40}",
            1 => any::<String>(),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|parts| parts.concat())
    }

    /// Elements and attributes the output may contain (the parser puts a fragment in `html`/`body`).
    fn check_output(clean: &str) -> Result<(), TestCaseError> {
        let doc = Html::parse_fragment(clean);
        for node in doc.tree.nodes() {
            match node.value() {
                Node::Element(el) => {
                    let name = el.name();
                    prop_assert!(
                        matches!(name, "html" | "body") || REMOTE_TAGS.contains(&name),
                        "element <{}> in {:?}",
                        name,
                        clean
                    );
                    for (attr, value) in el.attrs() {
                        let allowed = matches!((name, attr), ("a", "href" | "rel") | ("span", "class"));
                        prop_assert!(allowed, "attribute {}={:?} on <{}> in {:?}", attr, value, name, clean);
                        if attr == "href" {
                            // Absolute, with a safe scheme: nothing is left for our pages to
                            // resolve against our own origin.
                            let parsed = url::Url::parse(value);
                            prop_assert!(
                                parsed.as_ref().is_ok_and(|u| REMOTE_SCHEMES.contains(&u.scheme())),
                                "href {:?} in {:?}",
                                value,
                                clean
                            );
                        }
                        if attr == "class" {
                            for class in value.split_ascii_whitespace() {
                                prop_assert!(["h-card", "invisible", "ellipsis"].contains(&class), "class {}", class);
                            }
                        }
                    }
                }
                Node::Comment(_) | Node::ProcessingInstruction(_) => {
                    prop_assert!(false, "a comment or processing instruction in {:?}", clean)
                }
                _ => {}
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn sanitized_html_is_inert_and_a_fixed_point(input in html_input()) {
            let clean = sanitize_remote_html(&input);
            check_output(&clean)?;
            prop_assert_eq!(sanitize_remote_html(&clean), clean.clone(), "not a fixed point for {:?}", input);
        }

        #[test]
        fn resolved_html_is_inert_absolute_and_a_fixed_point(input in html_input(), base in base_url()) {
            let clean = sanitize_remote_html_at(&input, &base);
            check_output(&clean)?;
            prop_assert_eq!(sanitize_remote_html_at(&clean, &base), clean.clone(), "not a fixed point for {:?}", input);
            prop_assert_eq!(sanitize_remote_html(&clean), clean.clone(), "dropping changes {:?}", input);
        }

        #[test]
        fn arbitrary_text_never_panics_and_stays_inert(input in any::<String>()) {
            let clean = sanitize_remote_html(&input);
            check_output(&clean)?;
            prop_assert_eq!(sanitize_remote_html(&clean), clean);
        }
    }
}
