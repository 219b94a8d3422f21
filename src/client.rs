//! The blocking client: authenticated requests, uploads and results.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::auth::{self, TokenCache};
use crate::config::{ClientBuilder, Config, Secret};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Agents, RequestBody};
use crate::retry::{self, Attempts};
use std::sync::atomic::{AtomicU64, Ordering};
use crate::multipart::{content_type_for, MultipartBuilder};

/// Called during an upload with (bytes sent so far, total bytes).
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What to extract from an upload and how to process it.
#[derive(Clone, Default)]
pub struct UploadOptions {
    /// Product ids such as `"invoices:2"`, sent as the `products` field.
    pub products: Vec<String>,
    /// Fieldset ids such as `"sypht.invoice"`, sent as `fieldSets`; use
    /// these or `products`, not both.
    pub field_sets: Vec<String>,
    /// A v1 workflow to run, such as `"validate"` or `"split"`.
    pub workflow_id: Option<String>,
    /// Options of that workflow, sent as a JSON string.
    pub workflow_options: Option<Value>,
    /// Tags to attach, one `tags` field each.
    pub tags: Vec<String>,
    /// A parent document to link the upload to.
    pub parent_doc_id: Option<String>,
    /// Overrides the file name sent to the server (default: the path's
    /// base name).
    pub file_name: Option<String>,
    /// Receives upload progress.
    pub progress: Option<ProgressFn>,
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("products", &self.products)
            .field("field_sets", &self.field_sets)
            .field("workflow_id", &self.workflow_id)
            .field("workflow_options", &self.workflow_options)
            .field("tags", &self.tags)
            .field("parent_doc_id", &self.parent_doc_id)
            .field("file_name", &self.file_name)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

impl UploadOptions {
    /// Options selecting the given products.
    pub fn products<I, S>(products: I) -> UploadOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        UploadOptions { products: products.into_iter().map(Into::into).collect(), ..Default::default() }
    }
}

/// Options of one results request.
#[derive(Clone, Debug, Default)]
pub struct ResultsOptions {
    /// Asks for the verbose form (`verbose=true`).
    pub verbose: bool,
    /// How long the server may wait for pending work before answering
    /// (sent as `timeout` in milliseconds).
    pub server_timeout: Option<Duration>,
}

/// One answer of `GET /result/final/{fileId}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultsResponse {
    /// The document id.
    pub file_id: String,
    /// The processing status, `"FINALISED"` when results are complete.
    pub status: String,
    /// The whole JSON answer.
    pub body: Value,
}

impl ResultsResponse {
    /// True when the status is `FINALISED`.
    pub fn is_finalised(&self) -> bool {
        self.status == "FINALISED"
    }

    /// The `results` object, present once finalised.
    pub fn results(&self) -> Option<&Value> {
        self.body.get("results")
    }

    /// The fields as a map from field name to value, like the official
    /// Python client's `fetch_results`.
    pub fn field_values(&self) -> Result<Map<String, Value>> {
        let fields = self
            .results()
            .and_then(|r| r.get("fields"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::decode(format!("results of file {} have no results.fields array", self.file_id))
            })?;
        let mut map = Map::new();
        for field in fields {
            let name = field.get("name").and_then(Value::as_str).ok_or_else(|| {
                Error::decode(format!("a field in the results of file {} has no name", self.file_id))
            })?;
            map.insert(name.to_string(), field.get("value").cloned().unwrap_or(Value::Null));
        }
        Ok(map)
    }
}

/// A blocking Sypht API client.
///
/// Cloning is cheap and clones share the connection pool and the token.
/// A client may be used from many threads at once.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) agents: Agents,
    tokens: TokenCache,
    /// The Basic credential value, kept only to redact it from errors.
    basic_value: Secret,
    /// The caller's company id, looked up once by client id.
    pub(crate) company_id: OnceLock<String>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.inner.config.credentials.client_id)
            .field("api_base", &self.inner.config.api_base)
            .field("auth_endpoint", &self.inner.config.auth_endpoint)
            .field("auth_flow", &self.inner.config.auth_flow)
            .finish_non_exhaustive()
    }
}

