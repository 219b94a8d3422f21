//! A TLS front for the emulator: accepts HTTPS on its own loopback port and
//! relays the decrypted bytes to the emulator's plain HTTP port.
//!
//! Each front generates a private CA and a server certificate for
//! `127.0.0.1`, `::1` and `localhost`, signed by that CA. Clients trust the
//! front only when given [`TlsFront::ca_pem`], which is how tests check
//! that certificate verification is on.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::Emulator;

/// How long one relay step waits for bytes on either side before it
/// checks the other side. Short, because one thread serves both directions.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// How long a relayed connection may stay idle before it is closed.
const IDLE_LIMIT: Duration = Duration::from_secs(120);

/// A running TLS front. Dropping it stops accepting and closes every
/// relayed connection.
pub struct TlsFront {
    local_addr: SocketAddr,
    ca_pem: String,
    shutdown: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    accept_thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts a TLS front on an ephemeral `127.0.0.1` port that relays to
    /// this emulator. The front has its own freshly generated CA.
    pub fn tls_front(&self) -> io::Result<TlsFront> {
        TlsFront::start(self.local_addr())
    }
}

impl TlsFront {
    /// Starts a front on an ephemeral `127.0.0.1` port relaying to
    /// `backend`, which must be a loopback address.
    pub fn start(backend: SocketAddr) -> io::Result<TlsFront> {
        if !backend.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the TLS front relays only to loopback addresses, not {backend}"),
            ));
        }
        let (ca_pem, server_config) = generate_certificates()?;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let local_addr = listener.local_addr()?;
        let shutdown = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let accept_thread = {
            let shutdown = Arc::clone(&shutdown);
            let streams = Arc::clone(&streams);
            std::thread::Builder::new()
                .name("sypht-emulator-tls-accept".to_string())
                .spawn(move || {
                    accept_loop(
                        listener,
                        backend,
                        Arc::new(server_config),
                        shutdown,
                        streams,
                    )
                })?
        };
        Ok(TlsFront {
            local_addr,
            ca_pem,
            shutdown,
            streams,
            accept_thread: Some(accept_thread),
        })
    }

    /// Returns the HTTPS origin, such as `https://127.0.0.1:41235`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.local_addr)
    }

    /// Returns the current-flow token URL behind this front.
    pub fn auth_url(&self) -> String {
        format!("{}/oauth2/token", self.base_url())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Returns the PEM of the CA that signed the front's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept() with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.local_addr, Duration::from_secs(1));
        for stream in self
            .streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

/// Generates a CA and a loopback server certificate; returns the CA PEM
/// and a server configuration presenting the server certificate.
fn generate_certificates() -> io::Result<(String, ServerConfig)> {
    let failed = |what: &str, error: rcgen::Error| {
        io::Error::other(format!("failed to generate the {what}: {error}"))
    };
    let ca_key = KeyPair::generate().map_err(|e| failed("CA key", e))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| failed("CA parameters", e))?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sypht-emulator test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| failed("CA certificate", e))?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(|e| failed("server key", e))?;
    let mut server_params = CertificateParams::new(vec!["localhost".to_string()])
        .map_err(|e| failed("server parameters", e))?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "sypht-emulator");
    server_params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    server_params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(|e| failed("server certificate", e))?;

    let chain = vec![CertificateDer::from(server_cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(format!("failed to choose TLS versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| io::Error::other(format!("failed to load the server certificate: {e}")))?;
    Ok((ca_cert.pem(), config))
}

fn accept_loop(
    listener: TcpListener,
    backend: SocketAddr,
    config: Arc<ServerConfig>,
    shutdown: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
) {
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    for incoming in listener.incoming() {
        if shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = incoming else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        if let Ok(registered) = client.try_clone() {
            streams
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(registered);
        }
        let config = Arc::clone(&config);
        let shutdown = Arc::clone(&shutdown);
        threads.retain(|thread| !thread.is_finished());
        if let Ok(thread) = std::thread::Builder::new()
            .name("sypht-emulator-tls-relay".to_string())
            .spawn(move || relay(client, backend, config, &shutdown))
        {
            threads.push(thread);
        }
    }
    for thread in threads {
        let _ = thread.join();
    }
}

/// Relays one TLS connection to the backend until either side closes, an
/// error occurs, the connection is idle too long or the front stops. A TLS
/// handshake failure (such as a client that does not trust the CA) just
/// ends the connection.
fn relay(client: TcpStream, backend: SocketAddr, config: Arc<ServerConfig>, shutdown: &AtomicBool) {
    let Ok(connection) = ServerConnection::new(config) else {
        return;
    };
    let Ok(mut upstream) = TcpStream::connect_timeout(&backend, Duration::from_secs(5)) else {
        return;
    };
    let timeouts_set = client.set_read_timeout(Some(POLL_INTERVAL)).is_ok()
        && upstream.set_read_timeout(Some(POLL_INTERVAL)).is_ok()
        && client.set_nodelay(true).is_ok()
        && upstream.set_nodelay(true).is_ok();
    if !timeouts_set {
        return;
    }
    let mut tls = StreamOwned::new(connection, client);
    let mut buffer = vec![0u8; 16 * 1024];
    let mut last_activity = Instant::now();
    while !shutdown.load(Ordering::SeqCst) && last_activity.elapsed() < IDLE_LIMIT {
        let mut active = false;
        match tls.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if upstream.write_all(&buffer[..n]).is_err() {
                    break;
                }
                active = true;
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => break,
        }
        match upstream.read(&mut buffer) {
            Ok(0) => {
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.conn.complete_io(&mut tls.sock);
                break;
            }
            Ok(n) => {
                if tls
                    .write_all(&buffer[..n])
                    .and_then(|()| tls.flush())
                    .is_err()
                {
                    break;
                }
                active = true;
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => break,
        }
        if active {
            last_activity = Instant::now();
        }
    }
    let _ = upstream.shutdown(Shutdown::Both);
    let _ = tls.sock.shutdown(Shutdown::Both);
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
