//! The Redis / Valkey store: the fleet protocol's commands on a standalone
//! server, a Redis Cluster or a primary watched by Sentinel, with redis-rs. It
//! only executes; the keys, the sealed records and every decision are the
//! core's ([`crate::fleet`]), and the Lua it runs is the core's too
//! ([`crate::fleet::scripts`]).
//!
//! - **Lazy**: construction only validates; the connection is made by the first
//!   call, so a client starts (and serves tokens) while Redis is down.
//! - **Per process**: the connection is a redis-rs `ConnectionManager` built
//!   on tokenwell's own runtime of this process ([`Process`]) and cached by
//!   process generation, so a forked child makes its own connection and never
//!   writes to its parent's socket. The parent's is left alone in the child
//!   (never dropped, like the parent's runtime).
//! - **Reconnecting**: the manager reconnects after a broken connection (a
//!   Redis restart); a call that finds its connection broken is sent once more
//!   on the new one.
//! - **Cluster**: redis-rs' cluster client (`cluster_nodes`) routes each call
//!   by its keys' slot, follows `MOVED`/`ASK` and refreshes the topology after
//!   a failover. Both keys of a call share a hash tag, so a script's keys
//!   always share a slot; `SCRIPT LOAD` goes to every primary.
//! - **Sentinel**: the primary's address comes from the first sentinel that
//!   knows it (`SENTINEL get-master-addr-by-name`); after a broken connection
//!   or a `READONLY` answer (a primary demoted by a failover) the connection is
//!   dropped and the next attempt asks the sentinels again.
//! - **Bounded**: a connection attempt times out after 1 s and an answer after
//!   the store's time-box; after a call goes unanswered, the next second's
//!   calls fail at once, so a stalled Redis costs a caller one time-box, not
//!   one per protocol step.
//! - **Secret**: the URL's password never appears in an error, a log or
//!   `Debug`. A query parameter redis-rs would ignore (`?password=`) is
//!   refused; a socket's `?pass=` is used and scrubbed.
//! - **Bounded reads**: a record over
//!   [`MAX_RECORD_BYTES`](crate::fleet::record::MAX_RECORD_BYTES) is refused
//!   inside Redis (the core's GET script) and never sent; the CA file must be
//!   a regular file of at most [`MAX_CA_FILE_BYTES`].
//! - **Out of scope: a hostile server.** redis-rs (1.8) has no bound on a
//!   reply's size and reads one whole, even after the time-box gave up on the
//!   call. The defence is the server's identity and access: `rediss://` (with
//!   `store.ca_file` for a private CA) and an ACL user of its own.
//! - **Without scripts**: a server that refuses the scripts (an ACL without
//!   scripting: `NOPERM`; a script it cannot load: `NOSCRIPT`) makes the store
//!   say so ([`Store::refuses_scripts`]) for [`SCRIPTS_RECHECK_MS`]: meanwhile
//!   it takes no lock and sends no script (those calls fail at once), and it
//!   releases a lock it holds with GET then DEL.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, RedisError, RedisResult, Script, Value};

use super::process::Process;
use crate::budget::Spend;
use crate::config::StoreOptions;
use crate::error::{Error, ErrorKind, Result};
use crate::fleet::{self, scripts};
use crate::platform::{Host, Platform};
use crate::redact::Redactor;
use crate::secret::Secret;
use crate::store::Store;

/// Longest wait for a connection to Redis (TCP and TLS handshakes).
pub const CONNECT_TIMEOUT_MS: u64 = 1_000;
/// After a call goes unanswered, how long the next calls fail at once.
pub const STALL_MS: u64 = 1_000;
/// After the server refused a script, how long the store takes it at its word
/// before it tries a script again (an operator may grant the rules meanwhile).
pub const SCRIPTS_RECHECK_MS: u64 = 60_000;

const SCHEMES: [&str; 7] = [
    "redis",
    "rediss",
    "valkey",
    "valkeys",
    "unix",
    "redis+unix",
    "valkey+unix",
];

/// Calls a cluster connection sends again after a `MOVED`, `TRYAGAIN` or a
/// node that went away (a failover), within the caller's time-box.
const CLUSTER_RETRIES: u32 = 3;

/// Where the data lives, and how to reach it.
enum Topology {
    /// One server (`redis_url`).
    Single(Client),
    /// A Redis Cluster (`cluster_nodes`), boxed: its client is the largest.
    Cluster(Box<ClusterClient>),
    /// A primary found through its sentinels (`sentinel`).
    Sentinel(Sentinels),
}

/// The sentinels of one service, and how to reach the primary they name.
struct Sentinels {
    nodes: Vec<Client>,
    service: String,
    /// The data nodes' URL (user, password, TLS, database): the primary's host
    /// and port replace its own.
    url: Secret,
    ca: Option<Vec<u8>>,
}