/// A raw answer of [`Client::request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body bytes.
    pub body: Vec<u8>,
}

const INITIAL_POLL_DELAY: Duration = Duration::from_millis(200);
const MAX_POLL_DELAY: Duration = Duration::from_secs(5);

impl Client {
    /// Starts a [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Creates a client from `SYPHT_API_KEY` and the other `SYPHT_*`
    /// environment variables.
    pub fn from_env() -> Result<Client> {
        ClientBuilder::new().build()
    }

    /// Creates a client with explicit credentials; endpoints come from the
    /// environment or the defaults.
    pub fn new(client_id: &str, client_secret: &str) -> Result<Client> {
        ClientBuilder::new().credentials(client_id, client_secret).build()
    }

    pub(crate) fn from_config(config: Config) -> Client {
        let agents = Agents::new(&config);
        let creds = &config.credentials;
        let mut basic = format!("{}:{}", creds.client_id, creds.client_secret.expose());
        use base64::Engine;
        let basic_value = Secret::new(base64::engine::general_purpose::STANDARD.encode(basic.as_bytes()));
        crate::config::wipe(&mut basic);
        let company_id = OnceLock::new();
        Client { inner: Arc::new(Inner { config, agents, tokens: TokenCache::new(), basic_value, company_id }) }
    }

    /// The API base URL in use (no trailing slash).
    pub fn api_base(&self) -> &str {
        &self.inner.config.api_base
    }

    /// The client id in use.
    pub fn client_id(&self) -> &str {
        &self.inner.config.credentials.client_id
    }

    /// Returns a valid access token, fetching one if none is cached or the
    /// cached one is about to expire. Concurrent callers share one fetch.
    pub(crate) fn token(&self) -> Result<Arc<Secret>> {
        let deadline = self.inner.config.call_deadline.map(|d| Instant::now() + d);
        self.token_before(deadline)
    }

    /// Like [`Client::token`], but a fetch gives up at `deadline`, the
    /// deadline of the call that needs the token.
    fn token_before(&self, deadline: Option<Instant>) -> Result<Arc<Secret>> {
        let inner = &self.inner;
        inner.tokens.get(|| auth::fetch_token(&inner.agents, &inner.config, deadline))
    }

    /// Drops the cached token so the next call fetches a new one.
    pub fn clear_token(&self) {
        self.inner.tokens.clear();
    }

    /// Fetches a token now, to check the credentials early.
    pub fn authenticate(&self) -> Result<()> {
        self.token().map(|_| ())
    }

    /// The client secret, the Basic credential and `token`, which no error
    /// message may contain.
    fn secrets<'a>(&'a self, token: Option<&'a Secret>) -> Vec<&'a str> {
        let config = &self.inner.config;
        let mut secrets = vec![config.credentials.client_secret.expose(), self.inner.basic_value.expose()];
        if let Some(token) = token {
            secrets.push(token.expose());
        }
        secrets
    }

    fn redact(&self, err: Error, token: Option<&Secret>) -> Error {
        err.redact(&self.secrets(token))
    }

