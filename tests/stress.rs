//! One client shared by 16 threads for 20 s against the emulator, with
//! 2 s tokens and a stream of injected faults. Each thread uploads its own
//! documents and checks that the results it gets back carry the SHA-256
//! of what it sent; a watchdog fails the test if the threads do not
//! finish in time. One test in its own binary so that nothing else
//! competes for the two CPU cores of a CI machine.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use sypht::{ErrorKind, ResultsOptions, RetryPolicy, UploadOptions};
use sypht_emulator::{FaultAction, FaultRule};

const THREADS: usize = 16;
const RUN_FOR: Duration = Duration::from_secs(20);
/// Time after RUN_FOR within which every thread must have finished.
const WATCHDOG_GRACE: Duration = Duration::from_secs(40);
const TOKEN_LIFETIME: Duration = Duration::from_secs(2);

/// The faults injected in turn, each on its path prefix.
fn fault_plan() -> Vec<FaultRule> {
    let status = |prefix: &str, status: u16, retry_after: Option<&str>| {
        let action = FaultAction::Status {
            status,
            retry_after: retry_after.map(str::to_string),
            body: None,
        };
        FaultRule::new(prefix, action)
    };
    vec![
        status("/result/final/", 503, Some("0")).times(3),
        FaultRule::new("/result/final/", FaultAction::Reset).times(2),
        status("/fileupload", 502, None),
        FaultRule::new("/result/final/", FaultAction::TruncatedBody),
        status("/oauth2/token", 503, Some("0")),
        FaultRule::new(
            "/result/final/",
            FaultAction::Trickle {
                chunk_bytes: 64,
                delay: Duration::from_millis(5),
            },
        ),
        status("/result/final/", 429, None).times(2),
        FaultRule::new("/fileupload", FaultAction::Reset),
        FaultRule::new(
            "/result/final/",
            FaultAction::StallMidBody(Duration::from_millis(300)),
        ),
        FaultRule::new("/result/final/", FaultAction::Pending).times(4),
    ]
}

#[derive(Default)]
struct Tally {
    round_trips: usize,
    /// Failed calls by error kind, for the kinds the faults can cause.
    failures: HashMap<String, usize>,
}

#[test]
fn shared_client_under_faults() {
    let emu = emulator_with(|c| c.token_lifetime = TOKEN_LIFETIME);
    let client = builder(&emu)
        .retry_policy(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
        })
        .read_timeout(Duration::from_secs(3))
        .request_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let (done_sender, done) = mpsc::channel();

    for thread in 0..THREADS {
        let (client, tally, stop, done_sender) = (
            client.clone(),
            tally.clone(),
            stop.clone(),
            done_sender.clone(),
        );
        std::thread::spawn(move || {
            let options = UploadOptions::products(["invoices"]);
            let mut iteration = 0;
            while start.elapsed() < RUN_FOR && !stop.load(Ordering::SeqCst) {
                iteration += 1;
                let pdf = make_pdf(
                    1 + iteration % 3,
                    &format!("thread {thread} document {iteration}"),
                );
                let outcome = client
                    .upload_bytes(&pdf, &format!("t{thread}-{iteration}.pdf"), &options)
                    .and_then(|id| {
                        let response = client.wait_for_results(
                            &id,
                            &ResultsOptions::default(),
                            Duration::from_secs(10),
                        )?;
                        Ok((id, response))
                    });
                let mut tally = tally.lock().unwrap_or_else(|p| p.into_inner());
                match outcome {
                    Ok((id, response)) => {
                        assert_eq!(
                            response.file_id, id,
                            "thread {thread} got another document's results"
                        );
                        let fields = response.field_values().unwrap();
                        assert_eq!(
                            fields["document.sha256"],
                            serde_json::Value::from(sha256_hex(&pdf)),
                            "thread {thread} got results for a document it did not send"
                        );
                        tally.round_trips += 1;
                    }
                    Err(err) => {
                        let allowed = [
                            ErrorKind::Network,
                            ErrorKind::HttpStatus,
                            ErrorKind::Timeout,
                        ];
                        assert!(
                            allowed.contains(&err.kind()),
                            "thread {thread}: unexpected error {err}"
                        );
                        *tally
                            .failures
                            .entry(format!("{:?}", err.kind()))
                            .or_default() += 1;
                    }
                }
            }
            let _ = done_sender.send(thread);
        });
    }
    drop(done_sender);

    // Inject one fault after another while the workers run.
    let plan = fault_plan();
    let mut injected = 0;
    let mut token_faults = 0;
    while start.elapsed() < RUN_FOR {
        let rule = plan[injected % plan.len()].clone();
        if rule.path_prefix.starts_with("/oauth2/") {
            token_faults += rule.count as u64;
        }
        emu.inject_fault(rule).unwrap();
        injected += 1;
        std::thread::sleep(Duration::from_millis(150));
    }

    // Watchdog: every worker must report within the grace period.
    let mut finished = Vec::new();
    while finished.len() < THREADS {
        let left = (RUN_FOR + WATCHDOG_GRACE).saturating_sub(start.elapsed());
        match done.recv_timeout(left) {
            Ok(thread) => finished.push(thread),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                stop.store(true, Ordering::SeqCst);
                panic!(
                    "deadlock or hang: only threads {finished:?} finished within {:?}",
                    RUN_FOR + WATCHDOG_GRACE
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("a worker thread panicked; finished: {finished:?}");
            }
        }
    }
    let elapsed = start.elapsed();
    let tally = tally.lock().unwrap();
    let stats = emu.stats();
    eprintln!(
        "stress: {} round trips, failures {:?}, {injected} faults injected, {} token requests, {} tokens in {:.1} s",
        tally.round_trips,
        tally.failures,
        stats.token_requests,
        stats.tokens_issued,
        elapsed.as_secs_f64()
    );
    assert!(
        tally.round_trips >= 100,
        "only {} round trips",
        tally.round_trips
    );
    // A token is reused for 90% of its 2 s lifetime, so the run needs one
    // token per 1.8 s window, plus the first one. A request sent just
    // before the refresh point can still reach the emulator after the
    // token expired on a loaded machine, get 401 and fetch one more token,
    // so two extra tokens are allowed; a thundering herd would fetch one
    // per thread.
    let windows = (elapsed.as_secs_f64() / 1.8).ceil() as u64 + 1;
    assert!(
        stats.tokens_issued >= 5,
        "tokens were not refreshed: {}",
        stats.tokens_issued
    );
    assert!(
        stats.tokens_issued <= windows + 2,
        "{} tokens for {windows} windows",
        stats.tokens_issued
    );
    assert!(
        stats.token_requests <= stats.tokens_issued + token_faults,
        "{} token requests for {} tokens and {token_faults} injected token faults",
        stats.token_requests,
        stats.tokens_issued
    );
}
