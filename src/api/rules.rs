//! Validation rules (`/workflows/{companyId}/rules/{rulesId}`: get, put,
//! delete) and workflow data (`/workflows/{companyId}/data/{dataKey}`: get
//! and put only, because the API has no delete for workflow data).
//!
//! `company_id` works as for tags: `None` uses this client's cached
//! company id.

use serde_json::{json, Value};

use super::segment;
use crate::client::Client;
use crate::error::Result;

impl Client {
    fn workflows_path(&self, company_id: Option<&str>, kind: &str, id: &str, name: &str) -> Result<String> {
        // Check the id before the company lookup, which may send a request.
        let id = segment(id, name)?;
        Ok(format!("/workflows/{}/{kind}/{id}", self.company_segment(company_id)?))
    }

    /// Fetches a set of validation rules.
    pub fn get_validation_rules(&self, rules_id: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.workflows_path(company_id, "rules", rules_id, "rules_id")?;
        self.send_json("GET", &path, None)
    }

    /// Stores a set of validation rules, sent as `{"data": rules, "schema":
    /// schema}`. The official Python client sends `schema: true` by default;
    /// what the flag changes on the server is not documented.
    pub fn set_validation_rules(
        &self,
        rules_id: &str,
        rules: &Value,
        schema: bool,
        company_id: Option<&str>,
    ) -> Result<Value> {
        let path = self.workflows_path(company_id, "rules", rules_id, "rules_id")?;
        self.send_json("PUT", &path, Some(&json!({ "data": rules, "schema": schema })))
    }

    /// Deletes a set of validation rules.
    pub fn delete_validation_rules(&self, rules_id: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.workflows_path(company_id, "rules", rules_id, "rules_id")?;
        self.send_json("DELETE", &path, None)
    }

    /// Fetches the workflow data stored under `data_key`.
    pub fn get_workflow_data(&self, data_key: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.workflows_path(company_id, "data", data_key, "data_key")?;
        self.send_json("GET", &path, None)
    }

    /// Stores any JSON value under `data_key`, sent as `{"data": data}`.
    pub fn set_workflow_data(&self, data_key: &str, data: &Value, company_id: Option<&str>) -> Result<Value> {
        let path = self.workflows_path(company_id, "data", data_key, "data_key")?;
        self.send_json("PUT", &path, Some(&json!({ "data": data })))
    }
}
