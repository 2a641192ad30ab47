//! `tokenwell`: the demo, the mock provider, and a token for real use.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};

mod fleet_demo;
use tokenwell::mock::{MockArgs, MockOptions, MockServer};
use tokenwell::{Clock, ManualClock, SystemClock, TokenClient, TokenConfig};

#[derive(Parser)]
#[command(
    name = "tokenwell",
    version,
    about = "OAuth 2.0 client-credentials tokens, fetched once and cached right."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the cache at work against the embedded mock provider, for every preset.
    Demo,
    /// Serve the mock token provider on loopback (for tests and your CI).
    Mock(MockArgs),
    /// Print a token for real use. Reads TOKENWELL_CLIENT_ID and TOKENWELL_CLIENT_SECRET.
    Token(TokenArgs),
    /// A process of a fleet test (tests/redis.rs, the bindings' fleet runs).
    #[command(hide = true)]
    FleetProbe(ProbeArgs),
}

/// `tokenwell fleet-probe --config FILE [--callers N] [--start-at-unix-ms T] [--fork K]`:
/// one client from the config (typically with `store.redis_url`), N concurrent
/// `token()` calls, then one line on stdout:
/// `ok callers=N tokens=<distinct> token=<sha256 prefix> ms=<elapsed> pid=<pid>`.
/// With `--fork K` it then forks K children (Unix) that drop that token, as
/// after a 401, and make the N calls again, each printing its own line.
#[derive(clap::Args)]
struct ProbeArgs {
    /// A JSON or TOML config; credentials from the environment if it has none.
    #[arg(long)]
    config: std::path::PathBuf,
    /// Concurrent `token()` calls.
    #[arg(long, default_value_t = 50)]
    callers: usize,
    /// Waits until this Unix time (ms) before calling, to line processes up.
    #[arg(long)]
    start_at_unix_ms: Option<i64>,
    /// Children to fork after the calls, each calling again with the inherited client.
    #[arg(long, default_value_t = 0)]
    fork: usize,
}

#[derive(clap::Args)]
struct TokenArgs {
    /// Preset: deliverect, bringg, passport, deliveroo, uber, stuart, toast (or use --config).
    #[arg(long)]
    provider: Option<String>,
    /// Preset environment (staging/production, sandbox/production).
    #[arg(long)]
    environment: Option<String>,
    /// Preset region (bringg: eu/us).
    #[arg(long)]
    region: Option<String>,
    /// Replaces the preset's scheme and host.
    #[arg(long)]
    base_url: Option<String>,
    /// A JSON or TOML config file (the schema every binding accepts); credentials
    /// still come from the environment if the file leaves them out.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Print the whole `Authorization` header value instead of the bare token.
    #[arg(long)]
    header: bool,
    #[arg(long, env = "TOKENWELL_CLIENT_ID", hide_env_values = true)]
    client_id: String,
    #[arg(
        long,
        env = "TOKENWELL_CLIENT_SECRET",
        hide_env_values = true,
        hide = true
    )]
    client_secret: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Mock(args) => tokenwell::mock::run_cli(args).map_err(|e| e.to_string()),
        Command::Demo => runtime().and_then(|rt| rt.block_on(demo())),
        Command::Token(args) => runtime().and_then(|rt| rt.block_on(token(args))),
        Command::FleetProbe(args) => fleet_probe(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokenwell: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

async fn token(args: TokenArgs) -> Result<(), String> {
    let mut value = match &args.config {
        Some(path) => read_config(path)?,
        None => serde_json::json!({}),
    };
    let obj = value.as_object_mut().ok_or("config must be an object")?;
    let mut set = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            obj.insert(k.to_owned(), v.into());
        }
    };
    set("provider", args.provider);
    set("environment", args.environment);
    set("region", args.region);
    set("base_url", args.base_url);
    obj.entry("client_id").or_insert(args.client_id.into());
    obj.entry("client_secret")
        .or_insert(args.client_secret.into());
    let client = TokenClient::new(TokenConfig::from_value(value).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let token = client.token().await.map_err(|e| e.to_string())?;
    if args.header {
        println!("{}", token.authorization_header());
    } else {
        println!("{}", token.secret());
    }
    Ok(())
}

