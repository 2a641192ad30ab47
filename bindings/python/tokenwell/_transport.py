"""Your own HTTP client as the transport: ``transport=`` takes an
``httpx.Client``, an ``httpx.AsyncClient`` or a ``requests.Session``, so token
requests go through its proxy, CA bundle, event hooks and connection pool.

The adapter only moves bytes; the Rust core keeps every decision and limit:

- the request is sent as the core built it. Its ``Authorization`` header
  (HTTP Basic: the client id and **secret**) or its body (``client_secret``,
  ``client_assertion``) carries the credentials: your event hooks and logging
  see them, so redact ``Authorization`` and the body of requests to the token
  URL. The client's own ``auth`` (httpx ``auth=``, ``Session.auth``, netrc) is
  never applied to a token request: it would replace the core's credentials;
- redirects are never followed: each call passes ``follow_redirects=False``
  (httpx) or ``allow_redirects=False`` (requests), whatever the client's
  default, so no client is refused; a 3xx reaches the core as the
  ``http_error`` it is;
- the body is streamed, decoded, and read up to one byte past the core's
  64 KiB limit; headers are kept until they reach the core's 16 KiB limit. The
  core refuses either exactly as it does from its built-in transport;
- the library's timeouts are set from ``http.connect_timeout_ms`` and
  ``http.timeout_ms`` on each call, and its failures map to the built-in
  transport's codes: timeouts to ``timeout``; connect, TLS, protocol and
  decoding failures to ``network``. Errors name the exception's type only.

Calls run on tokenwell's Python threads (those that run own stores, see
:mod:`tokenwell._store`), at most 16 in flight per transport object; the core
waits at most ``http.timeout_ms`` for each. An ``httpx.AsyncClient`` runs on
tokenwell's private event loop: give tokenwell one that your own event loop
does not use (an httpx async client belongs to one event loop).
"""

from __future__ import annotations

import time
from typing import Any, List, Tuple

from . import _store
from ._ffi import tokenwell as _generated

_gen: Any = _generated

__all__ = ["TransportBridge", "is_transport"]


def _kind(client: Any) -> str:
    """``"httpx"``, ``"httpx_async"``, ``"requests"`` or ``""``, without
    importing a library the application did not import."""
    import sys

    httpx = sys.modules.get("httpx")
    if httpx is not None:
        if isinstance(client, httpx.Client):
            return "httpx"
        if isinstance(client, httpx.AsyncClient):
            return "httpx_async"
    requests = sys.modules.get("requests")
    if requests is not None and isinstance(client, requests.Session):
        return "requests"
    return ""


def is_transport(client: Any) -> bool:
    return _kind(client) != ""


class _Unsent(Exception):
    """A failure already classified: ``kind`` is a ``ForeignTransportError`` variant's name."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _headers(lines: Any, limit: int) -> List[Any]:
    """The header fields, kept until their names and values reach ``limit``
    bytes (the field that reaches it included, so the core sees the head is too large)."""
    kept: List[Any] = []
    size = 0
    for name, value in lines:
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        kept.append(_gen.ForeignHeader(name=name, value=value))
        size += len(name) + len(value)
        if size >= limit:
            break
    return kept


class _Body:
    """A response body as read so far, chunk by chunk: full at the core's limit,
    and a timeout past the whole-request deadline (the libraries' timeouts are
    per read, which a server trickling bytes never trips)."""

    def __init__(self, request: Any, library: str) -> None:
        self._limit = request.max_body_bytes
        self._deadline = time.monotonic() + request.timeout_ms / 1000
        self._library = library
        self._bytes = bytearray()

    def add(self, chunk: bytes) -> bool:
        """Appends a chunk; true once the limit is reached."""
        self._bytes += chunk
        if len(self._bytes) >= self._limit:
            return True
        if time.monotonic() > self._deadline:
            raise _Unsent("Timeout", f"{self._library}: the whole-request timeout")
        return False

    def read(self) -> bytes:
        return bytes(self._bytes[: self._limit])


def _name(e: BaseException) -> str:
    return f"{type(e).__module__.split('.')[0]}.{type(e).__name__}"


def _chain(e: BaseException) -> List[BaseException]:
    seen: List[BaseException] = []
    current: Any = e
    while current is not None and current not in seen and len(seen) < 16:
        seen.append(current)
        current = current.__cause__ or current.__context__ or (current.args[0] if current.args and isinstance(current.args[0], BaseException) else None)
    return seen


def _classify(e: BaseException) -> Tuple[str, str]:
    """The ``ForeignTransportError`` variant of a library's failure."""
    import http.client
    import socket

    if isinstance(e, _Unsent):
        return e.kind, e.reason
    reason = _name(e)
    for link in _chain(e):
        # httpx.TimeoutException, requests.Timeout, urllib3's ReadTimeoutError and
        # ConnectTimeoutError (which requests may wrap in a ConnectionError).
        if isinstance(link, (socket.timeout, TimeoutError)) or "Timeout" in type(link).__name__:
            return "Timeout", reason
        if isinstance(link, (http.client.LineTooLong,)) or (
            isinstance(link, http.client.HTTPException) and "more than" in str(link)
        ):
            return "TooLarge", reason
    return "Network", reason


