//! Real Redis deployments on loopback for the store's tests: a Redis Cluster
//! of 3 primaries and 3 replicas, and a primary with a replica watched by 3
//! sentinels. Every process is started here on free ports and killed on drop.
//! Debian's `redis-server` and `redis-cli` (`make test` installs them).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `redis-server` on this machine, or `None` (the caller skips with a
/// message, unless `CI` is set: then it fails).
pub fn redis_binary(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = on_path
        .into_iter()
        .chain(
            [
                "/usr/bin",
                "/usr/local/bin",
                "/usr/sbin",
                "/opt/homebrew/bin",
            ]
            .map(PathBuf::from),
        )
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "{name} not found and CI is set: install it (apt-get install redis-server; `make test` does)"
        );
        eprintln!(
            "SKIP: {name} not found (apt-get install redis-server, or `make test`, installs it)"
        );
    }
    found
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A free port for a cluster node: its cluster bus listens 10000 higher, so
/// at most 55535 (the ephemeral range goes higher).
pub fn cluster_port() -> u16 {
    loop {
        let port = free_port();
        if port <= 55_535 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

pub fn temp_dir(label: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tokenwell-redis-{label}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How the tests reach a deployment's nodes: TLS with a private CA or not,
/// and the default user's password.
#[derive(Clone, Default)]
pub struct Access {
    pub password: Option<String>,
    /// The CA file and the arguments that make a server speak TLS only.
    pub tls: Option<(PathBuf, Vec<String>)>,
}

impl Access {
    /// A node's URL for the default user.
    pub fn url(&self, port: u16) -> String {
        self.url_as(None, port)
    }

    /// A node's URL for `user` (name, password), else the default user.
    pub fn url_as(&self, user: Option<(&str, &str)>, port: u16) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        let host = if self.tls.is_some() {
            "localhost"
        } else {
            "127.0.0.1"
        };
        match (user, &self.password) {
            (Some((name, pw)), _) => format!("{scheme}://{name}:{pw}@{host}:{port}"),
            (None, Some(pw)) => format!("{scheme}://:{pw}@{host}:{port}"),
            (None, None) => format!("{scheme}://{host}:{port}"),
        }
    }

    /// A plain (synchronous) connection to one node as the default user.
    pub fn connect(&self, port: u16) -> redis::RedisResult<redis::Connection> {
        let client = match &self.tls {
            Some((ca, _)) => redis::Client::build_with_tls(
                self.url(port),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(ca).unwrap()),
                },
            )?,
            None => redis::Client::open(self.url(port))?,
        };
        client.get_connection_with_timeout(Duration::from_millis(500))
    }

    /// The server arguments: the port (or the TLS port), the password
    /// (replicas authenticate with it too).
    fn server_args(&self, port: u16) -> Vec<String> {
        let mut args: Vec<String> = match &self.tls {
            Some((_, tls)) => [
                "--port".to_owned(),
                "0".to_owned(),
                "--tls-port".to_owned(),
                port.to_string(),
            ]
            .into_iter()
            .chain(tls.iter().cloned())
            .collect(),
            None => vec!["--port".to_owned(), port.to_string()],
        };
        if let Some(pw) = &self.password {
            args.extend(["--requirepass", pw, "--masterauth", pw].map(str::to_owned));
        }
        args
    }

    /// `redis-cli`'s arguments for the same access.
    fn cli_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some((ca, _)) = &self.tls {
            args.extend([
                "--tls".to_owned(),
                "--cacert".to_owned(),
                ca.display().to_string(),
            ]);
        }
        if let Some(pw) = &self.password {
            args.extend(["-a".to_owned(), pw.clone(), "--no-auth-warning".to_owned()]);
        }
        args
    }
}

/// One `redis-server` process (a data node or a sentinel), killed on drop.
pub struct Node {
    child: Option<Child>,
    pub port: u16,
    args: Vec<String>,
    /// A directory of its own, removed on drop.
    dir: Option<PathBuf>,
}

impl Node {
    /// Removes `dir` when the node is dropped.
    pub fn keep_dir(&mut self, dir: PathBuf) {
        self.dir = Some(dir);
    }

