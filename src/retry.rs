//! Retry decisions: which failures are retried, how long to wait, and the
//! per-call deadline.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant, SystemTime};

use crate::config::RetryPolicy;
use crate::error::{Error, ErrorKind, Result};

/// Statuses that mean "try again later".
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Longest `Retry-After` that a retry waits for. A server asking for a
/// longer wait gets its error returned at once rather than a thread that
/// blocks for up to a day (the parser's limit) when no call deadline is
/// set. NOTE: the value is a judgement, not taken from Sypht's docs.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The deadline and attempt count of one call.
pub(crate) struct Attempts {
    policy: RetryPolicy,
    start: Instant,
    deadline: Option<Instant>,
    retries: u32,
}

impl Attempts {
    pub(crate) fn new(policy: RetryPolicy, call_deadline: Option<Duration>) -> Attempts {
        let start = Instant::now();
        Attempts { policy, start, deadline: call_deadline.map(|d| start + d), retries: 0 }
    }

    /// Like [`Attempts::new`], with the call's deadline given as an instant
    /// (such as the deadline of the call that needs a token).
    pub(crate) fn until(policy: RetryPolicy, deadline: Option<Instant>) -> Attempts {
        Attempts { policy, start: Instant::now(), deadline, retries: 0 }
    }

    /// The instant by which the call must finish, if it has a deadline.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The timeout for the next attempt: `per_attempt`, cut to what is left
    /// of the call deadline. Fails once the deadline has passed.
    pub(crate) fn next_timeout(&self, per_attempt: Duration, what: &str) -> Result<Duration> {
        match self.deadline {
            None => Ok(per_attempt),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(self.deadline_error(what))
                } else {
                    Ok(per_attempt.min(left))
                }
            }
        }
    }

    fn deadline_error(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{what} did not complete within the call deadline of {:.1} s ({} attempts)",
                self.deadline.map(|d| (d - self.start).as_secs_f64()).unwrap_or(0.0),
                self.retries + 1
            ),
        )
    }

    /// Waits before the next retry and returns true, or returns false when
    /// no retry is left or the wait would pass the call deadline.
    /// `retry_after` is the server's `Retry-After`, which replaces the
    /// backoff; one longer than [`MAX_RETRY_AFTER`] is not waited for.
    pub(crate) fn wait_for_retry(&mut self, retry_after: Option<Duration>) -> bool {
        if self.retries >= self.policy.max_retries {
            return false;
        }
        if retry_after.is_some_and(|wait| wait > MAX_RETRY_AFTER) {
            return false;
        }
        let delay = retry_after.unwrap_or_else(|| self.backoff());
        if let Some(deadline) = self.deadline {
            if Instant::now() + delay >= deadline {
                return false;
            }
        }
        self.retries += 1;
        std::thread::sleep(delay);
        true
    }

    /// Exponential backoff with jitter: the n-th retry waits between half
    /// and all of `initial * 2^n`, capped at the maximum.
    fn backoff(&self) -> Duration {
        let exp = self.policy.initial_backoff.saturating_mul(1u32 << self.retries.min(16));
        let full = exp.min(self.policy.max_backoff);
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u32(self.retries);
        let fraction = (hasher.finish() % 1000) as f64 / 1000.0;
        full.mul_f64(0.5 + 0.5 * fraction)
    }

    pub(crate) fn retries(&self) -> u32 {
        self.retries
    }
}

/// Parses `Retry-After` given as delay seconds or as an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(24 * 3600)));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u64 = parts[1].parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == parts[2])? as u64
        + 1;
    let year: u64 = parts[3].parse().ok()?;
    let hms: Vec<u64> = parts[4].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3 || !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), after Howard Hinnant's
    // well-known algorithm.
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(), 784_111_777);
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
        };
        let mut attempts = Attempts::new(policy, None);
        let first = attempts.backoff();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        attempts.retries = 5;
        let capped = attempts.backoff();
        assert!(capped >= Duration::from_millis(200) && capped <= Duration::from_millis(400));
    }

    #[test]
    fn long_retry_after_is_not_waited_for() {
        let mut attempts = Attempts::new(RetryPolicy::default(), None);
        let start = Instant::now();
        assert!(!attempts.wait_for_retry(Some(MAX_RETRY_AFTER + Duration::from_secs(1))));
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(attempts.retries(), 0);
    }

    #[test]
    fn deadline_stops_retries() {
        let policy = RetryPolicy { max_retries: 5, ..RetryPolicy::default() };
        let mut attempts = Attempts::new(policy, Some(Duration::from_millis(50)));
        assert!(!attempts.wait_for_retry(Some(Duration::from_secs(1))));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(attempts.next_timeout(Duration::from_secs(1), "GET /x").unwrap_err().kind(), ErrorKind::Timeout);
    }
}
