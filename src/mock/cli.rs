//! `tokenwell mock`: the mock as a standalone process, for test suites in other languages.

use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{Fault, MockOptions, MockServer};

/// Options of `tokenwell mock`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct MockArgs {
    /// Loopback address to listen on: 127.0.0.1, ::1 or localhost (nothing else is allowed).
    #[cfg_attr(feature = "cli", arg(long, default_value = "127.0.0.1"))]
    pub host: String,
    /// Port to listen on; 0 picks a free one (printed on startup).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0))]
    pub port: u16,
    /// Lifetime of every issued token in seconds, instead of each provider's default.
    #[cfg_attr(feature = "cli", arg(long = "lifetime", value_name = "SECS"))]
    pub lifetime_secs: Option<u64>,
    /// Delay before every token response, in milliseconds.
    #[cfg_attr(feature = "cli", arg(long, value_name = "MS", default_value_t = 0))]
    pub latency_ms: u64,
    /// Answer every valid token request with this HTTP status (200-599).
    #[cfg_attr(
        feature = "cli",
        arg(long, value_name = "STATUS", conflicts_with_all = ["fault_malformed", "fault_delay_ms"])
    )]
    pub fault_status: Option<u16>,
    /// Answer every valid token request with 200 and a non-JSON (HTML) body.
    #[cfg_attr(feature = "cli", arg(long, conflicts_with = "fault_delay_ms"))]
    pub fault_malformed: bool,
    /// Delay every successful token response by this many extra milliseconds.
    #[cfg_attr(feature = "cli", arg(long, value_name = "MS"))]
    pub fault_delay_ms: Option<u64>,
    /// Accept only this client id (requires --client-secret); by default any non-empty pair is accepted.
    #[cfg_attr(feature = "cli", arg(long, requires = "client_secret"))]
    pub client_id: Option<String>,
    /// Accept only this client secret (requires --client-id).
    #[cfg_attr(feature = "cli", arg(long, requires = "client_id"))]
    pub client_secret: Option<String>,
}

impl Default for MockArgs {
    fn default() -> Self {
        MockArgs {
            host: Ipv4Addr::LOCALHOST.to_string(),
            port: 0,
            lifetime_secs: None,
            latency_ms: 0,
            fault_status: None,
            fault_malformed: false,
            fault_delay_ms: None,
            client_id: None,
            client_secret: None,
        }
    }
}

impl MockArgs {
    /// The server options these arguments describe; `InvalidInput` for a
    /// non-loopback host, several faults at once, or half a credential pair.
    pub fn to_options(&self) -> io::Result<MockOptions> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        let ip: IpAddr = if self.host.eq_ignore_ascii_case("localhost") {
            Ipv4Addr::LOCALHOST.into()
        } else {
            self.host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| invalid(format!("--host {:?} is not an IP address", self.host)))?
        };
        if !ip.is_loopback() {
            return Err(invalid(format!(
                "--host {ip} is not a loopback address: the mock serves 127.0.0.1, ::1 or localhost only"
            )));
        }
        let faults = [
            self.fault_status.map(Fault::Status),
            self.fault_malformed.then_some(Fault::Malformed),
            self.fault_delay_ms.map(Fault::Delay),
        ];
        let mut faults = faults.into_iter().flatten();
        let fault = faults.next();
        if faults.next().is_some() {
            return Err(invalid(
                "give at most one of --fault-status, --fault-malformed, --fault-delay-ms".into(),
            ));
        }
        let credentials = match (&self.client_id, &self.client_secret) {
            (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "--client-id and --client-secret go together".into(),
                ))
            }
        };
        Ok(MockOptions {
            addr: SocketAddr::new(ip, self.port),
            lifetime_secs: self.lifetime_secs,
            latency_ms: self.latency_ms,
            fault,
            credentials,
        })
    }
}

/// Runs the mock until SIGINT or SIGTERM, on a tokio runtime of its own.
///
/// Once listening it prints exactly one line to stdout, flushed:
/// `tokenwell mock listening on http://127.0.0.1:PORT`.
pub fn run_cli(args: MockArgs) -> io::Result<()> {
    let opts = args.to_options()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Handlers go in before the line is printed: a harness may signal right after reading it.
        let stop = stop_signal()?;
        let server = MockServer::start(opts).await?;
        {
            let mut out = io::stdout().lock();
            writeln!(out, "tokenwell mock listening on {}", server.url())?;
            out.flush()?;
        }
        stop.await;
        server.shutdown().await;
        Ok(())
    })
}

/// Resolves on the first SIGINT or SIGTERM; the handlers are installed at once.
#[cfg(unix)]
fn stop_signal() -> io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        // An error here means no Ctrl-C handler can exist; stop rather than serve forever.
        let _ = tokio::signal::ctrl_c().await;
    })
}
