//! Workflows v2 (`/workflows/{workflowId}/jobs` and `/invoke`), smart
//! split, validation rules and workflow data.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{json, Map, Value};

use crate::http::Response;
use crate::results::{build_fields, check_products};
use crate::router::{bad_request, not_found, read_json_object, require_company, Ctx};
use crate::state::{FileRecord, Processing, State};
use crate::try_response;
use crate::util::{iso_micros_naive, new_uuid, stable_uuid};

/// Most children a split produces; a document gets one child per page up
/// to this count.
const MAX_SPLIT_CHILDREN: u32 = 4;

/// Splits a stored file into child files, each with its own results for
/// `child_products`, and marks the parent's results as the child list.
/// Child ids derive from the parent id, so a repeated split returns the
/// same children.
pub fn split_file(state: &mut State, parent_id: &str, child_products: Vec<String>, pending_polls: u32) -> Vec<String> {
    let Some(parent) = state.files.get(parent_id) else {
        return Vec::new();
    };
    let count = parent.document.page_count.clamp(1, MAX_SPLIT_CHILDREN);
    let children: Vec<FileRecord> = (1..=count)
        .map(|n| FileRecord {
            file_id: stable_uuid(&format!("split child {n} of {parent_id}")),
            company_id: parent.company_id.clone(),
            file_name: format!("{}-part-{n}", parent.file_name),
            uploaded_at: SystemTime::now(),
            // NOTE: children share the parent's bytes, so their downloads,
            // sizes and hashes are the parent's rather than a page range.
            document: Arc::clone(&parent.document),
            processing: Processing::Extract { products: child_products.clone() },
            workflow_id: None,
            workflow_options: None,
            tags: Vec::new(),
            parent_doc_id: Some(parent_id.to_string()),
            extra_fields: vec![("splitState".to_string(), "created_by_split".to_string())],
            pending_polls_left: pending_polls,
            finalised_at: None,
        })
        .collect();
    let ids: Vec<String> = children.iter().map(|c| c.file_id.clone()).collect();
    for child in children {
        state.files.entry(child.file_id.clone()).or_insert(child);
    }
    if let Some(parent) = state.files.get_mut(parent_id) {
        parent.processing = Processing::Split { children: ids.clone() };
        parent.pending_polls_left = pending_polls;
        parent.finalised_at = None;
    }
    ids
}

struct JobRequest {
    workflow_id: String,
    inputs: Map<String, Value>,
    step_id: Value,
    file_id: String,
}

/// Validates the body of a jobs or invoke call for a built-in workflow.
fn parse_job(ctx: &mut Ctx) -> Result<JobRequest, Response> {
    let workflow_id = ctx.segment(1).to_string();
    if !matches!(workflow_id.as_str(), "sypht.extract" | "sypht.split" | "sypht.validate") {
        return Err(Response::error(
            404,
            "not_found",
            &format!("workflow not found: {workflow_id}; built-in workflows are sypht.extract, sypht.split and sypht.validate"),
        ));
    }
    let body = read_json_object(ctx)?;
    let inputs = match body.get("inputs") {
        Some(Value::Object(inputs)) => inputs.clone(),
        Some(_) => return Err(bad_request("invalid_field", "inputs must be a JSON object")),
        None => return Err(bad_request("missing_field", "missing required field inputs (a JSON object)")),
    };
    let step_id = match body.get("step_id") {
        None => Value::Null,
        Some(value @ (Value::Null | Value::String(_))) => value.clone(),
        Some(_) => return Err(bad_request("invalid_field", "step_id must be a string or null")),
    };
    let file_id = match inputs.get("file_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(_) => return Err(bad_request("invalid_field", "inputs.file_id must be a non-empty string")),
        None => {
            return Err(bad_request("missing_field", &format!("missing inputs.file_id, which {workflow_id} requires")))
        }
    };
    Ok(JobRequest { workflow_id, inputs, step_id, file_id })
}

fn product_ids(inputs: &Map<String, Value>, required: bool) -> Result<Option<Vec<String>>, Response> {
    let invalid = || bad_request("invalid_field", "inputs.product_ids must be a non-empty array of product id strings");
    let ids = match inputs.get("product_ids") {
        None if !required => return Ok(None),
        None => return Err(bad_request("missing_field", "missing inputs.product_ids, which sypht.extract requires")),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(invalid))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(invalid()),
    };
    check_products(&ids).map_err(|message| bad_request("invalid_product", &message))?;
    Ok(Some(ids))
}

