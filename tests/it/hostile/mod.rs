//! The hostile-input suite (issue 4): requests a malicious or broken server could send, each
//! over HTTP to a real instance, each asserting the status and that nothing was stored or
//! changed (every row of the tables activities can touch, compared before and after).
//!
//! - `signatures`: forged actors, ids on our domain or on another host, unsigned requests
//!   and replays → 4xx (or 202 and nothing changed, for a replay).
//! - `payloads`: JSON-LD tricks, values of the wrong shape, bodies that are not a JSON
//!   object, wrong content types → 4xx.
//! - `limits`: oversize and deeply nested bodies, and actor documents that drip slowly.
//! - `ssrf`: actor URLs (which the inbox must fetch) on loopback, private, mapped-IPv6,
//!   `0.0.0.0` and link-local addresses, redirects to them, documents whose id is not their
//!   URL, wrong types, oversize responses → 401, and the target never reached.
//! - `handlers`: activities that pass the inbox (202, I9) and that the worker refuses:
//!   forged `attributedTo`, edits and deletes of what the sender does not own, objects on
//!   our domain or another host, reactions to what is not ours.
//! - `html`: remote HTML (profile summaries, replies) arrives sanitized.

mod handlers;
mod html;
mod limits;
mod payloads;
mod signatures;
mod ssrf;

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::domain::ActorKind;
use serde_json::{Value, json};

use crate::support::{
    TestApp,
    fake_remote::{Fake, FakeActor},
    snapshot::{Snapshot, snapshot},
    wait::{inbox_handled, settled},
};

/// The cases run against one instance, and what went wrong in them (all are reported).
struct Suite<'a> {
    a: &'a TestApp,
    baseline: Snapshot,
    cases: usize,
    failures: Vec<String>,
}

impl<'a> Suite<'a> {
    /// Starts once the background work of the setup (delivery expansion…) has settled.
    async fn new(a: &'a TestApp) -> Self {
        settled(a).await;
        Self { a, baseline: snapshot(a).await, cases: 0, failures: Vec::new() }
    }

    /// A request refused at the inbox: the status, and nothing changed at all.
    async fn refused(&mut self, name: &str, want: u16, got: u16) {
        self.cases += 1;
        println!("{name}: {got}");
        if got != want {
            self.failures.push(format!("{name}: status {got}, expected {want}"));
        }
        self.unchanged(name).await;
    }

    /// An activity the inbox accepts (202) and the worker must refuse or ignore: it is
    /// stored as a row, its processing does not apply, and nothing else changed.
    async fn accepted_but_refused(&mut self, name: &str, actor: &FakeActor, activity: &Value) {
        self.cases += 1;
        let status = actor.send(self.a, activity).await;
        if status != 202 {
            self.failures.push(format!("{name}: status {status}, expected 202 (I9)"));
            return self.unchanged(name).await;
        }
        let (state, error) = inbox_handled(self.a, activity["id"].as_str().unwrap()).await;
        if state == InboxState::Done {
            self.failures.push(format!("{name}: the worker applied it ({error:?})"));
        }
        println!("{name}: {} ({})", state.as_str(), error.as_deref().unwrap_or_default());
        self.baseline.inbox_rows += 1;
        self.unchanged(name).await;
    }

    async fn unchanged(&mut self, name: &str) {
        let now = snapshot(self.a).await;
        if now != self.baseline {
            let added: Vec<_> = now.rows.iter().filter(|r| !self.baseline.rows.contains(r)).collect();
            self.failures.push(format!(
                "{name}: state changed: inbox rows {} → {}, actors {} → {}, rows now or changed: {added:?}",
                self.baseline.inbox_rows, now.inbox_rows, self.baseline.actors, now.actors
            ));
            self.baseline = now;
        }
    }

    fn finish(self, at_least: usize) -> usize {
        assert!(
            self.failures.is_empty(),
            "{} of {} cases failed:\n{}",
            self.failures.len(),
            self.cases,
            self.failures.join("\n")
        );
        assert!(self.cases >= at_least, "only {} cases ran", self.cases);
        self.cases
    }
}

/// An activity with `field` replaced.
fn with(mut activity: Value, field: &str, value: Value) -> Value {
    activity[field] = value;
    activity
}

/// A's brand `acme` (its id), and two actors on `fake` already known to A (each sent a
/// harmless activity of a type we ignore).
async fn brand_and_known_actors(a: &TestApp, fake: &Fake) -> (String, FakeActor, FakeActor) {
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let ada = fake.actor("ada");
    let bob = fake.actor("bob");
    for actor in [&ada, &bob] {
        let hello = actor.activity("Listen", json!(a.actor_url("acme")));
        assert_eq!(actor.send(a, &hello).await, 202);
        inbox_handled(a, hello["id"].as_str().unwrap()).await;
    }
    (a.actor_url("acme"), ada, bob)
}