/// A live connection of one of the topologies (both are cheap handles to
/// redis-rs' connection tasks).
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// A store on a standalone Redis or Valkey server (`redis://`, `rediss://`
/// with TLS, or a Unix socket), a Redis Cluster, or a primary watched by
/// Redis Sentinel.
pub struct RedisStore {
    topology: Topology,
    tls: bool,
    /// redis-rs' answer time-out: the store's time-box.
    timeout_ms: u64,
    /// Scrubs the URL's password (and user) out of redis-rs' messages.
    redactor: Redactor,
    /// This process generation's connection, and its number (a failed
    /// sentinel connection is dropped only if it is still the current one).
    connection: Mutex<Option<(u64, u64, Connection)>>,
    /// Numbers the connections made.
    connections_made: AtomicU64,
    /// Until when (monotonic ms) calls fail at once, after one went unanswered.
    stalled_until: AtomicU64,
    get: Script,
    /// Until when (monotonic ms) the server is taken to refuse scripts.
    scripts_refused_until: AtomicU64,
    publish: Script,
    unlock: Script,
    remove_if: Script,
    budget: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let topology = match self.topology {
            Topology::Single(_) => "standalone",
            Topology::Cluster(_) => "cluster",
            Topology::Sentinel(_) => "sentinel",
        };
        f.debug_struct("RedisStore")
            .field("topology", &topology)
            .field("tls", &self.tls)
            .field("timeout_ms", &self.timeout_ms)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Validates the options (the URL, the CA file); connects lazily, on the
    /// first call, so this neither blocks nor fails when Redis is down.
    pub fn new(options: &StoreOptions, redis_url: &Secret) -> Result<RedisStore> {
        // Never the URL itself in a message: it may carry the password.
        let bad_url = || {
            Error::config(
                "store.redis_url: not a redis://, rediss:// (TLS) or unix:// URL of a Redis or Valkey server",
            )
        };
        let url = url::Url::parse(redis_url.expose()).map_err(|_| bad_url())?;
        if !SCHEMES.contains(&url.scheme()) {
            return Err(bad_url());
        }
        if url.fragment().is_some() {
            return Err(Error::config(
                "store.redis_url: a #fragment is not supported (#insecure would turn certificate checks off; give a private CA as store.ca_file)",
            ));
        }
        let tls = matches!(url.scheme(), "rediss" | "valkeys");
        // redis-rs reads `user` and `pass` from the query of a Unix socket's
        // URL only, and ignores every other parameter but `protocol` (and `db`
        // for a socket): a `?password=` would be dropped, the connection made
        // without it, and its value in the config unscrubbed. So anything else
        // is refused, and what is used is scrubbed.
        let unix = url.scheme().ends_with("unix");
        let (mut user, mut password) = (
            percent_decode(url.username()),
            percent_decode(url.password().unwrap_or_default()),
        );
        for (name, value) in url.query_pairs() {
            match (&*name, unix) {
                ("protocol", _) | ("db", true) => {}
                ("user", true) => user = value.into_owned(),
                ("pass", true) => password = value.into_owned(),
                // Never the parameter's name either: it may be the secret.
                _ => return Err(Error::config(
                    "store.redis_url: unsupported query parameter (only protocol, and db, user \
                         and pass on a unix:// socket); give a password as redis://:password@host",
                )),
            }
        }
        let redactor = Redactor::new(&user, &password);
        let ca = match &options.ca_file {
            Some(_) if !tls => {
                return Err(Error::config(
                    "store.ca_file: only used with a rediss:// URL (TLS)",
                ))
            }
            Some(path) => Some(read_ca(path)?),
            None => None,
        };
        let timeout_ms = options
            .timeout_ms
            .unwrap_or(fleet::DEFAULT_STORE_TIMEOUT_MS)
            .max(1);
        for (field, nodes) in [
            ("store.cluster_nodes", options.cluster_nodes.as_ref()),
            (
                "store.sentinel.nodes",
                options.sentinel.as_ref().map(|s| &s.nodes),
            ),
        ] {
            match nodes {
                Some(nodes) if nodes.is_empty() || nodes.len() > MAX_NODES => {
                    return Err(Error::config(format!(
                        "{field}: give 1 to {MAX_NODES} nodes as host:port"
                    )))
                }
                _ => {}
            }
        }
        let topology = match (&options.cluster_nodes, &options.sentinel) {
            (None, None) => Topology::Single(
                open_client(redis_url.expose(), ca.as_deref()).map_err(|_| bad_url())?,
            ),
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "store.cluster_nodes and store.sentinel exclude each other",
                ))
            }
            (Some(nodes), None) => {
                if unix {
                    return Err(Error::config(
                        "store.cluster_nodes: redis_url must be a redis:// or rediss:// URL",
                    ));
                }
                if !matches!(url.path(), "" | "/" | "/0") {
                    return Err(Error::config(
                        "store.cluster_nodes: a Redis Cluster has database 0 only; drop the database from redis_url",
                    ));
                }
                let urls = nodes
                    .iter()
                    .map(|node| node_url(&url, node, "store.cluster_nodes"))
                    .collect::<Result<Vec<_>>>()?;
                let mut builder = ClusterClientBuilder::new(urls)
                    .connection_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
                    .response_timeout(Duration::from_millis(timeout_ms))
                    .retries(CLUSTER_RETRIES)
                    .min_retry_wait(50)
                    .max_retry_wait(500);
                if tls {
                    builder = builder.tls(redis::TlsMode::Secure);
                }
                if let Some(pem) = &ca {
                    builder = builder.certs(certificates(pem));
                }
                Topology::Cluster(Box::new(builder.build().map_err(|_| bad_url())?))
            }
            (None, Some(sentinel)) => {
                if unix {
                    return Err(Error::config(
                        "store.sentinel: redis_url must be a redis:// or rediss:// URL",
                    ));
                }
                if sentinel.service.is_empty() || sentinel.service.chars().any(char::is_whitespace)
                {
                    return Err(Error::config(
                        "store.sentinel.service: the name the sentinels monitor (no spaces)",
                    ));
                }
                // Only the scheme (TLS) of redis_url: sentinels are asked
                // without the data nodes' credentials.
                let bare = url::Url::parse(&format!("{}://localhost", url.scheme()))
                    .map_err(|_| bad_url())?;
                let nodes = sentinel
                    .nodes
                    .iter()
                    .map(|node| {
                        let address = node_url(&bare, node, "store.sentinel.nodes")?;
                        open_client(&address, ca.as_deref()).map_err(|_| {
                            Error::config("store.sentinel.nodes: not host:port addresses")
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                // The URL must open once its host is replaced.
                open_client(redis_url.expose(), ca.as_deref()).map_err(|_| bad_url())?;
                Topology::Sentinel(Sentinels {
                    nodes,
                    service: sentinel.service.clone(),
                    url: redis_url.clone(),
                    ca,
                })
            }
        };
        if tls {
            install_crypto_provider();
        }
        Ok(RedisStore {
            topology,
            tls,
            timeout_ms,
            redactor,
            connection: Mutex::new(None),
            connections_made: AtomicU64::new(0),
            stalled_until: AtomicU64::new(0),
            get: Script::new(scripts::GET),
            scripts_refused_until: AtomicU64::new(0),
            publish: Script::new(scripts::PUBLISH),
            unlock: Script::new(scripts::UNLOCK),
            remove_if: Script::new(scripts::REMOVE_IF),
            budget: Script::new(scripts::BUDGET),
        })
    }

    /// This process generation's connection and its number, made on first
    /// use (it connects on its first command; a sentinel's primary is looked
    /// up first). A child of `fork()` makes its own.
    async fn connection(&self, process: &Process) -> RedisResult<(u64, Connection)> {
        {
            let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
            match slot.take() {
                Some((generation, number, connection)) if generation == process.generation() => {
                    *slot = Some((generation, number, connection.clone()));
                    return Ok((number, connection));
                }
                // The parent's, in a forked child: its tasks stayed with the
                // parent's runtime threads, so dropping it could wait on them.
                Some((_, _, parents)) => std::mem::forget(parents),
                None => {}
            }
        }
        let connection = match &self.topology {
            Topology::Single(client) => self.manager(process, client.clone())?,
            Topology::Sentinel(sentinels) => {
                let primary = self.primary(process, sentinels).await?;
                self.manager(process, primary)?
            }
            Topology::Cluster(cluster) => {
                // redis-rs spawns its connection tasks on the runtime it is built in.
                let _runtime = process.runtime().enter();
                let config = ClusterConfig::new()
                    .set_connection_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
                    .set_response_timeout(Duration::from_millis(self.timeout_ms));
                Connection::Cluster(cluster.get_pending_async_connection_with_config(config))
            }
        };
        let number = self.connections_made.fetch_add(1, Ordering::Relaxed);
        let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            // Another call made one meanwhile: use that one.
            Some((generation, number, connection)) if *generation == process.generation() => {
                Ok((*number, connection.clone()))
            }
            _ => {
                *slot = Some((process.generation(), number, connection.clone()));
                Ok((number, connection))
            }
        }
    }

    /// A connection manager of one server, on this process's runtime.
    fn manager(&self, process: &Process, client: Client) -> RedisResult<Connection> {
        // redis-rs spawns its connection tasks on the runtime it is built in.
        let _runtime = process.runtime().enter();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)))
            .set_response_timeout(Some(Duration::from_millis(self.timeout_ms)))
            // One attempt per call: the next call tries again, within its time-box.
            .set_number_of_retries(0);
        ConnectionManager::new_lazy_with_config(client, config).map(Connection::Single)
    }

    /// Drops connection `number` if it is still the current one, so that the
    /// next call asks the sentinels again.
    fn forget(&self, number: u64) {
        let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(&*slot, Some((_, n, _)) if *n == number) {
            *slot = None;
        }
    }

    /// A client of the primary the first answering sentinel names, asked on
    /// this process's runtime.
    async fn primary(&self, process: &Process, sentinels: &Sentinels) -> RedisResult<Client> {
        let nodes = sentinels.nodes.clone();
        let service = sentinels.service.clone();
        let timeout = Duration::from_millis(self.timeout_ms);
        let task = process.runtime().spawn(async move {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)))
                .set_response_timeout(Some(timeout));
            let mut last = RedisError::from((redis::ErrorKind::Io, "no sentinel answered"));
            for node in nodes {
                let asked = async {
                    let mut connection = node
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?;
                    redis::cmd("SENTINEL")
                        .arg("get-master-addr-by-name")
                        .arg(&service)
                        .query_async::<Option<(String, u16)>>(&mut connection)
                        .await
                };
                match asked.await {
                    Ok(Some(address)) => return Ok(address),
                    Ok(None) => {
                        last = RedisError::from((
                            redis::ErrorKind::Client,
                            "a sentinel does not know the service",
                        ))
                    }
                    Err(e) => last = e,
                }
            }
            Err(last)
        });
        let (host, port) = task.await.unwrap_or_else(|_| {
            Err(RedisError::from((
                redis::ErrorKind::Client,
                "the sentinel lookup panicked",
            )))
        })?;
        let mut url = url::Url::parse(sentinels.url.expose())
            .map_err(|_| RedisError::from((redis::ErrorKind::Client, "redis_url")))?;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        url.set_host(Some(&host))
            .and_then(|()| {
                url.set_port(Some(port))
                    .map_err(|()| url::ParseError::InvalidPort)
            })
            .map_err(|_| {
                RedisError::from((
                    redis::ErrorKind::Client,
                    "a sentinel named an address that is not a host",
                ))
            })?;
        open_client(url.as_str(), sentinels.ca.as_deref())
    }

    /// Runs `call` on this process's runtime, once more if it found its
    /// connection broken. Returns the answer and whether it was sent twice.
    async fn run(&self, call: Call) -> Result<(Value, bool)> {
        let script = matches!(call, Call::Script(..));
        if Host::monotonic_ms() < self.stalled_until.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::Store,
                "redis: the server did not answer a moment ago; not waiting on it again yet",
            ));
        }
        let process = Process::current()?;
        let sentinel = matches!(self.topology, Topology::Sentinel(_));
        // Dropped before the answer (the client's time-box): Redis stalls.
        let mut pending = Pending {
            store: self,
            done: false,
        };
        let mut outcome = match self.connection(process).await {
            Ok((number, connection)) => {
                let outcome = spawn(process, connection.clone(), call.clone()).await;
                if let Err(e) = &outcome {
                    if sentinel && (is_broken_connection(e) || is_readonly(e)) {
                        // The primary may have moved: ask the sentinels again.
                        self.forget(number);
                    }
                }
                outcome.map_err(|e| (e, Some(connection)))
            }
            Err(e) => Err((e, None)),
        };
        let mut retried = false;
        if let Err((e, connection)) = &outcome {
            if is_broken_connection(e) || (sentinel && is_readonly(e)) {
                // A manager reconnects (the call goes on its new connection);
                // a sentinel's primary is looked up again.
                retried = true;
                let connection = match (sentinel, connection) {
                    (false, Some(connection)) => Ok((None, connection.clone())),
                    _ => self.connection(process).await.map(|(n, c)| (Some(n), c)),
                };
                outcome = match connection {
                    Ok((number, connection)) => {
                        let again = spawn(process, connection, call).await;
                        if let (Some(number), Err(e)) = (number, &again) {
                            if is_broken_connection(e) || is_readonly(e) {
                                self.forget(number);
                            }
                        }
                        again.map_err(|e| (e, None))
                    }
                    Err(e) => Err((e, None)),
                };
            }
        }
        let outcome = outcome.map_err(|(e, _)| e);
        pending.done = true;
        match outcome {
            Ok(value) => Ok((value, retried)),
            Err(e) => {
                if e.is_timeout() {
                    self.stall();
                }
                if script && refuses_scripts(&e) {
                    self.scripts_refused_until.store(
                        Host::monotonic_ms().saturating_add(SCRIPTS_RECHECK_MS),
                        Ordering::Release,
                    );
                }
                Err(self.error(&e))
            }
        }
    }

    fn stall(&self) {
        self.stalled_until.store(
            Host::monotonic_ms().saturating_add(STALL_MS),
            Ordering::Release,
        );
    }

    /// A store error with redis-rs' message, scrubbed of the URL's credentials.
    fn error(&self, e: &RedisError) -> Error {
        Error::new(
            ErrorKind::Store,
            format!("redis: {}", self.redactor.scrub(&e.to_string())),
        )
    }

    /// Runs one of the core's scripts, unless the server is known to refuse
    /// them (see the module doc).
    async fn run_script(&self, script: &Script, keys: &[&str], args: &[&str]) -> Result<()> {
        self.eval(script, keys, args).await.map(drop)
    }

    /// Runs one of the core's scripts and returns its answer; fails at once
    /// while the server is taken to refuse scripts.
    async fn eval(&self, script: &Script, keys: &[&str], args: &[&str]) -> Result<Value> {
        if self.scripts_refused() {
            return Err(scripts_refused_error());
        }
        let call = Call::Script(
            script.clone(),
            keys.iter().map(|k| k.to_string()).collect(),
            args.iter().map(|a| a.to_string()).collect(),
        );
        self.run(call).await.map(|(value, _)| value)
    }

    /// Whether `owner` holds `lock`: a plain GET (the records' GET is a
    /// script, which a server that refuses scripts would refuse too).
    async fn holds(&self, lock: &str, owner: &str) -> Result<bool> {
        let (held, _) = self
            .run(Call::Cmd(redis::cmd("GET").arg(lock).clone()))
            .await?;
        Ok(matches!(held, Value::BulkString(b) if b == owner.as_bytes()))
    }

    fn scripts_refused(&self) -> bool {
        Host::monotonic_ms() < self.scripts_refused_until.load(Ordering::Acquire)
    }
}

