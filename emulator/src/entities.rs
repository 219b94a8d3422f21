//! Entity storage for entity matching, under `/storage/{companyId}/...`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::http::Response;
use crate::router::{bad_request, not_found, read_json, read_json_object, require_company, Ctx};
use crate::try_response;

const DEFAULT_PAGE_LIMIT: usize = 100;
const MAX_PAGE_LIMIT: usize = 1000;
const DEFAULT_SEARCH_LIMIT: usize = 100;
/// Lowest average similarity, from 0 to 1, for a fuzzy search hit.
const FUZZY_THRESHOLD: f64 = 0.5;

/// Returns the (company, entity type) key after checking the company.
fn collection(ctx: &Ctx) -> Result<(String, String), Response> {
    let company_id = ctx.segment(1).to_string();
    require_company(ctx, &company_id)?;
    let entity_type = ctx.segment(3).to_string();
    if entity_type.is_empty() {
        return Err(bad_request("invalid_field", "entity type must not be empty"));
    }
    Ok((company_id, entity_type))
}

/// Handles `PUT /storage/{companyId}/entity/{entityType}/{entityId}`; the
/// body is the entity as a JSON object.
pub fn put_entity(ctx: &mut Ctx) -> Response {
    let key = try_response!(collection(ctx));
    let entity_id = ctx.segment(4).to_string();
    let body = match try_response!(read_json(ctx)) {
        Value::Object(map) => Value::Object(map),
        _ => return bad_request("invalid_body", "entity must be a JSON object"),
    };
    let mut state = ctx.shared.state();
    let created = state.entities.entry(key.clone()).or_default().insert(entity_id.clone(), body).is_none();
    Response::json(200, &json!({ "entity_id": entity_id, "entity_type": key.1, "created": created }))
}

/// Handles `GET /storage/{companyId}/entity/{entityType}/{entityId}`,
/// returning the object as stored.
pub fn get_entity(ctx: &mut Ctx) -> Response {
    let key = try_response!(collection(ctx));
    let entity_id = ctx.segment(4);
    let state = ctx.shared.state();
    match state.entities.get(&key).and_then(|entities| entities.get(entity_id)) {
        Some(entity) => Response::json(200, entity),
        None => not_found("entity", entity_id),
    }
}

/// Handles `DELETE /storage/{companyId}/entity/{entityType}/{entityId}`.
pub fn delete_entity(ctx: &mut Ctx) -> Response {
    let key = try_response!(collection(ctx));
    let entity_id = ctx.segment(4).to_string();
    let mut state = ctx.shared.state();
    match state.entities.get_mut(&key).and_then(|entities| entities.remove(&entity_id)) {
        Some(_) => Response::json(200, &json!({ "entity_id": entity_id, "deleted": true })),
        None => not_found("entity", &entity_id),
    }
}

/// Handles `POST /storage/{companyId}/bulkentity/{entityType}` with an
/// array of `{"entity_id": "...", "data": {...}}`. The whole batch is
/// checked before any entity is stored.
pub fn bulk_put(ctx: &mut Ctx) -> Response {
    let key = try_response!(collection(ctx));
    let Value::Array(items) = try_response!(read_json(ctx)) else {
        return bad_request("invalid_body", "body must be a JSON array of {\"entity_id\", \"data\"} objects");
    };
    let mut batch = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let entity_id = match item.get("entity_id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => return bad_request("invalid_field", &format!("item {index}: entity_id must be a non-empty string")),
        };
        let data = match item.get("data") {
            Some(data @ Value::Object(_)) => data.clone(),
            _ => return bad_request("invalid_field", &format!("item {index}: data must be a JSON object")),
        };
        batch.push((entity_id, data));
    }
    let count = batch.len();
    let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
    let mut state = ctx.shared.state();
    state.entities.entry(key).or_default().extend(batch);
    Response::json(200, &json!({ "count": count, "entity_ids": ids }))
}

