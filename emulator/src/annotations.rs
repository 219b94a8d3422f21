//! Annotations, specifications and human-review tasks.
//!
//! Tasks complete as soon as they are created: each one adds an annotation
//! holding the file's predicted values, as a reviewer who changed nothing
//! would.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{json, Map, Value};

use crate::http::Response;
use crate::router::{bad_request, not_found, read_json_object, require_company, required_string, string_array, Ctx};
use crate::state::{Annotation, Processing, State, TaskRecord};
use crate::try_response;
use crate::util::{days_from_civil, iso_millis, new_uuid, unix_seconds};

/// User id recorded on annotations made by emulated task completion.
const REVIEWER_ID: &str = "emulator-reviewer";

fn annotation_json(annotation: &Annotation) -> Value {
    json!({
        "id": annotation.id,
        "docId": annotation.doc_id,
        "companyId": annotation.company_id,
        "taskId": annotation.task_id,
        "userId": annotation.user_id,
        "specification": annotation.specification,
        "origin": annotation.origin,
        "created": iso_millis(annotation.created_at),
        "fields": annotation.fields,
    })
}

/// Parses `YYYY-MM-DD` (optionally followed by a time, which is ignored)
/// into days since 1970-01-01.
fn parse_day(text: &str) -> Option<i64> {
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if date.len() != 10 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn day_of(time: SystemTime) -> i64 {
    (unix_seconds(time) / 86_400) as i64
}

fn parse_offset(text: Option<&str>) -> Result<usize, Response> {
    match text {
        None => Ok(0),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| bad_request("invalid_parameter", &format!("offset must be a page index 0, 1, 2, ..., not {text:?}"))),
    }
}

/// Returns page `offset` (a page index, not a record offset) of the
/// matches. A page past the end is empty, which ends a client's paging.
fn page(state: &State, page_size: usize, offset: usize, keep: impl Fn(&Annotation) -> bool) -> Response {
    let annotations: Vec<Value> = state
        .annotations
        .iter()
        .filter(|a| keep(a))
        .skip(offset.saturating_mul(page_size))
        .take(page_size)
        .map(annotation_json)
        .collect();
    Response::json(200, &json!({ "annotations": annotations }))
}

/// Handles `GET /app/annotations?offset=N` with the filters docId, taskId,
/// userId, specification, fromDate, toDate (inclusive, `YYYY-MM-DD`) and
/// companyId.
pub fn list(ctx: &mut Ctx) -> Response {
    let request = ctx.request;
    let offset = try_response!(parse_offset(request.query_value("offset")));
    let company_id = match request.query_value("companyId") {
        Some(company_id) => {
            try_response!(require_company(ctx, company_id));
            company_id.to_string()
        }
        None => ctx.caller().company_id.clone(),
    };
    let mut days = [None, None];
    for (slot, name) in days.iter_mut().zip(["fromDate", "toDate"]) {
        if let Some(text) = request.query_value(name) {
            match parse_day(text) {
                Some(day) => *slot = Some(day),
                None => return bad_request("invalid_parameter", &format!("{name} must be a date as YYYY-MM-DD, not {text:?}")),
            }
        }
    }
    let [from_day, to_day] = days;
    let filter = |name: &str| request.query_value(name).map(str::to_string);
    let (doc_id, task_id, user_id, specification) =
        (filter("docId"), filter("taskId"), filter("userId"), filter("specification"));
    let state = ctx.shared.state();
    page(&state, ctx.shared.config.annotation_page_size, offset, |a| {
        let day = day_of(a.created_at);
        a.company_id == company_id
            && doc_id.as_ref().is_none_or(|d| *d == a.doc_id)
            && task_id.as_ref().is_none_or(|t| a.task_id.as_ref() == Some(t))
            && user_id.as_ref().is_none_or(|u| *u == a.user_id)
            && specification.as_ref().is_none_or(|s| a.specification.as_ref() == Some(s))
            && from_day.is_none_or(|from| day >= from)
            && to_day.is_none_or(|to| day <= to)
    })
}

