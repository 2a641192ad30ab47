"""The core's log records reach Python's ``logging``, and the
generated native handles refuse copy and pickle instead of double-freeing."""

from __future__ import annotations

import copy
import logging
import pickle
import subprocess
import sys
import textwrap
from typing import Any, List

import pytest

import tokenwell
from tokenwell import TokenClient

SECRET = "log-secret-7d3a91"


def _core_records(caplog: pytest.LogCaptureFixture) -> List[logging.LogRecord]:
    """The records forwarded from the Rust core (the wrapper's own have no rust_target)."""
    return [r for r in caplog.records if r.name == "tokenwell" and hasattr(r, "rust_target")]


def test_a_failed_fetch_logs_a_warning_with_the_code_and_no_secret(mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tokenwell")
    mock.script(
        [
            {
                "status": 401,
                "headers": {"content-type": "application/json"},
                "json": {"error": "invalid_client", "error_description": f"secret {SECRET} is wrong"},
            }
        ]
    )
    client = TokenClient.from_config(mock.deliveroo(client_secret=SECRET))
    with pytest.raises(tokenwell.InvalidClientError):
        client.token()
    records = _core_records(caplog)
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in records]
    text = warnings[0].getMessage()
    assert "token fetch failed" in text and "invalid_client" in text and "HTTP 401" in text
    assert warnings[0].rust_target.startswith("tokenwell")  # type: ignore[attr-defined]
    assert all(r.levelno >= logging.WARNING for r in records), "DEBUG is not enabled: nothing below WARNING crossed"
    for r in caplog.records:
        assert SECRET not in r.getMessage()
    assert SECRET not in caplog.text


def test_debug_records_arrive_when_enabled_and_none_on_a_hit(mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tokenwell")
    mock.script([mock.token_response("log-tok-1")])
    client = TokenClient.from_config(mock.deliveroo())  # reads the logger's level
    assert client.token().access_token == "log-tok-1"
    debug = [r for r in _core_records(caplog) if r.levelno == logging.DEBUG]
    assert any("requesting a token" in r.getMessage() for r in debug), [r.getMessage() for r in debug]
    assert all("log-tok-1" not in r.getMessage() for r in caplog.records)

    # Cache hits, through the memo and through the core: no record from the core.
    caplog.clear()
    for _ in range(50):
        client.token()
        client._core.lease_blocking()
    assert _core_records(caplog) == []


def test_a_raising_handler_never_breaks_a_fetch(mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    # Only the core's records (those with rust_target) make them fail: the
    # wrapper's own records are Python calls, outside this guarantee.
    class Boom(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if hasattr(record, "rust_target"):
                raise RuntimeError("handler failed")

        def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
            raise RuntimeError("handleError failed too")

    seen: List[str] = []

    class Raising(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if hasattr(record, "rust_target"):
                seen.append(record.levelname)
                raise RuntimeError("filter failed")
            return True

    logger = logging.getLogger("tokenwell")
    handler, filt = Boom(), Raising()
    logger.addHandler(handler)
    logger.addFilter(filt)
    caplog.set_level(logging.DEBUG, logger="tokenwell")
    try:
        mock.script([{"status": 500, "json": {"error": "server_error"}}, mock.token_response("after-boom")])
        client = TokenClient.from_config(mock.deliveroo(policy={"backoff_initial_ms": 1, "backoff_max_ms": 1}))
        with pytest.raises(tokenwell.ServerError):
            client.token()
        import time

        time.sleep(0.05)
        assert client.token().access_token == "after-boom"
        assert "WARNING" in seen and "DEBUG" in seen, seen
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(filt)


def test_a_sink_that_raises_past_the_wrapper_never_breaks_a_fetch(mock: Any) -> None:
    """The core catches a failing foreign callback (a uniffi panic) and drops the record."""
    from tokenwell import _logging
    from tokenwell._ffi import tokenwell as gen

    calls: List[str] = []

    class Raising(gen.LogSink):  # type: ignore[misc]
        def log(self, level: str, target: str, message: str) -> None:
            calls.append(level)
            raise RuntimeError("sink failed")  # uniffi turns it into a panic in Rust

    gen.set_log_sink(Raising(), "debug")
    try:
        mock.script([{"status": 500, "json": {"error": "server_error"}}])
        client = TokenClient.from_config(mock.deliveroo())
        with pytest.raises(tokenwell.ServerError):
            client.token()
        assert "WARN" in calls
    finally:
        _logging.install()


# -- the generated handles refuse copy and pickle ----------------------------------


def test_generated_handles_refuse_copy_and_pickle(mock: Any) -> None:
    mock.script([mock.token_response("guard-1")])
    store = tokenwell.MemoryStore()
    clock = tokenwell.ManualClock()
    client = TokenClient.from_config(mock.deliveroo(), store=store)
    for handle in (client._core, store._core, clock._core):
        with pytest.raises(TypeError, match="cannot be copied or pickled"):
            copy.copy(handle)
        with pytest.raises(TypeError, match="cannot be copied or pickled"):
            copy.deepcopy(handle)
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with pytest.raises(TypeError, match="cannot be copied or pickled"):
                pickle.dumps(handle, protocol=protocol)
    assert client.token().access_token == "guard-1"  # the handles still work


def test_copying_a_handle_does_not_abort_the_process() -> None:
    # A copy that shared the native handle would free it a second time on drop: abort.
    # In a child process, so an abort shows as a signal instead of killing pytest.
    script = textwrap.dedent(
        """
        import copy, gc, pickle
        import tokenwell
        client = tokenwell.TokenClient("deliveroo", environment="sandbox", client_id="a", client_secret="b")
        store, clock = tokenwell.MemoryStore(), tokenwell.ManualClock()
        refused = 0
        for handle in (client._core, store._core, clock._core):
            for attempt in (copy.copy, copy.deepcopy, pickle.dumps, lambda h: pickle.loads(pickle.dumps(h))):
                try:
                    attempt(handle)
                except TypeError:
                    refused += 1
        del client, store, clock
        gc.collect()
        print("refused", refused)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip() == "refused 12"