/// Handles `GET /storage/{companyId}/entitysearch/{entityType}?page=&limit=`:
/// entity ids in id order. `next_page` is an opaque token holding the last
/// id returned, so deletions between pages skip nothing; it is null on the
/// last page.
pub fn list_ids(ctx: &mut Ctx) -> Response {
    let key = try_response!(collection(ctx));
    let limit = match ctx.request.query_value("limit") {
        None => DEFAULT_PAGE_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_LIMIT).contains(&n) => n,
            _ => return bad_request("invalid_parameter", &format!("limit must be a whole number from 1 to {MAX_PAGE_LIMIT}")),
        },
    };
    let after = match ctx.request.query_value("page").filter(|p| !p.is_empty()) {
        None => None,
        Some(token) => match URL_SAFE_NO_PAD.decode(token).ok().and_then(|b| String::from_utf8(b).ok()) {
            Some(id) => Some(id),
            None => return bad_request("invalid_parameter", "page is not a token returned as next_page"),
        },
    };
    let state = ctx.shared.state();
    let ids: Vec<String> = match state.entities.get(&key) {
        None => Vec::new(),
        Some(entities) => {
            let range = match &after {
                Some(after) => entities.range::<String, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
                None => entities.range::<String, _>(..),
            };
            range.take(limit + 1).map(|(id, _)| id.clone()).collect()
        }
    };
    let has_more = ids.len() > limit;
    let page: Vec<String> = ids.into_iter().take(limit).collect();
    let next_page = match page.last() {
        Some(last) if has_more => Value::String(URL_SAFE_NO_PAD.encode(last)),
        _ => Value::Null,
    };
    Response::json(200, &json!({ "entities": page, "next_page": next_page }))
}

/// Handles `POST /storage/{companyId}/entitysearch/{entityType}/by_id` with
/// `[{"entity_id": "..."}, ...]`.
pub fn get_by_ids(ctx: &mut Ctx) -> Response {
    let key = try_response!(collection(ctx));
    let Value::Array(items) = try_response!(read_json(ctx)) else {
        return bad_request("invalid_body", "body must be a JSON array of {\"entity_id\": \"...\"} objects");
    };
    let mut ids = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match item.get("entity_id") {
            Some(Value::String(id)) => ids.push(id.clone()),
            _ => return bad_request("invalid_field", &format!("item {index}: entity_id must be a string")),
        }
    }
    let state = ctx.shared.state();
    let stored = state.entities.get(&key);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match stored.and_then(|entities| entities.get(&id)) {
            Some(data) => found.push(json!({ "entity_id": id, "data": data })),
            None => missing.push(id),
        }
    }
    Response::json(200, &json!({ "entities": found, "not_found": missing }))
}

/// Handles `POST /storage/{companyId}/entitysearch/{entityType}` with
/// `{"exact": {...}, "fuzzy": {...}, "limit": n}`. Every exact key must be
/// equal; fuzzy keys are scored by edit-distance similarity and averaged.
pub fn search(ctx: &mut Ctx) -> Response {
    let key = try_response!(collection(ctx));
    let body = try_response!(read_json_object(ctx));
    let object = |name: &str| -> Result<Map<String, Value>, Response> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(_) => Err(bad_request("invalid_field", &format!("{name} must be a JSON object"))),
        }
    };
    let exact = try_response!(object("exact"));
    let fuzzy = try_response!(object("fuzzy"));
    if exact.is_empty() && fuzzy.is_empty() {
        return bad_request("missing_field", "send exact, fuzzy or both, each a JSON object of field values");
    }
    let limit = match body.get("limit") {
        None => DEFAULT_SEARCH_LIMIT,
        Some(value) => match value.as_u64() {
            Some(n) if n >= 1 => n as usize,
            _ => return bad_request("invalid_field", "limit must be a positive whole number"),
        },
    };
    let state = ctx.shared.state();
    let mut hits: Vec<(f64, String, Value)> = Vec::new();
    for (id, entity) in state.entities.get(&key).into_iter().flatten() {
        if !exact.iter().all(|(field, wanted)| entity.get(field) == Some(wanted)) {
            continue;
        }
        let score = if fuzzy.is_empty() {
            1.0
        } else {
            let total: f64 = fuzzy.iter().map(|(field, wanted)| field_similarity(entity.get(field), wanted)).sum();
            total / fuzzy.len() as f64
        };
        if score >= FUZZY_THRESHOLD {
            hits.push((score, id.clone(), entity.clone()));
        }
    }
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let results: Vec<Value> = hits
        .into_iter()
        .take(limit)
        .map(|(score, id, data)| json!({ "entity_id": id, "score": (score * 10_000.0).round() / 10_000.0, "data": data }))
        .collect();
    Response::json(200, &json!({ "entities": results }))
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

/// Returns 1 minus the edit distance over the longer length, comparing
/// case-insensitively; 0 when the entity lacks the field.
fn field_similarity(actual: Option<&Value>, wanted: &Value) -> f64 {
    let Some(actual) = actual.filter(|v| !v.is_null()) else {
        return 0.0;
    };
    let a: Vec<char> = as_text(actual).chars().collect();
    let b: Vec<char> = as_text(wanted).chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    1.0 - levenshtein(&a, &b) as f64 / longest as f64
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_distances() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(levenshtein(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(levenshtein(&chars(""), &chars("abc")), 3);
        assert_eq!(levenshtein(&chars("same"), &chars("same")), 0);
    }
}
