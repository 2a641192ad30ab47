"""Client assertions (private_key_jwt, client_secret_jwt) through the Python
package: the mock's /assertion/token route verifies what the core signed, and
``cryptography`` verifies the recorded assertion's signature independently."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any, Dict, List, Tuple

import pytest

import tokenwell
from tokenwell import TokenClient

from .conftest import REPO

KEYS = REPO / "tests" / "oidc" / "keys"
HS256_SECRET = "tokenwell-mock-hs256-secret"


def key(name: str) -> str:
    return (KEYS / name).read_text()


def config(mock: Any, **extra: Any) -> Dict[str, Any]:
    return {
        "provider": "custom",
        "token_url": f"{mock.url}/assertion/token",
        "client_id": "assertion-client",
        "encoding": "form",
        **extra,
    }


def b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def recorded(mock: Any) -> Tuple[Dict[str, Any], Dict[str, Any], bytes, bytes]:
    requests: List[Dict[str, Any]] = mock.requests()
    assert len(requests) == 1
    body = dict(urllib.parse.parse_qsl(requests[0]["body"]))
    assert body["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert body["client_id"] == "assertion-client" and "client_secret" not in body
    assert "authorization" not in requests[0]["headers"]
    h, c, s = body["client_assertion"].split(".")
    return json.loads(b64(h)), json.loads(b64(c)), f"{h}.{c}".encode(), b64(s)


def verify(alg: str, public_pem: str, data: bytes, signature: bytes) -> None:
    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

    public: Any = serialization.load_pem_public_key(public_pem.encode())
    if alg == "RS256":
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        public.verify(signature, data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    else:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        public.verify(utils.encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize(
    "alg,extra,public",
    [
        ("RS256", {"private_key": key("rsa2048.pk8.pem")}, "rsa2048.pub.pem"),
        ("PS256", {"private_key_file": str(KEYS / "rsa2048.pk8.pem"), "assertion": {"algorithm": "PS256"}}, "rsa2048.pub.pem"),
        ("ES256", {"private_key": key("ec256.pk8.pem"), "key_id": "kid-1"}, "ec256.pub.pem"),
    ],
)
def test_private_key_jwt_is_accepted_and_verifies(mock: Any, alg: str, extra: Dict[str, Any], public: str) -> None:
    client = TokenClient.from_config(config(mock, credentials="private_key_jwt", **extra))
    before = int(time.time())
    client.token()
    header, claims, data, signature = recorded(mock)
    want = {"alg": alg, "typ": "JWT"}
    if "key_id" in extra:
        want["kid"] = extra["key_id"]
    assert header == want
    assert list(claims) == ["iss", "sub", "aud", "jti", "iat", "exp"]
    assert claims["iss"] == claims["sub"] == "assertion-client"
    assert claims["aud"] == f"{mock.url}/assertion/token"
    assert before - 1 <= claims["iat"] <= before + 5 and claims["exp"] - claims["iat"] == 60
    verify(alg, key(public), data, signature)
    if alg != "ES256":
        with pytest.raises(Exception):
            verify(alg, key("rsa2048-other.pub.pem"), data, signature)


def test_client_secret_jwt_is_hs256_keyed_by_the_secret(mock: Any) -> None:
    client = TokenClient.from_config(config(mock, credentials="client_secret_jwt", client_secret=HS256_SECRET))
    client.token()
    header, _, data, signature = recorded(mock)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert signature == hmac.new(HS256_SECRET.encode(), data, hashlib.sha256).digest()
    assert HS256_SECRET not in mock.requests()[0]["body"]


def test_a_key_the_server_does_not_know_is_invalid_client(mock: Any) -> None:
    client = TokenClient.from_config(config(mock, credentials="private_key_jwt", private_key=key("rsa2048-other.pk8.pem")))
    with pytest.raises(tokenwell.InvalidClientError):
        client.token()


@pytest.mark.parametrize(
    "name", ["bad-rsa2048.pkcs1.pem", "bad-ec256.sec1.pem", "bad-rsa2048.encrypted.pk8.pem", "bad-rsa1024.pk8.pem", "bad-ec384.pk8.pem", "bad-ed25519.pk8.pem"]
)
def test_refused_key_forms_name_openssl_and_never_the_key(mock: Any, name: str) -> None:
    pem = key(name)
    with pytest.raises(tokenwell.ConfigError) as err:
        TokenClient.from_config(config(mock, credentials="private_key_jwt", private_key=pem))
    assert "openssl pkcs8" in str(err.value) or "openssl genpkey" in str(err.value)
    body = next(line for line in pem.splitlines() if line and not line.startswith("-----"))
    assert body[:40] not in str(err.value) and body[:40] not in repr(err.value)


def test_the_private_key_never_shows(mock: Any) -> None:
    pem = key("ec256.pk8.pem")
    client = TokenClient.from_config(config(mock, credentials="private_key_jwt", private_key=pem))
    body = next(line for line in pem.splitlines() if line and not line.startswith("-----"))
    for text in (repr(client), str(client)):
        assert body[:40] not in text


def test_a_credential_provider_gives_the_private_key_and_rotates_it(mock: Any) -> None:
    with pytest.raises(tokenwell.ConfigError, match=r"assertion\.algorithm"):
        TokenClient.from_config(config(mock, credentials="private_key_jwt"), credential_provider=lambda: key("rsa2048.pk8.pem"))
    current: Dict[str, Any] = {"pem": None}

    def provider() -> str:
        if current["pem"] is None:
            raise RuntimeError("vault sealed")
        return str(current["pem"])

    client = TokenClient.from_config(
        config(mock, credentials="private_key_jwt", assertion={"algorithm": "RS256"}, policy={"backoff_initial_ms": 20, "backoff_max_ms": 20}),
        credential_provider=provider,
    )
    with pytest.raises(tokenwell.ConfigError, match="no private key yet"):
        client.token()
    current["pem"] = key("rsa2048.pk8.pem")
    time.sleep(0.05)  # past the backoff
    first = client.token()
    header, _, data, signature = recorded(mock)
    assert header == {"alg": "RS256", "typ": "JWT"}
    verify("RS256", key("rsa2048.pub.pem"), data, signature)

    # A key the server does not know: a new client, refused; the known one again works.
    current["pem"] = key("rsa2048-other.pk8.pem")
    client.invalidate(first)
    with pytest.raises(tokenwell.InvalidClientError) as err:
        client.token()
    assert "PRIVATE KEY" not in str(err.value)
    current["pem"] = key("rsa2048.pk8.pem")
    time.sleep(0.05)
    assert client.token().access_token != first.access_token
