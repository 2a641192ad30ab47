"""The application's own HTTP client (``transport=``): it carries the token
request exactly as the core built it, never its own auth and never a redirect,
and a cache hit never reaches it. The fault catalogue and the vectors through
it are in test_faults.py and test_vectors.py."""

from __future__ import annotations

import asyncio
import base64
from typing import Any, List

import httpx
import pytest
import requests

from tokenwell import TokenClient

SECRET = "s3cret-own-client"


def config(mock: Any) -> Any:
    return {"provider": "custom", "token_url": f"{mock.url}/custom/token", "client_id": "echo-client", "client_secret": SECRET,
            "credentials": "basic"}


def test_anything_else_is_refused() -> None:
    with pytest.raises(TypeError, match="httpx.Client"):
        TokenClient("custom", token_url="https://idp.example/t", client_id="i", client_secret="s", transport=object())


@pytest.mark.parametrize("kind", ["httpx", "requests"])
def test_hooks_see_the_one_fetch_and_hits_never_reach_the_client(mock: Any, kind: str) -> None:
    seen: List[Any] = []
    client: Any
    if kind == "httpx":
        client = httpx.Client(event_hooks={"request": [lambda r: seen.append(r.headers.get("authorization"))]})
    else:
        client = requests.Session()
        client.hooks["response"].append(lambda r, **_: seen.append(r.request.headers.get("authorization")))
    with client:
        tokens = TokenClient.from_config(config(mock), transport=client, on_event=lambda _e: None)
        for _ in range(50):
            tokens.token()
    assert len(seen) == 1, "one fetch; every other call a hit"
    expected = "Basic " + base64.b64encode(f"echo-client:{SECRET}".encode()).decode()
    assert seen[0] == expected, "the hooks see the client secret: the docs say to redact it"
    assert mock.count() == 1
    lookups = tokens.lookups()
    assert (lookups.hits, lookups.misses) == (49, 1)


@pytest.mark.parametrize("kind", ["httpx", "requests"])
def test_the_clients_own_auth_never_replaces_the_credentials(mock: Any, kind: str) -> None:
    client: Any = httpx.Client(auth=("someone", "else")) if kind == "httpx" else requests.Session()
    if kind == "requests":
        client.auth = ("someone", "else")
    with client:
        TokenClient.from_config(config(mock), transport=client).token()
    sent = mock.requests()[0]["headers"]["authorization"]
    assert sent == "Basic " + base64.b64encode(f"echo-client:{SECRET}".encode()).decode()


def test_an_async_httpx_client_runs_on_tokenwells_loop(mock: Any) -> None:
    async def main() -> str:
        async with httpx.AsyncClient() as client:
            tokens = TokenClient.from_config(config(mock), transport=client)
            return (await tokens.token_async()).access_token

    assert asyncio.run(main())
    assert mock.count() == 1
