//! What the integration tests share: [`TestApp`] (a real instance and one method per
//! endpoint), fake remote servers and their actors, signed POSTs, waits on a condition, and
//! fixtures of what real peers send.

pub mod app;
pub mod fake_remote;
pub mod fixtures;
pub mod signing;
pub mod snapshot;
pub mod wait;

pub use app::{Options, TestApp, TestDb, query_plan, test_database, two_instances, two_instances_with};
pub use wait::eventually;
