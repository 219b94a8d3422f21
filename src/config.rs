//! Client configuration: credentials, endpoints, timeouts, and how each is
//! read from the environment.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};

/// Default REST API base URL.
pub const DEFAULT_API_BASE: &str = "https://api.sypht.com";
/// Default token endpoint (the current OAuth2 endpoint).
pub const DEFAULT_AUTH_ENDPOINT: &str = "https://auth.sypht.com/oauth2/token";
/// Token endpoint for credentials created before 16 June 2020.
pub const LEGACY_AUTH_ENDPOINT: &str = "https://login.sypht.com/oauth/token";

/// Environment variable holding `client_id:client_secret`.
pub const ENV_API_KEY: &str = "SYPHT_API_KEY";
/// Environment variable overriding the API base URL.
pub const ENV_API_BASE: &str = "SYPHT_API_BASE_ENDPOINT";
/// Environment variable overriding the token endpoint (and so the flow).
pub const ENV_AUTH_ENDPOINT: &str = "SYPHT_AUTH_ENDPOINT";
/// Environment variable overriding the legacy-flow audience.
pub const ENV_AUDIENCE: &str = "SYPHT_AUDIENCE";

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default overall timeout of one HTTP request. The results endpoint may
/// hold a request open while the document is processed, so this is long.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(180);
/// Default time that [`crate::Client::get_results`] keeps polling before it
/// gives up with [`crate::ErrorKind::NotFinalised`].
pub const DEFAULT_RESULTS_DEADLINE: Duration = Duration::from_secs(300);
/// Default limit on a JSON response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// Default limit on a binary response body (page images, downloads).
pub const DEFAULT_MAX_BINARY_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// Which OAuth2 client-credentials flow to use against the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFlow {
    /// Chosen from the token URL, like the official Python client: a URL
    /// containing `/oauth/` selects [`AuthFlow::Legacy`], one containing
    /// `/oauth2/` selects [`AuthFlow::Current`], anything else is a
    /// configuration error.
    Auto,
    /// HTTP Basic credentials and a form body with `client_id` and
    /// `grant_type` (`https://auth.sypht.com/oauth2/token`).
    Current,
    /// `client_id`, `client_secret`, `audience` and `grant_type` in a JSON
    /// body (`https://login.sypht.com/oauth/token`).
    Legacy,
}

impl AuthFlow {
    /// Resolves [`AuthFlow::Auto`] against `auth_url`.
    pub(crate) fn resolve(self, auth_url: &str) -> Result<AuthFlow> {
        match self {
            AuthFlow::Auto if auth_url.contains("/oauth/") => Ok(AuthFlow::Legacy),
            AuthFlow::Auto if auth_url.contains("/oauth2/") => Ok(AuthFlow::Current),
            AuthFlow::Auto => Err(Error::config(format!(
                "cannot choose the auth flow from the token URL {auth_url:?}: it contains \
                 neither \"/oauth2/\" (current flow) nor \"/oauth/\" (legacy flow); \
                 set the flow explicitly"
            ))),
            flow => Ok(flow),
        }
    }
}

/// A string that is wiped from memory when dropped and never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Overwrites the bytes of `value` with zeros in a way the optimiser keeps.
pub(crate) fn wipe(value: &mut str) {
    // SAFETY: zero bytes are valid UTF-8, and the writes stay inside the
    // string's initialised length.
    unsafe {
        for byte in value.as_bytes_mut() {
            std::ptr::write_volatile(byte, 0);
        }
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Client credentials (the secret is redacted in `Debug`).
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// Parses `SYPHT_API_KEY`-style `client_id:client_secret`, splitting on the
/// first colon so that secrets may contain colons.
pub(crate) fn parse_api_key(value: &str, source: &str) -> Result<Credentials> {
    let Some((id, secret)) = value.split_once(':') else {
        return Err(Error::config(format!(
            "{source} must be \"client_id:client_secret\", but it contains no ':'"
        )));
    };
    let id = id.trim();
    if id.is_empty() {
        return Err(Error::config(format!(
            "{source} has an empty client id before the ':'; set it to \"client_id:client_secret\""
        )));
    }
    if secret.is_empty() {
        return Err(Error::config(format!(
            "{source} has an empty client secret after the ':'; set it to \"client_id:client_secret\""
        )));
    }
    Ok(Credentials {
        client_id: id.to_string(),
        client_secret: Secret::new(secret.to_string()),
    })
}

/// Reads an environment variable, treating unset and empty alike.
fn env_var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_string())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::config(format!(
            "environment variable {name} is not valid UTF-8"
        ))),
    }
}