class TransportBridge:
    """The core's view of a ``transport=`` client: the pool threads find it
    by ``id`` (in the stores' table) and run each ``Send`` call on it."""

    __slots__ = ("_client", "_kind", "id", "__weakref__")

    def __init__(self, client: Any) -> None:
        self._client = client
        self._kind = _kind(client)
        self.id = next(_IDS)
        _store._BRIDGES[self.id] = self  # type: ignore[assignment]
        _store._POOL.ensure()

    def answer(self, call: Any) -> Any:
        """The response to ``call``, as a ``_gen.StoreAnswer``."""
        if not isinstance(call, _gen.StoreCall.SEND):
            return _store._failed("a transport only sends requests")
        request = call.request
        try:
            if self._kind == "requests":
                status, lines, body = self._requests(request)
            elif self._kind == "httpx_async":
                status, lines, body = _store._LOOP.run(self._httpx_async(request))
            else:
                status, lines, body = self._httpx(request)
            return _gen.StoreAnswer.RESPONSE(_gen.ForeignResponse(status=status, headers=lines, body=body))
        except BaseException as e:  # noqa: BLE001 - no exception may escape the guard
            kind, reason = _classify(e)
            return _gen.StoreAnswer.UNSENT(getattr(_gen.ForeignTransportError, kind)(reason))

    # -- httpx

    def _httpx_args(self, request: Any) -> Any:
        import httpx

        timeout = httpx.Timeout(request.timeout_ms / 1000, connect=request.connect_timeout_ms / 1000)
        return dict(
            method=request.method,
            url=request.url,
            headers=[(h.name, h.value) for h in request.headers],
            content=bytes(request.body) if request.method != "GET" else None,
            timeout=timeout,
            follow_redirects=False,
            auth=None,  # the client's own auth would replace the core's credentials
        )

    def _httpx(self, request: Any) -> Tuple[int, List[Any], bytes]:
        body = _Body(request, "httpx")
        with self._client.stream(**self._httpx_args(request)) as response:
            lines = _headers(response.headers.raw, request.max_head_bytes)
            for chunk in response.iter_bytes():
                if body.add(chunk):
                    break
            return response.status_code, lines, body.read()

    async def _httpx_async(self, request: Any) -> Tuple[int, List[Any], bytes]:
        body = _Body(request, "httpx")
        async with self._client.stream(**self._httpx_args(request)) as response:
            lines = _headers(response.headers.raw, request.max_head_bytes)
            async for chunk in response.aiter_bytes():
                if body.add(chunk):
                    break
            return response.status_code, lines, body.read()

    # -- requests

    def _requests(self, request: Any) -> Tuple[int, List[Any], bytes]:
        body = _Body(request, "requests")
        response = self._client.request(
            request.method,
            request.url,
            headers={h.name: h.value for h in request.headers},
            data=bytes(request.body) if request.method != "GET" else None,
            timeout=(request.connect_timeout_ms / 1000, request.timeout_ms / 1000),
            allow_redirects=False,
            stream=True,
            auth=_no_auth,  # neither Session.auth nor netrc: the core's credentials stand
        )
        try:
            lines = _headers(response.raw.headers.items(), request.max_head_bytes)
            for chunk in response.iter_content(16 * 1024):
                if body.add(chunk):
                    break
            return response.status_code, lines, body.read()
        finally:
            response.close()

    def __repr__(self) -> str:
        return f"TransportBridge({type(self._client).__name__})"


def _no_auth(request: Any) -> Any:
    return request


# The stores' ids and this module's never collide: one counter for both.
_IDS = _store._IDS
