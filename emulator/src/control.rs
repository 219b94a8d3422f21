//! Test-only control endpoint under `/_emulator/`, on the API port and
//! without authentication. It exposes fault injection, the request log,
//! counters, token revocation and the pending-poll setting.

use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use crate::faults::{rule_from_json, rule_to_json, validate};
use crate::http::{BodyReader, Request, Response};
use crate::server::Shared;

const MAX_CONTROL_BODY_BYTES: u64 = 1024 * 1024;

fn read_body(body: &mut BodyReader) -> Result<Value, Response> {
    let bytes = body
        .read_to_vec(MAX_CONTROL_BODY_BYTES)
        .map_err(|error| Response::error(400, "invalid_body", &format!("failed to read the request body: {error}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|error| Response::error(400, "invalid_json", &format!("request body is not valid JSON: {error}")))
}

fn stats_json(shared: &Shared) -> Value {
    let stats = shared.stats();
    json!({
        "token_requests": stats.token_requests,
        "tokens_issued": stats.tokens_issued,
        "requests": stats.requests,
        "uploads": stats.uploads,
        "result_requests": stats.result_requests,
    })
}

pub fn handle(shared: &Shared, request: &Request, body: &mut BodyReader) -> Response {
    let path = request.path.trim_end_matches('/');
    let method = request.method.as_str();
    let allowed = match path {
        "/_emulator/stats" => "GET",
        "/_emulator/faults" => "GET, POST, DELETE",
        "/_emulator/requests" => "GET, DELETE",
        "/_emulator/revoke-tokens" => "POST",
        "/_emulator/pending-polls" => "PUT, POST",
        _ => return Response::error(404, "not_found", &format!("no control endpoint at {}", request.path)),
    };
    match (path, method) {
        ("/_emulator/stats", "GET") => Response::json(200, &stats_json(shared)),
        ("/_emulator/faults", "GET") => {
            let rules: Vec<Value> = shared.faults().list().iter().map(|(id, rule)| rule_to_json(*id, rule)).collect();
            Response::json(200, &json!({ "faults": rules }))
        }
        ("/_emulator/faults", "POST") => {
            let value = match read_body(body) {
                Ok(value) => value,
                Err(response) => return response,
            };
            let rule = match rule_from_json(&value) {
                Ok(rule) => rule,
                Err(message) => return Response::error(400, "invalid_fault", &message),
            };
            if let Err(error) = validate(&rule) {
                return Response::error(400, "invalid_fault", &error.to_string());
            }
            let id = shared.faults().add(rule.clone());
            shared.log(&format!("fault {id} added: {}", rule_to_json(id, &rule)));
            Response::json(200, &rule_to_json(id, &rule))
        }
        ("/_emulator/faults", "DELETE") => {
            shared.faults().clear();
            Response::json(200, &json!({ "faults": [] }))
        }
        ("/_emulator/requests", "GET") => {
            let entries: Vec<Value> = shared.request_log().entries().iter().map(|e| e.to_json()).collect();
            Response::json(200, &json!({ "requests": entries }))
        }
        ("/_emulator/requests", "DELETE") => {
            shared.request_log().clear();
            Response::json(200, &json!({ "requests": [] }))
        }
        ("/_emulator/revoke-tokens", "POST") => {
            shared.revoke_tokens();
            Response::json(200, &json!({ "revoked": true }))
        }
        ("/_emulator/pending-polls", "PUT" | "POST") => {
            let value = match read_body(body) {
                Ok(value) => value,
                Err(response) => return response,
            };
            let Some(n) = value.get("pending_polls").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()) else {
                return Response::error(400, "invalid_field", "send {\"pending_polls\": N} with a whole number N");
            };
            shared.pending_polls.store(n, Ordering::SeqCst);
            Response::json(200, &json!({ "pending_polls": n }))
        }
        _ => Response::error(405, "method_not_allowed", &format!("method {method} is not allowed on {path}; allowed: {allowed}"))
            .with_header("Allow", allowed),
    }
}
