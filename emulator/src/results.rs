//! Deterministic extraction results.
//!
//! Field values come from labelled lines of uncompressed PDF text when the
//! document has them, and otherwise from the document's SHA-256, so the same
//! bytes always give the same fields.

use serde_json::{json, Value};

use crate::document::{DocKind, Document};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Invoice,
    Bill,
    Bank,
    Bpay,
    Document,
    Generic,
}

/// Accepted product and fieldset ids, without version suffix.
const KNOWN_IDS: &[(&str, Product)] = &[
    ("invoices", Product::Invoice),
    ("sypht.invoice", Product::Invoice),
    ("sypht.invoice[lineitems]", Product::Invoice),
    ("bills", Product::Bill),
    ("sypht.bill", Product::Bill),
    ("bank", Product::Bank),
    ("sypht.bank", Product::Bank),
    ("bpay", Product::Bpay),
    ("sypht.bpay", Product::Bpay),
    ("document", Product::Document),
    ("sypht.document", Product::Document),
    ("generic", Product::Generic),
    ("sypht.generic", Product::Generic),
];

/// Resolves a product or fieldset id such as `invoices:2`. The optional
/// `:version` suffix must be a positive integer.
pub fn parse_product(id: &str) -> Option<Product> {
    let (base, version) = match id.split_once(':') {
        Some((base, version)) => (base, Some(version)),
        None => (id, None),
    };
    if let Some(version) = version {
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    KNOWN_IDS.iter().find(|(known, _)| *known == base).map(|(_, product)| *product)
}

/// Checks every id, returning a message naming the first unknown one.
pub fn check_products(ids: &[String]) -> Result<Vec<Product>, String> {
    ids.iter()
        .map(|id| {
            parse_product(id).ok_or_else(|| {
                let known: Vec<&str> = KNOWN_IDS.iter().map(|(k, _)| *k).collect();
                format!(
                    "unknown product or fieldset id {id:?}: this account does not have permission to use it; known ids are {} (optionally with a :version suffix)",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// A field value with the place it came from, reported in verbose results.
#[derive(Clone)]
struct Fact {
    value: String,
    from_text: bool,
}

struct LineItem {
    description: String,
    quantity: String,
    unit_price: String,
    amount: String,
}

struct Facts {
    issuer_name: Fact,
    reference_no: Fact,
    date: Fact,
    due_date: Fact,
    total_cents: Option<i64>,
    total: Fact,
    currency: Fact,
    bsb: Fact,
    account_no: Fact,
    account_name: Fact,
    biller_code: Fact,
    bpay_reference: Fact,
    line_items: Vec<LineItem>,
    line_items_from_text: bool,
    mentions_invoice: bool,
}

const SUPPLIERS: &[&str] = &[
    "Harbourside Plumbing Supplies",
    "Northgate Electrical",
    "Bluegum Office Furniture",
    "Southern Cross Couriers",
    "Redfern Timber & Hardware",
    "Kestrel Cleaning Services",
    "Wattle Street Catering",
    "Ironbark Engineering",
];

const ITEM_DESCRIPTIONS: &[&str] = &[
    "Copper pipe 15mm x 5m",
    "Labour (2 hrs)",
    "Site inspection",
    "PVC elbow 90 deg (pack of 10)",
    "Delivery",
    "Consulting services",
    "Office chair",
    "Printer toner cartridge",
];

const CURRENCIES: &[&str] = &["AUD", "EUR", "GBP", "MYR", "NZD", "SGD"];

/// Deterministic numbers drawn from the SHA-256 of the document.
struct Seed([u8; 32]);

impl Seed {
    fn from_hex(hex: &str) -> Seed {
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2).unwrap_or("00"), 16).unwrap_or(0);
        }
        Seed(bytes)
    }

    fn number(&self, index: usize) -> u64 {
        let at = (index * 4) % 28;
        u32::from_be_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]]) as u64
    }

    /// Returns a confidence in [0.80, 0.98], rounded to four decimals.
    fn confidence(&self, index: usize) -> f64 {
        let fraction = self.0[index % 32] as f64 / 255.0;
        ((0.80 + fraction * 0.18) * 10_000.0).round() / 10_000.0
    }
}

fn derived(value: String) -> Fact {
    Fact { value, from_text: false }
}

fn from_text(value: String) -> Fact {
    Fact { value, from_text: true }
}

/// Finds the value of a `Label: value` line, trying labels in order and
/// ignoring case.
fn labelled(lines: &[String], labels: &[&str]) -> Option<String> {
    for label in labels {
        for line in lines {
            let Some((head, value)) = line.split_once(':') else {
                continue;
            };
            if head.trim().eq_ignore_ascii_case(label) && !value.trim().is_empty() {
                return Some(value.trim().to_string());
            }
        }
    }
    None
}

pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// Parses an amount such as `$1,234.5` or `AUD 99` into cents.
pub fn parse_amount(text: &str) -> Option<i64> {
    let cleaned: String = text.chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
    let negative = cleaned.starts_with('-');
    let digits = cleaned.trim_start_matches('-');
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') || whole.contains('-') {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let fraction = format!("{fraction:0<2}");
    let cents_part: i64 = fraction[..2].parse().ok()?;
    // Round half up on the third decimal, as the API normalises amounts to
    // two decimals.
    let round_up = fraction.as_bytes().get(2).is_some_and(|&d| d >= b'5');
    let cents = whole.checked_mul(100)?.checked_add(cents_part + round_up as i64)?;
    Some(if negative { -cents } else { cents })
}

const MONTHS: &[&str] = &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// Normalises common date spellings to `YYYY-MM-DD`: ISO dates, day-first
/// `DD/MM/YYYY` or `DD-MM-YYYY` (the Australian order), and `3 Feb 2021`.
/// Other text is returned unchanged.
pub fn normalise_date(text: &str) -> String {
    let valid = |y: i64, m: u32, d: u32| (1..=12).contains(&m) && (1..=31).contains(&d) && (1000..=9999).contains(&y);
    let parts: Vec<&str> = text.split(['-', '/', '.', ' ']).filter(|p| !p.is_empty()).collect();
    if parts.len() == 3 {
        let numbers: Vec<Option<i64>> = parts.iter().map(|p| p.parse().ok()).collect();
        if let [Some(y), Some(m), Some(d)] = numbers[..] {
            if parts[0].len() == 4 && valid(y, m as u32, d as u32) {
                return format!("{y:04}-{m:02}-{d:02}");
            }
        }
        if let [Some(d), Some(m), Some(y)] = numbers[..] {
            if parts[2].len() == 4 && valid(y, m as u32, d as u32) {
                return format!("{y:04}-{m:02}-{d:02}");
            }
        }
        let month = parts[1].get(..3).map(str::to_ascii_lowercase);
        if let (Some(d), Some(month), Some(y)) = (numbers[0], month, numbers[2]) {
            if let Some(index) = MONTHS.iter().position(|m| *m == month) {
                if valid(y, index as u32 + 1, d as u32) {
                    return format!("{y:04}-{:02}-{d:02}", index + 1);
                }
            }
        }
    }
    text.to_string()
}

fn date_from_days(days: i64) -> String {
    let (y, m, d) = crate::util::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn parse_text_line_items(lines: &[String]) -> Vec<LineItem> {
    lines
        .iter()
        .filter_map(|line| {
            let (head, rest) = line.split_once(':')?;
            if !head.trim().eq_ignore_ascii_case("item") {
                return None;
            }
            let columns: Vec<String> = rest.split('|').map(|c| c.trim().to_string()).collect();
            let column = |i: usize| columns.get(i).cloned().unwrap_or_default();
            let amount = column(columns.len().saturating_sub(1).max(1));
            Some(LineItem {
                description: column(0),
                quantity: if columns.len() >= 4 { column(1) } else { "1".to_string() },
                unit_price: if columns.len() >= 4 { column(2) } else { amount.clone() },
                amount,
            })
        })
        .collect()
}

fn derive_line_items(seed: &Seed, total_cents: i64) -> Vec<LineItem> {
    let count = 1 + (seed.number(5) % 3) as usize;
    let weights: Vec<i64> = (0..count).map(|i| 1 + (seed.number(6 + i) % 9) as i64).collect();
    let weight_sum: i64 = weights.iter().sum();
    let mut remaining = total_cents;
    (0..count)
        .map(|i| {
            let amount = if i + 1 == count { remaining } else { total_cents * weights[i] / weight_sum };
            remaining -= amount;
            let description = ITEM_DESCRIPTIONS[(seed.number(9 + i) as usize) % ITEM_DESCRIPTIONS.len()];
            LineItem {
                description: description.to_string(),
                quantity: "1".to_string(),
                unit_price: format_cents(amount),
                amount: format_cents(amount),
            }
        })
        .collect()
}

fn gather_facts(document: &Document) -> Facts {
    let seed = Seed::from_hex(&document.sha256);
    let lines = &document.text_lines;
    let text = |labels: &[&str]| labelled(lines, labels);

    let issuer_name = match lines.first() {
        Some(first) if !first.contains(':') => from_text(first.clone()),
        _ => derived(SUPPLIERS[(seed.number(0) as usize) % SUPPLIERS.len()].to_string()),
    };
    let reference_no = match text(&["Invoice Number", "Invoice No", "Invoice #", "Reference", "Reference No"]) {
        Some(value) => from_text(value),
        None => derived(format!("INV-{:05}", seed.number(1) % 100_000)),
    };
    // Dates in 2024, so results look current but never change.
    let issue_days = crate::util::days_from_civil(2024, 1, 1) + (seed.number(2) % 366) as i64;
    let date = match text(&["Invoice Date", "Date", "Issue Date"]) {
        Some(value) => from_text(normalise_date(&value)),
        None => derived(date_from_days(issue_days)),
    };
    let due_date = match text(&["Due Date", "Payment Due"]) {
        Some(value) => from_text(normalise_date(&value)),
        None => derived(date_from_days(issue_days + 30)),
    };
    let total_text = text(&["Total", "Total Due", "Amount Due", "Invoice Total"]);
    let (total, total_cents) = match &total_text {
        Some(value) => match parse_amount(value) {
            Some(cents) => (from_text(format_cents(cents)), Some(cents)),
            None => (from_text(value.clone()), None),
        },
        None => {
            let cents = 1_000 + (seed.number(3) % 500_000) as i64;
            (derived(format_cents(cents)), Some(cents))
        }
    };
    let currency = match text(&["Currency"]) {
        Some(value) => {
            let code = value.trim().to_ascii_uppercase();
            from_text(if CURRENCIES.contains(&code.as_str()) { code } else { "Unknown".to_string() })
        }
        None => match &total_text {
            Some(t) if t.contains('€') => from_text("EUR".to_string()),
            Some(t) if t.contains('£') => from_text("GBP".to_string()),
            _ => derived("AUD".to_string()),
        },
    };
    let bsb = match text(&["BSB"]) {
        Some(value) => from_text(value),
        None => derived(format!("{:03}-{:03}", seed.number(12) % 1000, seed.number(13) % 1000)),
    };
    let account_no = match text(&["Account Number", "Account No"]) {
        Some(value) => from_text(value),
        None => derived(format!("{:09}", seed.number(14) % 1_000_000_000)),
    };
    let account_name = match text(&["Account Name"]) {
        Some(value) => from_text(value),
        None => derived(issuer_name.value.clone()),
    };
    let biller_code = match text(&["Biller Code"]) {
        Some(value) => from_text(value),
        None => derived(format!("{}", 10_000 + seed.number(15) % 90_000)),
    };
    let bpay_reference = match text(&["BPAY Reference", "Ref", "Customer Reference"]) {
        Some(value) => from_text(value),
        None => derived(format!("{:010}", seed.number(16) % 10_000_000_000)),
    };
    let text_items = parse_text_line_items(lines);
    let line_items_from_text = !text_items.is_empty();
    let line_items = if line_items_from_text {
        text_items
    } else {
        derive_line_items(&seed, total_cents.unwrap_or(0))
    };
    let mentions_invoice = lines.iter().any(|l| l.to_ascii_lowercase().contains("invoice"));
    Facts {
        issuer_name,
        reference_no,
        date,
        due_date,
        total_cents,
        total,
        currency,
        bsb,
        account_no,
        account_name,
        biller_code,
        bpay_reference,
        line_items,
        line_items_from_text,
        mentions_invoice,
    }
}

/// Builds field objects and skips names already present.
struct FieldList {
    fields: Vec<Value>,
    verbose: bool,
}

impl FieldList {
    fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f["name"] == name)
    }

    fn push(&mut self, name: &str, value: Value, confidence: f64, source: &str) {
        if self.has(name) {
            return;
        }
        let mut field = json!({ "name": name, "value": value, "confidence": confidence, "boundingBox": null });
        if self.verbose {
            field["source"] = json!(source);
        }
        self.fields.push(field);
    }

    fn push_fact(&mut self, name: &str, fact: &Fact, seed: &Seed, index: usize) {
        let (confidence, source) = if fact.from_text { (0.99, "text") } else { (seed.confidence(index), "derived") };
        self.push(name, json!(fact.value), confidence, source);
    }
}

