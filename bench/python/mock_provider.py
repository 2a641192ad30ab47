"""The `tokenwell mock` provider as a child process, for the Python benches
(bench/python/bench.py, bench/cold/python.py)."""

from __future__ import annotations

import re
import subprocess
from typing import Tuple


def start_mock(binary: str) -> Tuple[subprocess.Popen, str]:
    """Starts `binary mock` on a free port; the process and its base URL."""
    proc = subprocess.Popen([binary, "mock", "--port", "0"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.fullmatch(r"tokenwell mock listening on (http://127\.0\.0\.1:\d+)\n?", line)
    if not match:
        proc.kill()
        raise SystemExit(f"bench: unexpected line from the mock: {line!r}")
    return proc, match.group(1)
