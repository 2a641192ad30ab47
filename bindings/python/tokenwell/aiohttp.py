"""aiohttp client middleware: ``aiohttp.ClientSession(middlewares=(TokenwellMiddleware(client),))``.

Adds ``Authorization`` from the client's cached token to every request, and on a
401 drops that token (``invalidate``) and resends the request once with a fresh
one. The token comes from the client's asyncio API (:meth:`TokenClient.token_async`):
the event loop is never blocked while a token is fetched.

aiohttp runs a session's middlewares once per hop of a redirect chain. The token
goes only to the origin the chain started at: a hop to another origin is sent
without it (as aiohttp does with its own ``auth``), and that origin's 401 says
nothing of the token. A chain retries at most once, and never a body that was
streamed and cannot be sent again (an async iterable, a stream).

Requires the optional dependency: ``pip install 'tokenwell[aiohttp]'`` (aiohttp >= 3.12).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import NamedTuple, Optional, Tuple

import aiohttp
from aiohttp import hdrs, payload
from yarl import URL

from ._client import TokenClient
from ._origin import origin as _origin

__all__ = ["TokenwellMiddleware"]

_log = logging.getLogger("tokenwell")

_REDIRECTS = frozenset((301, 302, 303, 307, 308))


_Origin = Tuple[str, str, Optional[int]]


class _Hop(NamedTuple):
    """The origin the redirect a hop answered leads to, and what the chain carries on."""

    to: _Origin
    origin: _Origin
    retried: bool


# The redirect the last hop answered, in the task that sends the chain (aiohttp
# awaits every hop of one call in the caller's context).
_NEXT_HOP: ContextVar[Optional[_Hop]] = ContextVar("tokenwell_aiohttp_next_hop", default=None)


def _replayable(req: aiohttp.ClientRequest) -> bool:
    body = req.body
    if not isinstance(body, payload.Payload):
        return True  # no body
    consumed = getattr(body, "consumed", None)
    if consumed is None:  # aiohttp 3.12.0: only bytes are known to be resendable
        return isinstance(body, payload.BytesPayload)
    return not consumed


class TokenwellMiddleware:
    """An aiohttp client middleware backed by a :class:`tokenwell.TokenClient`."""

    __slots__ = ("_client",)

    def __init__(self, client: TokenClient) -> None:
        if not isinstance(client, TokenClient):
            raise TypeError("TokenwellMiddleware takes a tokenwell.TokenClient")
        self._client = client

    @property
    def client(self) -> TokenClient:
        """The token client."""
        return self._client

    async def __call__(
        self, req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        hop = _NEXT_HOP.get()
        here = _origin(req.url)
        # (Origins, not URLs: aiohttp rewrites the Location it follows, e.g. drops
        # its user info, and a hop taken for a new call would get the token.)
        if hop is not None and hop.to == here:
            origin, retried = hop.origin, hop.retried  # a redirect of the same call
        else:
            origin, retried = here, False
        _NEXT_HOP.set(None)
        if here != origin:
            # Another origin than the one the call was for: no token goes there.
            response = await handler(req)
            self._remember_redirect(response, origin, retried)
            return response
        token = await self._client.token_async()
        req.headers[hdrs.AUTHORIZATION] = token.authorization_header
        response = await handler(req)
        if response.status == 401 and not retried and _replayable(req):
            _log.info("tokenwell: the API answered 401; invalidating the token and retrying once")
            response.release()
            self._client.invalidate(token)
            # Straight into the request: no local holds the new token.
            req.headers[hdrs.AUTHORIZATION] = await self._client.authorization_header_async()
            retried = True
            response = await handler(req)
        self._remember_redirect(response, origin, retried)
        return response

    @staticmethod
    def _remember_redirect(response: aiohttp.ClientResponse, origin: _Origin, retried: bool) -> None:
        if response.status not in _REDIRECTS:
            return
        location = response.headers.get(hdrs.LOCATION) or response.headers.get(hdrs.URI)
        if not location:
            return
        try:
            target = URL(location)
            if not target.scheme:
                target = response.url.join(target)
        except ValueError:
            return  # aiohttp refuses to follow it too
        _NEXT_HOP.set(_Hop(_origin(target), origin, retried))

    def __repr__(self) -> str:
        return f"TokenwellMiddleware({self._client!r})"