/// Builds `results.fields` for a document and the products chosen at
/// upload or by a workflow job.
pub fn build_fields(document: &Document, products: &[Product], verbose: bool) -> Vec<Value> {
    let facts = gather_facts(document);
    let seed = Seed::from_hex(&document.sha256);
    let mut list = FieldList { fields: Vec::new(), verbose };
    for product in products {
        match product {
            Product::Invoice | Product::Bill => {
                invoice_fields(&mut list, &facts, &seed);
                if *product == Product::Bill {
                    list.push_fact("bpay.billerCode", &facts.biller_code, &seed, 10);
                    list.push_fact("bpay.reference", &facts.bpay_reference, &seed, 11);
                }
            }
            Product::Bank => {
                list.push_fact("bank.bsb", &facts.bsb, &seed, 12);
                list.push_fact("bank.accountNo", &facts.account_no, &seed, 13);
                list.push_fact("bank.accountName", &facts.account_name, &seed, 14);
            }
            Product::Bpay => {
                list.push_fact("bpay.billerCode", &facts.biller_code, &seed, 10);
                list.push_fact("bpay.reference", &facts.bpay_reference, &seed, 11);
            }
            Product::Document => {
                let value = document_type(&facts, products, &seed);
                list.push("document.type", value, seed.confidence(15), "derived");
                list.push_fact("document.date", &facts.date, &seed, 3);
                list.push_fact("document.referenceNo", &facts.reference_no, &seed, 2);
            }
            Product::Generic => {
                let confidence = if facts.line_items_from_text { 0.99 } else { seed.confidence(16) };
                list.push("generic.table", line_items_value(&facts, "generic.table"), confidence, "derived");
            }
        }
    }
    list.push("document.sizeBytes", json!(document.size), 1.0, "document");
    list.push("document.sha256", json!(document.sha256), 1.0, "document");
    if document.kind == DocKind::Pdf {
        list.push("document.pageCount", json!(document.page_count), 1.0, "document");
    }
    list.fields
}

