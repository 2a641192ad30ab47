"""Discovery from Python: ``issuer=`` instead of ``token_url=``, against the
mock's metadata (both well-known forms and its failure devices)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from tokenwell import ConfigError, ServerError, TokenClient


def _admin(mock: Any) -> Dict[str, Any]:
    return mock._call("GET", "/__admin/requests")  # type: ignore[no-any-return]


def _client(mock: Any, device: str, credentials: str = "basic", **extra: Any) -> TokenClient:
    return TokenClient(
        "custom",
        issuer=f"{mock.url}/{device}",
        credentials=credentials,
        client_id="py-client",
        client_secret="Zq81pX0v7w",
        **extra,
    )


def test_the_token_endpoint_comes_from_the_issuers_metadata(mock: Any) -> None:
    client = _client(mock, "discovery/rfc8414", discovery_ttl_secs=3600)
    assert client.token().access_token
    admin = _admin(mock)
    paths: List[str] = admin["metadata"]
    # A 404 at the OpenID Connect path, then the RFC 8414 path; once.
    assert paths == [
        "/discovery/rfc8414/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/discovery/rfc8414",
    ]
    assert [r["path"] for r in admin["requests"]] == ["/custom/token"]


def test_a_foreign_issuer_or_an_unlisted_method_is_a_config_error(mock: Any) -> None:
    with pytest.raises(ConfigError, match="must be equal"):
        _client(mock, "discovery/foreign").token()
    with pytest.raises(ConfigError, match=r"client_secret_basic is not among .*\[client_secret_post\]"):
        _client(mock, "discovery/post-only").token()


def test_a_metadata_endpoint_down_is_a_server_error(mock: Any) -> None:
    with pytest.raises(ServerError) as caught:
        _client(mock, "discovery/down").token()
    assert caught.value.status == 500


def test_issuer_and_token_url_exclude_each_other() -> None:
    with pytest.raises(ConfigError, match="issuer and token_url"):
        TokenClient("custom", issuer="https://id.example/realms/a", token_url="https://id.example/t",
                    client_id="i", client_secret="s")
    with pytest.raises(ConfigError, match="discovery_ttl_secs"):
        TokenClient("custom", issuer="https://id.example/realms/a", discovery_ttl_secs=0,
                    client_id="i", client_secret="s")