/// The parts of an `http`/`https` URL that the client checks.
pub(crate) struct UrlParts<'a> {
    pub(crate) https: bool,
    pub(crate) host: &'a str,
}

/// Checks that `url` is an absolute http(s) URL with a host and no query
/// or fragment, naming `what` in the error.
pub(crate) fn parse_url<'a>(url: &'a str, what: &str) -> Result<UrlParts<'a>> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(Error::config(format!(
            "{what} {url:?} must start with \"https://\" (or \"http://\" for a local server)"
        )));
    };
    if rest.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::config(format!(
            "{what} {url:?} must not contain whitespace, a query or a fragment"
        )));
    }
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if authority.contains('@') {
        return Err(Error::config(format!(
            "{what} {url:?} must not carry credentials; pass them to the client instead"
        )));
    }
    let host = if let Some(inner) = host_port.strip_prefix('[') {
        inner.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err(Error::config(format!("{what} {url:?} has no host")));
    }
    Ok(UrlParts { https, host })
}

/// True when `host` names the loopback interface.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// Settings of a [`crate::Client`], built with [`crate::ClientBuilder`].
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) credentials: Credentials,
    pub(crate) api_base: String,
    pub(crate) auth_endpoint: String,
    pub(crate) audience: String,
    pub(crate) auth_flow: AuthFlow,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) results_deadline: Duration,
    pub(crate) user_agent: String,
    pub(crate) max_response_bytes: u64,
    pub(crate) max_binary_response_bytes: u64,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) call_deadline: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    /// Replaces the public root certificates when set.
    pub(crate) root_certificates: Option<std::sync::Arc<Vec<ureq::tls::Certificate<'static>>>>,
}

/// How idempotent requests (GET and the token request) are retried after a
/// connection failure or a 429, 502, 503 or 504 answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 3; 0 turns retries off).
    pub max_retries: u32,
    /// Backoff before the first retry (default 200 ms); it doubles for each
    /// further retry, with random jitter of up to half its value.
    pub initial_backoff: Duration,
    /// Cap of the backoff (default 5 s). A `Retry-After` answer is honoured
    /// even when longer, as long as it fits the call deadline and is at
    /// most 60 s; a longer one ends the retries with the server's error.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Largest CA file read by [`ClientBuilder::root_certificates_file`]. Debian's
/// bundle of public CAs is about 220 KB, so a bigger file is the wrong file.
pub const MAX_CA_FILE_BYTES: u64 = 16 << 20;

