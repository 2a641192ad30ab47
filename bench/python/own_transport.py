"""The cache with the application's own HTTP client (``transport=``) against the
built-in transport, in one run against the mock provider: the hit ratio (a hit
never reaches a transport, so both are the same) and the cost of a cached call.
Outside CI: ``python bench/python/own_transport.py --mock target/debug/tokenwell``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time

import httpx
import requests

from tokenwell import TokenClient

CALLS = 100_000


def run(url: str, transport: object) -> tuple[float, float, int, int]:
    seen = {"n": 0}
    if isinstance(transport, httpx.Client):
        transport.event_hooks["request"].append(lambda request: seen.__setitem__("n", seen["n"] + 1))
    elif isinstance(transport, requests.Session):
        transport.hooks["response"].append(lambda response, **_: seen.__setitem__("n", seen["n"] + 1))
    client = TokenClient(
        "custom", token_url=f"{url}/custom/token", client_id="echo-client", client_secret="bench-secret",
        transport=transport, on_event=lambda _event: None,
    )
    client.token()  # the one fetch
    started = time.perf_counter()
    for _ in range(CALLS):
        client.token()
    ns = (time.perf_counter() - started) / CALLS * 1e9
    lookups = client.lookups()
    ratio = lookups.hits / (lookups.hits + lookups.misses)
    return ratio, ns, lookups.misses, seen["n"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mock", required=True)
    args = parser.parse_args()
    proc = subprocess.Popen([args.mock, "mock", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = re.search(r"(http://\S+)", proc.stdout.readline()).group(1)  # type: ignore[union-attr]
        rows = []
        for name, transport in [("built-in", None), ("httpx.Client", httpx.Client()), ("requests.Session", requests.Session())]:
            ratio, ns, misses, sent = run(url, transport)
            rows.append((name, ratio, ns, misses, sent))
        base = rows[0]
        print(f"{'transport':<18} {'hit ratio':>10} {'vs built-in':>11} {'ns/hit':>8} {'misses':>6} {'sent by the own client':>22}")
        for name, ratio, ns, misses, sent in rows:
            shown = "-" if name == "built-in" else str(sent)
            print(f"{name:<18} {ratio:>10.6f} {ratio / base[1]:>10.3f}x {ns:>8.0f} {misses:>6} {shown:>22}")
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