/// The largest config file read: far above any real config, and a path to a
/// device or a runaway file fails at once instead of filling memory.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A JSON or TOML config file as a JSON value.
fn read_config(path: &std::path::Path) -> Result<serde_json::Value, String> {
    use std::io::Read;
    let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| shown(&e))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(shown(&"larger than 1 MiB, not a config file"));
    }
    if path.extension().is_some_and(|x| x == "toml") {
        toml::from_str::<serde_json::Value>(&text)
            .map_err(|e| format!("{}: {}", path.display(), e.message()))
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn fleet_probe(args: ProbeArgs) -> Result<(), String> {
    let mut value = read_config(&args.config)?;
    let obj = value.as_object_mut().ok_or("config must be an object")?;
    for (key, var) in [
        ("client_id", "TOKENWELL_CLIENT_ID"),
        ("client_secret", "TOKENWELL_CLIENT_SECRET"),
    ] {
        if let (false, Ok(v)) = (obj.contains_key(key), std::env::var(var)) {
            obj.insert(key.to_owned(), v.into());
        }
    }
    let client = TokenClient::new(TokenConfig::from_value(value).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if let Some(at) = args.start_at_unix_ms {
        let wait = at.saturating_sub(SystemClock.unix_ms());
        std::thread::sleep(std::time::Duration::from_millis(wait.max(0) as u64));
    }
    let (line, token) = runtime()?.block_on(probe_calls(&client, args.callers))?;
    println!("{line}");
    if args.fork > 0 {
        fork_probes(&client, &args, &token)?;
    }
    Ok(())
}

/// `callers` concurrent `token()` calls: the probe's line and the token.
async fn probe_calls(client: &TokenClient, callers: usize) -> Result<(String, String), String> {
    use sha2::{Digest, Sha256};
    let started = Instant::now();
    let calls = (0..callers.max(1)).map(|_| client.token());
    let mut tokens = std::collections::BTreeSet::new();
    for result in futures::future::join_all(calls).await {
        tokens.insert(result.map_err(|e| e.to_string())?.secret().to_owned());
    }
    let ms = started.elapsed().as_millis();
    let token = tokens.iter().next().cloned().unwrap_or_default();
    // A digest, never the token: the line may end up in a CI log.
    let digest: String = Sha256::digest(token.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let line = format!(
        "ok callers={callers} tokens={} token={digest} ms={ms} pid={}",
        tokens.len(),
        std::process::id()
    );
    Ok((line, token))
}

/// Forks `args.fork` children that use the inherited client: each drops
/// `token` (as after a 401) and calls again, on runtimes of its own.
#[cfg(unix)]
fn fork_probes(client: &TokenClient, args: &ProbeArgs, token: &str) -> Result<(), String> {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut children = Vec::new();
    for _ in 0..args.fork {
        // SAFETY: the child runs tokenwell (which rebuilds its per-process
        // runtime and connections after a fork) on a runtime of its own, then
        // leaves with `_exit`, running none of the parent's exit handlers.
        match unsafe { libc::fork() } {
            -1 => return Err("fork failed".into()),
            0 => {
                let outcome = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
                    .and_then(|rt| {
                        client.invalidate(token);
                        rt.block_on(probe_calls(client, args.callers))
                    });
                let code = match outcome {
                    Ok((line, _)) => {
                        println!("{line}");
                        0
                    }
                    Err(e) => {
                        eprintln!("tokenwell: {e}");
                        1
                    }
                };
                let _ = std::io::stdout().flush();
                // SAFETY: ends the child without unwinding into the parent's state.
                unsafe { libc::_exit(code) }
            }
            pid => children.push(pid),
        }
    }
    let mut failed = 0;
    for pid in children {
        let mut status = 0;
        // SAFETY: waits for a child this process forked.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            failed += 1;
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} forked probe(s) failed")),
    }
}

#[cfg(not(unix))]
fn fork_probes(_: &TokenClient, _: &ProbeArgs, _: &str) -> Result<(), String> {
    Err("--fork needs a Unix system".into())
}

/// One row per preset: the demo's whole story in numbers read off the mock.
async fn demo() -> Result<(), String> {
    let mock = MockServer::start(MockOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let base = mock.url();
    println!("tokenwell demo: mock provider on {base} (loopback), every number below read off its request counter\n");
    let presets = [
        (
            "deliverect",
            serde_json::json!({"provider": "deliverect", "environment": "staging", "base_url": format!("{base}/deliverect")}),
            "JSON, grant_type=token, audience",
        ),
        (
            "bringg",
            serde_json::json!({"provider": "bringg", "region": "eu", "base_url": format!("{base}/bringg"), "ttl": 1800}),
            "multipart, ttl",
        ),
        (
            "passport",
            serde_json::json!({"provider": "passport", "base_url": format!("{base}/passport")}),
            "JSON, Accept: json",
        ),
        (
            "deliveroo",
            serde_json::json!({"provider": "deliveroo", "environment": "sandbox", "base_url": format!("{base}/deliveroo")}),
            "HTTP Basic + form",
        ),
        (
            "uber",
            serde_json::json!({"provider": "uber", "base_url": format!("{base}/uber"), "scope": "eats.deliveries"}),
            "form, scope required",
        ),
        (
            "stuart",
            serde_json::json!({"provider": "stuart", "environment": "sandbox", "base_url": format!("{base}/stuart")}),
            "form, scope=api, 8 KiB JWTs",
        ),
        (
            "toast",
            serde_json::json!({"provider": "toast", "base_url": format!("{base}/toast")}),
            "JSON camelCase, nested token",
        ),
    ];
    let header = format!(
        "{:<11} {:<33} {:>9} {:>14} {:>13} {:>22} {:>20}",
        "provider",
        "wire format",
        "lifetime",
        "1000 hits",
        "100 at once",
        "at 80% lifetime",
        "after expiry"
    );
    println!("{header}\n{}", "-".repeat(header.chars().count()));
    for (i, (name, cfg, wire)) in presets.into_iter().enumerate() {
        let mut cfg = cfg;
        cfg["client_id"] = format!("demo-client-{i}").into();
        cfg["client_secret"] = "demo-secret".into();
        let config = TokenConfig::from_value(cfg).map_err(|e| e.to_string())?;
        let row = preset_row(&mock, config).await?;
        println!(
            "{name:<11} {wire:<33} {:>8}s {:>14} {:>13} {:>22} {:>20}",
            row.lifetime_s, row.hits, row.stampede, row.refresh, row.expiry
        );
    }
    println!("{}", doordash_row(&mock).await?);
    println!(
        "\n1000 hits: requests made by 1000 token() calls on a warm cache, and the mean cost of one.\n\
         100 at once: requests made by 100 concurrent token() calls on a cold cache.\n\
         at 80% lifetime / after expiry: a virtual clock jumps ahead; the first caller at 80% gets the\n\
         current token while one background refresh runs; after expiry callers wait for one new fetch.\n\
         toast refreshes only in a token's last 60 s (Toast hands out the same token until then, at most\n\
         2 an hour): at 80% it keeps its token without a request; after expiry the mock, on its own clock,\n\
         still hands out the same token.\n\
         doordash has no token endpoint: the client mints its JWT (counted as mints, never requests),\n\
         and the mock's Drive API route verifies it."
    );
    // The probes are processes: wait for them off the runtime that serves the mock.
    tokio::task::block_in_place(|| fleet_demo::run(&mock))?;
    mock.shutdown().await;
    Ok(())
}

/// DoorDash Drive: the same story counted in mints (the client signs its own
/// JWT, no request), then the JWT used at the mock's Drive API route, revoked
/// there (401), invalidated and minted anew.
async fn doordash_row(mock: &MockServer) -> Result<String, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokenwell::mock::{DOORDASH_DEVELOPER_ID, DOORDASH_KEY_ID, DOORDASH_SIGNING_SECRET};
    let err = |e: tokenwell::Error| e.to_string();
    let config = TokenConfig::from_value(serde_json::json!({
        "provider": "doordash", "developer_id": DOORDASH_DEVELOPER_ID,
        "key_id": DOORDASH_KEY_ID, "signing_secret": DOORDASH_SIGNING_SECRET,
    }))
    .map_err(err)?;
    let mints = Arc::new(AtomicUsize::new(0));
    let counter = mints.clone();
    let clock = Arc::new(ManualClock::new(SystemClock.unix_ms()));
    let client = TokenClient::builder(config)
        .clock(clock.clone())
        .on_event(Arc::new(move |e: &tokenwell::Event| {
            if matches!(e, tokenwell::Event::Fetched { .. }) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }))
        .build()
        .map_err(err)?;
    let minted = || mints.load(Ordering::SeqCst);
    let requests_before = mock.request_count();
    let calls = (0..100).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.token().await })
    });
    for r in futures::future::join_all(calls).await {
        r.map_err(|e| e.to_string())?.map_err(err)?;
    }
    let stampede = format!("{} mint", minted());
    let t1 = client.token().await.map_err(err)?;
    let lifetime_ms = (t1.expires_at_unix_ms() - clock.unix_ms()) as u64;
    let start = Instant::now();
    for _ in 0..1000 {
        client.token().await.map_err(err)?;
    }
    let hits = format!(
        "{} mint, {} ns",
        minted() - 1,
        start.elapsed().as_nanos() / 1000
    );
    let http = reqwest::Client::new();
    let url = format!("{}/doordash/drive/v2/deliveries/demo-1", mock.url());
    let call = |token: String| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            match http.get(url).bearer_auth(token).send().await {
                Ok(resp) => resp.status().as_u16(),
                Err(_) => 0,
            }
        }
    };
    let accepted = call(t1.secret().to_owned()).await;
    mock.doordash(Some(1));
    let revoked = call(t1.secret().to_owned()).await;
    client.invalidate(t1.secret());
    let before = minted();
    let t2 = client.token().await.map_err(err)?;
    let again = call(t2.secret().to_owned()).await;
    let after_401 = minted() - before;
    clock.advance(lifetime_ms * 8 / 10);
    let before = minted();
    let served = client.token().await.map_err(err)?;
    client.settle().await;
    let n = minted() - before;
    let refresh = format!(
        "{}, {n} mint",
        if served == t2 && n == 1 {
            "old, then new"
        } else {
            "UNEXPECTED"
        }
    );
    clock.advance(lifetime_ms * 2);
    let before = minted();
    client.token().await.map_err(err)?;
    let n = minted() - before;
    let expiry = format!(
        "{}, {n} mint",
        if n == 1 { "waited, new" } else { "UNEXPECTED" }
    );
    Ok(format!(
        "{:<11} {:<33} {:>8}s {:>14} {:>13} {:>22} {:>20}\n\
         {:<11} Drive API: {accepted}; revoked: {revoked}; invalidate, {after_401} mint: {again}; \
         token requests: {}",
        "doordash",
        "HS256 JWT minted, no endpoint",
        (lifetime_ms as f64 / 1000.0).round() as u64,
        hits,
        stampede,
        refresh,
        expiry,
        "",
        mock.request_count() - requests_before,
    ))
}