/// Builder for [`crate::Client`].
///
/// Each setting comes from, in order: the builder, the environment
/// (`SYPHT_API_KEY`, `SYPHT_API_BASE_ENDPOINT`, `SYPHT_AUTH_ENDPOINT`,
/// `SYPHT_AUDIENCE`) unless [`ClientBuilder::ignore_env`] is set, and the
/// default.
#[derive(Clone, Default)]
pub struct ClientBuilder {
    client_id: Option<String>,
    client_secret: Option<Secret>,
    api_base: Option<String>,
    auth_endpoint: Option<String>,
    audience: Option<String>,
    auth_flow: Option<AuthFlow>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    results_deadline: Option<Duration>,
    user_agent: Option<String>,
    max_response_bytes: Option<u64>,
    max_binary_response_bytes: Option<u64>,
    read_timeout: Option<Duration>,
    call_deadline: Option<Duration>,
    retry: Option<RetryPolicy>,
    root_certificates: Option<std::sync::Arc<Vec<ureq::tls::Certificate<'static>>>>,
    allow_insecure_http: bool,
    ignore_env: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("api_base", &self.api_base)
            .field("auth_endpoint", &self.auth_endpoint)
            .field("audience", &self.audience)
            .field("auth_flow", &self.auth_flow)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("results_deadline", &self.results_deadline)
            .field("user_agent", &self.user_agent)
            .field("read_timeout", &self.read_timeout)
            .field("call_deadline", &self.call_deadline)
            .field("retry", &self.retry)
            .field("root_certificates", &self.root_certificates.as_ref().map(|c| c.len()))
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl ClientBuilder {
    /// Creates a builder with nothing set.
    pub fn new() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Sets the client id and secret. Without this, `SYPHT_API_KEY` is read.
    pub fn credentials(mut self, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self.client_secret = Some(Secret::new(client_secret.into()));
        self
    }

    /// Sets the REST API base URL (default `https://api.sypht.com`).
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = Some(url.into());
        self
    }

    /// Sets the token endpoint (default `https://auth.sypht.com/oauth2/token`).
    pub fn auth_endpoint(mut self, url: impl Into<String>) -> Self {
        self.auth_endpoint = Some(url.into());
        self
    }

    /// Sets the `audience` sent by the legacy flow (default: the API base).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Forces an auth flow instead of choosing it from the token URL.
    pub fn auth_flow(mut self, flow: AuthFlow) -> Self {
        self.auth_flow = Some(flow);
        self
    }

    /// Sets the TCP connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sets the overall timeout of one HTTP request, body included
    /// (default 180 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Sets how long [`crate::Client::get_results`] waits for `FINALISED`
    /// (default 300 s).
    pub fn results_deadline(mut self, deadline: Duration) -> Self {
        self.results_deadline = Some(deadline);
        self
    }

    /// Replaces the User-Agent (default `libsypht/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets the largest JSON response body accepted (default 64 MiB).
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Sets the largest binary response body accepted, such as a page
    /// image or a downloaded document (default 256 MiB).
    pub fn max_binary_response_bytes(mut self, limit: u64) -> Self {
        self.max_binary_response_bytes = Some(limit);
        self
    }

    /// Sets the longest wait for the next bytes of a response (default: no
    /// separate limit; the request timeout applies).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Sets a deadline for one whole call, retries and backoff included
    /// (default: none; each attempt is bounded by the request timeout).
    pub fn call_deadline(mut self, deadline: Duration) -> Self {
        self.call_deadline = Some(deadline);
        self
    }

