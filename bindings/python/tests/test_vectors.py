"""Every conformance vector in tests/vectors/ through the public Python API, the
same way tests/vectors.rs runs them through the Rust API (see its README).

Each vector runs twice: with blocking ``token()`` (threads for ``concurrent``) and
with ``token_async()`` (asyncio tasks for ``concurrent``). Both go through the
binding's memo of the core's lease, so passing them shows that the memo changes
nothing a caller can observe.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import tokenwell
from tokenwell import ManualClock, MemoryStore, TokenClient, TokenwellError
from tokenwell._ffi import tokenwell as ffi  # the store_control steps drive the core's store

REPO = Path(__file__).resolve().parents[3]
VECTORS = Path(os.environ.get("TOKENWELL_VECTORS_DIR", REPO / "tests" / "vectors"))
DEFAULT_UNIX_MS = 1_767_225_600_000

FILES = sorted(VECTORS.glob("*.json"))
# A call that has not returned by then has hung: fail rather than wait forever.
CALL_TIMEOUT_S = 60

TOP_KEYS = {
    "name", "description", "requires", "config", "clients", "shared_store", "clock",
    "expect_build_error", "script", "steps", "expect_requests", "forbidden",
}
STEP_KEYS = {
    "token": {"op", "client", "expect", "expect_error"},
    "concurrent": {"op", "calls", "client", "expect", "expect_error"},
    "advance": {"op", "ms"},
    "shift_wall": {"op", "ms"},
    "settle": {"op"},
    "invalidate": {"op", "token", "expect", "client"},
    "requests": {"op", "count"},
    "script": {"op", "responses"},
    "start": {"op", "id", "client"},
    "pending": {"op", "id", "ms"},
    "join": {"op", "id", "expect", "expect_error"},
    "store_fail": {"op", "fail"},
    "store_lock": {"op", "client", "ms"},
    "store_unlock": {"op", "client"},
    "store_put": {"op", "client", "record", "record_file", "ms"},
}
# What this runner can do of what a vector may require: everything.
CAPABILITIES = {"store_control"}
# The owner of the locks a vector takes in the store, playing another process.
FOREIGN_OWNER = "vectors-foreign-owner"


def test_vectors_are_there() -> None:
    assert len(FILES) >= 25, f"expected at least 25 vectors in {VECTORS}, found {len(FILES)}"


class Failure(AssertionError):
    pass


def expect_eq(what: str, got: Any, want: Any) -> None:
    # JSON semantics: 1 == 1.0 but True != 1.
    if type(got) is bool or type(want) is bool:
        ok = type(got) is type(want) and got == want
    else:
        ok = got == want
    if not ok:
        raise Failure(f"{what}: expected {want!r}, got {got!r}")


def check_error(err: BaseException, expected: Dict[str, Any], secrets: List[str]) -> None:
    if not isinstance(err, TokenwellError):
        raise Failure(f"expected a TokenwellError, got {type(err).__name__}")
    text = f"{err} {err!r} {err.detail}"
    for secret in secrets:
        if secret and secret in text:
            raise Failure("error text leaks a client secret")
    for key, want in expected.items():
        if key == "code":
            expect_eq("code", err.code, want)
            expect_eq("exception class", type(err).code, want)
        elif key == "status":
            expect_eq("status", err.status, want)
        elif key == "retry_after_ms":
            expect_eq("retry_after_ms", err.retry_after_ms, want)
        elif key == "detail_contains":
            if want not in err.detail:
                raise Failure(f"detail {err.detail!r} lacks {want!r}")
        else:
            raise Failure(f"unknown error expectation {key}")


def check_result(result: Any, step: Dict[str, Any], secrets: List[str]) -> None:
    expect, expect_error = step.get("expect"), step.get("expect_error")
    if isinstance(result, BaseException):
        if expect_error is None:
            raise Failure(f"unexpected error: {result!r}")
        check_error(result, expect_error, secrets)
        return
    if expect_error is not None:
        raise Failure(f"expected error {expect_error}, got a token")
    if not isinstance(result, tokenwell.AccessToken):
        raise Failure(f"expected an AccessToken, got {type(result).__name__}")
    for key, want in (expect or {}).items():
        if key == "access_token":
            got: Any = result.access_token
        elif key == "token_type":
            got = result.token_type
        elif key == "scope":
            got = result.scope
        elif key == "expires_at_unix_ms":
            got = result.expires_at_unix_ms
            expect_eq("expires_at", int(result.expires_at.timestamp() * 1000), want)
        else:
            raise Failure(f"unknown expectation {key}")
        expect_eq(key, got, want)
    if result.authorization_header != f"{result.token_type} {result.access_token}":
        raise Failure("authorization_header does not match the token")


def check_requests(recorded: List[Dict[str, Any]], expected: List[Dict[str, Any]]) -> None:
    if len(recorded) != len(expected):
        raise Failure(f"expected {len(expected)} requests, got {len(recorded)}")
    for i, (req, want) in enumerate(zip(recorded, expected)):
        expect_eq(f"request {i} method", req["method"], want.get("method"))
        expect_eq(f"request {i} path", req["path"], want.get("path"))
        if "body" in want:
            expect_eq(f"request {i} body", req["body"], want["body"])
        for name, value in (want.get("headers") or {}).items():
            expect_eq(f"request {i} header {name}", req["headers"].get(name), value)


def capture(fn: Any) -> Any:
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - checked by check_result
        return e


async def capture_async(coro: Any) -> Any:
    try:
        return await asyncio.wait_for(coro, CALL_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise Failure(f"token_async() did not return within {CALL_TIMEOUT_S} s") from None
    except Exception as e:  # noqa: BLE001
        return e


def in_threads(calls: int, fn: Any) -> List[Any]:
    """Runs ``fn`` on ``calls`` daemon threads released at once; their results."""
    barrier = threading.Barrier(calls)
    results: List[Any] = [None] * calls
    done = [False] * calls

    def worker(i: int) -> None:
        barrier.wait(CALL_TIMEOUT_S)
        results[i] = capture(fn)
        done[i] = True

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(CALL_TIMEOUT_S)
    if not all(done):
        raise Failure(f"{done.count(False)} of {calls} calls did not return within {CALL_TIMEOUT_S} s")
    return results


class Call:
    """One ``token()`` call started in the background (a ``start`` step): a
    thread in sync mode, a task on the vector's loop in async mode."""

    def __init__(self, client: TokenClient, loop: Optional[asyncio.AbstractEventLoop]) -> None:
        self.loop = loop
        if loop is None:
            self.result: Any = None
            self.thread = threading.Thread(target=self._run, args=(client,), daemon=True)
            self.thread.start()
        else:
            self.task = loop.create_task(capture_async(client.token_async()))

    def _run(self, client: TokenClient) -> None:
        self.result = capture(client.token)

    def returns_within(self, seconds: float) -> bool:
        if self.loop is None:
            self.thread.join(seconds)
            return not self.thread.is_alive()
        self.loop.run_until_complete(asyncio.wait([self.task], timeout=seconds))
        return self.task.done()

    def join(self) -> Any:
        if not self.returns_within(CALL_TIMEOUT_S):
            raise Failure(f"the call did not return within {CALL_TIMEOUT_S} s")
        return self.result if self.loop is None else self.task.result()


