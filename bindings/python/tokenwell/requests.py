"""requests authentication: ``session.auth = TokenwellAuth(client)``.

Adds ``Authorization`` from the client's cached token to every request, and on a
401 drops that token (``invalidate``) and resends the request once with a fresh
one (from a response hook, as ``requests``' own digest auth does).

Requires the optional dependency: ``pip install 'tokenwell[requests]'``.
"""

from __future__ import annotations

import logging
from typing import Any, Optional, cast

import requests
from requests.auth import AuthBase
from requests.cookies import extract_cookies_to_jar

from ._client import AccessToken, TokenClient
from ._origin import origin as _origin

__all__ = ["TokenwellAuth"]

_log = logging.getLogger("tokenwell")


class TokenwellAuth(AuthBase):
    """A :class:`requests.auth.AuthBase` backed by a :class:`tokenwell.TokenClient`."""

    def __init__(self, client: TokenClient) -> None:
        if not isinstance(client, TokenClient):
            raise TypeError("TokenwellAuth takes a tokenwell.TokenClient")
        self._client = client

    @property
    def client(self) -> TokenClient:
        """The token client."""
        return self._client

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._client.token()
        r.headers["Authorization"] = token.authorization_header
        # Where a file-like body starts, to rewind it for the retry.
        body_pos: Optional[int] = None
        tell = getattr(r.body, "tell", None)
        if tell is not None:
            try:
                body_pos = tell()
            except OSError:
                body_pos = None

        origin = _origin(r.url)
        # One retry per call: requests copies this hook (the same function) onto the
        # requests of the redirects it follows, the retry's included.
        retried = [False]

        def retry_on_401(response: requests.Response, **kwargs: Any) -> requests.Response:
            # requests copies hooks onto the requests of redirects, and strips the
            # header on one to another host: a 401 from there gets no token.
            if _origin(response.request.url) != origin or retried[0]:
                return response
            second = self._retry_on_401(response, token, body_pos, **kwargs)
            retried[0] = second is not response
            return second

        r.register_hook("response", retry_on_401)
        return r

    def _retry_on_401(
        self, response: requests.Response, token: AccessToken, body_pos: Optional[int], **kwargs: Any
    ) -> requests.Response:
        if response.status_code != 401 or getattr(response.request, "_tokenwell_retried", False):
            return response
        body = response.request.body
        if body is not None and not isinstance(body, (bytes, str)):
            if body_pos is None or not hasattr(body, "seek"):
                return response  # a one-shot stream cannot be sent again
            cast(Any, body).seek(body_pos)
        _log.info("tokenwell: the API answered 401; invalidating the token and retrying once")
        self._client.invalidate(token)
        # Free the connection for the retry.
        response.content  # noqa: B018
        response.close()
        retry: Any = response.request.copy()
        # Straight into the request: no local holds the token (a captured frame's locals).
        retry.headers["Authorization"] = self._client.authorization_header()
        # requests builds the request of a redirect the retry answers from the request
        # that got the 401: that one carries the new token too.
        response.request.headers["Authorization"] = retry.headers["Authorization"]
        retry._tokenwell_retried = True
        extract_cookies_to_jar(retry._cookies, response.request, response.raw)
        retry.prepare_cookies(retry._cookies)
        second: requests.Response = cast(Any, response).connection.send(retry, **kwargs)
        second.history.append(response)
        second.request = retry
        return second

    def __repr__(self) -> str:
        return f"TokenwellAuth({self._client!r})"
