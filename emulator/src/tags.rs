//! Tags on files and tasks, under `/app/company/{companyId}/...`.
//!
//! Which files carry a tag is stored only on each file, so the per-tag and
//! per-file views always agree. Tag names used on a file are created
//! implicitly.

use serde_json::{json, Value};

use crate::http::Response;
use crate::router::{bad_request, not_found, read_json_object, require_company, string_array, Ctx};
use crate::state::{State, TagRecord};
use crate::try_response;
use crate::util::iso_millis;

fn company(ctx: &Ctx) -> Result<String, Response> {
    let company_id = ctx.segment(2).to_string();
    require_company(ctx, &company_id)?;
    Ok(company_id)
}

fn tag_json(company_id: &str, tag: &TagRecord) -> Value {
    json!({
        "name": tag.name,
        "description": tag.description,
        "companyId": company_id,
        "createdAt": iso_millis(tag.created_at),
    })
}

/// Lists the company's files that carry `tag`, in upload order.
fn tagged_docs(state: &State, company_id: &str, tag: &str) -> Vec<String> {
    let mut files: Vec<_> = state
        .files
        .values()
        .filter(|f| f.company_id == company_id && f.tags.iter().any(|t| t == tag))
        .collect();
    files.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    files.into_iter().map(|f| f.file_id.clone()).collect()
}

fn validate_tag_names(names: &[String]) -> Result<(), Response> {
    if names.iter().any(|n| n.trim().is_empty()) {
        return Err(bad_request("invalid_field", "tag names must not be empty"));
    }
    Ok(())
}

/// Handles `POST /app/company/{companyId}/tags` with `{"name", "description"}`.
pub fn create_tag(ctx: &mut Ctx) -> Response {
    let company_id = try_response!(company(ctx));
    let body = try_response!(read_json_object(ctx));
    let name = match body.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        Some(_) => return bad_request("invalid_field", "name must be a non-empty string"),
        None => return bad_request("missing_field", "missing required field name"),
    };
    let description = match body.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return bad_request("invalid_field", "description must be a string or null"),
    };
    let mut state = ctx.shared.state();
    let tags = state.tags.entry(company_id.clone()).or_default();
    if tags.contains_key(&name) {
        return Response::error(409, "conflict", &format!("tag already exists: {name}"));
    }
    let record = TagRecord { name: name.clone(), description, created_at: std::time::SystemTime::now() };
    let response = tag_json(&company_id, &record);
    tags.insert(name, record);
    Response::json(200, &response)
}

/// Handles `GET /app/company/{companyId}/tags/{tag}`.
pub fn get_tag(ctx: &mut Ctx) -> Response {
    let company_id = try_response!(company(ctx));
    let name = ctx.segment(4);
    let state = ctx.shared.state();
    match state.tags.get(&company_id).and_then(|tags| tags.get(name)) {
        Some(tag) => Response::json(200, &tag_json(&company_id, tag)),
        None => not_found("tag", name),
    }
}

/// Handles `DELETE /app/company/{companyId}/tags/{tag}`, which also removes
/// the tag from every file and task.
pub fn delete_tag(ctx: &mut Ctx) -> Response {
    let company_id = try_response!(company(ctx));
    let name = ctx.segment(4).to_string();
    let mut state = ctx.shared.state();
    if state.tags.get_mut(&company_id).and_then(|tags| tags.remove(&name)).is_none() {
        return not_found("tag", &name);
    }
    for file in state.files.values_mut().filter(|f| f.company_id == company_id) {
        file.tags.retain(|t| *t != name);
    }
    for task in state.tasks.values_mut().filter(|t| t.company_id == company_id) {
        task.tags.retain(|t| *t != name);
    }
    Response::json(200, &json!({ "name": name, "deleted": true }))
}

/// Handles `GET /app/company/{companyId}/tags/{tag}/documents`.
pub fn get_tag_documents(ctx: &mut Ctx) -> Response {
    let company_id = try_response!(company(ctx));
    let name = ctx.segment(4);
    let state = ctx.shared.state();
    if !state.tags.get(&company_id).is_some_and(|tags| tags.contains_key(name)) {
        return not_found("tag", name);
    }
    Response::json(200, &json!({ "tag": name, "docs": tagged_docs(&state, &company_id, name) }))
}

/// Handles PUT (replace) and PATCH (add) on
/// `/app/company/{companyId}/tags/{tag}/documents` with `{"docs": [...]}`.
fn set_tag_documents(ctx: &mut Ctx, replace: bool) -> Response {
    let company_id = try_response!(company(ctx));
    let name = ctx.segment(4).to_string();
    try_response!(validate_tag_names(std::slice::from_ref(&name)));
    let body = try_response!(read_json_object(ctx));
    let docs = try_response!(string_array(&body, "docs", false)).unwrap_or_default();
    let mut state = ctx.shared.state();
    if let Some(missing) = docs.iter().find(|id| state.company_file(&company_id, id).is_none()) {
        return not_found("file", missing);
    }
    state.ensure_tags(&company_id, std::slice::from_ref(&name));
    for file in state.files.values_mut().filter(|f| f.company_id == company_id) {
        let wanted = docs.contains(&file.file_id);
        let has = file.tags.contains(&name);
        if wanted && !has {
            file.tags.push(name.clone());
        } else if replace && !wanted && has {
            file.tags.retain(|t| *t != name);
        }
    }
    Response::json(200, &json!({ "tag": name, "docs": tagged_docs(&state, &company_id, &name) }))
}

