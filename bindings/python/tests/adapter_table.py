"""The shared 401-retry table (tests/adapters/retry-401.json), run against one
HTTP-client adapter: the mock provider is the token endpoint, and two loopback
API servers ("origin" and "other", two origins) answer each case's steps.

An adapter is an :class:`Adapter`: it sends one request through its HTTP library
with the tokenwell integration installed, and 64 at once. A case the adapter's
library cannot express is skipped with the reason (``Adapter.no_one_shot``)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

from tokenwell import TokenClient, TokenwellError

REPO = Path(__file__).resolve().parents[3]
TABLE: Dict[str, Any] = json.loads((REPO / "tests" / "adapters" / "retry-401.json").read_text())
CASES: List[Dict[str, Any]] = TABLE["cases"]
BODY = b'{"order": 42, "note": "sent twice if need be"}'


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request's body, chunked or with a length."""
    if "chunked" not in handler.headers.get("transfer-encoding", ""):
        length = int(handler.headers.get("content-length") or 0)
        return handler.rfile.read(length) if length else b""
    body = b""
    while True:
        size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
        chunk = handler.rfile.read(size + 2)[:size]
        if size == 0:
            return body
        body += chunk


class ApiServer:
    """A loopback API: answers its scripted steps in order (a status, or a 307 to
    the same path on a named server) and records every request."""

    def __init__(self, servers: Dict[str, "ApiServer"]) -> None:
        self.seen: List[Dict[str, Any]] = []
        self.steps: List[Dict[str, Any]] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = read_body(self)
                with api.lock:
                    api.seen.append({"auth": self.headers.get("authorization", ""), "body": body})
                    step = api.steps.pop(0) if api.steps else {"status": 599}  # unscripted: the test fails
                if "redirect" in step:
                    self.send_response(307)
                    self.send_header("location", servers[step["redirect"]].url + self.path)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                payload = b'{"ok": true}' if step["status"] < 400 else b'{"error": "scripted"}'
                self.send_response(step["status"])
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                if step["status"] == 401:
                    self.send_header("www-authenticate", 'Bearer error="invalid_token"')
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # 64 concurrent calls connect at once
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def load(self, steps: List[Dict[str, Any]]) -> None:
        with self.lock:
            self.seen.clear()
            self.steps = list(steps)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Servers:
    """The two API servers of the table: ``origin`` and ``other``."""

    def __init__(self) -> None:
        self.by_name: Dict[str, ApiServer] = {}
        self.origin = self.by_name["origin"] = ApiServer(self.by_name)
        self.other = self.by_name["other"] = ApiServer(self.by_name)

    def close(self) -> None:
        self.origin.close()
        self.other.close()


class Adapter:
    """One integration under test. ``send`` returns the final status (or raises the
    tokenwell error); ``body`` is None or bytes, sent as a one-shot stream when
    ``one_shot``. ``send_many`` sends ``n`` GETs at once and returns their statuses."""

    name = "adapter"
    no_one_shot: Optional[str] = None  # why the library has no one-shot body, if it has none

    def send(self, client: TokenClient, method: str, url: str, body: Optional[bytes], one_shot: bool) -> int:
        raise NotImplementedError

    def send_many(self, client: TokenClient, url: str, n: int) -> List[int]:
        raise NotImplementedError


def threaded_many(send: Callable[[], int], n: int) -> List[int]:
    """``n`` calls of ``send`` on ``n`` threads, released together."""
    barrier = threading.Barrier(n)

    def one() -> int:
        barrier.wait(10)
        return send()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: one(), range(n)))


def _tokens(mock: Any) -> None:
    # The n-th token issued is table-n ('origin_tokens' counts them so).
    mock.script([mock.token_response(f"table-{i}") for i in (1, 2, 3)])


def run_case(adapter: Adapter, case: Dict[str, Any], mock: Any, servers: Servers) -> None:
    """Runs one case of the table through ``adapter`` and checks its expectations."""
    request = case["request"]
    if request["body"] == "one_shot" and adapter.no_one_shot:
        pytest.skip(f"{adapter.name}: {adapter.no_one_shot}")
    endpoint = case.get("token_endpoint")
    if endpoint is not None:
        mock.script([{"status": endpoint["status"], "headers": {"content-type": "application/json"},
                      "json": endpoint["json"]}])
    else:
        _tokens(mock)
    servers.origin.load(case["origin"])
    servers.other.load(case.get("other", []))
    client = TokenClient.from_config(mock.deliveroo())
    body = None if request["body"] == "none" else BODY
    expect = case["expect"]
    url = f"{servers.origin.url}/orders"

    if "error_code" in expect:
        with pytest.raises(TokenwellError) as raised:
            adapter.send(client, request["method"], url, body, request["body"] == "one_shot")
        assert raised.value.code == expect["error_code"]
    else:
        status = adapter.send(client, request["method"], url, body, request["body"] == "one_shot")
        assert status == expect["status"], case["name"]

    seen = servers.origin.seen
    assert len(seen) == expect["origin_requests"], [s["auth"] for s in seen]
    assert all(s["auth"].startswith("Bearer table-") for s in seen), "every request to the origin carries a token"
    if "other_requests" in expect:
        assert len(servers.other.seen) == expect["other_requests"]
    if "other_saw_token" in expect:
        assert any(s["auth"] for s in servers.other.seen) == expect["other_saw_token"]
    assert mock.count() == expect["token_requests"]
    if "tokens_differ" in expect:
        assert (len({s["auth"] for s in seen}) > 1) == expect["tokens_differ"], [s["auth"] for s in seen]
    if "origin_tokens" in expect:
        assert [s["auth"] for s in seen] == [f"Bearer table-{n}" for n in expect["origin_tokens"]]
    if expect.get("bodies_equal"):
        assert [s["body"] for s in seen] == [body] * len(seen)
    assert servers.origin.steps == [] and servers.other.steps == [], "every scripted answer was asked for"


def run_concurrency(adapter: Adapter, mock: Any, servers: Servers) -> None:
    """On a cold cache, ``calls`` concurrent calls make one token request and all succeed."""
    spec = TABLE["concurrency"]
    n = spec["calls"]
    # The token response is slow enough for every call to be waiting on it.
    mock.script([mock.token_response("table-1", delay_ms=300)])
    servers.origin.load([{"status": 200}] * n)
    servers.other.load([])
    client = TokenClient.from_config(mock.deliveroo())
    statuses = adapter.send_many(client, f"{servers.origin.url}/orders", n)
    assert statuses == [spec["expect"]["status"]] * n
    assert mock.count() == spec["expect"]["token_requests"]
    assert [s["auth"] for s in servers.origin.seen] == ["Bearer table-1"] * n


def case_ids() -> List[str]:
    return [c["name"] for c in CASES]
