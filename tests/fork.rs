//! A child process after fork() must not reuse its parent's pooled
//! connections: the child's request opens a new connection, and the
//! parent's pooled connection stays usable. One test in its own binary,
//! because forking a process with many test threads is fragile.

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use support::Forwarder;
use sypht::{Client, ResultsOptions, UploadOptions};

/// Waits for `pid` to exit and returns its exit code, killing it after
/// `limit`.
fn wait_for_child(pid: libc::pid_t, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waits on our own child; `status` is a valid out-pointer.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            return libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        }
        if start.elapsed() > limit {
            // SAFETY: signals and reaps our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn child_after_fork_uses_new_connection() {
    let emu = emulator();
    let forwarder = Forwarder::start(emu.local_addr());
    let client = Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(forwarder.url())
        .auth_endpoint(format!("{}/oauth2/token", forwarder.url()))
        .ignore_env(true)
        .build()
        .unwrap();
    let file_id = client
        .upload_bytes(
            &make_pdf(1, "fork"),
            "fork.pdf",
            &UploadOptions::products(["invoices"]),
        )
        .unwrap();
    assert_eq!(
        forwarder.connections(),
        1,
        "the token request and upload share one pooled connection"
    );

    // SAFETY: the child only runs the client call below and then leaves
    // with _exit, skipping destructors and the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: alarm and _exit are async-signal-safe; the alarm ends a
        // child that hangs.
        unsafe { libc::alarm(20) };
        let ok = client
            .fetch_results(&file_id, &ResultsOptions::default())
            .is_ok_and(|r| r.is_finalised());
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }

    let exit = wait_for_child(pid, Duration::from_secs(30));
    assert_eq!(exit, Some(0), "the child's request failed or hung");
    assert_eq!(
        forwarder.connections(),
        2,
        "the child reused the parent's pooled connection"
    );
    assert_eq!(emu.stats().result_requests, 1);

    // The parent's pooled connection is still open and reused.
    let response = client
        .fetch_results(&file_id, &ResultsOptions::default())
        .unwrap();
    assert!(response.is_finalised());
    assert_eq!(
        forwarder.connections(),
        2,
        "the parent had to reconnect after the child exited"
    );
    assert_eq!(emu.stats().result_requests, 2);
}
