"""Every row of tests/oidc/clients.json against panva's oidc-provider (an OpenID
Certified server), started once for this module by tests/oidc/server.mjs: a
token, which the server's introspection endpoint reports active for the row's
client; invalidated; a second, different one, also active. A rotation row
changes the client's secret on the server and in its file in between. Rows
whose feature is in tests/oidc/pending.json are skipped, saying so.

Without Node or the launcher's packages (``bash tests/oidc/setup.sh``, which
``make test`` runs) or when it does not start, the tests skip saying why, unless
``CI`` is set: then they fail."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

from tokenwell import AccessToken, TokenClient, TokenwellError

REPO = Path(__file__).resolve().parents[3]
OIDC = REPO / "tests" / "oidc"
TABLE: Dict[str, Any] = json.loads((OIDC / "clients.json").read_text())
PENDING = set() if os.environ.get("TOKENWELL_OIDC_ALL") == "1" else set(json.loads((OIDC / "pending.json").read_text()))
CI = os.environ.get("CI", "") not in ("", "0", "false")


def _unavailable(why: str) -> None:
    if CI:
        pytest.fail(f"{why} (CI is set: the oidc tests may not skip)")
    pytest.skip(why)


def _die_with_parent() -> None:
    """In the launcher's process: get SIGKILL when the test process dies (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort; closing stdin stops it anyway
        pass


class Launcher:
    """The running launcher: its URLs, and the test's own calls to it."""

    def __init__(self, info: Dict[str, str]) -> None:
        self.issuer = info["issuer"]
        self.token_endpoint = info["token_endpoint"]
        self.introspection_endpoint = info["introspection_endpoint"]
        self.admin = info["admin"]

    def introspect(self, token: str) -> Dict[str, Any]:
        intro = TABLE["introspector"]
        pair = f"{urllib.parse.quote(intro['client_id'])}:{urllib.parse.quote(intro['client_secret'])}"
        request = urllib.request.Request(
            self.introspection_endpoint,
            data=urllib.parse.urlencode({"token": token}).encode(),
            headers={"authorization": "Basic " + base64.b64encode(pair.encode()).decode()},
        )
        with urllib.request.urlopen(request, timeout=10) as res:
            result: Dict[str, Any] = json.loads(res.read())
            return result

    def set_secret(self, client_id: str, secret: str) -> None:
        request = urllib.request.Request(
            f"{self.admin}/clients/{urllib.parse.quote(client_id)}/secret", data=secret.encode(), method="PUT"
        )
        with urllib.request.urlopen(request, timeout=10) as res:
            assert res.status == 204


@pytest.fixture(scope="module")
def launcher() -> Iterator[Launcher]:
    if not (OIDC / "node_modules" / "oidc-provider" / "package.json").is_file():
        _unavailable("tests/oidc/node_modules is missing: run `bash tests/oidc/setup.sh` (make test does)")
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not on PATH: the oidc-provider launcher needs it")
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(node), str(OIDC / "server.mjs")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    try:
        first: Dict[str, str] = {}
        got = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            first["line"] = proc.stdout.readline()
            got.set()
            for _ in proc.stdout:  # drained until the launcher exits
                pass

        threading.Thread(target=read, daemon=True).start()
        if not got.wait(20) or not first["line"]:
            _unavailable(f"the oidc launcher did not start (exit status {proc.poll()})")
        sys.stderr.write(f"oidc: launcher ready in {time.monotonic() - started:.2f} s\n")
        yield Launcher(json.loads(first["line"]))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _config(row: Dict[str, Any], launcher: Launcher, secret_file: Optional[Path]) -> Dict[str, Any]:
    """A row's tokenwell config for the launcher (see clients.json's description)."""
    config = dict(row["config"])
    if row["discovery"]:
        config["issuer"] = launcher.issuer
    else:
        config["token_url"] = launcher.token_endpoint
    for key in ("private_key_file", "certificate_file"):
        if isinstance(config.get(key), str):
            config[key] = str(OIDC / "keys" / config[key])
    if secret_file is not None:
        config["client_secret_file"] = str(secret_file)
    return config


def _replace_file(path: Path, text: str) -> None:
    """Replaces the content at once (a new file renamed over it), as a Kubernetes
    secret volume does."""
    tmp = path.with_suffix(".new")
    tmp.write_text(text)
    os.replace(tmp, path)


def _expect_honoured(row: Dict[str, Any], launcher: Launcher, token: AccessToken) -> None:
    expect = row["expect"]
    if "token_type" in expect:
        assert token.token_type.lower() == expect["token_type"].lower()
    info = launcher.introspect(token.access_token)
    assert info.get("active") == expect["active"], "introspection: active"
    assert info.get("client_id") == row["config"]["client_id"], "introspection: client_id"
    if "scope" in expect:
        assert info.get("scope") == expect["scope"], "introspection: scope"


@pytest.mark.parametrize("row", TABLE["rows"], ids=[r["name"] for r in TABLE["rows"]])
def test_tokenwell_against_oidc_provider(row: Dict[str, Any], launcher: Launcher) -> None:
    if row["feature"] in PENDING:
        pytest.skip(f"feature {row['feature']} is pending (tests/oidc/pending.json)")
    client_id = row["config"]["client_id"]
    rotate = row.get("rotate")
    with tempfile.TemporaryDirectory(prefix="tokenwell-oidc-") as scratch:
        secret_file = None
        if rotate:
            secret_file = Path(scratch) / f"{client_id}.secret"
            _replace_file(secret_file, rotate["secrets"][0])
            launcher.set_secret(client_id, rotate["secrets"][0])
        client = TokenClient.from_config(_config(row, launcher, secret_file))
        first = client.token()
        _expect_honoured(row, launcher, first)
        if rotate:
            assert secret_file is not None
            launcher.set_secret(client_id, rotate["secrets"][1])
            client.invalidate(first)
            with pytest.raises(TokenwellError) as stale:
                client.token()
            assert stale.value.code == rotate["stale"]
            _replace_file(secret_file, rotate["secrets"][1])
            time.sleep(0.05)  # the row's backoff is 1 ms: past it, the next call fetches again
        else:
            assert client.invalidate(first), "invalidate dropped the token"
        second = client.token()
        _expect_honoured(row, launcher, second)
        same = second.access_token == first.access_token  # a bool: a failure never prints a token
        assert not same, "a second, different token"
