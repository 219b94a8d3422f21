//! A fixed-answer HTTP/1.1 server for the libsypht benchmarks.
//!
//! It serves the three endpoints a client needs for an upload and its
//! results (`POST .../oauth2/token`, `POST /fileupload`,
//! `GET /result/final/{fileId}`) with responses built once at start-up, one
//! thread per connection and keep-alive, so that the server costs as little
//! as possible and the client under test is what the figures measure.
//! Upload bodies are read and thrown away, never stored, so uploads of any
//! size cost the server no memory.
//!
//! `GET /_bench/stats` returns the request counters and the times of the
//! token requests; `POST /_bench/reset` zeroes them.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "\
Usage: sypht-bench-server [OPTIONS]

Serves fixed answers for the Sypht token, upload and results endpoints on
127.0.0.1, for benchmarks. Upload bodies are read and discarded.

Options:
  --port N             TCP port on 127.0.0.1; 0 picks a free one (default 0)
  --port-file PATH     write the bound port to PATH once listening
  --token-lifetime S   expires_in of the issued tokens, in seconds (default 3600)
  --latency-ms N       delay before answering an upload or results request,
                       in milliseconds (default 0)
  --exit-after S       stop by itself after S seconds (default 1800)
  --help               print this help
";

/// The largest request header block accepted, in bytes.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The maximum number of token request times kept for `/_bench/stats`.
const MAX_TOKEN_TIMES: usize = 100_000;

struct Settings {
    port: u16,
    port_file: Option<PathBuf>,
    token_lifetime_secs: u64,
    latency: Duration,
    exit_after: Duration,
}

/// Complete HTTP responses, status line to body, built once.
struct Responses {
    token: Vec<u8>,
    upload: Vec<u8>,
    results: Vec<u8>,
    unauthorized: Vec<u8>,
    not_found: Vec<u8>,
    bad_request: Vec<u8>,
}

#[derive(Default)]
struct Counters {
    token_requests: AtomicU64,
    uploads: AtomicU64,
    upload_bytes: AtomicU64,
    results: AtomicU64,
    other: AtomicU64,
    /// Milliseconds since start of each token request, oldest first.
    token_times_ms: Mutex<Vec<u64>>,
}

struct Server {
    settings: Settings,
    responses: Responses,
    counters: Counters,
    started: Instant,
}

