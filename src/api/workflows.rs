//! Workflows v2: queue a job (`POST /workflows/{workflowId}/jobs`) or run
//! a workflow and wait for its output (`POST /workflows/{workflowId}/invoke`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{decode, require_object, segment};
use crate::client::Client;
use crate::error::{Error, Result};

/// A queued workflow job, as documented for `/jobs`. Fields other than
/// `id` are optional because only one sample response is documented.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowJob {
    /// The job id.
    pub id: String,
    /// The workflow that runs, such as `"sypht.extract"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    /// The job state; `"new"` right after queueing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The document the job works on, when the inputs name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// The caller's company id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// Creation time as the server writes it (ISO 8601, possibly without
    /// a zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The inputs the job was queued with.
    #[serde(default)]
    pub inputs: Value,
    /// Every other field of the job.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The response to queueing a job: the job and the queue message id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowJobEnvelope {
    /// The queued job.
    pub job: WorkflowJob,
    /// The id of the queue message that carries the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

fn workflow_body(inputs: &Value, step_id: Option<&str>) -> Result<Value> {
    require_object(inputs, "inputs")?;
    if step_id == Some("") {
        return Err(Error::invalid_argument("argument `step_id` is empty; pass None to send null"));
    }
    Ok(json!({ "inputs": inputs, "step_id": step_id }))
}

impl Client {
    /// Queues a run of `workflow_id` (such as `"sypht.extract"` with inputs
    /// `{"file_id": ..., "product_ids": ["invoices:2"]}`) and returns the
    /// job. `inputs` must be a JSON object; `step_id` is sent as `null`
    /// when `None`. Read the output with [`Client::fetch_results`] once the
    /// job is done.
    pub fn create_workflow_job(
        &self,
        workflow_id: &str,
        inputs: &Value,
        step_id: Option<&str>,
    ) -> Result<WorkflowJobEnvelope> {
        let path = format!("/workflows/{}/jobs", segment(workflow_id, "workflow_id")?);
        let body = workflow_body(inputs, step_id)?;
        let answer = self.send_json("POST", &path, Some(&body))?;
        decode(answer, "POST", &path)
    }

    /// Runs `workflow_id` synchronously and returns its output, whose shape
    /// depends on the workflow. Arguments are as for
    /// [`Client::create_workflow_job`].
    pub fn invoke_workflow(&self, workflow_id: &str, inputs: &Value, step_id: Option<&str>) -> Result<Value> {
        let path = format!("/workflows/{}/invoke", segment(workflow_id, "workflow_id")?);
        let body = workflow_body(inputs, step_id)?;
        self.send_json("POST", &path, Some(&body))
    }
}
