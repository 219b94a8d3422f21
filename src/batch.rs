//! Batch processing: uploads many documents and waits for their results,
//! several at a time, on one client.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::client::{Client, UploadOptions};
use crate::error::{Error, Result};

/// The maximum number of worker threads [`Client::process_batch`] starts,
/// whatever concurrency is requested.
pub(crate) const MAX_CONCURRENCY: usize = 256;

/// The outcome of one document of a batch.
#[derive(Clone, Debug)]
pub struct BatchItem {
    /// The path as given.
    pub path: PathBuf,
    /// The new document's `fileId`, or the reason the upload failed.
    pub file_id: Result<String>,
    /// The results as a map from field name to value, or the reason they
    /// could not be read. After a failed upload this is the upload's error.
    pub fields: Result<Map<String, Value>>,
}

impl BatchItem {
    fn failed(path: &Path, err: Error) -> BatchItem {
        BatchItem { path: path.to_path_buf(), file_id: Err(err.clone()), fields: Err(err) }
    }

    /// Returns the first error of this document (upload, then results), if
/// any.
    pub fn error(&self) -> Option<&Error> {
        self.file_id.as_ref().err().or(self.fields.as_ref().err())
    }
}

impl Client {
    /// Uploads each file in `paths` with `options` and waits for its
    /// results (up to the results deadline), running up to `concurrency`
    /// documents at a time on this client's connection pool and token.
    ///
    /// Returns one item per path, in the order of `paths`. A failure of one
    /// document (a missing file, a rejected upload, results that are not
    /// finalised in time) is stored in its item and does not stop the
    /// others. `concurrency` is clamped to 1..=256
    /// and to the number of paths.
    ///
    /// When `options.progress` is set it is called after each document
    /// finishes, successfully or not, with (documents finished, documents
    /// in the batch), from the worker thread that finished it. The uploads
    /// themselves report no byte progress, because the byte counts of
    /// concurrent uploads would interleave.
    pub fn process_batch(&self, paths: &[PathBuf], options: &UploadOptions, concurrency: usize) -> Vec<BatchItem> {
        let total = paths.len();
        let workers = concurrency.clamp(1, MAX_CONCURRENCY).min(total.max(1));
        let per_document = UploadOptions { progress: None, ..options.clone() };
        let next = AtomicUsize::new(0);
        let finished = AtomicU64::new(0);
        let slots: Mutex<Vec<Option<BatchItem>>> = Mutex::new(vec![None; total]);

        let work = || loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = paths.get(index) else {
                return;
            };
            // A panic (say, in the progress callback) fails this document
            // only; the worker goes on with the next one.
            let item = catch_unwind(AssertUnwindSafe(|| self.process_document(path, &per_document)))
                .unwrap_or_else(|_| BatchItem::failed(path, panicked(path)));
            slots.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(item);
            let done = finished.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(callback) = &options.progress {
                let _ = catch_unwind(AssertUnwindSafe(|| callback(done, total as u64)));
            }
        };

        std::thread::scope(|scope| {
            // The calling thread is one of the workers, so a failure to
            // start threads lowers the concurrency but never stops the batch.
            for n in 1..workers {
                let spawned = std::thread::Builder::new().name(format!("sypht-batch-{n}")).spawn_scoped(scope, work);
                if let Err(err) = spawned {
                    crate::log::warn(&format!("could not start batch worker {n} ({err}); continuing with {n}"));
                    break;
                }
            }
            work();
        });

        let slots = slots.into_inner().unwrap_or_else(|p| p.into_inner());
        slots
            .into_iter()
            .zip(paths)
            .map(|(slot, path)| slot.unwrap_or_else(|| BatchItem::failed(path, panicked(path))))
            .collect()
    }

    fn process_document(&self, path: &Path, options: &UploadOptions) -> BatchItem {
        let file_id = self.upload_file(path, options);
        let fields = match &file_id {
            Ok(id) => self.get_results(id),
            Err(err) => Err(err.clone()),
        };
        BatchItem { path: path.to_path_buf(), file_id, fields }
    }
}

fn panicked(path: &Path) -> Error {
    Error::internal(format!("processing {:?} panicked; please report this bug", path.display().to_string()))
}
