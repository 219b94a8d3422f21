//! Fault injection and the request log, for client reliability tests.
//!
//! A rule applies to the next `count` requests whose raw path starts with
//! `path_prefix` (and whose method matches, when set). Rules are checked
//! in the order they were added, and the first match with a remaining
//! count is used. Requests under `/_emulator/` are never faulted.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

/// Entries kept in the request log; the oldest are dropped first.

/// Action applied to a request matched by a [`FaultRule`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Respond with this status, an optional `Retry-After` value and an
    /// optional body (a JSON error body when `None`). The handler does not run.
    Status { status: u16, retry_after: Option<String>, body: Option<String> },
    /// Read the request, then close the connection without responding.
    Reset,
    /// Wait this long, then handle the request normally.
    StallBeforeResponse(Duration),
    /// Send the head and half the body, wait this long, then send the rest.
    StallMidBody(Duration),
    /// Send the body `chunk_bytes` at a time with `delay` between pieces.
    Trickle { chunk_bytes: usize, delay: Duration },
    /// Announce the full Content-Length, send half the body, then close.
    TruncatedBody,
    /// Respond 200 with a JSON Content-Type and a body that is not JSON.
    InvalidJson,
    /// Respond 200 with a JSON body of exactly this many bytes.
    OversizedBody { bytes: u64 },
    /// Respond 307 or 308 with this `Location`: a path on this emulator, or
    /// an `http://` URL on a loopback host. A URL with no path gets the
    /// original path and query appended.
    Redirect { status: u16, location: String },
    /// Revoke every issued token, then handle the request normally.
    RevokeTokens,
    /// Respond `{"fileId": <last path segment>, "status": "IN PROGRESS"}`
    /// with the configured pending status. The handler does not run.
    Pending,
}

/// A fault to apply to the next `count` matching requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    /// Prefix of the request path as sent, before percent-decoding and
    /// without the query string.
    pub path_prefix: String,
    /// Request method to match, such as `GET`; any method when `None`.
    pub method: Option<String>,
    pub count: u32,
    pub action: FaultAction,
}

impl FaultRule {
    /// Creates a rule for the next request on any method under `path_prefix`.
    pub fn new(path_prefix: impl Into<String>, action: FaultAction) -> FaultRule {
        FaultRule { path_prefix: path_prefix.into(), method: None, count: 1, action }
    }

