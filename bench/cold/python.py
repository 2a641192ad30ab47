"""Python's cold path against its peers, in fresh processes.

    python bench/cold/python.py --python VENV/bin/python --mock target/debug/tokenwell \
        [--before OTHER_VENV/bin/python] [--runs 7]

``--python`` is an interpreter with tokenwell, httpx, requests and Authlib
installed (bench/cold/python.sh builds it); ``--before`` optionally adds a
column for another tokenwell build (e.g. the last release) measured in the same
run. Every sample is a fresh process; the cases are interleaved round by round
(so that noise from the rest of the machine hits every side alike) and each
figure is the median over the rounds. Prints a markdown table; asserts nothing.

Figures:
  * import: ``import X`` timed inside a fresh process (interpreter start
    excluded), for tokenwell, httpx and Authlib's client-credentials client;
  * start -> first token: spawn a fresh interpreter, import, create a client,
    get the first token from the loopback mock provider; timed by the parent from
    spawn to the child's answer. Authlib by its requests integration
    (``OAuth2Session.fetch_token``) and by its httpx one (``OAuth2Client``); the
    faster of the two is the peer;
  * 1,000 clients: in a fresh process, after a first client (one-time costs),
    1,000 clients with distinct credentials (one per merchant), kept alive:
    wall time per client, RSS growth per client (/proc/self/statm) and the
    Python heap growth per client (tracemalloc, in a second batch: tracing slows
    the timed one). Peer: Authlib's ``OAuth2Session`` (requests), made alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from mock_provider import start_mock  # noqa: E402 - bench/python/mock_provider.py

CLIENTS = 1000

IMPORTS = {
    "tokenwell": "import tokenwell",
    "httpx": "import httpx",
    "authlib": "from authlib.integrations.requests_client import OAuth2Session",
}

# Children print one JSON line; {url} is the mock's base URL.
FIRST_TOKEN = {
    "tokenwell": """
import tokenwell
client = tokenwell.TokenClient.from_config({{"provider": "deliveroo", "environment": "sandbox",
    "base_url": "{url}/deliveroo", "client_id": "cold-client", "client_secret": "cold-secret"}})
assert client.authorization_header().startswith("Bearer ")
""",
    "authlib_requests": """
from authlib.integrations.requests_client import OAuth2Session
session = OAuth2Session("cold-client", "cold-secret")
assert session.fetch_token("{url}/deliveroo/oauth2/token", grant_type="client_credentials")["access_token"]
""",
    "authlib_httpx": """
from authlib.integrations.httpx_client import OAuth2Client
client = OAuth2Client("cold-client", "cold-secret")
assert client.fetch_token("{url}/deliveroo/oauth2/token", grant_type="client_credentials")["access_token"]
""",
}

MANY_CLIENTS = """
import gc, json, os, time, tracemalloc
{setup}
PAGE = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE
first = make(-1)  # one-time costs (lazy transport, caches) are not per client
gc.collect()
r0 = rss(); t0 = time.perf_counter()
kept = [make(i) for i in range({n})]
t1 = time.perf_counter(); r1 = rss()
tracemalloc.start()
m0 = tracemalloc.get_traced_memory()[0]
more = [make({n} + i) for i in range({n})]
m1 = tracemalloc.get_traced_memory()[0]
print(json.dumps({{"ms": (t1 - t0) * 1e3 / {n}, "rss": (r1 - r0) / {n}, "heap": (m1 - m0) / {n}}}))
"""

MAKE = {
    "tokenwell": """
import tokenwell
def make(i):
    return tokenwell.TokenClient.from_config({{"provider": "deliveroo", "environment": "sandbox",
        "base_url": "{url}/deliveroo", "client_id": f"merchant-{{i}}", "client_secret": f"secret-{{i}}"}})
""",
    "authlib": """
from authlib.integrations.requests_client import OAuth2Session
def make(i):
    return OAuth2Session(f"merchant-{{i}}", f"secret-{{i}}", token_endpoint="{url}/deliveroo/oauth2/token")
