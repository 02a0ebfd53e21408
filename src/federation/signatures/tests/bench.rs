//! Timing of the signature layer: prints, never asserts a duration (`PERFORMANCE.md`).
//!
//! Runs as a tiny smoke test by default so it keeps compiling and working. For numbers:
//! `SIGS_BENCH_ITERS=2000 cargo test --release --lib federation::signatures::tests::bench -- --nocapture`.

use std::{hint::black_box, time::Instant};

use http::Method;
use url::Url;

use super::super::{KeyCache, PublicKey, sign_request};
use super::fixtures::*;

/// Median over 5 runs of the mean time per call, in microseconds.
fn time(iterations: u32, mut f: impl FnMut()) -> f64 {
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[2]
}

#[test]
fn signature_layer_timings() {
    let n: u32 = std::env::var("SIGS_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let key = signing_key();
    let url = Url::parse(INBOX).unwrap();
    let cavage = signed_post(at(0));
    let rfc = rfc9421_post(at(0), MASTODON_POST, "");
    let public = public_key();
    let parsed = cavage.parse(at(0)).unwrap();
    let cache = KeyCache::default();
    cache.get_or_parse(KEY_ID, PUBLIC_PEM).unwrap();

    let rows = [
        (
            "sign_request (POST, RSA-2048 PKCS#1 v1.5)",
            time(n, || {
                let mut req = Req::new(Method::POST, INBOX, FOLLOW.as_bytes());
                req.set("content-type", ACTIVITY_JSON);
                sign_request(&key, &Method::POST, &url, &mut req.headers, Some(&req.body), at(0)).unwrap();
                black_box(req);
            }),
        ),
        (
            "parse_request, draft-cavage POST",
            time(n, || {
                black_box(cavage.parse(at(0)).unwrap());
            }),
        ),
        (
            "parse_request, RFC 9421 POST",
            time(n, || {
                black_box(rfc.parse(at(0)).unwrap());
            }),
        ),
        ("ParsedSignature::verify (RSA-2048)", time(n, || parsed.verify(&public).unwrap())),
        (
            "PublicKey::from_pem (RSA-2048 SPKI)",
            time(n, || {
                black_box(PublicKey::from_pem(PUBLIC_PEM).unwrap());
            }),
        ),
        (
            "KeyCache::get_or_parse, hit",
            time(n, || {
                black_box(cache.get_or_parse(KEY_ID, PUBLIC_PEM).unwrap());
            }),
        ),
    ];
    println!("signature layer, {n} iterations x 5 runs, median of run means:");
    for (what, micros) in rows {
        println!("  {what:<45} {micros:>9.1} µs");
    }
}
