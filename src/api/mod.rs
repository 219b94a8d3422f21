//! Typed calls for every endpoint beyond upload and results, one file per
//! area. Each file adds an `impl Client` block.
//!
//! Every caller-supplied path segment goes through [`segment`] and every
//! query value through [`Query`], so ids with spaces, slashes or non-ASCII
//! characters reach the server intact.

mod annotations;
mod company;
mod documents;
mod entities;
mod results;
mod rules;
mod tags;
mod tasks;
mod workflows;

pub use annotations::{
    AnnotationField, AnnotationFilter, AnnotationList, AnnotationValue, PagingOptions, DEFAULT_RECORD_LIMIT,
};
pub use company::Company;
pub use documents::{UploadV2Options, UploadedFile};
pub use entities::{BulkEntity, EntityPage, DEFAULT_ENTITY_BATCH_SIZE};
pub use tasks::NewTask;
pub use workflows::{WorkflowJob, WorkflowJobEnvelope};

use serde_json::Value;

use crate::client::{parse_json, Client};
use crate::error::{Error, Result};
use crate::http::{self, RequestBody};

/// Checks a caller-supplied id and percent-encodes it as one path segment.
///
/// `name` is the argument's name, used in the error. Empty ids, ids with
/// control characters, and `.` or `..` (which servers resolve as relative
/// paths even when percent-encoded) are rejected.
pub(crate) fn segment(value: &str, name: &str) -> Result<String> {
    if value.is_empty() {
        return Err(Error::invalid_argument(format!("argument `{name}` is empty")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_argument(format!("argument `{name}` ({value:?}) contains control characters")));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid_argument(format!(
            "argument `{name}` is {value:?}, which cannot be used as a path segment"
        )));
    }
    Ok(http::encode_component(value))
}

/// A query string under construction; names and values are percent-encoded.
#[derive(Default)]
pub(crate) struct Query {
    pairs: Vec<String>,
}

impl Query {
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        self.pairs.push(format!("{}={}", http::encode_component(name), http::encode_component(value)));
    }

    /// Appends the query to `path` (nothing when empty).
    pub(crate) fn append_to(&self, path: &str) -> String {
        if self.pairs.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", self.pairs.join("&"))
        }
    }
}

/// Checks that a JSON argument is an object, naming it in the error.
pub(crate) fn require_object(value: &Value, name: &str) -> Result<()> {
    if value.is_object() {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!("argument `{name}` must be a JSON object, not {value}")))
    }
}

impl Client {
    /// Sends an authenticated request with an optional JSON body and parses
    /// the JSON response. A 2xx response with an empty body gives
    /// `Value::Null`, because several endpoints (deletes, for example) may
    /// respond that way.
    pub(crate) fn send_json(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let data = match body {
            Some(value) => Some(serde_json::to_vec(value).map_err(|e| Error::internal(e.to_string()))?),
            None => None,
        };
        let mut make_body = || {
            Ok(match &data {
                Some(bytes) => RequestBody::Bytes { data: bytes.clone(), content_type: "application/json" },
                None => RequestBody::Empty,
            })
        };
        let limit = self.inner.config.max_response_bytes;
        let response = self.send_authenticated(method, path, "application/json", &mut make_body, None, limit)?;
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        parse_json(&response.body, method, path)
    }

    /// Sends an authenticated GET for a binary body, read up to the binary
    /// size limit ([`crate::ClientBuilder::max_binary_response_bytes`]).
    pub(crate) fn get_binary(&self, path: &str) -> Result<Vec<u8>> {
        let limit = self.inner.config.max_binary_response_bytes;
        let response = self.send_authenticated("GET", path, "*/*", &mut || Ok(RequestBody::Empty), None, limit)?;
        Ok(response.body)
    }
}

/// Decodes a JSON response into `T`, naming the request in the error.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(value: Value, method: &str, path: &str) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| Error::decode(format!("{method} {path} returned an unexpected JSON shape: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_encodes_awkward_ids() {
        assert_eq!(segment("a b/c", "id").unwrap(), "a%20b%2Fc");
        assert_eq!(segment("Zürich", "id").unwrap(), "Z%C3%BCrich");
    }

    #[test]
    fn segment_rejects_empty_and_dot_ids() {
        for bad in ["", ".", "..", "a\nb"] {
            let err = segment(bad, "entity_id").unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument, "{bad:?}");
            assert!(err.message().contains("entity_id"), "{err}");
        }
    }

    #[test]
    fn query_encodes_values() {
        let mut query = Query::default();
        query.push("fromDate", "2024-01-01T00:00:00+10:00");
        query.push("specification", "a b&c");
        assert_eq!(query.append_to("/x"), "/x?fromDate=2024-01-01T00%3A00%3A00%2B10%3A00&specification=a%20b%26c");
        assert_eq!(Query::default().append_to("/x"), "/x");
    }
}
