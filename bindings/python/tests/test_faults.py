"""Every fault of tests/faults/catalogue.json through the public Python API, against
the mock provider: the error code, status and retry_after_ms, the time ``token()``
took, the paths the mock saw, and that no error text or log record holds any form of
the secret. Same checks as tests/faults.rs."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tokenwell import TokenClient, TokenwellError

REPO = Path(__file__).resolve().parents[3]
CATALOGUE: Dict[str, Any] = json.loads((REPO / "tests" / "faults" / "catalogue.json").read_text(encoding="utf-8"))
FORBIDDEN: List[str] = CATALOGUE["forbidden"]
KEYS = {"name", "what", "config", "script", "expect_error", "max_ms", "min_ms", "paths"}
# A call that has not returned by then has hung, whatever the fault's bound.
HANG_S = 10


def token_outcome(client: TokenClient) -> Any:
    """What ``client.token()`` returned or raised, on a daemon thread so a hang fails the test."""
    outcome: List[Any] = []

    def call() -> None:
        try:
            outcome.append(client.token())
        except Exception as e:  # noqa: BLE001 - checked by the caller
            outcome.append(e)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(HANG_S)
    if not outcome:
        pytest.fail(f"token() hung for {HANG_S} s")
    return outcome[0]


_OWN: Dict[str, Any] = {}


def own_client(kind: str) -> Any:
    """The application's own HTTP client (``transport=``), or None (the built-in
    one): one per kind for every fault, as an application shares one."""
    if kind not in _OWN:
        _OWN[kind] = new_client(kind)
    return _OWN[kind]


def new_client(kind: str) -> Any:
    if kind == "httpx":
        import httpx

        return httpx.Client(follow_redirects=True)  # the adapter never follows them
    if kind == "httpx_async":
        import httpx

        return httpx.AsyncClient(follow_redirects=True)
    if kind == "requests":
        import requests

        return requests.Session()
    return None


@pytest.mark.parametrize("transport", ["built-in", "httpx", "httpx_async", "requests"])
@pytest.mark.parametrize("entry", CATALOGUE["faults"], ids=[f["name"] for f in CATALOGUE["faults"]])
def test_fault(mock: Any, entry: Dict[str, Any], transport: str, caplog: pytest.LogCaptureFixture) -> None:
    assert set(entry) <= KEYS, f"unknown keys {sorted(set(entry) - KEYS)}"
    caplog.set_level(logging.DEBUG, logger="tokenwell")
    fault = mock.substitute(entry)
    config = {**mock.substitute(CATALOGUE["config"]), **fault.get("config", {})}
    client = TokenClient.from_config(config, transport=own_client(transport))
    mock.script(fault["script"])

    started = time.monotonic()
    error = token_outcome(client)
    ms = (time.monotonic() - started) * 1000

    assert isinstance(error, TokenwellError), f"expected a TokenwellError, got {type(error).__name__}"
    text = f"{error} {error!r} {error.detail} {error.args}"
    leaks = [i for i, form in enumerate(FORBIDDEN) if form in text]
    assert not leaks, f"error text leaks secret forms {leaks}"
    leaks = [i for i, form in enumerate(FORBIDDEN) if form in caplog.text]
    assert not leaks, f"a log record leaks secret forms {leaks}"
    want = fault["expect_error"]
    got = {"code": error.code, "status": error.status, "retry_after_ms": error.retry_after_ms}
    assert got == {key: want[key] for key in got}
    assert type(error).code == want["code"], "the exception class is the code's"
    assert fault.get("min_ms", 0) <= ms <= fault["max_ms"], f"took {ms:.0f} ms"
    assert [r["path"] for r in mock.requests()] == fault["paths"]
