//! Rendering and sanitizing our own Markdown.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

const TAGS: &str = "https://community.acme.example/tags/";

fn ada() -> MentionLink {
    MentionLink { handle: "ada@social.example".into(), href: "https://social.example/@ada".into() }
}

#[test]
fn markdown_becomes_the_html_peers_keep() {
    let r = render("Hello **world**, _fine_ ~~old~~.\nNext line\n\n- one\n- two\n\n> quote\n\n`x<y`", TAGS, &[]);
    assert_eq!(
        r.html,
        "<p>Hello <strong>world</strong>, <em>fine</em> <del>old</del>.<br>\nNext line</p>\n<ul>\n<li>one</li>\n\
         <li>two</li>\n</ul>\n<blockquote>\n<p>quote</p>\n</blockquote>\n<p><code>x&lt;y</code></p>"
    );
}

#[test]
fn headings_become_strong_paragraphs_and_images_become_links() {
    let r = render("# Release 2.0\n\n![the dashboard](https://cdn.example/a.png)", TAGS, &[]);
    assert!(r.html.starts_with("<p><strong>Release 2.0</strong></p>"), "{}", r.html);
    assert!(
        r.html.contains(r#"<a href="https://cdn.example/a.png" rel="nofollow noopener noreferrer">the dashboard</a>"#)
    );
    assert!(!r.html.contains("<img"), "{}", r.html);
}

#[test]
fn hashtags_link_to_our_tag_pages() {
    let r = render("Shipping #Dashboards today! #release_2 #123 a#b `#code` #dashboards", TAGS, &[]);
    assert_eq!(r.hashtags, vec!["Dashboards".to_owned(), "release_2".to_owned()]);
    assert!(
        r.html.contains(
            r#"<a href="https://community.acme.example/tags/dashboards" class="mention hashtag" rel="nofollow noopener noreferrer">#Dashboards</a>"#
        ),
        "{}",
        r.html
    );
    assert!(r.html.contains("#123") && !r.html.contains("tags/123"), "{}", r.html);
    assert!(r.html.contains("a#b"), "{}", r.html);
    assert!(r.html.contains("<code>#code</code>"), "{}", r.html);
}

#[test]
fn resolved_mentions_become_h_cards_and_others_stay_text() {
    let text = "Thanks @Ada@social.example and @bob@elsewhere.example, not me@mail.example.";
    assert_eq!(mention_handles(text), vec!["Ada@social.example".to_owned(), "bob@elsewhere.example".to_owned()]);
    let r = render(text, TAGS, &[ada()]);
    assert!(
        r.html.contains(
            r#"<span class="h-card"><a href="https://social.example/@ada" class="u-url mention" rel="nofollow noopener noreferrer">@ada@social.example</a></span>"#
        ),
        "{}",
        r.html
    );
    assert!(r.html.contains("@bob@elsewhere.example,"), "{}", r.html);
    assert!(!r.html.contains("elsewhere.example\""), "{}", r.html);
    assert_eq!(r.mentions, vec!["ada@social.example".to_owned()]);
}

#[test]
fn mentions_may_carry_a_port() {
    assert_eq!(mention_handles("hi @ada@127.0.0.3:41234!"), vec!["ada@127.0.0.3:41234".to_owned()]);
    assert_eq!(mention_handles("`@ada@x.example` [@b@y.example](https://y.example)"), Vec::<String>::new());
}

#[test]
fn bare_urls_become_links_without_trailing_punctuation() {
    let r = render("Notes: https://acme.example/notes?v=2&x=1. (see https://acme.example/a_(b))", TAGS, &[]);
    assert!(
        r.html.contains(r#"<a href="https://acme.example/notes?v=2&amp;x=1" rel="nofollow noopener noreferrer">https://acme.example/notes?v=2&amp;x=1</a>."#),
        "{}",
        r.html
    );
    assert!(r.html.contains(r#"href="https://acme.example/a_(b)""#), "{}", r.html);
}

#[test]
fn raw_html_is_shown_as_text() {
    let r = render("<b>bold</b> and <div onclick=\"x()\">block</div>", TAGS, &[]);
    assert!(r.html.contains("&lt;b&gt;bold&lt;/b&gt;"), "{}", r.html);
    assert!(!r.html.contains("<b>") && !r.html.contains("<div"), "{}", r.html);
}

#[test]
fn nothing_executable_survives() {
    for attack in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "<javascript:alert(1)>",
        "[x](data:text/html,<script>alert(1)</script>)",
        "<a href=\"javascript:alert(1)\" onmouseover=\"alert(2)\">x</a>",
        "<svg onload=alert(1)>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<style>body{}</style>",
        "[x](vbscript:msgbox)",
        "```\n<script>alert(1)</script>\n```",
    ] {
        let html = render(attack, TAGS, &[]).html;
        // Escaped text may say anything; every real tag must be harmless.
        for tag in real_tags(&html) {
            let name = tag.trim_start_matches('/').split([' ', '>']).next().unwrap_or_default();
            assert!(OWN_TAGS.contains(&name), "<{tag}> survived in {html}");
            for banned in ["javascript:", "vbscript:", "data:", "on", "style="] {
                let hit = if banned == "on" { tag.contains(" on") } else { tag.contains(banned) };
                assert!(!hit, "{banned} survived in <{tag}> of {html}");
            }
        }
    }
}

/// The contents of every element tag in `html` (text `<` is escaped, so each `<` opens one).
fn real_tags(html: &str) -> Vec<String> {
    html.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or_default().to_lowercase()).collect()
}

#[test]
fn own_output_is_a_fixed_point_of_the_sanitizer() {
    let r = render("Hi @ada@social.example #tag https://a.example **b**", TAGS, &[ada()]);
    assert_eq!(sanitize_own_html(&r.html), r.html);
}

#[test]
fn link_titles_list_starts_and_language_attributes_are_dropped() {
    // Found by the `markdown` fuzz target: `[x](url "title")` kept its title.
    let r = render("[changelog](https://acme.example/c \"Changelog\")\n\n3. three\n4. four", TAGS, &[]);
    assert!(!r.html.contains("title="), "{}", r.html);
    assert!(!r.html.contains("start="), "{}", r.html);
    assert_eq!(
        sanitize_own_html(r#"<p lang="en" title="t">x</p><ol start="3"><li>y</li></ol>"#),
        "<p>x</p><ol><li>y</li></ol>"
    );
}
