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

fn remote_sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.add_tags(REMOTE_TAGS.iter().copied())
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
    })
}

/// Sanitizes HTML received from another server: only the allow-listed elements, `href` on
/// links with safe schemes, no event attributes, no `style`, no scripts or embedded
/// documents. The output is a fixed point: sanitizing it again changes nothing.
pub fn sanitize_remote_html(html: &str) -> String {
    remote_sanitizer().clean(html).to_string()
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
