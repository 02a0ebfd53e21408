//! B3: `cargo bench --bench reads` (SQLite), or with `OPENHOUSE_BENCH_DATABASE_URL=postgres://…/empty_db`
//! for PostgreSQL. Actor JSON, Note JSON and an update's page with a 500-reply thread, each for
//! `OPENHOUSE_BENCH_SECONDS` (default 30) over `OPENHOUSE_BENCH_CONNECTIONS` (64) connections;
//! `OPENHOUSE_BENCH_REPLIES` (500) sets the thread size. Prints the figures; see docs/performance.md.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "support/reads.rs"]
mod reads;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let params = reads::Params {
        seconds: env_or("OPENHOUSE_BENCH_SECONDS", 30.0),
        connections: env_or("OPENHOUSE_BENCH_CONNECTIONS", 64),
        replies: env_or("OPENHOUSE_BENCH_REPLIES", 500),
        database_url: std::env::var("OPENHOUSE_BENCH_DATABASE_URL").ok(),
    };
    let (seconds, connections, replies) = (params.seconds, params.connections, params.replies);
    let figures = runtime.block_on(reads::run(params));
    println!("B3 reads: {seconds} s per target, {connections} connections, thread of {replies} replies");
    for f in figures {
        println!(
            "B3 {:<20} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests, {} errors, {} bytes each)",
            f.target, f.per_second, f.p50_ms, f.p99_ms, f.requests, f.errors, f.body_bytes
        );
    }
}
