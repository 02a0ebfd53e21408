//! B1 fan-out and B5 growth: `cargo bench --bench fanout` (SQLite; with
//! `OPENHOUSE_BENCH_DATABASE_URL=postgres://…/empty_db` for PostgreSQL).
//! Sizes: `OPENHOUSE_BENCH_FOLLOWERS` (default 100,000), `OPENHOUSE_BENCH_HOSTS` (10,000),
//! `OPENHOUSE_BENCH_RUNS` (3), `OPENHOUSE_BENCH_BASELINE` (1; 0 skips activitypub_federation's
//! queue), `OPENHOUSE_BENCH_CONCURRENCY` (64, both systems), `OPENHOUSE_BENCH_SINK_PORT`
//! (18000). B5 is this bench at `OPENHOUSE_BENCH_HOSTS=1000`, `10000`, `50000`.
//! Sinks run in child processes of this binary (`OPENHOUSE_BENCH_SINK_SHARD`). Prints the
//! figures and the ratio to the baseline; see docs/performance.md.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

#[path = "support/fanout.rs"]
mod fanout;

use fanout::{Run, median};

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn shard(spec: &str) {
    let parts: Vec<usize> = spec.split(':').map(|p| p.parse().expect("shard spec")).collect();
    let (octet, first, count, port) = (parts[0] as u8, parts[1], parts[2], parts[3] as u16);
    let addrs =
        (first..first + count).map(|i| std::net::SocketAddr::new(fanout::host_ip(octet, i).into(), port)).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(fanout::shard_main(addrs, tokio::io::stdin(), tokio::io::stdout()));
}

fn summary(name: &str, runs: &[Run]) {
    println!(
        "{name:>9}: publish {:.1} ms | started {:>7.1} ms | enqueue {:>8.1} ms | first {:>7.1} ms | p50 {:>7.1} ms | last {:>8.1} ms | {:>6.0} deliveries/s | recorded {:>8.1} ms | RSS {:.1} → peak {:.1} MB (+{:.1}; own memory +{:.1}) | bad {}",
        median(runs, |r| r.publish_ms),
        median(runs, |r| r.started_ms),
        median(runs, |r| r.enqueue_ms),
        median(runs, |r| r.first_ms),
        median(runs, |r| r.p50_ms),
        median(runs, |r| r.last_ms),
        median(runs, |r| r.per_second),
        median(runs, |r| r.recorded_ms),
        median(runs, |r| r.rss_before_mb),
        median(runs, |r| r.rss_peak_mb),
        median(runs, |r| r.rss_peak_mb - r.rss_before_mb),
        median(runs, |r| r.anon_peak_mb - r.anon_before_mb),
        runs.iter().map(|r| r.bad).sum::<usize>(),
    );
}

fn main() {
    if let Ok(spec) = std::env::var("OPENHOUSE_BENCH_SINK_SHARD") {
        return shard(&spec);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let params = fanout::Params {
        followers: env_or("OPENHOUSE_BENCH_FOLLOWERS", 100_000),
        hosts: env_or("OPENHOUSE_BENCH_HOSTS", 10_000),
        runs: env_or("OPENHOUSE_BENCH_RUNS", 3),
        baseline: env_or("OPENHOUSE_BENCH_BASELINE", 1) != 0,
        database_url: std::env::var("OPENHOUSE_BENCH_DATABASE_URL").ok(),
        sink_exe: Some(std::env::current_exe().expect("own path")),
        port: env_or("OPENHOUSE_BENCH_SINK_PORT", 18_000) as u16,
        octet: 1,
        concurrency: env_or("OPENHOUSE_BENCH_CONCURRENCY", 64),
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "B1 fan-out: {} followers on {} hosts, {} runs, concurrency {}; load {}",
        params.followers,
        params.hosts,
        params.runs,
        params.concurrency,
        load.trim()
    );
    let report = runtime.block_on(fanout::run(params));
    println!("seeded in {:.1} s; medians over {} runs:", report.seed_seconds, report.ours.len());
    summary("openhouse", &report.ours);
    if !report.baseline.is_empty() {
        summary("baseline", &report.baseline);
        let ratio =
            median(&report.ours, |r| r.per_second) / median(&report.baseline, |r| r.per_second).max(f64::MIN_POSITIVE);
        println!("ratio (deliveries/s, openhouse / activitypub_federation queue): {ratio:.2}×");
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load after: {}", load.trim());
}
