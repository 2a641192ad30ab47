//! The demo's fleet: 8 `tokenwell fleet-probe` processes × 50 callers on one
//! throwaway `redis-server`, requests counted at the mock.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokenwell::mock::MockServer;
use tokenwell::{Clock, SystemClock};

const PROCESSES: usize = 8;
const CALLERS: usize = 50;

/// Runs the fleet if `redis-server` is on the PATH, else says how to get it.
pub fn run(mock: &MockServer) -> Result<(), String> {
    let Some(redis) = Redis::start()? else {
        println!(
            "\nfleet: redis-server is not on the PATH, so the fleet part is skipped. Install it\n\
             (`sudo apt-get install redis-server`, `brew install redis`, or `make redis-server`)\n\
             and run `make demo` again to watch {PROCESSES} processes share one token."
        );
        return Ok(());
    };
    let dir = std::env::temp_dir().join(format!("tokenwell-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("fleet.json");
    let json = serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox",
        "base_url": format!("{}/deliveroo", mock.url()),
        "client_id": "demo-fleet", "client_secret": "demo-secret",
        "store": { "redis_url": redis.url },
    });
    std::fs::write(&config, json.to_string()).map_err(|e| e.to_string())?;

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let before = mock.request_count();
    // Lined up a second ahead, so the processes miss together on a cold cache.
    let start_at = SystemClock.unix_ms() + 1_000;
    let probes: Vec<Child> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .arg("fleet-probe")
                .arg("--config")
                .arg(&config)
                .args(["--callers", &CALLERS.to_string()])
                .args(["--start-at-unix-ms", &start_at.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut ok = 0;
    for probe in probes {
        let out = probe.wait_with_output().map_err(|e| e.to_string())?;
        ok += usize::from(out.status.success());
    }
    let _ = std::fs::remove_dir_all(&dir);
    let requests = mock.request_count() - before;
    println!(
        "\nfleet: {PROCESSES} processes x {CALLERS} concurrent token() calls, one redis-server \
         ({ok}/{PROCESSES} processes served, all done {} ms after the start): {requests} token \
         request{} in all.\nOne process takes a lock in Redis and fetches; the others wait for \
         its sealed record.",
        SystemClock.unix_ms() - start_at,
        if requests == 1 { "" } else { "s" }
    );
    Ok(())
}

/// A `redis-server` on a free loopback port, killed on drop.
struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    fn start() -> Result<Option<Redis>, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn();
        let Ok(child) = spawned else {
            return Ok(None);
        };
        let redis = Redis {
            child,
            url: format!("redis://127.0.0.1:{port}/0"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("redis-server did not start within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Some(redis))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
