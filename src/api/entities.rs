//! Entity storage for entity matching, under `/storage/{companyId}`.
//!
//! Entities are reference records (suppliers, vehicles, ...) stored per
//! company and entity type. `company_id` works as for tags: `None` uses
//! this client's cached company id.

use std::collections::HashSet;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use super::{decode, require_object, segment, Query};
use crate::client::Client;
use crate::error::{Error, Result};

/// Number of entities sent per request by [`Client::set_entities`].
pub const DEFAULT_ENTITY_BATCH_SIZE: usize = 1000;

/// One entity of a bulk upload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkEntity {
    /// The entity id within its type.
    pub entity_id: String,
    /// The entity's fields; `null` is allowed for missing values.
    pub data: Value,
}

/// One page of entity ids from [`Client::list_entities`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityPage {
    /// The entity ids on this page.
    pub entities: Vec<String>,
    /// The token for the next page; `None` on the last page.
    #[serde(default, deserialize_with = "page_token")]
    pub next_page: Option<String>,
}

/// Reads a page token that the server may send as a string or a number.
fn page_token<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(serde::de::Error::custom(format!("next_page must be a string, a number or null, not {other}"))),
    }
}

impl Client {
    fn entity_path(&self, company_id: Option<&str>, entity_type: &str, entity_id: &str) -> Result<String> {
        let rest = format!("entity/{}/{}", segment(entity_type, "entity_type")?, segment(entity_id, "entity_id")?);
        self.storage_path(company_id, &rest)
    }

    /// Builds `/storage/{companyId}/{rest}`. Callers encode `rest` first, so
    /// invalid arguments fail before the company lookup sends a request.
    fn storage_path(&self, company_id: Option<&str>, rest: &str) -> Result<String> {
        Ok(format!("/storage/{}/{rest}", self.company_segment(company_id)?))
    }

    /// Fetches one entity.
    pub fn get_entity(&self, entity_type: &str, entity_id: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.entity_path(company_id, entity_type, entity_id)?;
        self.send_json("GET", &path, None)
    }

    /// Creates or replaces one entity; `data` must be a JSON object.
    pub fn set_entity(
        &self,
        entity_type: &str,
        entity_id: &str,
        data: &Value,
        company_id: Option<&str>,
    ) -> Result<Value> {
        require_object(data, "data")?;
        let path = self.entity_path(company_id, entity_type, entity_id)?;
        self.send_json("PUT", &path, Some(data))
    }

    /// Deletes one entity.
    pub fn delete_entity(&self, entity_type: &str, entity_id: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.entity_path(company_id, entity_type, entity_id)?;
        self.send_json("DELETE", &path, None)
    }

    /// Creates or replaces many entities, [`DEFAULT_ENTITY_BATCH_SIZE`] per
    /// request. Returns one response body per batch, in order.
    pub fn set_entities(
        &self,
        entity_type: &str,
        entities: &[BulkEntity],
        company_id: Option<&str>,
    ) -> Result<Vec<Value>> {
        self.set_entities_in_batches(entity_type, entities, DEFAULT_ENTITY_BATCH_SIZE, company_id)
    }

    /// Like [`Client::set_entities`] with `batch_size` entities per request.
    ///
    /// Batches are sent one after another. When one fails, the error is
    /// returned and later batches are not sent. The batches before it are
    /// already stored, and the error message states how many entities
    /// those were.
    pub fn set_entities_in_batches(
        &self,
        entity_type: &str,
        entities: &[BulkEntity],
        batch_size: usize,
        company_id: Option<&str>,
    ) -> Result<Vec<Value>> {
        if batch_size == 0 {
            return Err(Error::invalid_argument("argument `batch_size` is 0; it must be at least 1"));
        }
        for (i, entity) in entities.iter().enumerate() {
            if entity.entity_id.is_empty() {
                return Err(Error::invalid_argument(format!("argument `entities[{i}].entity_id` is empty")));
            }
        }
        let path = self.storage_path(company_id, &format!("bulkentity/{}/", segment(entity_type, "entity_type")?))?;
        let mut answers = Vec::new();
        for (index, batch) in entities.chunks(batch_size).enumerate() {
            let body = serde_json::to_value(batch).map_err(|e| Error::internal(e.to_string()))?;
            let answer = self.send_json("POST", &path, Some(&body)).map_err(|e| {
                let stored = index * batch_size;
                e.with_context(&format!(" (batch {}; the {stored} entities before it were stored)", index + 1))
            })?;
            answers.push(answer);
        }
        Ok(answers)
    }

