//! Small loopback servers for reliability and security tests: a scripted
//! HTTP server that records what it receives, a TCP forwarder that counts
//! and can drop connections, and a CONNECT proxy that records its targets.
//! Every one binds 127.0.0.1 on an ephemeral port and stops when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as received by a [`ScriptedServer`].
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    /// Header names in lowercase, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The whole request as text, for scanning.
    pub fn text(&self) -> String {
        let mut text = format!("{} {}\n", self.method, self.target);
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push_str(&String::from_utf8_lossy(&self.body));
        text
    }
}

/// What a [`ScriptedServer`] does with a request.
pub enum Reply {
    /// Sends a response with this status, content type and body, and keeps
    /// the connection open.
    Respond {
        status: u16,
        content_type: &'static str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Sends `response`, waits `delay`, then writes `extra` bytes on the same
    /// connection, as a server out of step with its client would.
    RespondThenSend {
        response: Box<Reply>,
        delay: Duration,
        extra: Vec<u8>,
    },
    /// Closes the connection without a response.
    Close,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Respond {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.into().into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// Shared accept-loop plumbing: a listener thread plus every accepted
/// stream, so dropping can unblock and join everything.
struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let serve = Arc::new(serve);
        let thread = {
            let (stop, streams, accepted) = (stop.clone(), streams.clone(), accepted.clone());
            std::thread::spawn(move || {
                let mut workers = Vec::new();
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    streams.lock().unwrap().push(stream.try_clone().unwrap());
                    let serve = serve.clone();
                    workers.push(std::thread::spawn(move || serve(stream)));
                }
                for worker in workers {
                    let _ = worker.join();
                }
            })
        };
        Listener {
            addr,
            stop,
            streams,
            accepted,
            thread: Some(thread),
        }
    }

    /// Shuts down every connection accepted so far.
    fn close_all(&self) {
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        self.close_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one HTTP/1.1 request (Content-Length bodies only). Returns None
/// when the connection closes first.
pub fn read_request(reader: &mut impl BufRead) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        401 => "Unauthorized",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// An HTTP server whose every answer comes from a handler, and which
/// records every request.
pub struct ScriptedServer {
    listener: Listener,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl ScriptedServer {
    pub fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> ScriptedServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        let listener = Listener::start(move |stream| {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            while let Some(request) = read_request(&mut reader) {
                recorded.lock().unwrap().push(request.clone());
                if !send_reply(&mut writer, handler(&request)) {
                    return;
                }
            }
        });
        ScriptedServer { listener, requests }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.listener.accepted.load(Ordering::SeqCst)
    }
}

/// Writes `reply` to `writer`. Returns false when the connection is closed
/// or broken, so the caller stops serving it.
fn send_reply(writer: &mut TcpStream, reply: Reply) -> bool {
    match reply {
        Reply::Close => {
            let _ = writer.shutdown(Shutdown::Both);
            false
        }
        Reply::Respond { status, content_type, headers, body } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
                reason(status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(&body)).is_ok()
        }
        Reply::RespondThenSend { response, delay, extra } => {
            if !send_reply(writer, *response) {
                return false;
            }
            std::thread::sleep(delay);
            writer.write_all(&extra).is_ok()
        }
    }
}

/// Copies bytes both ways between two streams until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (a2, b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let forward = std::thread::spawn(move || {
        let (mut from, mut to) = (a, b2);
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
    let (mut from, mut to) = (b, a2);
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
    let _ = forward.join();
}

/// A TCP relay to a loopback target that counts accepted connections and
/// can drop them all, as a server closing idle keep-alive connections does.
pub struct Forwarder {
    listener: Listener,
}

impl Forwarder {
    pub fn start(target: SocketAddr) -> Forwarder {
        assert!(
            target.ip().is_loopback(),
            "the forwarder relays only to loopback"
        );
        let listener = Listener::start(move |client| {
            let Ok(upstream) = TcpStream::connect(target) else {
                return;
            };
            pipe(client, upstream);
        });
        Forwarder { listener }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    pub fn connections(&self) -> usize {
        self.listener.accepted.load(Ordering::SeqCst)
    }

    /// Closes every connection accepted so far (client side only; the
    /// target's side closes when the relay ends).
    pub fn close_all(&self) {
        self.listener.close_all();
    }
}

/// An HTTP CONNECT proxy that records every request line it receives.
/// CONNECT to a host in `routes` is tunnelled to the mapped loopback
/// address; anything else gets 403 and is never forwarded.
pub struct ConnectProxy {
    listener: Listener,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start(routes: Vec<(String, SocketAddr)>) -> ConnectProxy {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let listener = Listener::start(move |stream| {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let Some(request) = read_request(&mut reader) else {
                return;
            };
            record
                .lock()
                .unwrap()
                .push(format!("{} {}", request.method, request.target));
            let route = routes
                .iter()
                .find(|(host, _)| *host == request.target)
                .map(|(_, addr)| *addr);
            match (request.method.as_str(), route) {
                ("CONNECT", Some(addr)) => {
                    assert!(addr.ip().is_loopback());
                    let Ok(upstream) = TcpStream::connect(addr) else {
                        return;
                    };
                    let _ = writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                    // Bytes already buffered past the CONNECT head belong to
                    // the tunnel.
                    let buffered = reader.buffer().to_vec();
                    let mut upstream_writer = upstream.try_clone().unwrap();
                    if !buffered.is_empty() && upstream_writer.write_all(&buffered).is_err() {
                        return;
                    }
                    pipe(reader.into_inner(), upstream);
                }
                _ => {
                    let _ = writer.write_all(
                        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        });
        ConnectProxy { listener, seen }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    /// Request lines received, such as `CONNECT sypht-test.invalid:80`.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}
