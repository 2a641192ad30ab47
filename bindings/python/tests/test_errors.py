"""The exception classes agree with the core's error table (``error_kinds()``),
both ways: every code of the core has a class with its flags, every class is
the class of a code of the core, and every one is exported."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import tokenwell
from tokenwell import TokenClient, TokenwellError
from tokenwell import _errors
from tokenwell._ffi import tokenwell as generated

TABLE: Any = generated.error_kinds()


def _failure(kind: Any, **fields: Any) -> BaseException:
    args = {"status": 418, "retry_after_ms": 1500, "detail": "what happened", "summary": "the summary"}
    args.update(fields)
    return generated.TokenwellError.Failure(kind=kind, **args)  # type: ignore[no-any-return]


def test_the_core_exports_a_table_of_every_kind() -> None:
    assert TABLE, "the core's table is empty"
    codes = [row.code for row in TABLE]
    assert len(set(codes)) == len(codes)
    assert {row.kind for row in TABLE} == set(generated.ErrorKind)


@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.code)
def test_every_code_of_the_core_has_a_class_with_its_flags(row: Any) -> None:
    cls = _errors.ERROR_CLASSES.get(row.code)
    assert cls is not None, f"no exception class for the core's code {row.code!r}"
    err = _errors.from_core(_failure(row.kind))
    assert type(err) is cls
    assert (err.code, err.status, err.retry_after_ms, err.detail, str(err)) == (
        row.code,
        418,
        1500,
        "what happened",
        "the summary",
    )
    assert err.is_credential_error is row.is_credential_error
    assert err.is_retryable is row.is_retryable
    # A class built by hand reads the same flags.
    assert cls("x").is_credential_error is row.is_credential_error
    assert cls("x").is_retryable is row.is_retryable
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is cls and str(copy) == "the summary" and copy.detail == "what happened"


def test_every_class_is_the_class_of_a_code_of_the_core() -> None:
    core_codes = {row.code for row in TABLE}
    subclasses = set(TokenwellError.__subclasses__())
    assert set(_errors.ERROR_CLASSES.values()) == subclasses
    assert set(_errors.ERROR_CLASSES) == core_codes, "classes without a code of the core, or codes without a class"
    for cls in subclasses:
        assert cls.__name__ in tokenwell.__all__ and getattr(tokenwell, cls.__name__) is cls
    assert "TokenwellError" in tokenwell.__all__


def test_a_kind_without_a_class_still_gets_its_code_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    row = next(r for r in TABLE if r.is_retryable)
    monkeypatch.delitem(_errors.ERROR_CLASSES, row.code)
    err = _errors.from_core(_failure(row.kind))
    assert type(err) is TokenwellError
    assert err.code == row.code and err.is_retryable


def test_errors_from_a_client_carry_the_flags(mock: Any) -> None:
    with pytest.raises(tokenwell.ConfigError) as config:
        TokenClient("deliveroo", environment="moon", client_id="a", client_secret="b")
    assert config.value.is_credential_error and not config.value.is_retryable
    assert str(config.value).startswith("config: ") and config.value.detail in str(config.value)

    mock.script(
        [
            {"status": 503, "json": {"error": "temporarily_unavailable"}},
        ]
    )
    client = TokenClient.from_config(mock.deliveroo())
    with pytest.raises(tokenwell.ServerError) as server:
        client.token()
    assert server.value.is_retryable and not server.value.is_credential_error
    assert server.value.status == 503
