//! B2: `cargo bench --bench inbox_ingest` (SQLite), or with
//! `OPENHOUSE_BENCH_DATABASE_URL=postgres://…/empty_db` for PostgreSQL.
//! Sizes: `OPENHOUSE_BENCH_REQUESTS` (default 50,000), `OPENHOUSE_BENCH_ACTORS` (1,000),
//! `OPENHOUSE_BENCH_SENDERS` (32). Prints the figures; see docs/performance.md.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "support/inbox_ingest.rs"]
mod inbox_ingest;

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let params = inbox_ingest::Params {
        requests: env_or("OPENHOUSE_BENCH_REQUESTS", 50_000),
        actors: env_or("OPENHOUSE_BENCH_ACTORS", 1_000),
        senders: env_or("OPENHOUSE_BENCH_SENDERS", 32),
        database_url: std::env::var("OPENHOUSE_BENCH_DATABASE_URL").ok(),
    };
    let report = runtime.block_on(inbox_ingest::run(params));
    println!("B2 inbox ingest: {report:#?}");
    println!(
        "B2 {} requests: {:.0} accepted/s, p50 {:.2} ms, p99 {:.2} ms; worker drained in {:.2} s more ({:.0} processed/s overall)",
        report.requests,
        report.per_second,
        report.p50_ms,
        report.p99_ms,
        report.drain_seconds,
        report.processed_per_second
    );
}
