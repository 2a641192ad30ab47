"""Fails on a broken internal link in a generated HTML site.

Usage: python3 scripts/docs/check_links.py [--ignore REGEX]... DIR [DIR ...]

Every `href` and `src` of every `.html` file under each DIR that does not name
a scheme (`https:`, `mailto:`, `javascript:`, ...) must lead to a file inside
that DIR, and a `#fragment` on an HTML file must name an `id` (or an `<a
name>`) in it. Links outside the DIR (`../`) fail too: each site must stand on
its own. A link matching an `--ignore` regex is not checked (for text the
generator copies from another project's docs). Prints each broken link (file,
target) and exits 1 if there is one.
"""

from __future__ import annotations

import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Set, Tuple
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    """The links and the anchors of one HTML file."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: List[str] = []
        self.anchors: Set[str] = set()

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src"):
                self.links.append(value)
            elif name == "id" or (name == "name" and tag == "a"):
                self.anchors.add(value)


def check(root: Path, ignore: List["re.Pattern[str]"]) -> List[str]:
    pages: Dict[Path, Page] = {}
    for path in sorted(root.rglob("*.html")):
        page = Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path.resolve()] = page
    if not pages:
        return [f"{root}: no HTML files"]
    broken: List[str] = []
    top = root.resolve()
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # another site (or a javascript:/data: URL): not ours to check
            if any(pattern.search(link) for pattern in ignore):
                continue
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(top)}: {link}"
            if top != target and top not in target.parents:
                broken.append(f"{where} (leaves {root})")
            elif not target.is_file():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                anchors = pages[target].anchors if target in pages else set()
                # rustdoc's source pages link line ranges (`#48-56`) to their first line's id.
                first = re.sub(r"^(\d+)-\d+$", r"\1", parts.fragment)
                if not anchors & {parts.fragment, unquote(parts.fragment), first}:
                    broken.append(f"{where} (no such anchor)")
    return broken


def main(args: List[str]) -> int:
    ignore: List["re.Pattern[str]"] = []
    while len(args) >= 2 and args[0] == "--ignore":
        ignore.append(re.compile(args[1]))
        args = args[2:]
    if not args:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    broken: List[str] = []
    for arg in args:
        found = check(Path(arg), ignore)
        broken += [f"{arg}/{b}" for b in found]
        pages = sum(1 for _ in Path(arg).rglob("*.html"))
        print(f"check_links: {arg}: {pages} pages, {len(found)} broken links")
    for b in broken[:50]:
        print(f"broken link: {b}", file=sys.stderr)
    if len(broken) > 50:
        print(f"... and {len(broken) - 50} more", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main(sys.argv[1:]))
