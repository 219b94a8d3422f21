//! Compiles `examples/c/extract.c` against the static library of this test
//! build and runs it against an in-process emulator on a loopback port.

use std::ffi::OsStr;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use sypht_emulator::{Emulator, EmulatorConfig};

const CLIENT_ID: &str = "emulator-client-id";
const CLIENT_SECRET: &str = "emulator-client-secret";

/// Exit status of a run under Valgrind that found errors or leaks.
const VALGRIND_ERROR_EXIT: i32 = 99;

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample_invoice() -> PathBuf {
    repository_root().join("examples/sample/invoice.pdf")
}

/// Returns `target/<profile>/deps`, the directory of this test executable,
/// where `cargo test` puts the `libsypht.a` built for this very run (the
/// copy in `target/<profile>` is only refreshed by `cargo build`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    exe.parent()
        .expect("the test executable is in target/<profile>/deps")
        .to_path_buf()
}

/// A directory under Cargo's temporary directory for integration tests,
/// removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "c_example-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(unique);
        fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Compiles the C example into `dir` with the flags the project requires of
/// it, linked against `libsypht.a` and the system libraries it needs.
fn compile_example(dir: &TempDir) -> PathBuf {
    let static_lib = profile_dir().join("libsypht.a");
    assert!(
        static_lib.is_file(),
        "{} is missing; Cargo builds it with the tests, so check the crate-type list in Cargo.toml",
        static_lib.display()
    );
    let binary = dir.path.join("extract");
    let root = repository_root();
    let output = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .arg(format!("-I{}", root.join("include").display()))
        .arg(root.join("examples/c/extract.c"))
        .arg(&static_lib)
        // The list that `cargo rustc --crate-type staticlib -- --print
        // native-static-libs` prints for x86_64 Linux with Rust 1.95; the
        // Makefile uses the same.
        .args([
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ])
        .arg("-o")
        .arg(&binary)
        .output()
        .expect("failed to run cc; install a C compiler");
    assert!(
        output.status.success(),
        "compiling examples/c/extract.c failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    binary
}

fn start_emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("the emulator starts on 127.0.0.1")
}

/// Builds a command for `program` that points the client at `emulator`
/// with `api_key`. SYPHT_AUDIENCE is removed and the other three SYPHT_*
/// variables are set, so nothing inherited changes where requests go.
fn command_for(program: impl AsRef<OsStr>, emulator: &Emulator, api_key: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env_remove("SYPHT_AUDIENCE")
        .env("SYPHT_API_KEY", api_key)
        .env("SYPHT_AUTH_ENDPOINT", emulator.auth_url())
        .env("SYPHT_API_BASE_ENDPOINT", emulator.base_url());
    command
}

fn run(mut command: Command) -> Output {
    command.output().expect("failed to start the program")
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Reads the value after `label` from the sample invoice's `(LABEL: VALUE)
/// Tj` text line, so the tests compare with what the PDF really contains.
fn invoice_value(label: &str) -> String {
    let pdf = fs::read(sample_invoice()).expect("examples/sample/invoice.pdf is readable");
    let text = String::from_utf8_lossy(&pdf);
    let start_marker = format!("({label}: ");
    let start = text
        .find(&start_marker)
        .unwrap_or_else(|| panic!("the sample invoice has no `{start_marker}` text line"))
        + start_marker.len();
    let end = text[start..]
        .find(')')
        .expect("the text line ends with `)`")
        + start;
    text[start..end].to_string()
}

/// Returns whether `value` or any value nested in it is the string
/// `expected`.
fn contains_string(value: &Value, expected: &str) -> bool {
    match value {
        Value::String(s) => s == expected,
        Value::Array(items) => items.iter().any(|item| contains_string(item, expected)),
        Value::Object(map) => map.values().any(|item| contains_string(item, expected)),
        _ => false,
    }
}

fn parse_json(stdout: &str) -> Value {
    assert!(
        stdout.ends_with('\n'),
        "stdout does not end with a newline: {stdout:?}"
    );
    serde_json::from_str(stdout.trim_end())
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"))
}

fn api_key() -> String {
    format!("{CLIENT_ID}:{CLIENT_SECRET}")
}

/// Returns whether the CI variable marks this run as continuous integration.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false")
}

