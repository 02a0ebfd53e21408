//! Our own posts: Markdown to sanitized HTML (FEDERATION.md §2, §7).
//!
//! ```text
//! Markdown ─► pulldown-cmark events ─► raw HTML turned into text (never passed through)
//!          ─► text outside code and links: #hashtags, @user@host mentions, bare URLs → links
//!          ─► HTML ─► ammonia allow-list (the same list as remote HTML, plus our classes)
//! ```
//!
//! Mentions are linked only when the caller resolved them (services never fetch): the caller
//! first asks [`mention_handles`], resolves each, and passes the results to [`render`].

use std::{collections::HashSet, sync::OnceLock};

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};

use crate::text::escape_html;

/// A resolved mention: the handle as written (`user@host`) and where it links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MentionLink {
    /// `user@host` (compared without regard to case).
    pub handle: String,
    /// The link target: the actor's profile page or id.
    pub href: String,
}

/// The HTML of a post and what it refers to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Sanitized HTML.
    pub html: String,
    /// Hashtags as written (without `#`), first occurrence of each (case-insensitive).
    pub hashtags: Vec<String>,
    /// Handles (`user@host`) that became mention links, as given in the [`MentionLink`]s.
    pub mentions: Vec<String>,
    /// Every `@user@host` written outside code, linked or not.
    pub mention_candidates: Vec<String>,
}

/// Longest hashtag kept as a tag.
const MAX_TAG_CHARS: usize = 100;

/// The `@user@host` handles written in `source` (outside code and links), deduplicated.
pub fn mention_handles(source: &str) -> Vec<String> {
    render(source, "", &[]).mention_candidates
}

/// Renders `source` to sanitized HTML. Hashtags link to `<tags_base><tag>` (lower-cased);
/// `@user@host` links to the matching [`MentionLink`] and stays plain text otherwise.
pub fn render(source: &str, tags_base: &str, mentions: &[MentionLink]) -> Rendered {
    let mut out = Rendered::default();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut pending_text = String::new();
    let (mut in_code, mut in_link) = (0usize, 0usize);
    let parser = Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH);
    for event in parser {
        let event = match event {
            // No raw HTML: it is shown as the text it is.
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::SoftBreak => Event::HardBreak,
            other => other,
        };
        if let Event::Text(text) = &event
            && in_code == 0
            && in_link == 0
        {
            pending_text.push_str(text);
            continue;
        }
        flush_text(&mut pending_text, &mut events, &mut out, tags_base, mentions);
        let event = match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code += 1;
                Event::Start(Tag::CodeBlock(kind))
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = in_code.saturating_sub(1);
                Event::End(TagEnd::CodeBlock)
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                in_link += 1;
                Event::Start(Tag::Link { link_type, dest_url, title, id })
            }
            // Images from elsewhere are not embedded: they become links with their alt text.
            Event::Start(Tag::Image { dest_url, .. }) => {
                in_link += 1;
                Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url,
                    title: CowStr::Borrowed(""),
                    id: CowStr::Borrowed(""),
                })
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                in_link = in_link.saturating_sub(1);
                Event::End(TagEnd::Link)
            }
            // Peers keep few elements: a heading becomes a strong paragraph.
            Event::Start(Tag::Heading { .. }) => Event::InlineHtml(CowStr::Borrowed("<p><strong>")),
            Event::End(TagEnd::Heading(_)) => Event::InlineHtml(CowStr::Borrowed("</strong></p>")),
            other => other,
        };
        events.push(event);
    }
    flush_text(&mut pending_text, &mut events, &mut out, tags_base, mentions);
    let mut raw = String::with_capacity(source.len() * 2);
    html::push_html(&mut raw, events.into_iter());
    out.html = sanitize_own_html(&raw).trim().to_owned();
    out
}

/// Turns accumulated text into escaped text and our own links.
fn flush_text(
    pending: &mut String,
    events: &mut Vec<Event<'_>>,
    out: &mut Rendered,
    tags_base: &str,
    mentions: &[MentionLink],
) {
    if pending.is_empty() {
        return;
    }
    let mut html = String::with_capacity(pending.len() + 16);
    for token in tokenize(pending) {
        match token {
            Token::Text(text) => html.push_str(&escape_html(text)),
            Token::Url(url) => {
                let url = escape_html(url);
                html.push_str(&format!("<a href=\"{url}\">{url}</a>"));
            }
            Token::Hashtag(name) => {
                let lower = name.to_lowercase();
                if !out.hashtags.iter().any(|t| t.to_lowercase() == lower) {
                    out.hashtags.push(name.to_owned());
                }
                let href = escape_html(&format!("{tags_base}{lower}"));
                html.push_str(&format!("<a href=\"{href}\" class=\"mention hashtag\">#{}</a>", escape_html(name)));
            }
            Token::Mention { raw, handle } => {
                if !out.mention_candidates.iter().any(|h| h.eq_ignore_ascii_case(handle)) {
                    out.mention_candidates.push(handle.to_owned());
                }
                match mentions.iter().find(|m| m.handle.eq_ignore_ascii_case(handle)) {
                    Some(link) => {
                        if !out.mentions.contains(&link.handle) {
                            out.mentions.push(link.handle.clone());
                        }
                        html.push_str(&format!(
                            "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@{}</a></span>",
                            escape_html(&link.href),
                            escape_html(&link.handle)
                        ));
                    }
                    None => html.push_str(&escape_html(raw)),
                }
            }
        }
    }
    events.push(Event::InlineHtml(CowStr::Boxed(html.into_boxed_str())));
    pending.clear();
}