def check_shape(vector: Dict[str, Any]) -> None:
    """Every key, op and requirement is understood, and a vector driving the
    store says so."""
    unknown = set(vector) - TOP_KEYS
    if unknown:
        raise Failure(f"unknown vector keys {sorted(unknown)}")
    requires = vector.get("requires", [])
    for req in requires:
        if req not in CAPABILITIES:
            raise Failure(f"unknown requirement {req!r}")
    for i, step in enumerate(vector.get("steps", [])):
        op = step.get("op")
        if op not in STEP_KEYS:
            raise Failure(f"step {i}: unknown op {op!r}")
        unknown = set(step) - STEP_KEYS[op]
        if unknown:
            raise Failure(f"step {i}: unknown step keys {sorted(unknown)}")
        if op.startswith("store_") and "store_control" not in requires:
            raise Failure(f'step {i}: {op} needs "requires": ["store_control"]')
        if op.startswith("store_") and vector.get("shared_store") is not True:
            raise Failure(f'step {i}: {op} needs "shared_store": true')


def record_of(step: Dict[str, Any]) -> str:
    """A store_put step's record: ``record``, or the ``record`` of ``record_file``."""
    if ("record" in step) == ("record_file" in step):
        raise Failure("store_put takes one of record and record_file")
    if "record" in step:
        return str(step["record"])
    return str(json.loads((VECTORS / step["record_file"]).read_text())["record"])


