use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const BINARY: &str = env!("CARGO_BIN_EXE_sypht-emulator");

#[test]
fn cli_serves_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("sypht-emulator-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port_file = dir.join("port");
    let mut child = Command::new(BINARY)
        .args(["--port", "0", "--port-file", port_file.to_str().unwrap(), "--pending-polls", "1"])
        .env("SYPHT_API_KEY", "cli-id:secret:with:colons")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port: u16 = std::fs::read_to_string(&port_file).unwrap().trim().parse().unwrap();
    assert_eq!(line.trim(), format!("sypht-emulator listening on http://127.0.0.1:{port}"));

    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let auth = basic("cli-id", "secret:with:colons");
    let reply = request(addr, "POST", "/oauth2/token", &[("Authorization", &auth)], b"grant_type=client_credentials");
    assert_eq!(reply.status, 200, "{}", reply.text());
    let token = reply.json()["access_token"].as_str().unwrap().to_string();

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "emulator did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("POST /oauth2/token 200"), "{stderr}");
    assert!(!stderr.contains("secret:with:colons"), "secret in log: {stderr}");
    assert!(!stderr.contains(&token), "token in log");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_rejects_bad_flags() {
    let cases: [(&[&str], &str); 4] = [
        (&["--port", "http"], "--port"),
        (&["--bind", "10.0.0.1"], "--allow-non-loopback"),
        (&["--frobnicate"], "--frobnicate"),
        (&["--token-lifetime"], "missing value for --token-lifetime"),
    ];
    for (args, fragment) in cases {
        let output = Command::new(BINARY).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(fragment), "{args:?}: {stderr}");
    }
}

#[test]
fn cli_help() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("--pending-polls"));
}
