"""The installed package is typed (py.typed): mypy --strict accepts correct use of
the public API and rejects wrong use."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is part of the test extra")

GOOD = """
import asyncio
import datetime
from typing import Dict, Optional

import aiohttp
import httpx

import tokenwell
from tokenwell import AccessToken, Event, ManualClock, MemoryStore, Status, TokenClient, TokenwellError
from tokenwell.otel import OpenTelemetry
from tokenwell.httpx import TokenwellAuth as HttpxAuth
from tokenwell.requests import TokenwellAuth as RequestsAuth
from tokenwell.aiohttp import TokenwellMiddleware


def use(client: TokenClient) -> None:
    token: AccessToken = client.token()
    header: str = client.authorization_header()
    expires: datetime.datetime = token.expires_at
    scope: Optional[str] = token.scope
    dropped: bool = client.invalidate(token) or client.invalidate(token.access_token)
    try:
        client.token()
    except TokenwellError as e:
        code: str = e.code
        status: Optional[int] = e.status
        wait: Optional[int] = e.retry_after_ms
    except tokenwell.RateLimitedError:
        pass
    httpx.Client(auth=HttpxAuth(client))
    RequestsAuth(client)  # requests itself ships no type hints


async def use_async(client: TokenClient) -> str:
    token = await client.token_async()
    return token.access_token + await client.authorization_header_async()


async def use_aiohttp(client: TokenClient) -> int:
    middleware: aiohttp.ClientMiddlewareType = TokenwellMiddleware(client)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.get("https://api.example.com/orders") as response:
            return response.status


class DictStore:
    def __init__(self) -> None:
        self.records: Dict[str, str] = {}

    def get(self, key: str) -> Optional[str]:
        return self.records.get(key)

    def put(self, key: str, record: str, ttl_ms: int) -> None:
        self.records[key] = record

    def remove_if(self, key: str, record: str) -> None:
        if self.records.get(key) == record:
            del self.records[key]

    def try_lock(self, lock: str, owner: str, ttl_ms: int) -> bool:
        return self.records.setdefault(lock, owner) == owner

    def unlock(self, lock: str, owner: str) -> None:
        self.remove_if(lock, owner)


class AsyncDictStore:
    async def get(self, key: str) -> Optional[str]:
        return None

    async def put(self, key: str, record: str, ttl_ms: int) -> None:
        pass

    async def remove_if(self, key: str, record: str) -> None:
        pass


store: tokenwell.LockingStore = DictStore()
plain: tokenwell.Store = DictStore()
async_store: tokenwell.AsyncStore = AsyncDictStore()
client = TokenClient("deliveroo", environment="sandbox", client_id="a", client_secret="b",
                     clock=ManualClock(0), store=MemoryStore(), scope="x")
other = TokenClient.from_config({"provider": "deliveroo"})
with_store = TokenClient.from_config({"provider": "deliveroo"}, store=DictStore())
with_async_store = TokenClient("deliveroo", store=AsyncDictStore())


def on_event(event: Event) -> None:
    fetch_id: Optional[int] = event.fetch_id
    if event.error is not None:
        failed: str = event.error.code


observed = TokenClient("deliveroo", on_event=on_event)
observed_otel = TokenClient.from_config({"provider": "deliveroo"}, on_event=[OpenTelemetry(), on_event])
status: Status = observed.status()
ready: bool = status.healthy
left: Optional[int] = status.token_expires_in_ms
name: str = observed.name
hits: int = observed.lookups().hits
"""

BAD = """
from tokenwell import TokenClient

client = TokenClient("deliveroo", environment="sandbox", client_id="a", client_secret="b")
count: int = client.authorization_header()
healthy: str = client.status().healthy
"""


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    file = tmp_path / "snippet.py"
    file.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


def test_public_api_type_checks(tmp_path: Path) -> None:
    result = _mypy(tmp_path, GOOD)
    assert result.returncode == 0, result.stdout + result.stderr


def test_wrong_use_is_caught(tmp_path: Path) -> None:
    result = _mypy(tmp_path, BAD)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Incompatible types in assignment" in result.stdout