/// Runs the job's effect on the file and returns the workflow output.
fn run_job(ctx: &Ctx, job: &JobRequest, immediate: bool) -> Result<Value, Response> {
    let company_id = ctx.caller().company_id.clone();
    let pending = if immediate { 0 } else { ctx.shared.pending_polls.load(Ordering::SeqCst) };
    let mut state = ctx.shared.state();
    if state.company_file(&company_id, &job.file_id).is_none() {
        return Err(not_found("file", &job.file_id));
    }
    match job.workflow_id.as_str() {
        "sypht.extract" => {
            let products = product_ids(&job.inputs, true)?.unwrap_or_default();
            let record = state.company_file_mut(&company_id, &job.file_id).expect("checked above");
            record.processing = Processing::Extract { products: products.clone() };
            record.pending_polls_left = pending;
            record.finalised_at = None;
            let document = Arc::clone(&record.document);
            drop(state);
            let products = check_products(&products).unwrap_or_default();
            Ok(json!({ "file_id": job.file_id, "fields": build_fields(&document, &products, false) }))
        }
        "sypht.split" => {
            let products = product_ids(&job.inputs, false)?.unwrap_or_else(|| vec!["document".to_string()]);
            let children = split_file(&mut state, &job.file_id, products, pending);
            let value: Vec<Value> = children.iter().map(|id| json!({ "file_id": id })).collect();
            Ok(json!({ "file_id": job.file_id, "children": value }))
        }
        _ => Ok(json!({ "file_id": job.file_id, "valid": true, "violations": [] })),
    }
}

fn job_envelope(ctx: &Ctx, job: &JobRequest, status: &str) -> Value {
    json!({
        "id": new_uuid(),
        "company_id": ctx.caller().company_id,
        "created": iso_micros_naive(SystemTime::now()),
        "workflow_id": job.workflow_id,
        "inputs": Value::Object(job.inputs.clone()),
        "step_id": job.step_id,
        "settings": {},
        "usage": null,
        "file_id": job.file_id,
        "status": status,
        "version": 3,
    })
}

/// Handles `POST /workflows/{workflowId}/jobs`: queues the job, whose
/// results then appear at `/result/final/{file_id}`.
pub fn create_job(ctx: &mut Ctx) -> Response {
    let job = try_response!(parse_job(ctx));
    try_response!(run_job(ctx, &job, false));
    Response::json(200, &json!({ "job": job_envelope(ctx, &job, "new"), "message_id": new_uuid() }))
}

/// Handles `POST /workflows/{workflowId}/invoke`: runs the job at once and
/// returns its output with the envelope.
pub fn invoke(ctx: &mut Ctx) -> Response {
    let job = try_response!(parse_job(ctx));
    let output = try_response!(run_job(ctx, &job, true));
    Response::json(200, &json!({ "job": job_envelope(ctx, &job, "complete"), "output": output }))
}

fn company_key(ctx: &Ctx) -> Result<(String, String), Response> {
    let company_id = ctx.segment(1).to_string();
    require_company(ctx, &company_id)?;
    Ok((company_id, ctx.segment(3).to_string()))
}

/// Handles `GET /workflows/{companyId}/rules/{rulesId}`.
pub fn get_rules(ctx: &mut Ctx) -> Response {
    let key = try_response!(company_key(ctx));
    match ctx.shared.state().rules.get(&key) {
        Some(stored) => Response::json(200, stored),
        None => not_found("validation rules", &key.1),
    }
}

/// Handles `PUT /workflows/{companyId}/rules/{rulesId}` with a body of
/// `{"data": <rules>, "schema": true}`. When `schema` is true (the
/// default) the rules must be a JSON object or array.
pub fn put_rules(ctx: &mut Ctx) -> Response {
    let key = try_response!(company_key(ctx));
    let body = try_response!(read_json_object(ctx));
    let Some(data) = body.get("data") else {
        return bad_request("missing_field", "missing required field data (the rules document)");
    };
    let schema = match body.get("schema") {
        None => true,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return bad_request("invalid_field", "schema must be true or false"),
    };
    if schema && !(data.is_object() || data.is_array()) {
        return bad_request("invalid_field", "data must be a JSON object or array when schema is true");
    }
    let stored = json!({ "companyId": key.0, "rulesId": key.1, "data": data, "schema": schema });
    ctx.shared.state().rules.insert(key, stored.clone());
    Response::json(200, &stored)
}

/// Handles `DELETE /workflows/{companyId}/rules/{rulesId}`.
pub fn delete_rules(ctx: &mut Ctx) -> Response {
    let key = try_response!(company_key(ctx));
    match ctx.shared.state().rules.remove(&key) {
        Some(_) => Response::json(200, &json!({ "rulesId": key.1, "deleted": true })),
        None => not_found("validation rules", &key.1),
    }
}

/// Handles `GET /workflows/{companyId}/data/{dataKey}`.
pub fn get_data(ctx: &mut Ctx) -> Response {
    let key = try_response!(company_key(ctx));
    match ctx.shared.state().workflow_data.get(&key) {
        Some(stored) => Response::json(200, stored),
        None => not_found("workflow data", &key.1),
    }
}

/// Handles `PUT /workflows/{companyId}/data/{dataKey}` with `{"data": ...}`.
pub fn put_data(ctx: &mut Ctx) -> Response {
    let key = try_response!(company_key(ctx));
    let body = try_response!(read_json_object(ctx));
    let Some(data) = body.get("data") else {
        return bad_request("missing_field", "missing required field data");
    };
    let stored = json!({ "companyId": key.0, "key": key.1, "data": data });
    ctx.shared.state().workflow_data.insert(key, stored.clone());
    Response::json(200, &stored)
}
