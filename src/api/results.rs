//! Page images of a processed document (`GET /result/image/{fileId}`).

use super::{segment, Query};
use crate::client::Client;
use crate::error::{Error, Result};

impl Client {
    /// Fetches the image of page `page` (1-based) of a document, as the raw
    /// bytes the server sends (normally PNG), up to the binary size limit.
    pub fn fetch_page_image(&self, file_id: &str, page: u32) -> Result<Vec<u8>> {
        if page == 0 {
            return Err(Error::invalid_argument("argument `page` is 0; pages are numbered from 1"));
        }
        let mut query = Query::default();
        query.push("page", &page.to_string());
        let path = query.append_to(&format!("/result/image/{}", segment(file_id, "file_id")?));
        self.get_binary(&path)
    }
}
