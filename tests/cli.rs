//! The `tokenwell` binary end to end: `mock` as a separate process, `token`
//! against it with credentials from the environment, and the demo table.
#![cfg(feature = "cli")]

use std::process::Command;

#[path = "common/mock_process.rs"]
mod mock_process;

use mock_process::{start_mock, BIN};

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
        .args(["--base-url", &format!("{}/deliveroo", mock.url)])
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
        .args(["--base-url", &format!("{}/deliveroo", mock.url)])
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

/// A config path that names a device (or a runaway file) fails at once with
/// a clear error instead of reading without end.
#[test]
fn token_command_refuses_a_config_file_larger_than_a_mebibyte() {
    let out = Command::new(BIN)
        .args(["token", "--provider", "deliveroo", "--config", "/dev/zero"])
        .env("TOKENWELL_CLIENT_ID", "cli-client")
        .env("TOKENWELL_CLIENT_SECRET", "cli-secret-8a1f")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("/dev/zero: larger than 1 MiB"), "{stderr}");
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
    // The fleet part: one request for 8 processes when redis-server is on the PATH
    // (make test installs it; in CI it must be there), else how to get it.
    let fleet = stdout
        .lines()
        .find(|l| l.starts_with("fleet:"))
        .unwrap_or_else(|| panic!("no fleet line:\n{stdout}"));
    let redis = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok();
    if redis || std::env::var_os("CI").is_some() {
        assert!(
            fleet.contains("(8/8 processes served") && fleet.contains(": 1 token request in all"),
            "{fleet}"
        );
    } else {
        assert!(fleet.contains("redis-server is not on the PATH"), "{fleet}");
    }
}

#[test]
fn demo_says_how_to_get_redis_server_when_it_is_missing() {
    let out = Command::new(BIN)
        .arg("demo")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("redis-server is not on the PATH")
            && stdout.contains("apt-get install redis-server"),
        "{stdout}"
    );
}

/// `POST {url}{path}` with a JSON body over a plain socket (the mock's admin API).
fn post_json(url: &str, path: &str, body: &str) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[test]
fn token_command_scrubs_every_echoed_form_of_the_secret() {
    let mock = start_mock();
    // The conformance vector's endpoint echoes: every form, every error path.
    let vector: serde_json::Value =
        serde_json::from_str(include_str!("vectors/secret-echo-every-form.json")).unwrap();
    let config = &vector["config"];
    let forbidden: Vec<&str> = vector["forbidden"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    let file = std::env::temp_dir().join(format!("tokenwell-echo-{}.json", std::process::id()));
    let url = format!("{}/custom/token", mock.url);
    let settings =
        serde_json::json!({"provider": "custom", "token_url": url, "credentials": "both"});
    std::fs::write(&file, settings.to_string()).unwrap();
    let responses = vector["script"].as_array().unwrap();
    for (i, response) in responses.iter().enumerate() {
        post_json(
            &mock.url,
            "/__admin/script",
            &serde_json::json!({ "responses": [response] }).to_string(),
        );
        let out = Command::new(BIN)
            .arg("token")
            .arg("--config")
            .arg(&file)
            .env("TOKENWELL_CLIENT_ID", config["client_id"].as_str().unwrap())
            .env(
                "TOKENWELL_CLIENT_SECRET",
                config["client_secret"].as_str().unwrap(),
            )
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "response #{i} must fail");
        assert!(stderr.starts_with("tokenwell: "), "response #{i}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if let Some(form) = forbidden
            .iter()
            .position(|f| stderr.contains(f) || stdout.contains(f))
        {
            panic!("response #{i}: the output leaks secret form #{form}");
        }
    }
    let _ = std::fs::remove_file(&file);
}
