//! HTTP plumbing: the shared agent, URL building, percent-encoding, and
//! turning transport failures and non-2xx answers into [`Error`]s.

use std::io::Read;
use std::time::Duration;

use ureq::http::{self, Response};
use ureq::{Agent, Body, SendBody};

use std::sync::atomic::{AtomicU64, Ordering};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
};

use crate::config::{is_loopback_host, parse_url, Config};
use crate::error::{contains_bytes, sanitize_server_text, Error, ErrorKind, Result, MIN_SCRUBBED_SECRET_BYTES};

/// Builds an agent: keep-alive pooling, no automatic redirects, non-2xx
/// statuses returned as responses. `proxy` is the proxy from the
/// environment, or `None` for a direct connection.
fn build_agent(config: &Config, proxy: Option<ureq::Proxy>) -> Agent {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(certs) = &config.root_certificates {
        tls = tls.root_certs(ureq::tls::RootCerts::Specific(certs.clone()));
    }
    let agent_config = Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(proxy)
        .timeout_connect(Some(config.connect_timeout))
        .timeout_per_read(config.read_timeout)
        .timeout_global(Some(config.request_timeout))
        .user_agent(config.user_agent.as_str())
        .accept("application/json")
        .build();
    Agent::with_parts(agent_config, DefaultConnector::new().chain(ProbeOnTake), CachingResolver::default())
}

/// A connector that wraps each connection in [`ProbeOnTake`]'s transport.
#[derive(Debug)]
struct ProbeOnTake;

impl Connector<Box<dyn Transport>> for ProbeOnTake {
    type Out = ProbedTransport;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> std::result::Result<Option<ProbedTransport>, ureq::Error> {
        Ok(chained.map(|inner| ProbedTransport { inner, used_since_probe: false }))
    }
}

/// A connection that is probed for liveness only when it is taken from
/// the pool, not also when it is put back.
///
/// ureq checks a connection both ways, and each check of a TCP socket is
/// three system calls (two `ioctl` and a `recvfrom`). The check on taking
/// is the one that matters, because it runs just before the request is
/// sent. It also detects any stray bytes that the check on putting back
/// would have caught, so a connection with stray bytes is never reused.
#[derive(Debug)]
struct ProbedTransport {
    inner: Box<dyn Transport>,
    /// Whether the connection has sent or received since it was last
    /// probed, which is the case when ureq puts it back in the pool.
    used_since_probe: bool,
}

