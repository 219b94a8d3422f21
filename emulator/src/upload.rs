//! Upload endpoints: multipart v1 (`/fileupload`), multipart v2
//! (`/fileupload/v2/multipart`) and base64 JSON (`/fileupload/json`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::document::{Document, Spool, SpoolError};
use crate::http::{BodyReader, Request, Response};
use crate::multipart::{boundary_from_content_type, MultipartError, MultipartReader, PartError};
use crate::results::check_products;
use crate::server::Shared;
use crate::state::{FileRecord, Processing};
use crate::util::{iso_millis, new_uuid};

/// Limit on one plain form field, and on all of them together.
const MAX_TEXT_PART_BYTES: usize = 1024 * 1024;
const MAX_TEXT_TOTAL_BYTES: usize = 4 * 1024 * 1024;
/// Allowance for form fields and framing on top of the document size.
const MULTIPART_OVERHEAD_BYTES: u64 = 1024 * 1024;

/// A parsed multipart upload: the document and the plain form fields.
pub struct Received {
    pub document: Document,
    pub file_name: String,
    pub fields: Vec<(String, String)>,
}

impl Received {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }
}

fn bad_request(error: &str, message: &str) -> Response {
    Response::error(400, error, message)
}

fn too_large(max: u64) -> Response {
    bad_request(
        "file_too_large",
        &format!("document exceeds the maximum upload size of {max} bytes; send a smaller file"),
    )
}

fn spool_error(error: SpoolError) -> Response {
    match error {
        SpoolError::TooLarge { max } => too_large(max),
        SpoolError::Unsupported(found) => bad_request(
            "unsupported_file_type",
            &format!("unsupported document type: {found}; accepted types are PDF, PNG, JPEG, TIFF and GIF"),
        ),
        SpoolError::Io(error) => Response::error(500, "internal_error", &format!("failed to store the upload: {error}")),
    }
}

fn multipart_error(error: MultipartError) -> Response {
    match error {
        MultipartError::Malformed(message) => bad_request("invalid_multipart", &format!("invalid multipart body: {message}")),
        MultipartError::Io(error) => {
            let mut response = bad_request("invalid_body", &format!("failed to read the request body: {error}"));
            response.close = true;
            response
        }
    }
}

/// Reads a multipart body, storing the first file part named `file_field`
/// as the document. Text parts with that name and other file parts are
/// ignored.
pub fn receive_multipart(
    shared: &Shared,
    request: &Request,
    body: &mut BodyReader,
    file_field: &str,
) -> Result<Received, Response> {
    let content_type = request.header("content-type").unwrap_or("");
    let Some(boundary) = boundary_from_content_type(content_type) else {
        return Err(bad_request(
            "invalid_content_type",
            "Content-Type must be multipart/form-data with a boundary parameter",
        ));
    };
    let max = shared.config.max_upload_bytes;
    if request.content_length().is_some_and(|n| n > max.saturating_add(MULTIPART_OVERHEAD_BYTES)) {
        return Err(too_large(max));
    }
    let mut reader = MultipartReader::new(body, &boundary);
    let mut document = None;
    let mut fields = Vec::new();
    let mut text_total = 0;
    loop {
        let head = match reader.next_part() {
            Ok(Some(head)) => head,
            Ok(None) => break,
            Err(error) => return Err(multipart_error(error)),
        };
        if head.filename.is_some() {
            if head.name != file_field || document.is_some() {
                reader.read_part_data(&mut |_| Ok::<(), ()>(())).map_err(|e| multipart_error(e.into()))?;
                continue;
            }
            let spill = shared_spill_path(shared);
            let mut spool = Spool::new(max, spill);
            match reader.read_part_data(&mut |piece| spool.write(piece)) {
                Ok(()) => {}
                Err(PartError::Sink(error)) => return Err(spool_error(error)),
                Err(PartError::Multipart(error)) => return Err(multipart_error(error)),
            }
            let stored = spool.finish().map_err(spool_error)?;
            document = Some((stored, head.filename.unwrap_or_default()));
            continue;
        }
        let value = match reader.read_part_to_vec(MAX_TEXT_PART_BYTES) {
            Ok(value) => value,
            Err(PartError::Sink(limit)) => {
                return Err(bad_request("invalid_field", &format!("form field {:?} exceeds {limit} bytes", head.name)))
            }
            Err(PartError::Multipart(error)) => return Err(multipart_error(error)),
        };
        text_total += value.len();
        if text_total > MAX_TEXT_TOTAL_BYTES {
            return Err(bad_request("invalid_field", "form fields exceed 4 MiB in total"));
        }
        let Ok(value) = String::from_utf8(value) else {
            return Err(bad_request("invalid_field", &format!("form field {:?} is not valid UTF-8", head.name)));
        };
        if head.name != file_field {
            fields.push((head.name, value));
        }
    }
    let Some((document, file_name)) = document else {
        return Err(bad_request(
            "missing_file",
            &format!("missing file part {file_field:?}: send the document as a form-data part with that name and a filename"),
        ));
    };
    check_page_limit(shared, &document)?;
    Ok(Received { document, file_name, fields })
}

