//! In-memory state shared by all connections, behind one mutex.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use crate::auth::TokenStore;
use crate::document::Document;

#[derive(Default)]
pub struct State {
    pub tokens: TokenStore,
    pub files: HashMap<String, FileRecord>,
}

/// What processing a file has been asked for.
#[derive(Clone, Debug)]
pub enum Processing {
    /// Uploaded through the v2 endpoint; nothing runs until a workflow job.
    NotStarted,
    /// Extraction with these product or fieldset ids (possibly none).
    Extract { products: Vec<String> },
    /// Smart split; the parent's results list these child file ids.
    Split { children: Vec<String> },
}

pub struct FileRecord {
    pub file_id: String,
    pub company_id: String,
    pub file_name: String,
    pub uploaded_at: SystemTime,
    pub document: Arc<Document>,
    pub processing: Processing,
    pub workflow_id: Option<String>,
    pub workflow_options: Option<Value>,
    pub tags: Vec<String>,
    pub parent_doc_id: Option<String>,
    /// Plain form fields of a v2 upload, kept as sent.
    pub extra_fields: Vec<(String, String)>,
    /// `"IN PROGRESS"` answers left before results are final.
    pub pending_polls_left: u32,
    /// Set when the results are first reported as final.
    pub finalised_at: Option<SystemTime>,
}
