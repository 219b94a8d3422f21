//! Compiles tests/c/api_abi.c against include/sypht.h and the cdylib that
//! cargo built for this test run, and runs it against the emulator.

mod api_common;

use std::path::PathBuf;
use std::process::Command;

use api_common::*;

/// Returns the directory containing the libsypht.so of this test build:
/// `target/<profile>/deps`, where this test executable is.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().expect("target/<profile>/deps").to_path_buf()
}

#[test]
fn c_program_uses_endpoints() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let lib_dir = library_dir();
    assert!(lib_dir.join("libsypht.so").exists(), "no libsypht.so in {}", lib_dir.display());
    let out_dir = std::env::temp_dir().join(format!("libsypht-c-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let program = out_dir.join("api_abi");
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&compiler)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("tests/c/api_abi.c"))
        .arg("-L")
        .arg(&lib_dir)
        .arg("-lsypht")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-o")
        .arg(&program)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {compiler:?}: {e}"));
    assert!(status.success(), "compiling tests/c/api_abi.c failed");

    let emulator = emulator();
    let output = Command::new(&program)
        .args([emulator.base_url(), emulator.auth_url(), CLIENT_ID.to_string(), CLIENT_SECRET.to_string()])
        .env_remove("SYPHT_API_KEY")
        .output()
        .expect("run the C program");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "C program failed:\n{stderr}");
}
