//! Company lookup (`GET /app/company/byclientid/{clientId}`) and the
//! per-client cache of the company id that company-scoped calls need.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{decode, segment};
use crate::client::Client;
use crate::error::{Error, Result};

/// A company record. Only `id` is documented; the rest is kept as given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Company {
    /// The company id (a UUID).
    pub id: String,
    /// The company's display name, when the server sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every other field of the record.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Client {
    /// Looks up the company that owns `client_id`, or this client's own id
    /// when `None`. This always sends a request; use [`Client::company_id`]
    /// for the cached id.
    pub fn get_company(&self, client_id: Option<&str>) -> Result<Company> {
        let client_id = client_id.unwrap_or_else(|| self.client_id());
        let path = format!("/app/company/byclientid/{}", segment(client_id, "client_id")?);
        let company: Company = decode(self.send_json("GET", &path, None)?, "GET", &path)?;
        if company.id.is_empty() {
            return Err(Error::decode(format!("GET {path} returned an empty company id")));
        }
        Ok(company)
    }

    /// Returns this client's company id, looking it up on first use and
    /// caching it for the life of the client and its clones. Concurrent
    /// first calls may each send a lookup; the first id stored wins.
    pub fn company_id(&self) -> Result<String> {
        if let Some(id) = self.inner.company_id.get() {
            return Ok(id.clone());
        }
        let company = self.get_company(None)?;
        Ok(self.inner.company_id.get_or_init(|| company.id).clone())
    }

    /// Returns `company_id` when given (checked and percent-encoded for a
    /// path), or else the cached company id of this client, encoded.
    pub(crate) fn company_segment(&self, company_id: Option<&str>) -> Result<String> {
        match company_id {
            Some(id) => segment(id, "company_id"),
            None => segment(&self.company_id()?, "company_id"),
        }
    }

    /// Like [`Client::company_segment`] but returns the id unencoded, for
    /// request bodies.
    pub(crate) fn resolve_company_id(&self, company_id: Option<&str>) -> Result<String> {
        match company_id {
            Some(id) => {
                segment(id, "company_id")?;
                Ok(id.to_string())
            }
            None => self.company_id(),
        }
    }
}
