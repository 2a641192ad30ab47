"""A fleet of Python processes sharing one token through a real ``redis-server``
(the config's ``store.redis_url``): 8 processes x 50 concurrent callers on a
cold cache make exactly one token request; a forked child shares through Redis
too; a process whose Redis is gone still gets tokens; and the stored value
shows neither the token nor the secret."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tokenwell import ConfigError, TokenClient

sys.path.insert(0, str(Path(__file__).parent))
from redis_servers import REDIS_SKIP, cluster_nodes, redis_url  # noqa: E402, F401 (fixtures)

pytestmark = REDIS_SKIP
SECRET = "fleet-py-secret-51c3"
# One process of the fleet: N threads call token() at once, print a summary.
WORKER = """
import concurrent.futures, hashlib, json, sys, time
from tokenwell import TokenClient
config, callers, start_at = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
client = TokenClient.from_config(config)
time.sleep(max(0.0, start_at - time.time()))
with concurrent.futures.ThreadPoolExecutor(callers) as pool:
    tokens = list(pool.map(lambda _: client.token().access_token, range(callers)))
print(json.dumps({"distinct": len(set(tokens)), "fp": hashlib.sha256(tokens[0].encode()).hexdigest()[:12]}))
"""


def _redis(url: str, *args: str) -> bytes:
    """One command over a raw socket (RESP), for looking at what is stored."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a.encode()), a) for a in args)).encode())
        time.sleep(0.05)
        return s.recv(65536)


def _config(mock: Any, redis_url: str, **extra: Any) -> Dict[str, Any]:
    return mock.deliveroo(client_secret=SECRET, store={"redis_url": redis_url, "timeout_ms": 2000}, **extra)


def test_eight_processes_times_fifty_callers_make_one_request(mock: Any, redis_url: str) -> None:
    mock.script([mock.token_response("fleet-py-1", expires_in=3600, delay_ms=300)])
    config = json.dumps(_config(mock, redis_url))
    start_at = time.time() + 1.5  # every process imported and ready: a real stampede
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, config, "50", str(start_at)], stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    results: List[Dict[str, Any]] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, "a fleet process failed"
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["distinct"] == 1 for r in results)
    assert len({r["fp"] for r in results}) == 1, "every process got the same token"
    assert mock.count() == 1, f"{mock.count()} token requests for 8 processes x 50 callers"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_after_using_redis_shares_through_it(mock: Any, redis_url: str) -> None:
    mock.script([mock.token_response("fork-1", expires_in=3600), mock.token_response("fork-2", expires_in=3600)])
    parent = TokenClient.from_config(_config(mock, redis_url))
    first = parent.token()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop the inherited memory tier, then ask again
        try:
            client = TokenClient.from_config(_config(mock, redis_url))
            ok = client.token().access_token == first.access_token
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child did not answer within 20 s (hang after fork?)")
    answer = os.read(read, 1)
    os.close(read)
    assert answer == b"1", "the child read the parent's token from Redis"
    assert mock.count() == 1


def test_the_stored_value_is_sealed_and_redis_down_is_only_a_miss(mock: Any, redis_url: str) -> None:
    mock.script([mock.token_response("sealed-tok-9", expires_in=3600), mock.token_response("sealed-tok-10", expires_in=3600)])
    client = TokenClient.from_config(_config(mock, redis_url))
    client.token()
    client.settle()
    keys = _redis(redis_url, "KEYS", "tokenwell:*")
    assert b":t" in keys
    key = [line for line in keys.split(b"\r\n") if line.endswith(b":t")][0].decode()
    stored = _redis(redis_url, "GET", key)
    assert b"sealed-tok-9" not in stored and SECRET.encode() not in stored and len(stored) > 60
    assert "[redacted]" in repr(client) or SECRET not in repr(client)
    # Redis gone: still a token, no error.
    down = TokenClient.from_config(mock.deliveroo(client_secret=SECRET, store={"redis_url": "redis://127.0.0.1:1/0"}))
    assert down.token().access_token == "sealed-tok-10"


def test_the_store_section_as_a_keyword_argument_is_the_config_not_a_store_object(mock: Any, redis_url: str) -> None:
    """``TokenClient(..., store={"redis_url": ...})`` is the config's ``store``
    section, as in every other binding: it shares through Redis."""
    mock.script([mock.token_response("kw-store-1", expires_in=3600)])
    config = _config(mock, redis_url)
    provider = config.pop("provider")
    by_keywords = TokenClient(provider, **config)
    assert by_keywords.token().access_token == "kw-store-1"
    by_keywords.settle()
    other = TokenClient.from_config(_config(mock, redis_url))
    assert other.token().access_token == "kw-store-1"
    assert mock.count() == 1, "the second client read the token from Redis"


def test_clients_on_a_redis_cluster_share_one_token(mock: Any, cluster_nodes: List[str]) -> None:
    mock.script([mock.token_response("cluster-py-1", expires_in=3600)])
    store = {"redis_url": f"redis://{cluster_nodes[0]}", "cluster_nodes": cluster_nodes, "timeout_ms": 2000}
    first = TokenClient.from_config(mock.deliveroo(client_secret=SECRET, store=store))
    token = first.token().access_token
    first.settle()
    # Another process's client (its own connection) adopts the stored token.
    second = TokenClient.from_config(mock.deliveroo(client_secret=SECRET, store=store))
    assert second.token().access_token == token
    assert mock.count() == 1, "the second client read the token from the cluster"
    # A database other than 0 does not exist on a cluster: a config error.
    with pytest.raises(ConfigError) as info:
        TokenClient.from_config(
            mock.deliveroo(client_secret=SECRET, store={**store, "redis_url": f"redis://{cluster_nodes[0]}/2"})
        )
    assert "database 0" in str(info.value)