fn shared_spill_path(shared: &Shared) -> Box<dyn FnMut() -> std::io::Result<std::path::PathBuf> + Send> {
    let path = shared.new_spool_path();
    let mut path = Some(path);
    Box::new(move || path.take().unwrap_or_else(|| Err(std::io::Error::other("spool path already used"))))
}

fn check_page_limit(shared: &Shared, document: &Document) -> Result<(), Response> {
    let max_pages = shared.config.max_pdf_pages;
    if max_pages > 0 && document.page_count > max_pages {
        return Err(bad_request(
            "too_many_pages",
            &format!("document has {} pages, more than the limit of {max_pages}", document.page_count),
        ));
    }
    Ok(())
}

/// Parses a field holding a JSON array of strings, such as `["invoices:2"]`.
fn parse_string_array(name: &str, text: &str) -> Result<Vec<String>, Response> {
    let invalid = || {
        bad_request(
            "invalid_field",
            &format!("{name} must be a JSON array of strings, such as [\"invoices\"]; got {text:?}"),
        )
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items.into_iter().map(|item| item.as_str().map(str::to_string).ok_or_else(invalid)).collect(),
        _ => Err(invalid()),
    }
}

/// Options shared by the v1 multipart and JSON uploads.
pub struct UploadOptions {
    pub products: Vec<String>,
    pub workflow_id: Option<String>,
    pub workflow_options: Option<Value>,
    pub tags: Vec<String>,
    pub parent_doc_id: Option<String>,
}

/// Checks the product selector: exactly one of `products`, `fieldSets` or
/// `fieldSet`, holding known ids. An empty or missing selector is allowed
/// only together with a workflow id.
pub fn check_selector(
    products: Option<Vec<String>>,
    field_sets: Option<Vec<String>>,
    field_set: Option<String>,
    workflow_id: Option<&str>,
) -> Result<Vec<String>, Response> {
    let given = [products.is_some(), field_sets.is_some(), field_set.is_some()].iter().filter(|g| **g).count();
    if given > 1 {
        return Err(bad_request("invalid_field", "send only one of products, fieldSets or fieldSet"));
    }
    let ids = products.or(field_sets).or(field_set.map(|id| vec![id])).unwrap_or_default();
    if ids.is_empty() && workflow_id.is_none() {
        return Err(bad_request(
            "missing_products",
            "missing products: send products (or fieldSets) as a JSON array of product ids, such as [\"invoices\"]",
        ));
    }
    check_products(&ids).map_err(|message| bad_request("invalid_product", &message))?;
    Ok(ids)
}

fn parse_workflow_options(text: &str) -> Result<Value, Response> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(bad_request("invalid_field", "workflowOptions must be a string holding a JSON object")),
    }
}

