//! Token endpoint responses: any status and body must give a token with a
//! positive, bounded lifetime or an authentication-class error, never a
//! panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use sypht::ErrorKind;

fuzz_target!(|input: (u16, &[u8])| {
    let (status, body) = input;
    match sypht::fuzzing::parse_token_response(status, body) {
        Ok((token, lifetime)) => {
            assert!(!token.is_empty());
            assert!(!token.chars().any(|c| c.is_control() || c == ' '));
            assert!(lifetime > Duration::ZERO);
            assert!(lifetime < Duration::from_secs(1_000_000_000));
        }
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::Auth);
            assert!(!err.message().chars().any(char::is_control));
        }
    }
});
