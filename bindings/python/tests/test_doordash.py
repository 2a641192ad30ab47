"""provider="doordash" through the Python package: the JWT the core mints is
the one PyJWT (an independent implementation) signs for the same header and
claims, the mock's DoorDash API route accepts it, and a 401 followed by
``invalidate`` mints a new one without any token request."""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List

import jwt
import pytest

import tokenwell
from tokenwell import Event, ManualClock, MemoryStore, TokenClient

from .test_events import wait_for

# The mock's DoorDash developer when it runs without client credentials
# (src/mock/doordash.rs).
DEVELOPER_ID = "tokenwell-mock-developer"
KEY_ID = "tokenwell-mock-key"
SIGNING_SECRET = "dG9rZW53ZWxsLW1vY2stZG9vcmRhc2gtc2lnbmluZy1zZWNyZXQ"


def config(**extra: Any) -> Dict[str, Any]:
    return {
        "provider": "doordash",
        "developer_id": DEVELOPER_ID,
        "key_id": KEY_ID,
        "signing_secret": SIGNING_SECRET,
        **extra,
    }


def decoded_secret() -> bytes:
    return base64.urlsafe_b64decode(SIGNING_SECRET + "=" * (-len(SIGNING_SECRET) % 4))


def test_the_minted_jwt_is_the_one_pyjwt_signs() -> None:
    before = int(time.time())
    token = TokenClient.from_config(config(assertion={"lifetime_secs": 900})).token()
    claims = jwt.decode(
        token.access_token, decoded_secret(), algorithms=["HS256"], audience="doordash", issuer=DEVELOPER_ID
    )
    assert claims["kid"] == KEY_ID
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 900
    header = jwt.get_unverified_header(token.access_token)
    assert header == {"typ": "JWT", "alg": "HS256", "dd-ver": "DD-JWT-V1", "kid": KEY_ID}
    # Byte for byte: PyJWT's JWS of the same header and claims, in the same order.
    expected = jwt.encode(
        {"aud": "doordash", "iss": DEVELOPER_ID, "kid": KEY_ID, "exp": claims["exp"], "iat": claims["iat"]},
        decoded_secret(),
        algorithm="HS256",
        headers={"dd-ver": "DD-JWT-V1", "kid": KEY_ID},
        sort_headers=False,
    )
    assert token.access_token == expected
    assert token.token_type == "Bearer"


def call(mock: Any, token: str) -> int:
    req = urllib.request.Request(f"{mock.url}/doordash/drive/v2/deliveries/py-1", headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_the_mock_accepts_it_and_a_401_then_invalidate_mints_a_new_one(mock: Any) -> None:
    seen: List[Event] = []
    client = TokenClient.from_config(config(), clock=ManualClock(), store=MemoryStore(), on_event=seen.append)
    token = client.token()
    assert call(mock, token.access_token) == 200
    mock._call("POST", "/__admin/doordash", {"reject_next": 1})
    assert call(mock, token.access_token) == 401
    assert client.invalidate(token)
    fresh = client.token()
    assert call(mock, fresh.access_token) == 200
    wait_for(lambda: [e.name for e in seen if e.name == "fetched"] == ["fetched", "fetched"])
    fetched = [e for e in seen if e.name == "fetched"]
    assert all(e.status is None and e.from_store is False and e.lifetime_ms == 1_799_000 for e in fetched)
    assert mock.count() == 0  # no token request, ever
    assert client.status().store_breaker is None  # never shared through the store


def test_bad_input_names_the_key_never_the_secret() -> None:
    bad = "not*base64url*secret"
    for overrides, key in [
        ({"signing_secret": bad}, "signing_secret"),
        ({"assertion": {"lifetime_secs": 1801}}, "assertion.lifetime_secs"),
        ({"developer_id": None}, "developer_id"),
    ]:
        with pytest.raises(tokenwell.ConfigError) as err:
            TokenClient.from_config(config(**overrides))
        assert key in str(err.value) and bad not in str(err.value)
    client = TokenClient.from_config(config())
    assert SIGNING_SECRET not in repr(client)