/// Handles `POST /app/annotations/search` with `{"docIds": [...], "offset": N}`.
pub fn search(ctx: &mut Ctx) -> Response {
    let body = try_response!(read_json_object(ctx));
    let doc_ids = try_response!(string_array(&body, "docIds", false)).unwrap_or_default();
    let offset = match body.get("offset") {
        None | Some(Value::Null) => 0,
        Some(value) => match value.as_u64() {
            Some(n) => n as usize,
            None => return bad_request("invalid_field", "offset must be a page index 0, 1, 2, ..."),
        },
    };
    let company_id = ctx.caller().company_id.clone();
    let state = ctx.shared.state();
    page(&state, ctx.shared.config.annotation_page_size, offset, |a| {
        a.company_id == company_id && doc_ids.contains(&a.doc_id)
    })
}

/// Normalises a label as the service compares them: amounts to two
/// decimals for amount-like fields, and dates to `YYYY-MM-DD` for date
/// fields. Other values are kept.
fn normalise_label(field_id: &str, value: &str) -> String {
    let lower = field_id.to_ascii_lowercase();
    if lower.contains("date") {
        return crate::results::normalise_date(value);
    }
    let amount_like = ["total", "amount", "gst", "tax", "price", "subtotal"].iter().any(|k| lower.contains(k));
    if amount_like {
        if let Some(cents) = crate::results::parse_amount(value) {
            return crate::results::format_cents(cents);
        }
    }
    value.to_string()
}

/// Checks one uploaded annotation field. Only text fields
/// (`"type": "simple"` with a string value) are accepted.
fn check_field(index: usize, field: &Value) -> Result<Value, Response> {
    let invalid = |message: &str| bad_request("invalid_field", &format!("fields[{index}]: {message}"));
    let Some(object) = field.as_object() else {
        return Err(invalid("must be an object with id, type and data"));
    };
    let id = match object.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(invalid("id must be a non-empty field name such as invoice.total")),
    };
    match object.get("type") {
        Some(Value::String(kind)) if kind == "simple" => {}
        Some(Value::String(kind)) => {
            return Err(invalid(&format!(
                "type {kind:?} is not accepted for {id}; only text fields of type \"simple\" can be uploaded"
            )))
        }
        _ => return Err(invalid("type must be \"simple\"")),
    }
    let value = match object.get("data").and_then(|d| d.get("value")) {
        Some(Value::String(value)) => value.clone(),
        _ => return Err(invalid(&format!("data.value of {id} must be a string"))),
    };
    Ok(json!({ "id": id, "type": "simple", "data": { "value": normalise_label(&id, &value) } }))
}

/// Handles `PUT /app/docs/{docId}/companyannotation/{companyId}/data`. The
/// upload replaces the document's previous external annotation.
pub fn upload(ctx: &mut Ctx) -> Response {
    let doc_id = ctx.segment(2).to_string();
    let company_id = ctx.segment(4).to_string();
    try_response!(require_company(ctx, &company_id));
    let body = try_response!(read_json_object(ctx));
    match body.get("origin") {
        Some(Value::String(origin)) if origin == "external" => {}
        Some(_) => return bad_request("invalid_field", "origin must be \"external\""),
        None => return bad_request("missing_field", "missing required field origin (\"external\")"),
    }
    match body.get("docId") {
        None | Some(Value::Null) => {}
        Some(Value::String(id)) if *id == doc_id => {}
        Some(_) => return bad_request("invalid_field", "docId in the body does not match the document id in the path"),
    }
    let fields = match body.get("fields") {
        Some(Value::Array(fields)) if !fields.is_empty() => fields,
        Some(_) => return bad_request("invalid_field", "fields must be a non-empty array"),
        None => return bad_request("missing_field", "missing required field fields"),
    };
    let checked = try_response!(fields.iter().enumerate().map(|(i, f)| check_field(i, f)).collect::<Result<Vec<_>, _>>());
    let mut state = ctx.shared.state();
    if state.company_file(&company_id, &doc_id).is_none() {
        return not_found("document", &doc_id);
    }
    state.annotations.retain(|a| !(a.doc_id == doc_id && a.company_id == company_id && a.origin == "external"));
    let annotation = Annotation {
        id: new_uuid(),
        doc_id,
        company_id,
        task_id: None,
        user_id: ctx.caller().client_id.clone(),
        specification: None,
        origin: "external".to_string(),
        created_at: SystemTime::now(),
        fields: checked,
    };
    let response = annotation_json(&annotation);
    state.annotations.push(annotation);
    Response::json(200, &response)
}