/// Handles `POST /fileupload`.
pub fn upload_v1(shared: &Shared, caller: &Caller, request: &Request, body: &mut BodyReader) -> Response {
    let received = match receive_multipart(shared, request, body, "fileToUpload") {
        Ok(received) => received,
        Err(response) => return response,
    };
    let parse_array = |name: &str| received.field(name).map(|text| parse_string_array(name, text)).transpose();
    let options = (|| {
        let products = parse_array("products")?;
        let field_sets = parse_array("fieldSets")?;
        let field_set = received.field("fieldSet").map(str::to_string);
        let workflow_id = received.field("workflowId").filter(|w| !w.is_empty()).map(str::to_string);
        let products = check_selector(products, field_sets, field_set, workflow_id.as_deref())?;
        let workflow_options = received.field("workflowOptions").map(parse_workflow_options).transpose()?;
        Ok::<_, Response>(UploadOptions {
            products,
            workflow_id,
            workflow_options,
            tags: received.all("tags"),
            parent_doc_id: received.field("parentDocId").filter(|p| !p.is_empty()).map(str::to_string),
        })
    })();
    let options = match options {
        Ok(options) => options,
        Err(response) => return response,
    };
    match store_v1(shared, caller, received.document, received.file_name, options) {
        Ok((file_id, uploaded_at)) => {
            Response::json(200, &json!({ "fileId": file_id, "uploadedAt": uploaded_at, "status": "RECEIVED" }))
        }
        Err(response) => response,
    }
}

/// Handles `POST /fileupload/v2/multipart`: stores the `file` part without
/// starting any processing. Other plain fields are kept as sent.
pub fn upload_v2(shared: &Shared, caller: &Caller, request: &Request, body: &mut BodyReader) -> Response {
    let received = match receive_multipart(shared, request, body, "file") {
        Ok(received) => received,
        Err(response) => return response,
    };
    let tags = received.all("tags");
    let record = new_record(shared, caller, received.document, received.file_name, Processing::NotStarted);
    let (file_id, uploaded_at) = (record.file_id.clone(), iso_millis(record.uploaded_at));
    let mut record = record;
    record.extra_fields = received.fields.into_iter().filter(|(name, _)| name != "tags").collect();
    record.tags = dedup(tags);
    let mut state = shared.state();
    state.ensure_tags(&caller.company_id, &record.tags);
    state.files.insert(file_id.clone(), record);
    Response::json(
        200,
        &json!({ "id": file_id, "fileId": file_id, "uploadedAt": uploaded_at, "status": "RECEIVED" }),
    )
}

/// Reads an optional selector from the JSON upload, which may be a JSON
/// array or, as in the multipart form, a string holding one.
fn json_selector(object: &serde_json::Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, Response> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => parse_string_array(name, text).map(Some),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    bad_request("invalid_field", &format!("{name} must be a JSON array of strings"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad_request("invalid_field", &format!("{name} must be a JSON array of strings"))),
    }
}

fn json_optional_string(object: &serde_json::Map<String, Value>, name: &str) -> Result<Option<String>, Response> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(bad_request("invalid_field", &format!("{name} must be a string"))),
    }
}

