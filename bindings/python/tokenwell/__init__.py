"""tokenwell: OAuth 2.0 client-credentials tokens, fetched once and cached right.

>>> from tokenwell import TokenClient
>>> client = TokenClient("deliveroo", environment="sandbox",
...                      client_id="my-id", client_secret="my-secret")  # doctest: +SKIP
>>> client.authorization_header()  # doctest: +SKIP
'Bearer eyJ…'

The cache, refresh-ahead, single flight and backoff are the Rust core's; this
package is a thin, typed layer over its uniffi bindings (``tokenwell._ffi``, which
is generated and private). Your own shared store: :class:`Store` (sync) or
:class:`AsyncStore`, with a lock: :class:`LockingStore`, :class:`AsyncLockingStore`. Adapters: :mod:`tokenwell.httpx`, :mod:`tokenwell.requests`.
"""

from ._client import AccessToken, ManualClock, MemoryStore, TokenClient
from ._store import AsyncLockingStore, AsyncStore, LockingStore, Store
from . import _errors
from ._errors import *  # noqa: F401,F403 - TokenwellError and one subclass per error code

try:
    from importlib.metadata import PackageNotFoundError as _NotFound
    from importlib.metadata import version as _version

    __version__: str = _version("tokenwell")
except _NotFound:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["AccessToken", "ManualClock", "MemoryStore", "TokenClient"]
__all__ += ["Store", "LockingStore", "AsyncStore", "AsyncLockingStore"]
__all__ += _errors.__all__