    /// Fetches many entities by id in one request
    /// (`POST .../entitysearch/{entityType}/by_id`).
    pub fn get_entities(&self, entity_type: &str, entity_ids: &[&str], company_id: Option<&str>) -> Result<Value> {
        let mut body = Vec::with_capacity(entity_ids.len());
        for (i, id) in entity_ids.iter().enumerate() {
            if id.is_empty() {
                return Err(Error::invalid_argument(format!("argument `entity_ids[{i}]` is empty")));
            }
            body.push(json!({ "entity_id": id }));
        }
        let rest = format!("entitysearch/{}/by_id", segment(entity_type, "entity_type")?);
        let path = self.storage_path(company_id, &rest)?;
        self.send_json("POST", &path, Some(&Value::Array(body)))
    }

    /// Fetches one page of entity ids of a type. Pass `page: None` for the
    /// first page and then each page's `next_page`; `limit` caps the page
    /// size (the server's default when `None`).
    pub fn list_entities(
        &self,
        entity_type: &str,
        page: Option<&str>,
        limit: Option<u32>,
        company_id: Option<&str>,
    ) -> Result<EntityPage> {
        let mut query = Query::default();
        if let Some(token) = page {
            if token.is_empty() {
                return Err(Error::invalid_argument("argument `page` is empty; pass None for the first page"));
            }
            query.push("page", token);
        }
        if let Some(limit) = limit {
            if limit == 0 {
                return Err(Error::invalid_argument("argument `limit` is 0; pass None for the server's default page size"));
            }
            query.push("limit", &limit.to_string());
        }
        let rest = format!("entitysearch/{}", segment(entity_type, "entity_type")?);
        let path = query.append_to(&self.storage_path(company_id, &rest)?);
        decode(self.send_json("GET", &path, None)?, "GET", &path)
    }

    /// Returns every entity id of a type, following `next_page` until the
    /// server stops sending one. Fails if the server sends a page token it
    /// already sent, which would otherwise loop forever.
    pub fn all_entity_ids(&self, entity_type: &str, company_id: Option<&str>) -> Result<Vec<String>> {
        segment(entity_type, "entity_type")?;
        let company = self.resolve_company_id(company_id)?;
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.list_entities(entity_type, token.as_deref(), None, Some(&company))?;
            ids.extend(page.entities);
            match page.next_page {
                None => return Ok(ids),
                Some(next) => {
                    if !seen.insert(next.clone()) {
                        return Err(Error::decode(format!(
                            "listing entities of type {entity_type:?} returned the page token {next:?} twice"
                        )));
                    }
                    token = Some(next);
                }
            }
        }
    }

    /// Searches entities of a type (`POST .../entitysearch/{entityType}/`).
    /// `exact` and `fuzzy` are JSON objects mapping field names to the
    /// values to match; a `None` one is left out of the body.
    pub fn search_entities(
        &self,
        entity_type: &str,
        exact: Option<&Value>,
        fuzzy: Option<&Value>,
        company_id: Option<&str>,
    ) -> Result<Value> {
        let mut body = serde_json::Map::new();
        if let Some(exact) = exact {
            require_object(exact, "exact")?;
            body.insert("exact".to_string(), exact.clone());
        }
        if let Some(fuzzy) = fuzzy {
            require_object(fuzzy, "fuzzy")?;
            body.insert("fuzzy".to_string(), fuzzy.clone());
        }
        if body.is_empty() {
            return Err(Error::invalid_argument("pass `exact`, `fuzzy` or both to search entities"));
        }
        let path = self.storage_path(company_id, &format!("entitysearch/{}/", segment(entity_type, "entity_type")?))?;
        self.send_json("POST", &path, Some(&Value::Object(body)))
    }
}