/// A piece of plain text.
#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    Text(&'a str),
    Hashtag(&'a str),
    Mention { raw: &'a str, handle: &'a str },
    Url(&'a str),
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits text into plain runs, hashtags, `@user@host` mentions and bare http(s) URLs.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut plain_start = 0;
    let mut prev: Option<char> = None;
    let mut i = 0;
    while let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) {
        let boundary = prev.is_none_or(|p| !is_word(p) && p != '@' && p != '#' && p != '/' && p != '&');
        let found = if !boundary {
            None
        } else {
            match c {
                '#' => hashtag_at(text, i).map(|end| (end, Token::Hashtag(text.get(i + 1..end).unwrap_or_default()))),
                '@' => mention_at(text, i).map(|(end, handle_start)| {
                    (
                        end,
                        Token::Mention {
                            raw: text.get(i..end).unwrap_or_default(),
                            handle: text.get(handle_start..end).unwrap_or_default(),
                        },
                    )
                }),
                'h' | 'H' => url_at(text, i).map(|end| (end, Token::Url(text.get(i..end).unwrap_or_default()))),
                _ => None,
            }
        };
        match found {
            Some((end, token)) => {
                if plain_start < i {
                    tokens.push(Token::Text(text.get(plain_start..i).unwrap_or_default()));
                }
                tokens.push(token);
                prev = text.get(..end).and_then(|s| s.chars().next_back());
                i = end;
                plain_start = end;
            }
            None => {
                prev = Some(c);
                i += c.len_utf8();
            }
        }
    }
    if plain_start < text.len() {
        tokens.push(Token::Text(text.get(plain_start..).unwrap_or_default()));
    }
    tokens
}

/// The end of a hashtag starting with `#` at `start`: word characters, not only digits.
fn hashtag_at(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start + 1..)?;
    let len: usize = rest.chars().take_while(|c| is_word(*c)).map(char::len_utf8).sum();
    let name = rest.get(..len)?;
    let chars = name.chars().count();
    (chars > 0 && chars <= MAX_TAG_CHARS && !name.chars().all(|c| c.is_ascii_digit()) && !name.starts_with('_'))
        .then_some(start + 1 + len)
}

/// The end of `@user@host[:port]` starting at `start`, and where `user` starts.
fn mention_at(text: &str, start: usize) -> Option<(usize, usize)> {
    let rest = text.get(start + 1..)?;
    let user_len = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')).count();
    let user = rest.get(..user_len)?.trim_end_matches(['.', '-']);
    if user.is_empty() || !rest.get(user.len()..)?.starts_with('@') {
        return None;
    }
    let host_rest = rest.get(user.len() + 1..)?;
    let host_len = host_rest.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')).count();
    let host = host_rest.get(..host_len)?.trim_end_matches(['.', '-']);
    if !host.contains('.') || host.starts_with(['.', '-']) {
        return None;
    }
    let mut end = start + 1 + user.len() + 1 + host.len();
    // An explicit port, as in tests and private networks.
    if let Some(port) = text.get(end..).and_then(|r| r.strip_prefix(':')) {
        let digits = port.chars().take_while(char::is_ascii_digit).count();
        if (1..=5).contains(&digits) {
            end += 1 + digits;
        }
    }
    Some((end, start + 1))
}

/// The end of a bare `http(s)://` URL starting at `start`, without trailing punctuation.
fn url_at(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start..)?;
    let lower: String = rest.chars().take(8).collect::<String>().to_ascii_lowercase();
    let scheme_len = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return None;
    };
    let len: usize = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '<' | '>' | '"' | '\'' | '`'))
        .map(char::len_utf8)
        .sum();
    let mut url = rest.get(..len)?;
    loop {
        let trimmed = url.trim_end_matches(['.', ',', ';', ':', '!', '?']);
        // A closing parenthesis belongs to the URL only when it closes one opened inside it.
        let trimmed = match trimmed.strip_suffix(')') {
            Some(t) if trimmed.matches(')').count() > trimmed.matches('(').count() => t,
            _ => trimmed,
        };
        if trimmed.len() == url.len() {
            break;
        }
        url = trimmed;
    }
    (url.len() > scheme_len).then_some(start + url.len())
}

/// Elements our own posts may contain: FEDERATION.md §7, which peers keep too.
const OWN_TAGS: &[&str] =
    &["p", "br", "a", "span", "ul", "ol", "li", "blockquote", "pre", "code", "strong", "em", "del"];

fn own_sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        // `Builder::empty()` empties only the tags: ammonia's default attributes (`title` and
        // `lang` everywhere, `start` on lists…) are cleared too, so that a link title or a
        // list's start number does not slip past the `href`-only list of FEDERATION.md (Posts).
        let mut b = ammonia::Builder::empty();
        b.add_tags(OWN_TAGS.iter().copied())
            .generic_attributes(HashSet::new())
            .tag_attributes(std::collections::HashMap::new())
            .add_tag_attributes("a", ["href"])
            .add_allowed_classes("a", ["u-url", "mention", "hashtag"])
            .add_allowed_classes("span", ["h-card"])
            .url_schemes(["http", "https", "mailto"].into_iter().collect::<HashSet<_>>())
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("nofollow noopener noreferrer"))
            .clean_content_tags(["script", "style"].into_iter().collect())
            .strip_comments(true);
        b
    })
}

/// Sanitizes HTML we produced ourselves: the last line of defence against a rendering bug.
pub fn sanitize_own_html(html: &str) -> String {
    own_sanitizer().clean(html).to_string()
}

#[cfg(test)]
mod tests;
