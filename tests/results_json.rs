//! `get_results_json` (behind `sypht_get_results`) against the emulator:
//! the same fields as `get_results`, with each value's text kept as sent.

mod common;

use common::*;
use serde_json::Value;
use sypht::{ErrorKind, UploadOptions};
use sypht_emulator::{FaultAction, FaultRule};

/// Makes the next results request return 200 with `body`.
fn answer_results_with(emu: &sypht_emulator::Emulator, body: &str) {
    let action = FaultAction::Status { status: 200, retry_after: None, body: Some(body.to_string()) };
    emu.inject_fault(FaultRule::new("/result/final/", action)).unwrap();
}

#[test]
fn json_matches_field_map() {
    let emu = emulator();
    let client = client(&emu);
    let file_id =
        client.upload_bytes(&make_pdf(2, "Harbour Supplies"), "two.pdf", &UploadOptions::products(["invoices"])).unwrap();

    let fields = client.get_results(&file_id).unwrap();
    let json = client.get_results_json(&file_id).unwrap();
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, Value::Object(fields));
    assert!(!json.contains(": "), "{json}");
}

#[test]
fn json_keeps_value_text() {
    let emu = emulator();
    let client = client(&emu);
    answer_results_with(
        &emu,
        r#"{"fileId": "f1", "status": "FINALISED", "results": {"timestamp": "t", "fields": [
            {"name": "total", "value": 1234.50, "confidence": 0.9},
            {"name": "big", "value": 123456789012345678901234567890},
            {"name": "nested", "value": {"lines": [1, 2], "note": "a, b: \"c\""}},
            {"name": "dup", "value": "first"},
            {"name": "dup", "value": "second"},
            {"name": "quote\"d", "value": "caf\u00e9"},
            {"name": "absent"}
        ]}}"#,
    );

    let json = client.get_results_json("f1").unwrap();
    assert_eq!(
        json,
        r#"{"absent":null,"big":123456789012345678901234567890,"dup":"second","nested":{"lines":[1,2],"note":"a, b: \"c\""},"quote\"d":"caf\u00e9","total":1234.50}"#
    );
}

#[test]
fn json_waits_for_pending_results() {
    let emu = emulator_with(|c| c.pending_polls = 2);
    let client = client(&emu);
    let file_id = client.upload_bytes(&make_pdf(1, "pending"), "p.pdf", &UploadOptions::products(["invoices"])).unwrap();

    let json = client.get_results_json(&file_id).unwrap();
    assert!(json.contains("\"invoice.total\":"), "{json}");
    let results_requests = emu.request_log().iter().filter(|r| r.path.starts_with("/result/final/")).count();
    assert_eq!(results_requests, 3);
}

#[test]
fn json_errors_match_field_map_errors() {
    let cases = [
        (r#"{"status": "FINALISED", "results": {"fields": [{"name": 7, "value": 1}]}}"#, "has no name"),
        (r#"{"status": "FINALISED", "results": {}}"#, "no results.fields array"),
        (r#"{"status": "FINALISED"}"#, "no results object"),
        (r#"{"status": 3}"#, "without a status string"),
        (r#"{"status": "FINALISED", "results": {"fields": [}"#, "invalid JSON"),
    ];
    for (body, expected) in cases {
        let emu = emulator();
        let client = client(&emu);
        answer_results_with(&emu, body);
        answer_results_with(&emu, body);

        let from_json = client.get_results_json("f1").unwrap_err();
        let from_map = client.get_results("f1").unwrap_err();
        assert_eq!(from_json.kind(), ErrorKind::Decode, "{body}: {from_json}");
        assert_eq!(from_json.message(), from_map.message(), "{body}");
        assert!(from_json.message().contains(expected), "{body}: {from_json}");
    }
}

#[test]
fn json_rejects_deep_values_like_full_parse() {
    let deep = |levels: usize| {
        format!(
            r#"{{"status": "FINALISED", "results": {{"fields": [{{"name": "deep", "value": {}1{}}}]}}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    let emu = emulator();
    let client = client(&emu);

    answer_results_with(&emu, &deep(100));
    let json = client.get_results_json("f1").unwrap();
    assert_eq!(json, format!(r#"{{"deep":{}1{}}}"#, "[".repeat(100), "]".repeat(100)));

    for levels in [130, 100_000] {
        answer_results_with(&emu, &deep(levels));
        answer_results_with(&emu, &deep(levels));
        let from_json = client.get_results_json("f1").unwrap_err();
        let from_map = client.get_results("f1").unwrap_err();
        assert_eq!(from_json.kind(), ErrorKind::Decode, "{levels}: {from_json}");
        assert_eq!(from_json.message(), from_map.message(), "{levels}");
    }
}
