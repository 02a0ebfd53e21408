//! WebFinger (RFC 7033) and host-meta documents.

use serde::{Deserialize, Serialize};

/// The media type of a JRD.
pub const JRD_CONTENT_TYPE: &str = "application/jrd+json";
/// `rel` of the link to the ActivityPub actor.
pub const REL_SELF: &str = "self";
/// `rel` of the link to the HTML profile.
pub const REL_PROFILE_PAGE: &str = "http://webfinger.net/rel/profile-page";
/// `rel` of the remote-interaction template.
pub const REL_SUBSCRIBE: &str = "http://ostatus.org/schema/1.0/subscribe";

/// A JSON Resource Descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jrd {
    /// `acct:name@domain`.
    pub subject: String,
    /// Other URLs for the same account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Links.
    #[serde(default)]
    pub links: Vec<JrdLink>,
}

/// One JRD link: either an `href` or a `template`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JrdLink {
    /// Relation.
    pub rel: String,
    /// Media type of the target.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// URI template with `{uri}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

impl Jrd {
    /// The href of the first link with `rel` (and `type`, when given).
    pub fn link(&self, rel: &str, kind: Option<&str>) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == rel && kind.is_none_or(|k| l.kind.as_deref().is_some_and(|t| t.starts_with(k))))
            .and_then(|l| l.href.as_deref())
    }

    /// The remote-interaction template, when advertised.
    pub fn subscribe_template(&self) -> Option<&str> {
        self.links.iter().find(|l| l.rel == REL_SUBSCRIBE).and_then(|l| l.template.as_deref())
    }
}

/// host-meta (XRD) pointing at our WebFinger endpoint.
pub fn host_meta_xrd(webfinger_template: &str) -> String {
    let template = webfinger_template.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{template}\"/>\n\
         </XRD>\n"
    )
}