    pub fn method(mut self, method: impl Into<String>) -> FaultRule {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    pub fn times(mut self, count: u32) -> FaultRule {
        self.count = count;
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.count > 0 && path.starts_with(&self.path_prefix) && self.method.as_deref().is_none_or(|m| m == method)
    }
}

/// Checks a rule before it is stored, so a bad rule fails when added
/// rather than when a request hits it.
pub fn validate(rule: &FaultRule) -> io::Result<()> {
    let invalid = |message: String| Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    if !rule.path_prefix.starts_with('/') {
        return invalid(format!("path_prefix must start with '/', not {:?}", rule.path_prefix));
    }
    if rule.path_prefix.starts_with("/_emulator") {
        return invalid("control paths under /_emulator cannot be faulted".to_string());
    }
    match &rule.action {
        FaultAction::Status { status, retry_after, .. } => {
            if !(100..=599).contains(status) || (100..200).contains(status) {
                return invalid(format!("status must be from 200 to 599, not {status}"));
            }
            if retry_after.as_deref().is_some_and(|v| v.is_empty() || v.contains(['\r', '\n'])) {
                return invalid("retry_after must be a non-empty single-line header value".to_string());
            }
        }
        FaultAction::Trickle { chunk_bytes: 0, .. } => return invalid("chunk_bytes must be at least 1".to_string()),
        FaultAction::Redirect { status, location } => {
            if *status != 307 && *status != 308 {
                return invalid(format!("redirect status must be 307 or 308, not {status}"));
            }
            check_redirect_location(location).or_else(invalid)?;
        }
        _ => {}
    }
    Ok(())
}

/// Accepts a same-origin path or an `http://` URL whose host is loopback,
/// because the emulator must never send a client to another machine.
fn check_redirect_location(location: &str) -> Result<(), String> {
    if location.starts_with('/') && !location.starts_with("//") {
        return Ok(());
    }
    let Some(rest) = location.strip_prefix("http://") else {
        return Err(format!("redirect location must be a path or an http:// loopback URL, not {location:?}"));
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback && !location.contains(['\r', '\n']) {
        Ok(())
    } else {
        Err(format!("redirect location must point at a loopback host, not {host:?}"))
    }
}

/// Builds the `Location` header value for a redirect of `target`.
pub fn redirect_location(base_url: &str, location: &str, target: &str) -> String {
    if location.starts_with('/') {
        return format!("{base_url}{location}");
    }
    let after_scheme = &location["http://".len()..];
    if after_scheme.contains('/') {
        location.to_string()
    } else {
        format!("{location}{target}")
    }
}

#[derive(Default)]
pub struct FaultTable {
    next_id: u64,
    rules: Vec<(u64, FaultRule)>,
}

impl FaultTable {
    pub fn add(&mut self, rule: FaultRule) -> u64 {
        self.next_id += 1;
        self.rules.push((self.next_id, rule));
        self.next_id
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn list(&self) -> Vec<(u64, FaultRule)> {
        self.rules.clone()
    }

    /// Takes one use of the first matching rule, dropping rules that are
    /// used up.
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        let index = self.rules.iter().position(|(_, rule)| rule.matches(method, path))?;
        let rule = &mut self.rules[index].1;
        rule.count -= 1;
        let action = rule.action.clone();
        if rule.count == 0 {
            self.rules.remove(index);
        }
        Some(action)
    }
}

/// One entry of the request log. Header values that could carry secrets
/// are reduced to facts about them.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    pub time: SystemTime,
    pub method: String,
    /// Path as sent, still percent-encoded.
    pub path: String,
    /// Query string as sent, without the `?`.
    pub query: String,
    /// Whether an Authorization header was present.
    pub has_authorization: bool,
    /// Scheme of the Authorization header, such as `Bearer` or `Basic`.
    pub authorization_scheme: Option<String>,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    /// Whether the body used chunked transfer coding.
    pub chunked: bool,
    pub user_agent: Option<String>,
    pub accept: Option<String>,
    /// Response status, or `None` when no response was sent.
    pub status: Option<u16>,
    /// The injected fault, by its control-endpoint name.
    pub fault: Option<String>,
    /// Time from reading the request head until the response was ready to
    /// send, so a stall before the response counts and a slow write does not.
    pub duration: Duration,
}

impl LoggedRequest {
    pub fn to_json(&self) -> Value {
        json!({
            "time": crate::util::iso_millis(self.time),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "has_authorization": self.has_authorization,
            "authorization_scheme": self.authorization_scheme,
            "content_type": self.content_type,
            "content_length": self.content_length,
            "chunked": self.chunked,
            "user_agent": self.user_agent,
            "accept": self.accept,
            "status": self.status,
            "fault": self.fault,
            "duration_ms": self.duration.as_millis() as u64,
        })
    }
}

pub struct RequestLog {
    entries: VecDeque<LoggedRequest>,
    capacity: usize,
}

impl RequestLog {
    /// Creates an empty log that keeps the latest `capacity` requests.
    pub fn new(capacity: usize) -> RequestLog {
        RequestLog { entries: VecDeque::new(), capacity }
    }

