//! Command-line entry point: runs the emulator until SIGINT or SIGTERM.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sypht_emulator::{Emulator, EmulatorConfig};

const USAGE: &str = "\
Usage: sypht-emulator [OPTIONS]

Serves an emulation of the Sypht API on a loopback address, for tests.

Options:
  --bind ADDR                   IP address to listen on (default 127.0.0.1)
  --port N                      TCP port; 0 picks a free one (default 0)
  --allow-non-loopback          permit a --bind address outside 127.0.0.0/8 and ::1
  --client-id ID                client id for /oauth2/token (default emulator-client-id)
  --client-secret SECRET        client secret for /oauth2/token (default emulator-client-secret)
  --legacy-client-id ID         client id for /oauth/token (default emulator-legacy-id)
  --legacy-client-secret SECRET client secret for /oauth/token (default emulator-legacy-secret)
  --token-lifetime SECS         lifetime of /oauth2/token tokens in seconds (default 3600)
  --legacy-token-lifetime SECS  lifetime of /oauth/token tokens in seconds (default 86400)
  --max-upload-bytes N          largest accepted document in bytes (default 20971520)
  --request-log-capacity N      latest API requests kept for /_emulator/requests (default 10000)
  --max-pdf-pages N             largest accepted PDF page count, 0 for no limit (default 16)
  --pending-polls N             'IN PROGRESS' answers per file before results are final (default 0)
  --pending-status CODE         HTTP status of 'IN PROGRESS' answers, 200 or 202 (default 200)
  --annotation-page-size N      annotations per page of the annotation listings (default 100)
  --port-file PATH              write the bound port to PATH once listening
  --quiet                       do not log requests to stderr
  --help                        print this help

When --client-id or --client-secret is absent, the value comes from
SYPHT_API_KEY in the form ID:SECRET (split on the first colon), if set.
";

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
mod signals {
    use super::STOP_REQUESTED;
    use std::sync::atomic::Ordering;

    const SIGINT: i32 = 2;
    const SIGTERM: i32 = 15;

    extern "C" {
        // The C library's signal(2) wrapper; std links the C library on
        // every Unix target.
        fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    }

    /// Sets a flag and nothing else, which is async-signal-safe.
    extern "C" fn request_stop(_signum: i32) {
        STOP_REQUESTED.store(true, Ordering::SeqCst);
    }

    pub fn install() {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe, and the signal numbers are the Linux and BSD
        // values of SIGINT and SIGTERM.
        unsafe {
            signal(SIGINT, request_stop);
            signal(SIGTERM, request_stop);
        }
    }
}

struct Options {
    config: EmulatorConfig,
    port_file: Option<PathBuf>,
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("invalid value {value:?} for {flag}: expected a whole number"))
}

fn parse_args(args: Vec<String>) -> Result<Option<Options>, String> {
    let mut config = EmulatorConfig { log: true, ..EmulatorConfig::default() };
    let mut bind: IpAddr = IpAddr::from([127, 0, 0, 1]);
    let mut port: u16 = 0;
    let mut port_file = None;
    let mut client_id = None;
    let mut client_secret = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.to_string())),
            _ => (arg.clone(), None),
        };
        let takes_value = !matches!(flag.as_str(), "--help" | "-h" | "--quiet" | "--allow-non-loopback");
        let value = if takes_value {
            match inline_value.or_else(|| args.next()) {
                Some(value) => value,
                None => return Err(format!("missing value for {flag}; see --help")),
            }
        } else {
            String::new()
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--quiet" => config.log = false,
            "--allow-non-loopback" => config.allow_non_loopback = true,
            "--bind" => {
                bind = value
                    .parse()
                    .map_err(|_| format!("invalid value {value:?} for --bind: expected an IP address such as 127.0.0.1"))?
            }
            "--port" => port = parse_number(&flag, &value)?,
            "--client-id" => client_id = Some(value),
            "--client-secret" => client_secret = Some(value),
            "--legacy-client-id" => config.legacy_client_id = value,
            "--legacy-client-secret" => config.legacy_client_secret = value,
            "--token-lifetime" => config.token_lifetime = Duration::from_secs(parse_number(&flag, &value)?),
            "--legacy-token-lifetime" => config.legacy_token_lifetime = Duration::from_secs(parse_number(&flag, &value)?),
            "--max-upload-bytes" => config.max_upload_bytes = parse_number(&flag, &value)?,
            "--request-log-capacity" => config.request_log_capacity = parse_number(&flag, &value)?,
            "--max-pdf-pages" => config.max_pdf_pages = parse_number(&flag, &value)?,
            "--pending-polls" => config.pending_polls = parse_number(&flag, &value)?,
            "--pending-status" => config.pending_status = parse_number(&flag, &value)?,
            "--annotation-page-size" => config.annotation_page_size = parse_number(&flag, &value)?,
            "--port-file" => port_file = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option {flag}; see --help")),
        }
    }
    if !bind.is_loopback() && !config.allow_non_loopback {
        return Err(format!(
            "--bind {bind} is not a loopback address; use 127.0.0.1 or ::1, or add --allow-non-loopback"
        ));
    }
    if client_id.is_none() || client_secret.is_none() {
        if let Ok(key) = std::env::var("SYPHT_API_KEY") {
            let Some((id, secret)) = key.split_once(':') else {
                return Err("SYPHT_API_KEY must have the form ID:SECRET".to_string());
            };
            client_id = client_id.or(Some(id.to_string()));
            client_secret = client_secret.or(Some(secret.to_string()));
        }
    }
    if let Some(id) = client_id {
        config.client_id = id;
    }
    if let Some(secret) = client_secret {
        config.client_secret = secret;
    }
    config.bind_addr = SocketAddr::new(bind, port);
    Ok(Some(Options { config, port_file }))
}

/// Writes the port through a temporary file and a rename, so a script
/// polling for the file never reads a partial number.
fn write_port_file(path: &PathBuf, port: u16) -> std::io::Result<()> {
    let mut temporary = path.clone().into_os_string();
    temporary.push(".tmp");
    std::fs::write(&temporary, format!("{port}\n"))?;
    std::fs::rename(&temporary, path)
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sypht-emulator: {message}");
            return ExitCode::from(2);
        }
    };
    #[cfg(unix)]
    signals::install();
    let log = options.config.log;
    let bind_addr = options.config.bind_addr;
    let emulator = match Emulator::start(options.config) {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("sypht-emulator: failed to listen on {bind_addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &options.port_file {
        if let Err(error) = write_port_file(path, emulator.local_addr().port()) {
            eprintln!("sypht-emulator: failed to write the port file {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!("sypht-emulator listening on {}", emulator.base_url());
    let _ = std::io::stdout().flush();
    while !STOP_REQUESTED.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    emulator.shutdown();
    if log {
        eprintln!("sypht-emulator: stopped");
    }
    ExitCode::SUCCESS
}
