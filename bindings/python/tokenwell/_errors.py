"""Exceptions: one class per error kind of the core, each with its stable ``code``.

The core scrubs the client secret from every detail it reports and never puts a
token in one; these classes add nothing that could hold either.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple, Type

__all__ = [
    "TokenwellError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidScopeError",
    "InvalidRequestError",
    "UnauthorizedClientError",
    "UnsupportedGrantTypeError",
    "AccessDeniedError",
    "RateLimitedError",
    "ServerError",
    "HttpError",
    "NetworkError",
    "FetchTimeoutError",
    "MalformedResponseError",
    "ResponseTooLargeError",
    "ConfigError",
    "StoreError",
    "InternalError",
]


class TokenwellError(Exception):
    """Any failure to get a token.

    Attributes:
        code: the stable error code (``"invalid_client"``, ``"rate_limited"``…),
            the same in every language.
        status: the token endpoint's HTTP status, when it answered.
        retry_after_ms: how long the endpoint asked to wait (``Retry-After``).
        detail: the core's description, without secrets.
    """

    code: str = "unknown"

    def __init__(
        self,
        detail: str,
        *,
        status: Optional[int] = None,
        retry_after_ms: Optional[int] = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.retry_after_ms = retry_after_ms

    def __str__(self) -> str:
        return self.detail

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"retry_after_ms={self.retry_after_ms!r}, detail={self.detail!r})"
        )

    def __reduce__(self) -> Tuple[Callable[..., "TokenwellError"], Tuple[Any, ...]]:
        # Keeps the keyword fields across pickling (multiprocessing).
        return (_rebuild, (self.code, self.detail, self.status, self.retry_after_ms))


class InvalidClientError(TokenwellError):
    """Wrong client id or secret (``invalid_client``, or a bare 401)."""

    code = "invalid_client"


class InvalidGrantError(TokenwellError):
    """``invalid_grant``."""

    code = "invalid_grant"


class InvalidScopeError(TokenwellError):
    """``invalid_scope``."""

    code = "invalid_scope"


class InvalidRequestError(TokenwellError):
    """``invalid_request``."""

    code = "invalid_request"


class UnauthorizedClientError(TokenwellError):
    """``unauthorized_client``."""

    code = "unauthorized_client"


class UnsupportedGrantTypeError(TokenwellError):
    """``unsupported_grant_type``."""

    code = "unsupported_grant_type"


class AccessDeniedError(TokenwellError):
    """``access_denied``, or a bare 403."""

    code = "access_denied"


class RateLimitedError(TokenwellError):
    """HTTP 429 or ``slow_down``; see ``retry_after_ms``."""

    code = "rate_limited"


class ServerError(TokenwellError):
    """HTTP 5xx (or ``server_error`` / ``temporarily_unavailable``)."""

    code = "server_error"


class HttpError(TokenwellError):
    """Any other non-success status without a recognised error body."""

    code = "http_error"


class NetworkError(TokenwellError):
    """The connection failed (DNS, TCP, TLS, reset)."""

    code = "network"


class FetchTimeoutError(TokenwellError):
    """The token endpoint did not answer within the configured timeout."""

    code = "timeout"


class MalformedResponseError(TokenwellError):
    """A success status whose body is not a usable token response."""

    code = "malformed_response"


class ResponseTooLargeError(TokenwellError):
    """The response body exceeded the core's limit."""

    code = "response_too_large"


class ConfigError(TokenwellError):
    """The configuration is invalid (unknown preset, insecure URL, missing field)."""

    code = "config"


class StoreError(TokenwellError):
    """A token store failed."""

    code = "store"


class InternalError(TokenwellError):
    """A bug: a fetch panicked. Every waiter gets this instead of hanging."""

    code = "internal"


ERROR_CLASSES: Dict[str, Type[TokenwellError]] = {
    cls.code: cls
    for cls in (
        InvalidClientError,
        InvalidGrantError,
        InvalidScopeError,
        InvalidRequestError,
        UnauthorizedClientError,
        UnsupportedGrantTypeError,
        AccessDeniedError,
        RateLimitedError,
        ServerError,
        HttpError,
        NetworkError,
        FetchTimeoutError,
        MalformedResponseError,
        ResponseTooLargeError,
        ConfigError,
        StoreError,
        InternalError,
    )
}


def _rebuild(code: str, detail: str, status: Optional[int], retry_after_ms: Optional[int]) -> TokenwellError:
    return ERROR_CLASSES.get(code, TokenwellError)(detail, status=status, retry_after_ms=retry_after_ms)
