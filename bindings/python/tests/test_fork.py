"""Forked children get tokens: ``os.fork``, ``multiprocessing`` (fork start method)
and a ``gunicorn --preload`` app.

A child of ``fork()`` has only the thread that forked. A core that kept one
tokio runtime for the whole process would hand a child a runtime whose threads
do not exist there, and ``token()`` would wait forever for a fetch that nobody
runs; the core keeps one runtime per process generation instead. Every child here is therefore bounded: the parent waits for its
answer with a timeout, kills it (SIGKILL) when there is none, and fails, so a
regression fails the run instead of hanging it.

The children report facts (booleans, counts, pids, fingerprints of the
Authorization header), never a token.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set

import pytest

from tokenwell import AccessToken, TokenClient

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only"),
    # CPython >= 3.12 warns on fork() from a process with threads (tokenwell's
    # runtime has some): forking such a process safely is what is under test.
    pytest.mark.filterwarnings("ignore:This process .*is multi-threaded:DeprecationWarning"),
]

# How long a child may take to get its tokens (it needs milliseconds).
CHILD_TIMEOUT_S = 20.0


def _fp(token: AccessToken) -> str:
    """A fingerprint that tells tokens apart without showing one."""
    return hashlib.sha256(token.authorization_header.encode()).hexdigest()[:16]


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def _reap(pid: int, deadline: float) -> Optional[int]:
    """The child's exit status, or None if it is still running at ``deadline``."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return status
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


