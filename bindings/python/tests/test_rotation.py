"""Secrets that rotate without a restart: ``client_secret_file`` and
``credential_provider=``, end to end against a mock whose client secret an
admin call rotates (the old one refused at once, as Bringg does)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import threading
import urllib.request
from pathlib import Path
from typing import Iterator, List

import pytest

import tokenwell
from tokenwell import ConfigError, InvalidClientError, TokenClient

CLIENT_ID = "py-rot-client"


def _mock_binary() -> Path:
    """The mock, as conftest finds it (TOKENWELL_MOCK_BIN, else target/debug)."""
    explicit = os.environ.get("TOKENWELL_MOCK_BIN")
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parents[3] / "target" / "debug" / "tokenwell"


class RotatingMock:
    """A mock of its own that accepts one client whose secret ``rotate`` changes."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rotate(self, secret: str) -> None:
        body = json.dumps({"client_secret": secret}).encode()
        req = urllib.request.Request(self.url + "/__admin/rotate", data=body, method="POST")
        req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read()) == {"rotated": True}

    def count(self) -> int:
        with urllib.request.urlopen(self.url + "/__admin/requests", timeout=10) as resp:
            return int(json.loads(resp.read())["count"])

    def config(self, **overrides: object) -> dict:
        config = {
            "provider": "deliveroo",
            "environment": "sandbox",
            "base_url": f"{self.url}/deliveroo",
            "client_id": CLIENT_ID,
            "policy": {"backoff_initial_ms": 20, "backoff_max_ms": 20},
        }
        config.update(overrides)
        return config


@pytest.fixture
def rotating() -> Iterator[RotatingMock]:
    proc = subprocess.Popen(
        [str(_mock_binary()), "mock", "--port", "0", "--client-id", CLIENT_ID, "--client-secret", "old-secret-aa11"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        got: List[str] = []
        reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(30)
        match = re.fullmatch(r"tokenwell mock listening on (http://127\.0\.0\.1:\d+)\n?", got[0] if got else "")
        assert match, f"the mock printed {got!r}"
        yield RotatingMock(match.group(1))
    finally:
        proc.kill()
        proc.wait(10)


def _replace(path: Path, content: str) -> None:
    """As a Kubernetes secret volume does: a new file renamed over the old."""
    staged = path.with_name(".staged")
    staged.write_text(content)
    os.replace(staged, path)


def test_a_rotated_secret_file_is_picked_up_without_a_restart(rotating: RotatingMock, tmp_path: Path) -> None:
    secret_file = tmp_path / "client-secret"
    _replace(secret_file, "old-secret-aa11\n")
    client = TokenClient.from_config(rotating.config(client_secret_file=str(secret_file)))
    first = client.token()
    for _ in range(20):
        assert client.token().access_token == first.access_token
    assert rotating.count() == 1

    # The server rotates first: the file is unchanged, so invalid_client stands.
    rotating.rotate("new-secret-bb22")
    client.invalidate(first.access_token)
    with pytest.raises(InvalidClientError) as caught:
        client.token()
    assert "old-secret" not in str(caught.value)

    # The volume catches up: the next fetch reads the new secret.
    _replace(secret_file, "new-secret-bb22\n")
    threading.Event().wait(0.05)  # past the backoff
    assert client.token().access_token != first.access_token
    assert "secret-" not in repr(client)


def test_a_credential_provider_is_called_once_per_fetch_and_keeps_the_last_good_secret(
    rotating: RotatingMock, caplog: pytest.LogCaptureFixture
) -> None:
    calls: List[int] = []
    state = {"secret": "old-secret-aa11", "raise": False}

    def provider() -> str:
        calls.append(1)
        if state["raise"]:
            raise RuntimeError("vault unreachable: new-secret-bb22")
        return state["secret"]

    client = TokenClient("deliveroo", credential_provider=provider, **{k: v for k, v in rotating.config().items() if k != "provider"})
    first = client.token()
    for _ in range(20):
        client.token()
    assert len(calls) == 1, "never asked on a hit"

    rotating.rotate("new-secret-bb22")
    state["secret"] = "new-secret-bb22"
    client.invalidate(first.access_token)
    second = client.token()
    assert second.access_token != first.access_token
    assert len(calls) == 2

    # A provider that raises: the last good secret stays, with a warning naming no secret.
    state["raise"] = True
    caplog.set_level(logging.WARNING, logger="tokenwell")
    client.invalidate(second.access_token)
    third = client.token()
    assert third.access_token not in (first.access_token, second.access_token)
    client.settle()
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("tokenwell")]
    assert any("credential provider" in w and "RuntimeError" in w for w in warnings), warnings
    assert all("secret-" not in w for w in warnings), warnings


def test_a_provider_must_be_a_plain_callable_and_the_file_excludes_the_secret(tmp_path: Path) -> None:
    async def provider() -> str:
        return "s"

    with pytest.raises(TypeError, match="async def"):
        TokenClient("deliveroo", environment="sandbox", client_id="c", credential_provider=provider)
    with pytest.raises(TypeError, match="callable"):
        TokenClient("deliveroo", environment="sandbox", client_id="c", credential_provider="s")  # type: ignore[arg-type]
    secret_file = tmp_path / "s"
    secret_file.write_text("file-secret-cc33\n")
    with pytest.raises(ConfigError, match="client_secret and client_secret_file"):
        TokenClient("deliveroo", environment="sandbox", client_id="c", client_secret="x", client_secret_file=str(secret_file))
    with pytest.raises(ConfigError, match="client_secret_file") as caught:
        TokenClient("deliveroo", environment="sandbox", client_id="c", client_secret_file=str(tmp_path / "missing"))
    assert str(tmp_path) not in str(caught.value)
    assert tokenwell.TokenClient is TokenClient
