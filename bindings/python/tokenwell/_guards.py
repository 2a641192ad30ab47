"""Refuses pickle and copy on the generated uniffi objects.

A generated object (``CoreClient``, ``CoreClock``, ``CoreStore``) is a handle to
a native object that it frees when collected. ``copy.copy`` or an unpickled
copy would hold the same handle and free it a second time: a crash. The
generated code stays generated; the refusal is set on its classes here, at import.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ._ffi import tokenwell as _generated

__all__ = ["install"]

_gen: Any = _generated
_GUARDED = ("CoreClient", "CoreClock", "CoreStore")


def _refuse(self: Any, *_: Any) -> NoReturn:
    raise TypeError(
        f"{type(self).__name__} is a handle to a native tokenwell object: it cannot be "
        "copied or pickled (a copy would free it twice); build a new one instead"
    )


def install() -> None:
    for name in _GUARDED:
        cls = getattr(_gen, name)
        for method in ("__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__", "__getstate__"):
            setattr(cls, method, _refuse)