def _in_forked_child(body: Callable[[], Dict[str, Any]], what: str, timeout: float = CHILD_TIMEOUT_S) -> Dict[str, Any]:
    """Runs ``body`` in a child of ``os.fork()`` and returns what it returned (a
    JSON-able dict). Fails, after killing the child, if it has not answered
    within ``timeout`` seconds or if ``body`` raised."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read_fd)
            try:
                answer: Dict[str, Any] = {"ok": True, "facts": body()}
            except BaseException as e:  # noqa: BLE001 - reported to the parent
                answer = {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
            with os.fdopen(write_fd, "wb") as out:
                out.write(json.dumps(answer).encode())
            status = 0
        finally:
            os._exit(status)

    os.close(write_fd)
    deadline = time.monotonic() + timeout
    chunks: List[bytes] = []
    try:
        while True:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([read_fd], [], [], max(remaining, 0))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(
                    f"{what}: the forked child made no answer within {timeout:.0f} s and was killed "
                    "(token() hangs after fork?)"
                )
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
    exit_status = _reap(pid, deadline + 5)
    if exit_status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"{what}: the forked child answered but did not exit")
    raw = b"".join(chunks)
    if not raw:
        pytest.fail(f"{what}: the forked child exited (status {exit_status:#x}) without an answer")
    answer = json.loads(raw)
    if not answer["ok"]:
        pytest.fail(f"{what}: the forked child failed: {answer['error']}\n{answer['traceback']}")
    facts: Dict[str, Any] = answer["facts"]
    return facts


# -- 1. os.fork after the parent fetched a token -------------------------------------


def test_forked_child_fetches_tokens(mock: Any) -> None:
    client = TokenClient.from_config(mock.deliveroo())
    parent_token = client.token()  # the parent now has a runtime, a pool and a token
    # Created before the fork, first used in the child (other credentials).
    idle = TokenClient.from_config(mock.deliveroo(client_id="py-idle-client"))
    assert mock.count() == 1

    def child() -> Dict[str, Any]:
        before = mock.count()
        # (a) The parent's client, its token dropped: token() must go to the core
        # and the network, in this process.
        dropped = client.invalidate(parent_token)
        a = client.token()
        a_is_cached = client.token() is a
        # (b) A client built in the child.
        b = TokenClient.from_config(mock.deliveroo()).token()
        # (c) token_async under asyncio.run, on the parent's client (its token
        # dropped again) and on a client built in the child.
        client.invalidate(a)
        c = asyncio.run(client.token_async())
        d = asyncio.run(TokenClient.from_config(mock.deliveroo()).token_async())
        # (e) A client the parent built but never used.
        e = idle.token()
        return {
            "dropped": dropped,
            "a_is_cached": a_is_cached,
            "fingerprints": [_fp(t) for t in (a, b, c, d, e)],
            "bearer": all(t.authorization_header.startswith("Bearer ") for t in (a, b, c, d, e)),
            "fetches": mock.count() - before,
        }

    facts = _in_forked_child(child, "os.fork after a fetch")
    assert facts["dropped"], "the child's invalidate() found the inherited token in the core"
    assert facts["bearer"]
    assert facts["a_is_cached"], "a fresh token is cached in the child"
    assert facts["fetches"] == 5, "the child fetched each of its five tokens itself"
    fingerprints = facts["fingerprints"]
    assert len(set(fingerprints) | {_fp(parent_token)}) == 6, "six different tokens"

    # The parent is unaffected: still its own cached token, and its runtime still fetches.
    assert client.token() is parent_token
    assert mock.count() == 6
    client.invalidate(parent_token)
    assert _fp(client.token()) not in set(fingerprints) | {_fp(parent_token)}
    assert mock.count() == 7
    # The idle client's token was fetched in the child only: the parent fetches its own.
    assert _fp(idle.token()) not in fingerprints
    assert mock.count() == 8


def test_forked_child_runs_its_own_store_calls(mock: Any) -> None:
    """The threads that run own stores' calls do not survive a fork: the child
    starts its own, so its store answers instead of timing out."""

    class Store:
        def __init__(self) -> None:
            self.records: Dict[str, str] = {}
            self.calls: List[str] = []

        def get(self, key: str) -> Optional[str]:
            self.calls.append("get")
            return self.records.get(key)

        def put(self, key: str, record: str, ttl_ms: int) -> None:
            self.calls.append("put")
            self.records[key] = record

        def remove_if(self, key: str, record: str) -> None:
            self.calls.append("remove_if")

    store = Store()
    config = mock.deliveroo(client_id="py-fork-store", store={"timeout_ms": 2000})
    parent = TokenClient.from_config(config, store=store)
    token = parent.token()  # the parent's store threads have run its calls
    assert "put" in store.calls

    def child() -> Dict[str, Any]:
        # The parent's client, its token dropped, first: no client is built here.
        parent.invalidate(token)
        del store.calls[:]
        store.records.clear()
        started = time.monotonic()
        parent.token()
        return {"calls": list(store.calls), "ms": (time.monotonic() - started) * 1000}

    facts = _in_forked_child(child, "a store client in a forked child")
    assert facts["calls"][:1] == ["get"] and "put" in facts["calls"], facts
    assert facts["ms"] < 1500, "a store call timed out in the child"


# -- 2. a fetch in flight at fork time ----------------------------------------------------


def test_fetch_in_flight_at_fork(mock: Any) -> None:
    # The parent's fetch is answered after 1.5 s; anything after it at once.
    mock.script([mock.token_response("slow-parent-token", delay_ms=1500)])
    client = TokenClient.from_config(mock.deliveroo())
    in_parent: List[AccessToken] = []
    failures: List[BaseException] = []

    def fetch() -> None:
        try:
            in_parent.append(client.token())
        except BaseException as e:  # noqa: BLE001 - checked below
            failures.append(e)

    thread = threading.Thread(target=fetch, name="parent-fetch", daemon=True)
    thread.start()
    try:
        # The request has reached the provider, which holds it: in flight.
        _wait_for(lambda: mock.count() == 1, 10, "the parent's token request to arrive")
        time.sleep(0.2)

        def child() -> Dict[str, Any]:
            # The inherited fetch will never finish here: its task, its runtime and
            # its connection are the parent's.
            token = client.token()
            other = TokenClient.from_config(mock.deliveroo()).token()
            return {
                "not_the_parents": token.access_token != "slow-parent-token",
                "bearer": token.authorization_header.startswith("Bearer "),
                "two_tokens": _fp(token) != _fp(other),
                "fetches": mock.count() - 1,
            }

        facts = _in_forked_child(child, "fork during a fetch")
    finally:
        thread.join(CHILD_TIMEOUT_S)
    assert not thread.is_alive(), "the parent's own fetch never finished"
    assert not failures, f"the parent's fetch failed: {failures[0]!r}"
    assert facts["bearer"] and facts["not_the_parents"] and facts["two_tokens"]
    assert facts["fetches"] == 2, "the child made its own two requests"
    # The parent got the answer to its request, and cached it.
    assert in_parent[0].access_token == "slow-parent-token"
    assert client.token() is in_parent[0]
    assert mock.count() == 3


# -- 3. multiprocessing with the fork start method -----------------------------------------

# Set by the test before the pool forks; the workers inherit them.
_POOL_CLIENT: Optional[TokenClient] = None
_POOL_BARRIER: Optional[Any] = None


def _pool_task(index: int) -> Dict[str, Any]:
    """In a pool worker: the client built in the parent, used as a global."""
    client, barrier = _POOL_CLIENT, _POOL_BARRIER
    assert client is not None and barrier is not None
    barrier.wait(CHILD_TIMEOUT_S / 2)  # both workers hold one task each
    inherited = client.token()  # the parent's token, from the inherited memo
    dropped = client.invalidate(inherited)
    header = client.authorization_header()  # fetched by this worker
    return {
        "index": index,
        "pid": os.getpid(),
        "dropped": dropped,
        "inherited": _fp(inherited),
        "header": hashlib.sha256(header.encode()).hexdigest()[:16],
        "bearer": header.startswith("Bearer "),
    }


def test_multiprocessing_fork_pool(mock: Any) -> None:
    global _POOL_CLIENT, _POOL_BARRIER
    ctx = multiprocessing.get_context("fork")
    client = TokenClient.from_config(mock.deliveroo())
    parent_token = client.token()
    _POOL_CLIENT, _POOL_BARRIER = client, ctx.Barrier(2)
    try:
        with ctx.Pool(2) as pool:
            pending = pool.map_async(_pool_task, [0, 1], chunksize=1)
            try:
                results = pending.get(timeout=CHILD_TIMEOUT_S)
            except multiprocessing.TimeoutError:
                pytest.fail(f"the fork pool's workers got no token within {CHILD_TIMEOUT_S:.0f} s")
    finally:
        _POOL_CLIENT = _POOL_BARRIER = None
    assert sorted(r["index"] for r in results) == [0, 1]
    pids = {r["pid"] for r in results}
    assert len(pids) == 2 and os.getpid() not in pids, "two workers, neither of them this process"
    assert all(r["inherited"] == _fp(parent_token) and r["dropped"] and r["bearer"] for r in results)
    headers = {r["header"] for r in results}
    assert len(headers) == 2, "each worker fetched its own token"
    assert mock.count() == 3
    assert client.token() is parent_token, "the parent keeps its own token"


# -- 4. gunicorn --preload with two workers --------------------------------------------------

APP = """
import json
import os
import time

