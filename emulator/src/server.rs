//! Listener, per-connection threads and the request/response cycle.

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::faults::{self, action_name, FaultAction, FaultTable, LoggedRequest, RequestLog};
use crate::http::{self, Body, BodyReader, Request, Response};
use crate::state::State;
use crate::{control, router, EmulatorConfig, Stats};

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
    faults: Mutex<FaultTable>,
    request_log: Mutex<RequestLog>,
    /// Start of spool file names: the temporary directory, then a name
    /// unique to this process and instance.
    spool_prefix: PathBuf,
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
        let request_log_capacity = config.request_log_capacity;
        let base_url = format!("http://{local_addr}");
        let instance = crate::util::hex(&crate::util::random_bytes::<8>());
        let spool_prefix = std::env::temp_dir().join(format!("sypht-emulator-{}-{instance}", std::process::id()));
        Shared {
            pending_polls: AtomicU32::new(config.pending_polls),
            config,
            base_url,
            shutdown: AtomicBool::new(false),
            stats: Mutex::new(Stats::default()),
            state: Mutex::new(State::default()),
            token_key: crate::util::random_bytes::<32>(),
            connections: Mutex::new(Connections::default()),
            faults: Mutex::new(FaultTable::default()),
            request_log: Mutex::new(RequestLog::new(request_log_capacity)),
            spool_prefix,
            spool_counter: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        // NOTE: a handler that panicked may have left State half-updated.
        // Serving on keeps the first panic visible instead of a cascade.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultTable> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn request_log(&self) -> MutexGuard<'_, RequestLog> {
        self.request_log.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Returns a fresh path in the temporary directory for a spooled
    /// upload. The file is removed when its document is dropped, which
    /// happens at the latest when the emulator is dropped.
    pub fn new_spool_path(&self) -> io::Result<PathBuf> {
        let n = self.spool_counter.fetch_add(1, Ordering::SeqCst);
        let mut path = self.spool_prefix.clone().into_os_string();
        path.push(format!("-upload-{n}.bin"));
        Ok(PathBuf::from(path))
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
        let control = is_control_path(&request.path);
        let outcome = serve_request(shared, &request, control, started, &mut reader, &mut writer);
        let status = outcome.status.map_or("reset".to_string(), |s| s.to_string());
        // The path carries ids but never credentials, which travel in
        // headers and bodies; the query string is left out.
        shared.log(&format!("{} {} {status} {}ms", request.method, request.path, started.elapsed().as_millis()));
        if !outcome.keep_open {
            return;
        }
    }
}

fn is_control_path(path: &str) -> bool {
    path == "/_emulator" || path.starts_with("/_emulator/")
}

/// Result of serving one request.
struct Outcome {
    keep_open: bool,
    /// `None` when the connection was reset without a response.
    status: Option<u16>,
}

fn log_entry(request: &Request, status: Option<u16>, fault: Option<&str>, duration: Duration) -> LoggedRequest {
    let header = |name: &str| request.header(name).map(str::to_string);
    let authorization = request.header("authorization");
    LoggedRequest {
        time: std::time::SystemTime::now(),
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query_text.clone(),
        has_authorization: authorization.is_some(),
        // Only the scheme is kept; the credential itself never enters the log.
        authorization_scheme: authorization.and_then(|v| v.split_whitespace().next()).map(str::to_string),
        content_type: header("content-type"),
        content_length: request.content_length().filter(|_| request.header("content-length").is_some()),
        chunked: request.framing == http::Framing::Chunked,
        user_agent: header("user-agent"),
        accept: header("accept"),
        status,
        fault: fault.map(str::to_string),
        duration,
    }
}

/// Manner of writing a response, as changed by an injected fault.
enum WriteMode {
    Normal,
    StallMidBody(Duration),
    Trickle { chunk_bytes: usize, delay: Duration },
    Truncated,
}

