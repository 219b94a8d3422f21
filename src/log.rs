//! Library log records. Silent unless a log callback is installed.
//!
//! Messages never contain secrets or tokens: callers pass text that is
//! already redacted.

pub(crate) fn info(message: &str) {
    emit(2, message);
}

pub(crate) fn warn(message: &str) {
    emit(3, message);
}

pub(crate) fn error(message: &str) {
    emit(4, message);
}

fn emit(_level: i32, _message: &str) {}
