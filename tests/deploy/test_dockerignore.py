"""The build context after `.dockerignore`: no developer data, every package the image needs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.build_context import context_files, excluded, parse

ROOT = Path(__file__).resolve().parents[2]

# What a developer's checkout holds beside the tracked files, none of which may reach an image.
LOCAL_DATA = {
    "var/jwt.secret": "secret",
    "var/signing_key.pem": "-----BEGIN PRIVATE KEY-----",
    "var/nopic.db": "",
    "var/mail/1.eml": "",
    ".venv/bin/python": "",
    ".git/config": "",
    ".env": "NOPIC_JWT_SECRET=x",
    "domain/__pycache__/state.cpython-311.pyc": "",
    "api/web/__pycache__/pages.cpython-311.pyc": "",
    "nopic.egg-info/PKG-INFO": "",
    ".mypy_cache/3.11/x.json": "",
    "cli/signing.pem": "",
}
NEVER = ("var/", ".venv/", ".git/", "tests/", "docs/", ".ci/", ".mypy_cache/", "nopic.egg-info/")


@pytest.mark.parametrize(
    ("lines", "path", "left_out"),
    [
        (["var"], "var/mail/1.eml", True),
        (["/var"], "var/jwt.secret", True),
        (["var"], "cli/var/x", False),
        (["*.egg-info"], "nopic.egg-info/PKG-INFO", True),
        (["*.egg-info"], "sub/nopic.egg-info/PKG-INFO", False),
        (["**/__pycache__"], "a/b/c/__pycache__", True),
        (["**/__pycache__"], "__pycache__/x.pyc", True),
        (["**/*.py[co]"], "a/b/x.pyc", True),
        (["**/*.py[co]"], "a/b/x.py", False),
        (["docs/**"], "docs/a/b.png", True),
        (["a/?.txt"], "a/bc.txt", False),
        (["*", "!domain/"], "domain/state.py", False),
        (["*", "!domain/"], "var/jwt.secret", True),
        (["*", "!domain/", "**/__pycache__"], "domain/__pycache__/x.pyc", True),
        (["*.md", "!README.md"], "README.md", False),
        (["!README.md", "*.md"], "README.md", True),
        (["# var"], "var/x", False),
    ],
)
def test_pattern_follows_docker_rules(lines: list[str], path: str, left_out: bool) -> None:
    assert excluded(path, parse("\n".join(lines))) is left_out


def _checkout_with_local_data(root: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    (root / ".dockerignore").write_text((ROOT / ".dockerignore").read_text())
    for name, text in LOCAL_DATA.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def test_context_holds_no_local_data(tmp_path: Path) -> None:
    _checkout_with_local_data(tmp_path)
    context = set(context_files(tmp_path))
    assert context
    leaked = sorted(name for name in context if name.startswith(NEVER) or name in LOCAL_DATA)
    assert leaked == []
    assert not [name for name in context if name.endswith((".pem", ".pyc", ".env"))]


def test_context_holds_what_the_dockerfile_copies(tmp_path: Path) -> None:
    _checkout_with_local_data(tmp_path)
    context = set(context_files(tmp_path))
    copied = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied += line.split()[1:-1]
    assert "domain/" in copied
    assert "requirements-runtime.lock" in copied
    for source in copied:
        prefix = source.rstrip("/")
        assert any(name == prefix or name.startswith(prefix + "/") for name in context), source
    # Nothing but the runtime lock, alembic.ini and the packages: no lint or test configuration.
    assert {re.split("/", name)[0] for name in context} <= {
        "requirements-runtime.lock",
        "alembic.ini",
        *(source.split("/")[0] for source in copied),
    }
