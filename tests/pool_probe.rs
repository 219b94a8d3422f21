//! Pooled connections against a hand-written loopback server that sends
//! stray bytes after a response: the client must not read them as the
//! next response, so the next request goes over a new connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sypht::{Client, ResultsOptions};

const TOKEN_BODY: &str = r#"{"access_token":"probe-token-0123456789","expires_in":3600}"#;
const RESULTS_BODY: &str = r#"{"fileId":"f1","status":"FINALISED","results":{"fields":[]}}"#;
const STRAY: &[u8] = b"HTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n";

/// Reads one request head and its body (if it has a Content-Length), and
/// returns the request line, or `None` when the client closed.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(request_line)
}

/// Serves token and results requests, following every results response
/// with [`STRAY`] bytes, and counts accepted connections.
fn start_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                while let Some(request_line) = read_request(&mut reader) {
                    let (body, stray) = if request_line.contains("/oauth2/token") {
                        (TOKEN_BODY, &[][..])
                    } else {
                        (RESULTS_BODY, STRAY)
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let mut response = head.into_bytes();
                    response.extend_from_slice(body.as_bytes());
                    if writer.write_all(&response).is_err() {
                        return;
                    }
                    // Sent apart, so the stray bytes reach the socket after
                    // the client has read the response into its buffer.
                    std::thread::sleep(Duration::from_millis(20));
                    if writer.write_all(stray).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, connections)
}

#[test]
fn stray_bytes_are_not_next_response() {
    let (url, connections) = start_server();
    let client = Client::builder()
        .credentials("probe-client-id", "probe-client-secret")
        .api_base(&url)
        .auth_endpoint(format!("{url}/oauth2/token"))
        .ignore_env(true)
        .build()
        .unwrap();

    for round in 0..3 {
        let response = client.fetch_results("f1", &ResultsOptions::default()).unwrap();
        assert!(response.is_finalised(), "round {round}: {response:?}");
        // Let the stray bytes arrive before the next call.
        std::thread::sleep(Duration::from_millis(80));
    }
    // The token and the first results share a connection, and each
    // results response spoils its connection for the next request.
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}