/// A server error that says the scripts will not run at all (rather than that
/// one run failed): `NOPERM` (an ACL without scripting), `NOSCRIPT` after
/// redis-rs loaded the script, or no such command.
fn refuses_scripts(e: &RedisError) -> bool {
    matches!(e.code(), Some("NOPERM" | "NOSCRIPT"))
        || e.detail()
            .is_some_and(|d| d.to_ascii_lowercase().contains("unknown command"))
}

fn scripts_refused_error() -> Error {
    Error::new(
        ErrorKind::Store,
        "redis: the server refuses to run scripts; not sending one again yet",
    )
}

/// A write sent to a replica: on Sentinel, a primary that a failover demoted.
fn is_readonly(e: &RedisError) -> bool {
    e.code() == Some("READONLY")
}

/// The `TlsCertificates` of a private CA.
fn certificates(pem: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(pem.to_vec()),
    }
}

/// A client of one server, trusting `ca` (PEM) if given.
fn open_client(url: &str, ca: Option<&[u8]>) -> RedisResult<Client> {
    match ca {
        Some(pem) => Client::build_with_tls(url, certificates(pem)),
        None => Client::open(url),
    }
}

/// `url` (its scheme, user and password) at `node`'s host and port, or a
/// config error naming `field` (never the URL).
fn node_url(url: &url::Url, node: &str, field: &str) -> Result<String> {
    let bad = || Error::config(format!("{field}: not host:port addresses"));
    let (host, port) = host_port(node).ok_or_else(bad)?;
    let mut url = url.clone();
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    url.set_host(Some(&host)).map_err(|_| bad())?;
    url.set_port(Some(port)).map_err(|()| bad())?;
    url.set_path("");
    Ok(url.into())
}