/// Handles `POST /fileupload/json`: the v1 upload with the document as a
/// base64 string in `fileToUpload`.
pub fn upload_json(shared: &Shared, caller: &Caller, body: &mut BodyReader) -> Response {
    let max = shared.config.max_upload_bytes;
    // Base64 needs 4 bytes for every 3, plus room for the other fields.
    let body_limit = max.saturating_mul(4) / 3 + 4 + MULTIPART_OVERHEAD_BYTES;
    let bytes = match body.read_to_vec(body_limit) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::InvalidData => return too_large(max),
        Err(error) => {
            let mut response = bad_request("invalid_body", &format!("failed to read the request body: {error}"));
            response.close = true;
            return response;
        }
    };
    let object = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return bad_request("invalid_body", "request body must be a JSON object"),
        Err(error) => return bad_request("invalid_json", &format!("request body is not valid JSON: {error}")),
    };
    drop(bytes);
    let result = (|| {
        let encoded = match object.get("fileToUpload") {
            Some(Value::String(text)) => text,
            Some(_) => return Err(bad_request("invalid_field", "fileToUpload must be a base64 string")),
            None => return Err(bad_request("missing_file", "missing fileToUpload: send the document as a base64 string")),
        };
        let cleaned: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(cleaned.as_bytes())
            .map_err(|error| bad_request("invalid_field", &format!("fileToUpload is not valid standard base64: {error}")))?;
        let mut spool = Spool::new(max, shared_spill_path(shared));
        for piece in decoded.chunks(1024 * 1024) {
            spool.write(piece).map_err(spool_error)?;
        }
        drop(decoded);
        let document = spool.finish().map_err(spool_error)?;
        check_page_limit(shared, &document)?;
        let workflow_id = json_optional_string(&object, "workflowId")?;
        let field_set = json_optional_string(&object, "fieldSet")?;
        let products = check_selector(
            json_selector(&object, "products")?,
            json_selector(&object, "fieldSets")?,
            field_set,
            workflow_id.as_deref(),
        )?;
        let workflow_options = match object.get("workflowOptions") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(parse_workflow_options(text)?),
            Some(value @ Value::Object(_)) => Some(value.clone()),
            Some(_) => return Err(bad_request("invalid_field", "workflowOptions must be a JSON object")),
        };
        let tags = match object.get("tags") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(tag)) => vec![tag.clone()],
            Some(_) => json_selector(&object, "tags")?.unwrap_or_default(),
        };
        let options = UploadOptions {
            products,
            workflow_id,
            workflow_options,
            tags,
            parent_doc_id: json_optional_string(&object, "parentDocId")?,
        };
        let file_name = json_optional_string(&object, "fileName")?.unwrap_or_else(|| "upload".to_string());
        store_v1(shared, caller, document, file_name, options)
    })();
    match result {
        Ok((file_id, uploaded_at)) => {
            Response::json(200, &json!({ "fileId": file_id, "uploadedAt": uploaded_at, "status": "RECEIVED" }))
        }
        Err(response) => response,
    }
}

fn new_record(shared: &Shared, caller: &Caller, document: Document, file_name: String, processing: Processing) -> FileRecord {
    FileRecord {
        file_id: new_uuid(),
        company_id: caller.company_id.clone(),
        file_name,
        uploaded_at: SystemTime::now(),
        document: Arc::new(document),
        processing,
        workflow_id: None,
        workflow_options: None,
        tags: Vec::new(),
        parent_doc_id: None,
        extra_fields: Vec::new(),
        pending_polls_left: shared.pending_polls.load(Ordering::SeqCst),
        finalised_at: None,
    }
}

/// Product ids for the children of a v1 split, from
/// `workflowOptions.prediction.childWorkflowOptions.prediction`, falling
/// back to the upload's own selector.
fn split_child_products(options: &UploadOptions) -> Result<Vec<String>, Response> {
    let child = options
        .workflow_options
        .as_ref()
        .and_then(|o| o.pointer("/prediction/childWorkflowOptions/prediction"))
        .and_then(Value::as_object);
    let from_options = match child {
        Some(child) => json_selector(child, "products")?.or(json_selector(child, "fieldSets")?),
        None => None,
    };
    let products = from_options.unwrap_or_else(|| options.products.clone());
    check_products(&products).map_err(|message| bad_request("invalid_product", &message))?;
    Ok(products)
}

/// Stores a v1 upload and returns its file id and upload time. A `split`
/// workflow creates the child files at once.
pub fn store_v1(
    shared: &Shared,
    caller: &Caller,
    document: Document,
    file_name: String,
    options: UploadOptions,
) -> Result<(String, String), Response> {
    let split_products = match options.workflow_id.as_deref() {
        Some("split") => Some(split_child_products(&options)?),
        _ => None,
    };
    let mut record = new_record(shared, caller, document, file_name, Processing::Extract { products: options.products });
    record.workflow_id = options.workflow_id;
    record.workflow_options = options.workflow_options;
    record.tags = dedup(options.tags);
    record.parent_doc_id = options.parent_doc_id;
    let file_id = record.file_id.clone();
    let uploaded_at = iso_millis(record.uploaded_at);
    let mut state = shared.state();
    state.ensure_tags(&caller.company_id, &record.tags);
    state.files.insert(file_id.clone(), record);
    if let Some(products) = split_products {
        crate::workflows::split_file(&mut state, &file_id, products, shared.pending_polls.load(Ordering::SeqCst));
    }
    Ok((file_id, uploaded_at))
}

fn dedup(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}