def run_vector(mock: Any, vector: Dict[str, Any], mode: str, transport: Any = None) -> None:
    check_shape(vector)
    clock = ManualClock((vector.get("clock") or {}).get("unix_ms", DEFAULT_UNIX_MS))
    # On the manual clock: records' time-to-live and locks run on vector time.
    store = MemoryStore(clock) if vector.get("shared_store") else None
    configs = vector["clients"] if "clients" in vector else {"main": vector["config"]}
    secrets: List[str] = list(vector.get("forbidden", []))  # forms no error text may hold
    clients: Dict[str, TokenClient] = {}
    keys: Dict[str, Any] = {}  # each client's keys in the store (the store_* steps)
    for name, cfg in configs.items():
        cfg = mock.substitute(cfg)
        if vector.get("shared_store") and "expect_build_error" not in vector:
            keys[name] = ffi.store_keys(json.dumps(cfg))
        secret = cfg.get("client_secret", cfg.get("clientSecret"))
        if isinstance(secret, str):
            secrets.append(secret)
        try:
            client = TokenClient.from_config(cfg, clock=clock, store=store, transport=transport)
        except Exception as e:  # noqa: BLE001
            if "expect_build_error" in vector:
                check_error(e, vector["expect_build_error"], secrets)
                return
            raise Failure(f"client build failed: {e!r}") from None
        if "expect_build_error" in vector:
            raise Failure("expected the client build to fail")
        for secret in secrets:
            if secret and (secret in repr(client) or secret in str(client)):
                raise Failure("repr(client) leaks the secret")
        clients[name] = client
    if vector.get("script"):
        mock.script(vector["script"])
    loop = asyncio.new_event_loop() if mode == "async" else None
    calls: Dict[str, Call] = {}
    try:
        for i, step in enumerate(vector.get("steps", [])):
            op = step.get("op")
            try:
                if op.startswith("store_"):
                    run_store_step(store, keys, step)
                elif op in ("start", "pending", "join"):
                    run_call_step(clients, calls, step, secrets, loop)
                else:
                    run_step(mock, clock, clients, step, secrets, loop)
            except Failure as e:
                raise Failure(f"step {i} ({op}): {e}") from None
        if calls:
            raise Failure(f"call {next(iter(calls))!r} was started and never joined")
    finally:
        if loop is not None:
            for call in calls.values():
                call.task.cancel()
            loop.close()
    if "expect_requests" in vector:
        check_requests(mock.requests(), vector["expect_requests"])


