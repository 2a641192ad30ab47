"""Reads are bounded: a store's record over the core's limit is a miss (never
adopted, replaced by the next fetch), and the CA file must be a small regular
file (``/dev/zero`` and a FIFO are config errors at once)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import tokenwell
from tokenwell import TokenClient

LIMIT = 64 * 1024  # tokenwell.MAX_RECORD_BYTES in the core


class OversizedStore:
    """A store whose token record is one byte over the limit until replaced."""

    def __init__(self) -> None:
        self.records: Dict[str, str] = {}
        self.puts: List[str] = []

    def get(self, key: str) -> Optional[str]:
        return self.records.get(key, "x" * (LIMIT + 1) if key.endswith(":t") else None)

    def put(self, key: str, record: str, ttl_ms: int) -> None:
        self.puts.append(key)
        self.records[key] = record

    def remove_if(self, key: str, record: str) -> None:
        self.records.pop(key, None)


def test_an_oversized_record_is_a_miss_and_is_replaced(mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tokenwell")
    mock.script([mock.token_response("bounded-1")])
    store = OversizedStore()
    client = TokenClient.from_config(mock.deliveroo(), store=store)
    assert client.token().access_token == "bounded-1"
    client.settle()
    assert mock.count() == 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "tokenwell"]
    assert any(f"over {LIMIT} bytes" in w for w in warnings), warnings
    replaced = [r for k, r in store.records.items() if k.endswith(":t")]
    assert len(replaced) == 1 and len(replaced[0]) < LIMIT
    # The replacement is shared.
    other = TokenClient.from_config(mock.deliveroo(), store=store)
    assert other.token().access_token == "bounded-1"
    assert mock.count() == 1


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_a_ca_file_that_is_not_a_small_regular_file_is_a_config_error(kind: str, tmp_path: Path) -> None:
    path = kind
    if kind == "fifo":
        path = str(tmp_path / "ca.pem")
        os.mkfifo(path)
    started = time.monotonic()
    with pytest.raises(tokenwell.ConfigError) as info:
        TokenClient(
            "deliveroo", environment="sandbox", client_id="a", client_secret="bounded-secret-1f",
            store={"redis_url": "rediss://cache.invalid:6380", "ca_file": path},
        )
    assert time.monotonic() - started < 1.0
    assert "store.ca_file" in str(info.value) and "not a regular file" in str(info.value)
