"""Every Python adapter (httpx sync and async, requests, aiohttp) against every case
of the shared 401-retry table and its 64-concurrent-calls case."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional

import aiohttp
import httpx
import pytest
import requests

from tokenwell import TokenClient
from tokenwell.aiohttp import TokenwellMiddleware
from tokenwell.httpx import TokenwellAuth as HttpxAuth
from tokenwell.requests import TokenwellAuth as RequestsAuth

sys.path.insert(0, str(Path(__file__).parent))
pytest.register_assert_rewrite("adapter_table")  # its asserts say what differed
from adapter_table import CASES, Adapter, Servers, case_ids, run_case, run_concurrency, threaded_many  # noqa: E402

HTTPX_NO_ONE_SHOT = ("httpx reads a streamed body before sending it (TokenwellAuth.requires_request_body), "
                     "so every body it sends can be sent again")


class HttpxSync(Adapter):
    name = "httpx"
    no_one_shot = HTTPX_NO_ONE_SHOT

    def send(self, client: TokenClient, method: str, url: str, body: Optional[bytes], one_shot: bool) -> int:
        with httpx.Client(auth=HttpxAuth(client), follow_redirects=True) as http:
            return http.request(method, url, content=body).status_code

    def send_many(self, client: TokenClient, url: str, n: int) -> List[int]:
        with httpx.Client(auth=HttpxAuth(client), limits=httpx.Limits(max_connections=n)) as http:
            return threaded_many(lambda: http.get(url).status_code, n)


class HttpxAsync(Adapter):
    name = "httpx.AsyncClient"
    no_one_shot = HTTPX_NO_ONE_SHOT

    def send(self, client: TokenClient, method: str, url: str, body: Optional[bytes], one_shot: bool) -> int:
        async def main() -> int:
            async with httpx.AsyncClient(auth=HttpxAuth(client), follow_redirects=True) as http:
                return (await http.request(method, url, content=body)).status_code

        return asyncio.run(main())

    def send_many(self, client: TokenClient, url: str, n: int) -> List[int]:
        async def main() -> List[int]:
            async with httpx.AsyncClient(auth=HttpxAuth(client), limits=httpx.Limits(max_connections=n)) as http:
                return [r.status_code for r in await asyncio.gather(*(http.get(url) for _ in range(n)))]

        return asyncio.run(main())


class Requests(Adapter):
    name = "requests"

    def send(self, client: TokenClient, method: str, url: str, body: Optional[bytes], one_shot: bool) -> int:
        def stream(data: bytes) -> Iterator[bytes]:
            yield data  # a generator: requests sends it chunked, and cannot rewind it

        data: Any = stream(body) if (one_shot and body is not None) else body
        with requests.Session() as session:
            session.auth = RequestsAuth(client)
            return session.request(method, url, data=data).status_code

    def send_many(self, client: TokenClient, url: str, n: int) -> List[int]:
        auth = RequestsAuth(client)
        return threaded_many(lambda: requests.get(url, auth=auth).status_code, n)


class Aiohttp(Adapter):
    name = "aiohttp"

    def send(self, client: TokenClient, method: str, url: str, body: Optional[bytes], one_shot: bool) -> int:
        async def stream(data: bytes) -> AsyncIterator[bytes]:
            yield data  # an async iterable: aiohttp streams it and cannot send it again

        async def main() -> int:
            data: Any = stream(body) if (one_shot and body is not None) else body
            async with aiohttp.ClientSession(middlewares=(TokenwellMiddleware(client),)) as session:
                async with session.request(method, url, data=data) as response:
                    await response.read()
                    return response.status

        return asyncio.run(main())

    def send_many(self, client: TokenClient, url: str, n: int) -> List[int]:
        async def main() -> List[int]:
            async with aiohttp.ClientSession(middlewares=(TokenwellMiddleware(client),)) as session:

                async def one() -> int:
                    async with session.get(url) as response:
                        await response.read()
                        return response.status

                return list(await asyncio.gather(*(one() for _ in range(n))))

        return asyncio.run(main())


ADAPTERS = [HttpxSync(), HttpxAsync(), Requests(), Aiohttp()]


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    both = Servers()
    yield both
    both.close()


@pytest.mark.parametrize("case", CASES, ids=case_ids())
@pytest.mark.parametrize("adapter", ADAPTERS, ids=[a.name for a in ADAPTERS])
def test_table(adapter: Adapter, case: Dict[str, Any], mock: Any, servers: Servers) -> None:
    run_case(adapter, case, mock, servers)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=[a.name for a in ADAPTERS])
def test_64_concurrent_calls_on_a_cold_cache_make_one_token_request(adapter: Adapter, mock: Any, servers: Servers) -> None:
    run_concurrency(adapter, mock, servers)