    /// Sets how idempotent requests are retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Trusts only the CA certificates in `pem` (one or more PEM
    /// `CERTIFICATE` blocks) instead of the public roots, for a private CA
    /// or a TLS-inspecting proxy. Certificate verification stays on.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<Self> {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert),
                Ok(_) => {}
                Err(e) => {
                    // The parser's Debug text dumps bytes as numbers, so only
                    // its leading variant name (such as MissingSectionEnd) is kept.
                    let debug = match e {
                        ureq::Error::Pem(pem) => format!("{pem:?}"),
                        other => other.to_string(),
                    };
                    let reason: String = debug.chars().take_while(char::is_ascii_alphanumeric).collect();
                    return Err(Error::config(format!(
                        "the CA certificate PEM is not valid ({reason}); check that each -----BEGIN \
                         CERTIFICATE----- line has its -----END CERTIFICATE----- line with base64 between them"
                    )));
                }
            }
        }
        if certs.is_empty() {
            return Err(Error::config("the CA certificate PEM contains no CERTIFICATE block"));
        }
        self.root_certificates = Some(std::sync::Arc::new(certs));
        Ok(self)
    }

    /// Like [`ClientBuilder::root_certificates_pem`], reading the PEM from
    /// a file of at most [`MAX_CA_FILE_BYTES`].
    pub fn root_certificates_file(self, path: impl AsRef<std::path::Path>) -> Result<Self> {
        use std::io::Read;

        let path = path.as_ref();
        let path_text = path.display().to_string();
        let read_error =
            |e: std::io::Error| Error::new(crate::ErrorKind::Io, format!("cannot read CA file {path_text:?}: {e}"));
        // Opening a FIFO blocks until it has a writer, and a device may
        // never end, so only regular files are opened.
        if !std::fs::metadata(path).map_err(read_error)?.is_file() {
            return Err(Error::config(format!(
                "CA file {path_text:?} is not a regular file; give the path of a PEM file"
            )));
        }
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut pem = Vec::new();
        file.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem).map_err(read_error)?;
        if pem.len() as u64 > MAX_CA_FILE_BYTES {
            return Err(Error::config(format!(
                "CA file {path_text:?} is larger than {} MiB; give a PEM file with the CA certificates only",
                MAX_CA_FILE_BYTES >> 20
            )));
        }
        self.root_certificates_pem(&pem)
    }

    /// Allows sending credentials over plain `http://` to hosts other than
    /// loopback. Off by default: only `https://` and loopback `http://`
    /// URLs are accepted.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Ignores the `SYPHT_*` environment variables for unset settings.
    pub fn ignore_env(mut self, ignore: bool) -> Self {
        self.ignore_env = ignore;
        self
    }

    fn env_setting(&self, name: &str) -> Result<Option<String>> {
        if self.ignore_env {
            Ok(None)
        } else {
            env_var(name)
        }
    }

    /// Resolves every setting and checks it.
    pub(crate) fn resolve(self) -> Result<Config> {
        let credentials = match (&self.client_id, &self.client_secret) {
            (Some(id), Some(secret)) => {
                if id.trim().is_empty() {
                    return Err(Error::config("the client id is empty"));
                }
                if secret.expose().is_empty() {
                    return Err(Error::config("the client secret is empty"));
                }
                Credentials {
                    client_id: id.trim().to_string(),
                    client_secret: secret.clone(),
                }
            }
            (None, None) => match self.env_setting(ENV_API_KEY)? {
                Some(key) => {
                    let mut key = key;
                    let parsed = parse_api_key(&key, &format!("environment variable {ENV_API_KEY}"));
                    wipe(&mut key);
                    parsed?
                }
                None => {
                    return Err(Error::config(format!(
                        "no credentials: pass a client id and secret, or set {ENV_API_KEY} \
                         to \"client_id:client_secret\""
                    )))
                }
            },
            _ => {
                return Err(Error::config(
                    "pass both the client id and the client secret, or neither to read \
                     SYPHT_API_KEY",
                ))
            }
        };

        let (api_base, api_base_source) = match self.api_base.clone() {
            Some(v) => (v, "API base URL".to_string()),
            None => match self.env_setting(ENV_API_BASE)? {
                Some(v) => (v, ENV_API_BASE.to_string()),
                None => (DEFAULT_API_BASE.to_string(), "API base URL".to_string()),
            },
        };
        let api_base = api_base.trim().trim_end_matches('/').to_string();
        let (auth_endpoint, auth_source) = match self.auth_endpoint.clone() {
            Some(v) => (v, "token endpoint".to_string()),
            None => match self.env_setting(ENV_AUTH_ENDPOINT)? {
                Some(v) => (v, ENV_AUTH_ENDPOINT.to_string()),
                None => (DEFAULT_AUTH_ENDPOINT.to_string(), "token endpoint".to_string()),
            },
        };
        let auth_endpoint = auth_endpoint.trim().to_string();
        let audience = match self.audience.clone() {
            Some(v) => v,
            None => self.env_setting(ENV_AUDIENCE)?.unwrap_or_else(|| api_base.clone()),
        };

        for (url, what) in [(&api_base, &api_base_source), (&auth_endpoint, &auth_source)] {
            let parts = parse_url(url, what)?;
            if !parts.https && !is_loopback_host(parts.host) && !self.allow_insecure_http {
                return Err(Error::config(format!(
                    "{what} {url:?} uses plain http:// to a host that is not loopback, which \
                     would send credentials unencrypted; use https:// or opt in with \
                     allow_insecure_http"
                )));
            }
        }
        let auth_flow = self.auth_flow.unwrap_or(AuthFlow::Auto).resolve(&auth_endpoint)?;

        let connect_timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let request_timeout = self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
        for (value, what) in [(connect_timeout, "connect timeout"), (request_timeout, "request timeout")] {
            if value.is_zero() {
                return Err(Error::config(format!("the {what} must be greater than zero")));
            }
        }
        for (value, what) in [(self.read_timeout, "read timeout"), (self.call_deadline, "call deadline")] {
            if value.is_some_and(|v| v.is_zero()) {
                return Err(Error::config(format!("the {what} must be greater than zero")));
            }
        }
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| format!("libsypht/{}", env!("CARGO_PKG_VERSION")));
        if user_agent.chars().any(|c| c.is_control()) {
            return Err(Error::config("the User-Agent must not contain control characters"));
        }
        Ok(Config {
            credentials,
            api_base,
            auth_endpoint,
            audience,
            auth_flow,
            connect_timeout,
            request_timeout,
            results_deadline: self.results_deadline.unwrap_or(DEFAULT_RESULTS_DEADLINE),
            user_agent,
            max_response_bytes: self.max_response_bytes.unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            max_binary_response_bytes: self
                .max_binary_response_bytes
                .unwrap_or(DEFAULT_MAX_BINARY_RESPONSE_BYTES),
            read_timeout: self.read_timeout,
            call_deadline: self.call_deadline,
            retry: self.retry.unwrap_or_default(),
            root_certificates: self.root_certificates,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_splits_on_first_colon() {
        let c = parse_api_key("id:sec:ret", "KEY").unwrap();
        assert_eq!(c.client_id, "id");
        assert_eq!(c.client_secret.expose(), "sec:ret");
    }

    #[test]
    fn api_key_errors_never_echo_secret() {
        for bad in ["nocolon-topsecret", ":topsecret", "id:"] {
            let err = parse_api_key(bad, "environment variable SYPHT_API_KEY").unwrap_err();
            assert!(err.message().contains("SYPHT_API_KEY"), "{err}");
            assert!(!err.message().contains("topsecret"), "{err}");
        }
    }

    #[test]
    fn flow_follows_url_like_python_client() {
        assert_eq!(AuthFlow::Auto.resolve("https://x/oauth/token").unwrap(), AuthFlow::Legacy);
        assert_eq!(AuthFlow::Auto.resolve("https://x/oauth2/token").unwrap(), AuthFlow::Current);
        assert!(AuthFlow::Auto.resolve("https://x/token").is_err());
        assert_eq!(AuthFlow::Legacy.resolve("https://x/token").unwrap(), AuthFlow::Legacy);
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let base = ClientBuilder::new().credentials("id", "secret").ignore_env(true);
        let err = base.clone().api_base("http://example.com").resolve().unwrap_err();
        assert!(err.message().contains("http://"), "{err}");
        base.clone().api_base("http://127.0.0.1:9").auth_endpoint("http://[::1]:9/oauth2/token").resolve().unwrap();
        base.clone().api_base("http://example.com").allow_insecure_http(true).resolve().unwrap();
    }

    #[test]
    fn debug_hides_secret() {
        let b = ClientBuilder::new().credentials("id", "hunter2-secret");
        assert!(!format!("{b:?}").contains("hunter2"));
        let cfg = b.ignore_env(true).resolve().unwrap();
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