/// Sleeps for `duration` in 20 ms steps, returning early on shutdown so
/// that dropping the emulator does not wait out an injected stall.
fn pause(shared: &Shared, duration: Duration) {
    let deadline = Instant::now() + duration;
    while !shared.shutdown.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

/// Builds the response for a fault that replaces the handler, or returns
/// `None` when the handler should run.
fn fault_response(shared: &Shared, request: &Request, action: &FaultAction) -> Option<Response> {
    match action {
        FaultAction::Status { status, retry_after, body } => {
            let mut response = match body {
                Some(text) => Response::new(*status, "application/json", text.clone().into_bytes()),
                None => Response::error(*status, "injected_fault", &format!("injected fault: status {status}")),
            };
            if let Some(value) = retry_after {
                response = response.with_header("Retry-After", value);
            }
            Some(response)
        }
        FaultAction::InvalidJson => Some(Response::new(
            200,
            "application/json",
            b"{\"status\": \"FINALISED\", \"results\": <html>not json</html>".to_vec(),
        )),
        FaultAction::OversizedBody { bytes } => {
            // A valid JSON object padded to exactly `bytes` bytes when there
            // is room for the padding key, otherwise spaces.
            let (prefix, suffix) = (b"{\"padding\":\"".to_vec(), b"\"}".to_vec());
            let frame = (prefix.len() + suffix.len()) as u64;
            let body = if *bytes >= frame {
                Body::Generated { prefix, fill: b'x', fill_len: bytes - frame, suffix }
            } else {
                Body::Generated { prefix: Vec::new(), fill: b' ', fill_len: *bytes, suffix: Vec::new() }
            };
            let mut response = Response::new(200, "application/json", Vec::new());
            response.body = body;
            Some(response)
        }
        FaultAction::Redirect { status, location } => {
            let target = if request.query_text.is_empty() {
                request.path.clone()
            } else {
                format!("{}?{}", request.path, request.query_text)
            };
            let location = faults::redirect_location(&shared.base_url, location, &target);
            let message = format!("injected fault: redirect to {location}");
            Some(Response::error(*status, "injected_fault", &message).with_header("Location", &location))
        }
        FaultAction::Pending => {
            let file_id = router::decode_segments(&request.path).and_then(|s| s.last().cloned()).unwrap_or_default();
            let body = serde_json::json!({ "fileId": file_id, "status": "IN PROGRESS" });
            Some(Response::json(shared.config.pending_status, &body))
        }
        _ => None,
    }
}

/// Handles one request and writes its response, applying any injected
/// fault.
fn serve_request(
    shared: &Shared,
    request: &Request,
    control: bool,
    started: Instant,
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> Outcome {
    // The entry goes into the request log before the client can read the
    // response, so a test that reads the log after its call finds the call.
    let record = |status: Option<u16>, fault: Option<&str>| {
        if !control {
            shared.request_log().push(log_entry(request, status, fault, started.elapsed()));
        }
    };
    let fault = if control {
        None
    } else {
        router::count_request(shared, request);
        shared.faults().take(&request.method, &request.path)
    };
    let fault_name = fault.as_ref().map(faults::action_name);

    let expects_continue = request.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let continue_writer = if expects_continue { writer.try_clone().ok() } else { None };
    let mut body = BodyReader::new(reader, request.framing, continue_writer);
    let mut mode = WriteMode::Normal;
    if let Some(action) = &fault {
        shared.log(&format!("injecting fault {} on {} {}", action_name(action), request.method, request.path));
        match action {
            FaultAction::Reset => {
                let _ = body.discard_until(REJECTED_BODY_DRAIN_BYTES, Instant::now() + REJECTED_BODY_DRAIN_TIME);
                record(None, fault_name);
                let _ = writer.shutdown(Shutdown::Both);
                return Outcome { keep_open: false, status: None };
            }
            FaultAction::StallBeforeResponse(duration) => pause(shared, *duration),
            FaultAction::StallMidBody(duration) => mode = WriteMode::StallMidBody(*duration),
            FaultAction::Trickle { chunk_bytes, delay } => {
                mode = WriteMode::Trickle { chunk_bytes: *chunk_bytes, delay: *delay }
            }
            FaultAction::TruncatedBody => mode = WriteMode::Truncated,
            FaultAction::RevokeTokens => shared.revoke_tokens(),
            _ => {}
        }
    }
    let response = match fault.as_ref().and_then(|action| fault_response(shared, request, action)) {
        Some(response) => response,
        None if control => control::handle(shared, request, &mut body),
        None => router::handle(shared, request, &mut body),
    };

    let mut close = response.close || request.wants_close() || shared.shutdown.load(Ordering::SeqCst);
    close |= matches!(mode, WriteMode::Truncated);
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

    record(Some(response.status), fault_name);
    let sent = send_response(shared, writer, &response, close, &mode);
    if sent.is_ok() && drain_after_response {
        let _ = writer.set_read_timeout(Some(Duration::from_secs(1)));
        let deadline = Instant::now() + REJECTED_BODY_DRAIN_TIME;
        let _ = body.discard_until(REJECTED_BODY_DRAIN_BYTES, deadline);
    }
    if close {
        let _ = writer.shutdown(Shutdown::Write);
    }
    Outcome { keep_open: sent.is_ok() && !close, status: Some(response.status) }
}

/// Writes a response in the given mode; the caller closes the connection
/// if `close`.
fn send_response(shared: &Shared, writer: &mut TcpStream, response: &Response, close: bool, mode: &WriteMode) -> io::Result<()> {
    if matches!(mode, WriteMode::Normal) {
        return send_head_and_body(writer, response, close);
    }
    let body = http::body_bytes(&response.body)?;
    writer.write_all(&http::head_bytes(response, body.len() as u64, close))?;
    match mode {
        WriteMode::Normal => unreachable!("handled above"),
        WriteMode::StallMidBody(duration) => {
            let half = body.len() / 2;
            writer.write_all(&body[..half])?;
            writer.flush()?;
            pause(shared, *duration);
            writer.write_all(&body[half..])?;
        }
        WriteMode::Trickle { chunk_bytes, delay } => {
            for (i, piece) in body.chunks(*chunk_bytes).enumerate() {
                if i > 0 {
                    pause(shared, *delay);
                }
                writer.write_all(piece)?;
                writer.flush()?;
            }
        }
        WriteMode::Truncated => {
            // The head announces every byte, but only half follows before
            // the connection closes.
            writer.write_all(&body[..body.len() / 2])?;
        }
    }
    writer.flush()
}

/// Writes a whole response; the caller closes the connection if `close`.
pub fn send_head_and_body(writer: &mut TcpStream, response: &Response, close: bool) -> io::Result<()> {
    let head = http::head_bytes(response, response.body_len(), close);
    writer.write_all(&head)?;
    http::write_body(writer, &response.body)?;
    writer.flush()
}
