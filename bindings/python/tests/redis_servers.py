"""Real ``redis-server`` deployments on loopback for the store's tests, each on
free ports and killed at the end of its test: the ``redis_url`` fixture (one
server) and the ``cluster_nodes`` fixture (a Redis Cluster of 3 primaries and 3
replicas). A test module imports the fixtures it uses
(``from redis_servers import redis_url``) and skips with ``pytestmark =
REDIS_SKIP`` where Debian's ``redis-server`` is missing (with ``CI`` set, the
fixtures fail instead: ``make test`` installs it)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator, List

import pytest

REDIS = shutil.which("redis-server")
REDIS_SKIP = pytest.mark.skipif(
    REDIS is None and not os.environ.get("CI"), reason="redis-server not installed (make test installs it)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _can_bind(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A plain ``redis-server`` of this test: its URL (database 0)."""
    if REDIS is None:
        pytest.fail("redis-server is missing and CI is set: install it (make test does)")
    port = free_port()
    proc = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("redis-server did not start within 10 s")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


@pytest.fixture
def cluster_nodes(tmp_path: Path) -> Iterator[List[str]]:
    """A Redis Cluster of 3 primaries and 3 replicas on loopback (redis-cli --cluster create): its nodes' ``host:port``."""
    cli = shutil.which("redis-cli")
    if REDIS is None or cli is None:
        pytest.fail("redis-server is missing and CI is set: install it (make test does)")
    ports: List[int] = []
    while len(ports) < 6:  # a node's cluster bus listens 10000 higher: that port must be free too
        port = free_port()
        if port <= 55535 and port not in ports and _can_bind(port + 10000):
            ports.append(port)
    procs = []
    try:
        for port in ports:
            node_dir = tmp_path / str(port)
            node_dir.mkdir()
            procs.append(
                subprocess.Popen(
                    [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", str(node_dir), "--cluster-enabled", "yes", "--cluster-node-timeout", "1000",
                     "--cluster-config-file", "nodes.conf"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 10
        for port in ports:
            while subprocess.run([cli, "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
                if time.monotonic() > deadline:
                    pytest.fail("a cluster node did not start within 10 s")
                time.sleep(0.05)
        nodes = [f"127.0.0.1:{port}" for port in ports]
        subprocess.run([cli, "--cluster", "create", *nodes, "--cluster-replicas", "1", "--cluster-yes"],
                       capture_output=True, check=True, timeout=60)
        deadline = time.monotonic() + 30
        while not all(
            b"cluster_state:ok" in subprocess.run([cli, "-p", str(p), "cluster", "info"], capture_output=True).stdout
            for p in ports
        ):
            if time.monotonic() > deadline:
                pytest.fail("the cluster was not ok within 30 s")
            time.sleep(0.1)
        yield nodes
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
