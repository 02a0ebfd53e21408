//! Openhouse's integration tests: one binary, one module per area. Every test starts its
//! own instance on a loopback port with its own database (a temporary SQLite file, or a
//! fresh PostgreSQL database when `OPENHOUSE_TEST_DATABASE_URL` is set) and talks to it
//! over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod actors;
mod api_media;
mod bench_smoke;
mod browser;
mod cli;
mod conversations;
mod crash;
mod discovery;
mod follows;
mod hostile;
mod identity;
mod inbox;
mod leases;
mod lifecycle;
mod ops;
mod pages;
mod peers;
mod publishing;
mod rate_limits;
mod remote_follow;
mod remote_input;
mod setup;
mod support;
mod threads;
mod wal;
