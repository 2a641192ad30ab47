"""Your own store: a user's object (sync or async methods)
shares tokens between clients through the core's fleet protocol. It sees only
hashed keys and sealed records; when it raises or hangs, callers still get
tokens; with a lock a cold fleet makes one request, without one each client
single-flights on its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

import tokenwell
from tokenwell import TokenClient

SECRET = "store-py-secret-4be1"
KEY = re.compile(r"tokenwell:\{[0-9a-f]{64}\}:[tl]")


class DictStore:
    """A user's store over a dict, with TTLs; it records every key and value
    it is handed."""

    def __init__(self) -> None:
        self.records: Dict[str, Tuple[str, float]] = {}
        self.mutex = threading.Lock()
        self.keys: List[str] = []
        self.values: List[str] = []
        self.calls: Dict[str, int] = {}

    def _seen(self, name: str, key: str, *values: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        self.keys.append(key)
        self.values.extend(values)

    def _live(self, key: str) -> Optional[str]:
        entry = self.records.get(key)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def get(self, key: str) -> Optional[str]:
        with self.mutex:
            self._seen("get", key)
            return self._live(key)

    def put(self, key: str, record: str, ttl_ms: int) -> None:
        with self.mutex:
            self._seen("put", key, record)
            self.records[key] = (record, time.monotonic() + ttl_ms / 1000)

    def remove_if(self, key: str, record: str) -> None:
        with self.mutex:
            self._seen("remove_if", key, record)
            if self._live(key) == record:
                del self.records[key]


class LockingDictStore(DictStore):
    """A DictStore with an atomic set-if-absent lock."""

    def try_lock(self, lock: str, owner: str, ttl_ms: int) -> bool:
        with self.mutex:
            self._seen("try_lock", lock, owner)
            if self._live(lock) is not None:
                return False
            self.records[lock] = (owner, time.monotonic() + ttl_ms / 1000)
            return True

    def unlock(self, lock: str, owner: str) -> None:
        with self.mutex:
            self._seen("unlock", lock, owner)
            if self._live(lock) == owner:
                del self.records[lock]


class AsyncLockingDictStore:
    """The same store with ``async def`` methods; remembers the threads its
    coroutines ran on."""

    def __init__(self) -> None:
        self.inner = LockingDictStore()
        self.threads: set = set()

    async def _run(self, name: str, *args: Any) -> Any:
        self.threads.add(threading.current_thread().name)
        await asyncio.sleep(0.001)  # a real suspension point
        return getattr(self.inner, name)(*args)

    async def get(self, key: str) -> Optional[str]:
        return await self._run("get", key)  # type: ignore[no-any-return]

    async def put(self, key: str, record: str, ttl_ms: int) -> None:
        await self._run("put", key, record, ttl_ms)

    async def remove_if(self, key: str, record: str) -> None:
        await self._run("remove_if", key, record)

    async def try_lock(self, lock: str, owner: str, ttl_ms: int) -> bool:
        return await self._run("try_lock", lock, owner, ttl_ms)  # type: ignore[no-any-return]

    async def unlock(self, lock: str, owner: str) -> None:
        await self._run("unlock", lock, owner)


class StoreDown(Exception):
    pass


class RaisingStore:
    """Every method raises; the message holds text that must not be logged."""

    def __init__(self) -> None:
        self.calls = 0

    def _fail(self, *_: Any) -> Any:
        self.calls += 1
        raise StoreDown("memcached://admin:hunter2@cache:11211 refused")

    get = put = remove_if = try_lock = unlock = _fail


class HangingStore:
    """Every method blocks until the test ends (sync) or sleeps for an hour (async)."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.calls = 0

    def _hang(self, *_: Any) -> Any:
        self.calls += 1
        self.release.wait(60)

    get = put = remove_if = try_lock = unlock = _hang


class AsyncHangingStore:
    def __init__(self) -> None:
        self.calls = 0

    async def get(self, key: str) -> Optional[str]:
        self.calls += 1
        await asyncio.sleep(3600)
        return None

    put = remove_if = get  # type: ignore[assignment]