""",
}


def run(python: str, code: str) -> str:
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"cold: a child failed ({python}):\n{code}\n{out.stderr[-2000:]}")
    return out.stdout


def import_ms(python: str, stmt: str) -> float:
    code = f"import time\nt = time.perf_counter()\n{stmt}\nprint((time.perf_counter() - t) * 1e3)"
    return float(run(python, code))


def first_token_ms(python: str, code: str) -> float:
    """Spawn to answer, timed by the parent (the interpreter's start included)."""
    t = time.perf_counter()
    run(python, code + "\nprint('ok')")
    return (time.perf_counter() - t) * 1e3


def many_clients(python: str, setup: str) -> Dict[str, float]:
    return json.loads(run(python, MANY_CLIENTS.format(setup=setup, n=CLIENTS)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True, help="interpreter with tokenwell, httpx, requests, Authlib")
    parser.add_argument("--before", help="interpreter with an earlier tokenwell build, for a 'before' column")
    parser.add_argument("--mock", required=True, help="path of the tokenwell binary (for `tokenwell mock`)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if args.runs < 7:
        raise SystemExit("cold: --runs must be >= 7 (medians of at least seven fresh processes)")

    proc, url = start_mock(args.mock)
    pythons = {"now": args.python, **({"before": args.before} if args.before else {})}
    samples: Dict[str, List] = {}
    cases: Dict[str, Callable[[], object]] = {}
    for side, py in pythons.items():
        cases[f"import tokenwell {side}"] = lambda py=py: import_ms(py, IMPORTS["tokenwell"])
        cases[f"first tokenwell {side}"] = lambda py=py: first_token_ms(py, FIRST_TOKEN["tokenwell"].format(url=url))
        cases[f"clients tokenwell {side}"] = lambda py=py: many_clients(py, MAKE["tokenwell"].format(url=url))
    for peer in ("httpx", "authlib"):
        cases[f"import {peer}"] = lambda peer=peer: import_ms(args.python, IMPORTS[peer])
    for peer in ("authlib_requests", "authlib_httpx"):
        cases[f"first {peer}"] = lambda peer=peer: first_token_ms(args.python, FIRST_TOKEN[peer].format(url=url))
    cases["clients authlib"] = lambda: many_clients(args.python, MAKE["authlib"].format(url=url))
    try:
        for case in cases.values():  # warm the OS caches and the .pyc files
            case()
        for _ in range(args.runs):
            for name, case in cases.items():
                samples.setdefault(name, []).append(case())
    finally:
        proc.kill()
        proc.wait(10)

    def med(name: str, key: Optional[str] = None) -> float:
        values = samples[name] if key is None else [s[key] for s in samples[name]]
        return statistics.median(values)

    authlib_first = min(("authlib_requests", "authlib_httpx"), key=lambda p: med(f"first {p}"))
    versions = run(args.python, "import sys, platform\nfrom importlib.metadata import version\n"
                   "print(platform.python_version(), *(version(p) for p in ('tokenwell', 'httpx', 'requests', 'authlib')))").split()
    print(f"CPython {versions[0]}; tokenwell {versions[1]}, httpx {versions[2]}, requests {versions[3]}, "
          f"Authlib {versions[4]}; medians of {args.runs} fresh processes per figure, interleaved")
    print()
    before = "before" in pythons
    head = "| figure | tokenwell | peer | ratio | budget |" + (" tokenwell before | ratio before |" if before else "")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))

    def fmt(v: float, unit: str) -> str:
        return f"{v:.3f} {unit}" if v < 1 else f"{v:.1f} {unit}"

    def row(figure: str, now: float, peer: float, peer_name: str, unit: str, budget: str, was: Optional[float]) -> None:
        line = f"| {figure} | {fmt(now, unit)} | {fmt(peer, unit)} ({peer_name}) | {now / peer:.2f}x | {budget} |"
        if was is not None:
            line += f" {fmt(was, unit)} | {was / peer:.2f}x |"
        print(line)

    def was(name: str, key: Optional[str] = None, scale: float = 1.0) -> Optional[float]:
        return med(name.replace(" now", " before"), key) / scale if before else None

    row("`import`", med("import tokenwell now"), med("import httpx"), "httpx", "ms", "<= 1.1x", was("import tokenwell now"))
    row("`import`", med("import tokenwell now"), med("import authlib"), "Authlib requests client", "ms", "",
        was("import tokenwell now"))
    other = "authlib_httpx" if authlib_first == "authlib_requests" else "authlib_requests"
    label = {"authlib_requests": "Authlib + requests", "authlib_httpx": "Authlib + httpx"}
    row("start -> first token", med("first tokenwell now"), med(f"first {authlib_first}"), label[authlib_first], "ms",
        "<= 0.6x", was("first tokenwell now"))
    row("start -> first token", med("first tokenwell now"), med(f"first {other}"), label[other], "ms", "",
        was("first tokenwell now"))
    row(f"per client, time ({CLIENTS:,})", med("clients tokenwell now", "ms"), med("clients authlib", "ms"),
        "Authlib OAuth2Session", "ms", "<= 0.1 ms", was("clients tokenwell now", "ms"))
    for key, what in (("rss", "RSS"), ("heap", "tracemalloc")):
        kib = {n: med(n, key) / 1024 for n in ("clients tokenwell now", "clients authlib")}
        row(f"per client, {what} ({CLIENTS:,})", kib["clients tokenwell now"], kib["clients authlib"],
            "Authlib OAuth2Session", "KiB", "<= 10 KiB", was("clients tokenwell now", key, 1024))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
