"""A canary client secret and canary access tokens never appear in exception text,
``repr``, printed output or captured logs."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from pathlib import Path
from typing import Any, List

import pytest

import tokenwell
from tokenwell import TokenClient

CANARY_SECRET = "canary-secret-5b1e9d"
CANARY_TOKEN = "canary-token-c0ffee42"


def _texts(err: BaseException) -> List[str]:
    return [str(err), repr(err), getattr(err, "detail", ""), "".join(traceback.format_exception(type(err), err, err.__traceback__))]


def test_canaries_never_leak(mock: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, tokenwell's included
    errors: List[BaseException] = []

    # 1. The server echoes the secret back in its error description.
    mock.script(
        [
            {
                "status": 401,
                "headers": {"content-type": "application/json"},
                "json": {"error": "invalid_client", "error_description": f"client secret {CANARY_SECRET} is wrong"},
            }
        ]
    )
    client = TokenClient.from_config(mock.deliveroo(client_secret=CANARY_SECRET))
    with pytest.raises(tokenwell.InvalidClientError) as info:
        client.token()
    assert "[redacted]" in info.value.detail, "the core scrubbed the echoed secret"
    errors.append(info.value)

    # 2. The same through asyncio.
    mock.script([{"status": 400, "headers": {"content-type": "application/json"}, "json": {"error": "invalid_scope", "error_description": CANARY_SECRET}}])
    client_async = TokenClient.from_config(mock.deliveroo(client_secret=CANARY_SECRET))

    async def fail() -> None:
        await client_async.token_async()

    with pytest.raises(tokenwell.InvalidScopeError) as info_async:
        asyncio.run(fail())
    errors.append(info_async.value)

    # 3. Config errors that would quote the secret (serde quotes offending values).
    with pytest.raises(tokenwell.ConfigError) as info_cfg:
        TokenClient(
            "deliveroo", environment="sandbox", client_id="a", client_secret=CANARY_SECRET,
            policy={"refresh_ratio": CANARY_SECRET},
        )
    errors.append(info_cfg.value)
    with pytest.raises(tokenwell.ConfigError) as info_json:
        TokenClient("deliveroo", environment="sandbox", client_id="a", client_secret=CANARY_SECRET, extra=object())
    errors.append(info_json.value)

    # 4. A good token: repr of the token, the client and the auth adapters.
    mock.script([mock.token_response(CANARY_TOKEN)])
    good = TokenClient.from_config(mock.deliveroo(client_secret=CANARY_SECRET))
    token = good.token()
    assert token.access_token == CANARY_TOKEN  # the value is there for whoever asks for it
    shown = [repr(token), str(token), repr(good), str(good), repr(client), repr(tokenwell.ManualClock())]
    # The generated record the core answers with (what a captured stack frame shows).
    raw = good._core.lease_blocking()
    assert raw.access_token.value == CANARY_TOKEN
    shown += [repr(raw), str(raw)]
    try:
        import tokenwell.httpx as twx

        shown.append(repr(twx.TokenwellAuth(good)))
    except ImportError:  # pragma: no cover - httpx is a test dependency
        pass
    import tokenwell.requests as twr

    shown.append(repr(twr.TokenwellAuth(good)))

    # Print and log everything, the way an application would.
    log = logging.getLogger("app")
    for err in errors:
        print(err, repr(err))
        traceback.print_exception(type(err), err, err.__traceback__)
        log.error("token fetch failed: %s", err, exc_info=err)
    for text in shown:
        print(text)
        log.info("%s", text)

    captured = capsys.readouterr()
    everything = [captured.out, captured.err, caplog.text, *shown]
    for err in errors:
        everything.extend(_texts(err))
    assert captured.out and caplog.text, "the test printed and logged something"
    for text in everything:
        assert CANARY_SECRET not in text
        assert CANARY_TOKEN not in text


ECHO_VECTOR = Path(__file__).resolve().parents[3] / "tests" / "vectors" / "secret-echo-every-form.json"


def test_echoed_secret_forms_never_leak_through_any_error_path(
    mock: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The endpoint echoes the secret in every form (raw, form/URL-encoded,
    JSON-escaped, base64 of the secret and of the Basic pair) and cut short, on
    every error path; nothing the application sees or logs holds any of them."""
    caplog.set_level(logging.DEBUG)
    vector = json.loads(ECHO_VECTOR.read_text(encoding="utf-8"))
    forbidden: List[str] = vector["forbidden"]
    config = {k: (v.replace("{mock}", mock.url) if isinstance(v, str) else v) for k, v in vector["config"].items()}
    texts: List[str] = []
    log = logging.getLogger("app")
    for i, response in enumerate(vector["script"]):
        for use_async in (False, True):
            mock.script([response])
            client = TokenClient.from_config(config)  # a fresh client: no backoff in the way
            with pytest.raises(tokenwell.TokenwellError) as info:
                if use_async:
                    asyncio.run(client.token_async())
                else:
                    client.token()
            err = info.value
            texts.extend(_texts(err))
            print(err, repr(err))
            log.debug("token fetch %d failed: %s", i, err, exc_info=err)
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    assert len(caplog.records) >= 2 * len(vector["script"])
    for text in texts:
        leaked = [n for n, form in enumerate(forbidden) if form in text]
        assert not leaked, f"secret forms {leaked} leaked"


def test_a_token_urls_query_values_never_show(mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = "canary-query-8e2f"
    mock.script([{"status": 401, "headers": {"content-type": "application/json"}, "json": {"error": "invalid_client"}}])
    client = TokenClient(
        "custom", token_url=f"{mock.url}/custom/token?api_key={key}&tenant=acme", client_id="q", client_secret=CANARY_SECRET
    )
    with pytest.raises(tokenwell.TokenwellError) as info:
        client.token()
    shown = f"{mock.url}/custom/token?api_key=[redacted]&tenant=[redacted]"
    assert shown in repr(client)
    assert any(f"requesting a token from {shown}" in r.getMessage() for r in caplog.records)
    texts = [repr(client), str(client), *_texts(info.value), *(r.getMessage() for r in caplog.records)]
    assert all(key not in text for text in texts), texts
