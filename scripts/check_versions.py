"""One version for every package: Cargo.toml's [package] version is the source.

The wheel takes it from Cargo.toml through maturin (pyproject.toml declares the
version dynamic); the pom, js/package.json and CHANGELOG.md state it and must
agree. Run by `make test` (test-versions); also checks the artifacts in the
folders given as arguments (e.g. dist/): every file name that carries a version
must carry this one. Exits non-zero on the first disagreement, naming it.
"""

import json
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
problems = []

version = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]

pyproject = tomllib.loads((ROOT / "bindings/python/pyproject.toml").read_text())["project"]
if "version" in pyproject or "version" not in pyproject.get("dynamic", []):
    problems.append("bindings/python/pyproject.toml must take the version dynamically (from Cargo.toml)")

pom = ET.parse(ROOT / "bindings/kotlin/pom.xml").getroot()
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
pom_version = pom.findtext("m:version", namespaces=ns)
if pom_version != version:
    problems.append(f"bindings/kotlin/pom.xml has {pom_version}")

js_version = json.loads((ROOT / "js/package.json").read_text())["version"]
if js_version != version:
    problems.append(f"js/package.json has {js_version}")

changelog = (ROOT / "CHANGELOG.md").read_text()
if not re.search(rf"^## \[?{re.escape(version)}\]?", changelog, re.M):
    problems.append(f"CHANGELOG.md has no '## {version}' section")

# Built artifacts: tokenwell-VERSION[-.]... (wheels, sdist, jars, crate, npm tarball).
for folder in sys.argv[1:]:
    for path in sorted(Path(folder).iterdir()):
        m = re.match(r"tokenwell[-_](\d+\.\d+\.\d+[^-_]*?)(?:[-_]|\.tar\.gz|\.tgz|\.crate|\.jar)", path.name)
        if m and m.group(1) != version:
            problems.append(f"{path} is version {m.group(1)}")
        elif not m and path.suffix in {".whl", ".gz", ".jar", ".crate", ".tgz"}:
            problems.append(f"{path}: no version in the name")

if problems:
    sys.exit(f"versions disagree with Cargo.toml's {version}:\n  " + "\n  ".join(problems))
print(f"versions: {version} everywhere (Cargo.toml, pyproject via maturin, pom.xml, js/package.json, CHANGELOG.md"
      + (", " + ", ".join(sys.argv[1:]) if sys.argv[1:] else "") + ")")