impl Transport for ProbedTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> std::result::Result<(), ureq::Error> {
        self.used_since_probe = true;
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.used_since_probe = true;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        if std::mem::take(&mut self.used_since_probe) {
            return true;
        }
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// How long a resolved host name is reused.
const RESOLVE_CACHE_TTL: Duration = Duration::from_secs(60);

/// A resolver that answers IP literals itself and caches other lookups for
/// [`RESOLVE_CACHE_TTL`].
///
/// ureq resolves the host before every request, even one that reuses a
/// pooled connection, and its default resolver starts a thread per lookup
/// whenever a timeout is set. Measured with callgrind and strace, that
/// thread was the largest cost of a results call on loopback.
#[derive(Debug, Default)]
struct CachingResolver {
    fallback: DefaultResolver,
    cache: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        let port = uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        let (Some(host), Some(port)) = (uri.host(), port) else {
            return self.fallback.resolve(uri, config, timeout);
        };
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<std::net::IpAddr>() {
            let mut addrs = self.fallback.empty();
            addrs.push(std::net::SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{host}:{port}");
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, addrs)) = cache.get(&key) {
                if at.elapsed() < RESOLVE_CACHE_TTL {
                    return Ok(addrs.clone());
                }
            }
        }
        let addrs = self.fallback.resolve(uri, config, timeout)?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(key, (Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

/// The agents of one client: a direct one, and one per proxy named in the
/// environment. Both are rebuilt when the process id changes, so a child
/// after `fork()` never reuses its parent's pooled connections.
///
/// The proxy follows the usual convention (curl, Go, Python requests):
/// `https://` URLs use `HTTPS_PROXY` (or `https_proxy`), `http://` URLs use
/// `HTTP_PROXY` (or `http_proxy`), and either falls back to `ALL_PROXY`
/// (or `all_proxy`). Hosts listed in `NO_PROXY` (or `no_proxy`) and
/// loopback hosts are always reached directly. The environment is read
/// when the client is created and again after a fork.
pub(crate) struct Agents {
    state: Mutex<AgentSet>,
}

#[derive(Clone)]
struct AgentSet {
    pid: u32,
    direct: Agent,
    http_proxied: Option<Agent>,
    https_proxied: Option<Agent>,
    no_proxy: Vec<String>,
}

impl Agents {
    pub(crate) fn new(config: &Config) -> Agents {
        Agents { state: Mutex::new(AgentSet::new(config)) }
    }

    /// The agent to use for `url`.
    pub(crate) fn for_url(&self, url: &str, config: &Config) -> Agent {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let pid = std::process::id();
        if state.pid != pid {
            *state = AgentSet::new(config);
        }
        let Ok(parts) = parse_url(url, "URL") else {
            return state.direct.clone();
        };
        if is_loopback_host(parts.host) || matches_no_proxy(parts.host, &state.no_proxy) {
            return state.direct.clone();
        }
        let proxied = if parts.https { &state.https_proxied } else { &state.http_proxied };
        proxied.as_ref().unwrap_or(&state.direct).clone()
    }
}

impl AgentSet {
    fn new(config: &Config) -> AgentSet {
        let proxied = |names: &[&str]| {
            let proxy = proxy_from_env(names).or_else(|| proxy_from_env(&["ALL_PROXY", "all_proxy"]))?;
            Some(build_agent(config, Some(proxy)))
        };
        let no_proxy = env_value(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
        AgentSet {
            pid: std::process::id(),
            direct: build_agent(config, None),
            http_proxied: proxied(&["HTTP_PROXY", "http_proxy"]),
            https_proxied: proxied(&["HTTPS_PROXY", "https_proxy"]),
            no_proxy: no_proxy
                .split(',')
                .map(|entry| entry.trim().to_ascii_lowercase())
                .filter(|entry| !entry.is_empty())
                .collect(),
        }
    }
}

/// The first of `names` that is set to a non-empty value.
fn env_value(names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

/// The proxy named by the first of `names` that is set. A value that is
/// not a valid proxy URL is logged and ignored.
fn proxy_from_env(names: &[&str]) -> Option<ureq::Proxy> {
    let value = env_value(names)?;
    match ureq::Proxy::new(value.trim()) {
        Ok(proxy) => Some(proxy),
        Err(err) => {
            // The value may carry proxy credentials, so it is not logged.
            crate::log::warn(&format!("ignoring the proxy in {}: {err}", names[0]));
            None
        }
    }
}

/// True when `host` matches a `NO_PROXY` entry: `*` matches every host;
/// `example.com`, `.example.com` and `*.example.com` match `example.com`
/// and its subdomains; an entry's `:port` is ignored. Entries are already
/// trimmed and lowercase.
pub(crate) fn matches_no_proxy(host: &str, entries: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    entries.iter().any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = if entry.starts_with('[') {
            entry.split(']').next().unwrap_or("").trim_start_matches('[')
        } else if entry.matches(':').count() == 1 {
            entry.split(':').next().unwrap_or("")
        } else {
            entry.as_str()
        };
        let domain = entry.trim_start_matches('*').trim_start_matches('.').trim_end_matches('.');
        !domain.is_empty()
            && (host == domain || (host.len() > domain.len() && host.ends_with(domain) && {
                host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            }))
    })
}

/// Characters kept as they are inside a path segment or query value
/// (RFC 3986 "unreserved").
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes `value` for use as one URL path segment or query value:
/// everything but unreserved characters is encoded, `/` and space included.
pub(crate) fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if is_unreserved(byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Encodes `pairs` as `application/x-www-form-urlencoded`.
pub(crate) fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A request body.
pub(crate) enum RequestBody<'a> {
    Empty,
    Bytes { data: Vec<u8>, content_type: &'static str },
    Stream { reader: Box<dyn Read + 'a>, length: u64, content_type: String },
}

/// Counts the body bytes the HTTP layer has pulled, so a failed request
/// can be known not to have started its body.
struct CountingReader<'a> {
    inner: Box<dyn Read + 'a>,
    counter: Arc<AtomicU64>,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Sends one request. `headers` are added as given; `timeout` overrides the
/// agent's overall timeout for this request. `body_started` counts the
/// body bytes handed to the connection.
pub(crate) fn send(
    agent: &Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: RequestBody<'_>,
    timeout: Option<Duration>,
    body_started: &Arc<AtomicU64>,
) -> Result<Response<Body>> {
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|_| Error::invalid_argument(format!("HTTP method {method:?} is not valid")))?;
    let mut builder = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let (reader, length, content_type): (Box<dyn Read + '_>, u64, String) = match body {
        RequestBody::Empty => {
            let request = builder.body(()).map_err(|e| bad_request(url, e))?;
            return run(agent, request, timeout).map_err(|e| transport_error(e, url));
        }
        RequestBody::Bytes { data, content_type } => {
            let length = data.len() as u64;
            (Box::new(std::io::Cursor::new(data)), length, content_type.to_string())
        }
        RequestBody::Stream { reader, length, content_type } => (reader, length, content_type),
    };
    let mut counted = CountingReader { inner: reader, counter: body_started.clone() };
    let request = builder
        .header("Content-Type", content_type)
        .header("Content-Length", length.to_string())
        .body(SendBody::from_reader(&mut counted))
        .map_err(|e| bad_request(url, e))?;
    run(agent, request, timeout).map_err(|e| transport_error(e, url))
}

fn run<B: ureq::AsSendBody>(
    agent: &Agent,
    request: http::Request<B>,
    timeout: Option<Duration>,
) -> std::result::Result<Response<Body>, ureq::Error> {
    match timeout {
        Some(t) => {
            let request = agent.configure_request(request).timeout_global(Some(t)).build();
            agent.run(request)
        }
        None => agent.run(request),
    }
}

fn bad_request(url: &str, err: http::Error) -> Error {
    Error::invalid_argument(format!("cannot build a request for {url:?}: {err}"))
}

/// Maps a ureq transport error to an [`Error`] naming the URL.
pub(crate) fn transport_error(err: ureq::Error, url: &str) -> Error {
    use ureq::Error as E;
    match err {
        E::Timeout(which) => Error::new(
            ErrorKind::Timeout,
            format!("request to {url} timed out ({which}); raise the timeout or check the server"),
        ),
        E::Io(io) if matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
            Error::new(ErrorKind::Timeout, format!("request to {url} timed out: {io}"))
        }
        E::BodyExceedsLimit(limit) => Error::new(
            ErrorKind::TooLarge,
            format!("response from {url} is larger than the limit of {limit} bytes"),
        ),
        E::HostNotFound => Error::new(ErrorKind::Network, format!("host of {url} not found")),
        E::ConnectionFailed => Error::new(ErrorKind::Network, format!("connection to {url} failed")),
        E::BadUri(detail) => Error::config(format!("URL {url:?} is not valid: {detail}")),
        E::Io(io) => Error::new(ErrorKind::Network, format!("request to {url} failed: {io}")),
        other => Error::new(ErrorKind::Network, format!("request to {url} failed: {other}")),
    }
}

/// Reads a whole response body, failing with [`ErrorKind::TooLarge`] past
/// `limit` bytes.
pub(crate) fn read_body(response: Response<Body>, limit: u64, url: &str) -> Result<Vec<u8>> {
    let mut body = response.into_body();
    body.with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| transport_error(e, url))
}

/// Replaces every occurrence of each secret in a response body with
/// `[redacted]`. A server that echoes the Authorization header or the
/// request body would otherwise put credentials into error messages built
/// from the body, and doing this on the raw bytes, before messages are
/// cut to length, also catches an echo that straddles the cut.
///
/// A marker can join its neighbours into a new copy of a secret, as when a
/// secret of `]` characters meets the marker's closing `]`. If any copy is
/// left after the pass, or the body contains a secret percent-encoded, the
/// whole body becomes `[redacted]`, because losing an error text is better
/// than leaking a credential.
pub(crate) fn scrub_secrets(body: &mut Vec<u8>, secrets: &[&str]) {
    let long_secrets = || secrets.iter().filter(|s| s.len() >= MIN_SCRUBBED_SECRET_BYTES);
    // Nearly every body is UTF-8 text without a secret, and str's substring
    // search is much faster than comparing at every byte offset.
    let encoded = crate::error::contains_encoded_secret(body, secrets);
    if let Ok(text) = std::str::from_utf8(body) {
        if !encoded && !long_secrets().any(|secret| text.contains(secret)) {
            return;
        }
    }
    for secret in long_secrets() {
        let secret = secret.as_bytes();
        if !contains_bytes(body, secret) {
            continue;
        }
        let mut scrubbed = Vec::with_capacity(body.len());
        let mut rest = body.as_slice();
        while let Some(at) = rest.windows(secret.len()).position(|w| w == secret) {
            scrubbed.extend_from_slice(&rest[..at]);
            scrubbed.extend_from_slice(b"[redacted]");
            rest = &rest[at + secret.len()..];
        }
        scrubbed.extend_from_slice(rest);
        *body = scrubbed;
    }
    if encoded || long_secrets().any(|s| contains_bytes(body, s.as_bytes())) {
        *body = b"[redacted]".to_vec();
    }
}

/// Builds the error for a non-2xx answer: the status, the request, and the
/// server's message (from a JSON `message`, `error_description` or `error`
/// field, or else the raw body), sanitised and cut to a readable length.
pub(crate) fn status_error(status: u16, method: &str, path: &str, body: &[u8]) -> Error {
    let detail = server_message(body);
    let message = if detail.is_empty() {
        format!("{method} {path} returned HTTP {status} with an empty body")
    } else {
        format!("{method} {path} returned HTTP {status}: {detail}")
    };
    Error::new(ErrorKind::HttpStatus, message).with_http_status(status)
}

/// Extracts a readable message from an error body.
pub(crate) fn server_message(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        let mut parts = Vec::new();
        for key in ["error", "error_description", "message", "code"] {
            if let Some(value) = map.get(key) {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if !text.is_empty() && !parts.contains(&text) {
                    parts.push(text);
                }
            }
        }
        if !parts.is_empty() {
            return sanitize_server_text(&parts.join(": "));
        }
    }
    sanitize_server_text(&String::from_utf8_lossy(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_every_echo() {
        let mut body = b"a tok-12345678 b tok-12345678".to_vec();
        scrub_secrets(&mut body, &["tok-12345678", "short", ""]);
        assert_eq!(body, b"a [redacted] b [redacted]");
        let mut short = b"short".to_vec();
        scrub_secrets(&mut short, &["short"]);
        assert_eq!(short, b"short");
    }

    #[test]
    fn scrub_percent_encoded_secret() {
        let secret = "Pa55/w0rd+\u{fc}&z=%41-LONG";
        let cases = [
            "echo: Pa55%2Fw0rd%2B%C3%BC%26z%3D%2541-LONG",
            "echo: Pa55/w0rd%2B%c3%bc&z=%2541-LONG",
            "client_secret%22%3A%22Pa55%2Fw0rd%2B%C3%BC%26z%3D%2541-LONG%22",
        ];
        for case in cases {
            let mut body = case.as_bytes().to_vec();
            scrub_secrets(&mut body, &[secret]);
            assert_eq!(body, b"[redacted]", "{case}");
        }

        let mut spaced = b"a=my+secret+phrase".to_vec();
        scrub_secrets(&mut spaced, &["my secret phrase"]);
        assert_eq!(spaced, b"[redacted]");
        let mut form = b"a=my+secret+phrase%21".to_vec();
        scrub_secrets(&mut form, &["my secret phrase!"]);
        assert_eq!(form, b"[redacted]");

        let mut harmless = b"100% of 50%2F50 and %zz".to_vec();
        scrub_secrets(&mut harmless, &[secret]);
        assert_eq!(harmless, b"100% of 50%2F50 and %zz");
    }

    #[test]
    fn scrub_marker_rebuilding_secret() {
        // 15 brackets: the first 8 become "[redacted]", whose closing
        // bracket joins the 7 left over into the secret again.
        let mut body = vec![b']'; 15];
        scrub_secrets(&mut body, &["]]]]]]]]"]);
        assert_eq!(body, b"[redacted]");

        // One secret's marker completes another secret.
        let mut body = b"x ted]abc12345 y".to_vec();
        scrub_secrets(&mut body, &["ted][red", "abc12345"]);
        assert!(!body.windows(8).any(|w| w == b"ted][red" || w == b"abc12345"));
    }

    #[test]
    fn no_proxy_entries_match_domains() {
        let entries: Vec<String> = ["example.com", ".internal", "*.corp.test", "10.1.2.3", "[::2]:8080", "host:3128"]
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert!(matches_no_proxy("example.com", &entries));
        assert!(matches_no_proxy("API.Example.com", &entries));
        assert!(matches_no_proxy("example.com.", &entries));
        assert!(!matches_no_proxy("badexample.com", &entries));
        assert!(matches_no_proxy("a.internal", &entries));
        assert!(matches_no_proxy("internal", &entries));
        assert!(matches_no_proxy("x.corp.test", &entries));
        assert!(matches_no_proxy("10.1.2.3", &entries));
        assert!(!matches_no_proxy("10.1.2.30", &entries));
        assert!(matches_no_proxy("::2", &entries));
        assert!(matches_no_proxy("host", &entries));
        assert!(!matches_no_proxy("other.test", &entries));
        assert!(matches_no_proxy("anything", &["*".to_string()]));
        assert!(!matches_no_proxy("anything", &[]));
    }

    #[test]
    fn component_encoding_covers_awkward_ids() {
        assert_eq!(encode_component("a b/c"), "a%20b%2Fc");
        assert_eq!(encode_component("ü"), "%C3%BC");
        assert_eq!(encode_component("A-z_0.9~"), "A-z_0.9~");
        assert_eq!(encode_component("a+b&c=d"), "a%2Bb%26c%3Dd");
    }

    #[test]
    fn server_message_prefers_json_fields() {
        let body = br#"{"error":"invalid_client","error_description":"bad secret"}"#;
        assert_eq!(server_message(body), "invalid_client: bad secret");
        assert_eq!(server_message(b"<html>\n<b>oops</b></html>"), "<html> <b>oops</b></html>");
        let err = status_error(502, "GET", "/x", b"");
        assert_eq!(err.http_status(), Some(502));
        assert!(err.message().contains("empty body"));
    }
}
