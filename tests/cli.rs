//! The `tokenwell` binary end to end: `mock` as a separate process, `token`
//! against it with credentials from the environment, and the demo table.
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tokenwell");

/// Kills the mock process even if an assertion fails.
struct Mock(std::process::Child, String);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_mock() -> Mock {
    let mut child = Command::new(BIN)
        .args(["mock", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mock starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("tokenwell mock listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Mock(child, url)
}

#[test]
fn token_command_prints_a_token_from_env_credentials() {
    let mock = start_mock();
    let out = Command::new(BIN)
        .args([
            "token",
            "--provider",
            "deliveroo",
            "--environment",
            "sandbox",
            "--header",
        ])
        .args(["--base-url", &format!("{}/deliveroo", mock.1)])
        .env("TOKENWELL_CLIENT_ID", "cli-client")
        .env("TOKENWELL_CLIENT_SECRET", "cli-secret-8a1f")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("Bearer ") && stdout.trim().split('.').count() == 3,
        "{stdout}"
    );
    assert!(!stdout.contains("cli-secret-8a1f"));
}

#[test]
fn token_command_reports_typed_errors_without_the_secret() {
    let mock = start_mock();
    // Deliveroo with the credentials in the body: the mock refuses, as Deliveroo would.
    let config = std::env::temp_dir().join(format!("tokenwell-cli-{}.toml", std::process::id()));
    std::fs::write(&config, "credentials = \"body\"\n").unwrap();
    let out = Command::new(BIN)
        .args([
            "token",
            "--provider",
            "deliveroo",
            "--environment",
            "sandbox",
        ])
        .args(["--base-url", &format!("{}/deliveroo", mock.1)])
        .arg("--config")
        .arg(&config)
        .env("TOKENWELL_CLIENT_ID", "cli-client")
        .env("TOKENWELL_CLIENT_SECRET", "cli-secret-8a1f")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&config);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("invalid_client (HTTP 401)"), "{stderr}");
    assert!(!stderr.contains("cli-secret-8a1f"), "{stderr}");
}

#[test]
fn demo_shows_one_request_for_a_hundred_callers() {
    let out = Command::new(BIN).arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for preset in ["deliverect", "bringg", "passport", "deliveroo"] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(preset))
            .unwrap_or_else(|| panic!("no {preset} row:\n{stdout}"));
        assert!(row.contains("0 req,"), "cache hits made requests: {row}");
        assert!(row.contains("1 request"), "stampede: {row}");
        assert!(row.contains("old, then new, 1 req"), "refresh-ahead: {row}");
        assert!(row.contains("waited, new, 1 req"), "expiry: {row}");
    }
}