def _core_warnings(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tokenwell" and r.levelno == logging.WARNING]


def _assert_sees_no_secret(store: DictStore, *tokens: str) -> None:
    assert store.keys, "the store was used"
    for key in store.keys:
        assert KEY.fullmatch(key), key
    for value in store.values:
        for secret in (SECRET, *tokens):
            assert secret not in value


def test_two_clients_share_a_dict_store_and_it_sees_only_hashes_and_sealed_records(mock: Any) -> None:
    mock.script([mock.token_response("own-1"), mock.token_response("own-2")])
    store = DictStore()
    a = TokenClient.from_config(mock.deliveroo(client_secret=SECRET), store=store)
    b = TokenClient.from_config(mock.deliveroo(client_secret=SECRET), store=store)
    assert a.token().access_token == "own-1"
    assert b.token().access_token == "own-1"
    assert mock.count() == 1
    assert store.calls["put"] == 1 and "try_lock" not in store.calls
    _assert_sees_no_secret(store, "own-1")
    # After a 401 the old record goes (remove_if with the very record stored).
    assert b.invalidate("own-1")
    deadline = time.monotonic() + 5
    while "remove_if" not in store.calls and time.monotonic() < deadline:  # in the background
        time.sleep(0.005)
    assert store.calls.get("remove_if") == 1
    assert b.token().access_token == "own-2"
    _assert_sees_no_secret(store, "own-1", "own-2")


def test_the_configured_key_prefix_is_used(mock: Any) -> None:
    mock.script([mock.token_response("own-prefix")])
    store = DictStore()
    client = TokenClient.from_config(mock.deliveroo(store={"key_prefix": "acme-prod"}), store=store)
    assert client.token().access_token == "own-prefix"
    assert store.keys and all(re.fullmatch(r"acme-prod:\{[0-9a-f]{64}\}:t", k) for k in store.keys), store.keys


def test_a_store_that_raises_everywhere_never_fails_a_caller(mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tokenwell")
    mock.script([mock.token_response("own-raise")])
    store = RaisingStore()
    client = TokenClient.from_config(mock.deliveroo(client_secret=SECRET), store=store)
    assert client.token().access_token == "own-raise"
    assert store.calls >= 2, "get and try_lock were tried"
    warnings = _core_warnings(caplog)
    assert any("token store failed" in w and "StoreDown" in w for w in warnings), warnings
    for record in caplog.records:
        assert "hunter2" not in record.getMessage() and SECRET not in record.getMessage()
    assert "hunter2" not in caplog.text


class GetRaisesInPublish(LockingDictStore):
    """A locking store whose ``get`` raises from its third call on: the holder
    reads before the lock and holding it; the third read is its publish's."""

    def get(self, key: str) -> Optional[str]:
        if self.calls.get("get", 0) >= 2:
            self._seen("get", key)
            raise StoreDown("memcached://admin:hunter2@cache:11211 refused")
        return super().get(key)


def test_a_get_that_raises_inside_the_publish_releases_the_lock(mock: Any) -> None:
    mock.script([mock.token_response("own-publish-raises"), mock.token_response("own-next")])
    store = GetRaisesInPublish()
    client = TokenClient.from_config(mock.deliveroo(client_secret=SECRET), store=store)
    assert client.token().access_token == "own-publish-raises"
    assert store.calls["get"] == 3, store.calls
    # The lock was released before the caller got its token: the next cold
    # process takes it at once rather than wait for it to lapse.
    assert store.calls.get("unlock") == 1, store.calls
    assert not [k for k in store.records if k.endswith(":l")], "the lock is gone"


def test_without_a_lock_each_client_single_flights(mock: Any) -> None:
    mock.script([mock.token_response("own-nolock", delay_ms=200)])
    store = DictStore()
    client = TokenClient.from_config(mock.deliveroo(), store=store)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        tokens = set(pool.map(lambda _: client.token().access_token, range(16)))
    assert tokens == {"own-nolock"}
    assert mock.count() == 1
    assert "try_lock" not in store.calls


def _cold_fleet(mock: Any, store: object, clients: int = 6) -> int:
    mock.script([mock.token_response(f"own-fleet-{i}", delay_ms=300) for i in range(clients)])
    fleet = [TokenClient.from_config(mock.deliveroo(), store=store) for _ in range(clients)]
    start = threading.Barrier(clients)

    def call(client: TokenClient) -> str:
        start.wait(10)
        return client.token().access_token

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        tokens = set(pool.map(call, fleet))
    assert len(tokens) >= 1
    return mock.count()


def test_with_a_lock_a_cold_fleet_of_clients_makes_one_request(mock: Any) -> None:
    store = LockingDictStore()
    assert _cold_fleet(mock, store) == 1
    assert store.calls["try_lock"] >= 1 and store.calls["unlock"] + store.calls["put"] >= 1


def test_without_a_lock_a_cold_fleet_makes_more_than_one_request(mock: Any) -> None:
    # The control for the test above: the lock is what makes it one.
    assert _cold_fleet(mock, DictStore()) > 1


def test_an_async_store_works_from_token_and_token_async(mock: Any) -> None:
    mock.script([mock.token_response("own-async")])
    store = AsyncLockingDictStore()
    a = TokenClient.from_config(mock.deliveroo(client_secret=SECRET), store=store)
    b = TokenClient.from_config(mock.deliveroo(client_secret=SECRET), store=store)
    assert a.token().access_token == "own-async"

    async def main() -> str:
        return (await b.token_async()).access_token

    assert asyncio.run(main()) == "own-async"
    assert mock.count() == 1
    assert store.threads == {"tokenwell-store-loop"}, store.threads
    _assert_sees_no_secret(store.inner, "own-async")


def test_an_async_store_with_a_lock_serves_a_cold_fleet_of_coroutines_one_request(mock: Any) -> None:
    mock.script([mock.token_response(f"own-co-{i}", delay_ms=300) for i in range(8)])
    store = AsyncLockingDictStore()
    fleet = [TokenClient.from_config(mock.deliveroo(), store=store) for _ in range(8)]

    async def main() -> List[str]:
        ticks = 0

        async def ticker() -> None:  # the caller's loop keeps running meanwhile
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        tokens = await asyncio.gather(*(c.token_async() for c in fleet))
        task.cancel()
        assert ticks >= 10, ticks
        return [t.access_token for t in tokens]

    assert set(asyncio.run(main())) == {"own-co-0"}
    assert mock.count() == 1


def test_a_sync_token_call_inside_a_running_loop_does_not_deadlock(mock: Any) -> None:
    mock.script([mock.token_response("own-inloop")])
    store = AsyncLockingDictStore()
    client = TokenClient.from_config(mock.deliveroo(), store=store)

    async def main() -> str:
        return client.token().access_token  # blocks this loop; the store runs on its own

    started = time.monotonic()
    assert asyncio.run(main()) == "own-inloop"
    assert time.monotonic() - started < 2
    assert store.inner.calls["put"] == 1, "the store answered (not timed out)"


def test_a_hanging_store_costs_only_its_time_box(mock: Any) -> None:
    mock.script([mock.token_response("own-hang")])
    release = threading.Event()
    store = HangingStore(release)
    try:
        client = TokenClient.from_config(mock.deliveroo(store={"timeout_ms": 200}), store=store)
        started = time.monotonic()
        assert client.token().access_token == "own-hang"
        elapsed = time.monotonic() - started
        # get, try_lock and publish: each at most 200 ms, plus a local fetch.
        assert elapsed < 1.5, elapsed
        assert store.calls >= 1
    finally:
        release.set()


def test_a_hanging_async_store_costs_only_its_time_box(mock: Any) -> None:
    mock.script([mock.token_response("own-hang-async")])
    store = AsyncHangingStore()
    client = TokenClient.from_config(mock.deliveroo(store={"timeout_ms": 200}), store=store)

    async def main() -> str:
        return (await client.token_async()).access_token

    started = time.monotonic()
    assert asyncio.run(main()) == "own-hang-async"
    assert time.monotonic() - started < 1.5
    assert store.calls >= 1


def test_protocols_and_bad_stores() -> None:
    assert isinstance(LockingDictStore(), tokenwell.LockingStore)
    assert isinstance(DictStore(), tokenwell.Store)
    assert not isinstance(DictStore(), tokenwell.LockingStore)
    with pytest.raises(TypeError, match="tokenwell.Store"):
        TokenClient("deliveroo", environment="sandbox", client_id="a", client_secret="b", store=object())  # type: ignore[arg-type]


def test_a_store_returning_the_wrong_type_is_a_miss(mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tokenwell")
    mock.script([mock.token_response("own-type")])

    class Weird(DictStore):
        def get(self, key: str) -> Any:
            return 42

    client = TokenClient.from_config(mock.deliveroo(), store=Weird())
    assert client.token().access_token == "own-type"
    assert any("returned int" in w for w in _core_warnings(caplog)), _core_warnings(caplog)


def _threads() -> int:
    """This process's OS threads (Python's and the core's)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads line in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_hung_stores_cannot_starve_a_client_without_one(mock: Any) -> None:
    """300 clients on a store whose get never returns: the store's calls hold a
    bounded number of threads, and a client without a store still resolves
    `localhost` and gets its token at once."""
    release = threading.Event()
    store = HangingStore(release)
    localhost = mock.url.replace("127.0.0.1", "localhost") + "/deliveroo"
    # The core's runtime is up (its threads are counted in `before`), and no
    # connection to `localhost` is pooled: the storeless client must resolve it.
    assert TokenClient.from_config(mock.deliveroo(client_id="warm")).token().access_token
    before = _threads()
    try:
        clients = [
            TokenClient.from_config(mock.deliveroo(client_id=f"hung-{i}", store={"timeout_ms": 100}), store=store)
            for i in range(300)
        ]

        async def all_tokens() -> List[str]:
            leases = await asyncio.gather(*(c.token_async() for c in clients))
            return [lease.access_token for lease in leases]

        assert len(asyncio.run(all_tokens())) == 300
        during = _threads()
        print(f"threads: {before} before, {during} with 300 hung clients")
        storeless = TokenClient.from_config(mock.deliveroo(base_url=localhost))
        started = time.monotonic()
        assert storeless.token().access_token
        elapsed = time.monotonic() - started
        print(f"storeless token in {elapsed * 1000:.0f} ms")
        assert elapsed < 1.0, elapsed
        # The stores' pool (32) and a few of the core's, whatever the clients' count.
        assert during - before <= 48, (before, during)
        # One store object, one bound for all its clients: the rest were misses at once.
        assert store.calls <= 16, store.calls
    finally:
        release.set()


# Own-store calls still running when the interpreter exits: the process must
# exit cleanly. Each store keeps touching the interpreter (a sleep loop, an
# awaited sleep) until the main thread has begun to exit, and the async ones
# finish right then, while the interpreter is finalising.
_EXIT_SCRIPT = """
import asyncio, atexit, sys, threading, time
import tokenwell

exiting = threading.Event()

@atexit.register
def _exit():
    exiting.set()
    time.sleep(float(sys.argv[3]))

class Busy:
    def get(self, key):
        while True:
            time.sleep(0.001)
    put = remove_if = get

class AsyncBusy:
    async def get(self, key):
        while not exiting.is_set():
            await asyncio.sleep(0.0005)
    put = remove_if = get

config = {"provider": "deliveroo", "environment": "sandbox", "base_url": sys.argv[1] + "/deliveroo",
          "client_secret": "exit-secret-7f3a", "store": {"timeout_ms": 100}}
store = Busy if sys.argv[2] == "sync" else AsyncBusy
clients = [tokenwell.TokenClient.from_config(dict(config, client_id=f"exit-{i}"), store=store()) for i in range(12)]

async def main():
    return await asyncio.gather(*(c.token_async() for c in clients))

assert len(asyncio.run(main())) == 12
sys.exit(0)
"""


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_exit_is_clean_while_store_calls_run(mock: Any, kind: str) -> None:
    statuses = []
    for run in range(8):
        done = subprocess.run(
            [sys.executable, "-c", _EXIT_SCRIPT, mock.url, kind, ("0.0005", "0.001")[run % 2]],
            capture_output=True,
            text=True,
            timeout=60,
        )
        fatal = [line for line in done.stderr.splitlines() if "FATAL" in line or "Traceback" in line]
        statuses.append((done.returncode, fatal))
    print(f"{kind} store, exit statuses: {[status for status, _ in statuses]}")
    assert statuses == [(0, [])] * 8, statuses


class _Explosive:
    """An answer whose truth test raises what a caller would never catch."""

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception

    def __bool__(self) -> bool:
        raise self.exception


@pytest.mark.parametrize("exception", [KeyboardInterrupt(), SystemExit(3)])
def test_a_try_lock_answer_whose_truth_test_raises_is_a_store_failure(
    mock: Any, caplog: pytest.LogCaptureFixture, exception: BaseException
) -> None:
    caplog.set_level(logging.WARNING, logger="tokenwell")
    mock.script([mock.token_response("own-explosive")])

    class Store(LockingDictStore):
        def try_lock(self, lock: str, owner: str, ttl_ms: int) -> Any:
            return _Explosive(exception)

    client = TokenClient.from_config(mock.deliveroo(), store=Store())
    started = time.monotonic()
    assert client.token().access_token == "own-explosive"
    assert time.monotonic() - started < 2, "the lock was read as held"
    name = type(exception).__name__
    assert any(f"try_lock raised {name}" in w for w in _core_warnings(caplog)), _core_warnings(caplog)


def test_a_str_subclass_answer_reaches_the_core_as_plain_text(mock: Any) -> None:
    """A record returned as a str subclass is used as its text: none of its
    methods run outside the guard."""
    mock.script([mock.token_response("own-sub-1"), mock.token_response("own-sub-2")])

    class Text(str):
        def __str__(self) -> str:
            raise KeyboardInterrupt

        def encode(self, *_: Any, **__: Any) -> bytes:  # type: ignore[override]
            raise KeyboardInterrupt

    class Store(DictStore):
        def get(self, key: str) -> Optional[str]:
            value = super().get(key)
            return None if value is None else Text(value)

    store = Store()
    first = TokenClient.from_config(mock.deliveroo(), store=store)
    assert first.token().access_token == "own-sub-1"
    second = TokenClient.from_config(mock.deliveroo(), store=store)
    assert second.token().access_token == "own-sub-1", "the record was read"