/// Most nodes `cluster_nodes` or `sentinel.nodes` may list.
const MAX_NODES: usize = 64;

/// `host:port` (an IPv6 host in brackets) as the host, unbracketed, and the
/// port; or `None`.
fn host_port(node: &str) -> Option<(&str, u16)> {
    let (host, port) = node.rsplit_once(':')?;
    let port = port.parse::<u16>().ok().filter(|p| *p != 0)?;
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let bracketed = bare.len() != host.len();
    let valid = !bare.is_empty()
        && bare.len() <= 253
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        // A colon only inside brackets (IPv6), and brackets only around one.
        && bracketed == bare.contains(':');
    valid.then_some((bare, port))
}

/// Marks the store stalled if a call is dropped before its answer.
struct Pending<'a> {
    store: &'a RedisStore,
    done: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.store.stall();
        }
    }
}

/// One command or script.
#[derive(Clone)]
enum Call {
    Cmd(Cmd),
    Script(Script, Vec<String>, Vec<String>),
}

/// Runs `call` as a task of tokenwell's runtime (redis-rs needs a tokio
/// context, whatever executor awaits the store). A time-box that gives up
/// on it leaves the task to end at redis-rs' own answer time-out.
async fn spawn(process: &Process, connection: Connection, call: Call) -> RedisResult<Value> {
    let task = process.runtime().spawn(async move {
        match connection {
            Connection::Single(mut manager) => execute(&mut manager, call).await,
            Connection::Cluster(mut cluster) => execute(&mut cluster, call).await,
        }
    });
    task.await.unwrap_or_else(|_| {
        Err(RedisError::from((
            redis::ErrorKind::Client,
            "the Redis call panicked",
        )))
    })
}

