//! The benchmarks, run at a tiny size so they keep compiling and working. Figures are
//! printed, never asserted.

#[path = "../../benches/support/inbox_ingest.rs"]
mod inbox_ingest;
#[path = "../../benches/support/inbox_ingest_baseline.rs"]
mod inbox_ingest_baseline;

/// SQLite in a temp dir (the PostgreSQL runs are the full benchmark's business).
fn tiny() -> inbox_ingest::Params {
    inbox_ingest::Params { requests: 40, actors: 8, senders: 4, database_url: None }
}

#[tokio::test]
async fn b2_inbox_ingest_runs_at_a_tiny_size() {
    let report = inbox_ingest::run(tiny()).await;
    println!("{report:?}");
    assert_eq!(report.accepted, 40, "every signed request was accepted with 202");
    assert_eq!(report.stored, 40, "every accepted activity was stored once");
}

#[tokio::test]
async fn b2_baseline_runs_at_a_tiny_size() {
    let report = inbox_ingest_baseline::run(tiny()).await;
    println!("{report:?}");
    assert_eq!(report.accepted, 40, "the library accepted every signed request");
    assert_eq!(report.stored, 40, "and its handler stored each once");
}
