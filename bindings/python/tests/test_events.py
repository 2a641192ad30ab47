"""on_event, status() and lookups(): the event type against the core's table,
callbacks off the fetch path (raising, re-entrant, blocked), and the exit."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import textwrap
import threading
import time
import typing
from typing import Any, Callable, List

import pytest

import tokenwell
from tokenwell import Event, ManualClock, Status, TokenClient
from tokenwell import _events


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the events")
        time.sleep(0.01)


def test_the_event_type_matches_the_cores_table() -> None:
    table = dict(_events.event_kinds())
    assert set(typing.get_args(tokenwell._events.EventName)) == set(table)
    fields = {f.name for f in dataclasses.fields(Event)} - {"name", "at_unix_ms"}
    assert fields == {f for row in table.values() for f in row}


def test_delivered_events_carry_their_rows_fields(mock: Any) -> None:
    mock.script([mock.token_response("ev-1"), {"status": 503, "json": {"error": "temporarily_unavailable"}}])
    seen: List[Event] = []
    client = TokenClient.from_config(mock.deliveroo(), on_event=seen.append)
    client.token()
    client.invalidate(client.token())
    with pytest.raises(tokenwell.TokenwellError):
        client.token()
    wait_for(lambda: [e.name for e in seen] == ["fetch_started", "fetched", "fetch_started", "fetch_failed"])
    table = dict(_events.event_kinds())
    for event in seen:
        present = {f.name for f in dataclasses.fields(event) if getattr(event, f.name) is not None}
        assert present - {"name", "at_unix_ms"} <= set(table[event.name]), event
    fetched, failed = seen[1], seen[3]
    assert (fetched.reason, fetched.status, fetched.from_store) == ("first", 200, False)
    assert fetched.lifetime_ms is not None and fetched.latency_ms is not None
    # A failure's status is its error's (the row has no `status`).
    assert failed.error is not None and failed.error.status == 503 and failed.status is None
    assert seen[0].fetch_id == fetched.fetch_id != failed.fetch_id


def test_status_and_name(mock: Any) -> None:
    mock.script([mock.token_response("st-1", expires_in=300)])
    client = TokenClient.from_config(mock.deliveroo(name="billing"))
    assert client.name == "billing"
    assert TokenClient.from_config(mock.deliveroo()).name == "deliveroo"
    idle = client.status()
    assert isinstance(idle, Status)
    assert (idle.health, idle.healthy, idle.token_usable) == ("idle", True, False)
    client.token()
    up = client.status()
    assert (up.health, up.healthy, up.token_usable, up.last_error) == ("up", True, True, None)
    assert up.token_expires_in_ms is not None and 290_000 < up.token_expires_in_ms <= 300_000
    with pytest.raises(dataclasses.FrozenInstanceError):
        up.healthy = False  # type: ignore[misc]


def test_status_down_only_without_a_usable_token(mock: Any) -> None:
    mock.script([{"status": 503, "json": {"error": "temporarily_unavailable"}}])
    client = TokenClient.from_config(mock.deliveroo())
    with pytest.raises(tokenwell.TokenwellError):
        client.token()
    down = client.status()
    assert (down.health, down.healthy, down.token_usable) == ("down", False, False)
    assert down.last_error is not None and down.last_error.status == 503
    assert down.last_error_at_unix_ms is not None


def test_memo_hits_are_counted_with_on_event_only(mock: Any) -> None:
    mock.script([mock.token_response("lk-1")])
    clock = ManualClock()
    client = TokenClient.from_config(mock.deliveroo(), clock=clock, on_event=lambda e: None)
    for _ in range(1000):
        client.authorization_header()
    counts = client.lookups()
    assert counts.misses == 1
    assert counts.hits >= 999, counts
    plain = TokenClient.from_config(mock.deliveroo(), clock=clock)
    plain.token()
    plain.token()
    assert plain.lookups() == tokenwell.Lookups(0, 0, 0, 0)


def test_a_raising_callback_is_logged_once_by_class(mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    mock.script([mock.token_response("rs-1"), mock.token_response("rs-2")])
    calls: List[str] = []

    def callback(event: Event) -> None:
        calls.append(event.name)
        raise ValueError("secret-canary-in-a-message")

    with caplog.at_level(logging.WARNING, logger="tokenwell"):
        client = TokenClient.from_config(mock.deliveroo(), on_event=callback)
        first = client.token()
        client.invalidate(first)
        assert client.token().access_token == "rs-2"
        wait_for(lambda: len(calls) == 4)
    records = [r for r in caplog.records if "on_event" in r.getMessage()]
    assert len(records) == 1
    assert "ValueError" in records[0].getMessage()
    assert "secret-canary" not in caplog.text


def test_the_core_never_calls_into_python_from_a_thread_of_its_own(
    mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python's own threads take the events: a thread Python did not start,
    waiting for the GIL while the interpreter finalises, aborts the process."""
    called_by_core: List[str] = []
    monkeypatch.setattr(
        _events.Listener, "on_event", lambda self, event: called_by_core.append(threading.current_thread().name)
    )
    mock.script([mock.token_response("pull-1")])
    threads: List[str] = []
    client = TokenClient.from_config(mock.deliveroo(), on_event=lambda e: threads.append(threading.current_thread().name))
    client.token()
    wait_for(lambda: len(threads) >= 2)
    assert called_by_core == []
    assert set(threads) == {"tokenwell-callbacks"}, threads


