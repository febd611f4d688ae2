"""The files `docker build` sends to the builder: a tree read through its `.dockerignore`.

The rules are Docker's (github.com/moby/patternmatcher, MatchesUsingParentResults, as BuildKit
applies them): each line is a pattern, cleaned like Go's filepath.Clean with a leading `/`
dropped; `#` starts a comment; `!` makes an exception. `*` and `?` never match `/`, `**` matches
any number of directories (none included), `[...]` is a class. A pattern matches a path when it
matches the path or a directory above it; the last pattern that matches decides.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    text: str
    exception: bool
    regex: re.Pattern[str]


def _translate(pattern: str) -> re.Pattern[str]:
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*" and pattern[i + 1 : i + 2] == "*":
            i += 2
            if pattern[i : i + 1] == "/":
                i += 1
            # `**` at the end takes everything; elsewhere any run of whole directories.
            out.append(".*" if i == len(pattern) else "(.*/)?")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                raise ValueError(f"unterminated class in .dockerignore pattern {pattern!r}")
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def parse(text: str) -> list[Pattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
        cleaned = posixpath.normpath(line)
        if len(cleaned) > 1 and cleaned.startswith("/"):
            cleaned = cleaned.lstrip("/")
        patterns.append(Pattern(cleaned, exception, _translate(cleaned)))
    return patterns


def excluded(path: str, patterns: list[Pattern]) -> bool:
    """Whether `path` (relative, `/`-separated) stays out of the build context."""
    parts = path.split("/")
    candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        if any(pattern.regex.match(candidate) for candidate in candidates):
            result = not pattern.exception
    return result


def context_files(root: Path) -> Iterator[str]:
    """Every file under `root` that its `.dockerignore` lets into the build context."""
    ignore = root / ".dockerignore"
    patterns = parse(ignore.read_text()) if ignore.exists() else []
    has_exceptions = any(pattern.exception for pattern in patterns)
    for directory, subdirectories, files in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        # An excluded directory is still entered when an exception could take something in it
        # back; entering more than Docker does only makes the check stricter.
        subdirectories[:] = [
            name
            for name in subdirectories
            if has_exceptions or not excluded(prefix + name, patterns)
        ]
        for name in files:
            if not excluded(prefix + name, patterns):
                yield prefix + name
