//! B2: `cargo bench --bench inbox_ingest` (SQLite), or with
//! `OPENHOUSE_BENCH_DATABASE_URL=postgres://…/empty_db` for PostgreSQL.
//! Sizes: `OPENHOUSE_BENCH_REQUESTS` (default 50,000), `OPENHOUSE_BENCH_ACTORS` (1,000),
//! `OPENHOUSE_BENCH_SENDERS` (32). Runs Openhouse, then the baseline (activitypub_federation's
//! synchronous `receive_activity` with the same store), and prints both and the ratio;
//! `OPENHOUSE_BENCH_ONLY=openhouse` or `=baseline` runs one of them. See docs/performance.md.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "support/inbox_ingest.rs"]
mod inbox_ingest;
#[path = "support/inbox_ingest_baseline.rs"]
mod inbox_ingest_baseline;

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn print(name: &str, report: &inbox_ingest::Report) {
    println!("B2 {name}: {report:#?}");
    println!(
        "B2 {name}: {} requests, {} accepted, {} stored, {} threaded: {:.0} accepted/s, p50 {:.2} ms, p99 {:.2} ms \
         (without first contacts {:.2} ms; first contacts p50 {:.2} ms, p99 {:.2} ms); \
         drained {:.2} s after sending ({:.0} processed/s overall); \
         write lock busy {:.0}% over {} turns, mean wait {:.2} ms",
        report.requests,
        report.accepted,
        report.stored,
        report.threaded,
        report.per_second,
        report.p50_ms,
        report.p99_ms,
        report.steady_p99_ms,
        report.first_contact_p50_ms,
        report.first_contact_p99_ms,
        report.drain_seconds,
        report.processed_per_second,
        report.write_lock.busy * 100.0,
        report.write_lock.turns,
        report.write_lock.mean_wait_ms
    );
    for site in &report.write_lock.sites {
        println!(
            "B2 {name}: write lock held from {}: {} turns, {:.2} ms each, {:.0}% of the held time",
            site.site,
            site.turns,
            site.mean_hold_ms,
            site.share * 100.0
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let params = inbox_ingest::Params {
        requests: env_or("OPENHOUSE_BENCH_REQUESTS", 50_000),
        actors: env_or("OPENHOUSE_BENCH_ACTORS", 1_000),
        senders: env_or("OPENHOUSE_BENCH_SENDERS", 32),
        database_url: std::env::var("OPENHOUSE_BENCH_DATABASE_URL").ok(),
    };
    let only = std::env::var("OPENHOUSE_BENCH_ONLY").unwrap_or_default();
    let ours = (only != "baseline").then(|| runtime.block_on(inbox_ingest::run(params.clone())));
    if let Some(report) = &ours {
        print("openhouse", report);
    }
    let baseline = (only != "openhouse").then(|| runtime.block_on(inbox_ingest_baseline::run(params.clone())));
    if let Some(report) = &baseline {
        print("baseline (activitypub_federation receive_activity)", report);
    }
    if let (Some(ours), Some(baseline)) = (&ours, &baseline) {
        println!(
            "B2 ratio openhouse / baseline: accepted/s {:.2}x, p99 {:.2}x",
            ours.per_second / baseline.per_second,
            ours.p99_ms / baseline.p99_ms
        );
    }
}
