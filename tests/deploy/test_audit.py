"""`make audit`'s verdict: a package pip-audit could not check is never reported as a pass."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_audit", ROOT / "deploy" / "audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up while the class is made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CLEAN = {"name": "fastapi", "version": "0.165.0", "vulns": []}
# What pip-audit 2.10 writes, exit 0 and "No known vulnerabilities found", with no advisory service.
UNREACHABLE = {
    "name": "jinja2",
    "skip_reason": "Dependency not found on PyPI and could not be audited: jinja2 (3.1.6)",
}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.2",
    "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": []}],
}


def test_a_complete_clean_audit_passes(audit: ModuleType) -> None:
    verdict = audit.judge("r.lock", {"dependencies": [CLEAN]})
    assert verdict.code == 0
    assert verdict.lines() == ["r.lock: 1 packages audited, no known vulnerability"]


def test_packages_not_audited_fail_and_say_so(audit: ModuleType) -> None:
    verdict = audit.judge("r.lock", {"dependencies": [CLEAN, UNREACHABLE]})
    assert verdict.code == 2
    assert verdict.lines()[0].startswith(
        "r.lock: NOT AUDITED: 1 of 2 packages could not be checked"
    )


def test_a_known_vulnerability_fails_first(audit: ModuleType) -> None:
    verdict = audit.judge("r.lock", {"dependencies": [VULNERABLE, UNREACHABLE]})
    assert verdict.code == 1
    assert "r.lock: jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in verdict.lines()


def test_an_empty_report_is_no_pass(audit: ModuleType) -> None:
    assert audit.judge("r.lock", {"dependencies": []}).code == 2
    assert audit.judge("r.lock", {}).code == 2
