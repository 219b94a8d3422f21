//! libsypht: a blocking client for the Sypht document-extraction API, with
//! a C ABI (see `include/sypht.h`).
//!
//! ```no_run
//! let client = sypht::Client::from_env()?;
//! let file_id = client.upload_file("invoice.pdf", &sypht::UploadOptions::products(["invoices"]))?;
//! let fields = client.get_results(&file_id)?;
//! println!("{}", serde_json::Value::Object(fields));
//! # Ok::<(), sypht::Error>(())
//! ```

mod api;
mod auth;
mod batch;
mod client;
mod config;
mod error;
mod http;
mod log;
mod multipart;
mod retry;

pub mod ffi;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use api::{
    AnnotationField, AnnotationFilter, AnnotationList, AnnotationValue, BulkEntity, Company, EntityPage, NewTask, PagingOptions,
    UploadV2Options, UploadedFile, WorkflowJob, WorkflowJobEnvelope, DEFAULT_ENTITY_BATCH_SIZE, DEFAULT_RECORD_LIMIT,
};
pub use batch::BatchItem;
pub use client::{Client, ProgressFn, RawResponse, ResultsOptions, ResultsResponse, UploadOptions};
pub use config::{
    AuthFlow, ClientBuilder, RetryPolicy, DEFAULT_API_BASE, DEFAULT_AUTH_ENDPOINT, ENV_API_BASE, ENV_API_KEY, ENV_AUDIENCE,
    ENV_AUTH_ENDPOINT, LEGACY_AUTH_ENDPOINT, MAX_CA_FILE_BYTES,
};
pub use error::{Error, ErrorKind, Result};
pub use log::{set_log_callback, LogFn, LogLevel};

/// The library version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