    pub fn push(&mut self, entry: LoggedRequest) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries.iter().cloned().collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Returns the name of an action as used by the control endpoint.
pub fn action_name(action: &FaultAction) -> &'static str {
    match action {
        FaultAction::Status { .. } => "status",
        FaultAction::Reset => "reset",
        FaultAction::StallBeforeResponse(_) => "stall",
        FaultAction::StallMidBody(_) => "stall_body",
        FaultAction::Trickle { .. } => "trickle",
        FaultAction::TruncatedBody => "truncate",
        FaultAction::InvalidJson => "invalid_json",
        FaultAction::OversizedBody { .. } => "oversized",
        FaultAction::Redirect { .. } => "redirect",
        FaultAction::RevokeTokens => "revoke_tokens",
        FaultAction::Pending => "pending",
    }
}

pub fn rule_to_json(id: u64, rule: &FaultRule) -> Value {
    let mut value = json!({
        "id": id,
        "path_prefix": rule.path_prefix,
        "method": rule.method,
        "count": rule.count,
        "action": action_name(&rule.action),
    });
    let millis = |d: &Duration| d.as_millis() as u64;
    match &rule.action {
        FaultAction::Status { status, retry_after, body } => {
            value["status"] = json!(status);
            value["retry_after"] = json!(retry_after);
            value["body"] = json!(body);
        }
        FaultAction::StallBeforeResponse(d) | FaultAction::StallMidBody(d) => value["stall_ms"] = json!(millis(d)),
        FaultAction::Trickle { chunk_bytes, delay } => {
            value["chunk_bytes"] = json!(chunk_bytes);
            value["delay_ms"] = json!(millis(delay));
        }
        FaultAction::OversizedBody { bytes } => value["bytes"] = json!(bytes),
        FaultAction::Redirect { status, location } => {
            value["status"] = json!(status);
            value["location"] = json!(location);
        }
        _ => {}
    }
    value
}

/// Parses a rule from the control endpoint's JSON, for example
/// `{"path_prefix": "/result/final", "method": "GET", "count": 2,
/// "action": "status", "status": 503, "retry_after": "1"}`.
pub fn rule_from_json(body: &Value) -> Result<FaultRule, String> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let number = |key: &str| body.get(key).and_then(Value::as_u64);
    let required = |key: &str| number(key).ok_or_else(|| format!("missing or invalid {key} (a whole number)"));
    let path_prefix = text("path_prefix").ok_or("missing path_prefix (a string starting with '/')")?;
    let count = match body.get("count") {
        None => 1,
        Some(value) => value.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or("count must be a whole number")?,
    };
    let action_text = text("action").ok_or("missing action")?;
    let millis = |key: &str| required(key).map(Duration::from_millis);
    let action = match action_text.as_str() {
        "status" => FaultAction::Status {
            status: u16::try_from(required("status")?).map_err(|_| "status is out of range")?,
            retry_after: match body.get("retry_after") {
                None | Some(Value::Null) => None,
                Some(Value::String(v)) => Some(v.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(_) => return Err("retry_after must be a string or number".to_string()),
            },
            body: text("body"),
        },
        "reset" => FaultAction::Reset,
        "stall" => FaultAction::StallBeforeResponse(millis("stall_ms")?),
        "stall_body" => FaultAction::StallMidBody(millis("stall_ms")?),
        "trickle" => FaultAction::Trickle {
            chunk_bytes: required("chunk_bytes")? as usize,
            delay: millis("delay_ms")?,
        },
        "truncate" => FaultAction::TruncatedBody,
        "invalid_json" => FaultAction::InvalidJson,
        "oversized" => FaultAction::OversizedBody { bytes: required("bytes")? },
        "redirect" => FaultAction::Redirect {
            status: number("status").unwrap_or(307) as u16,
            location: text("location").ok_or("missing location")?,
        },
        "revoke_tokens" => FaultAction::RevokeTokens,
        "pending" => FaultAction::Pending,
        other => {
            return Err(format!(
                "unknown action {other:?}; use status, reset, stall, stall_body, trickle, truncate, invalid_json, oversized, redirect, revoke_tokens or pending"
            ))
        }
    };
    Ok(FaultRule { path_prefix, method: text("method").map(|m| m.to_ascii_uppercase()), count, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_counts_down_and_matches_method() {
        let mut table = FaultTable::default();
        table.add(FaultRule::new("/result", FaultAction::Reset).method("GET").times(2));
        assert_eq!(table.take("POST", "/result/final/x"), None);
        assert_eq!(table.take("GET", "/fileupload"), None);
        assert_eq!(table.take("GET", "/result/final/x"), Some(FaultAction::Reset));
        assert_eq!(table.take("GET", "/result/final/x"), Some(FaultAction::Reset));
        assert_eq!(table.take("GET", "/result/final/x"), None);
        assert!(table.list().is_empty());
    }

    #[test]
    fn redirect_locations() {
        assert!(check_redirect_location("/result/final/x").is_ok());
        assert!(check_redirect_location("http://127.0.0.1:9/x").is_ok());
        assert!(check_redirect_location("http://[::1]:9").is_ok());
        assert!(check_redirect_location("http://localhost:9").is_ok());
        assert!(check_redirect_location("http://10.0.0.1/x").is_err());
        assert!(check_redirect_location("//evil.example/x").is_err());
        assert!(check_redirect_location("https://127.0.0.1/x").is_err());
        assert_eq!(redirect_location("http://b", "http://127.0.0.1:9", "/p?q=1"), "http://127.0.0.1:9/p?q=1");
        assert_eq!(redirect_location("http://b", "/other", "/p"), "http://b/other");
    }
}
