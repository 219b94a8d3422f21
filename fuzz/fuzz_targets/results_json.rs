//! Results bodies: any JSON value in a results response must give a field
//! map or a decode error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sypht::{ErrorKind, ResultsResponse};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let status = body
        .get("status")
        .and_then(|s| s.as_str())
        .unwrap_or("FINALISED")
        .to_string();
    let response = ResultsResponse {
        file_id: "fuzz".to_string(),
        status,
        body,
    };
    let _ = response.is_finalised();
    let _ = response.results();
    match response.field_values() {
        Ok(fields) => {
            for name in fields.keys() {
                assert!(response
                    .body
                    .to_string()
                    .contains(&serde_json::to_string(name).unwrap()[1..]));
            }
        }
        Err(err) => assert_eq!(err.kind(), ErrorKind::Decode),
    }
});
