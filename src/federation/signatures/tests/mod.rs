//! Tests of the signature layer: fixed vectors, round trips, the tamper matrix and a
//! never-panics property test. Test code may unwrap and index.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bench;
mod fixtures;
mod garbage;
mod props;
mod roundtrip;
mod tamper;
mod vectors;
