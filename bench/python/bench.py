"""The cached-token hot path, in ns per call, beside a pure-Python floor and Authlib.

Run by bindings/python/test.sh in its own virtual environment (tokenwell wheel +
Authlib + requests + opentelemetry-sdk). Prints figures; asserts one: the cost
of observability on a cached hit (below).

    python bench/python/bench.py --mock target/debug/tokenwell

Measured, each as ``min`` over repeats of ``number`` calls (timeit):
  * tokenwell: ``client.authorization_header()`` with a warm cache (the binding's
    memo of the core's lease: no call into Rust);
  * floor: a dict lookup + ``time.monotonic()`` comparison in a function, the
    least a hand-written cache could do (no locking, no expiry logic);
  * Authlib: ``OAuth2Session.ensure_active_token()`` with a valid token (Authlib's
    own check before each request);
  * for context, the same call straight into the core through uniffi (no memo);
  * observability's cost: the same hit on a client built with ``on_event=`` (a
    callback plus :class:`tokenwell.otel.OpenTelemetry` on the SDK's meter and
    tracer providers, when ``opentelemetry-sdk`` is installed) over the client
    without, in the same run. This one figure is asserted: the script exits
    non-zero above 1.25x (the goal is <= 1.1x);
  * with ``redis-server`` on the PATH: the same two hits on a client whose
    config has ``store.redis_url`` (the hit never touches Redis: the ratio to the
    client without a store is the cost of having one), and the cold miss (Redis
    read, lock, fetch from the loopback mock, sealed publish) against the same
    miss without a store, in ms.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import timeit
from typing import Any, Dict, Tuple

import tokenwell

from mock_provider import start_mock  # bench/python/, this script's folder


def start_redis() -> Tuple[subprocess.Popen, str]:
    """A throwaway redis-server on a free loopback port (the caller kills it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    binary = shutil.which("redis-server")
    assert binary is not None
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("bench: redis-server did not start within 10 s")


def cold_miss_ms(config: Dict[str, Any], rounds: int) -> float:
    """Median ms of a first token() on a fresh client (a new client id each round,
    so neither the process nor Redis has its token)."""
    samples = []
    for i in range(rounds):
        client = tokenwell.TokenClient.from_config({**config, "client_id": f"{config['client_id']}-{i}"})
        start = time.perf_counter()
        client.token()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def ns_per_call(stmt: str, env: Dict[str, Any], number: int, repeat: int, clock: Any = time.perf_counter) -> float:
    timer = timeit.Timer(stmt, globals=env, timer=clock)
    timer.timeit(number // 10)  # warm up
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


def floor_env() -> Dict[str, Any]:
    monotonic = time.monotonic
    cache: Dict[str, Tuple[str, float]] = {"token": ("Bearer floor", monotonic() + 3600)}

    def cached_header() -> str:
        header, deadline = cache["token"]
        if monotonic() < deadline:
            return header
        raise RuntimeError("expired")

    assert cached_header() == "Bearer floor"
    return {"cached_header": cached_header}


def authlib_env(token_url: str) -> Dict[str, Any]:
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session(
        "bench-client",
        "bench-secret",
        token_endpoint=token_url,
        token={"access_token": "authlib-token", "token_type": "Bearer", "expires_at": int(time.time()) + 3600},
    )
    assert session.ensure_active_token() is True
    return {"session": session}


# The enabled/disabled ratio of a cached hit above which the bench fails.
OBSERVED_LIMIT = 1.25


def observed(config: Dict[str, Any]) -> Tuple[Any, str]:
    """A client like ``config``'s with on_event: a callback, and OpenTelemetry's
    metrics and traces on the SDK when it is installed. Returns it warm, and what it has."""
    events = []
    handlers: list = [events.append]
    what = "a callback"
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider

        from tokenwell.otel import OpenTelemetry

        handlers.append(OpenTelemetry(MeterProvider(metric_readers=[InMemoryMetricReader()]), TracerProvider()))
        what = "a callback + OpenTelemetry SDK metrics and traces"
    except ImportError:
        pass
    client = tokenwell.TokenClient.from_config({**config, "client_id": "bench-client-observed"}, on_event=handlers)
    assert client.authorization_header().startswith("Bearer ")
    return client, what


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mock", required=True, help="path of the tokenwell binary (for `tokenwell mock`)")
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    proc, url = start_mock(args.mock)
    redis = start_redis() if shutil.which("redis-server") else None
    try:
        config: Dict[str, Any] = {
            "provider": "deliveroo", "environment": "sandbox", "base_url": f"{url}/deliveroo",
            "client_id": "bench-client", "client_secret": "bench-secret",
        }
        client = tokenwell.TokenClient.from_config(config)
        header = client.authorization_header()  # warm the cache
        assert header.startswith("Bearer ")
        core = client._core  # the generated uniffi object, for the no-memo figure
        observed_client, observed_with = observed(config)

        results: Dict[str, float] = {}
        cases: Dict[str, Tuple[str, Dict[str, Any], int]] = {
            "tokenwell": ("client.authorization_header()", {"client": client}, args.number),
            "floor": ("cached_header()", floor_env(), args.number),
            "authlib": ("session.ensure_active_token()", authlib_env(f"{url}/deliveroo/oauth2/token"), args.number),
            "tokenwell_token": ("client.token()", {"client": client}, args.number),
            "core": ("core.lease_blocking()", {"core": core}, max(args.number // 50, 1000)),
        }
        if redis is not None:
            with_store = {**config, "client_id": "bench-client-redis", "store": {"redis_url": redis[1]}}
            client_redis = tokenwell.TokenClient.from_config(with_store)
            assert client_redis.authorization_header().startswith("Bearer ")
            cases["tokenwell_redis"] = ("client.authorization_header()", {"client": client_redis}, args.number)
            cases["core_redis"] = ("core.lease_blocking()", {"core": client_redis._core}, max(args.number // 50, 1000))
            miss = {"none": cold_miss_ms(config, 30), "redis": cold_miss_ms(with_store, 30)}
        # Interleave the cases over the rounds so that noise from other processes
        # on the machine hits them alike; keep each case's best round.
        for _ in range(3):
            for name, (stmt, env, number) in cases.items():
                ns = ns_per_call(stmt, env, number, args.repeat)
                results[name] = min(results.get(name, ns), ns)
        # The asserted ratio: the two clients in alternation, many short rounds,
        # on the process's CPU time, so that load from other processes (time
        # spent descheduled) lands on neither.
        plain_ns = observed_ns = float("inf")
        hit = "client.authorization_header()"
        for _ in range(10):
            cpu = time.process_time
            plain_ns = min(plain_ns, ns_per_call(hit, {"client": client}, args.number // 4, 3, cpu))
            observed_ns = min(observed_ns, ns_per_call(hit, {"client": observed_client}, args.number // 4, 3, cpu))
    finally:
        for p in (proc, redis[0] if redis else None):
            if p is not None:
                p.kill()
                p.wait(10)

    try:
        from importlib.metadata import version

        authlib_version = version("authlib")
    except Exception:  # noqa: BLE001
        authlib_version = "?"
    t, f, a = results["tokenwell"], results["floor"], results["authlib"]
    print(f"bench: CPython {platform.python_version()} on {platform.machine()}, tokenwell {tokenwell.__version__}, Authlib {authlib_version}")
    print(f"bench: tokenwell authorization_header() (cached): {t:8.1f} ns/call")
    print(f"bench: tokenwell token() (cached):                {results['tokenwell_token']:8.1f} ns/call")
    print(f"bench: floor (dict + time.monotonic()):           {f:8.1f} ns/call")
    print(f"bench: Authlib ensure_active_token():             {a:8.1f} ns/call")
    print(f"bench: straight into the core (uniffi, no memo):  {results['core']:8.1f} ns/call")
    print(
        f"bench: tokenwell / floor = {t / f:.2f}x (goal <= 2x), "
        f"tokenwell / Authlib = {t / a:.2f}x (goal <= 1x)"
    )
    if redis is None:
        print("bench: redis-server not on the PATH: no figures with a shared store")
    else:
        print(
            f"bench: with store.redis_url, cached: authorization_header() {results['tokenwell_redis']:.1f} ns "
            f"({results['tokenwell_redis'] / t:.3f}x without), core {results['core_redis']:.1f} ns "
            f"({results['core_redis'] / results['core']:.3f}x without; goal <= 1.05x)"
        )
        print(f"bench: cold miss (median of 30): {miss['redis']:.2f} ms with Redis, {miss['none']:.2f} ms without")
    ratio = observed_ns / plain_ns
    print(
        f"bench: with on_event ({observed_with}), cached: authorization_header() "
        f"{observed_ns:.1f} ns vs {plain_ns:.1f} ns without: {ratio:.3f}x (goal <= 1.1x, fails above {OBSERVED_LIMIT}x)"
    )
    sys.stdout.flush()
    if ratio > OBSERVED_LIMIT:
        raise SystemExit(f"bench: observability costs the hit path {ratio:.3f}x (limit {OBSERVED_LIMIT}x)")


if __name__ == "__main__":
    main()
