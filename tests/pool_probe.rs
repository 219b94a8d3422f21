//! Pooled connections against a scripted loopback server that sends stray
//! bytes after each results response: the client must not read them as the
//! next response, so the next request goes over a new connection.

mod support;

use std::time::Duration;

use support::{Reply, ScriptedServer};
use sypht::{Client, ResultsOptions};

const TOKEN_BODY: &str = r#"{"access_token":"probe-token-0123456789","expires_in":3600}"#;
const RESULTS_BODY: &str = r#"{"fileId":"f1","status":"FINALISED","results":{"fields":[]}}"#;
const STRAY: &[u8] = b"HTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n";

#[test]
fn stray_bytes_are_not_next_response() {
    let server = ScriptedServer::start(|request| {
        if request.target.starts_with("/oauth2/token") {
            return Reply::json(200, TOKEN_BODY);
        }
        // Sent apart, so the stray bytes reach the socket after the client
        // has read the response into its buffer.
        Reply::RespondThenSend {
            response: Box::new(Reply::json(200, RESULTS_BODY)),
            delay: Duration::from_millis(20),
            extra: STRAY.to_vec(),
        }
    });
    let client = Client::builder()
        .credentials("probe-client-id", "probe-client-secret")
        .api_base(server.url())
        .auth_endpoint(format!("{}/oauth2/token", server.url()))
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
    assert_eq!(server.connections(), 3);
}
