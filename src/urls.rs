//! Where things live on this instance: the one place that knows the URL layout, so that
//! ids, links and routes cannot drift apart. `http/mod.rs` mounts routes on these paths.

use crate::config::PublicUrl;

/// Builds absolute URLs on our public origin.
#[derive(Clone, Debug)]
pub struct Urls {
    base: PublicUrl,
}

impl Urls {
    /// URLs under `base`.
    pub fn new(base: PublicUrl) -> Self {
        Self { base }
    }

    /// The public origin.
    pub fn base(&self) -> &PublicUrl {
        &self.base
    }

    /// `https://host` without a trailing slash.
    pub fn origin(&self) -> String {
        self.base.origin()
    }

    /// The domain in handles: `host[:port]`.
    pub fn handle_domain(&self) -> String {
        self.base.handle_domain()
    }

    /// The actor id of a local account: serves JSON and, to browsers, the profile page.
    pub fn actor(&self, username: &str) -> String {
        self.base.join(&format!("/users/{username}"))
    }

    /// The short profile link shown to people.
    pub fn profile(&self, username: &str) -> String {
        self.base.join(&format!("/@{username}"))
    }

    /// A local actor's public key id.
    pub fn actor_key(&self, username: &str) -> String {
        format!("{}#main-key", self.actor(username))
    }

    /// A collection of a local actor: `inbox`, `outbox`, `followers`, `following`, `featured`.
    pub fn actor_collection(&self, username: &str, collection: &str) -> String {
        format!("{}/{collection}", self.actor(username))
    }

    /// A local post's id: the Note for peers, its page for browsers.
    pub fn post(&self, username: &str, post_id: i64) -> String {
        format!("{}/posts/{post_id}", self.actor(username))
    }

    /// The id of the `Create` that published a post.
    pub fn post_activity(&self, username: &str, post_id: i64) -> String {
        format!("{}/activity", self.post(username, post_id))
    }

    /// A post's `replies` collection.
    pub fn post_replies(&self, username: &str, post_id: i64) -> String {
        format!("{}/replies", self.post(username, post_id))
    }

    /// The prefix of tag pages: `<public_url>/tags/`; the tag (lower-cased) follows.
    pub fn tags_base(&self) -> String {
        self.base.join("/tags/")
    }

    /// An uploaded media file.
    pub fn media(&self, file_name: &str) -> String {
        self.base.join(&format!("/media/{file_name}"))
    }

    /// The instance actor's id.
    pub fn instance_actor(&self) -> String {
        self.base.join("/actor")
    }

    /// The instance actor's key id.
    pub fn instance_actor_key(&self) -> String {
        format!("{}#main-key", self.instance_actor())
    }

    /// The shared inbox.
    pub fn shared_inbox(&self) -> String {
        self.base.join("/inbox")
    }

    /// The remote-interaction landing page advertised in WebFinger.
    pub fn authorize_interaction_template(&self) -> String {
        format!("{}?uri={{uri}}", self.base.join("/authorize_interaction"))
    }

    /// A file under `frontend/static`.
    pub fn static_file(&self, name: &str) -> String {
        self.base.join(&format!("/static/{name}"))
    }
}
