//! `sypht_process_batch`: many uploads and their results in one call.

use std::ffi::c_char;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::boundary::{arg_str_array, guard, into_c_string};
use super::client::{client_ref, SyphtClient};
use super::error::SyphtError;
use crate::batch::BatchItem;
use crate::client::UploadOptions;
use crate::error::Error;

/// The largest `concurrency` that `sypht_process_batch` accepts.
pub const SYPHT_MAX_BATCH_CONCURRENCY: usize = 256;

/// Uploads the `paths_len` files in `paths` for extraction by `products`
/// and waits for each one's results, running up to `concurrency` documents
/// at a time (1 to `SYPHT_MAX_BATCH_CONCURRENCY`) on the client's
/// connections and token.
///
/// Returns a JSON array with one object per path, in the order of `paths`,
/// freed with `sypht_free_string`:
/// `{"path": ..., "fileId": ..., "fields": {name: value, ...}}` on success,
/// or `{"path": ..., "error": {"code": SYPHT_ERROR_*, "message": ...,
/// "httpStatus": number or null}}` when the document failed; `fileId` is
/// also present when the upload succeeded and the results failed. One
/// document's failure does not stop the others. Returns NULL (with
/// `*error` set) only for invalid arguments.
#[no_mangle]
pub extern "C" fn sypht_process_batch(
    client: *mut SyphtClient,
    paths: *const *const c_char,
    paths_len: usize,
    products: *const *const c_char,
    products_len: usize,
    concurrency: usize,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_process_batch", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let paths = arg_str_array(paths, paths_len, "paths")?;
        if let Some(index) = paths.iter().position(String::is_empty) {
            return Err(Error::invalid_argument(format!("argument `paths[{index}]` is empty")));
        }
        let products = arg_str_array(products, products_len, "products")?;
        if concurrency == 0 || concurrency > SYPHT_MAX_BATCH_CONCURRENCY {
            return Err(Error::invalid_argument(format!(
                "argument `concurrency` is {concurrency}; pass a value from 1 to {SYPHT_MAX_BATCH_CONCURRENCY}"
            )));
        }
        let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
        let options = UploadOptions { products, ..Default::default() };
        let items = client.process_batch(&paths, &options, concurrency);
        let array: Vec<Value> = items.iter().map(item_json).collect();
        into_c_string(Value::Array(array).to_string())
    })
}

/// Encodes one batch item in the shape documented on `sypht_process_batch`.
fn item_json(item: &BatchItem) -> Value {
    let mut object = Map::new();
    object.insert("path".to_string(), Value::from(item.path.to_string_lossy().into_owned()));
    if let Ok(id) = &item.file_id {
        object.insert("fileId".to_string(), Value::from(id.as_str()));
    }
    match (&item.file_id, &item.fields) {
        (Ok(_), Ok(fields)) => {
            object.insert("fields".to_string(), Value::Object(fields.clone()));
        }
        (Err(err), _) | (Ok(_), Err(err)) => {
            object.insert("error".to_string(), error_json(err));
        }
    }
    Value::Object(object)
}

fn error_json(err: &Error) -> Value {
    json!({
        "code": err.code(),
        "message": err.to_string(),
        "httpStatus": err.http_status(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn concurrency_limit_matches_rust_limit() {
        assert_eq!(SYPHT_MAX_BATCH_CONCURRENCY, crate::batch::MAX_CONCURRENCY);
    }

    #[test]
    fn item_json_shapes() {
        let ok = BatchItem {
            path: PathBuf::from("a.pdf"),
            file_id: Ok("id-1".to_string()),
            fields: Ok(Map::from_iter([("invoice.total".to_string(), Value::from("10.00"))])),
        };
        assert_eq!(item_json(&ok), json!({"path": "a.pdf", "fileId": "id-1", "fields": {"invoice.total": "10.00"}}));

        let missing = Error::new(ErrorKind::Io, "cannot open \"b.pdf\"");
        let failed_upload = BatchItem { path: PathBuf::from("b.pdf"), file_id: Err(missing.clone()), fields: Err(missing) };
        let value = item_json(&failed_upload);
        assert_eq!(value["path"], "b.pdf");
        assert!(value.get("fileId").is_none());
        assert_eq!(value["error"]["code"], ErrorKind::Io.code());
        assert_eq!(value["error"]["httpStatus"], Value::Null);

        let late = Error::new(ErrorKind::NotFinalised, "still IN PROGRESS");
        let failed_results = BatchItem { path: PathBuf::from("c.pdf"), file_id: Ok("id-3".to_string()), fields: Err(late) };
        let value = item_json(&failed_results);
        assert_eq!(value["fileId"], "id-3");
        assert_eq!(value["error"]["code"], ErrorKind::NotFinalised.code());
    }
}