async fn execute(
    connection: &mut (impl redis::aio::ConnectionLike + Send),
    call: Call,
) -> RedisResult<Value> {
    match call {
        Call::Cmd(cmd) => cmd.query_async(connection).await,
        Call::Script(script, keys, args) => {
            let mut invocation = script.prepare_invoke();
            for key in &keys {
                invocation.key(key);
            }
            for arg in &args {
                invocation.arg(arg);
            }
            invocation.invoke_async(connection).await
        }
    }
}

/// A connection that broke or could not be made (a restarting server), as
/// opposed to a slow server (timed out): the manager then reconnects, and the
/// call is worth sending once more. A server that is down refuses that at
/// once too; a stale broken connection is replaced by a live one.
fn is_broken_connection(e: &RedisError) -> bool {
    (e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error()) && !e.is_timeout()
}

/// Largest CA file read: a bundle of a few hundred certificates fits.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// The CA file's PEM, checked to hold at least one certificate. Only a
/// regular file of at most [`MAX_CA_FILE_BYTES`] is read: `/dev/zero` would
/// never end, and a FIFO would block construction until a writer came.
fn read_ca(path: &str) -> Result<Vec<u8>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let pem = read_small_file(path, MAX_CA_FILE_BYTES)
        .map_err(|why| Error::config(format!("store.ca_file: {why}")))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| Error::config("store.ca_file: not a PEM file of certificates"))?;
    if certificates.is_empty() {
        return Err(Error::config(
            "store.ca_file: no PEM certificate in the file",
        ));
    }
    Ok(pem)
}

