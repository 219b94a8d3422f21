//! Internal parsers exposed for the fuzz targets in `fuzz/`. Compiled only
//! with the `fuzzing` cargo feature; not part of the supported API.

use std::time::Duration;

use crate::error::Result;

/// Parses a token endpoint response into the token and its lifetime.
pub fn parse_token_response(status: u16, body: &[u8]) -> Result<(String, Duration)> {
    crate::auth::parse_token_response(status, body, "https://fuzz.invalid/oauth2/token")
}

/// Extracts the readable message from an error body.
pub fn server_message(body: &[u8]) -> String {
    crate::http::server_message(body)
}

/// Builds the error of a non-2xx response.
pub fn status_error(status: u16, body: &[u8]) -> crate::Error {
    crate::http::status_error(status, "GET", "/fuzz", body)
}

/// Makes server text safe to show in a message.
pub fn sanitize_server_text(text: &str) -> String {
    crate::error::sanitize_server_text(text)
}

/// Parses a `Retry-After` header value.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    crate::retry::parse_retry_after(value)
}

/// Parses `client_id:client_secret`; returns the client id.
pub fn parse_api_key(value: &str) -> Result<String> {
    crate::config::parse_api_key(value, "SYPHT_API_KEY").map(|c| c.client_id)
}

/// Removes `secrets` from a response body.
pub fn scrub_secrets(body: &mut Vec<u8>, secrets: &[&str]) {
    crate::http::scrub_secrets(body, secrets)
}

/// Matches a host against a comma-separated `NO_PROXY` value.
pub fn matches_no_proxy(host: &str, no_proxy: &str) -> bool {
    let entries: Vec<String> = no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .collect();
    crate::http::matches_no_proxy(host, &entries)
}

/// Reads a results response the way `sypht_get_results` does: the field
/// map JSON when finalised, `None` while pending.
pub fn results_field_json(body: &[u8]) -> Result<Option<String>> {
    match crate::client::field_map_json_poll(body, "/result/final/fuzz", "fuzz")? {
        crate::client::Poll::Done(json) => Ok(Some(json)),
        crate::client::Poll::Pending(_) => Ok(None),
    }
}

/// Reads a results response the way `get_results` does: the field map
/// when finalised, `None` while pending.
pub fn results_field_map(body: &[u8]) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let response = crate::client::parse_results(body, "/result/final/fuzz", "fuzz")?;
    if !response.is_finalised() {
        return Ok(None);
    }
    response.field_values().map(Some)
}