/// Returns whether `valgrind` can run. Without it the test is skipped with
/// a notice, except in CI, where a missing valgrind fails the test.
fn valgrind_available() -> bool {
    match Command::new("valgrind").arg("--version").output() {
        Ok(output) if output.status.success() => true,
        Ok(output) => panic!("`valgrind --version` failed with {}", output.status),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            assert!(
                !in_ci(),
                "valgrind is not installed, but CI is set and this test must run there"
            );
            // Written to the stderr handle directly, because the test
            // harness captures eprintln! output of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE: skipping a Valgrind test because valgrind is not installed"
            );
            false
        }
        Err(e) => panic!("failed to run valgrind: {e}"),
    }
}

/// Runs `binary args...` under Valgrind's memcheck with every leak kind
/// counted as an error, and checks that it found no error and no leak.
fn run_under_valgrind(
    binary: &Path,
    emulator: &Emulator,
    api_key: &str,
    args: &[&OsStr],
) -> Output {
    let mut command = command_for("valgrind", emulator, api_key);
    command
        .args([
            "--leak-check=full",
            "--show-leak-kinds=all",
            "--errors-for-leak-kinds=all",
            "--error-exitcode=99",
            "--num-callers=40",
        ])
        .arg(format!(
            "--suppressions={}",
            repository_root().join("examples/c/valgrind.supp").display()
        ))
        .arg(binary)
        .args(args);
    let output = run(command);
    let stderr = stderr_of(&output);

    let summary: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            [
                "ERROR SUMMARY",
                "definitely lost",
                "indirectly lost",
                "possibly lost",
                "still reachable",
                "suppressed:",
                "in use at exit",
                "All heap blocks",
            ]
            .iter()
            .any(|key| line.contains(key))
        })
        .collect();
    eprintln!("valgrind summary for {:?}:\n{}", args, summary.join("\n"));

    assert_ne!(
        output.status.code(),
        Some(VALGRIND_ERROR_EXIT),
        "valgrind found errors or leaks:\n{stderr}"
    );
    assert!(
        stderr.contains("ERROR SUMMARY: 0 errors from 0 contexts"),
        "valgrind reported errors:\n{stderr}"
    );
    for kind in [
        "definitely lost",
        "indirectly lost",
        "possibly lost",
        "still reachable",
    ] {
        let unsuppressed = stderr.lines().any(|line| {
            line.contains(&format!("{kind}:")) && !line.contains(": 0 bytes in 0 blocks")
        });
        assert!(!unsuppressed, "valgrind reported memory {kind}:\n{stderr}");
    }
    output
}

#[test]
fn extract_prints_results_json() {
    let dir = TempDir::new("success");
    let binary = compile_example(&dir);
    let emulator = start_emulator();

    let mut command = command_for(&binary, &emulator, &api_key());
    command.arg(sample_invoice());
    let output = run(command);

    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "extract failed: {stderr}");
    assert_eq!(stderr, "", "extract wrote to stderr on success");
    let results = parse_json(&stdout_of(&output));
    assert!(
        results.is_object(),
        "the results are not a JSON object: {results}"
    );
    let invoice_number = invoice_value("Invoice Number");
    let total = invoice_value("Total");
    assert!(
        contains_string(&results, &invoice_number),
        "invoice number {invoice_number} missing from {results}"
    );
    assert!(
        contains_string(&results, &total),
        "total {total} missing from {results}"
    );
    assert_eq!(
        results["document.pageCount"],
        Value::from(1),
        "wrong document.pageCount in {results}"
    );
    assert_eq!(
        emulator.stats().uploads,
        1,
        "extract did not upload exactly once"
    );
}

#[test]
fn extract_verbose_prints_fields_array() {
    let dir = TempDir::new("verbose");
    let binary = compile_example(&dir);
    let emulator = start_emulator();

    let mut command = command_for(&binary, &emulator, &api_key());
    command
        .args(["--product", "invoices", "--verbose"])
        .arg(sample_invoice());
    let output = run(command);

    assert_eq!(
        output.status.code(),
        Some(0),
        "extract --verbose failed: {}",
        stderr_of(&output)
    );
    let results = parse_json(&stdout_of(&output));
    let fields = results["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no `fields` array in {results}"));
    assert!(!fields.is_empty(), "the `fields` array is empty");
    for field in fields {
        assert!(field["name"].is_string(), "a field has no name: {field}");
    }
    let invoice_number = invoice_value("Invoice Number");
    assert!(
        fields
            .iter()
            .any(|field| field["value"] == invoice_number.as_str()),
        "no field has the value {invoice_number}: {results}"
    );
}

