"""What ``import tokenwell`` loads: a sync user never pays for asyncio
or importlib.metadata.

The generated uniffi module imports asyncio at its top; the crate's
uniffi-bindgen (src/bin/uniffi-bindgen.rs, which maturin runs) rewrites that
import into a stand-in that imports asyncio on first use. These tests fail when
that step stops applying (asyncio is loaded by the import again), or when the
wrappers grow an eager import of either. Timings are the bench's (bench/cold);
here only the import graph, in fresh interpreters.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import tokenwell

ROOT = Path(__file__).resolve().parents[3]

# Modules `import tokenwell` and a sync token() must not load.
HEAVY = ("asyncio", "concurrent.futures", "importlib.metadata")


def _child(body: str) -> Dict[str, Any]:
    """Runs ``body`` in a fresh interpreter; it leaves its facts in ``facts``."""
    code = "import json, sys\nfacts = {}\n" + body + "\nprint(json.dumps(facts))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def _heavy(modules: List[str]) -> List[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_import_loads_neither_asyncio_nor_importlib_metadata() -> None:
    facts = _child(
        "before = set(sys.modules)\n"
        "import tokenwell\n"
        "facts['loaded'] = sorted(set(sys.modules) - before)\n"
    )
    assert "tokenwell._ffi.tokenwell" in facts["loaded"], "the generated module is part of the import"
    assert _heavy(facts["loaded"]) == [], (
        "import tokenwell loads these again; if asyncio is among them, the lazy-asyncio step "
        "of src/bin/uniffi-bindgen.rs no longer applies to the generated module"
    )


def test_sync_token_loads_no_asyncio_and_async_still_works(mock: Any) -> None:
    config = json.dumps(mock.deliveroo())
    facts = _child(
        "before = set(sys.modules)\n"
        "import tokenwell\n"
        f"client = tokenwell.TokenClient.from_config(json.loads({config!r}))\n"
        "facts['sync'] = client.authorization_header().startswith('Bearer ')\n"
        "facts['loaded'] = sorted(set(sys.modules) - before)\n"
        # The first async call imports asyncio through the stand-in, then uses it.
        "import asyncio\n"
        "token = asyncio.run(client.token_async())\n"
        "facts['async'] = token.authorization_header.startswith('Bearer ')\n"
        "from tokenwell._ffi import tokenwell as generated\n"
        "facts['rebound'] = generated.asyncio is asyncio\n"
    )
    assert facts["sync"] and facts["async"]
    assert _heavy(facts["loaded"]) == [], "a sync token() loaded these"
    assert facts["rebound"], "after its first use, the generated module's asyncio is the real one"


def test_version_is_cargo_tomls() -> None:
    from importlib.metadata import version

    cargo = (ROOT / "Cargo.toml").read_text()
    package = cargo[cargo.index("[package]") :]
    expected = re.search(r'^version\s*=\s*"([^"]+)"', package, re.M)
    assert expected is not None
    assert tokenwell.__version__ == version("tokenwell") == expected.group(1)
    assert "__version__" in dir(tokenwell), "read once, then an ordinary attribute"
