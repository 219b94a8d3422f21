use serde_json::Value;
use sypht_emulator::{Emulator, EmulatorConfig};

use crate::common::*;

fn fields(results: &Value) -> &Vec<Value> {
    results["results"]["fields"].as_array().unwrap()
}

fn final_results(emulator: &Emulator, token: &str, file_id: &str) -> Value {
    let reply = get(emulator, &format!("/result/final/{file_id}"), token);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["status"], "FINALISED", "{body}");
    body
}

#[test]
fn results_unknown_file_is_404() {
    let emulator = start();
    let token = token(&emulator);
    let reply = get(&emulator, "/result/final/0d5e8f7a-3c21-4b6e-8a9d-5f4e3c2b1a09", &token);
    assert_eq!(reply.status, 404);
    assert!(reply.json()["message"].as_str().unwrap().contains("not found"));
}

#[test]
fn results_take_values_from_pdf_text() {
    let emulator = start();
    let token = token(&emulator);
    let pdf = make_pdf(
        &[
            "Harbourside Plumbing (Sydney)",
            "Invoice Number: INV-2024-0042",
            "Invoice Date: 14/05/2024",
            "Due Date: 13 Jun 2024",
            "Total: $2,310.50",
            "Currency: NZD",
        ],
        3,
    );
    let file_id = upload(&emulator, &token, &pdf, r#"["invoices:2"]"#);
    let results = final_results(&emulator, &token, &file_id);
    assert_eq!(results["fileId"], file_id.as_str());
    assert!(results["results"]["timestamp"].is_string());
    assert_eq!(field(&results, "issuer.name")["value"], "Harbourside Plumbing (Sydney)");
    assert_eq!(field(&results, "document.referenceNo")["value"], "INV-2024-0042");
    assert_eq!(field(&results, "document.date")["value"], "2024-05-14");
    assert_eq!(field(&results, "invoice.dueDate")["value"], "2024-06-13");
    assert_eq!(field(&results, "invoice.total")["value"], "2310.50");
    assert_eq!(field(&results, "document.pageCount")["value"], 3);
    let currency = &field(&results, "invoice.currencyCode")["value"];
    assert_eq!(currency["invoice.currencyCode.NZD"]["value"], true);
    let true_classes = currency.as_object().unwrap().values().filter(|c| c["value"] == true).count();
    assert_eq!(true_classes, 1);
    assert_eq!(currency.as_object().unwrap().len(), 7);
    for name in ["document.sizeBytes", "document.sha256", "document.pageCount"] {
        assert_eq!(field(&results, name)["confidence"], 1.0, "{name}");
        assert!(field(&results, name)["boundingBox"].is_null(), "{name}");
    }
}

#[test]
fn results_line_items_shape() {
    let emulator = start();
    let token = token(&emulator);
    let file_id = upload(&emulator, &token, &png_bytes(7), r#"["invoices"]"#);
    let results = final_results(&emulator, &token, &file_id);
    let tables = field(&results, "invoice.lineitems")["value"].as_array().unwrap().clone();
    assert_eq!(tables.len(), 1);
    let table = &tables[0];
    let columns = table["types"].as_array().unwrap().len();
    assert_eq!(table["headers"].as_array().unwrap().len(), columns);
    let rows = table["cells"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row.as_array().unwrap().len(), columns);
    }
    // Line amounts add up to the total.
    let total: f64 = field(&results, "invoice.total")["value"].as_str().unwrap().parse().unwrap();
    let sum: f64 = rows.iter().map(|r| r[3]["text"].as_str().unwrap().parse::<f64>().unwrap()).sum();
    assert!((total - sum).abs() < 0.005, "{total} != {sum}");
    // Images get no page count.
    assert!(fields(&results).iter().all(|f| f["name"] != "document.pageCount"));
}

#[test]
fn results_are_deterministic() {
    let emulator = start();
    let token = token(&emulator);
    let first = upload(&emulator, &token, &png_bytes(5), r#"["invoices","bank"]"#);
    let second = upload(&emulator, &token, &png_bytes(5), r#"["invoices","bank"]"#);
    let other = upload(&emulator, &token, &png_bytes(9), r#"["invoices","bank"]"#);
    assert_ne!(first, second);
    let a = final_results(&emulator, &token, &first);
    let b = final_results(&emulator, &token, &second);
    let c = final_results(&emulator, &token, &other);
    assert_eq!(fields(&a), fields(&b));
    assert_ne!(field(&a, "document.sha256"), field(&c, "document.sha256"));
    // A second emulator gives the same fields for the same bytes.
    let emulator2 = start();
    let token2 = crate::common::token(&emulator2);
    let again = upload(&emulator2, &token2, &png_bytes(5), r#"["invoices","bank"]"#);
    assert_eq!(fields(&final_results(&emulator2, &token2, &again)), fields(&a));
}

#[test]
fn results_fields_follow_products() {
    let emulator = start();
    let token = token(&emulator);
    let pdf = make_pdf(&["Acme"], 1);
    let cases: [(&str, &[&str], &[&str]); 4] = [
        (r#"["bank"]"#, &["bank.bsb", "bank.accountNo"], &["invoice.total"]),
        (r#"["sypht.document"]"#, &["document.type", "document.date"], &["invoice.total"]),
        (r#"["bills:1"]"#, &["invoice.total", "bpay.billerCode"], &["bank.bsb"]),
        (r#"["generic"]"#, &["generic.table"], &["invoice.total"]),
    ];
    for (products, present, absent) in cases {
        let file_id = upload(&emulator, &token, &pdf, products);
        let results = final_results(&emulator, &token, &file_id);
        let names: Vec<&str> = fields(&results).iter().map(|f| f["name"].as_str().unwrap()).collect();
        for name in present {
            assert!(names.contains(name), "{products}: {name} missing from {names:?}");
        }
        for name in absent {
            assert!(!names.contains(name), "{products}: {name} unexpected in {names:?}");
        }
        for name in ["document.sizeBytes", "document.sha256", "document.pageCount"] {
            assert!(names.contains(&name), "{products}: {name} missing");
        }
    }
}

#[test]
fn results_pending_polls() {
    let emulator = Emulator::start(EmulatorConfig { pending_polls: 2, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let file_id = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    for _ in 0..2 {
        let reply = get(&emulator, &format!("/result/final/{file_id}?timeout=100"), &token);
        assert_eq!(reply.status, 200);
        let body = reply.json();
        assert_eq!(body["status"], "IN PROGRESS");
        assert!(body.get("results").is_none());
    }
    final_results(&emulator, &token, &file_id);
    emulator.set_pending_polls(1);
    let next = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    assert_eq!(get(&emulator, &format!("/result/final/{next}"), &token).json()["status"], "IN PROGRESS");
    final_results(&emulator, &token, &next);
    assert_eq!(emulator.stats().result_requests, 5);
}

#[test]
fn results_pending_status_202() {
    let emulator =
        Emulator::start(EmulatorConfig { pending_polls: 1, pending_status: 202, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let file_id = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    assert_eq!(get(&emulator, &format!("/result/final/{file_id}"), &token).status, 202);
    final_results(&emulator, &token, &file_id);
}

#[test]
fn results_verbose_adds_source() {
    let emulator = start();
    let token = token(&emulator);
    let file_id = upload(&emulator, &token, &make_pdf(&["Acme", "Total: 10"], 1), r#"["invoices"]"#);
    let reply = get(&emulator, &format!("/result/final/{file_id}?verbose=true"), &token);
    let body = reply.json();
    assert_eq!(field(&body, "invoice.total")["source"], "text");
    assert_eq!(field(&body, "invoice.total")["value"], "10.00");
}

#[test]
fn results_hidden_from_other_company() {
    let emulator = start();
    let token = token(&emulator);
    let file_id = upload(&emulator, &token, &png_bytes(2), r#"["invoices"]"#);
    let legacy = legacy_token(&emulator);
    assert_eq!(get(&emulator, &format!("/result/final/{file_id}"), &legacy).status, 404);
}
