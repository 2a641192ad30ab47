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

# Every Maven pom: the core jar's, the reactor's, the Spring starters' (and their parent).
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
poms = [ROOT / "bindings/kotlin/pom.xml", ROOT / "bindings/kotlin/reactor/pom.xml", ROOT / "bindings/kotlin/spring/pom.xml",
        *sorted((ROOT / "bindings/kotlin/spring").glob("boot*/pom.xml"))]
for path in poms:
    pom = ET.parse(path).getroot()
    name = path.relative_to(ROOT)
    pom_version = pom.findtext("m:version", namespaces=ns) or pom.findtext("m:parent/m:version", namespaces=ns)
    if pom_version != version:
        problems.append(f"{name} has {pom_version}")
    parent = pom.findtext("m:parent/m:version", namespaces=ns)
    if parent is not None and parent != version:
        problems.append(f"{name}'s parent is {parent}")
    for dep in pom.iterfind("m:dependencies/m:dependency", ns):
        if dep.findtext("m:groupId", namespaces=ns) == "dev.tokenwell" and dep.findtext("m:version", namespaces=ns) not in (
            "${project.version}", version):
            problems.append(f"{name} depends on dev.tokenwell:{dep.findtext('m:artifactId', namespaces=ns)} "
                            f"{dep.findtext('m:version', namespaces=ns)}")

js_version = json.loads((ROOT / "js/package.json").read_text())["version"]
if js_version != version:
    problems.append(f"js/package.json has {js_version}")

changelog = (ROOT / "CHANGELOG.md").read_text()
if not re.search(rf"^## \[?{re.escape(version)}\]?", changelog, re.M):
    problems.append(f"CHANGELOG.md has no '## {version}' section")

# Built artifacts: tokenwell-VERSION[-.]... (wheels, sdist, jars, crate, npm tarball).
for folder in sys.argv[1:]:
    for path in sorted(Path(folder).iterdir()):
        # tokenwell-VERSION…, or a Spring starter's tokenwell-spring-boot-starter-N-VERSION….
        m = re.match(r"tokenwell(?:-spring-boot-starter-\d+)?[-_](\d+\.\d+\.\d+[^-_]*?)(?:[-_]|\.tar\.gz|\.tgz|\.crate|\.jar)",
                     path.name)
        if m and m.group(1) != version:
            problems.append(f"{path} is version {m.group(1)}")
        elif not m and path.suffix in {".whl", ".gz", ".jar", ".crate", ".tgz"}:
            problems.append(f"{path}: no version in the name")

if problems:
    sys.exit(f"versions disagree with Cargo.toml's {version}:\n  " + "\n  ".join(problems))
print(f"versions: {version} everywhere (Cargo.toml, pyproject via maturin, the Maven poms, js/package.json, CHANGELOG.md"
      + (", " + ", ".join(sys.argv[1:]) if sys.argv[1:] else "") + ")")
