//! Turning our own plain text into safe HTML (remote HTML is sanitized elsewhere, on
//! ingest). Every character from a user is escaped; nothing is trusted.

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

#[cfg(test)]
mod tests {
    use super::*;

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