def test_token_from_inside_a_callback(mock: Any) -> None:
    mock.script([mock.token_response("in-1")])
    got: List[str] = []
    box: List[TokenClient] = []

    def callback(event: Event) -> None:
        if event.name == "fetched":
            got.append(box[0].token().access_token)

    client = TokenClient.from_config(mock.deliveroo(), on_event=callback)
    box.append(client)
    client.token()
    wait_for(lambda: got == ["in-1"])


def test_a_blocked_callback_never_slows_fetches_and_drops_are_counted(
    mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_events, "QUEUE_CAPACITY", 2)
    mock.script([mock.token_response("bl-1"), mock.token_response("bl-2")])
    gate = threading.Event()
    entered = threading.Event()

    def callback(event: Event) -> None:
        entered.set()
        gate.wait(10)

    clock = ManualClock()
    client = TokenClient.from_config(mock.deliveroo(), clock=clock, on_event=callback)
    try:
        started = time.monotonic()
        assert client.token().access_token == "bl-1"
        assert entered.wait(5), "the callback runs"
        clock.advance(240_000)  # refresh ahead, while the callback is stuck
        assert client.token().access_token == "bl-1"
        client.settle()
        assert client.token().access_token == "bl-2"
        for _ in range(5):
            client.invalidate(client.token())  # each: a fetch (the mock's default token) and its events
        assert time.monotonic() - started < 3, "fetches wait for no callback"
        assert client.lookups().dropped > 0
    finally:
        gate.set()


EXIT_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from tokenwell import TokenClient

    entered = threading.Event()

    def callback(event):
        entered.set()
        if sys.argv[2] == "blocked":
            time.sleep(30)
        else:                              # running Python code
            end = time.monotonic() + 30
            while time.monotonic() < end:
                pass

    client = TokenClient("custom", token_url=sys.argv[1], client_id="a", client_secret="b",
                         on_event=callback)
    other = TokenClient("custom", token_url=sys.argv[1], client_id="c", client_secret="d",
                        on_event=callback)
    client.token()
    entered.wait(10)
    for _ in range(50):                     # events pending
        client.invalidate(client.token())
        other.invalidate(other.token())
    sys.exit(0)
    """
)


def test_the_process_exits_cleanly_with_a_callback_running_and_events_pending(mock: Any) -> None:
    url = f"{mock.url}/custom/token"
    for mode in ("blocked", "running", "blocked", "running", "blocked"):
        done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, url, mode], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