    /// A server started with `args` (its binary first), listening on `port`.
    pub fn spawn(args: Vec<String>, port: u16) -> Node {
        let child = Command::new(&args[0])
            .args(&args[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        Node {
            child: Some(child),
            port,
            args,
            dir: None,
        }
    }

    /// Kills it (SIGKILL: no goodbye to its clients or its replicas).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again with the same arguments (and the same config file).
    pub fn restart(&mut self) {
        self.kill();
        let args = std::mem::take(&mut self.args);
        let dir = self.dir.take();
        *self = Node::spawn(args, self.port);
        self.dir = dir;
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn common_args(server: &Path, dir: &Path) -> Vec<String> {
    [
        server.to_str().unwrap(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec()
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Redis Cluster of 3 primaries and 3 replicas, `cluster-node-timeout 1000`.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub access: Access,
    dir: PathBuf,
}

impl Cluster {
    /// Started and its slots assigned (`redis-cli --cluster create`), or `None`
    /// (skip) without redis-server. `extra` goes to every node (an ACL user).
    pub fn start(access: Access, extra: &[String]) -> Option<Cluster> {
        let server = redis_binary("redis-server")?;
        let cli = redis_binary("redis-cli")?;
        let dir = temp_dir("cluster");
        let mut nodes = Vec::new();
        for i in 0..6 {
            let port = cluster_port();
            let node_dir = dir.join(format!("node{i}"));
            std::fs::create_dir_all(&node_dir).unwrap();
            let mut args = common_args(&server, &node_dir);
            args.extend(access.server_args(port));
            args.extend(
                [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "1000",
                    "--cluster-config-file",
                    "nodes.conf",
                ]
                .map(str::to_owned),
            );
            if access.tls.is_some() {
                args.extend(
                    ["--tls-cluster", "yes", "--tls-replication", "yes"].map(str::to_owned),
                );
            }
            args.extend(extra.iter().cloned());
            nodes.push(Node::spawn(args, port));
        }
        let cluster = Cluster { nodes, access, dir };
        for node in &cluster.nodes {
            wait_for("a cluster node answers", Duration::from_secs(10), || {
                cluster.access.connect(node.port).is_ok()
            });
        }
        let mut create = Command::new(cli)
            .args(cluster.access.cli_args())
            .arg("--cluster")
            .arg("create")
            .args(
                cluster
                    .nodes
                    .iter()
                    .map(|n| format!("127.0.0.1:{}", n.port)),
            )
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-cli runs");
        // A node that never joins would keep redis-cli waiting for ever.
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = create.try_wait().expect("redis-cli runs") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = create.kill();
                let _ = create.wait();
                panic!("redis-cli --cluster create did not end within 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "redis-cli --cluster create");
        cluster.wait_healthy();
        Some(cluster)
    }

    /// `host:port` of every node (what `store.cluster_nodes` lists).
    pub fn addresses(&self) -> Vec<String> {
        let host = if self.access.tls.is_some() {
            "localhost"
        } else {
            "127.0.0.1"
        };
        self.nodes
            .iter()
            .map(|n| format!("{host}:{}", n.port))
            .collect()
    }

    /// Waits until every running node sees the cluster as ok, and every
    /// replica is in sync with its primary.
    pub fn wait_healthy(&self) {
        wait_for("the cluster is healthy", Duration::from_secs(30), || {
            self.nodes.iter().filter(|n| n.is_running()).all(|n| {
                let Ok(mut c) = self.access.connect(n.port) else {
                    return false;
                };
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query(&mut c)
                    .unwrap_or_default();
                let replication: String = redis::cmd("INFO")
                    .arg("replication")
                    .query(&mut c)
                    .unwrap_or_default();
                // A replica that never synced would not take over.
                info.contains("cluster_state:ok")
                    && (replication.contains("role:master")
                        || replication.contains("master_link_status:up"))
            })
        });
    }

    /// The port of the primary that serves `key` now.
    pub fn primary_of(&self, key: &str) -> u16 {
        let node = self.nodes.iter().find(|n| n.is_running()).unwrap();
        let mut c = self.access.connect(node.port).unwrap();
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut c)
            .unwrap();
        let slots: redis::Value = redis::cmd("CLUSTER").arg("SLOTS").query(&mut c).unwrap();
        let redis::Value::Array(ranges) = slots else {
            panic!("CLUSTER SLOTS: {slots:?}")
        };
        for range in ranges {
            let redis::Value::Array(parts) = range else {
                continue;
            };
            let (redis::Value::Int(from), redis::Value::Int(to)) = (&parts[0], &parts[1]) else {
                continue;
            };
            if (*from..=*to).contains(&(slot as i64)) {
                let redis::Value::Array(primary) = &parts[2] else {
                    continue;
                };
                if let redis::Value::Int(port) = primary[1] {
                    return port as u16;
                }
            }
        }
        panic!("no primary serves slot {slot}")
    }

    /// Kills the node on `port`.
    pub fn kill(&mut self, port: u16) {
        self.nodes
            .iter_mut()
            .find(|n| n.port == port)
            .unwrap()
            .kill();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A primary, its replica, and 3 sentinels monitoring them as [`SERVICE`]
/// (quorum 2, `down-after-milliseconds 1000`, `failover-timeout 3000`).
pub struct Sentinels {
    /// The primary at the start, then its replica.
    pub data: Vec<Node>,
    pub sentinels: Vec<Node>,
    pub access: Access,
    dir: PathBuf,
}

/// The service name the sentinels monitor.
pub const SERVICE: &str = "tokenwell-primary";

impl Sentinels {
    /// Started, the replica in sync and every sentinel aware of the others
    /// and of the replica; or `None` (skip) without redis-server.
    pub fn start(access: Access) -> Option<Sentinels> {
        let server = redis_binary("redis-server")?;
        let dir = temp_dir("sentinel");
        let mut data = Vec::new();
        let primary_port = free_port();
        for i in 0..2 {
            let port = if i == 0 { primary_port } else { free_port() };
            let node_dir = dir.join(format!("data{i}"));
            std::fs::create_dir_all(&node_dir).unwrap();
            // The replica's role is in a config file: a restarted node keeps
            // what the sentinels rewrote there (it comes back as a replica).
            let conf = node_dir.join("redis.conf");
            let mut text = String::new();
            if i == 1 {
                text.push_str(&format!("replicaof 127.0.0.1 {primary_port}\n"));
            }
            std::fs::write(&conf, text).unwrap();
            let mut args = vec![
                server.to_str().unwrap().to_owned(),
                conf.display().to_string(),
            ];
            args.extend(common_args(&server, &node_dir).into_iter().skip(1));
            args.extend(access.server_args(port));
            data.push(Node::spawn(args, port));
        }
        // The replica in sync before the sentinels start: they list the
        // replicas a primary reports, every 10 s after the first time.
        let access_ = access.clone();
        let replica = data[1].port;
        wait_for("the replica syncs", Duration::from_secs(10), || {
            replica_in_sync(&access_, replica)
        });
        let mut sentinels = Vec::new();
        for i in 0..3 {
            let port = free_port();
            let node_dir = dir.join(format!("sentinel{i}"));
            std::fs::create_dir_all(&node_dir).unwrap();
            let conf = node_dir.join("sentinel.conf");
            let mut text = format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n\
                 sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n\
                 sentinel down-after-milliseconds {SERVICE} 1000\n\
                 sentinel failover-timeout {SERVICE} 3000\n\
                 sentinel parallel-syncs {SERVICE} 1\n",
                node_dir.display()
            );
            if let Some(pw) = &access.password {
                text.push_str(&format!("sentinel auth-pass {SERVICE} {pw}\n"));
            }
            std::fs::write(&conf, text).unwrap();
            let args = vec![
                server.to_str().unwrap().to_owned(),
                conf.display().to_string(),
                "--sentinel".to_owned(),
            ];
            sentinels.push(Node::spawn(args, port));
        }
        let deployment = Sentinels {
            data,
            sentinels,
            access,
            dir,
        };
        deployment.wait_settled(primary_port);
        Some(deployment)
    }

    /// A plain connection to a sentinel (no password, no TLS).
    pub fn sentinel(&self, i: usize) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}", self.sentinels[i].port))?
            .get_connection_with_timeout(Duration::from_millis(500))
    }

    /// The primary's port according to sentinel `i`.
    pub fn primary_port(&self, i: usize) -> Option<u16> {
        let mut c = self.sentinel(i).ok()?;
        let address: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(SERVICE)
            .query(&mut c)
            .ok()?;
        address.map(|(_, port)| port)
    }

    /// Waits until every sentinel names `primary`, knows a replica of it and
    /// the two other sentinels.
    pub fn wait_settled(&self, primary: u16) {
        wait_for("the sentinels settle", Duration::from_secs(60), || {
            (0..self.sentinels.len()).all(|i| {
                let Ok(mut c) = self.sentinel(i) else {
                    return false;
                };
                let count = |what: &str, c: &mut redis::Connection| {
                    redis::cmd("SENTINEL")
                        .arg(what)
                        .arg(SERVICE)
                        .query::<Vec<redis::Value>>(c)
                        .map(|v| v.len())
                        .unwrap_or(0)
                };
                self.primary_port(i) == Some(primary)
                    && count("replicas", &mut c) >= 1
                    && count("sentinels", &mut c) >= 2
            })
        });
        // And the replica in sync, so a failover loses nothing written so far.
        let replica = self.data.iter().find(|n| n.port != primary).unwrap().port;
        wait_for("the replica syncs", Duration::from_secs(60), || {
            replica_in_sync(&self.access, replica)
        });
    }

    /// `host:port` of every sentinel (what `store.sentinel.nodes` lists).
    pub fn addresses(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect()
    }

    /// The data node on `port`.
    pub fn node(&mut self, port: u16) -> &mut Node {
        self.data.iter_mut().find(|n| n.port == port).unwrap()
    }
}

/// Whether the node on `port` is a replica in sync with its primary.
fn replica_in_sync(access: &Access, port: u16) -> bool {
    let Ok(mut c) = access.connect(port) else {
        return false;
    };
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query(&mut c)
        .unwrap_or_default();
    info.contains("master_link_status:up")
}

impl Drop for Sentinels {
    fn drop(&mut self) {
        for node in self.sentinels.iter_mut().chain(self.data.iter_mut()) {
            node.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