fn response(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A results body shaped like a finalised invoice extraction: four
/// fields, one of them a classification object (about 900 bytes).
const RESULTS_BODY: &str = r#"{"fileId":"0d5e8f7a-3c21-4b6e-8a9d-5f4e3c2b1a09","status":"FINALISED","results":{"timestamp":"2024-05-14T01:02:09.731Z","fields":[{"name":"invoice.total","value":"2310.50","confidence":0.9874,"boundingBox":null},{"name":"invoice.dueDate","value":"2024-06-13","confidence":0.9731,"boundingBox":null},{"name":"document.referenceNo","value":"INV-2024-0042","confidence":0.9412,"boundingBox":null},{"name":"invoice.currencyCode","value":{"invoice.currencyCode.AUD":{"value":true,"confidence":0.91},"invoice.currencyCode.NZD":{"value":false,"confidence":0.07},"invoice.currencyCode.GBP":{"value":false,"confidence":0.01},"invoice.currencyCode.Unknown":{"value":false,"confidence":0.01}},"confidence":0.91,"boundingBox":null}]}}"#;

const UPLOAD_BODY: &str =
    r#"{"fileId":"0d5e8f7a-3c21-4b6e-8a9d-5f4e3c2b1a09","uploadedAt":"2024-05-14T01:02:03.456Z","status":"RECEIVED"}"#;

impl Responses {
    fn new(token_lifetime_secs: u64) -> Responses {
        let token = format!(
            r#"{{"access_token":"bench-access-token","expires_in":{token_lifetime_secs},"token_type":"Bearer"}}"#
        );
        Responses {
            token: response("200 OK", &token),
            upload: response("200 OK", UPLOAD_BODY),
            results: response("200 OK", RESULTS_BODY),
            unauthorized: response("401 Unauthorized", r#"{"message":"missing Authorization header"}"#),
            not_found: response("404 Not Found", r#"{"message":"the benchmark server has no such endpoint"}"#),
            bad_request: response("400 Bad Request", r#"{"message":"malformed request"}"#),
        }
    }
}

/// The parts of a request head the server acts on.
#[derive(Default)]
struct RequestHead {
    method: String,
    path: String,
    content_length: u64,
    chunked: bool,
    close: bool,
    expect_continue: bool,
    authorized: bool,
}

/// Reads one request head. Returns `Ok(None)` when the peer closed the
/// connection between requests.
fn read_head(reader: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<Option<RequestHead>> {
    line.clear();
    if reader.read_line(line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_ascii_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "malformed request line"));
    };
    let mut head = RequestHead {
        method: method.to_string(),
        path: target.split('?').next().unwrap_or("").to_string(),
        close: version == "HTTP/1.0",
        ..RequestHead::default()
    };
    let mut header_bytes = line.len();
    loop {
        line.clear();
        let n = reader.read_line(line)?;
        header_bytes += n;
        if n == 0 || header_bytes > MAX_HEADER_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request head cut short or too long"));
        }
        let text = line.trim_end();
        if text.is_empty() {
            return Ok(Some(head));
        }
        let Some((name, value)) = text.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            head.content_length = value
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "invalid Content-Length"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            head.close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("expect") {
            head.expect_continue = value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("authorization") {
            head.authorized = !value.is_empty();
        }
    }
}

/// Reads and discards a chunked body, returning its decoded length.
fn drain_chunked(reader: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<u64> {
    let mut total = 0;
    loop {
        line.clear();
        reader.read_line(line)?;
        let size_text = line.trim_end().split(';').next().unwrap_or("");
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "invalid chunk size"))?;
        if size == 0 {
            // Trailer fields, then the empty line that ends the body.
            loop {
                line.clear();
                if reader.read_line(line)? == 0 || line.trim_end().is_empty() {
                    return Ok(total);
                }
            }
        }
        total += io::copy(&mut reader.by_ref().take(size), &mut io::sink())?;
        line.clear();
        reader.read_line(line)?;
    }
}

/// Reads and discards the request body, returning its length.
fn drain_body(reader: &mut BufReader<TcpStream>, head: &RequestHead, line: &mut String) -> io::Result<u64> {
    if head.expect_continue {
        reader.get_mut().write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    if head.chunked {
        return drain_chunked(reader, line);
    }
    let drained = io::copy(&mut reader.by_ref().take(head.content_length), &mut io::sink())?;
    if drained < head.content_length {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body cut short"));
    }
    Ok(drained)
}

impl Server {
    /// Counts one request and picks its response.
    fn route(&self, head: &RequestHead, body_len: u64) -> Vec<u8> {
        let counters = &self.counters;
        let method = head.method.as_str();
        let path = head.path.trim_end_matches('/');
        if method == "POST" && (path.ends_with("/oauth2/token") || path.ends_with("/oauth/token")) {
            counters.token_requests.fetch_add(1, Ordering::Relaxed);
            let mut times = counters.token_times_ms.lock().unwrap_or_else(|p| p.into_inner());
            if times.len() < MAX_TOKEN_TIMES {
                times.push(self.started.elapsed().as_millis() as u64);
            }
            return self.responses.token.clone();
        }
        if method == "POST" && path == "/fileupload" {
            counters.uploads.fetch_add(1, Ordering::Relaxed);
            counters.upload_bytes.fetch_add(body_len, Ordering::Relaxed);
            return self.authorized_response(head, &self.responses.upload);
        }
        if method == "GET" && path.starts_with("/result/final/") {
            counters.results.fetch_add(1, Ordering::Relaxed);
            return self.authorized_response(head, &self.responses.results);
        }
        if method == "GET" && path == "/_bench/stats" {
            return response("200 OK", &self.stats_json());
        }
        if method == "POST" && path == "/_bench/reset" {
            self.reset();
            return response("200 OK", r#"{"reset":true}"#);
        }
        counters.other.fetch_add(1, Ordering::Relaxed);
        self.responses.not_found.clone()
    }

    fn authorized_response(&self, head: &RequestHead, prepared: &[u8]) -> Vec<u8> {
        if !head.authorized {
            return self.responses.unauthorized.clone();
        }
        if !self.settings.latency.is_zero() {
            std::thread::sleep(self.settings.latency);
        }
        prepared.to_vec()
    }

    fn stats_json(&self) -> String {
        let c = &self.counters;
        let times = c.token_times_ms.lock().unwrap_or_else(|p| p.into_inner());
        let times: Vec<String> = times.iter().map(u64::to_string).collect();
        format!(
            r#"{{"token_requests":{},"uploads":{},"upload_bytes":{},"results":{},"other":{},"token_request_ms":[{}]}}"#,
            c.token_requests.load(Ordering::Relaxed),
            c.uploads.load(Ordering::Relaxed),
            c.upload_bytes.load(Ordering::Relaxed),
            c.results.load(Ordering::Relaxed),
            c.other.load(Ordering::Relaxed),
            times.join(",")
        )
    }

    fn reset(&self) {
        let c = &self.counters;
        for counter in [&c.token_requests, &c.uploads, &c.upload_bytes, &c.results, &c.other] {
            counter.store(0, Ordering::Relaxed);
        }
        c.token_times_ms.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Serves one connection until the peer closes it or sends a request
    /// that cannot be parsed.
    fn serve(&self, stream: TcpStream) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::with_capacity(64 * 1024, stream);
        let mut line = String::new();
        loop {
            let head = match read_head(&mut reader, &mut line) {
                Ok(Some(head)) => head,
                Ok(None) => return Ok(()),
                Err(err) => {
                    let _ = writer.write_all(&self.responses.bad_request);
                    return Err(err);
                }
            };
            let body_len = drain_body(&mut reader, &head, &mut line)?;
            let reply = self.route(&head, body_len);
            writer.write_all(&reply)?;
            if head.close {
                return Ok(());
            }
        }
    }
}

fn parse_args(args: Vec<String>) -> Result<Option<Settings>, String> {
    let mut settings = Settings {
        port: 0,
        port_file: None,
        token_lifetime_secs: 3600,
        latency: Duration::ZERO,
        exit_after: Duration::from_secs(1800),
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let value = args.next().ok_or_else(|| format!("missing value for {flag}; see --help"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("invalid value {value:?} for {flag}: expected a whole number"));
        match flag.as_str() {
            "--port" => settings.port = u16::try_from(number()?).map_err(|_| format!("port {value} is out of range"))?,
            "--port-file" => settings.port_file = Some(PathBuf::from(&value)),
            "--token-lifetime" => settings.token_lifetime_secs = number()?,
            "--latency-ms" => settings.latency = Duration::from_millis(number()?),
            "--exit-after" => settings.exit_after = Duration::from_secs(number()?),
            _ => return Err(format!("unknown option {flag}; see --help")),
        }
    }
    Ok(Some(settings))
}

fn main() -> ExitCode {
    let settings = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Some(settings)) => settings,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sypht-bench-server: {message}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], settings.port))) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("sypht-bench-server: failed to listen on 127.0.0.1:{}: {err}", settings.port);
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);

    if let Some(path) = &settings.port_file {
        // Written through a rename so a script polling for the file never
        // reads a partial number.
        let temporary = path.with_extension("tmp");
        let written = std::fs::write(&temporary, format!("{port}\n")).and_then(|()| std::fs::rename(&temporary, path));
        if let Err(err) = written {
            eprintln!("sypht-bench-server: failed to write the port file {}: {err}", path.display());
            return ExitCode::FAILURE;
        }
    }

    let exit_after = settings.exit_after;
    let token_lifetime = settings.token_lifetime_secs;
    let server = Arc::new(Server {
        settings,
        responses: Responses::new(token_lifetime),
        counters: Counters::default(),
        started: Instant::now(),
    });
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                // A peer that drops the connection mid-request is normal
                // at the end of a load run, so errors are not logged.
                let _ = server.serve(stream);
            });
        }
    });

    println!("sypht-bench-server listening on http://127.0.0.1:{port}");
    let _ = io::stdout().flush();
    std::thread::sleep(exit_after);
    eprintln!("sypht-bench-server: stopping after {} s (--exit-after)", exit_after.as_secs());
    ExitCode::SUCCESS
}