    /// Sends an authenticated request to `path` (which starts with `/` and
    /// may carry a query) and returns the status and body of a 2xx answer.
    ///
    /// On 401 the token is dropped and the request is sent once more with a
    /// fresh token. GET and HEAD requests are retried on connection
    /// failures and on 429, 502, 503 and 504 (honouring `Retry-After`);
    /// other methods are retried only when the connection failed before
    /// any of their body was sent. `make_body` is called once per attempt.
    pub(crate) fn send_authenticated<'b>(
        &self,
        method: &str,
        path: &str,
        accept: &str,
        make_body: &mut dyn FnMut() -> Result<RequestBody<'b>>,
        timeout: Option<Duration>,
        body_limit: u64,
    ) -> Result<RawResponse> {
        let config = &self.inner.config;
        let url = format!("{}{}", config.api_base, path);
        let idempotent = matches!(method, "GET" | "HEAD");
        let what = format!("{method} {path}");
        let mut attempts = Attempts::new(config.retry, config.call_deadline);
        let mut retried_after_401 = false;
        loop {
            // The token comes first, so that the time spent fetching it
            // counts against the call deadline.
            let token = self.token_before(attempts.deadline())?;
            let per_attempt = attempts.next_timeout(timeout.unwrap_or(config.request_timeout), &what)?;
            let body = make_body()?;
            let has_body = !matches!(body, RequestBody::Empty);
            let body_started = Arc::new(AtomicU64::new(0));
            let agent = self.inner.agents.for_url(&url, config);
            let mut bearer = format!("Bearer {}", token.expose());
            let sent = http::send(
                &agent,
                method,
                &url,
                &[("Authorization", bearer.as_str()), ("Accept", accept)],
                body,
                Some(per_attempt),
                &body_started,
            );
            crate::config::wipe(&mut bearer);
            let response = match sent {
                Ok(response) => response,
                Err(err) => {
                    let nothing_sent = has_body && body_started.load(Ordering::Relaxed) == 0;
                    if err.kind() == ErrorKind::Network && (idempotent || nothing_sent) && attempts.wait_for_retry(None) {
                        crate::log::warn(&format!("{what} failed ({err}); retrying"));
                        continue;
                    }
                    return Err(self.redact(err, Some(&token)));
                }
            };
            let status = response.status().as_u16();
            let retry_after = header(&response, "retry-after").and_then(|v| retry::parse_retry_after(&v));
            let location = header(&response, "location")
                .map(|l| crate::error::redact(&l, &self.secrets(Some(&token))));
            let mut body = match http::read_body(response, body_limit, &url) {
                Ok(body) => body,
                Err(err) => {
                    if err.kind() == ErrorKind::Network && idempotent && attempts.wait_for_retry(None) {
                        crate::log::warn(&format!("reading the answer of {what} failed ({err}); retrying"));
                        continue;
                    }
                    return Err(self.redact(err, Some(&token)));
                }
            };
            // Callers build error messages from the body, even of a 2xx
            // answer, so a hostile echo of our credentials is removed here.
            http::scrub_secrets(&mut body, &self.secrets(Some(&token)));
            if status == 401 {
                self.inner.tokens.invalidate(&token);
                if !retried_after_401 {
                    retried_after_401 = true;
                    crate::log::info(&format!("{what} returned 401; fetching a new token and retrying once"));
                    continue;
                }
                let err = http::status_error(status, method, path, &body);
                let err = Error::new(
                    ErrorKind::Auth,
                    format!("{} (the request was still unauthorised with a freshly fetched token)", err.message()),
                )
                .with_http_status(401);
                return Err(self.redact(err, Some(&token)));
            }
            if retry::is_retryable_status(status) && idempotent && attempts.wait_for_retry(retry_after) {
                crate::log::warn(&format!("{what} returned HTTP {status}; retry {}", attempts.retries()));
                continue;
            }
            if (300..400).contains(&status) {
                let target = location.map(|l| crate::error::sanitize_server_text(&l)).unwrap_or_default();
                let err = Error::new(
                    ErrorKind::HttpStatus,
                    format!(
                        "{what} returned HTTP {status} redirecting to {target:?}; libsypht does not follow \
                         redirects, so that credentials and request bodies are never sent elsewhere; set the \
                         API base URL to the final location"
                    ),
                )
                .with_http_status(status);
                return Err(self.redact(err, Some(&token)));
            }
            if !(200..300).contains(&status) {
                let err = http::status_error(status, method, path, &body);
                return Err(self.redact(err, Some(&token)));
            }
            return Ok(RawResponse { status, body });
        }
    }

    /// Sends an authenticated request to any API path, for endpoints this
    /// library does not wrap yet. `path` starts with `/` and may carry a
    /// query string; `body`, when given, is sent as JSON. Non-2xx statuses
    /// are errors, as for the typed calls.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<RawResponse> {
        if !path.starts_with('/') {
            return Err(Error::invalid_argument(format!("path {path:?} must start with '/'")));
        }
        if path.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Error::invalid_argument(format!(
                "path {path:?} contains spaces or control characters; percent-encode them"
            )));
        }
        let data = match body {
            Some(value) => Some(serde_json::to_vec(value).map_err(|e| Error::internal(e.to_string()))?),
            None => None,
        };
        let mut make_body = || {
            Ok(match &data {
                Some(bytes) => RequestBody::Bytes { data: bytes.clone(), content_type: "application/json" },
                None => RequestBody::Empty,
            })
        };
        let limit = self.inner.config.max_response_bytes;
        self.send_authenticated(method, path, "application/json", &mut make_body, None, limit)
    }

    /// Uploads the file at `path` (streamed from disk) and returns its
    /// `fileId`. The multipart file name is the path's base name.
    pub fn upload_file(&self, path: impl AsRef<Path>, options: &UploadOptions) -> Result<String> {
        let (file_name, mut open) = open_upload_file(path.as_ref(), options.file_name.as_deref())?;
        self.upload_stream(&file_name, options, &mut open)
    }

    /// Uploads a document held in memory under `file_name` and returns its
    /// `fileId`.
    pub fn upload_bytes(&self, data: &[u8], file_name: &str, options: &UploadOptions) -> Result<String> {
        let name = options.file_name.as_deref().unwrap_or(file_name);
        self.upload_stream(name, options, &mut || Ok((Box::new(data) as Box<dyn Read>, data.len() as u64)))
    }

    fn upload_stream<'a>(
        &self,
        file_name: &str,
        options: &UploadOptions,
        open: &mut dyn FnMut() -> Result<(Box<dyn Read + 'a>, u64)>,
    ) -> Result<String> {
        let fields = upload_fields(options)?;
        let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
        let part = FilePart { field: "fileToUpload", file_name, progress: options.progress.clone() };
        let response = self.send_multipart("/fileupload", &fields, part, open)?;
        let json = parse_json(&response.body, "POST", "/fileupload")?;
        match json.get("fileId") {
            Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
            _ => Err(Error::decode(format!(
                "POST /fileupload answered HTTP {} without a fileId: {}",
                response.status,
                http::server_message(&response.body)
            ))),
        }
    }

    /// POSTs a streamed `multipart/form-data` body to `path`: the text
    /// `fields` in order, then the file part, whose bytes come from `open`
    /// (called once per attempt).
    pub(crate) fn send_multipart<'a>(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        part: FilePart<'_>,
        open: &mut dyn FnMut() -> Result<(Box<dyn Read + 'a>, u64)>,
    ) -> Result<RawResponse> {
        if part.file_name.is_empty() {
            return Err(Error::invalid_argument("the upload's file name is empty"));
        }
        let content_type = content_type_for(part.file_name);
        let mut make_body = || -> Result<RequestBody<'a>> {
            let mut builder = MultipartBuilder::new();
            for (name, value) in fields {
                builder.text(name, value);
            }
            let body = builder.file(part.field, part.file_name, content_type);
            let (file, len) = open()?;
            let total = body.length(len);
            let reader: Box<dyn Read + 'a> = match &part.progress {
                Some(callback) => Box::new(ProgressReader {
                    inner: body.reader(file, len),
                    sent: 0,
                    total,
                    callback: callback.clone(),
                }),
                None => Box::new(body.reader(file, len)),
            };
            Ok(RequestBody::Stream { reader, length: total, content_type: body.content_type })
        };
        let limit = self.inner.config.max_response_bytes;
        self.send_authenticated("POST", path, "application/json", &mut make_body, None, limit)
    }

    /// Fetches the results once, whatever their status.
    pub fn fetch_results(&self, file_id: &str, options: &ResultsOptions) -> Result<ResultsResponse> {
        let (path, body) = self.fetch_results_body(file_id, options)?;
        parse_results(&body, &path, file_id)
    }

    /// Sends one results request and returns its path (for messages) and
    /// its body.
    fn fetch_results_body(&self, file_id: &str, options: &ResultsOptions) -> Result<(String, Vec<u8>)> {
        check_id(file_id, "file id")?;
        let mut path = format!("/result/final/{}", http::encode_component(file_id));
        let mut query = Vec::new();
        if options.verbose {
            query.push("verbose=true".to_string());
        }
        let mut timeout = None;
        if let Some(wait) = options.server_timeout {
            query.push(format!("timeout={}", wait.as_millis()));
            // Give the HTTP request room beyond the server-side wait.
            timeout = Some(self.inner.config.request_timeout.max(wait + Duration::from_secs(30)));
        }
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query.join("&"));
        }
        let limit = self.inner.config.max_response_bytes;
        let response =
            self.send_authenticated("GET", &path, "application/json", &mut || Ok(RequestBody::Empty), timeout, limit)?;
        Ok((path, response.body))
    }

    /// Polls the results until they are `FINALISED`, backing off between
    /// polls, and fails with [`ErrorKind::NotFinalised`] once `deadline`
    /// has passed.
    pub fn wait_for_results(
        &self,
        file_id: &str,
        options: &ResultsOptions,
        deadline: Duration,
    ) -> Result<ResultsResponse> {
        self.poll_results(file_id, options, deadline, |body, path| {
            let response = parse_results(body, path, file_id)?;
            Ok(if response.is_finalised() { Poll::Done(response) } else { Poll::Pending(response.status) })
        })
    }

    /// Runs results requests until `parse` reports them finalised or
    /// `deadline` has passed.
    fn poll_results<T>(
        &self,
        file_id: &str,
        options: &ResultsOptions,
        deadline: Duration,
        parse: impl Fn(&[u8], &str) -> Result<Poll<T>>,
    ) -> Result<T> {
        let start = Instant::now();
        let mut delay = INITIAL_POLL_DELAY;
        loop {
            let (path, body) = self.fetch_results_body(file_id, options)?;
            let status = match parse(&body, &path)? {
                Poll::Done(done) => return Ok(done),
                Poll::Pending(status) => status,
            };
            let elapsed = start.elapsed();
            if elapsed >= deadline {
                return Err(Error::new(
                    ErrorKind::NotFinalised,
                    format!(
                        "results of file {file_id} are still {status:?} after {:.1} s; wait longer or raise the \
                         results deadline",
                        elapsed.as_secs_f64()
                    ),
                )
                .with_result_status(status));
            }
            std::thread::sleep(delay.min(deadline - elapsed));
            delay = (delay * 2).min(MAX_POLL_DELAY);
        }
    }

    /// Waits for the results (up to the configured results deadline) and
    /// returns them as a map from field name to value.
    pub fn get_results(&self, file_id: &str) -> Result<Map<String, Value>> {
        let response = self.wait_for_results(file_id, &ResultsOptions::default(), self.inner.config.results_deadline)?;
        response.field_values()
    }

    /// Waits for the results like [`Client::get_results`] and returns the
    /// field map as compact JSON text, with keys sorted.
    ///
    /// Each value keeps the exact text the server sent, so numbers keep
    /// every digit. The response is parsed without building a JSON tree,
    /// which makes this the cheapest way to get the fields as text.
    pub fn get_results_json(&self, file_id: &str) -> Result<String> {
        let deadline = self.inner.config.results_deadline;
        self.poll_results(file_id, &ResultsOptions::default(), deadline, |body, path| {
            field_map_json_poll(body, path, file_id)
        })
    }

    /// Waits for the results (up to the configured results deadline) and
    /// returns the whole verbose `results` object.
    pub fn get_results_verbose(&self, file_id: &str) -> Result<Value> {
        let options = ResultsOptions { verbose: true, server_timeout: None };
        let response = self.wait_for_results(file_id, &options, self.inner.config.results_deadline)?;
        Ok(response.results().cloned().unwrap_or(Value::Null))
    }
}