/// A regular file's bytes, if it has at most `limit` of them; else why not
/// (never the contents). Opened without blocking (a FIFO put in the file's
/// place after a check must not block either), then checked on the open file.
pub(super) fn read_small_file(path: &str, limit: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NONBLOCK);
    }
    let file = open
        .open(path)
        .map_err(|e| format!("cannot read the file ({e})"))?;
    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read the file ({e})"))?;
    if !metadata.is_file() {
        return Err("not a regular file".to_owned());
    }
    if metadata.len() > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    // Bounded even if the file grows while it is read.
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file ({e})"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(bytes)
}

/// rustls needs one crypto provider per process: redis-rs takes the process
/// default, and reqwest takes it too when there is one (else aws-lc-rs, the one
/// it compiles in). Install aws-lc-rs unless the application installed its own,
/// so both always agree, whatever other providers the build compiles in.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An error only says one is installed already: that one is used.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// `%XX` escapes decoded (a URL's user and password), for the redactor.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unexpected(what: &str, value: &Value) -> Error {
    let kind = match value {
        Value::Nil => "nil",
        Value::Int(_) => "an integer",
        Value::BulkString(_) | Value::SimpleString(_) | Value::VerbatimString { .. } => "a string",
        Value::Okay => "OK",
        _ => "another type",
    };
    Error::new(
        ErrorKind::Store,
        format!("redis: {what} answered {kind}, unexpectedly"),
    )
}

#[async_trait::async_trait]
impl Store for RedisStore {
    /// A GET in a script that refuses a value over
    /// `fleet::record::MAX_RECORD_BYTES` in the
    /// server: a hostile or corrupt record is never transferred whole.
    async fn get(&self, key: &str) -> Result<Option<String>> {
        let value = self.eval(&self.get, &[key], &[]).await?;
        match value {
            Value::Nil => Ok(None),
            Value::BulkString(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| Error::new(ErrorKind::Store, "redis: GET answered non-UTF-8 bytes")),
            other => Err(unexpected("GET", &other)),
        }
    }

    async fn put(&self, key: &str, record: &str, ttl_ms: u64) -> Result<()> {
        let cmd = redis::cmd("SET")
            .arg(key)
            .arg(record)
            .arg("PX")
            .arg(ttl_ms.max(1))
            .clone();
        self.run(Call::Cmd(cmd)).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.run(Call::Cmd(redis::cmd("DEL").arg(key).clone()))
            .await
            .map(drop)
    }

    fn has_lock(&self) -> bool {
        true
    }

