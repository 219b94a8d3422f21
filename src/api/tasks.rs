//! Human-review specifications (`POST /app/specifications`) and tasks
//! (`POST /app/tasks`). Their responses are not documented and are returned
//! as JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::require_object;
use crate::client::Client;
use crate::error::{Error, Result};

/// A human-review task to create with [`Client::create_task`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewTask {
    /// The document to review.
    pub doc_id: String,
    /// The name of the specification the reviewers follow.
    pub specification: String,
    /// How many reviewers annotate the document (default 1).
    pub replication: u32,
    /// The task's priority; the server's default when `None`.
    pub priority: Option<i32>,
}

impl NewTask {
    /// A task reviewing `doc_id` against `specification` once, at the
    /// default priority.
    pub fn new(doc_id: impl Into<String>, specification: impl Into<String>) -> NewTask {
        NewTask { doc_id: doc_id.into(), specification: specification.into(), replication: 1, priority: None }
    }
}

impl Client {
    /// Creates or updates a task specification. Its schema is not
    /// documented; `specification` must be a JSON object.
    pub fn create_specification(&self, specification: &Value) -> Result<Value> {
        require_object(specification, "specification")?;
        self.send_json("POST", "/app/specifications", Some(specification))
    }

    /// Creates a human-review task for the company `company_id`, or this
    /// client's company when `None`.
    pub fn create_task(&self, task: &NewTask, company_id: Option<&str>) -> Result<Value> {
        if task.doc_id.is_empty() {
            return Err(Error::invalid_argument("the task's `doc_id` is empty"));
        }
        if task.specification.is_empty() {
            return Err(Error::invalid_argument("the task's `specification` is empty"));
        }
        if task.replication == 0 {
            return Err(Error::invalid_argument("the task's `replication` is 0; it must be at least 1"));
        }
        let company = self.resolve_company_id(company_id)?;
        let mut body = serde_json::Map::new();
        body.insert("docId".to_string(), Value::from(task.doc_id.as_str()));
        body.insert("companyId".to_string(), Value::from(company));
        body.insert("specification".to_string(), Value::from(task.specification.as_str()));
        body.insert("replication".to_string(), Value::from(task.replication));
        if let Some(priority) = task.priority {
            body.insert("priority".to_string(), Value::from(priority));
        }
        self.send_json("POST", "/app/tasks", Some(&Value::Object(body)))
    }
}
