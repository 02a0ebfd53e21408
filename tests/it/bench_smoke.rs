//! The benchmarks, run at a tiny size so they keep compiling and working. Figures are
//! printed, never asserted.

#[path = "../../benches/support/inbox_ingest.rs"]
mod inbox_ingest;
#[path = "../../benches/support/inbox_ingest_baseline.rs"]
mod inbox_ingest_baseline;
#[path = "../../benches/support/reads.rs"]
mod reads;

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
    assert_eq!(report.threaded, 40, "and the worker stored every reply in the update's thread");
}

#[tokio::test]
async fn b2_baseline_runs_at_a_tiny_size() {
    let report = inbox_ingest_baseline::run(tiny()).await;
    println!("{report:?}");
    assert_eq!(report.accepted, 40, "the library accepted every signed request");
    assert_eq!(report.stored, 40, "and its handler stored each once");
}

#[path = "../../benches/support/fanout.rs"]
mod fanout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_fanout_runs_at_a_tiny_size() {
    let report = fanout::run(fanout::Params {
        followers: 30,
        hosts: 6,
        runs: 1,
        baseline: true,
        database_url: None,
        sink_exe: None,
        port: 0,
        octet: 201,
        concurrency: 8,
    })
    .await;
    println!("{report:?}");
    let (ours, theirs) = (&report.ours[0], &report.baseline[0]);
    assert_eq!(ours.delivered, 6, "one signed delivery per host");
    assert_eq!(theirs.delivered, 6, "the baseline reached every host too");
    assert_eq!(ours.bad + theirs.bad, 0, "every delivery carried a matching digest and a signature");
}

#[tokio::test]
async fn b3_reads_runs_at_a_tiny_size() {
    let figures = reads::run(reads::Params { seconds: 0.3, connections: 4, replies: 30, database_url: None }).await;
    println!("{figures:#?}");
    let targets: Vec<_> = figures.iter().map(|f| f.target).collect();
    assert_eq!(targets, ["actor JSON", "note JSON", "thread page (HTML)"]);
    for f in &figures {
        assert!(f.requests > 0 && f.errors == 0, "{f:?}");
    }
    let page = figures.last().unwrap();
    assert!(page.body_bytes > 30 * 100, "the page carries the 30 replies: {page:?}");
}