    async fn try_lock(&self, lock: &str, owner: &str, ttl_ms: u64) -> Result<bool> {
        // A lock it could release only without a script: none taken.
        if self.scripts_refused() {
            return Err(scripts_refused_error());
        }
        let cmd = redis::cmd("SET")
            .arg(lock)
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms.max(1))
            .clone();
        match self.run(Call::Cmd(cmd)).await? {
            (Value::Nil, false) => Ok(false),
            // Sent twice: the first may have taken the lock before its
            // connection broke.
            (Value::Nil, true) => self.holds(lock, owner).await,
            (Value::Okay | Value::SimpleString(_), _) => Ok(true),
            (other, _) => Err(unexpected("SET NX", &other)),
        }
    }

    async fn unlock(&self, lock: &str, owner: &str) -> Result<()> {
        if !self.scripts_refused() {
            match self.run_script(&self.unlock, &[lock], &[owner]).await {
                Err(_) if self.scripts_refused() => {}
                other => return other,
            }
        }
        // Without a script: GET, then DEL if it still holds our owner. Not
        // atomic: should our lock lapse between the two and another process
        // take it, the DEL frees theirs, and a third process may then fetch
        // alongside them (one more token request, nothing worse). The lock
        // outlives the HTTP timeout by seconds, and a holder releases it right
        // after its fetch, so that window is rarely open.
        if self.holds(lock, owner).await? {
            self.delete(lock).await?;
        }
        Ok(())
    }

    fn refuses_scripts(&self) -> bool {
        self.scripts_refused()
    }

    async fn publish(
        &self,
        key: &str,
        record: &str,
        ttl_ms: u64,
        release: Option<(&str, &str)>,
    ) -> Result<()> {
        let ttl = ttl_ms.max(1).to_string();
        match release {
            Some((lock, owner)) => {
                self.run_script(&self.publish, &[key, lock], &[record, &ttl, owner])
                    .await
            }
            None => {
                self.run_script(&self.publish, &[key], &[record, &ttl])
                    .await
            }
        }
    }

    async fn remove_if(&self, key: &str, fingerprint: &str) -> Result<()> {
        self.run_script(&self.remove_if, &[key], &[fingerprint])
            .await
    }

    async fn spend(
        &self,
        key: &str,
        limit: u32,
        window_ms: u64,
        now_unix_ms: i64,
    ) -> Result<Spend> {
        let args = [
            limit.to_string(),
            window_ms.to_string(),
            now_unix_ms.to_string(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match self.eval(&self.budget, &[key], &args).await? {
            Value::Int(0) => Ok(Spend::Granted),
            Value::Int(ms) => Ok(Spend::Refused {
                retry_after_ms: u64::try_from(ms).unwrap_or(1).max(1),
            }),
            other => Err(unexpected("the budget script", &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(url: &str) -> Result<RedisStore> {
        RedisStore::new(&StoreOptions::default(), &Secret::from(url))
    }

    #[test]
    fn bad_urls_are_config_errors_that_never_show_the_url() {
        for url in [
            "http://:hunter2-pw@cache:6379",
            "not a url hunter2-pw",
            "redis://:hunter2-pw@cache:6379/#insecure",
            "rediss://:hunter2-pw@cache:6379/#insecure",
            "redis://:hunter2-pw@cache:6379/notadb",
        ] {
            let e = store(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{url}");
            let text = format!("{e} {e:?}");
            assert!(text.contains("store.redis_url"), "{text}");
            assert!(
                !text.contains("hunter2") && !text.contains("cache"),
                "{text}"
            );
        }
    }

    #[test]
    fn construction_never_connects() {
        // Nothing listens there: construction still succeeds, instantly.
        let s = store("redis://:hunter2-pw@127.0.0.1:1/0").unwrap();
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("127.0.0.1"),
            "{debug}"
        );
        assert!(store("rediss://user:pw@cache.internal:6380").is_ok());
        assert!(store("unix:///run/redis.sock").is_ok());
    }

    #[test]
    fn a_ca_file_needs_tls_and_certificates() {
        let options = |path: &str| StoreOptions {
            ca_file: Some(path.to_owned()),
            ..StoreOptions::default()
        };
        let e = RedisStore::new(&options("/nonexistent"), &"redis://cache".into()).unwrap_err();
        assert!(e.to_string().contains("store.ca_file"), "{e}");
        let e = RedisStore::new(&options("/nonexistent"), &"rediss://cache".into()).unwrap_err();
        assert!(e.to_string().contains("store.ca_file"), "{e}");
        let empty = std::env::temp_dir().join(format!("tokenwell-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let e = RedisStore::new(&options(empty.to_str().unwrap()), &"rediss://cache".into())
            .unwrap_err();
        let _ = std::fs::remove_file(&empty);
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
    }

    #[test]
    #[cfg(unix)]
    fn a_ca_file_is_a_small_regular_file_read_without_blocking() {
        let dir = std::env::temp_dir().join(format!("tokenwell-ca-kinds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo.pem");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // One byte over the limit.
        let big = dir.join("big.pem");
        std::fs::write(&big, vec![b'A'; MAX_CA_FILE_BYTES as usize + 1]).unwrap();
        for (path, why) in [
            (fifo.to_str().unwrap(), "not a regular file"),
            ("/dev/zero", "not a regular file"),
            (dir.to_str().unwrap(), "not a regular file"),
            (big.to_str().unwrap(), "larger than 1048576 bytes"),
        ] {
            let options = StoreOptions {
                ca_file: Some(path.to_owned()),
                ..StoreOptions::default()
            };
            let started = std::time::Instant::now();
            let e = RedisStore::new(&options, &"rediss://cache".into()).unwrap_err();
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{path}: {:?}",
                started.elapsed()
            );
            assert_eq!(e.kind(), ErrorKind::Config, "{path}");
            let text = e.to_string();
            assert!(
                text.contains("store.ca_file") && text.contains(why),
                "{path}: {text}"
            );
            assert!(!text.contains("AAAA"), "{path}: {text}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn query_credentials_are_refused_or_used_and_scrubbed() {
        // redis-rs would ignore these: refused, never shown.
        for url in [
            "redis://cache:6379/0?password=hunter2-pw",
            "rediss://cache:6380?user=admin&pass=hunter2-pw",
            "redis://cache?hunter2-pw",
            "unix:///run/redis.sock?password=hunter2-pw",
        ] {
            let e = store(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{url}");
            let text = format!("{e} {e:?}");
            assert!(text.contains("store.redis_url"), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(store("redis://cache:6379/0?protocol=resp3").is_ok());
        // A socket's password is its `pass` parameter: used, and scrubbed.
        let s = store("unix:///run/redis.sock?db=1&user=admin&pass=hunter2-pw").unwrap();
        let e = s.error(&RedisError::from((
            redis::ErrorKind::Client,
            "echo",
            "WRONGPASS hunter2-pw".to_owned(),
        )));
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn a_cluster_has_database_0_and_names_its_nodes() {
        let cluster = |url: &str, nodes: &[&str]| {
            let options = StoreOptions {
                cluster_nodes: Some(nodes.iter().map(|n| n.to_string()).collect()),
                ..StoreOptions::default()
            };
            RedisStore::new(&options, &Secret::from(url))
        };
        let s = cluster(
            "rediss://tw:hunter2-pw@cache:6379/0",
            &["10.0.0.1:7000", "[::1]:7001"],
        )
        .unwrap();
        let debug = format!("{s:?}");
        assert!(
            debug.contains("cluster") && !debug.contains("hunter2"),
            "{debug}"
        );
        assert!(cluster("redis://cache:6379", &["a:1"]).is_ok());
        for (url, nodes, why) in [
            (
                "redis://:hunter2-pw@cache:6379/2",
                &["a:1"][..],
                "database 0",
            ),
            (
                "unix:///run/redis.sock?pass=hunter2-pw",
                &["a:1"],
                "redis:// or rediss://",
            ),
            ("redis://:hunter2-pw@cache", &["a"], "host:port"),
            ("redis://:hunter2-pw@cache", &["a b:1"], "host:port"),
            ("redis://:hunter2-pw@cache", &["a:0"], "host:port"),
            ("redis://:hunter2-pw@cache", &["::1:7000"], "host:port"),
            ("redis://:hunter2-pw@cache", &["[a]:7000"], "host:port"),
            ("redis://:hunter2-pw@cache", &["h/x:7000"], "host:port"),
            ("redis://:hunter2-pw@cache", &[], "1 to 64 nodes"),
        ] {
            let e = cluster(url, nodes).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{url}");
            let text = format!("{e} {e:?}");
            assert!(
                text.contains("store.cluster_nodes") && text.contains(why),
                "{text}"
            );
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn sentinels_are_named_by_host_and_port() {
        let sentinel = |url: &str, nodes: &[&str], service: &str| {
            let options = StoreOptions {
                sentinel: Some(crate::config::SentinelOptions {
                    nodes: nodes.iter().map(|n| n.to_string()).collect(),
                    service: service.to_owned(),
                }),
                ..StoreOptions::default()
            };
            RedisStore::new(&options, &Secret::from(url))
        };
        let s = sentinel(
            "redis://tw:hunter2-pw@placeholder/3",
            &["s1:26379", "s2:26379"],
            "m",
        )
        .unwrap();
        let debug = format!("{s:?}");
        assert!(
            debug.contains("sentinel") && !debug.contains("hunter2"),
            "{debug}"
        );
        for (nodes, service, field) in [
            (&["s1"][..], "m", "store.sentinel.nodes"),
            (&[][..], "m", "store.sentinel.nodes"),
            (&["s1:1"][..], "", "store.sentinel.service"),
        ] {
            let e = sentinel("redis://:hunter2-pw@h", nodes, service).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.to_string().contains(field), "{e}");
        }
        let both = StoreOptions {
            cluster_nodes: Some(vec!["h:1".to_owned()]),
            sentinel: Some(crate::config::SentinelOptions {
                nodes: vec!["s:1".to_owned()],
                service: "m".to_owned(),
            }),
            ..StoreOptions::default()
        };
        let e = RedisStore::new(&both, &Secret::from("redis://h")).unwrap_err();
        assert!(e.to_string().contains("exclude each other"), "{e}");
    }

    #[test]
    fn passwords_are_scrubbed_in_every_spelling() {
        assert_eq!(percent_decode("p%40ss%3Aw%2"), "p@ss:w%2");
        let s = store("redis://admin:s%40cret-pass@127.0.0.1:1").unwrap();
        let e = s.error(&RedisError::from((
            redis::ErrorKind::Client,
            "echo",
            "s@cret-pass and s%40cret-pass".to_owned(),
        )));
        assert!(!e.to_string().contains("cret-pass"), "{e}");
    }
}