#[test]
fn extract_wrong_secret_is_auth_error() {
    let dir = TempDir::new("wrong-secret");
    let binary = compile_example(&dir);
    let emulator = start_emulator();
    let wrong_secret = "wrong-secret-5d8e21c4";

    let mut command = command_for(&binary, &emulator, &format!("{CLIENT_ID}:{wrong_secret}"));
    command.arg(sample_invoice());
    let output = run(command);

    let stderr = stderr_of(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "wrong exit status; stderr: {stderr}"
    );
    assert!(
        stderr.starts_with("error 7 (authentication failed): "),
        "no auth error (code 7) in stderr: {stderr}"
    );
    assert!(
        !stderr.contains(wrong_secret),
        "stderr contains the client secret: {stderr}"
    );
    assert!(
        !stderr.contains(CLIENT_SECRET),
        "stderr contains the emulator's secret: {stderr}"
    );
    assert_eq!(
        stdout_of(&output),
        "",
        "extract printed results after an auth error"
    );
    assert_eq!(
        emulator.stats().uploads,
        0,
        "a document was uploaded without a token"
    );
}

#[test]
fn extract_missing_file_is_io_error() {
    let dir = TempDir::new("missing-file");
    let binary = compile_example(&dir);
    let emulator = start_emulator();
    let missing = dir.path.join("no-such-invoice.pdf");

    let mut command = command_for(&binary, &emulator, &api_key());
    command.arg(&missing);
    let output = run(command);

    let stderr = stderr_of(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "wrong exit status; stderr: {stderr}"
    );
    assert!(
        stderr.starts_with("error 4 (I/O error): "),
        "no I/O error (code 4) in stderr: {stderr}"
    );
    assert!(
        stderr.contains("no-such-invoice.pdf"),
        "the message does not name the file: {stderr}"
    );
    assert_eq!(
        stdout_of(&output),
        "",
        "extract printed results for a missing file"
    );
    assert_eq!(emulator.stats().uploads, 0, "an upload reached the server");
}

#[test]
fn extract_without_arguments_is_usage_error() {
    let dir = TempDir::new("no-arguments");
    let binary = compile_example(&dir);
    let emulator = start_emulator();

    let output = run(command_for(&binary, &emulator, &api_key()));

    let stderr = stderr_of(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "wrong exit status; stderr: {stderr}"
    );
    assert!(
        stderr.contains("missing FILE"),
        "stderr does not name the missing argument: {stderr}"
    );
    assert!(
        stderr.contains("--help"),
        "stderr does not point to --help: {stderr}"
    );
    assert_eq!(
        stdout_of(&output),
        "",
        "extract printed to stdout on a usage error"
    );
    assert_eq!(emulator.stats().requests, 0, "a usage error sent a request");
}

#[test]
fn extract_help_exits_zero() {
    let dir = TempDir::new("help");
    let binary = compile_example(&dir);

    let output = Command::new(&binary)
        .arg("--help")
        .output()
        .expect("failed to start extract");

    assert_eq!(
        output.status.code(),
        Some(0),
        "extract --help failed: {}",
        stderr_of(&output)
    );
    assert!(
        stdout_of(&output).starts_with("usage: extract "),
        "no usage line in {}",
        stdout_of(&output)
    );
}

#[test]
fn valgrind_extract_success_is_clean() {
    if !valgrind_available() {
        return;
    }
    let dir = TempDir::new("valgrind-success");
    let binary = compile_example(&dir);
    let emulator = start_emulator();

    let invoice = sample_invoice();
    for args in [
        vec![invoice.as_os_str()],
        vec![OsStr::new("--verbose"), invoice.as_os_str()],
    ] {
        let output = run_under_valgrind(&binary, &emulator, &api_key(), &args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "extract {args:?} failed under valgrind"
        );
        let results = parse_json(&stdout_of(&output));
        assert!(
            results.is_object(),
            "the results are not a JSON object: {results}"
        );
    }
}

#[test]
fn valgrind_extract_auth_error_is_clean() {
    if !valgrind_available() {
        return;
    }
    let dir = TempDir::new("valgrind-auth-error");
    let binary = compile_example(&dir);
    let emulator = start_emulator();

    let invoice = sample_invoice();
    let output = run_under_valgrind(
        &binary,
        &emulator,
        &format!("{CLIENT_ID}:wrong"),
        &[invoice.as_os_str()],
    );

    assert_eq!(
        output.status.code(),
        Some(1),
        "extract did not fail with exit status 1 under valgrind"
    );
    assert!(
        stderr_of(&output).contains("error 7 ("),
        "no auth error under valgrind: {}",
        stderr_of(&output)
    );
}