fn invoice_fields(list: &mut FieldList, facts: &Facts, seed: &Seed) {
    list.push_fact("issuer.name", &facts.issuer_name, seed, 1);
    list.push_fact("document.referenceNo", &facts.reference_no, seed, 2);
    list.push_fact("document.date", &facts.date, seed, 3);
    list.push_fact("invoice.dueDate", &facts.due_date, seed, 4);
    list.push_fact("invoice.total", &facts.total, seed, 5);
    list.push_fact("invoice.amountDue", &facts.total, seed, 6);
    if let Some(cents) = facts.total_cents {
        // Australian GST is one eleventh of a GST-inclusive total.
        let gst = Fact { value: format_cents((cents as f64 / 11.0).round() as i64), from_text: facts.total.from_text };
        list.push_fact("invoice.gst", &gst, seed, 7);
    }
    list.push("invoice.currencyCode", currency_value(facts, seed), currency_confidence(facts, seed), "derived");
    let confidence = if facts.line_items_from_text { 0.99 } else { seed.confidence(9) };
    list.push("invoice.lineitems", line_items_value(facts, "invoice.lineitems"), confidence, "derived");
}

fn currency_confidence(facts: &Facts, seed: &Seed) -> f64 {
    if facts.currency.from_text {
        0.99
    } else {
        0.9 + (seed.0[17] % 9) as f64 / 100.0
    }
}

