//! Listener, per-connection threads and the request/response cycle.

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http::{self, BodyReader, Request, Response};
use crate::state::State;
use crate::{router, EmulatorConfig, Stats};

/// How long an idle keep-alive connection waits for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one read inside a request head or body may block.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Unread request body that is discarded to keep a connection open; beyond
/// it the connection is closed after the response.
const KEEP_ALIVE_DISCARD_BYTES: u64 = 1024 * 1024;
/// Budget for draining a rejected body before closing, so that a client
/// still sending it can read the response instead of getting a reset.
const REJECTED_BODY_DRAIN_BYTES: u64 = 256 * 1024 * 1024;
const REJECTED_BODY_DRAIN_TIME: Duration = Duration::from_secs(10);

pub struct Shared {
    pub config: EmulatorConfig,
    pub base_url: String,
    pub pending_polls: AtomicU32,
    pub shutdown: AtomicBool,
    stats: Mutex<Stats>,
    state: Mutex<State>,
    /// HMAC key for token signatures, random per instance.
    pub token_key: [u8; 32],
    connections: Mutex<Connections>,
    spool_dir: PathBuf,
    spool_counter: AtomicU64,
}

#[derive(Default)]
struct Connections {
    next_id: u64,
    streams: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

impl Shared {
    pub fn new(config: EmulatorConfig, local_addr: SocketAddr) -> Shared {
        let base_url = format!("http://{local_addr}");
        let instance = crate::util::hex(&crate::util::random_bytes::<8>());
        let spool_dir = std::env::temp_dir().join(format!("sypht-emulator-{}-{instance}", std::process::id()));
        Shared {
            pending_polls: AtomicU32::new(config.pending_polls),
            config,
            base_url,
            shutdown: AtomicBool::new(false),
            stats: Mutex::new(Stats::default()),
            state: Mutex::new(State::default()),
            token_key: crate::util::random_bytes::<32>(),
            connections: Mutex::new(Connections::default()),
            spool_dir,
            spool_counter: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked cannot leave State half-updated in a way
        // that matters for tests, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn update_stats(&self, update: impl FnOnce(&mut Stats)) {
        update(&mut self.stats.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn revoke_tokens(&self) {
        self.state().tokens.revoke_all();
    }

    /// Returns a fresh path for a spooled upload, creating the spool
    /// directory on first use.
    pub fn new_spool_path(&self) -> io::Result<PathBuf> {
        std::fs::create_dir_all(&self.spool_dir)?;
        let n = self.spool_counter.fetch_add(1, Ordering::SeqCst);
        Ok(self.spool_dir.join(format!("upload-{n}.bin")))
    }

    /// Shuts down every open connection so blocked reads return, then joins
    /// the connection threads.
    pub fn close_connections(&self) {
        let threads = {
            let mut connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
            for stream in connections.streams.values() {
                let _ = stream.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut connections.threads)
        };
        for thread in threads {
            let _ = thread.join();
        }
    }

    pub fn log(&self, line: &str) {
        if self.config.log {
            eprintln!("sypht-emulator: {line}");
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Documents spooled to disk live in this directory only.
        let _ = std::fs::remove_dir_all(&self.spool_dir);
    }
}

pub fn accept_loop(shared: std::sync::Arc<Shared>, listener: TcpListener) {
    for incoming in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let stream = match incoming {
            Ok(stream) => stream,
            Err(error) => {
                shared.log(&format!("accept failed: {error}; retrying in 50 ms"));
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let Ok(registered) = stream.try_clone() else {
            continue;
        };
        let mut connections = shared.connections.lock().unwrap_or_else(|p| p.into_inner());
        connections.threads.retain(|thread| !thread.is_finished());
        let id = connections.next_id;
        connections.next_id += 1;
        connections.streams.insert(id, registered);
        let thread_shared = std::sync::Arc::clone(&shared);
        let spawned = std::thread::Builder::new().name(format!("sypht-emulator-conn-{id}")).spawn(move || {
            serve_connection(&thread_shared, stream);
            let mut connections = thread_shared.connections.lock().unwrap_or_else(|p| p.into_inner());
            connections.streams.remove(&id);
        });
        match spawned {
            Ok(thread) => connections.threads.push(thread),
            Err(error) => {
                connections.streams.remove(&id);
                shared.log(&format!("failed to spawn a connection thread: {error}"));
            }
        }
    }
}

fn serve_connection(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    while !shared.shutdown.load(Ordering::SeqCst) {
        let _ = reader.get_ref().set_read_timeout(Some(IDLE_TIMEOUT));
        let head = match http::read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) | Err(_) => return,
        };
        let started = Instant::now();
        let _ = reader.get_ref().set_read_timeout(Some(READ_TIMEOUT));
        let request = match head {
            Ok(request) => request,
            Err(error) => {
                let mut response = Response::error(error.status, "bad_request", &error.message);
                response.close = true;
                let _ = send_head_and_body(&mut writer, &response, true);
                let _ = writer.shutdown(Shutdown::Write);
                shared.log(&format!("rejected a malformed request: {} {}", error.status, error.message));
                return;
            }
        };
        let (keep_open, status) = serve_request(shared, &request, &mut reader, &mut writer);
        // The path carries ids but never credentials, which travel in
        // headers and bodies; the query string is left out.
        shared.log(&format!("{} {} {status} {}ms", request.method, request.path, started.elapsed().as_millis()));
        if !keep_open {
            return;
        }
    }
}

/// Handles one request and writes its response. Returns whether the
/// connection may carry another request, and the response status.
fn serve_request(
    shared: &Shared,
    request: &Request,
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> (bool, u16) {
    let expects_continue = request.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let continue_writer = if expects_continue { writer.try_clone().ok() } else { None };
    let mut body = BodyReader::new(reader, request.framing, continue_writer);
    let response = router::handle(shared, request, &mut body);
    let mut close = response.close || request.wants_close() || shared.shutdown.load(Ordering::SeqCst);
    let mut drain_after_response = false;
    if !body.is_done() && !body.failed() {
        // A small unread rest (or up to that much of a chunked body) is
        // discarded so the connection stays usable. Anything else is drained
        // after the response, which the client can read once it has
        // finished sending.
        let small = body.remaining().is_none_or(|n| n <= KEEP_ALIVE_DISCARD_BYTES);
        let discarded = small && body.discard_until(KEEP_ALIVE_DISCARD_BYTES, Instant::now() + READ_TIMEOUT).unwrap_or(false);
        if !discarded {
            close = true;
            drain_after_response = !body.failed();
        }
    }
    close |= body.failed();
    let sent = send_head_and_body(writer, &response, close);
    if sent.is_ok() && drain_after_response {
        let _ = writer.set_read_timeout(Some(Duration::from_secs(1)));
        let deadline = Instant::now() + REJECTED_BODY_DRAIN_TIME;
        let _ = body.discard_until(REJECTED_BODY_DRAIN_BYTES, deadline);
    }
    if close {
        let _ = writer.shutdown(Shutdown::Write);
    }
    (sent.is_ok() && !close, response.status)
}

/// Writes a whole response; the caller closes the connection if `close`.
pub fn send_head_and_body(writer: &mut TcpStream, response: &Response, close: bool) -> io::Result<()> {
    let head = http::head_bytes(response, response.body_len(), close);
    writer.write_all(&head)?;
    http::write_body(writer, &response.body)?;
    writer.flush()
}