/// Reads one results response for [`Client::get_results_json`]: the field
/// map JSON once finalised, or else the status.
pub(crate) fn field_map_json_poll(body: &[u8], path: &str, file_id: &str) -> Result<Poll<String>> {
    match serde_json::from_slice::<RawResults<'_>>(body) {
        Ok(raw) if raw.status.as_deref() == Some("FINALISED") => {
            if let Some(json) = raw.field_map_json() {
                return Ok(Poll::Done(json));
            }
        }
        Ok(RawResults { status: Some(status), .. }) => return Ok(Poll::Pending(status.into_owned())),
        _ => {}
    }
    // Any other shape takes the full parse, which returns the same fields
    // or error as get_results.
    let response = parse_results(body, path, file_id)?;
    if !response.is_finalised() {
        return Ok(Poll::Pending(response.status));
    }
    Ok(Poll::Done(Value::Object(response.field_values()?).to_string()))
}

/// The outcome of one results poll.
pub(crate) enum Poll<T> {
    Done(T),
    /// Not finalised yet, with the status the server reported.
    Pending(String),
}

/// Parses a results response into a [`ResultsResponse`], checking that it
/// has a status and, once finalised, a results object.
pub(crate) fn parse_results(body: &[u8], path: &str, file_id: &str) -> Result<ResultsResponse> {
    let parsed = parse_json(body, "GET", path)?;
    let status = match parsed.get("status") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(Error::decode(format!(
                "GET {path} returned a response without a status string: {}",
                http::server_message(body)
            )))
        }
    };
    let answered_id = parsed.get("fileId").and_then(Value::as_str).unwrap_or(file_id).to_string();
    let response = ResultsResponse { file_id: answered_id, status, body: parsed };
    if response.is_finalised() && response.results().is_none() {
        return Err(Error::decode(format!("GET {path} is FINALISED but has no results object")));
    }
    Ok(response)
}