from tokenwell import TokenClient

# At import, in gunicorn's master (--preload): a client, a runtime and a token,
# all inherited by the workers it forks.
client = TokenClient.from_config(os.environ["TOKENWELL_FORK_TEST_CONFIG"])
MASTER_PID = os.getpid()
client.token()


def app(environ, start_response):
    time.sleep(0.3)  # keeps this worker busy, so that the other one serves too
    client.invalidate(client.token())  # on the first request, the master's token
    token = client.token()  # fetched by this worker
    body = json.dumps({
        "pid": os.getpid(),
        "master": MASTER_PID,
        "ok": token.authorization_header.startswith("Bearer "),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Optional[Dict[str, Any]]:
    """The JSON answer to a GET, or None if the server is not there (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=CHILD_TIMEOUT_S / 2) as resp:
            if resp.status != 200:
                return None
            answer: Dict[str, Any] = json.loads(resp.read())
            return answer
    except (OSError, urllib.error.URLError, ValueError):
        return None


def test_gunicorn_preload_workers(mock: Any, tmp_path: Path) -> None:
    gunicorn_config = pytest.importorskip("gunicorn.config", reason="gunicorn is part of the test extra")
    # gunicorn >= 25.1 opens a control socket under $HOME unless told not to.
    settings = {setting.name for setting in gunicorn_config.KNOWN_SETTINGS}
    no_control_socket = ["--no-control-socket"] if "control_socket_disable" in settings else []
    (tmp_path / "fork_app.py").write_text(textwrap.dedent(APP))
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    env = dict(os.environ, TOKENWELL_FORK_TEST_CONFIG=json.dumps(mock.deliveroo()))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "--preload", "-w", "2", "-b", f"127.0.0.1:{port}",
                "--chdir", str(tmp_path), "--timeout", "60", "--graceful-timeout", "1", *no_control_socket,
                "fork_app:app",
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group: killed as one below
        )

    def log_tail() -> str:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])

    served: Dict[int, Dict[str, Any]] = {}
    try:
        deadline = time.monotonic() + 30
        with ThreadPoolExecutor(4) as pool:
            while len(served) < 2:
                if proc.poll() is not None:
                    pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log_tail()}")
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"within 30 s only workers {sorted(served)} answered (token() hangs in a "
                        f"forked worker?); gunicorn's log:\n{log_tail()}"
                    )
                answers = list(pool.map(_get, [f"http://127.0.0.1:{port}/"] * 4))
                for answer in answers:
                    if answer is not None:
                        served[int(answer["pid"])] = answer
                if not any(answers):
                    time.sleep(0.1)  # not listening yet
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)

    assert all(a["ok"] for a in served.values())
    assert all(a["master"] == proc.pid for a in served.values()), "the app was preloaded in gunicorn's master"
    workers: Set[int] = set(served)
    assert proc.pid not in workers and len(workers) == 2
    # The master's token at import, then at least one fetch in each worker.
    assert mock.count() >= 3
