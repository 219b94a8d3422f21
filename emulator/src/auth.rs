//! Token endpoints and Bearer token checks.
//!
//! `/oauth2/token` follows the AWS Cognito client-credentials flow (HTTP
//! Basic plus a form body); `/oauth/token` follows the Auth0 flow with the
//! credentials in a JSON or form body. Each endpoint accepts only its own
//! credential pair. Tokens are HS256 JWTs signed with a random per-instance
//! key and tracked server-side, so revocation and expiry are exact.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::http::{BodyReader, Request, Response};
use crate::server::Shared;
use crate::util::{new_uuid, parse_form, stable_uuid, unix_seconds};

const MAX_TOKEN_BODY_BYTES: u64 = 64 * 1024;
const SCOPES: &str = "fileupload:all result:all validate:annotation";
const LEGACY_SCOPES: &str = "result:all fileupload:all administration:company";
/// Custom claim that carried the company id in legacy tokens.
const COMPANY_CLAIM: &str = "https://api.sypht.com/companyId";

/// The identity behind a valid Bearer token.
#[derive(Clone, Debug)]
pub struct Caller {
    pub client_id: String,
    pub company_id: String,
}

struct IssuedToken {
    caller: Caller,
    expires_at: Instant,
    revoked: bool,
}

#[derive(Default)]
pub struct TokenStore {
    tokens: HashMap<String, IssuedToken>,
}

pub enum TokenCheck {
    Valid(Caller),
    Unknown,
    Expired,
    Revoked,
}

impl TokenStore {
    pub fn revoke_all(&mut self) {
        for token in self.tokens.values_mut() {
            token.revoked = true;
        }
    }

    pub fn check(&self, token: &str) -> TokenCheck {
        match self.tokens.get(token) {
            None => TokenCheck::Unknown,
            Some(issued) if issued.revoked => TokenCheck::Revoked,
            Some(issued) if Instant::now() >= issued.expires_at => TokenCheck::Expired,
            Some(issued) => TokenCheck::Valid(issued.caller.clone()),
        }
    }
}

/// Returns the company id of a client: a stable UUID derived from its id,
/// so restarts of the emulator keep the same company.
pub fn company_id_for(client_id: &str) -> String {
    stable_uuid(&format!("sypht-emulator company {client_id}"))
}

/// Checks the `Authorization: Bearer` header. On failure returns the 401
/// response to send.
pub fn authenticate(shared: &Shared, request: &Request) -> Result<Caller, Response> {
    let unauthorized = |message: &str| {
        Response::error(401, "unauthorized", message).with_header("WWW-Authenticate", "Bearer realm=\"sypht-emulator\"")
    };
    let Some(header) = request.header("authorization") else {
        return Err(unauthorized("missing Authorization header; send 'Authorization: Bearer <access token>'"));
    };
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorized("Authorization header must use the Bearer scheme"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(unauthorized("Authorization header has an empty Bearer token"));
    }
    match shared.state().tokens.check(token) {
        TokenCheck::Valid(caller) => Ok(caller),
        TokenCheck::Unknown => Err(unauthorized("invalid access token; request a new token")),
        TokenCheck::Expired => Err(unauthorized("access token expired; request a new token")),
        TokenCheck::Revoked => Err(unauthorized("access token revoked; request a new token")),
    }
}

/// Handles `POST /oauth2/token`.
pub fn oauth2_token(shared: &Shared, request: &Request, body: &mut BodyReader) -> Response {
    shared.update_stats(|s| s.token_requests += 1);
    let invalid_client = |description: &str| oauth_error(400, "invalid_client", description);
    let Some(header) = request.header("authorization") else {
        return invalid_client("missing HTTP Basic client credentials in the Authorization header");
    };
    let (scheme, encoded) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return invalid_client("Authorization header must use the Basic scheme with client_id:client_secret");
    }
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return invalid_client("Basic credentials are not valid standard base64");
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return invalid_client("Basic credentials are not valid UTF-8");
    };
    let Some((client_id, client_secret)) = decoded.split_once(':') else {
        return invalid_client("Basic credentials must have the form client_id:client_secret");
    };
    let config = &shared.config;
    if client_id != config.client_id || !secrets_equal(client_secret, &config.client_secret) {
        return invalid_client("client authentication failed: unknown client id or wrong secret");
    }
    let form = match read_text_body(body) {
        Ok(text) => match parse_form(&text) {
            Some(form) => form,
            None => return oauth_error(400, "invalid_request", "form body has a malformed percent escape"),
        },
        Err(response) => return response,
    };
    let field = |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    if let Some(body_id) = field("client_id") {
        if body_id != client_id {
            return oauth_error(400, "invalid_request", "client_id in the body does not match the Basic credentials");
        }
    }
    // The API reference marks grant_type optional; when present it must be
    // client_credentials.
    if let Some(grant) = field("grant_type") {
        if grant != "client_credentials" {
            return oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials");
        }
    }
    let token = issue_token(shared, client_id, None, config.token_lifetime, SCOPES);
    Response::json(
        200,
        &json!({
            "access_token": token,
            "expires_in": config.token_lifetime.as_secs(),
            "token_type": "Bearer",
        }),
    )
}

