"""One token from the mock provider through an installed tokenwell package.

Stdlib only, so it runs in any interpreter (a fresh venv from the sdist, an
arm64 CPython under qemu). Usage: python smoke_token.py MOCK_URL [SITE_DIR]
Exits non-zero unless the token is the one the mock issued, in one request.
"""

import json
import platform
import sys
import urllib.request

url = sys.argv[1]
if len(sys.argv) > 2:
    sys.path.insert(0, sys.argv[2])

import tokenwell  # noqa: E402


def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw.strip() else None


admin("POST", "/__admin/reset", {})
admin("POST", "/__admin/script", {"responses": [{
    "status": 200,
    "headers": {"content-type": "application/json"},
    "json": {"access_token": "smoke-1", "token_type": "Bearer", "expires_in": 300},
}]})
client = tokenwell.TokenClient(
    "deliveroo",
    environment="sandbox",
    client_id="smoke-client",
    client_secret="smoke-secret-0001",
    base_url=url + "/deliveroo",
)
header = client.authorization_header()
assert header == "Bearer smoke-1", "unexpected header"
assert client.authorization_header() == header
count = admin("GET", "/__admin/requests")["count"]
assert count == 1, f"{count} requests, expected 1"
print(f"smoke: tokenwell {tokenwell.__version__} on {platform.machine()} "
      f"({sys.implementation.name} {platform.python_version()}): token fetched, 1 request")