/// Builds a multi-class classification value, in which exactly one class
/// is true.
fn currency_value(facts: &Facts, seed: &Seed) -> Value {
    let chosen = facts.currency.value.as_str();
    let chosen_confidence = currency_confidence(facts, seed);
    let classes: Vec<&str> = CURRENCIES.iter().copied().chain(["Unknown"]).collect();
    let rest = ((1.0 - chosen_confidence) / (classes.len() - 1) as f64 * 10_000.0).floor() / 10_000.0;
    let mut value = serde_json::Map::new();
    for class in classes {
        let is_chosen = class == chosen;
        value.insert(
            format!("invoice.currencyCode.{class}"),
            json!({ "value": is_chosen, "confidence": if is_chosen { chosen_confidence } else { rest } }),
        );
    }
    Value::Object(value)
}

/// Builds a multi-label classification of the document kinds that apply.
fn document_type(facts: &Facts, products: &[Product], seed: &Seed) -> Value {
    let invoice = facts.mentions_invoice || products.contains(&Product::Invoice);
    let bill = products.contains(&Product::Bill);
    let bank = products.contains(&Product::Bank);
    let other = !invoice && !bill && !bank;
    let label = |on: bool, index: usize| {
        let confidence = if on { seed.confidence(index) } else { 1.0 - seed.confidence(index) };
        json!({ "value": on, "confidence": (confidence * 10_000.0).round() / 10_000.0 })
    };
    json!({
        "document.type.invoice": label(invoice, 18),
        "document.type.bill": label(bill, 19),
        "document.type.bankStatement": label(bank, 20),
        "document.type.other": label(other, 21),
    })
}

