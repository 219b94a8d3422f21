//! The raw-value path of `sypht_get_results` against the full parse of
//! `get_results`: whenever the full parse gives a field map, the raw path
//! gives JSON text that parses to the same map, and both agree on pending.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sypht::fuzzing::{results_field_json, results_field_map};

fuzz_target!(|data: &[u8]| {
    let fast = results_field_json(data);
    match results_field_map(data) {
        Ok(Some(map)) => {
            let json = fast.expect("the raw path failed where the full parse succeeded");
            let json = json.expect("the raw path reported pending for finalised results");
            let parsed: serde_json::Value = serde_json::from_str(&json).expect("the raw path wrote invalid JSON");
            assert_eq!(parsed, serde_json::Value::Object(map));
            assert!(!json.contains(['\n', '\r', '\t']), "{json}");
        }
        Ok(None) => assert!(matches!(fast, Ok(None)), "pending differs: {fast:?}"),
        // The raw path may accept values the full parse rejects, such as
        // numbers beyond f64, and then its text is still valid JSON.
        Err(_) => {
            if let Ok(Some(json)) = fast {
                assert!(serde_json::from_str::<&serde_json::value::RawValue>(&json).is_ok(), "{json}");
            }
        }
    }
});
