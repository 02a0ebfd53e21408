//! Local actors as actor documents.

use url::Url;

use crate::{
    db::entities::actors,
    domain::{ActorKind, ProfileField},
    federation::protocol::{
        actor::{Actor, ActorType, Endpoints, Image, PropertyValue, PublicKey},
        context::actor_context,
    },
    text,
    urls::Urls,
};

/// A local actor, ready to be served.
#[derive(Clone, Debug)]
pub struct ApubActor(pub actors::Model);

/// The document could not be built from what is stored (a stored URL that does not parse).
#[derive(Debug, thiserror::Error)]
#[error("actor {0} has an invalid stored URL")]
pub struct InvalidStoredActor(String);

impl ApubActor {
    /// The ActivityStreams type for this account's kind.
    pub fn actor_type(&self) -> ActorType {
        match self.0.kind {
            ActorKind::Staff => ActorType::Person,
            ActorKind::Instance => ActorType::Application,
            ActorKind::Brand | ActorKind::Product | ActorKind::Remote => ActorType::Organization,
        }
    }

    /// Outbound: the actor document, complete for Mastodon (FEDERATION.md §1).
    pub fn into_json(self, urls: &Urls) -> Result<Actor, InvalidStoredActor> {
        let kind = self.actor_type();
        let m = self.0;
        let bad = || InvalidStoredActor(m.ap_id.clone());
        let url = |s: &str| Url::parse(s).map_err(|_| bad());
        let id = url(&m.ap_id)?;
        let collection = |name: &str| url(&format!("{}/{name}", m.ap_id));
        let fields: Vec<ProfileField> = serde_json::from_str(&m.profile_fields).unwrap_or_default();
        let attachment = fields
            .iter()
            .map(|f| PropertyValue {
                kind: "PropertyValue".into(),
                name: f.name.clone(),
                value: f.link().map_or_else(|| text::escape_html(&f.value), |link| text::link_html(&link)),
            })
            .collect();
        let (avatar, header) = if kind == ActorType::Application {
            ("instance-avatar.png", "header.png")
        } else {
            ("avatar.png", "header.png")
        };
        let image = |name: &str, stored: &Option<String>| -> Result<Image, InvalidStoredActor> {
            Ok(Image {
                kind: Default::default(),
                media_type: "image/png".into(),
                url: url(stored.as_deref().unwrap_or(&urls.static_file(name)))?,
            })
        };
        Ok(Actor {
            context: actor_context(),
            kind,
            preferred_username: m.username.clone(),
            name: m.display_name.clone(),
            summary: text::paragraphs_to_html(&m.summary),
            url: url(m.profile_url.as_deref().unwrap_or(&m.ap_id))?,
            inbox: url(m.inbox_url.as_deref().unwrap_or_default())?,
            outbox: collection("outbox")?,
            followers: collection("followers")?,
            following: collection("following")?,
            featured: collection("featured")?,
            endpoints: Endpoints { shared_inbox: url(&urls.shared_inbox())? },
            public_key: PublicKey {
                id: m.public_key_id.clone(),
                owner: id.clone(),
                public_key_pem: m.public_key_pem.clone(),
            },
            icon: image(avatar, &m.icon_url)?,
            image: image(header, &m.image_url)?,
            attachment,
            manually_approves_followers: m.manually_approves_followers,
            discoverable: kind != ActorType::Application,
            indexable: kind != ActorType::Application,
            published: m.published,
            id,
        })
    }
}