/// Builds a list with one table in the line-items shape, with column
/// types, headers with bounds, and rows of cells.
fn line_items_value(facts: &Facts, field: &str) -> Value {
    let columns = [
        ("description", "Description", 0.08, 0.40),
        ("quantity", "Qty", 0.45, 0.52),
        ("unitPrice", "Unit Price", 0.58, 0.70),
        ("amount", "Amount", 0.78, 0.92),
    ];
    let namespace = if field == "generic.table" { "sypht.generic.table" } else { "sypht.invoice.lineitems" };
    let types: Vec<Value> = columns
        .iter()
        .map(|(kind, ..)| json!({ "type": format!("{namespace}.{kind}"), "confidence": 0.95 }))
        .collect();
    let header_top = 0.40;
    let headers: Vec<Value> = columns
        .iter()
        .map(|(_, text, left, right)| json!({ "text": text, "bounds": bounds(1, *left, header_top, *right, header_top + 0.02) }))
        .collect();
    let cells: Vec<Value> = facts
        .line_items
        .iter()
        .enumerate()
        .map(|(row, item)| {
            let top = header_top + 0.03 * (row + 1) as f64;
            let texts = [&item.description, &item.quantity, &item.unit_price, &item.amount];
            Value::Array(
                texts
                    .iter()
                    .zip(columns.iter())
                    .map(|(text, (_, _, left, right))| {
                        if text.is_empty() {
                            Value::Null
                        } else {
                            json!({ "text": text, "bounds": bounds(1, *left, top, *right, top + 0.02) })
                        }
                    })
                    .collect(),
            )
        })
        .collect();
    json!([{ "types": types, "headers": headers, "cells": cells }])
}

fn bounds(page: u32, left: f64, top: f64, right: f64, bottom: f64) -> Value {
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    json!({
        "type": "bounds",
        "pageNum": page,
        "topLeft": { "x": round(left), "y": round(top) },
        "bottomRight": { "x": round(right), "y": round(bottom) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids() {
        assert_eq!(parse_product("invoices:2"), Some(Product::Invoice));
        assert_eq!(parse_product("sypht.bank"), Some(Product::Bank));
        assert_eq!(parse_product("invoices:"), None);
        assert_eq!(parse_product("invoices:x"), None);
        assert!(check_products(&["sypht.incorrect".to_string()]).unwrap_err().contains("\"sypht.incorrect\""));
    }

    #[test]
    fn amounts_and_dates() {
        assert_eq!(parse_amount("$1,234.5"), Some(123_450));
        assert_eq!(parse_amount("AUD 99"), Some(9_900));
        assert_eq!(parse_amount("12.345"), Some(1_235));
        assert_eq!(parse_amount("n/a"), None);
        assert_eq!(normalise_date("2024-05-14"), "2024-05-14");
        assert_eq!(normalise_date("03/02/2021"), "2021-02-03");
        assert_eq!(normalise_date("3 Feb 2021"), "2021-02-03");
        assert_eq!(normalise_date("soon"), "soon");
    }
}
