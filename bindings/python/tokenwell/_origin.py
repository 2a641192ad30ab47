"""Where a token may be resent: the adapters retry a 401 only from the origin
they authorized (after a redirect to another host, the HTTP library sent no
token there, and that host's 401 says nothing of it)."""

from __future__ import annotations

from typing import Optional, Tuple
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: object) -> Tuple[str, str, Optional[int]]:
    """Scheme, host and port (defaulted) of ``url`` (a string or a URL object)."""
    parts = urlsplit(str(url or ""))
    return parts.scheme, (parts.hostname or ""), parts.port or _DEFAULT_PORTS.get(parts.scheme)
