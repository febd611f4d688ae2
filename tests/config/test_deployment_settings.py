"""The settings of a real deployment: each refusal with its message, all of them at once, and
`nopic api`/`worker`/`migrate` refusing to start with those messages instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cli.main import CANNOT_START, _load_settings
from config.settings import (
    ApiSettings,
    MigrateSettings,
    ServiceSettings,
    Settings,
    WorkerSettings,
    describe_problems,
)
from domain.signing import generate_private_key_pem, public_key_pem

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_key_pem(PRIVATE.encode()).decode()
# Everything a production API needs, as an operator would give it.
PRODUCTION: dict[str, Any] = {
    "env": "production",
    "jwt_secret": "s" * 48,
    "database_url": "postgresql+asyncpg://nopic:secret@db.internal/nopic",
    "temporal_host": "temporal.internal",
    "temporal_namespace": "nopic",
    "temporal_tls": False,
    "smtp_host": "relay.internal",
    "smtp_port": 587,
    "smtp_tls": "starttls",
    "smtp_username": "nopic",
    "smtp_password": "relay-password",
    "public_url": "https://nopic.example.org",
    "signing_public_key_pem": PUBLIC,
}


@pytest.fixture(autouse=True)
def _no_nopic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shell's NOPIC_ settings must not make a refusal pass or a check fail.
    for name in os.environ:
        if name.startswith("NOPIC_"):
            monkeypatch.delenv(name)


def problems(kind: type[Settings], **values: Any) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        kind(**values)
    return describe_problems(refused.value)


def without(*names: str, **changes: Any) -> dict[str, Any]:
    return {k: v for k, v in PRODUCTION.items() if k not in names} | changes


def test_a_complete_production_api_and_worker_start() -> None:
    api = ApiSettings(**PRODUCTION)
    assert api.jwt_secret == "s" * 48
    assert api.smtp_tls_mode == "starttls"
    worker = WorkerSettings(**without("signing_public_key_pem", signing_key_pem=PRIVATE))
    assert worker.signing_key_pem == PRIVATE


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        (
            ApiSettings,
            without(jwt_secret="x" * 31),
            "NOPIC_JWT_SECRET: must be at least 32 bytes, not 31 (openssl rand -base64 48)",
        ),
        (
            ApiSettings,
            without("jwt_secret"),
            "NOPIC_JWT_SECRET: required in production (openssl rand -base64 48)",
        ),
        (
            ApiSettings,
            without("database_url"),
            "NOPIC_DATABASE_URL: required in production (postgresql+asyncpg://...)",
        ),
        (
            ApiSettings,
            without(database_url="sqlite+aiosqlite:///var/nopic.db"),
            "NOPIC_DATABASE_URL: must be PostgreSQL in production (postgresql+asyncpg://...)",
        ),
        (
            ApiSettings,
            without("temporal_host"),
            "NOPIC_TEMPORAL_HOST: required in production (the Temporal frontend's host)",
        ),
        (
            ApiSettings,
            without("temporal_namespace"),
            "NOPIC_TEMPORAL_NAMESPACE: required in production (the Temporal namespace)",
        ),
        (
            ApiSettings,
            without("temporal_tls"),
            "NOPIC_TEMPORAL_TLS: required in production: give NOPIC_TEMPORAL_TLS_CLIENT_CERT_PEM "
            "and _KEY_PEM (mTLS) or NOPIC_TEMPORAL_API_KEY, or say off if the frontend is "
            "reachable on a private network only",
        ),
        (
            ApiSettings,
            without(temporal_tls=True),
            "NOPIC_TEMPORAL_TLS: TLS without a client credential lets anyone reaching the "
            "frontend in: give NOPIC_TEMPORAL_TLS_CLIENT_CERT_PEM and _KEY_PEM (mTLS) or "
            "NOPIC_TEMPORAL_API_KEY",
        ),
        (
            ApiSettings,
            without(temporal_api_key="cloud-key"),
            "NOPIC_TEMPORAL_TLS: cannot be off with an API key: it is sent over TLS only",
        ),
        (
            ApiSettings,
            without("temporal_tls", temporal_tls_client_cert_pem="-----BEGIN CERTIFICATE-----"),
            "NOPIC_TEMPORAL_TLS_CLIENT_KEY_PEM: required with a client certificate",
        ),
        (
            ApiSettings,
            without("smtp_host"),
            "NOPIC_SMTP_HOST: required in production (the mail relay's host)",
        ),
        (
            ApiSettings,
            without("smtp_port"),
            "NOPIC_SMTP_PORT: required in production (the mail relay's port)",
        ),
        (
            ApiSettings,
            without("smtp_tls"),
            "NOPIC_SMTP_TLS: required in production: starttls or tls (none only for a relay on "
            "a private network, said explicitly)",
        ),
        (
            ApiSettings,
            without(smtp_tls="none"),
            "NOPIC_SMTP_TLS: cannot be none with a password: it would cross the network in clear",
        ),
        (
            ApiSettings,
            without("smtp_password"),
            "NOPIC_SMTP_PASSWORD: required with NOPIC_SMTP_USERNAME",
        ),
        (
            ApiSettings,
            without("public_url"),
            "NOPIC_PUBLIC_URL: required in production (printed into signed documents)",
        ),
        (
            ApiSettings,
            without(public_url="http://nopic.example.org"),
            "NOPIC_PUBLIC_URL: must be https in production (printed into signed documents)",
        ),
        (
            ApiSettings,
            without("signing_public_key_pem"),
            "NOPIC_SIGNING_PUBLIC_KEY_PEM: required for the API in production",
        ),
        (
            ApiSettings,
            without(signing_key_pem=PRIVATE),
            "NOPIC_SIGNING_KEY_PEM: the API must not hold the private key: unset it here",
        ),
        (
            WorkerSettings,
            without("signing_public_key_pem"),
            "NOPIC_SIGNING_KEY_PEM: required for the worker in production (it signs)",
        ),
        (
            MigrateSettings,
            {"database_url": PRODUCTION["database_url"]},
            "NOPIC_ENV: required: dev, test or production (only `nopic dev` runs as dev by itself)",
        ),
        (
            MigrateSettings,
            {"env": "staging"},
            "NOPIC_ENV: Input should be 'dev', 'test' or 'production'",
        ),
    ],
)
def test_each_refusal_says_what_to_fix(
    kind: type[Settings], values: dict[str, Any], expected: str
) -> None:
    assert problems(kind, **values) == [expected]


def test_every_problem_is_listed_at_once() -> None:
    listed = problems(ApiSettings, env="production", jwt_secret="short")
    assert [line.split(":")[0] for line in listed] == [
        "NOPIC_DATABASE_URL",
        "NOPIC_JWT_SECRET",
        "NOPIC_TEMPORAL_HOST",
        "NOPIC_TEMPORAL_NAMESPACE",
        "NOPIC_SMTP_HOST",
        "NOPIC_SMTP_PORT",
        "NOPIC_TEMPORAL_TLS",
        "NOPIC_SMTP_TLS",
        "NOPIC_PUBLIC_URL",
        "NOPIC_SIGNING_PUBLIC_KEY_PEM",
    ]
    # No value, a secret above all, is ever repeated in a message.
    assert not any("short" in line for line in listed)


def test_a_migration_needs_the_database_only() -> None:
    migrate = MigrateSettings(env="production", database_url=PRODUCTION["database_url"])
    assert migrate.database_url == PRODUCTION["database_url"]
    assert problems(MigrateSettings, env="production") == [
        "NOPIC_DATABASE_URL: required in production (postgresql+asyncpg://...)"
    ]


def test_outside_production_only_contradictions_are_refused(tmp_path: Path) -> None:
    dev = Settings(env="dev", data_dir=tmp_path)
    assert dev.public_url == "http://127.0.0.1:8000"
    assert dev.smtp_tls_mode == "none"
    assert not dev.temporal_tls_on
    assert problems(
        Settings, env="test", data_dir=tmp_path, temporal_tls=False, temporal_api_key="k"
    ) == ["NOPIC_TEMPORAL_TLS: cannot be off with an API key: it is sent over TLS only"]
    assert problems(Settings, env="dev", data_dir=tmp_path, public_url="nopic.example.org") == [
        "NOPIC_PUBLIC_URL: must be an http(s) address, e.g. https://nopic.example.org"
    ]


def test_a_deployed_process_has_no_default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems(ServiceSettings)[0].startswith("NOPIC_ENV: required")
    monkeypatch.setenv("NOPIC_ENV", "test")
    assert ServiceSettings().env == "test"


def test_nopic_dev_is_dev_and_tells_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOPIC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NOPIC_ENV", raising=False)
    assert _load_settings("dev").env == "dev"
    # `nopic api` and `nopic worker`, started by it, read this.
    assert os.environ["NOPIC_ENV"] == "dev"
    assert _load_settings("api").env == "dev"


def nopic(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NOPIC_")}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", command],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def as_environment(values: dict[str, Any]) -> dict[str, str]:
    return {f"NOPIC_{name.upper()}": str(value) for name, value in values.items()}


def test_nopic_api_without_env_refuses_with_a_message(tmp_path: Path) -> None:
    run = nopic("api", {"NOPIC_DATA_DIR": str(tmp_path)})
    assert run.returncode == CANNOT_START
    assert run.stderr.splitlines() == [
        "nopic api cannot start: fix these settings",
        "  NOPIC_ENV: required: dev, test or production (only `nopic dev` runs as dev by itself)",
    ]
    assert "Traceback" not in run.stderr


def test_nopic_api_in_production_lists_every_problem(tmp_path: Path) -> None:
    given = without("jwt_secret", "smtp_tls", jwt_secret="too-short", signing_key_pem=PRIVATE)
    run = nopic("api", {**as_environment(given), "NOPIC_DATA_DIR": str(tmp_path)})
    assert run.returncode == CANNOT_START
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines()[1:] == [
        "  NOPIC_JWT_SECRET: must be at least 32 bytes, not 9 (openssl rand -base64 48)",
        "  NOPIC_SMTP_TLS: required in production: starttls or tls (none only for a relay on a "
        "private network, said explicitly)",
        "  NOPIC_SIGNING_KEY_PEM: the API must not hold the private key: unset it here",
    ]
    assert not (tmp_path / "jwt.secret").exists()


def test_nopic_worker_refuses_without_the_private_key(tmp_path: Path) -> None:
    given = without("signing_public_key_pem")
    run = nopic("worker", {**as_environment(given), "NOPIC_DATA_DIR": str(tmp_path)})
    assert run.returncode == CANNOT_START
    assert run.stderr.splitlines()[1:] == [
        "  NOPIC_SIGNING_KEY_PEM: required for the worker in production (it signs)"
    ]
    # Production never makes a key of its own.
    assert not (tmp_path / "signing_key.pem").exists()


def test_nopic_worker_refuses_a_key_that_is_not_ed25519(tmp_path: Path) -> None:
    given = without("signing_public_key_pem", signing_key_pem=PUBLIC.replace("\n", "\\n"))
    run = nopic("worker", {**as_environment(given), "NOPIC_DATA_DIR": str(tmp_path)})
    assert run.returncode == CANNOT_START
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines()[1].startswith(
        "  NOPIC_SIGNING_KEY_PEM is not an Ed25519 private key (PEM)"
    )


def test_nopic_migrate_without_env_refuses(tmp_path: Path) -> None:
    run = nopic("migrate", {"NOPIC_DATA_DIR": str(tmp_path)})
    assert run.returncode == CANNOT_START
    assert "NOPIC_ENV: required" in run.stderr
    assert not (tmp_path / "nopic.db").exists()
