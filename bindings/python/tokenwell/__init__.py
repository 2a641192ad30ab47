"""tokenwell: OAuth 2.0 client-credentials tokens, fetched once and cached right.

>>> from tokenwell import TokenClient
>>> client = TokenClient("deliveroo", environment="sandbox",
...                      client_id="my-id", client_secret="my-secret")  # doctest: +SKIP
>>> client.authorization_header()  # doctest: +SKIP
'Bearer eyJ…'

The cache, refresh-ahead, single flight and backoff are the Rust core's; this
package is a thin, typed layer over its uniffi bindings (``tokenwell._ffi``, which
is generated and private). Your own shared store: :class:`Store` (sync) or
:class:`AsyncStore`, with a lock: :class:`LockingStore`, :class:`AsyncLockingStore`. Adapters: :mod:`tokenwell.httpx`, :mod:`tokenwell.requests`, :mod:`tokenwell.aiohttp`. Observability:
``TokenClient(..., on_event=…)`` (:class:`Event`), :meth:`TokenClient.status`,
OpenTelemetry: :mod:`tokenwell.otel`.
"""

from typing import TYPE_CHECKING

from ._client import AccessToken, ManualClock, MemoryStore, TokenClient
from ._events import ErrorInfo, Event, EventCallback, Lookups, Status
from ._store import AsyncLockingStore, AsyncStore, LockingStore, Store
from . import _errors
from ._errors import *  # noqa: F401,F403 - TokenwellError and one subclass per error code

if TYPE_CHECKING:
    __version__: str
else:

    def __getattr__(name: str) -> str:
        """``__version__``, the installed distribution's (Cargo.toml's, through
        maturin), read on first use: importlib.metadata would cost more than the
        rest of ``import tokenwell``. (Hidden from type checkers, which would
        otherwise take any misspelt attribute of the module for a str.)"""
        if name != "__version__":
            raise AttributeError(f"module 'tokenwell' has no attribute {name!r}")
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("tokenwell")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            value = "0+unknown"
        globals()["__version__"] = value
        return value


__all__ = ["AccessToken", "ManualClock", "MemoryStore", "TokenClient"]
__all__ += ["Store", "LockingStore", "AsyncStore", "AsyncLockingStore"]
__all__ += ["ErrorInfo", "Event", "EventCallback", "Lookups", "Status"]
__all__ += _errors.__all__