/// Handles `POST /app/specifications`: creates or replaces a specification,
/// a JSON object with a non-empty `name`.
pub fn upsert_specification(ctx: &mut Ctx) -> Response {
    let mut body = try_response!(read_json_object(ctx));
    let name = try_response!(required_string(&body, "name"));
    let company_id = ctx.caller().company_id.clone();
    if let Some(value) = body.get("companyId") {
        match value.as_str() {
            Some(given) => try_response!(require_company(ctx, given)),
            None => return bad_request("invalid_field", "companyId must be a string"),
        }
    }
    body.insert("companyId".to_string(), Value::String(company_id.clone()));
    let stored = Value::Object(body);
    let created = ctx.shared.state().specifications.insert((company_id, name.clone()), stored.clone()).is_none();
    Response::json(200, &json!({ "name": name, "created": created, "specification": stored }))
}

fn task_json(task: &TaskRecord) -> Value {
    json!({
        "id": task.id,
        "docId": task.doc_id,
        "companyId": task.company_id,
        "specification": task.specification,
        "replication": task.replication,
        "priority": task.priority,
        "tags": task.tags,
        "status": "COMPLETED",
        "created": iso_millis(task.created_at),
    })
}

fn optional_integer(body: &Map<String, Value>, key: &str) -> Result<Option<i64>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad_request("invalid_field", &format!("{key} must be a whole number"))),
    }
}

/// Handles `POST /app/tasks` with `{"docId", "companyId", "specification",
/// "replication", "priority"}`. The task completes at once and adds an
/// annotation with the file's predicted values.
pub fn create_task(ctx: &mut Ctx) -> Response {
    let body = try_response!(read_json_object(ctx));
    let doc_id = try_response!(required_string(&body, "docId"));
    let company_id = try_response!(required_string(&body, "companyId"));
    try_response!(require_company(ctx, &company_id));
    let specification = try_response!(required_string(&body, "specification"));
    let replication = match try_response!(optional_integer(&body, "replication")) {
        None => 1,
        Some(n) if n >= 1 => n as u64,
        Some(_) => return bad_request("invalid_field", "replication must be at least 1"),
    };
    let priority = try_response!(optional_integer(&body, "priority"));
    let mut state = ctx.shared.state();
    let Some(file) = state.company_file(&company_id, &doc_id) else {
        return not_found("document", &doc_id);
    };
    let document = Arc::clone(&file.document);
    let products = match &file.processing {
        Processing::Extract { products } => crate::results::check_products(products).unwrap_or_default(),
        _ => Vec::new(),
    };
    let task = TaskRecord {
        id: new_uuid(),
        company_id: company_id.clone(),
        doc_id: doc_id.clone(),
        specification: specification.clone(),
        replication,
        priority,
        tags: Vec::new(),
        created_at: SystemTime::now(),
    };
    let fields: Vec<Value> = crate::results::build_fields(&document, &products, false)
        .into_iter()
        .filter(|f| f["value"].is_string())
        .map(|f| json!({ "id": f["name"], "type": "simple", "data": { "value": f["value"] } }))
        .collect();
    state.annotations.push(Annotation {
        id: new_uuid(),
        doc_id: doc_id.clone(),
        company_id: company_id.clone(),
        task_id: Some(task.id.clone()),
        user_id: REVIEWER_ID.to_string(),
        specification: Some(specification.clone()),
        origin: "task".to_string(),
        created_at: SystemTime::now(),
        fields,
    });
    let response = task_json(&task);
    state.tasks.insert(task.id.clone(), task);
    Response::json(200, &response)
}
