"""The httpx (sync and async) and requests adapters against the mock provider and
a small local API that rejects chosen tokens with 401."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set

import httpx
import pytest
import requests

from tokenwell import TokenClient
from tokenwell.httpx import TokenwellAuth as HttpxAuth
from tokenwell.requests import TokenwellAuth as RequestsAuth

sys.path.insert(0, str(Path(__file__).parent))
pytest.register_assert_rewrite("adapter_table")  # its asserts say what differed
from adapter_table import read_body  # noqa: E402


class Api:
    """Records every request; answers 401 to the tokens in ``rejected``."""

    def __init__(self) -> None:
        self.seen: List[Dict[str, Any]] = []
        self.rejected: Set[str] = set()
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = read_body(self)
                auth = self.headers.get("authorization", "")
                with api.lock:
                    api.seen.append({"method": self.command, "path": self.path, "auth": auth, "body": body})
                    status = 401 if auth.removeprefix("Bearer ") in api.rejected else 200
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("location", self.path.split("=", 1)[1])
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                payload = b'{"ok": true}' if status == 200 else b'{"error": "invalid_token"}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                if status == 401:
                    self.send_header("www-authenticate", 'Bearer error="invalid_token"')
                    self.send_header("set-cookie", "seen=1; Path=/")
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
            self.rejected.clear()

    def auths(self) -> List[str]:
        with self.lock:
            return [s["auth"] for s in self.seen]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def api_server() -> Iterator[Api]:
    server = Api()
    yield server
    server.close()


@pytest.fixture
def api(api_server: Api) -> Api:
    api_server.reset()
    return api_server


@pytest.fixture
def client(mock: Any) -> TokenClient:
    mock.script([mock.token_response("api-1"), mock.token_response("api-2"), mock.token_response("api-3")])
    return TokenClient.from_config(mock.deliveroo())


# -- httpx, sync


def test_httpx_adds_the_header_and_reuses_the_token(api: Api, client: TokenClient, mock: Any) -> None:
    with httpx.Client(auth=HttpxAuth(client)) as http:
        assert http.get(f"{api.url}/orders").status_code == 200
        assert http.get(f"{api.url}/orders").status_code == 200
    assert api.auths() == ["Bearer api-1", "Bearer api-1"]
    assert mock.count() == 1


def test_httpx_retries_once_after_401(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.add("api-1")
    with httpx.Client(auth=HttpxAuth(client)) as http:
        response = http.post(f"{api.url}/orders", content=b'{"n": 1}')
        assert response.status_code == 200
        assert [r.status_code for r in response.history] == [401]
        # The next request uses the new token without asking the provider again.
        assert http.get(f"{api.url}/orders").status_code == 200
    assert api.auths() == ["Bearer api-1", "Bearer api-2", "Bearer api-2"]
    assert [s["body"] for s in api.seen[:2]] == [b'{"n": 1}', b'{"n": 1}'], "the body is sent again"
    assert mock.count() == 2


def test_httpx_retries_a_streamed_body(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.add("api-1")

    def chunks() -> Iterator[bytes]:
        yield b"part-1;"
        yield b"part-2"

    with httpx.Client(auth=HttpxAuth(client)) as http:
        assert http.post(f"{api.url}/upload", content=chunks()).status_code == 200
    assert [s["body"] for s in api.seen] == [b"part-1;part-2", b"part-1;part-2"]


def test_httpx_retries_only_once(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.update({"api-1", "api-2"})
    with httpx.Client(auth=HttpxAuth(client)) as http:
        assert http.get(f"{api.url}/orders").status_code == 401
    assert api.auths() == ["Bearer api-1", "Bearer api-2"]
    assert mock.count() == 2


# -- httpx, async


def test_httpx_async_retries_once_after_401(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.add("api-1")

    async def main() -> List[int]:
        async with httpx.AsyncClient(auth=HttpxAuth(client)) as http:
            first = await http.post(f"{api.url}/orders", json={"n": 2})
            rest = await asyncio.gather(*(http.get(f"{api.url}/orders") for _ in range(20)))
            return [first.status_code, len(first.history)] + [r.status_code for r in rest]

    assert asyncio.run(main()) == [200, 1] + [200] * 20
    assert api.auths() == ["Bearer api-1"] + ["Bearer api-2"] * 21
    assert mock.count() == 2


def test_httpx_async_retries_only_once(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.update({"api-1", "api-2"})

    async def main() -> int:
        async with httpx.AsyncClient(auth=HttpxAuth(client)) as http:
            return (await http.get(f"{api.url}/orders")).status_code

    assert asyncio.run(main()) == 401
    assert api.auths() == ["Bearer api-1", "Bearer api-2"]


# -- requests


def test_requests_adds_the_header_and_reuses_the_token(api: Api, client: TokenClient, mock: Any) -> None:
    with requests.Session() as session:
        session.auth = RequestsAuth(client)
        assert session.get(f"{api.url}/orders").status_code == 200
        assert session.get(f"{api.url}/orders").status_code == 200
    assert api.auths() == ["Bearer api-1", "Bearer api-1"]
    assert mock.count() == 1


def test_requests_retries_once_after_401(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.add("api-1")
    with requests.Session() as session:
        session.auth = RequestsAuth(client)
        response = session.post(f"{api.url}/orders", data=b'{"n": 3}')
        assert response.status_code == 200
        assert [r.status_code for r in response.history] == [401]
        assert response.request.headers["Authorization"] == "Bearer api-2"
        assert session.get(f"{api.url}/orders").status_code == 200
    assert api.auths() == ["Bearer api-1", "Bearer api-2", "Bearer api-2"]
    assert [s["body"] for s in api.seen[:2]] == [b'{"n": 3}', b'{"n": 3}']
    assert mock.count() == 2


def test_requests_rewinds_a_file_body(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.add("api-1")
    # A plain request (no session), with a file-like body.
    response = requests.post(f"{api.url}/upload", data=io.BytesIO(b"file-body"), auth=RequestsAuth(client))
    assert response.status_code == 200
    assert [s["body"] for s in api.seen] == [b"file-body", b"file-body"]


def test_requests_retries_only_once(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.update({"api-1", "api-2"})
    response = requests.get(f"{api.url}/orders", auth=RequestsAuth(client))
    assert response.status_code == 401
    assert api.auths() == ["Bearer api-1", "Bearer api-2"]
    assert mock.count() == 2


def test_requests_sends_no_token_where_a_redirect_to_another_host_answers_401(
    api: Api, client: TokenClient, mock: Any
) -> None:
    # requests strips the header on a redirect to another host; a 401 there must
    # not bring a fresh token back (nor drop the good one).
    other = Api()
    try:
        other.rejected.update({"", "api-1", "api-2"})  # 401 to everything
        target = other.url.replace("127.0.0.1", "localhost") + "/elsewhere"
        response = requests.get(f"{api.url}/redirect?to={target}", auth=RequestsAuth(client))
        assert response.status_code == 401
        assert other.auths() == [""]
        assert mock.count() == 1
    finally:
        other.close()


def test_httpx_keeps_the_token_when_a_redirect_to_another_host_answers_401(
    api: Api, client: TokenClient, mock: Any
) -> None:
    other = Api()
    try:
        other.rejected.update({"", "api-1", "api-2"})
        target = other.url.replace("127.0.0.1", "localhost") + "/elsewhere"
        with httpx.Client(auth=HttpxAuth(client), follow_redirects=True) as http:
            assert http.get(f"{api.url}/redirect?to={target}").status_code == 401
        assert other.auths() == [""]
        assert mock.count() == 1  # the token was not dropped for another host's 401
    finally:
        other.close()


def test_requests_retries_a_401_after_a_redirect_to_the_same_host(api: Api, client: TokenClient, mock: Any) -> None:
    api.rejected.add("api-1")
    response = requests.get(f"{api.url}/redirect?to={api.url}/orders", auth=RequestsAuth(client))
    assert response.status_code == 200
    assert api.auths() == ["Bearer api-1", "Bearer api-1", "Bearer api-2"]


def test_adapters_reject_other_objects() -> None:
    with pytest.raises(TypeError):
        HttpxAuth("not a client")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RequestsAuth("not a client")  # type: ignore[arg-type]