/// A results response parsed in place: strings borrowed where they have no
/// escapes, and each field value kept as its raw JSON text.
#[derive(serde::Deserialize)]
struct RawResults<'a> {
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    results: Option<RawResultsBody<'a>>,
}

#[derive(serde::Deserialize)]
struct RawResultsBody<'a> {
    #[serde(borrow, default)]
    fields: Option<Vec<RawField<'a>>>,
}

#[derive(serde::Deserialize)]
struct RawField<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
}

impl RawResults<'_> {
    /// Writes the field map as compact JSON with sorted keys (a later field
    /// of the same name wins, as in [`ResultsResponse::field_values`]), or
    /// returns `None` when the shape needs the full parse to report it.
    fn field_map_json(&self) -> Option<String> {
        let fields = self.results.as_ref()?.fields.as_ref()?;
        let mut map: BTreeMap<&str, &str> = BTreeMap::new();
        for field in fields {
            let value = field.value.map_or("null", RawValue::get);
            map.insert(field.name.as_deref()?, value);
        }
        let mut json = String::with_capacity(2 + map.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>());
        json.push('{');
        for (i, (name, value)) in map.into_iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            push_json_string(&mut json, name)?;
            json.push(':');
            push_compact(&mut json, value)?;
        }
        json.push('}');
        Some(json)
    }
}

