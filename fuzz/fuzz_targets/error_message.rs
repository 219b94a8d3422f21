//! Error bodies and header values: messages built from them stay free of
//! control characters and short, and scrubbing removes every secret.

#![no_main]

use libfuzzer_sys::fuzz_target;

/// Maximum message length: 512 characters of server text plus the
/// truncation marker, in up to 4 bytes each.
const MAX_MESSAGE_BYTES: usize = (512 + 15) * 4;

fuzz_target!(|input: (u16, &[u8], &str, &str)| {
    let (status, body, text, secret) = input;
    let message = sypht::fuzzing::server_message(body);
    assert!(!message.chars().any(char::is_control), "{message:?}");
    assert!(message.len() <= MAX_MESSAGE_BYTES);

    let err = sypht::fuzzing::status_error(status, body);
    assert_eq!(err.http_status(), Some(status));
    assert!(!err.message().chars().any(char::is_control));

    let sanitized = sypht::fuzzing::sanitize_server_text(text);
    assert!(!sanitized.chars().any(char::is_control));
    assert!(sanitized.chars().count() <= 512 + 15);

    let _ = sypht::fuzzing::parse_retry_after(text);
    if let Ok(id) = sypht::fuzzing::parse_api_key(text) {
        assert!(!id.is_empty());
    }
    let _ = sypht::fuzzing::matches_no_proxy(secret, text);

    let mut scrubbed = body.to_vec();
    sypht::fuzzing::scrub_secrets(&mut scrubbed, &[secret]);
    if secret.len() >= 8 && !"[redacted]".contains(secret) {
        let needle = secret.as_bytes();
        assert!(
            !scrubbed.windows(needle.len()).any(|w| w == needle),
            "secret survived scrubbing"
        );
    }
});
