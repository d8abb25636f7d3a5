#!/usr/bin/env python3
# Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
"""Keep the code quoted in the documentation equal to the compiled files it comes from.

Convention
----------
In Markdown (README.md and docs/*.md), a quoted block is a marker line immediately followed by a
fenced block:

    <!-- snippet: samples/readme/first_program.cpp#first_program -->
    ```cpp
    ...the region, verbatim...
    ```

The path is relative to the repository root. In the source file, the region is the lines between
a line containing `// snippet-begin: first_program` and a line containing
`// snippet-end: first_program`, de-indented by their common leading whitespace. The marker lines
are not quoted, nor are the marker lines of other regions nested inside (regions may nest or
overlap). A region name is unique within its file.

Every ```cpp block in the checked Markdown files must carry a marker. Blocks in other languages
(sh, cmake, json, text, ...) are not checked unless they carry a marker.

Usage
-----
    python3 tools/docs/snippets.py --check    # exit 1 with a diff when a block differs
    python3 tools/docs/snippets.py --update   # rewrite the blocks from their sources
    python3 tools/docs/snippets.py --list     # every quoted block and its source

Exit status: 0 when everything matches (or was updated), 1 when a check fails, 2 on bad usage.
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parent.parent.parent

# Markdown files checked, relative to the root (globs).
DOC_GLOBS = ("README.md", "docs/*.md")

# Languages whose fenced blocks must be quoted from a compiled file.
CHECKED_LANGUAGES = {"cpp", "c++", "cxx", "hpp"}

MARKER_RE = re.compile(r"^\s*<!--\s*snippet:\s*(?P<path>[^#\s]+)#(?P<name>[\w.-]+)\s*-->\s*$")
LOOSE_MARKER_RE = re.compile(r"^\s*<!--\s*snippet\b")
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
BEGIN_RE = re.compile(r"(?://|#)\s*snippet-begin:\s*(?P<name>[\w.-]+)\s*$")
END_RE = re.compile(r"(?://|#)\s*snippet-end:\s*(?P<name>[\w.-]+)\s*$")
ANY_SOURCE_MARKER_RE = re.compile(r"(?://|#)\s*snippet-(?:begin|end):")


class SnippetError(Exception):
    """A problem in a source file's markers (reported against the quoting block)."""


@dataclass
class Block:
    """A fenced block in a Markdown file."""

    doc: Path
    fence_line: int  # 0-based index of the opening fence line
    close_line: int  # 0-based index of the closing fence line (== len(lines) when unclosed)
    indent: str
    language: str
    content: list[str]  # the lines between the fences, the fence's indentation removed
    marker: tuple[str, str] | None = None  # (path, region name)
    marker_line: int | None = None