pub fn put_tag_documents(ctx: &mut Ctx) -> Response {
    set_tag_documents(ctx, true)
}

pub fn patch_tag_documents(ctx: &mut Ctx) -> Response {
    set_tag_documents(ctx, false)
}

/// Handles `DELETE /app/company/{companyId}/tags/{tag}/documents/{fileId}`.
pub fn delete_tag_document(ctx: &mut Ctx) -> Response {
    let company_id = try_response!(company(ctx));
    let name = ctx.segment(4).to_string();
    let file_id = ctx.segment(6).to_string();
    let mut state = ctx.shared.state();
    let Some(file) = state.company_file_mut(&company_id, &file_id) else {
        return not_found("file", &file_id);
    };
    if !file.tags.contains(&name) {
        return Response::error(404, "not_found", &format!("file {file_id} does not carry tag {name}"));
    }
    file.tags.retain(|t| *t != name);
    Response::json(200, &json!({ "tag": name, "docs": tagged_docs(&state, &company_id, &name) }))
}

/// Handles `GET /app/company/{companyId}/documents/{fileId}/tags`.
pub fn get_document_tags(ctx: &mut Ctx) -> Response {
    let company_id = try_response!(company(ctx));
    let file_id = ctx.segment(4);
    let state = ctx.shared.state();
    match state.company_file(&company_id, file_id) {
        Some(file) => Response::json(200, &json!({ "fileId": file_id, "tags": file.tags })),
        None => not_found("file", file_id),
    }
}

/// Handles PUT (replace) and PATCH (add) on
/// `/app/company/{companyId}/documents/{fileId}/tags` with `{"tags": [...]}`.
fn set_document_tags(ctx: &mut Ctx, replace: bool) -> Response {
    let company_id = try_response!(company(ctx));
    let file_id = ctx.segment(4).to_string();
    let body = try_response!(read_json_object(ctx));
    let tags = try_response!(string_array(&body, "tags", false)).unwrap_or_default();
    try_response!(validate_tag_names(&tags));
    let mut state = ctx.shared.state();
    if state.company_file(&company_id, &file_id).is_none() {
        return not_found("file", &file_id);
    }
    state.ensure_tags(&company_id, &tags);
    let file = state.company_file_mut(&company_id, &file_id).expect("checked above");
    if replace {
        file.tags.clear();
    }
    for tag in tags {
        if !file.tags.contains(&tag) {
            file.tags.push(tag);
        }
    }
    Response::json(200, &json!({ "fileId": file_id, "tags": file.tags }))
}

pub fn put_document_tags(ctx: &mut Ctx) -> Response {
    set_document_tags(ctx, true)
}

pub fn patch_document_tags(ctx: &mut Ctx) -> Response {
    set_document_tags(ctx, false)
}

/// Handles `POST /app/company/{companyId}/tasks/tags/batch` with
/// `{"taskIds": [...], "add": [...], "remove": [...]}`. Removals apply
/// after additions.
pub fn batch_task_tags(ctx: &mut Ctx) -> Response {
    let company_id = try_response!(company(ctx));
    let body = try_response!(read_json_object(ctx));
    let task_ids = try_response!(string_array(&body, "taskIds", false)).unwrap_or_default();
    let add = try_response!(string_array(&body, "add", true)).unwrap_or_default();
    let remove = try_response!(string_array(&body, "remove", true)).unwrap_or_default();
    if task_ids.is_empty() {
        return bad_request("invalid_field", "taskIds must list at least one task id");
    }
    if add.is_empty() && remove.is_empty() {
        return bad_request("missing_field", "send tags to add, to remove, or both");
    }
    try_response!(validate_tag_names(&add));
    let mut state = ctx.shared.state();
    let missing = task_ids.iter().find(|id| !state.tasks.get(*id).is_some_and(|t| t.company_id == company_id));
    if let Some(missing) = missing {
        return not_found("task", missing);
    }
    state.ensure_tags(&company_id, &add);
    let mut updated = Vec::new();
    for id in &task_ids {
        let task = state.tasks.get_mut(id).expect("checked above");
        for tag in &add {
            if !task.tags.contains(tag) {
                task.tags.push(tag.clone());
            }
        }
        task.tags.retain(|t| !remove.contains(t));
        updated.push(json!({ "taskId": id, "tags": task.tags }));
    }
    Response::json(200, &json!({ "tasks": updated }))
}

/// Handles `GET /app/company/{companyId}/tasks/{taskId}/tags`.
pub fn get_task_tags(ctx: &mut Ctx) -> Response {
    let company_id = try_response!(company(ctx));
    let task_id = ctx.segment(4);
    let state = ctx.shared.state();
    match state.tasks.get(task_id).filter(|t| t.company_id == company_id) {
        Some(task) => Response::json(200, &json!({ "taskId": task_id, "tags": task.tags })),
        None => not_found("task", task_id),
    }
}
