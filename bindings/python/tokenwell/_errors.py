"""Exceptions: one class per error kind of the core, each with its stable ``code``.

The codes, and whether each is a credential error or retryable, are the Rust
core's table (``error_kinds()``): every class here names its code, and the flags
are read from the core, never restated (``tests/test_errors.py`` fails when a
class and the table disagree). The core scrubs the client secret from every
detail it reports and never puts a token in one; these classes add nothing that
could hold either.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple, Type

from ._ffi import tokenwell as _generated

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

# The core's error table, one record per kind: kind, code, is_credential_error, is_retryable.
KINDS: Tuple[Any, ...] = tuple(_generated.error_kinds())
_BY_CODE: Dict[str, Any] = {kind.code: kind for kind in KINDS}
_BY_KIND: Dict[Any, Any] = {kind.kind: kind for kind in KINDS}


class TokenwellError(Exception):
    """Any failure to get a token.

    Attributes:
        code: the stable error code (``"invalid_client"``, ``"rate_limited"``…),
            the same in every language.
        status: the token endpoint's HTTP status, when it answered.
        retry_after_ms: how long the endpoint asked to wait (``Retry-After``).
        detail: what went wrong, without secrets.
        is_credential_error: the credentials, the request or the configuration
            are wrong; retrying will not help until they change.
        is_retryable: the same request may succeed later.

    ``str(err)`` is the core's one-line text (code, status, detail, retry-after).
    """

    code: str = "unknown"

    def __init__(
        self,
        detail: str,
        *,
        status: Optional[int] = None,
        retry_after_ms: Optional[int] = None,
        code: Optional[str] = None,
        message: Optional[str] = None,
    ) -> None:
        text = detail if message is None else message
        super().__init__(text)
        if code is not None:
            self.code = code
        self.detail = detail
        self.status = status
        self.retry_after_ms = retry_after_ms
        self._message = text

    @property
    def is_credential_error(self) -> bool:
        """Whether the credentials, the request or the configuration are wrong."""
        kind = _BY_CODE.get(self.code)
        return bool(kind is not None and kind.is_credential_error)

    @property
    def is_retryable(self) -> bool:
        """Whether the same request may succeed later."""
        kind = _BY_CODE.get(self.code)
        return bool(kind is not None and kind.is_retryable)

    def __str__(self) -> str:
        return self._message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"retry_after_ms={self.retry_after_ms!r}, detail={self.detail!r})"
        )

    def __reduce__(self) -> Tuple[Callable[..., "TokenwellError"], Tuple[Any, ...]]:
        # Keeps the keyword fields across pickling (multiprocessing).
        return (_rebuild, (self.code, self.detail, self.status, self.retry_after_ms, self._message))


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
    """HTTP 429 or ``slow_down``; how long to wait is in its retry_after_ms attribute."""

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


# code -> class, from the classes themselves (each names its code).
ERROR_CLASSES: Dict[str, Type[TokenwellError]] = {cls.code: cls for cls in TokenwellError.__subclasses__()}


def from_core(err: Any) -> TokenwellError:
    """The public exception for the core's (generated) ``TokenwellError.Failure``.
    A kind this package has no class for still gets its code and flags."""
    code: str = _BY_KIND[err.kind].code
    return ERROR_CLASSES.get(code, TokenwellError)(
        err.detail,
        status=err.status,
        retry_after_ms=err.retry_after_ms,
        code=code,
        message=err.summary,
    )


def _rebuild(
    code: str,
    detail: str,
    status: Optional[int],
    retry_after_ms: Optional[int],
    message: Optional[str] = None,
) -> TokenwellError:
    cls = ERROR_CLASSES.get(code, TokenwellError)
    return cls(detail, status=status, retry_after_ms=retry_after_ms, code=code, message=message)
