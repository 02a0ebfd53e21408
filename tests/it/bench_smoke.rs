//! The benchmarks, run at a tiny size so they keep compiling and working. Figures are
//! printed, never asserted.

#[path = "../../benches/support/inbox_ingest.rs"]
mod inbox_ingest;

#[tokio::test]
async fn b2_inbox_ingest_runs_at_a_tiny_size() {
    let report =
        inbox_ingest::run(inbox_ingest::Params { requests: 40, actors: 8, senders: 4, database_url: None }).await;
    println!("{report:?}");
    assert_eq!(report.accepted, 40, "every signed request was accepted with 202");
}
