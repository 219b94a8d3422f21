//! Uploads beyond v1 (`/fileupload/v2/multipart`, `/fileupload/json`) and
//! file management (`/app/docs/{fileId}` and its download).

use std::fmt;
use std::io::Read;
use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::segment;
use crate::client::{open_upload_file, parse_json, upload_fields, Client, FilePart, ProgressFn, UploadOptions};
use crate::error::{Error, Result};
use crate::http;

/// Options of a v2 upload (`POST /fileupload/v2/multipart`), which only
/// stores the file: processing starts with a workflow call.
#[derive(Clone, Default)]
pub struct UploadV2Options {
    /// Extra plain form fields sent before the file part, in order, such
    /// as `("splitState", "created_by_split")`.
    pub fields: Vec<(String, String)>,
    /// Overrides the file name sent to the server (default: the path's
    /// base name, or the name passed to [`Client::upload_bytes_v2`]).
    pub file_name: Option<String>,
    /// Receives upload progress.
    pub progress: Option<ProgressFn>,
}

impl fmt::Debug for UploadV2Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadV2Options")
            .field("fields", &self.fields)
            .field("file_name", &self.file_name)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

/// The response to an upload: the new document's id and its state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// The document id (`fileId`, or `id` when only that is given).
    #[serde(rename = "fileId")]
    pub file_id: String,
    /// When the server stored the file (ISO 8601), if it said.
    #[serde(rename = "uploadedAt", default, skip_serializing_if = "Option::is_none")]
    pub uploaded_at: Option<String>,
    /// The state, normally `"RECEIVED"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Every other field of the response.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl UploadedFile {
    /// Reads an upload response, accepting `id` when `fileId` is missing.
    fn from_answer(body: &[u8], path: &str) -> Result<UploadedFile> {
        let mut json = parse_json(body, "POST", path)?;
        if let Some(map) = json.as_object_mut() {
            if !map.contains_key("fileId") {
                if let Some(id) = map.get("id").cloned() {
                    map.insert("fileId".to_string(), id);
                }
            }
        }
        let uploaded: UploadedFile = serde_json::from_value(json).map_err(|e| {
            Error::decode(format!("POST {path} returned no usable fileId ({e}): {}", http::server_message(body)))
        })?;
        if uploaded.file_id.is_empty() {
            return Err(Error::decode(format!("POST {path} returned an empty fileId")));
        }
        Ok(uploaded)
    }
}

const UPLOAD_V2_PATH: &str = "/fileupload/v2/multipart";
const UPLOAD_JSON_PATH: &str = "/fileupload/json";

fn check_v2_fields(options: &UploadV2Options) -> Result<Vec<(&str, &str)>> {
    let mut fields = Vec::with_capacity(options.fields.len());
    for (name, value) in &options.fields {
        if name.is_empty() {
            return Err(Error::invalid_argument("a v2 upload form field has an empty name"));
        }
        if name == "file" {
            return Err(Error::invalid_argument(
                "the v2 upload form field name \"file\" is taken by the document itself",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::invalid_argument(format!(
                "the v2 upload form field name {name:?} contains control characters"
            )));
        }
        fields.push((name.as_str(), value.as_str()));
    }
    Ok(fields)
}

impl Client {
    /// Uploads the file at `path` (streamed from disk) with the v2 upload,
    /// which stores it without processing it. Start processing with
    /// [`Client::create_workflow_job`].
    pub fn upload_file_v2(&self, path: impl AsRef<Path>, options: &UploadV2Options) -> Result<UploadedFile> {
        let fields = check_v2_fields(options)?;
        let (file_name, mut open) = open_upload_file(path.as_ref(), options.file_name.as_deref())?;
        let part = FilePart { field: "file", file_name: &file_name, progress: options.progress.clone() };
        let response = self.send_multipart(UPLOAD_V2_PATH, &fields, part, &mut open)?;
        UploadedFile::from_answer(&response.body, UPLOAD_V2_PATH)
    }

    /// Uploads a document held in memory with the v2 upload, under
    /// `file_name` unless the options override it.
    pub fn upload_bytes_v2(&self, data: &[u8], file_name: &str, options: &UploadV2Options) -> Result<UploadedFile> {
        let fields = check_v2_fields(options)?;
        let name = options.file_name.as_deref().unwrap_or(file_name);
        let part = FilePart { field: "file", file_name: name, progress: options.progress.clone() };
        let mut open = || Ok((Box::new(data) as Box<dyn Read>, data.len() as u64));
        let response = self.send_multipart(UPLOAD_V2_PATH, &fields, part, &mut open)?;
        UploadedFile::from_answer(&response.body, UPLOAD_V2_PATH)
    }

    /// Uploads a document held in memory as base64 inside a JSON body
    /// (`POST /fileupload/json`) and starts processing it like
    /// [`Client::upload_bytes`].
    ///
    /// The body carries `fileToUpload` (standard base64 with padding) and
    /// `fileName`, plus the same settings as a v1 upload with real JSON
    /// arrays and objects: `products` or `fieldSets`, `tags`, `workflowId`,
    /// `workflowOptions` and `parentDocId`. The progress callback of the
    /// options is not used, because the body is built in memory.
    pub fn upload_json(&self, data: &[u8], file_name: &str, options: &UploadOptions) -> Result<UploadedFile> {
        let name = options.file_name.as_deref().unwrap_or(file_name);
        if name.is_empty() {
            return Err(Error::invalid_argument("the upload's file name is empty"));
        }
        let mut body = Map::new();
        body.insert("fileToUpload".to_string(), Value::String(base64::engine::general_purpose::STANDARD.encode(data)));
        body.insert("fileName".to_string(), Value::String(name.to_string()));
        let mut tags = Vec::new();
        // The v1 form fields carry arrays and objects as JSON text; parse
        // them back so the JSON body holds real values.
        for (field, value) in upload_fields(options)? {
            match field {
                "products" | "fieldSets" | "workflowOptions" => {
                    let parsed = serde_json::from_str(&value).map_err(|e| Error::internal(e.to_string()))?;
                    body.insert(field.to_string(), parsed);
                }
                "tags" => tags.push(Value::String(value)),
                _ => {
                    body.insert(field.to_string(), Value::String(value));
                }
            }
        }
        if !tags.is_empty() {
            body.insert("tags".to_string(), Value::Array(tags));
        }
        let answer = self.send_json("POST", UPLOAD_JSON_PATH, Some(&Value::Object(body)))?;
        let bytes = serde_json::to_vec(&answer).map_err(|e| Error::internal(e.to_string()))?;
        UploadedFile::from_answer(&bytes, UPLOAD_JSON_PATH)
    }

    /// Fetches a document's metadata (`GET /app/docs/{fileId}`). The
    /// fields are not documented, so the whole JSON object is returned.
    pub fn get_file_metadata(&self, file_id: &str) -> Result<Value> {
        let path = format!("/app/docs/{}", segment(file_id, "file_id")?);
        self.send_json("GET", &path, None)
    }

    /// Downloads the original bytes of a document
    /// (`GET /app/docs/{fileId}/download`), up to the binary size limit.
    pub fn download_file(&self, file_id: &str) -> Result<Vec<u8>> {
        let path = format!("/app/docs/{}/download", segment(file_id, "file_id")?);
        self.get_binary(&path)
    }
}
