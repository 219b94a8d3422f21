//! In-memory state shared by all connections, behind one mutex.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use crate::auth::TokenStore;
use crate::document::Document;

#[derive(Default)]
pub struct State {
    pub tokens: TokenStore,
    pub files: HashMap<String, FileRecord>,
    /// Tags per company, by name. Which files carry a tag is stored on the
    /// files only, so the two views cannot disagree.
    pub tags: HashMap<String, BTreeMap<String, TagRecord>>,
    pub tasks: HashMap<String, TaskRecord>,
    /// Entities per (company, entity type), by entity id.
    pub entities: HashMap<(String, String), BTreeMap<String, Value>>,
    /// Annotations in creation order.
    pub annotations: Vec<Annotation>,
    /// Specifications per (company, name).
    pub specifications: HashMap<(String, String), Value>,
    /// Validation rules per (company, rules id).
    pub rules: HashMap<(String, String), Value>,
    /// Workflow data per (company, key).
    pub workflow_data: HashMap<(String, String), Value>,
}

impl State {
    /// Returns the file if it exists and belongs to `company_id`.
    pub fn company_file(&self, company_id: &str, file_id: &str) -> Option<&FileRecord> {
        self.files.get(file_id).filter(|f| f.company_id == company_id)
    }

    pub fn company_file_mut(&mut self, company_id: &str, file_id: &str) -> Option<&mut FileRecord> {
        self.files.get_mut(file_id).filter(|f| f.company_id == company_id)
    }

    /// Adds tag records for names not yet known to the company.
    pub fn ensure_tags(&mut self, company_id: &str, names: &[String]) {
        let tags = self.tags.entry(company_id.to_string()).or_default();
        for name in names {
            tags.entry(name.clone()).or_insert_with(|| TagRecord {
                name: name.clone(),
                description: None,
                created_at: SystemTime::now(),
            });
        }
    }
}

pub struct TagRecord {
    pub name: String,
    pub description: Option<String>,
    pub created_at: SystemTime,
}

pub struct TaskRecord {
    pub id: String,
    pub company_id: String,
    pub doc_id: String,
    pub specification: String,
    pub replication: u64,
    pub priority: Option<i64>,
    pub tags: Vec<String>,
    pub created_at: SystemTime,
}

pub struct Annotation {
    pub id: String,
    pub doc_id: String,
    pub company_id: String,
    pub task_id: Option<String>,
    pub user_id: String,
    pub specification: Option<String>,
    pub origin: String,
    pub created_at: SystemTime,
    pub fields: Vec<Value>,
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

impl FileRecord {
    /// Returns the key that orders file listings: upload time, then id.
    pub fn sort_key(&self) -> (SystemTime, &str) {
        (self.uploaded_at, &self.file_id)
    }
}
