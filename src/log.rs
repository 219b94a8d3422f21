//! Library log records. Silent unless a log callback is installed with
//! [`set_log_callback`].
//!
//! Messages never contain secrets or tokens: callers pass text that is
//! already redacted.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Severity of a log record, from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Detail useful when debugging the library.
    Debug,
    /// Normal events, such as a fetched access token.
    Info,
    /// A failure the library recovers from, such as a retried request.
    Warn,
    /// A failure returned to the caller.
    Error,
}

/// Receives every log record, from whichever thread emits it.
pub type LogFn = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// Lets `emit` skip the lock while no callback is installed.
static ENABLED: AtomicBool = AtomicBool::new(false);
static CALLBACK: RwLock<Option<LogFn>> = RwLock::new(None);

/// Installs `callback` as the process-wide receiver of log records, or
/// removes it with `None`.
///
/// When this returns, no call of the previous callback is still running,
/// so whatever it borrows may be released. A callback must not call
/// `set_log_callback` itself, since that would wait for its own return.
pub fn set_log_callback(callback: Option<LogFn>) {
    let mut slot = CALLBACK
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    ENABLED.store(callback.is_some(), Ordering::Release);
    *slot = callback;
}

pub(crate) fn info(message: &str) {
    emit(LogLevel::Info, message);
}

pub(crate) fn warn(message: &str) {
    emit(LogLevel::Warn, message);
}

pub(crate) fn error(message: &str) {
    emit(LogLevel::Error, message);
}

fn emit(level: LogLevel, message: &str) {
    if !ENABLED.load(Ordering::Acquire) {
        return;
    }
    // The read lock is held during the call so that `set_log_callback`
    // can promise the old callback has returned.
    let slot = CALLBACK
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(callback) = slot.as_ref() {
        // A panicking callback must not fail the request that logged.
        let _ = catch_unwind(AssertUnwindSafe(|| callback(level, message)));
    }
}

/// Serialises the tests that install a process-wide callback.
#[cfg(test)]
pub(crate) static TEST_CALLBACK_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn callback_install_receive_remove() {
        let _serial = TEST_CALLBACK_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let records = Arc::new(Mutex::new(Vec::new()));
        let sink = records.clone();
        set_log_callback(Some(Arc::new(move |level, message: &str| {
            // Other tests may log meanwhile: keep only this test's records.
            if message.starts_with("log test ") {
                sink.lock().unwrap().push((level, message.to_string()));
            }
        })));
        info("log test first");
        warn("log test second");
        error("log test third");
        set_log_callback(Some(Arc::new(|_, _| panic!("callback panics"))));
        info("a panicking callback is contained");
        set_log_callback(None);
        info("log test not received");

        let records = records.lock().unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], (LogLevel::Info, "log test first".to_string()));
        assert_eq!(records[1], (LogLevel::Warn, "log test second".to_string()));
        assert_eq!(records[2], (LogLevel::Error, "log test third".to_string()));
    }
}
