//! Tags on documents and tasks, under `/app/company/{companyId}`.
//!
//! Every call takes `company_id`: `None` uses this client's company (looked
//! up once and cached), `Some` overrides it for that call. Response
//! bodies are returned as JSON because their shapes are not documented.

use serde_json::{json, Value};

use super::segment;
use crate::client::Client;
use crate::error::{Error, Result};

/// Checks a list of ids or tag names sent in a body, naming the argument.
fn check_list(items: &[&str], name: &str) -> Result<()> {
    for (i, item) in items.iter().enumerate() {
        if item.is_empty() {
            return Err(Error::invalid_argument(format!("argument `{name}[{i}]` is empty")));
        }
    }
    Ok(())
}

impl Client {
    fn tags_path(&self, company_id: Option<&str>, rest: &str) -> Result<String> {
        Ok(format!("/app/company/{}{rest}", self.company_segment(company_id)?))
    }

    /// Creates a tag named `name` with an optional description
    /// (`POST .../tags`).
    pub fn create_tag(&self, name: &str, description: Option<&str>, company_id: Option<&str>) -> Result<Value> {
        if name.is_empty() {
            return Err(Error::invalid_argument("argument `name` is empty"));
        }
        let path = self.tags_path(company_id, "/tags")?;
        self.send_json("POST", &path, Some(&json!({ "name": name, "description": description })))
    }

    /// Fetches a tag (`GET .../tags/{tag}`).
    pub fn get_tag(&self, tag: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.tags_path(company_id, &format!("/tags/{}", segment(tag, "tag")?))?;
        self.send_json("GET", &path, None)
    }

    /// Deletes a tag (`DELETE .../tags/{tag}`).
    pub fn delete_tag(&self, tag: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.tags_path(company_id, &format!("/tags/{}", segment(tag, "tag")?))?;
        self.send_json("DELETE", &path, None)
    }

    /// Lists the documents carrying `tag` (`GET .../tags/{tag}/documents`).
    pub fn get_tag_files(&self, tag: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.tags_path(company_id, &format!("/tags/{}/documents", segment(tag, "tag")?))?;
        self.send_json("GET", &path, None)
    }

    /// Replaces the set of documents carrying `tag`
    /// (`PUT .../tags/{tag}/documents`).
    pub fn set_tag_files(&self, tag: &str, file_ids: &[&str], company_id: Option<&str>) -> Result<Value> {
        check_list(file_ids, "file_ids")?;
        let path = self.tags_path(company_id, &format!("/tags/{}/documents", segment(tag, "tag")?))?;
        self.send_json("PUT", &path, Some(&json!({ "docs": file_ids })))
    }

    /// Adds documents to `tag`, keeping those already tagged
    /// (`PATCH .../tags/{tag}/documents`).
    pub fn add_tag_files(&self, tag: &str, file_ids: &[&str], company_id: Option<&str>) -> Result<Value> {
        check_list(file_ids, "file_ids")?;
        let path = self.tags_path(company_id, &format!("/tags/{}/documents", segment(tag, "tag")?))?;
        self.send_json("PATCH", &path, Some(&json!({ "docs": file_ids })))
    }

    /// Removes `tag` from one document
    /// (`DELETE .../tags/{tag}/documents/{fileId}`).
    pub fn remove_tag_file(&self, tag: &str, file_id: &str, company_id: Option<&str>) -> Result<Value> {
        let rest = format!("/tags/{}/documents/{}", segment(tag, "tag")?, segment(file_id, "file_id")?);
        let path = self.tags_path(company_id, &rest)?;
        self.send_json("DELETE", &path, None)
    }

    /// Lists the tags on a document (`GET .../documents/{fileId}/tags`).
    pub fn get_file_tags(&self, file_id: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.tags_path(company_id, &format!("/documents/{}/tags", segment(file_id, "file_id")?))?;
        self.send_json("GET", &path, None)
    }

    /// Replaces the tags on a document (`PUT .../documents/{fileId}/tags`).
    pub fn set_file_tags(&self, file_id: &str, tags: &[&str], company_id: Option<&str>) -> Result<Value> {
        check_list(tags, "tags")?;
        let path = self.tags_path(company_id, &format!("/documents/{}/tags", segment(file_id, "file_id")?))?;
        self.send_json("PUT", &path, Some(&json!({ "tags": tags })))
    }

    /// Adds tags to a document, keeping its other tags
    /// (`PATCH .../documents/{fileId}/tags`).
    pub fn add_file_tags(&self, file_id: &str, tags: &[&str], company_id: Option<&str>) -> Result<Value> {
        check_list(tags, "tags")?;
        let path = self.tags_path(company_id, &format!("/documents/{}/tags", segment(file_id, "file_id")?))?;
        self.send_json("PATCH", &path, Some(&json!({ "tags": tags })))
    }

    /// Adds and removes tags on many tasks in one call
    /// (`POST .../tasks/tags/batch`).
    pub fn update_task_tags(
        &self,
        task_ids: &[&str],
        add: &[&str],
        remove: &[&str],
        company_id: Option<&str>,
    ) -> Result<Value> {
        if task_ids.is_empty() {
            return Err(Error::invalid_argument("argument `task_ids` is empty"));
        }
        check_list(task_ids, "task_ids")?;
        check_list(add, "add")?;
        check_list(remove, "remove")?;
        let path = self.tags_path(company_id, "/tasks/tags/batch")?;
        self.send_json("POST", &path, Some(&json!({ "taskIds": task_ids, "add": add, "remove": remove })))
    }

    /// Lists the tags on a task (`GET .../tasks/{taskId}/tags`).
    pub fn get_task_tags(&self, task_id: &str, company_id: Option<&str>) -> Result<Value> {
        let path = self.tags_path(company_id, &format!("/tasks/{}/tags", segment(task_id, "task_id")?))?;
        self.send_json("GET", &path, None)
    }
}