/// Appends `text` as a JSON string.
fn push_json_string(out: &mut String, text: &str) -> Option<()> {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&serde_json::to_string(text).ok()?);
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
    Some(())
}

/// Deepest nesting of arrays and objects accepted in a field value. The
/// full parse allows 128 levels for the whole body, 4 of which are above
/// a field value, so a value this deep or less parses both ways.
const MAX_VALUE_DEPTH: usize = 120;

/// Appends raw JSON text without the whitespace between its tokens, or
/// returns `None` when it nests deeper than [`MAX_VALUE_DEPTH`].
fn push_compact(out: &mut String, raw: &str) -> Option<()> {
    let bytes = raw.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let mut depth = 0;
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_VALUE_DEPTH {
                    return None;
                }
            }
            b'}' | b']' => depth -= 1,
            b' ' | b'\t' | b'\n' | b'\r' => {
                // Whitespace is ASCII, so `i` is on a character boundary.
                out.push_str(&raw[copied..i]);
                copied = i + 1;
            }
            _ => {}
        }
    }
    out.push_str(&raw[copied..]);
    Some(())
}

impl ClientBuilder {
    /// Checks the settings and creates the client. No request is sent until
    /// the first call.
    pub fn build(self) -> Result<Client> {
        Ok(Client::from_config(self.resolve()?))
    }
}