def run_step(
    mock: Any,
    clock: ManualClock,
    clients: Dict[str, TokenClient],
    step: Dict[str, Any],
    secrets: List[str],
    loop: Optional[asyncio.AbstractEventLoop],
) -> None:
    op = step["op"]
    name = step.get("client", "main")
    if op in ("token", "concurrent", "invalidate") and name not in clients:
        raise Failure(f"no client {name}")
    if op == "token":
        client = clients[name]
        if loop is None:
            result = in_threads(1, client.token)[0]
        else:
            result = loop.run_until_complete(capture_async(client.token_async()))
        check_result(result, step, secrets)
    elif op == "concurrent":
        client, calls = clients[name], int(step["calls"])
        if loop is None:
            results = in_threads(calls, client.token)
        else:

            async def gather() -> List[Any]:
                return await asyncio.gather(*(capture_async(client.token_async()) for _ in range(calls)))

            results = loop.run_until_complete(gather())
        if len(results) != calls:
            raise Failure(f"expected {calls} results, got {len(results)}")
        for result in results:
            check_result(result, step, secrets)
    elif op == "advance":
        clock.advance(int(step["ms"]))
    elif op == "shift_wall":
        clock.shift_wall(int(step["ms"]))
    elif op == "settle":
        for client in clients.values():
            if loop is None:
                in_threads(1, client.settle)
            else:
                loop.run_until_complete(asyncio.wait_for(client.settle_async(), CALL_TIMEOUT_S))
    elif op == "invalidate":
        dropped = clients[name].invalidate(step["token"])
        expect_eq("invalidate", dropped, step["expect"])
    elif op == "requests":
        expect_eq("request count", mock.count(), step["count"])
    elif op == "script":
        mock.script(step["responses"])


def run_call_step(
    clients: Dict[str, TokenClient],
    calls: Dict[str, Call],
    step: Dict[str, Any],
    secrets: List[str],
    loop: Optional[asyncio.AbstractEventLoop],
) -> None:
    op, call_id = step["op"], step["id"]
    if op == "start":
        name = step.get("client", "main")
        if name not in clients:
            raise Failure(f"no client {name}")
        if call_id in calls:
            raise Failure(f"call {call_id!r} started twice")
        calls[call_id] = Call(clients[name], loop)
        return
    if call_id not in calls:
        raise Failure(f"no call {call_id!r}")
    if op == "pending":
        if calls[call_id].returns_within(step["ms"] / 1000):
            raise Failure(f"call {call_id!r} has returned")
    elif op == "join":
        check_result(calls.pop(call_id).join(), step, secrets)


def run_store_step(store: Optional[MemoryStore], keys: Dict[str, Any], step: Dict[str, Any]) -> None:
    if store is None:
        raise Failure("no shared store")
    core, op = store._core, step["op"]
    if op == "store_fail":
        if not isinstance(step["fail"], bool):
            raise Failure("fail is a bool")
        core.set_failing(step["fail"])
        return
    name = step.get("client", "main")
    if name not in keys:
        raise Failure(f"no client {name}")
    if op == "store_lock":
        if not core.try_lock(keys[name].lock, FOREIGN_OWNER, step["ms"]):
            raise Failure("the lock is held already")
    elif op == "store_unlock":
        core.unlock(keys[name].lock, FOREIGN_OWNER)
    elif op == "store_put":
        core.put(keys[name].token, record_of(step), step["ms"])


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_vector(mock: Any, path: Path, mode: str) -> None:
    vector = json.loads(path.read_text())
    assert vector.get("name") == path.stem, "a vector's name is its file name"
    run_vector(mock, vector, mode)


# The application's own HTTP client (``transport=``) in place of the built-in
# one: every vector once more (blocking calls), through httpx and requests in
# turn (the fault catalogue runs through both, and httpx.AsyncClient, in full).
_OWN: Dict[str, Any] = {}


def own_client(kind: str) -> Any:
    """One client per kind for every vector, as an application shares one."""
    if kind not in _OWN:
        if kind == "httpx":
            import httpx

            # Configured to follow redirects: the adapter asks it not to, per call.
            _OWN[kind] = httpx.Client(follow_redirects=True)
        else:
            import requests

            _OWN[kind] = requests.Session()
    return _OWN[kind]


OWN_CASES = [(path, ("httpx", "requests")[i % 2]) for i, path in enumerate(FILES)]


@pytest.mark.parametrize(("path", "kind"), OWN_CASES, ids=[f"{p.stem}-{k}" for p, k in OWN_CASES])
def test_vector_through_own_client(mock: Any, path: Path, kind: str) -> None:
    vector = json.loads(path.read_text())
    run_vector(mock, vector, "sync", transport=own_client(kind))
