//! Shared helpers for the integration tests: an emulator per test and
//! small documents made on the fly.

#![allow(dead_code)]

use std::time::Duration;

use sypht::{Client, ClientBuilder};
use sypht_emulator::{Emulator, EmulatorConfig};

pub const CLIENT_ID: &str = "emulator-client-id";
pub const CLIENT_SECRET: &str = "emulator-client-secret";
pub const LEGACY_ID: &str = "emulator-legacy-id";
pub const LEGACY_SECRET: &str = "emulator-legacy-secret";

/// Starts an emulator on an ephemeral loopback port.
pub fn emulator() -> Emulator {
    emulator_with(|_| {})
}

/// Starts an emulator after `change` adjusts the default configuration.
pub fn emulator_with(change: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut config = EmulatorConfig::default();
    change(&mut config);
    Emulator::start(config).expect("the emulator starts on loopback")
}

/// A builder pointed at `emu` with the current-flow credentials and no
/// environment lookups.
pub fn builder(emu: &Emulator) -> ClientBuilder {
    Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(emu.base_url())
        .auth_endpoint(emu.auth_url())
        .ignore_env(true)
        .results_deadline(Duration::from_secs(10))
}

pub fn client(emu: &Emulator) -> Client {
    builder(emu).build().expect("a valid configuration")
}

/// Builds a valid uncompressed PDF with `pages` pages, each showing `text`.
pub fn make_pdf(pages: usize, text: &str) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_string());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string());
    for i in 0..pages {
        let content_id = 5 + 2 * i;
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
        ));
        let stream = format!("BT /F1 12 Tf 72 760 Td ({text} page {}) Tj ET", i + 1);
        objects.push(format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref_at = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}
