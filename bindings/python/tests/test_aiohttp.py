"""tokenwell.aiohttp against a real aiohttp.web server and the mock provider (the
shared 401 table runs it too: test_adapter_table.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable, Dict, List, Set, TypeVar

import aiohttp
import pytest
from aiohttp import web

from tokenwell import TokenClient
from tokenwell.aiohttp import TokenwellMiddleware

T = TypeVar("T")


class Api:
    """An aiohttp.web API that records every request and answers 401 to the tokens in ``rejected``."""

    def __init__(self) -> None:
        self.seen: List[Dict[str, Any]] = []
        self.rejected: Set[str] = set()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        self.seen.append({"auth": auth, "body": await request.read()})
        if auth.removeprefix("Bearer ") in self.rejected:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"ok": True})


async def with_api(api: Api, body: Callable[[], Awaitable[T]]) -> T:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", api.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        api.url = "http://127.0.0.1:%d" % runner.addresses[0][1]
        return await body()
    finally:
        await runner.cleanup()


@pytest.fixture
def client(mock: Any) -> TokenClient:
    mock.script([mock.token_response("aio-1"), mock.token_response("aio-2"), mock.token_response("aio-3")])
    return TokenClient.from_config(mock.deliveroo())


def test_adds_the_header_and_reuses_the_token(client: TokenClient, mock: Any) -> None:
    api = Api()

    async def main() -> List[int]:
        async with aiohttp.ClientSession(middlewares=(TokenwellMiddleware(client),)) as http:
            statuses = []
            for _ in range(3):
                async with http.get(f"{api.url}/orders") as response:
                    statuses.append(response.status)
            return statuses

    assert asyncio.run(with_api(api, main)) == [200, 200, 200]
    assert [s["auth"] for s in api.seen] == ["Bearer aio-1"] * 3
    assert mock.count() == 1


def test_retries_once_after_401_with_the_body_and_keeps_the_new_token(client: TokenClient, mock: Any) -> None:
    api = Api()
    api.rejected.add("aio-1")

    async def main() -> List[Any]:
        async with aiohttp.ClientSession(middlewares=(TokenwellMiddleware(client),)) as http:
            async with http.post(f"{api.url}/orders", json={"n": 1}) as first:
                got = [first.status, await first.json()]
            async with http.get(f"{api.url}/orders") as second:
                return got + [second.status]

    assert asyncio.run(with_api(api, main)) == [200, {"ok": True}, 200]
    assert [s["auth"] for s in api.seen] == ["Bearer aio-1", "Bearer aio-2", "Bearer aio-2"]
    assert [s["body"] for s in api.seen[:2]] == [b'{"n": 1}', b'{"n": 1}']
    assert mock.count() == 2


def test_a_per_request_middleware_works_too(client: TokenClient, mock: Any) -> None:
    api = Api()
    api.rejected.update({"aio-1", "aio-2"})

    async def main() -> int:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{api.url}/orders", middlewares=(TokenwellMiddleware(client),)) as response:
                return response.status

    assert asyncio.run(with_api(api, main)) == 401, "retried once, then the 401 is returned"
    assert [s["auth"] for s in api.seen] == ["Bearer aio-1", "Bearer aio-2"]


def test_a_redirect_with_user_info_to_another_origin_gets_no_token(client: TokenClient, mock: Any) -> None:
    # aiohttp strips the user info from the Location it follows (and sends it as
    # Basic auth): the hop is still the same call's, to another origin.
    other = Api()
    api = Api()

    async def redirect(request: web.Request) -> web.Response:
        api.seen.append({"auth": request.headers.get("Authorization", ""), "body": b""})
        raise web.HTTPTemporaryRedirect(other.url.replace("http://", "http://user:pw@") + "/elsewhere")

    async def main() -> int:
        app = web.Application()
        app.router.add_get("/go", redirect)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            url = "http://127.0.0.1:%d/go" % runner.addresses[0][1]
            async with aiohttp.ClientSession(middlewares=(TokenwellMiddleware(client),)) as http:
                async with http.get(url) as response:
                    return response.status
        finally:
            await runner.cleanup()

    assert asyncio.run(with_api(other, main)) == 200
    assert [s["auth"] for s in api.seen] == ["Bearer aio-1"]
    assert [s["auth"] for s in other.seen] == ["Basic dXNlcjpwdw=="], "the URL's own credentials, not the token"
    assert mock.count() == 1


def test_the_event_loop_runs_while_the_token_is_fetched(mock: Any) -> None:
    # The token endpoint takes 600 ms; a ticker on the same loop must keep ticking.
    mock.script([mock.token_response("slow-1", delay_ms=600)])
    client = TokenClient.from_config(mock.deliveroo())
    api = Api()

    async def main() -> float:
        ticks: List[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        async with aiohttp.ClientSession(middlewares=(TokenwellMiddleware(client),)) as http:
            async with http.get(f"{api.url}/orders") as response:
                assert response.status == 200
        done.set()
        await task
        return max(b - a for a, b in zip(ticks, ticks[1:]))

    longest_gap = asyncio.run(with_api(api, main))
    # A loop blocked by the fetch would stall 0.6 s; the margin is for a loaded machine.
    assert longest_gap < 0.45, f"the loop stalled for {longest_gap:.3f} s while the token was fetched"
    assert [s["auth"] for s in api.seen] == ["Bearer slow-1"]


def test_a_token_error_is_raised_and_nothing_is_sent(mock: Any) -> None:
    mock.script([{"status": 401, "headers": {"content-type": "application/json"}, "json": {"error": "invalid_client"}}])
    client = TokenClient.from_config(mock.deliveroo())
    api = Api()

    async def main() -> None:
        async with aiohttp.ClientSession(middlewares=(TokenwellMiddleware(client),)) as http:
            async with http.get(f"{api.url}/orders"):
                pass

    from tokenwell import InvalidClientError

    with pytest.raises(InvalidClientError) as raised:
        asyncio.run(with_api(api, main))
    assert "py-secret-0001" not in str(raised.value) and "py-secret-0001" not in repr(raised.value)
    assert api.seen == []


def test_rejects_other_objects_and_keeps_the_token_out_of_repr(client: TokenClient) -> None:
    with pytest.raises(TypeError):
        TokenwellMiddleware("not a client")  # type: ignore[arg-type]
    middleware = TokenwellMiddleware(client)
    assert middleware.client is client
    assert "aio-" not in repr(middleware)

