"""Fixtures: the mock token provider (``tokenwell mock``) as a subprocess, and a
tiny JSON client for its admin routes."""

from __future__ import annotations

import faulthandler
import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]
# No test takes more than a few seconds; one that hangs (say a call into the core
# that never returns) ends the run with every thread's traceback instead.
HANG_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def _real_stderr(pytestconfig: pytest.Config) -> Iterator[IO[str]]:
    """The process's stderr as it was before pytest captured it."""
    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        with capman.global_and_fixture_disabled():
            fd = os.dup(2)
    else:
        fd = os.dup(2)
    with os.fdopen(fd, "w") as stream:
        yield stream


@pytest.fixture(autouse=True)
def _hang_guard(_real_stderr: IO[str]) -> Iterator[None]:
    faulthandler.dump_traceback_later(HANG_TIMEOUT_S, exit=True, file=_real_stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


def _die_with_parent() -> None:
    """In the mock's child process: get SIGKILL when the test process dies, however
    it dies (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort
        pass


def _mock_binary() -> Path:
    explicit = os.environ.get("TOKENWELL_MOCK_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / "debug" / "tokenwell"


class Mock:
    """The mock provider at ``url`` and its admin routes."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip() else None

    def reset(self) -> None:
        self._call("POST", "/__admin/reset", {})

    def script(self, responses: List[Dict[str, Any]]) -> None:
        self._call("POST", "/__admin/script", {"responses": responses})

    def requests(self) -> List[Dict[str, Any]]:
        return self._call("GET", "/__admin/requests")["requests"]

    def count(self) -> int:
        return int(self._call("GET", "/__admin/requests")["count"])

    @staticmethod
    def token_response(access_token: str, expires_in: int = 300, delay_ms: int = 0, **extra: Any) -> Dict[str, Any]:
        """A scripted 200 token response."""
        body: Dict[str, Any] = {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in}
        body.update(extra)
        response: Dict[str, Any] = {"status": 200, "headers": {"content-type": "application/json"}, "json": body}
        if delay_ms:
            response["delay_ms"] = delay_ms
        return response

    def substitute(self, value: Any) -> Any:
        """``value`` (a vector's or the fault catalogue's JSON) with ``{mock}`` made this mock's URL."""
        if isinstance(value, str):
            return value.replace("{mock}", self.url)
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        if isinstance(value, dict):
            return {k: self.substitute(v) for k, v in value.items()}
        return value

    def deliveroo(self, **overrides: Any) -> Dict[str, Any]:
        """A deliveroo-preset config pointed at the mock."""
        config = {
            "provider": "deliveroo",
            "environment": "sandbox",
            "base_url": f"{self.url}/deliveroo",
            "client_id": "py-client",
            "client_secret": "py-secret-0001",
        }
        config.update(overrides)
        return config


@pytest.fixture(scope="session")
def mock_server() -> Iterator[Mock]:
    binary = _mock_binary()
    if not binary.is_file():
        pytest.fail(f"mock provider binary not found at {binary}: build it with `cargo build --features cli`")
    proc = subprocess.Popen(
        [str(binary), "mock", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    try:
        line = ""
        got_line = threading.Event()

        def read_line() -> None:
            nonlocal line
            assert proc.stdout is not None
            line = proc.stdout.readline()
            got_line.set()

        threading.Thread(target=read_line, daemon=True).start()
        if not got_line.wait(30):
            pytest.fail("the mock provider printed nothing within 30 s")
        match = re.fullmatch(r"tokenwell mock listening on (http://127\.0\.0\.1:\d+)\n?", line)
        if not match:
            pytest.fail(f"unexpected first line from the mock provider: {line!r}")
        yield Mock(match.group(1))
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture
def mock(mock_server: Mock) -> Mock:
    """The mock, reset (no requests, no script) for this test."""
    mock_server.reset()
    return mock_server

