//! HTTPS against the emulator's TLS front, which presents a certificate
//! from a freshly generated private CA: verification is always on, so the
//! client works only when given that CA, from Rust and from C.

mod common;

use std::ffi::{CStr, CString};

use common::*;
use sypht::{Client, ErrorKind, UploadOptions};

fn tls_builder(front: &sypht_emulator::TlsFront) -> sypht::ClientBuilder {
    Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(front.base_url())
        .auth_endpoint(front.auth_url())
        .ignore_env(true)
}

#[test]
fn unknown_ca_is_rejected() {
    let emu = emulator();
    let front = emu.tls_front().unwrap();
    let client = tls_builder(&front).build().unwrap();
    let err = client.authenticate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(err.code(), 5);
    assert_eq!(
        emu.stats().token_requests,
        0,
        "a request got past the TLS handshake"
    );
}

#[test]
fn another_ca_is_rejected() {
    let emu = emulator();
    let front = emu.tls_front().unwrap();
    let other = emu.tls_front().unwrap();
    let client = tls_builder(&front)
        .root_certificates_pem(other.ca_pem().as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let err = client.authenticate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(emu.stats().token_requests, 0);
}

#[test]
fn private_ca_works_from_rust() {
    let emu = emulator();
    let front = emu.tls_front().unwrap();
    let client = tls_builder(&front)
        .root_certificates_pem(front.ca_pem().as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let pdf = make_pdf(1, "over TLS");
    let file_id = client
        .upload_bytes(&pdf, "tls.pdf", &UploadOptions::products(["invoices"]))
        .unwrap();
    let fields = client.get_results(&file_id).unwrap();
    assert_eq!(
        fields["document.sha256"],
        serde_json::Value::from(sha256_hex(&pdf))
    );
    assert_eq!(emu.stats().token_requests, 1);
}

#[test]
fn private_ca_works_from_c() {
    use sypht::ffi::*;
    let emu = emulator();
    let front = emu.tls_front().unwrap();
    let base = CString::new(front.base_url()).unwrap();
    let auth = CString::new(front.auth_url()).unwrap();
    let id = CString::new(CLIENT_ID).unwrap();
    let secret = CString::new(CLIENT_SECRET).unwrap();
    let ca = CString::new(front.ca_pem()).unwrap();
    let mut error = std::ptr::null_mut();

    let options = sypht_client_options_new();
    assert_eq!(
        sypht_client_options_set_api_base(options, base.as_ptr(), &mut error),
        SYPHT_OK
    );
    assert_eq!(
        sypht_client_options_set_auth_endpoint(options, auth.as_ptr(), &mut error),
        SYPHT_OK
    );
    assert_eq!(
        sypht_client_options_set_ignore_env(options, true, &mut error),
        SYPHT_OK
    );

    // Without the CA the handshake fails.
    let client = sypht_client_new_with_options(options, id.as_ptr(), secret.as_ptr(), &mut error);
    assert!(!client.is_null());
    assert_eq!(
        sypht_client_authenticate(client, &mut error),
        SYPHT_ERROR_NETWORK
    );
    // SAFETY: the message is a NUL-terminated string owned by `error`.
    let message = unsafe { CStr::from_ptr(sypht_error_message(error)) }
        .to_string_lossy()
        .into_owned();
    assert!(!message.is_empty());
    sypht_error_free(error);
    sypht_client_free(client);

    // A PEM that is not a certificate is rejected when set.
    let junk = CString::new("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        .unwrap();
    assert_eq!(
        sypht_client_options_set_ca_pem(options, junk.as_ptr(), &mut error),
        SYPHT_ERROR_CONFIG
    );
    sypht_error_free(error);

    assert_eq!(
        sypht_client_options_set_ca_pem(options, ca.as_ptr(), &mut error),
        SYPHT_OK
    );
    let client = sypht_client_new_with_options(options, id.as_ptr(), secret.as_ptr(), &mut error);
    sypht_client_options_free(options);
    assert!(!client.is_null());
    let pdf = make_pdf(1, "C over TLS");
    let name = CString::new("c-tls.pdf").unwrap();
    let product = CString::new("invoices").unwrap();
    let products = [product.as_ptr()];
    let file_id = sypht_upload_bytes(
        client,
        pdf.as_ptr(),
        pdf.len(),
        name.as_ptr(),
        products.as_ptr(),
        1,
        &mut error,
    );
    assert!(!file_id.is_null(), "upload failed");
    let results = sypht_get_results(client, file_id, &mut error);
    assert!(!results.is_null());
    // SAFETY: a NUL-terminated string returned by the library.
    let json = unsafe { CStr::from_ptr(results) }
        .to_string_lossy()
        .into_owned();
    assert!(json.contains(&sha256_hex(&pdf)), "{json}");
    sypht_free_string(results);
    sypht_free_string(file_id);
    sypht_client_free(client);
}

#[test]
fn oversized_ca_file_is_config_error() {
    let path = std::env::temp_dir().join(format!("sypht-big-ca-{}.pem", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(sypht::MAX_CA_FILE_BYTES + 1).unwrap();
    drop(file);

    let result = sypht::Client::builder().root_certificates_file(&path);
    std::fs::remove_file(&path).unwrap();
    let err = result.err().expect("an oversized CA file was accepted");
    assert_eq!(err.kind(), sypht::ErrorKind::Config, "{err}");
    assert!(err.message().contains("larger than 16 MiB"), "{err}");
    assert!(err.message().contains("sypht-big-ca-"), "{err}");
}

#[test]
fn unusable_ca_files_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("sypht-ca-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let truncated = dir.join("truncated.pem");
    std::fs::write(&truncated, "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
    let fifo = dir.join("ca.fifo");
    let fifo_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: the path is a valid NUL-terminated string.
    assert_eq!(unsafe { libc::mkfifo(fifo_path.as_ptr(), 0o600) }, 0);

    let cases = [
        (truncated.clone(), "(MissingSectionEnd); check that each -----BEGIN CERTIFICATE----- line"),
        (fifo.clone(), "is not a regular file"),
        (dir.clone(), "is not a regular file"),
        (std::path::PathBuf::from("/dev/zero"), "is not a regular file"),
    ];
    for (path, expected) in cases {
        let err = sypht::Client::builder().root_certificates_file(&path).err().expect("accepted");
        assert_eq!(err.kind(), sypht::ErrorKind::Config, "{}: {err}", path.display());
        assert!(err.message().contains(expected), "{}: {err}", path.display());
        assert!(!err.message().contains("[45, 45"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
