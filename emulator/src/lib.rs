//! A loopback emulator of the Sypht REST API, for testing clients offline.
//!
//! [`Emulator::start`] binds a listener (by default `127.0.0.1:0`), serves
//! the token endpoints and the API at the root of that origin, and keeps all
//! state in memory. Dropping the [`Emulator`] stops the server and joins its
//! threads.
//!
//! ```no_run
//! use sypht_emulator::{Emulator, EmulatorConfig};
//! let emulator = Emulator::start(EmulatorConfig::default())?;
//! println!("API at {}, tokens at {}", emulator.base_url(), emulator.auth_url());
//! # Ok::<(), std::io::Error>(())
//! ```

mod annotations;
mod auth;
mod control;
mod document;
mod entities;
mod faults;
mod files;
mod http;
mod multipart;
mod png;
mod results;
mod router;
mod server;
mod state;
mod tags;
mod tls;
mod upload;
mod util;
mod workflows;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use faults::{FaultAction, FaultRule, LoggedRequest};
pub use tls::TlsFront;
use server::Shared;

/// Settings for one emulator instance. Build it with struct update syntax
/// over [`EmulatorConfig::default`] so new fields do not break callers.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Address to listen on. Only loopback addresses are accepted unless
    /// `allow_non_loopback` is set.
    pub bind_addr: SocketAddr,
    /// Client id accepted by `/oauth2/token` (HTTP Basic).
    pub client_id: String,
    pub client_secret: String,
    /// Client id accepted by the legacy `/oauth/token` endpoint only.
    pub legacy_client_id: String,
    pub legacy_client_secret: String,
    /// Lifetime of tokens from `/oauth2/token`; whole seconds, at least 1 s.
    pub token_lifetime: Duration,
    /// Lifetime of tokens from `/oauth/token`; whole seconds, at least 1 s.
    pub legacy_token_lifetime: Duration,
    /// Largest accepted document, in bytes.
    pub max_upload_bytes: u64,
    /// Largest accepted PDF page count; 0 disables the check.
    pub max_pdf_pages: u32,
    /// Number of `GET /result/final` requests per file answered with
    /// `"IN PROGRESS"` before the file is `FINALISED`. Read at upload time.
    pub pending_polls: u32,
    /// HTTP status of an `"IN PROGRESS"` results answer: 200 or 202.
    pub pending_status: u16,
    /// Number of annotations per page of `GET /app/annotations` and
    /// `POST /app/annotations/search`.
    pub annotation_page_size: usize,
    /// Number of latest API requests kept in the request log.
    pub request_log_capacity: usize,
    /// Write one line per request to stderr.
    pub log: bool,
    /// Permit `bind_addr` outside the loopback range.
    pub allow_non_loopback: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            client_id: "emulator-client-id".to_string(),
            client_secret: "emulator-client-secret".to_string(),
            legacy_client_id: "emulator-legacy-id".to_string(),
            legacy_client_secret: "emulator-legacy-secret".to_string(),
            token_lifetime: Duration::from_secs(3600),
            legacy_token_lifetime: Duration::from_secs(86_400),
            max_upload_bytes: 20 * 1024 * 1024,
            max_pdf_pages: 16,
            pending_polls: 0,
            pending_status: 200,
            annotation_page_size: 100,
            request_log_capacity: 10_000,
            log: false,
            allow_non_loopback: false,
        }
    }
}

/// Request counters since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests to `/oauth2/token` and `/oauth/token`, successful or not.
    pub token_requests: u64,
    pub tokens_issued: u64,
    /// Every API request, including token requests but not `/_emulator/`
    /// control requests.
    pub requests: u64,
    /// Requests to any upload endpoint, whatever their outcome.
    pub uploads: u64,
    /// Requests to `GET /result/final/{fileId}`, whatever their outcome.
    pub result_requests: u64,
}

