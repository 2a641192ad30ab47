#!/usr/bin/env python3
"""Make uniffi's generated Kotlin `internal` to the tokenwell module.

uniffi has no visibility option for Kotlin: every top-level declaration it
generates is public, so the FFI plumbing would be part of the library's API.
This pass rewrites each top-level declaration's visibility to `internal`
(`private` ones stay private). "Top level" is decided by bracket depth, with
strings, character literals and comments skipped, so a declaration that does
not start in column 0, or follows a doc comment or an annotation on its line,
is caught too.

Usage: kotlin_internal.py FILE.kt...   (rewrites in place, idempotent)
"""
import re
import sys

DECLARATION = re.compile(
    r"(?P<lead>\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*)"
    r"(?P<mods>(?:(?:public|internal|private|protected|open|abstract|sealed|data|enum|"
    r"inline|value|annotation|const|lateinit|suspend|operator|infix|tailrec|external)\s+)*)"
    r"(?P<kind>class|interface|object|fun|val|var|typealias)\b"
)
VISIBILITY = re.compile(r"\b(public|internal|private|protected)\s+")


def depth_at_line_starts(text):
    """Bracket depth at the start of every line, skipping strings and comments,
    and where code resumes on lines that start inside a block comment.

    Parentheses count too: a constructor's `val`s are not top level."""
    depths, depth, i, n = [0], 0, 0, len(text)
    # Line -> column where code resumes after a block comment that began above.
    resumes = {}
    while i < n:
        c = text[i]
        if c == "\n":
            depths.append(depth)
        elif text.startswith("//", i):
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2) + 2
            depths.extend([depth] * text.count("\n", i, end))
            # uniffi puts a declaration right after its doc comment: "*/ fun f(".
            resumes[len(depths) - 1] = end - (text.rfind("\n", 0, end) + 1)
            i = end
            continue
        elif c == "'":
            # A character literal: 'x', '{', or escaped: '\n', '\'', '\u0000'.
            end = text.find("'", i + 3 if text[i + 1] == "\\" else i + 2)
            i = end + 1
            continue
        elif c == '"':
            i = skip_string(text, i, depths, depth)
            continue
        elif c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        i += 1
    return depths, resumes


def skip_string(text, i, depths, depth):
    """Index just past the string literal at i; templates' braces balance."""
    raw = text.startswith('"""', i)
    quote = '"""' if raw else '"'
    i += len(quote)
    while not text.startswith(quote, i):
        c = text[i]
        if c == "\\" and not raw:
            i += 2
            continue
        if c == "\n":
            depths.append(depth)
        if text.startswith("${", i):
            # Skip the template expression, which may hold strings and braces.
            level, i = 1, i + 2
            while level:
                if text[i] == '"':
                    i = skip_string(text, i, depths, depth)
                    continue
                level += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            continue
        i += 1
    return i + len(quote)


def internalize(text):
    lines = text.split("\n")
    depths, resumes = depth_at_line_starts(text)
    for k, line in enumerate(lines):
        if depths[k] != 0:
            continue
        start = resumes.get(k, 0)
        m = DECLARATION.match(line, start)
        if not m or "private" in m.group("mods").split():
            continue
        mods = VISIBILITY.sub("", m.group("mods"))
        lines[k] = line[:start] + m.group("lead") + "internal " + mods + line[m.start("kind"):]
    return "\n".join(lines)


def main(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        out = internalize(text)
        if out != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(out)


if __name__ == "__main__":
    main(sys.argv[1:])
