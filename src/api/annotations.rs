//! Annotations: listing with filters (`GET /app/annotations`), search by
//! document ids (`POST /app/annotations/search`), and uploading
//! human-checked values (`PUT /app/docs/{docId}/companyannotation/...`).
//!
//! Both listings are paged by page index (the `offset` parameter counts
//! pages, not records). The calls here request pages 0, 1, 2, ... until a
//! page comes back empty, and stop at a record limit so that a server that
//! never sends an empty page cannot exhaust memory.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{decode, segment, Query};
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};

/// Default maximum number of records gathered by a paged listing.
pub const DEFAULT_RECORD_LIMIT: usize = 100_000;

/// Filters of [`Client::list_annotations`]; unset filters are not sent.
/// The serde names are the query parameter names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnnotationFilter {
    /// Only annotations of this document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
    /// Only annotations of this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Only annotations by this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Only annotations made for this specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specification: Option<String>,
    /// Only annotations from this date on, such as `"2024-01-31"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_date: Option<String>,
    /// Only annotations up to this date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_date: Option<String>,
    /// Only annotations of this company, when the token may read others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
}

impl AnnotationFilter {
    fn query(&self, page: u64) -> Query {
        let mut query = Query::default();
        query.push("offset", &page.to_string());
        let filters = [
            ("docId", &self.doc_id),
            ("taskId", &self.task_id),
            ("userId", &self.user_id),
            ("specification", &self.specification),
            ("fromDate", &self.from_date),
            ("toDate", &self.to_date),
            ("companyId", &self.company_id),
        ];
        for (name, value) in filters {
            if let Some(value) = value {
                query.push(name, value);
            }
        }
        query
    }
}

/// How a paged listing stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagingOptions {
    /// The most records to gather (default [`DEFAULT_RECORD_LIMIT`]).
    /// Exactly this many records is allowed; one more is over the limit.
    pub record_limit: usize,
    /// What happens when a page takes the count over `record_limit`.
    /// `false` (the default) fails with [`ErrorKind::LimitExceeded`];
    /// `true` returns the first `record_limit` records with
    /// [`AnnotationList::truncated`] set.
    pub allow_partial: bool,
}

impl Default for PagingOptions {
    fn default() -> PagingOptions {
        PagingOptions { record_limit: DEFAULT_RECORD_LIMIT, allow_partial: false }
    }
}

/// The records gathered by a paged listing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnnotationList {
    /// The annotations in server order.
    pub annotations: Vec<Value>,
    /// True when more records exist than the record limit allowed, so
    /// `annotations` holds only the first `record_limit` of them. Only set
    /// when [`PagingOptions::allow_partial`] is true.
    pub truncated: bool,
}

/// One field of an uploaded annotation: a text value for a field name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnotationField {
    /// The field name, such as `"invoice.total"`.
    pub id: String,
    /// The field type; only `"simple"` (text) fields are accepted.
    #[serde(rename = "type")]
    pub field_type: String,
    /// The value, as `{"value": "<text>"}`.
    pub data: AnnotationValue,
}

/// The value of an [`AnnotationField`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnotationValue {
    /// The text as it appears in the document.
    pub value: String,
}

impl AnnotationField {
    /// A text field with `value` for field `id`.
    pub fn simple(id: impl Into<String>, value: impl Into<String>) -> AnnotationField {
        AnnotationField {
            id: id.into(),
            field_type: "simple".to_string(),
            data: AnnotationValue { value: value.into() },
        }
    }
}

#[derive(Deserialize)]
struct AnnotationPage {
    annotations: Vec<Value>,
}

/// Requests pages 0, 1, 2, ... through `fetch` until one is empty,
/// applying the record limit of `paging` as each page arrives.
fn collect_pages(
    paging: PagingOptions,
    what: &str,
    mut fetch: impl FnMut(u64) -> Result<Vec<Value>>,
) -> Result<AnnotationList> {
    if paging.record_limit == 0 {
        return Err(Error::invalid_argument("the record limit is 0; it must be at least 1"));
    }
    let mut gathered: Vec<Value> = Vec::new();
    let mut page = 0u64;
    loop {
        let records = fetch(page)?;
        if records.is_empty() {
            return Ok(AnnotationList { annotations: gathered, truncated: false });
        }
        let room = paging.record_limit - gathered.len();
        if records.len() > room {
            if paging.allow_partial {
                gathered.extend(records.into_iter().take(room));
                return Ok(AnnotationList { annotations: gathered, truncated: true });
            }
            let total = gathered.len() + records.len();
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!(
                    "{what} returned more than the record limit of {} records (page {page} brought the count \
                     to {total}); raise the record limit, narrow the filters, or allow partial results",
                    paging.record_limit
                ),
            ));
        }
        gathered.extend(records);
        page += 1;
    }
}