/// Handles the legacy `POST /oauth/token`, whose body may be JSON or form.
pub fn legacy_token(shared: &Shared, request: &Request, body: &mut BodyReader) -> Response {
    shared.update_stats(|s| s.token_requests += 1);
    let text = match read_text_body(body) {
        Ok(text) => text,
        Err(response) => return response,
    };
    let content_type = request.header("content-type").unwrap_or("").to_ascii_lowercase();
    let fields = if content_type.starts_with("application/json") {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map,
            _ => return oauth_error(400, "invalid_request", "JSON body must be an object with string fields"),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        match parse_form(&text) {
            Some(form) => form.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>(),
            None => return oauth_error(400, "invalid_request", "form body has a malformed percent escape"),
        }
    } else {
        return oauth_error(
            400,
            "invalid_request",
            "Content-Type must be application/json or application/x-www-form-urlencoded",
        );
    };
    let field = |name: &str| fields.get(name).and_then(Value::as_str);
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(_) => return oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials"),
        None => return oauth_error(400, "invalid_request", "missing required parameter: grant_type"),
    }
    let (Some(client_id), Some(client_secret)) = (field("client_id"), field("client_secret")) else {
        return oauth_error(400, "invalid_request", "missing required parameters: client_id and client_secret");
    };
    let audience = match field("audience") {
        Some(audience) if !audience.is_empty() => audience.to_string(),
        _ => return oauth_error(400, "invalid_request", "missing required parameter: audience (use https://api.sypht.com)"),
    };
    let config = &shared.config;
    if client_id != config.legacy_client_id || !secrets_equal(client_secret, &config.legacy_client_secret) {
        return oauth_error(401, "access_denied", "Unauthorized");
    }
    let token = issue_token(shared, client_id, Some(&audience), config.legacy_token_lifetime, LEGACY_SCOPES);
    Response::json(
        200,
        &json!({
            "access_token": token,
            "expires_in": config.legacy_token_lifetime.as_secs(),
            "scope": LEGACY_SCOPES,
            "token_type": "Bearer",
        }),
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    Response::json(status, &json!({ "error": error, "error_description": description }))
}

fn read_text_body(body: &mut BodyReader) -> Result<String, Response> {
    let bytes = body.read_to_vec(MAX_TOKEN_BODY_BYTES).map_err(|error| {
        let mut response = oauth_error(400, "invalid_request", &format!("failed to read the request body: {error}"));
        response.close = true;
        response
    })?;
    String::from_utf8(bytes).map_err(|_| oauth_error(400, "invalid_request", "request body is not valid UTF-8"))
}

/// Compares secrets without an early exit on the first differing byte.
fn secrets_equal(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn issue_token(shared: &Shared, client_id: &str, audience: Option<&str>, lifetime: Duration, scope: &str) -> String {
    let company_id = company_id_for(client_id);
    let issued_at = unix_seconds(SystemTime::now());
    let mut claims = json!({
        "iss": shared.base_url,
        "sub": client_id,
        "client_id": client_id,
        "iat": issued_at,
        "exp": issued_at + lifetime.as_secs(),
        "jti": new_uuid(),
        "scope": scope,
        "token_use": "access",
        "gty": "client-credentials",
        COMPANY_CLAIM: company_id,
    });
    if let Some(audience) = audience {
        claims["aud"] = Value::String(audience.to_string());
    }
    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": "sypht-emulator" });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = hmac_sha256(&shared.token_key, signing_input.as_bytes());
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
    let issued = IssuedToken {
        caller: Caller { client_id: client_id.to_string(), company_id },
        expires_at: Instant::now() + lifetime,
        revoked: false,
    };
    shared.state().tokens.tokens.insert(token.clone(), issued);
    shared.update_stats(|s| s.tokens_issued += 1);
    token
}

/// HMAC-SHA256 as in RFC 2104, with a key no longer than the block size.
fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut inner_pad = [0x36u8; BLOCK];
    let mut outer_pad = [0x5cu8; BLOCK];
    for (i, byte) in key.iter().enumerate() {
        inner_pad[i] ^= byte;
        outer_pad[i] ^= byte;
    }
    let inner = Sha256::new().chain_update(inner_pad).chain_update(message).finalize();
    Sha256::new().chain_update(outer_pad).chain_update(inner).finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; pad it to 32 bytes with
        // zeros, which HMAC does anyway for short keys.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac_sha256(&key, b"what do ya want for nothing?");
        assert_eq!(
            crate::util::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
