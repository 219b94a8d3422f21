//! OAuth2 client-credentials tokens: fetching from either token endpoint,
//! caching, and single-flight refresh.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

use crate::config::{AuthFlow, Config, Secret};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Agents, RequestBody};
use crate::retry::{is_retryable_status, Attempts};

/// Lifetime assumed when the token response gives neither `expires_in` nor
/// a JWT `exp` claim.
pub(crate) const FALLBACK_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Upper bound of the refresh margin.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// A bearer token and the instant from which it must no longer be used.
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) value: Arc<Secret>,
    pub(crate) refresh_at: Instant,
}

/// The margin subtracted from a token's lifetime: a tenth of it, at most
/// 30 s, so a 1 h token is reused for 59.5 min and a 2 s token for 1.8 s.
pub(crate) fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(MAX_REFRESH_MARGIN)
}

struct State {
    token: Option<Token>,
    refreshing: bool,
    /// Number of finished fetches, successful or not.
    generation: u64,
    /// The error of the last fetch, with its generation.
    last_error: Option<(u64, Error)>,
}

/// Caches one token; when it must be refreshed, exactly one caller fetches
/// while the others wait for that fetch's outcome.
pub(crate) struct TokenCache {
    state: Mutex<State>,
    changed: Condvar,
}

impl TokenCache {
    pub(crate) fn new() -> TokenCache {
        TokenCache {
            state: Mutex::new(State { token: None, refreshing: false, generation: 0, last_error: None }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave `State` inconsistent
        // (every field is written in one step), so a poisoned lock is reused.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns a valid token, calling `fetch` at most once per refresh
    /// across all threads.
    pub(crate) fn get(&self, fetch: impl FnOnce() -> Result<Token>) -> Result<Arc<Secret>> {
        let mut state = self.lock();
        let started_at_generation = state.generation;
        loop {
            if let Some(token) = &state.token {
                if Instant::now() < token.refresh_at {
                    return Ok(token.value.clone());
                }
            }
            if let Some((generation, err)) = &state.last_error {
                if *generation > started_at_generation {
                    // A fetch this caller waited for failed: share its error
                    // rather than start a burst of retries.
                    return Err(err.clone());
                }
            }
            if !state.refreshing {
                break;
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.refreshing = true;
        drop(state);

        // The guard clears `refreshing` and wakes waiters even if `fetch`
        // panics, so no thread waits forever.
        let mut guard = RefreshGuard { cache: self, outcome: None };
        let outcome = fetch();
        guard.outcome = Some(match &outcome {
            Ok(token) => Ok(token.clone()),
            Err(err) => Err(err.clone()),
        });
        drop(guard);
        outcome.map(|t| t.value)
    }

    /// Drops the cached token if it is still `rejected`, so the next call
    /// fetches a new one. A token already replaced by another thread stays.
    pub(crate) fn invalidate(&self, rejected: &Arc<Secret>) {
        let mut state = self.lock();
        if let Some(token) = &state.token {
            if Arc::ptr_eq(&token.value, rejected) {
                state.token = None;
            }
        }
    }

    /// Drops any cached token and wipes it.
    pub(crate) fn clear(&self) {
        self.lock().token = None;
    }
}

struct RefreshGuard<'a> {
    cache: &'a TokenCache,
    outcome: Option<Result<Token>>,
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.cache.lock();
        state.refreshing = false;
        state.generation += 1;
        match self.outcome.take() {
            Some(Ok(token)) => {
                state.token = Some(token);
                state.last_error = None;
            }
            Some(Err(err)) => state.last_error = Some((state.generation, err)),
            None => {
                let err = Error::internal("the token fetch panicked");
                state.last_error = Some((state.generation, err));
            }
        }
        drop(state);
        self.cache.changed.notify_all();
    }
}

/// Requests a new token from the configured endpoint, retrying on
/// connection failures and on 429, 502, 503 and 504.
pub(crate) fn fetch_token(agents: &Agents, config: &Config) -> Result<Token> {
    let secret = config.credentials.client_secret.expose();
    let url = config.auth_endpoint.as_str();
    let mut attempts = Attempts::new(config.retry, config.call_deadline);
    loop {
        let timeout = attempts.next_timeout(config.request_timeout, "the token request")?;
        let sent_at = Instant::now();
        let agent = agents.for_url(url, config);
        let outcome = send_token_request(&agent, config, timeout).and_then(|response| {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(crate::retry::parse_retry_after);
            let body = http::read_body(response, 1024 * 1024, url)?;
            Ok((status, retry_after, body))
        });
        let (status, retry_after, body) = match outcome {
            Ok(answer) => answer,
            Err(err) if err.kind() == ErrorKind::Network && attempts.wait_for_retry(None) => {
                let err = err.redact(&[secret]);
                crate::log::warn(&format!("token request failed ({err}); retrying"));
                continue;
            }
            Err(err) => {
                let err = err.redact(&[secret]);
                crate::log::error(&format!("token request failed: {err}"));
                return Err(err);
            }
        };
        if is_retryable_status(status) && attempts.wait_for_retry(retry_after) {
            crate::log::warn(&format!("token request returned HTTP {status}; retrying"));
            continue;
        }
        return match parse_token_response(status, &body, url) {
            Ok((value, lifetime)) => {
                crate::log::info(&format!("fetched an access token valid for {:.0} s", lifetime.as_secs_f64()));
                Ok(Token {
                    value: Arc::new(Secret::new(value)),
                    refresh_at: sent_at + lifetime.saturating_sub(refresh_margin(lifetime)),
                })
            }
            Err(err) => {
                let err = err.redact(&[secret]);
                crate::log::error(&err.to_string());
                Err(err)
            }
        };
    }
}

fn send_token_request(
    agent: &ureq::Agent,
    config: &Config,
    timeout: Duration,
) -> Result<ureq::http::Response<ureq::Body>> {
    let creds = &config.credentials;
    let secret = creds.client_secret.expose();
    let url = config.auth_endpoint.as_str();
    let started = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let response = match config.auth_flow {
        AuthFlow::Legacy => {
            let body = serde_json::json!({
                "client_id": creds.client_id,
                "client_secret": secret,
                "audience": config.audience,
                "grant_type": "client_credentials",
            });
            let data = serde_json::to_vec(&body).map_err(|e| Error::internal(e.to_string()))?;
            http::send(
                agent,
                "POST",
                url,
                &[("Accept", "application/json")],
                RequestBody::Bytes { data, content_type: "application/json" },
                Some(timeout),
                &started,
            )
        }
        // `Auto` was resolved when the configuration was built.
        AuthFlow::Current | AuthFlow::Auto => {
            let mut basic = format!("{}:{}", creds.client_id, secret);
            let mut header = format!("Basic {}", STANDARD.encode(basic.as_bytes()));
            crate::config::wipe(&mut basic);
            let form = http::encode_form(&[
                ("client_id", creds.client_id.as_str()),
                ("grant_type", "client_credentials"),
            ]);
            let result = http::send(
                agent,
                "POST",
                url,
                &[("Authorization", header.as_str()), ("Accept", "application/json")],
                RequestBody::Bytes { data: form.into_bytes(), content_type: "application/x-www-form-urlencoded" },
                Some(timeout),
                &started,
            );
            crate::config::wipe(&mut header);
            result
        }
    };
    response.map_err(|e| e.redact(&[secret]))
}

/// Parses a token endpoint answer into the token and its lifetime.
pub(crate) fn parse_token_response(status: u16, body: &[u8], url: &str) -> Result<(String, Duration)> {
    let auth_error = |detail: String| {
        let mut err = Error::new(ErrorKind::Auth, format!("token request to {url} failed: {detail}"));
        if status != 200 {
            err = err.with_http_status(status);
        }
        err
    };
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let has_error_field = json.as_ref().map(|j| j.get("error").is_some()).unwrap_or(false);
    if !(200..300).contains(&status) || has_error_field {
        let detail = http::server_message(body);
        let detail = if detail.is_empty() { "empty body".to_string() } else { detail };
        return Err(auth_error(format!("HTTP {status}: {detail}")));
    }
    let Some(Value::Object(map)) = json else {
        return Err(auth_error(format!(
            "HTTP {status} with a body that is not a JSON object: {}",
            http::server_message(body)
        )));
    };
    let token = match map.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        Some(_) => return Err(auth_error("the response's access_token is not a non-empty string".into())),
        None => return Err(auth_error("the response has no access_token".into())),
    };
    if token.chars().any(|c| c.is_control() || c == ' ') {
        return Err(auth_error("the response's access_token contains spaces or control characters".into()));
    }
    let lifetime = match map.get("expires_in") {
        None | Some(Value::Null) => jwt_lifetime(&token).unwrap_or(FALLBACK_TOKEN_LIFETIME),
        Some(value) => parse_expires_in(value).ok_or_else(|| {
            auth_error(format!(
                "the response's expires_in {} is not a positive number of seconds",
                crate::error::sanitize_server_text(&value.to_string())
            ))
        })?,
    };
    Ok((token, lifetime))
}

/// Reads `expires_in` given as a number, a float or a numeric string.
fn parse_expires_in(value: &Value) -> Option<Duration> {
    let secs = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if secs.is_finite() && secs > 0.0 && secs < 1e9 {
        Some(Duration::from_secs_f64(secs))
    } else {
        None
    }
}

/// The remaining lifetime from a JWT's `exp` claim, if the token is a JWT.
fn jwt_lifetime(token: &str) -> Option<Duration> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    if exp > now {
        Some(Duration::from_secs_f64(exp - now))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn expires_in_shapes() {
        let ok = |body: &str| parse_token_response(200, body.as_bytes(), "u").unwrap().1;
        assert_eq!(ok(r#"{"access_token":"t","expires_in":60}"#), Duration::from_secs(60));
        assert_eq!(ok(r#"{"access_token":"t","expires_in":"60"}"#), Duration::from_secs(60));
        assert_eq!(ok(r#"{"access_token":"t","expires_in":1.5}"#), Duration::from_millis(1500));
        assert_eq!(ok(r#"{"access_token":"t"}"#), FALLBACK_TOKEN_LIFETIME);
        let err = parse_token_response(200, br#"{"access_token":"t","expires_in":"soon"}"#, "u").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(err.message().contains("expires_in"));
    }

    #[test]
    fn error_bodies_become_auth_errors() {
        let err = parse_token_response(400, br#"{"error":"invalid_client"}"#, "u").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(err.http_status(), Some(400));
        assert!(err.message().contains("invalid_client"));
        let err = parse_token_response(502, b"<html>bad gateway</html>", "u").unwrap_err();
        assert!(err.message().contains("bad gateway"));
        let err = parse_token_response(200, b"not json", "u").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
    }

    #[test]
    fn margin_works_for_short_lifetimes() {
        assert_eq!(refresh_margin(Duration::from_secs(2)), Duration::from_millis(200));
        assert_eq!(refresh_margin(Duration::from_secs(3600)), Duration::from_secs(30));
    }

    #[test]
    fn single_flight_under_contention() {
        let cache = Arc::new(TokenCache::new());
        let fetches = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                let fetches = fetches.clone();
                std::thread::spawn(move || {
                    cache
                        .get(|| {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                            Ok(Token {
                                value: Arc::new(Secret::new("tok".into())),
                                refresh_at: Instant::now() + Duration::from_secs(60),
                            })
                        })
                        .unwrap()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().expose(), "tok");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn waiters_share_a_failed_fetch() {
        let cache = Arc::new(TokenCache::new());
        let fetches = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                let fetches = fetches.clone();
                std::thread::spawn(move || {
                    cache.get(|| {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        Err(Error::new(ErrorKind::Auth, "denied"))
                    })
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap_err().kind(), ErrorKind::Auth);
        }
        // Threads that arrived while the first fetch ran share its error; a
        // thread scheduled after it finished may fetch again.
        assert!(fetches.load(Ordering::SeqCst) <= 2, "{}", fetches.load(Ordering::SeqCst));
    }
}
