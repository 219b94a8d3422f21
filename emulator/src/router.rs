//! Maps method and path to a handler, applying Bearer authentication.
//!
//! Each path segment is percent-decoded on its own, so `%2F` inside an id
//! stays part of that id. A trailing slash is ignored.

use serde_json::{json, Value};

use crate::auth::{self, Caller};
use crate::http::{BodyReader, Request, Response};
use crate::server::Shared;
use crate::util::{iso_millis, percent_decode};
use crate::{annotations, entities, files, results, tags, upload, workflows};

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
        ["fileupload", "json"] => pick(method, Bearer, &[("POST", |c| upload::upload_json(c.shared, authed(&c.caller), c.body))]),
        ["fileupload", "v2", "multipart"] => {
            pick(method, Bearer, &[("POST", |c| upload::upload_v2(c.shared, authed(&c.caller), c.request, c.body))])
        }
        ["result", "final", _] => pick(method, Bearer, &[("GET", result_final)]),
        ["result", "image", _] => pick(method, Bearer, &[("GET", files::result_image)]),
        ["app", "docs", _] => pick(method, Bearer, &[("GET", files::doc_metadata)]),
        ["app", "docs", _, "download"] => pick(method, Bearer, &[("GET", files::doc_download)]),
        ["app", "docs", _, "companyannotation", _, "data"] => pick(method, Bearer, &[("PUT", annotations::upload)]),
        ["app", "company", "byclientid", _] => pick(method, Bearer, &[("GET", files::company_by_client_id)]),
        ["app", "company", _, "tags"] => pick(method, Bearer, &[("POST", tags::create_tag)]),
        ["app", "company", _, "tags", _] => pick(method, Bearer, &[("GET", tags::get_tag), ("DELETE", tags::delete_tag)]),
        ["app", "company", _, "tags", _, "documents"] => pick(
            method,
            Bearer,
            &[("GET", tags::get_tag_documents), ("PUT", tags::put_tag_documents), ("PATCH", tags::patch_tag_documents)],
        ),
        ["app", "company", _, "tags", _, "documents", _] => pick(method, Bearer, &[("DELETE", tags::delete_tag_document)]),
        ["app", "company", _, "documents", _, "tags"] => pick(
            method,
            Bearer,
            &[("GET", tags::get_document_tags), ("PUT", tags::put_document_tags), ("PATCH", tags::patch_document_tags)],
        ),
        ["app", "company", _, "tasks", "tags", "batch"] => pick(method, Bearer, &[("POST", tags::batch_task_tags)]),
        ["app", "company", _, "tasks", _, "tags"] => pick(method, Bearer, &[("GET", tags::get_task_tags)]),
        ["app", "annotations"] => pick(method, Bearer, &[("GET", annotations::list)]),
        ["app", "annotations", "search"] => pick(method, Bearer, &[("POST", annotations::search)]),
        ["app", "specifications"] => pick(method, Bearer, &[("POST", annotations::upsert_specification)]),
        ["app", "tasks"] => pick(method, Bearer, &[("POST", annotations::create_task)]),
        ["storage", _, "entity", _, _] => pick(
            method,
            Bearer,
            &[("PUT", entities::put_entity), ("GET", entities::get_entity), ("DELETE", entities::delete_entity)],
        ),
        ["storage", _, "bulkentity", _] => pick(method, Bearer, &[("POST", entities::bulk_put)]),
        ["storage", _, "entitysearch", _] => pick(method, Bearer, &[("GET", entities::list_ids), ("POST", entities::search)]),
        ["storage", _, "entitysearch", _, "by_id"] => pick(method, Bearer, &[("POST", entities::get_by_ids)]),
        ["workflows", _, "jobs"] => pick(method, Bearer, &[("POST", workflows::create_job)]),
        ["workflows", _, "invoke"] => pick(method, Bearer, &[("POST", workflows::invoke)]),
        ["workflows", _, "rules", _] => pick(
            method,
            Bearer,
            &[("GET", workflows::get_rules), ("PUT", workflows::put_rules), ("DELETE", workflows::delete_rules)],
        ),
        ["workflows", _, "data", _] => pick(method, Bearer, &[("GET", workflows::get_data), ("PUT", workflows::put_data)]),
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

/// Limit on JSON request bodies other than uploads.
pub const MAX_JSON_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// Reads the body as JSON. The Content-Type is not checked, because the
/// Python client sends workflow calls without one.
pub fn read_json(ctx: &mut Ctx) -> Result<Value, Response> {
    let bytes = ctx.body.read_to_vec(MAX_JSON_BODY_BYTES).map_err(|error| {
        let mut response = Response::error(400, "invalid_body", &format!("failed to read the request body: {error}"));
        response.close = true;
        response
    })?;
    if bytes.is_empty() {
        return Err(Response::error(400, "invalid_body", "request body is empty; send a JSON document"));
    }
    serde_json::from_slice(&bytes)
        .map_err(|error| Response::error(400, "invalid_json", &format!("request body is not valid JSON: {error}")))
}

/// Reads the body as a JSON object.
pub fn read_json_object(ctx: &mut Ctx) -> Result<serde_json::Map<String, Value>, Response> {
    match read_json(ctx)? {
        Value::Object(map) => Ok(map),
        _ => Err(Response::error(400, "invalid_body", "request body must be a JSON object")),
    }
}

/// Checks that a company id from the path is the caller's company.
pub fn require_company(ctx: &Ctx, company_id: &str) -> Result<(), Response> {
    if ctx.caller().company_id == company_id {
        Ok(())
    } else {
        Err(Response::error(
            403,
            "forbidden",
            &format!("company {company_id} is not the company of this access token; use the id from /app/company/byclientid"),
        ))
    }
}

pub fn bad_request(error: &str, message: &str) -> Response {
    Response::error(400, error, message)
}

/// Reads an array of strings from `object[key]`. Returns `Ok(None)` when
/// the key is absent and `optional` is set.
pub fn string_array(object: &serde_json::Map<String, Value>, key: &str, optional: bool) -> Result<Option<Vec<String>>, Response> {
    let invalid = || bad_request("invalid_field", &format!("{key} must be an array of strings"));
    match object.get(key) {
        None if optional => Ok(None),
        None => Err(bad_request("missing_field", &format!("missing required field {key} (an array of strings)"))),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(invalid))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid()),
    }
}

/// Reads a non-empty string from `object[key]`.
pub fn required_string(object: &serde_json::Map<String, Value>, key: &str) -> Result<String, Response> {
    match object.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::String(_)) => Err(bad_request("invalid_field", &format!("{key} must not be empty"))),
        Some(_) => Err(bad_request("invalid_field", &format!("{key} must be a string"))),
        None => Err(bad_request("missing_field", &format!("missing required field {key}"))),
    }
}

/// Unwraps a handler step, returning its error response from the handler.
#[macro_export]
macro_rules! try_response {
    ($expr:expr) => {
        match $expr {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}