@dataclass
class Problem:
    where: str
    message: str
    detail: list[str] = field(default_factory=list)

    def render(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.detail:
            text += "\n" + "\n".join("    " + d for d in self.detail)
        return text


def rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def parse_markdown(doc: Path, name: str, lines: list[str]) -> tuple[list[Block], list[Problem]]:
    """The fenced blocks of a Markdown file (shown as `name`), with the marker each one carries."""
    blocks: list[Block] = []
    problems: list[Problem] = []
    i = 0
    pending_marker: tuple[int, re.Match[str]] | None = None
    while i < len(lines):
        line = lines[i]
        m = MARKER_RE.match(line)
        if m:
            if pending_marker is not None:
                problems.append(Problem(f"{name}:{pending_marker[0] + 1}",
                                        "snippet marker not immediately followed by a fenced block"))
            pending_marker = (i, m)
            i += 1
            continue
        if LOOSE_MARKER_RE.search(line):
            problems.append(Problem(f"{name}:{i + 1}", "malformed snippet marker (expected "
                                    "`<!-- snippet: path/to/file.cpp#region -->`)"))
        f = FENCE_RE.match(line)
        if f:
            indent, fence = f.group("indent"), f.group("fence")
            info = f.group("info").strip()
            language = info.split()[0].lower() if info else ""
            j = i + 1
            content: list[str] = []
            close = None
            while j < len(lines):
                cm = FENCE_RE.match(lines[j])
                if (cm and cm.group("fence")[0] == fence[0] and len(cm.group("fence")) >= len(fence)
                        and not cm.group("info").strip()):
                    close = j
                    break
                body = lines[j]
                if indent and body.startswith(indent):
                    body = body[len(indent):]
                elif indent:
                    body = body.lstrip(" \t") if not body.strip() else body
                content.append(body)
                j += 1
            if close is None:
                problems.append(Problem(f"{name}:{i + 1}", "unclosed fenced block"))
                close = len(lines)
            block = Block(doc, i, close, indent, language, content)
            if pending_marker is not None and pending_marker[0] == i - 1:
                pm = pending_marker[1]
                block.marker = (pm.group("path"), pm.group("name"))
                block.marker_line = pending_marker[0]
            elif pending_marker is not None:
                problems.append(Problem(f"{name}:{pending_marker[0] + 1}",
                                        "snippet marker not immediately followed by a fenced block"))
            pending_marker = None
            blocks.append(block)
            i = close + 1
            continue
        if pending_marker is not None:
            problems.append(Problem(f"{name}:{pending_marker[0] + 1}",
                                    "snippet marker not immediately followed by a fenced block"))
            pending_marker = None
        i += 1
    if pending_marker is not None:
        problems.append(Problem(f"{name}:{pending_marker[0] + 1}",
                                "snippet marker not immediately followed by a fenced block"))
    return blocks, problems


def dedent(lines: list[str]) -> list[str]:
    """Remove the common leading whitespace of the non-blank lines; blank lines become empty."""
    widths = [len(x) - len(x.lstrip(" \t")) for x in lines if x.strip()]
    cut = min(widths) if widths else 0
    return [x[cut:].rstrip() if x.strip() else "" for x in lines]


class Sources:
    """Reads source files once and extracts their regions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._regions: dict[Path, dict[str, list[str]]] = {}

    def regions(self, path: Path) -> dict[str, list[str]]:
        if path not in self._regions:
            self._regions[path] = self._parse(path)
        return self._regions[path]

    def _parse(self, path: Path) -> dict[str, list[str]]:
        lines = path.read_text(encoding="utf-8").splitlines()
        open_at: dict[str, int] = {}
        regions: dict[str, list[str]] = {}
        where = rel(path, self.root)
        for n, line in enumerate(lines):
            b = BEGIN_RE.search(line)
            e = END_RE.search(line)
            if b:
                name = b.group("name")
                if name in open_at or name in regions:
                    raise SnippetError(f"{where}:{n + 1}: region `{name}` begins twice")
                open_at[name] = n
            elif e:
                name = e.group("name")
                if name not in open_at:
                    raise SnippetError(f"{where}:{n + 1}: `snippet-end: {name}` without its begin")
                start = open_at.pop(name)
                body = [x for x in lines[start + 1:n] if not ANY_SOURCE_MARKER_RE.search(x)]
                regions[name] = dedent(body)
        if open_at:
            name, n = next(iter(open_at.items()))
            raise SnippetError(f"{where}:{n + 1}: region `{name}` has no `snippet-end: {name}`")
        return regions

    def region(self, spec_path: str, name: str) -> list[str]:
        path = (self.root / spec_path).resolve()
        if not path.is_relative_to(self.root):
            raise SnippetError(f"{spec_path}: outside the repository")
        if not path.is_file():
            raise SnippetError(f"{spec_path}: no such file")
        regions = self.regions(path)
        if name not in regions:
            known = ", ".join(sorted(regions)) or "none"
            raise SnippetError(f"{spec_path}: no region `{name}` (regions in that file: {known})")
        body = regions[name]
        if not any(x.strip() for x in body):
            raise SnippetError(f"{spec_path}#{name}: the region is empty")
        return body


def doc_files(root: Path, explicit: list[str]) -> list[Path]:
    if explicit:
        return [Path(p).resolve() for p in explicit]
    found: list[Path] = []
    for pattern in DOC_GLOBS:
        found.extend(sorted(root.glob(pattern)))
    return found


def normalize(lines: list[str]) -> list[str]:
    return [x.rstrip() for x in lines]


def run(root: Path, docs: list[Path], update: bool, listing: bool) -> int:
    sources = Sources(root)
    problems: list[Problem] = []
    updated: list[str] = []
    quoted = 0
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        lines = text.splitlines()
        docname = rel(doc, root)
        blocks, parse_problems = parse_markdown(doc, docname, lines)
        problems.extend(parse_problems)
        replacements: list[tuple[Block, list[str]]] = []
        for block in blocks:
            where = f"{docname}:{block.fence_line + 1}"
            if block.marker is None:
                if block.language in CHECKED_LANGUAGES:
                    problems.append(Problem(where, f"```{block.language} block without a snippet "
                                            "marker: quote it from a compiled file with "
                                            "`<!-- snippet: path/to/file.cpp#region -->` on the "
                                            "line before the fence"))
                continue
            quoted += 1
            spec_path, name = block.marker
            if listing:
                print(f"{where}: {spec_path}#{name}")
            try:
                expected = sources.region(spec_path, name)
            except SnippetError as err:
                problems.append(Problem(where, str(err)))
                continue
            actual = normalize(block.content)
            if actual == expected:
                continue
            if update:
                replacements.append((block, expected))
                continue
            diff = list(difflib.unified_diff(actual, expected,
                                             fromfile=f"{where} (quoted in the doc)",
                                             tofile=f"{spec_path}#{name} (the source)",
                                             lineterm=""))
            problems.append(Problem(where, f"block differs from its source {spec_path}#{name}",
                                    diff))
        if replacements:
            # Rewrite from the bottom up so earlier line numbers stay valid.
            for block, expected in sorted(replacements, key=lambda r: -r[0].fence_line):
                body = [(block.indent + x) if x else "" for x in expected]
                lines[block.fence_line + 1:block.close_line] = body
            new_text = "\n".join(lines) + ("\n" if text.endswith("\n") else "")
            doc.write_text(new_text, encoding="utf-8")
            updated.append(f"{docname} ({len(replacements)} block(s))")
    for u in updated:
        print(f"updated {u}")
    if problems:
        def location(p: Problem) -> tuple[str, int]:
            path, _, line = p.where.rpartition(":")
            return (path, int(line)) if line.isdigit() else (p.where, 0)

        for p in sorted(problems, key=location):
            print(p.render(), file=sys.stderr)
        print(f"\n{len(problems)} problem(s) in the quoted code. Quote C++ from a compiled file "
              "(see tools/docs/snippets.py); `python3 tools/docs/snippets.py --update` rewrites "
              "blocks that differ from their source.", file=sys.stderr)
        return 1
    if not update and not listing:
        print(f"snippets: {quoted} quoted block(s) in {len(docs)} file(s) match their sources")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true",
                      help="fail (exit 1) when a quoted block differs from its source, or a C++ "
                           "block has no source")
    mode.add_argument("--update", action="store_true",
                      help="rewrite every quoted block from its source")
    mode.add_argument("--list", action="store_true", help="print every quoted block's source")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                        help="the repository root (default: two levels above this script)")
    parser.add_argument("docs", nargs="*",
                        help="Markdown files to process (default: README.md and docs/*.md)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    docs = doc_files(root, args.docs)
    missing = [d for d in docs if not d.is_file()]
    if missing:
        parser.error(f"no such file: {missing[0]}")
    return run(root, docs, update=args.update, listing=args.list)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
