"""The public API: construction, tokens, single flight, the memo, errors, and that
the installed wheel (not the source tree) is what runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import pickle
import threading
from pathlib import Path
from typing import Any, List

import pytest

import tokenwell
from tokenwell import AccessToken, ManualClock, TokenClient, TokenwellError

SOURCE_DIR = Path(__file__).resolve().parents[1]


def test_the_installed_wheel_is_under_test() -> None:
    package = Path(tokenwell.__file__).resolve().parent
    assert SOURCE_DIR not in package.parents, f"tokenwell was imported from the source tree: {package}"
    assert (package / "py.typed").is_file()
    ffi = package / "_ffi"
    assert (ffi / "tokenwell.py").is_file(), "the generated module ships in tokenwell._ffi"
    assert any(p.name.startswith("libtokenwell") for p in ffi.iterdir()), "the native library ships beside it"
    assert tokenwell.__version__ != "0+unknown"


def test_a_manual_clock_without_a_time_starts_where_it_does_in_every_language() -> None:
    clock = ManualClock()
    assert clock.unix_ms() == 1_767_225_600_000  # 2026-01-01T00:00:00Z
    assert clock.now_ms() == 0
    assert ManualClock(5).unix_ms() == 5


def test_keyword_construction_and_token(mock: Any) -> None:
    mock.script([mock.token_response("kw-1", expires_in=600, scope="orders")])
    client = TokenClient(
        "deliveroo",
        environment="sandbox",
        client_id="py-client",
        client_secret="py-secret-0001",
        base_url=f"{mock.url}/deliveroo",
    )
    before = dt.datetime.now(dt.timezone.utc)
    token = client.token()
    assert isinstance(token, AccessToken)
    assert token.access_token == "kw-1"
    assert token.token_type == "Bearer"
    assert token.scope == "orders"
    assert token.authorization_header == "Bearer kw-1"
    # The server's expiry on the local clock: about ten minutes from now.
    assert dt.timedelta(seconds=590) < token.expires_at - before < dt.timedelta(seconds=610)
    assert token.expires_at.tzinfo is not None
    assert client.authorization_header() == "Bearer kw-1"
    assert client.token() is token, "a cache hit returns the same object"
    assert mock.count() == 1
    req = mock.requests()[0]
    assert req["path"] == "/deliveroo/oauth2/token"
    assert req["headers"]["authorization"].startswith("Basic ")


def test_camel_case_and_nested_options(mock: Any) -> None:
    mock.script([mock.token_response("cc-1")])
    client = TokenClient.from_config(
        {
            "provider": "deliveroo",
            "environment": "sandbox",
            "baseUrl": f"{mock.url}/deliveroo",
            "clientId": "py-client",
            "clientSecret": "py-secret-0001",
            "policy": {"refreshRatio": 0.5},
            "http": {"timeout_ms": 5000},
        }
    )
    assert client.token().access_token == "cc-1"


def test_async_token_and_header(mock: Any) -> None:
    mock.script([mock.token_response("as-1")])
    client = TokenClient.from_config(mock.deliveroo())

    async def main() -> List[Any]:
        return [await client.token_async(), await client.authorization_header_async(), await client.token_async()]

    token, header, again = asyncio.run(main())
    assert token.access_token == "as-1"
    assert header == "Bearer as-1"
    assert again is token
    assert mock.count() == 1


def test_64_threads_on_a_cold_cache_make_one_request(mock: Any) -> None:
    mock.script([mock.token_response("cold-64", delay_ms=300)])
    client = TokenClient.from_config(mock.deliveroo())
    barrier = threading.Barrier(64)
    results: List[Any] = [None] * 64

    def worker(i: int) -> None:
        barrier.wait(10)
        try:
            results[i] = client.token().access_token
        except Exception as e:  # noqa: BLE001
            results[i] = e

    # Daemon threads: a hung core fails this test instead of hanging the run.
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["cold-64"] * 64
    assert mock.count() == 1


def test_1000_asyncio_tasks_on_a_cold_cache_make_one_request(mock: Any) -> None:
    mock.script([mock.token_response("cold-1000", delay_ms=300)])
    client = TokenClient.from_config(mock.deliveroo())

    async def main() -> List[str]:
        tokens = await asyncio.wait_for(asyncio.gather(*(client.token_async() for _ in range(1000))), 60)
        return [t.access_token for t in tokens]

    assert asyncio.run(main()) == ["cold-1000"] * 1000
    assert mock.count() == 1


def test_token_async_does_not_block_the_event_loop(mock: Any) -> None:
    mock.script([mock.token_response("slow-1", delay_ms=400)])
    client = TokenClient.from_config(mock.deliveroo())
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def main() -> str:
        task = asyncio.ensure_future(ticker())
        token = await client.token_async()
        task.cancel()
        return token.access_token

    assert asyncio.run(main()) == "slow-1"
    assert ticks >= 10, f"the event loop ran only {ticks} ticks during a 400 ms fetch"


class CountingCore:
    """Wraps the generated core object to count the calls that reach Rust."""

    def __init__(self, core: Any) -> None:
        self._core = core
        self.leases = 0

    def lease_blocking(self) -> Any:
        self.leases += 1
        return self._core.lease_blocking()

    async def lease(self) -> Any:
        self.leases += 1
        return await self._core.lease()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._core, name)


def test_memo_serves_hits_until_the_cores_deadline_exactly(mock: Any) -> None:
    # 300 s token: refresh ahead at 80 % = 240 000 ms on the manual clock. The
    # refresh answers slowly so that it is still in flight for the next calls.
    mock.script([mock.token_response("m-1"), mock.token_response("m-2", delay_ms=500)])
    clock = ManualClock()
    client = TokenClient.from_config(mock.deliveroo(), clock=clock)
    core = CountingCore(client._core)
    client._core = core
    first = client.token()
    assert core.leases == 1
    # Right after a fetch the core grants no reuse (reuse_for_ms = 0): the next
    # call asks again, and that answer is memoised.
    assert client.token() is first
    assert core.leases == 2
    for _ in range(1000):
        assert client.authorization_header() == "Bearer m-1"
        assert client.token() is first
    assert core.leases == 2, "hits within the lease never cross into Rust"
    clock.advance(239_999)
    assert client.token() is first
    assert core.leases == 2
    clock.advance(1)  # the core's refresh-ahead instant: the memo must ask again
    assert client.token().access_token == "m-1"
    assert core.leases == 3
    assert client.token().access_token == "m-1", "during refresh ahead every call asks the core"
    assert core.leases == 4
    client.settle()
    second = client.token()
    assert second.access_token == "m-2"
    assert client.token() is second
    assert core.leases == 5, "the refreshed token is memoised at once (no fetch on this call)"
    assert mock.count() == 2


def test_memo_async_path_is_the_same(mock: Any) -> None:
    mock.script([mock.token_response("ma-1")])
    clock = ManualClock()
    client = TokenClient.from_config(mock.deliveroo(), clock=clock)
    core = CountingCore(client._core)
    client._core = core

    async def main() -> None:
        first = await client.token_async()
        for _ in range(100):
            assert await client.token_async() is first
            assert await client.authorization_header_async() == "Bearer ma-1"

    asyncio.run(main())
    assert core.leases == 2  # the fetch, then the call whose answer is memoised


def test_invalidate_clears_the_memo(mock: Any) -> None:
    mock.script([mock.token_response("inv-1"), mock.token_response("inv-2")])
    client = TokenClient.from_config(mock.deliveroo())
    first = client.token()
    assert client.invalidate("not-the-token") is False
    assert client.token() is first
    assert client.invalidate(first) is True
    assert client.token().access_token == "inv-2"
    assert client.invalidate(first) is False, "an old token never drops a newer one"
    assert client.authorization_header() == "Bearer inv-2"
    assert mock.count() == 2
    with pytest.raises(TypeError):
        client.invalidate(None)  # type: ignore[arg-type]


def test_invalidate_voids_a_lease_taken_concurrently(mock: Any) -> None:
    # A lease that was in flight when invalidate() ran must not be memoised.
    mock.script([mock.token_response("race-1"), mock.token_response("race-2")])
    client = TokenClient.from_config(mock.deliveroo())
    assert client.token().access_token == "race-1"
    real = client._core
    started, release = threading.Event(), threading.Event()

    class SlowCore(CountingCore):
        def lease_blocking(self) -> Any:
            lease = real.lease_blocking()  # returns race-1 before the invalidation
            started.set()
            release.wait(10)
            return lease

    client._core = SlowCore(real)
    client._memo.entry = (float("-inf"), "", None)  # force a core call
    out: List[Any] = []
    t = threading.Thread(target=lambda: out.append(client.token().access_token), daemon=True)
    t.start()
    assert started.wait(10)
    client._core = real
    assert client.invalidate("race-1") is True
    release.set()
    t.join(10)
    assert out == ["race-1"]
    assert client.token().access_token == "race-2", "the stale lease was not memoised"


def test_shared_store_between_clients(mock: Any) -> None:
    mock.script([mock.token_response("st-1")])
    store = tokenwell.MemoryStore()
    a = TokenClient.from_config(mock.deliveroo(), store=store)
    b = TokenClient.from_config(mock.deliveroo(), store=store)
    assert a.token().access_token == "st-1"
    assert b.token().access_token == "st-1"
    assert mock.count() == 1


def test_error_classes_and_codes() -> None:
    codes = {
        "invalid_client": tokenwell.InvalidClientError,
        "invalid_grant": tokenwell.InvalidGrantError,
        "invalid_scope": tokenwell.InvalidScopeError,
        "invalid_request": tokenwell.InvalidRequestError,
        "unauthorized_client": tokenwell.UnauthorizedClientError,
        "unsupported_grant_type": tokenwell.UnsupportedGrantTypeError,
        "access_denied": tokenwell.AccessDeniedError,
        "rate_limited": tokenwell.RateLimitedError,
        "server_error": tokenwell.ServerError,
        "http_error": tokenwell.HttpError,
        "network": tokenwell.NetworkError,
        "timeout": tokenwell.FetchTimeoutError,
        "malformed_response": tokenwell.MalformedResponseError,
        "response_too_large": tokenwell.ResponseTooLargeError,
        "config": tokenwell.ConfigError,
        "store": tokenwell.StoreError,
        "internal": tokenwell.InternalError,
    }
    for code, cls in codes.items():
        assert cls.code == code
        assert issubclass(cls, TokenwellError)
        err = cls("x", status=418, retry_after_ms=5)
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is cls and copy.status == 418 and copy.retry_after_ms == 5 and str(copy) == "x"


def test_errors_carry_code_status_and_retry_after(mock: Any) -> None:
    mock.script([{"status": 429, "headers": {"retry-after": "7"}, "json": {"error": "slow_down"}}])
    client = TokenClient.from_config(mock.deliveroo())
    with pytest.raises(tokenwell.RateLimitedError) as info:
        client.token()
    assert info.value.code == "rate_limited"
    assert info.value.status == 429
    assert info.value.retry_after_ms == 7000
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_config_errors() -> None:
    with pytest.raises(tokenwell.ConfigError) as info:
        TokenClient("deliveroo", environment="moon", client_id="a", client_secret="b")
    assert info.value.code == "config"
    with pytest.raises(tokenwell.ConfigError):
        TokenClient("deliveroo", environment="sandbox", client_id="a", client_secret="b", no_such_option=1)
    with pytest.raises(tokenwell.ConfigError):
        TokenClient("nowhere", client_id="a", client_secret="b")
    with pytest.raises(tokenwell.ConfigError):
        TokenClient.from_config("{not json")
    with pytest.raises(TypeError):
        TokenClient.from_config({"provider": "deliveroo"}, clock=object())  # type: ignore[arg-type]


def test_a_lone_surrogate_is_a_config_error_on_every_constructor() -> None:
    # In a mapping, json.dumps escapes it and the core refuses the escape; in JSON
    # text, its bytes are not UTF-8. Either way the core's ConfigError (before, the
    # text path raised the generated code's UnicodeEncodeError), never the secret.
    text = '{"provider": "deliveroo", "environment": "sandbox", "client_id": "a", "client_secret": "s3cr3t-\ud800"}'
    for config in (json.loads(text), text):
        for extra in ({}, {"clock": tokenwell.ManualClock()}, {"store": tokenwell.MemoryStore()}):
            with pytest.raises(tokenwell.ConfigError) as info:
                TokenClient.from_config(config, **extra)
            assert "s3cr3t" not in f"{info.value} {info.value!r} {info.value.detail}"


def test_network_error(mock: Any) -> None:
    client = TokenClient(
        "custom", token_url="http://127.0.0.1:9/token", client_id="a", client_secret="b",
        http={"connect_timeout_ms": 2000, "timeout_ms": 3000},
    )
    with pytest.raises(tokenwell.NetworkError) as info:
        client.token()
    assert info.value.status is None


def test_access_token_value_semantics() -> None:
    token = AccessToken("abc", "Bearer", 1_767_225_600_000, "s")
    assert token.authorization_header == "Bearer abc"
    assert token.expires_at == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert token == AccessToken("abc", "Bearer", 0)
    assert hash(token) == hash(AccessToken("abc", "Bearer", 0))
    with pytest.raises(AttributeError):
        token.access_token = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        pickle.dumps(token)
    assert "abc" not in repr(token) and "abc" not in str(token)
