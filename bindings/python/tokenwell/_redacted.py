"""A string that never prints itself: how tokens come out of the generated
uniffi module (see ``uniffi.toml``), so that a logged or captured lease record
shows ``[redacted]``. The wrapper unwraps ``.value`` at once."""

from typing import Any


class Redacted:
    """A secret string; ``repr`` and ``str`` show ``[redacted]``."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "[redacted]"

    __str__ = __repr__

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Redacted) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)