/// A running emulator. Dropping it stops the server and joins its threads.
pub struct Emulator {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    accept_thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds the listener and starts serving on a background thread.
    pub fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        validate_config(&config)?;
        let listener = TcpListener::bind(config.bind_addr)?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, local_addr));
        let accept_shared = Arc::clone(&shared);
        let accept_thread = std::thread::Builder::new()
            .name("sypht-emulator-accept".to_string())
            .spawn(move || server::accept_loop(accept_shared, listener))?;
        Ok(Emulator { shared, local_addr, accept_thread: Some(accept_thread) })
    }

    /// Returns the API origin, such as `http://127.0.0.1:41234`, with no
    /// trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn auth_url(&self) -> String {
        format!("{}/oauth2/token", self.shared.base_url)
    }

    pub fn legacy_auth_url(&self) -> String {
        format!("{}/oauth/token", self.shared.base_url)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Sets the number of `"IN PROGRESS"` answers for files uploaded from
    /// now on. Files already uploaded keep their count.
    pub fn set_pending_polls(&self, n: u32) {
        self.shared.pending_polls.store(n, Ordering::SeqCst);
    }

    /// Invalidates every token issued so far, so that requests with them
    /// get 401. Tokens issued afterwards work.
    pub fn revoke_tokens(&self) {
        self.shared.revoke_tokens();
    }

    /// Adds a fault for the next `rule.count` matching requests and returns
    /// its id. Fails for a rule that could never work, such as a redirect
    /// to a host outside the loopback range.
    pub fn inject_fault(&self, rule: FaultRule) -> io::Result<u64> {
        faults::validate(&rule)?;
        Ok(self.shared.faults().add(rule))
    }

    /// Returns the faults not yet used up, with their ids and remaining
    /// counts.
    pub fn faults(&self) -> Vec<(u64, FaultRule)> {
        self.shared.faults().list()
    }

    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Returns the most recent API requests (up to the configured
    /// `request_log_capacity`, 10,000 by default), oldest first.
    /// Control requests under `/_emulator/` are not recorded.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.request_log().entries()
    }

    pub fn clear_request_log(&self) {
        self.shared.request_log().clear();
    }

    /// Stops the server and joins its threads, as dropping does.
    pub fn shutdown(self) {}

    fn stop(&mut self) {
        let Some(accept_thread) = self.accept_thread.take() else {
            return;
        };
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept() with a connection of our own.
        let wake_addr = match self.local_addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => SocketAddr::from(([127, 0, 0, 1], a.port())),
            SocketAddr::V6(a) if a.ip().is_unspecified() => SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], a.port())),
            other => other,
        };
        let _ = TcpStream::connect_timeout(&wake_addr, Duration::from_secs(1));
        let _ = accept_thread.join();
        self.shared.close_connections();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

fn validate_config(config: &EmulatorConfig) -> io::Result<()> {
    let invalid = |message: String| Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    if !config.allow_non_loopback && !config.bind_addr.ip().is_loopback() {
        return invalid(format!(
            "bind address {} is not a loopback address; use 127.0.0.1 or ::1, or set allow_non_loopback",
            config.bind_addr.ip()
        ));
    }
    if config.token_lifetime.as_secs() == 0 || config.legacy_token_lifetime.as_secs() == 0 {
        return invalid("token lifetimes must be at least 1 second".to_string());
    }
    if config.pending_status != 200 && config.pending_status != 202 {
        return invalid(format!("pending_status must be 200 or 202, not {}", config.pending_status));
    }
    if config.annotation_page_size == 0 {
        return invalid("annotation_page_size must be at least 1".to_string());
    }
    if config.client_id.is_empty() || config.legacy_client_id.is_empty() {
        return invalid("client ids must not be empty".to_string());
    }
    if config.client_id == config.legacy_client_id {
        return invalid("client_id and legacy_client_id must differ, because each selects its own endpoint".to_string());
    }
    Ok(())
}
