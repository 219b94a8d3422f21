//! A minimal HTTP/1.1 client over std::net and builders for test bodies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use sypht_emulator::{Emulator, EmulatorConfig};

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a persistent connection.
pub struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    pub fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).expect("connect to emulator");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let writer = stream.try_clone().unwrap();
        Connection { reader: BufReader::new(stream), writer }
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        self.send_raw_head(method, path, headers, Some(body.len()));
        self.writer.write_all(body).unwrap();
        self.read_reply()
    }

    pub fn send_raw_head(&mut self, method: &str, path: &str, headers: &[(&str, &str)], length: Option<usize>) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: emulator\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(length) = length {
            head.push_str(&format!("Content-Length: {length}\r\n"));
        }
        head.push_str("\r\n");
        self.writer.write_all(head.as_bytes()).unwrap();
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    pub fn read_reply(&mut self) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read status line");
        assert!(line.starts_with("HTTP/1.1 "), "unexpected status line {line:?}");
        let status: u16 = line[9..12].parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .expect("response has Content-Length");
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body).unwrap();
        Reply { status, headers, body }
    }

    /// Reports whether the server closed the connection (EOF on read).
    pub fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.reader.read(&mut byte), Ok(0) | Err(_))
    }
}

pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut headers = headers.to_vec();
    headers.push(("Connection", "close"));
    Connection::open(addr).send(method, path, &headers, body)
}

pub fn get(emulator: &Emulator, path: &str, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    request(emulator.local_addr(), "GET", path, &[("Authorization", &auth)], b"")
}

pub fn send_json(emulator: &Emulator, method: &str, path: &str, token: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    let bytes = serde_json::to_vec(body).unwrap();
    request(
        emulator.local_addr(),
        method,
        path,
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        &bytes,
    )
}

pub fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("start emulator")
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

pub fn token(emulator: &Emulator) -> String {
    let auth = basic("emulator-client-id", "emulator-client-secret");
    let reply = request(
        emulator.local_addr(),
        "POST",
        "/oauth2/token",
        &[("Authorization", &auth), ("Content-Type", "application/x-www-form-urlencoded")],
        b"client_id=emulator-client-id&grant_type=client_credentials",
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_string()
}

pub fn legacy_token(emulator: &Emulator) -> String {
    let body = serde_json::json!({
        "client_id": "emulator-legacy-id",
        "client_secret": "emulator-legacy-secret",
        "audience": "https://api.sypht.com",
        "grant_type": "client_credentials",
    });
    let reply = request(
        emulator.local_addr(),
        "POST",
        "/oauth/token",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_string()
}

/// Builds a multipart/form-data body.
pub struct Form {
    boundary: String,
    body: Vec<u8>,
}

impl Form {
    pub fn new() -> Form {
        Form { boundary: "----emulator-test-7d1f3a".to_string(), body: Vec::new() }
    }

    pub fn text(mut self, name: &str, value: &str) -> Form {
        self.body.extend_from_slice(
            format!("--{}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n", self.boundary)
                .as_bytes(),
        );
        self
    }

    pub fn file(mut self, name: &str, filename: &str, bytes: &[u8]) -> Form {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    pub fn finish(mut self) -> (String, Vec<u8>) {
        self.body.extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (self.content_type(), self.body)
    }
}

pub fn post_form(emulator: &Emulator, path: &str, token: &str, form: Form) -> Reply {
    let (content_type, body) = form.finish();
    let auth = format!("Bearer {token}");
    request(emulator.local_addr(), "POST", path, &[("Authorization", &auth), ("Content-Type", &content_type)], &body)
}

/// Uploads through `/fileupload` with the given products and returns the
/// file id.
pub fn upload(emulator: &Emulator, token: &str, bytes: &[u8], products: &str) -> String {
    let form = Form::new().file("fileToUpload", "doc.pdf", bytes).text("products", products);
    let reply = post_form(emulator, "/fileupload", token, form);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["fileId"].as_str().unwrap().to_string()
}

/// Builds a small uncompressed PDF with `pages` pages; the text lines go on
/// the first page, one `Tj` each.
pub fn make_pdf(lines: &[&str], pages: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 3 + i)).collect();
    out.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    out.extend_from_slice(
        format!("2 0 obj\n<< /Type /Pages /Kids [{}] /Count {pages} >>\nendobj\n", kids.join(" ")).as_bytes(),
    );
    let content_id = 3 + pages;
    for i in 0..pages {
        out.extend_from_slice(
            format!(
                "{} 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_id} 0 R >>\nendobj\n",
                3 + i
            )
            .as_bytes(),
        );
    }
    let mut content = String::from("BT /F1 12 Tf 72 770 Td\n");
    for line in lines {
        let escaped = line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
        content.push_str(&format!("({escaped}) Tj 0 -16 Td\n"));
    }
    content.push_str("ET\n");
    out.extend_from_slice(
        format!("{content_id} 0 obj\n<< /Length {} >>\nstream\n{content}endstream\nendobj\n", content.len())
            .as_bytes(),
    );
    out.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
    out
}

/// Returns a PNG signature followed by bytes that vary with `seed`. The
/// emulator checks only the signature.
pub fn png_bytes(seed: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..200u32).map(|i| (i as u8).wrapping_mul(seed)));
    bytes
}

pub fn field<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["results"]["fields"]
        .as_array()
        .expect("results.fields is an array")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("field {name} missing from {results}"))
}

pub fn is_uuid_v4(id: &str) -> bool {
    let bytes = id.as_bytes();
    id.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-')
        && bytes[14] == b'4'
        && matches!(bytes[19], b'8' | b'9' | b'a' | b'b')
        && id.chars().filter(|c| *c != '-').all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// Returns the caller's company id through the company lookup endpoint.
pub fn company_id(emulator: &Emulator, token: &str) -> String {
    let reply = get(emulator, "/app/company/byclientid/emulator-client-id", token);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["id"].as_str().unwrap().to_string()
}
