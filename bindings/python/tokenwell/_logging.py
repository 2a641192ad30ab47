"""The core's log records in Python's :mod:`logging`, on the ``tokenwell`` logger.

The Rust core logs with the ``log`` crate: a warning when a token fetch or the
shared store fails, debug records around each fetch. A sink installed at import
forwards them to ``logging.getLogger("tokenwell")`` (ERROR, WARNING, INFO, DEBUG;
Rust's TRACE as level 5). The core's texts are scrubbed of secrets and tokens,
and it logs nothing on a cache hit.

Records below the logger's enabled level never cross into Python: the core is
told the level at import and again each time a client is built, so
``logging.getLogger("tokenwell").setLevel(logging.DEBUG)`` applies to clients
built afterwards (call :func:`sync_level` to apply it at once).
"""

from __future__ import annotations

import atexit
import logging
import sys
from typing import Any, Dict

from ._ffi import tokenwell as _generated

__all__ = ["install", "sync_level"]

_gen: Any = _generated
_log = logging.getLogger("tokenwell")

_LEVELS: Dict[str, int] = {
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": 5,
}
# From the most verbose: the first level the logger has enabled is the core's filter.
_ORDER = (("trace", 5), ("debug", logging.DEBUG), ("info", logging.INFO),
          ("warn", logging.WARNING), ("error", logging.ERROR))

_last_level = ""


def _max_level() -> str:
    for name, level in _ORDER:
        if _log.isEnabledFor(level):
            return name
    return "off"


class _Sink(_gen.LogSink):  # type: ignore[misc]
    """Called by the core, on whichever thread logged (uniffi takes the GIL)."""

    def log(self, level: str, target: str, message: str) -> None:
        try:
            if sys.is_finalizing():
                return
            _log.log(_LEVELS.get(level, logging.WARNING), message, extra={"rust_target": target})
        except Exception:  # noqa: BLE001 - a logger must never break a fetch
            pass


def install() -> None:
    """Forwards the core's records to the ``tokenwell`` logger (once per process)."""
    global _last_level
    _last_level = _max_level()
    _gen.set_log_sink(_Sink(), _last_level)
    # Past this point the interpreter may be finalising: a record from a core
    # thread must not try to take the GIL.
    atexit.register(_gen.set_log_level, "off")


def sync_level() -> None:
    """Tells the core the ``tokenwell`` logger's enabled level, if it changed."""
    global _last_level
    level = _max_level()
    if level != _last_level:
        _last_level = level
        _gen.set_log_level(level)