impl Client {
    /// Fetches one page (0-based page index) of the annotations matching
    /// `filter`.
    pub fn list_annotations_page(&self, filter: &AnnotationFilter, page: u64) -> Result<Vec<Value>> {
        let path = filter.query(page).append_to("/app/annotations");
        let answer: AnnotationPage = decode(self.send_json("GET", &path, None)?, "GET", &path)?;
        Ok(answer.annotations)
    }

    /// Fetches every annotation matching `filter`, page by page, within the
    /// record limit of `paging`.
    pub fn list_annotations(&self, filter: &AnnotationFilter, paging: PagingOptions) -> Result<AnnotationList> {
        collect_pages(paging, "GET /app/annotations", |page| self.list_annotations_page(filter, page))
    }

    /// Fetches one page (0-based page index) of the annotations of the
    /// documents `doc_ids`.
    pub fn search_annotations_page(&self, doc_ids: &[&str], page: u64) -> Result<Vec<Value>> {
        if doc_ids.is_empty() {
            return Err(Error::invalid_argument("argument `doc_ids` is empty"));
        }
        for (i, id) in doc_ids.iter().enumerate() {
            if id.is_empty() {
                return Err(Error::invalid_argument(format!("argument `doc_ids[{i}]` is empty")));
            }
        }
        let path = "/app/annotations/search";
        let body = json!({ "docIds": doc_ids, "offset": page });
        let answer: AnnotationPage = decode(self.send_json("POST", path, Some(&body))?, "POST", path)?;
        Ok(answer.annotations)
    }

    /// Fetches every annotation of the documents `doc_ids`, page by page,
    /// within the record limit of `paging`.
    pub fn search_annotations(&self, doc_ids: &[&str], paging: PagingOptions) -> Result<AnnotationList> {
        collect_pages(paging, "POST /app/annotations/search", |page| self.search_annotations_page(doc_ids, page))
    }

    /// Uploads human-checked text values of a document for training or
    /// evaluation (an experimental endpoint). Only text fields are
    /// accepted by the server; line items, classifications and entity
    /// matches are not.
    pub fn upload_company_annotation(
        &self,
        doc_id: &str,
        fields: &[AnnotationField],
        company_id: Option<&str>,
    ) -> Result<Value> {
        if fields.is_empty() {
            return Err(Error::invalid_argument("argument `fields` is empty"));
        }
        for (i, field) in fields.iter().enumerate() {
            if field.id.is_empty() {
                return Err(Error::invalid_argument(format!("argument `fields[{i}].id` is empty")));
            }
        }
        let path = format!(
            "/app/docs/{}/companyannotation/{}/data",
            segment(doc_id, "doc_id")?,
            self.company_segment(company_id)?
        );
        let body = json!({ "origin": "external", "docId": doc_id, "fields": fields });
        self.send_json("PUT", &path, Some(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(sizes: &'static [usize]) -> impl FnMut(u64) -> Result<Vec<Value>> {
        move |page| {
            let size = sizes.get(page as usize).copied().unwrap_or(0);
            Ok((0..size).map(|i| json!({ "page": page, "i": i })).collect())
        }
    }

    #[test]
    fn limit_equal_to_total_is_allowed() {
        let paging = PagingOptions { record_limit: 5, allow_partial: false };
        let list = collect_pages(paging, "test", pages(&[3, 2])).unwrap();
        assert_eq!(list.annotations.len(), 5);
        assert!(!list.truncated);
    }

    #[test]
    fn one_over_limit_is_an_error() {
        let paging = PagingOptions { record_limit: 5, allow_partial: false };
        let err = collect_pages(paging, "test", pages(&[3, 3])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(err.message().contains("record limit of 5"), "{err}");
    }

    #[test]
    fn partial_keeps_first_records() {
        let paging = PagingOptions { record_limit: 4, allow_partial: true };
        let list = collect_pages(paging, "test", pages(&[3, 3])).unwrap();
        assert!(list.truncated);
        assert_eq!(list.annotations.len(), 4);
        assert_eq!(list.annotations[3], json!({ "page": 1, "i": 0 }));
    }

    #[test]
    fn filter_query_encodes_values() {
        let filter = AnnotationFilter { specification: Some("spec one/2".into()), ..Default::default() };
        assert_eq!(filter.query(3).append_to("/a"), "/a?offset=3&specification=spec%20one%2F2");
    }
}
