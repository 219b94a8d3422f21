//! Maps method and path to a handler, applying Bearer authentication.
//!
//! Each path segment is percent-decoded on its own, so `%2F` inside an id
//! stays part of that id. A trailing slash is ignored.

use serde_json::{json, Value};

use crate::auth::{self, Caller};
use crate::http::{BodyReader, Request, Response};
use crate::server::Shared;
use crate::util::{iso_millis, percent_decode};
use crate::{results, upload};

/// Everything a handler needs for one request.
pub struct Ctx<'a, 'b> {
    pub shared: &'a Shared,
    pub request: &'a Request,
    pub body: &'a mut BodyReader<'b>,
    /// Decoded path segments.
    pub segments: Vec<String>,
    /// Set for endpoints that require a Bearer token.
    pub caller: Option<Caller>,
}

impl Ctx<'_, '_> {
    pub fn segment(&self, index: usize) -> &str {
        &self.segments[index]
    }

    pub fn caller(&self) -> &Caller {
        authed(&self.caller)
    }
}

/// Returns the caller of an endpoint registered with `Access::Bearer`.
pub fn authed(caller: &Option<Caller>) -> &Caller {
    caller.as_ref().expect("handler registered as authenticated")
}

type Handler = fn(&mut Ctx) -> Response;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Public,
    Bearer,
}

enum Route {
    Found(Handler, Access),
    WrongMethod(Vec<&'static str>),
    NotFound,
}

fn pick(method: &str, access: Access, table: &[(&'static str, Handler)]) -> Route {
    match table.iter().find(|(m, _)| *m == method) {
        Some((_, handler)) => Route::Found(*handler, access),
        None => Route::WrongMethod(table.iter().map(|(m, _)| *m).collect()),
    }
}

fn resolve(method: &str, segments: &[&str]) -> Route {
    use Access::{Bearer, Public};
    match segments {
        ["oauth2", "token"] => pick(method, Public, &[("POST", |c| auth::oauth2_token(c.shared, c.request, c.body))]),
        ["oauth", "token"] => pick(method, Public, &[("POST", |c| auth::legacy_token(c.shared, c.request, c.body))]),
        ["fileupload"] => pick(method, Bearer, &[("POST", |c| upload::upload_v1(c.shared, authed(&c.caller), c.request, c.body))]),
        ["result", "final", _] => pick(method, Bearer, &[("GET", result_final)]),
        _ => Route::NotFound,
    }
}

fn is_upload_path(segments: &[&str]) -> bool {
    segments.first() == Some(&"fileupload")
}

/// Decodes the path into segments, or returns `None` for a malformed
/// escape.
pub fn decode_segments(path: &str) -> Option<Vec<String>> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Some(Vec::new());
    }
    trimmed.split('/').map(percent_decode).collect()
}

pub fn handle(shared: &Shared, request: &Request, body: &mut BodyReader) -> Response {
    let Some(segments) = decode_segments(&request.path) else {
        return Response::error(400, "bad_request", "request path has a malformed percent escape or is not UTF-8");
    };
    let segment_refs: Vec<&str> = segments.iter().map(String::as_str).collect();
    shared.update_stats(|s| {
        s.requests += 1;
        if is_upload_path(&segment_refs) && request.method == "POST" {
            s.uploads += 1;
        }
        if segment_refs.starts_with(&["result", "final"]) && request.method == "GET" {
            s.result_requests += 1;
        }
    });
    let (handler, access) = match resolve(&request.method, &segment_refs) {
        Route::Found(handler, access) => (handler, access),
        Route::WrongMethod(allowed) => {
            let message = format!("method {} is not allowed on {}; allowed: {}", request.method, request.path, allowed.join(", "));
            return Response::error(405, "method_not_allowed", &message).with_header("Allow", &allowed.join(", "));
        }
        Route::NotFound => {
            return Response::error(404, "not_found", &format!("no endpoint at {}", request.path));
        }
    };
    let caller = match access {
        Access::Public => None,
        Access::Bearer => match auth::authenticate(shared, request) {
            Ok(caller) => Some(caller),
            Err(response) => return response,
        },
    };
    let mut ctx = Ctx { shared, request, body, segments, caller };
    handler(&mut ctx)
}

pub fn not_found(kind: &str, id: &str) -> Response {
    Response::error(404, "not_found", &format!("{kind} not found: {id}"))
}

/// Handles `GET /result/final/{fileId}`.
fn result_final(ctx: &mut Ctx) -> Response {
    let file_id = ctx.segment(2).to_string();
    let verbose = ctx.request.query_value("verbose").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if let Some(timeout) = ctx.request.query_value("timeout") {
        if timeout.parse::<u64>().is_err() {
            return Response::error(400, "invalid_parameter", "timeout must be a whole number of milliseconds");
        }
    }
    let company_id = ctx.caller().company_id.clone();
    let pending_status = ctx.shared.config.pending_status;
    let mut state = ctx.shared.state();
    let Some(record) = state.files.get_mut(&file_id).filter(|r| r.company_id == company_id) else {
        return not_found("file", &file_id);
    };
    let products = match &record.processing {
        crate::state::Processing::NotStarted => {
            // A v2 upload waits for a workflow job before anything runs.
            return Response::json(200, &json!({ "fileId": file_id, "status": "RECEIVED" }));
        }
        crate::state::Processing::Extract { products } => products.clone(),
        crate::state::Processing::Split { .. } => Vec::new(),
    };
    if record.pending_polls_left > 0 {
        record.pending_polls_left -= 1;
        return Response::json(pending_status, &json!({ "fileId": file_id, "status": "IN PROGRESS" }));
    }
    let finalised_at = *record.finalised_at.get_or_insert_with(std::time::SystemTime::now);
    let document = std::sync::Arc::clone(&record.document);
    let children = match &record.processing {
        crate::state::Processing::Split { children } => Some(children.clone()),
        _ => None,
    };
    drop(state);
    // The ids were checked at upload, so parsing cannot fail here.
    let products = results::check_products(&products).unwrap_or_default();
    let mut fields = Vec::new();
    if let Some(children) = children {
        let value: Vec<Value> = children.iter().map(|id| json!({ "file_id": id })).collect();
        fields.push(json!({ "name": "components.children", "value": value, "confidence": 1.0, "boundingBox": null }));
    }
    fields.extend(results::build_fields(&document, &products, verbose));
    Response::json(
        200,
        &json!({
            "fileId": file_id,
            "status": "FINALISED",
            "results": { "timestamp": iso_millis(finalised_at), "fields": fields },
        }),
    )
}
