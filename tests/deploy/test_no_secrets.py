"""No secret in the repository: no private key, no filled-in secret variable, no local data."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A PEM block with a body: the armour alone (as code that checks a header writes) is no key.
KEY_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\s*\n[A-Za-z0-9+/=\s]{40,}")
# `NAME=value` or `NAME: value` of a secret, with a value that is not a reference to another.
ASSIGNED = re.compile(
    r"^[ \t]*(?:export[ \t]+)?(?:NOPIC_JWT_SECRET|NOPIC_SIGNING_KEY_PEM|[A-Z_]*PASSWORD)"
    r"[ \t]*[=:][ \t]*"
    r"""["']?(?![$"'\s]|<)([^\s"']+)""",
    re.MULTILINE,
)
FILE_ONLY = re.compile(r"(^|/)(\.env|var/.*|[^/]*\.(pem|key|p12|pfx))$")


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in out.stdout.decode().split("\0") if (ROOT / name).is_file()]


def _findings(name: str, text: str) -> list[str]:
    found = [f"{name}: private key" for _ in KEY_BLOCK.finditer(text)]
    if name.endswith((".env.example", ".yml", ".yaml", ".sh", ".env", ".ini", ".toml")):
        found += [f"{name}: {match.group(0).strip()}" for match in ASSIGNED.finditer(text)]
    return found


def test_scanner_finds_what_it_looks_for() -> None:
    key = (
        "-----BEGIN PRIVATE KEY-----\n"
        + "MC4CAQAwBQYDK2VwBCIEI" * 3
        + "\n-----END PRIVATE KEY-----"
    )
    assert _findings("a.py", key)
    assert _findings(".env.example", "NOPIC_JWT_SECRET=abc123")
    assert _findings("x.yml", "  POSTGRES_PASSWORD: hunter2")
    assert not _findings(".env.example", "NOPIC_JWT_SECRET=\nAPP_DB_PASSWORD=")
    assert not _findings("x.yml", "  POSTGRES_PWD: ${TEMPORAL_DB_PASSWORD:?set it}")
    assert not _findings("a.py", 'assert key.startswith(b"-----BEGIN PRIVATE KEY-----")')


def test_no_secret_is_tracked() -> None:
    tracked = _tracked()
    assert "docker-compose.yml" in tracked
    assert [name for name in tracked if FILE_ONLY.search(name)] == []
    found = []
    for name in tracked:
        try:
            text = (ROOT / name).read_text()
        except UnicodeDecodeError:
            continue
        found += _findings(name, text)
    assert found == []