struct Row {
    lifetime_s: u64,
    hits: String,
    stampede: String,
    refresh: String,
    expiry: String,
}

async fn preset_row(mock: &MockServer, config: TokenConfig) -> Result<Row, String> {
    let err = |e: tokenwell::Error| e.to_string();
    let requests = || mock.request_count();

    // Cache hits on the system clock.
    let client = TokenClient::new(config.clone()).map_err(err)?;
    let first = client.token().await.map_err(err)?;
    let lifetime_s =
        ((first.expires_at_unix_ms() - SystemClock.unix_ms()) as f64 / 1000.0).round() as u64;
    let before = requests();
    let start = Instant::now();
    for _ in 0..1000 {
        client.token().await.map_err(err)?;
    }
    let per_hit = start.elapsed().as_nanos() / 1000;
    let hits = format!("{} req, {per_hit} ns", requests() - before);

    // A stampede on a cold client.
    let cold = TokenClient::new(config.clone()).map_err(err)?;
    let before = requests();
    let calls = (0..100).map(|_| {
        let c = cold.clone();
        tokio::spawn(async move { c.token().await })
    });
    for r in futures::future::join_all(calls).await {
        r.map_err(|e| e.to_string())?.map_err(err)?;
    }
    let stampede = format!("{} request", requests() - before);

    // Refresh-ahead and expiry, on a virtual clock.
    let clock = Arc::new(ManualClock::new(SystemClock.unix_ms()));
    // Toast's preset sets a refresh window: the refresh waits for the token's
    // last 60 s, so at 80% the client keeps its token without a request.
    let window = config.provider.name() == "toast";
    let timed = TokenClient::builder(config)
        .clock(clock.clone())
        .build()
        .map_err(err)?;
    let t1 = timed.token().await.map_err(err)?;
    let lifetime_ms = (t1.expires_at_unix_ms() - clock.unix_ms()) as u64;
    clock.advance(lifetime_ms * 8 / 10);
    let before = requests();
    let served = timed.token().await.map_err(err)?;
    timed.settle().await;
    let t2 = timed.token().await.map_err(err)?;
    let refreshed = requests() - before;
    let refresh = format!(
        "{}, {refreshed} req",
        match (served == t1, t2 != t1, window) {
            (true, true, false) if refreshed == 1 => "old, then new",
            (true, false, true) if refreshed == 0 => "kept (last 60 s)",
            _ => "UNEXPECTED",
        },
    );
    clock.advance(lifetime_ms * 2);
    let before = requests();
    let t3 = timed.token().await.map_err(err)?;
    let fetched = requests() - before;
    let expiry = format!(
        "{}, {fetched} req",
        match (t3 != t2, window) {
            _ if fetched != 1 => "UNEXPECTED",
            (true, _) => "waited, new",
            (false, true) => "waited, same",
            (false, false) => "UNEXPECTED",
        },
    );
    Ok(Row {
        lifetime_s,
        hits,
        stampede,
        refresh,
        expiry,
    })
}
