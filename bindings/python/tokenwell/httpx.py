"""httpx authentication: ``httpx.Client(auth=TokenwellAuth(client))``.

Adds ``Authorization`` from the client's cached token to every request, and on a
401 drops that token (``invalidate``) and retries the request once with a fresh
one. Works with both ``httpx.Client`` and ``httpx.AsyncClient``.

Requires the optional dependency: ``pip install 'tokenwell[httpx]'``.
"""

from __future__ import annotations

import logging
from typing import AsyncGenerator, Generator

import httpx

from ._client import TokenClient
from ._origin import origin as _origin

__all__ = ["TokenwellAuth"]

_log = logging.getLogger("tokenwell")


class TokenwellAuth(httpx.Auth):
    """An :class:`httpx.Auth` backed by a :class:`tokenwell.TokenClient`."""

    # The request may be sent twice (the 401 retry): httpx then reads a streamed
    # body up front so that it can be replayed.
    requires_request_body = True

    def __init__(self, client: TokenClient) -> None:
        if not isinstance(client, TokenClient):
            raise TypeError("TokenwellAuth takes a tokenwell.TokenClient")
        self._client = client

    @property
    def client(self) -> TokenClient:
        """The token client."""
        return self._client

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()  # (httpx.Auth's own flows do this for requires_request_body)
        token = self._client.token()
        request.headers["Authorization"] = token.authorization_header
        response = yield request
        # (After redirects: a 401 from another host says nothing of the token.)
        if response.status_code == 401 and _origin(response.request.url) == _origin(request.url):
            _log.info("tokenwell: the API answered 401; invalidating the token and retrying once")
            self._client.invalidate(token)
            request.headers["Authorization"] = self._client.authorization_header()
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        token = await self._client.token_async()
        request.headers["Authorization"] = token.authorization_header
        response = yield request
        # (After redirects: a 401 from another host says nothing of the token.)
        if response.status_code == 401 and _origin(response.request.url) == _origin(request.url):
            _log.info("tokenwell: the API answered 401; invalidating the token and retrying once")
            self._client.invalidate(token)
            request.headers["Authorization"] = await self._client.authorization_header_async()
            yield request

    def __repr__(self) -> str:
        return f"TokenwellAuth({self._client!r})"