/// The file part of a multipart upload.
pub(crate) struct FilePart<'n> {
    /// The form field name, such as `fileToUpload` or `file`.
    pub(crate) field: &'static str,
    /// The file name sent in the part's `Content-Disposition`.
    pub(crate) file_name: &'n str,
    pub(crate) progress: Option<ProgressFn>,
}

/// A source that reopens an upload's file on each attempt.
pub(crate) type FileOpener = Box<dyn FnMut() -> Result<(Box<dyn Read>, u64)>>;

/// Opens the file at `path` for a streamed upload and returns the file
/// name to send (`name_override`, or else the path's base name) and an
/// opener for each attempt. The file is opened once here, so a missing
/// file fails before any network call.
pub(crate) fn open_upload_file(path: &Path, name_override: Option<&str>) -> Result<(String, FileOpener)> {
    let shown = path.display().to_string();
    let owned = path.to_path_buf();
    let open = move || -> Result<(File, u64)> {
        let file = File::open(&owned)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open {shown:?} for upload: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read the size of {shown:?}: {e}")))?;
        if !meta.is_file() {
            return Err(Error::new(ErrorKind::Io, format!("{shown:?} is not a regular file")));
        }
        Ok((file, meta.len()))
    };
    let mut first = Some(open()?);
    let file_name = match name_override {
        Some(name) => name.to_string(),
        None => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::invalid_argument(format!("path {:?} has no file name", path.display())))?,
    };
    let opener: FileOpener = Box::new(move || {
        let (file, len) = match first.take() {
            Some(opened) => opened,
            None => open()?,
        };
        Ok((Box::new(file) as Box<dyn Read>, len))
    });
    Ok((file_name, opener))
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Rejects ids that are empty or contain control characters.
pub(crate) fn check_id(value: &str, what: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_argument(format!("the {what} is empty")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_argument(format!("the {what} {value:?} contains control characters")));
    }
    Ok(())
}

pub(crate) fn parse_json(body: &[u8], method: &str, path: &str) -> Result<Value> {
    serde_json::from_slice(body).map_err(|e| {
        Error::decode(format!(
            "{method} {path} answered with invalid JSON ({e}): {}",
            http::server_message(body)
        ))
    })
}

/// The text fields of an upload, in the order they are sent.
pub(crate) fn upload_fields(options: &UploadOptions) -> Result<Vec<(&'static str, String)>> {
    let mut fields = Vec::new();
    let json_list = |items: &[String], what: &str| -> Result<String> {
        for item in items {
            if item.trim().is_empty() {
                return Err(Error::invalid_argument(format!("a {what} id is empty")));
            }
        }
        Ok(Value::from(items.to_vec()).to_string())
    };
    match (options.products.is_empty(), options.field_sets.is_empty()) {
        (false, false) => {
            return Err(Error::invalid_argument("choose products or field sets for an upload, not both"))
        }
        (false, true) => fields.push(("products", json_list(&options.products, "product")?)),
        (true, false) => fields.push(("fieldSets", json_list(&options.field_sets, "field set")?)),
        (true, true) if options.workflow_id.is_some() => fields.push(("products", "[]".to_string())),
        (true, true) => {
            return Err(Error::invalid_argument(
                "an upload needs at least one product (for example \"invoices\"), field set or workflow id",
            ))
        }
    }
    if let Some(id) = &options.workflow_id {
        check_id(id, "workflow id")?;
        fields.push(("workflowId", id.clone()));
    }
    if let Some(value) = &options.workflow_options {
        if !value.is_object() {
            return Err(Error::invalid_argument("workflow options must be a JSON object"));
        }
        fields.push(("workflowOptions", value.to_string()));
    }
    for tag in &options.tags {
        check_id(tag, "tag")?;
        fields.push(("tags", tag.clone()));
    }
    if let Some(id) = &options.parent_doc_id {
        check_id(id, "parent document id")?;
        fields.push(("parentDocId", id.clone()));
    }
    Ok(fields)
}

struct ProgressReader<R> {
    inner: R,
    sent: u64,
    total: u64,
    callback: ProgressFn,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.sent += n as u64;
            (self.callback)(self.sent, self.total);
        }
        Ok(n)
    }
}
