"""What a deployment's settings must hold before a process starts: each rule gives one message
naming its setting, and every broken rule is reported at once (Settings turns them into one
ValidationError, the CLI into one line each).

Outside production only the settings that contradict each other are refused; production also
refuses what a real deployment must not run with: generated secrets, SQLite, plaintext to
Temporal or the mail relay unless said explicitly, a public address without https, and a
signing key in a process that has no use for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from config.settings import Settings

Process = Literal["api", "worker", "migrate"]
Problem = tuple[str, str]

MIN_JWT_SECRET_BYTES = 32
POSTGRES_SCHEME = "postgresql+asyncpg://"
_CREDENTIAL = "NOPIC_TEMPORAL_TLS_CLIENT_CERT_PEM and _KEY_PEM (mTLS) or NOPIC_TEMPORAL_API_KEY"


def deployment_problems(settings: Settings, process: Process | None) -> list[Problem]:
    problems = _contradictions(settings)
    if settings.env != "production":
        return problems
    problems += _database(settings)
    # A migration reaches the database only; every other process is the whole product.
    if process != "migrate":
        problems += _production(settings)
        problems += _signing_keys(settings, process)
    return problems


def _contradictions(settings: Settings) -> list[Problem]:
    found: list[Problem] = []
    cert, key = settings.temporal_tls_client_cert_pem, settings.temporal_tls_client_key_pem
    if cert and not key:
        found.append(("temporal_tls_client_key_pem", "required with a client certificate"))
    if key and not cert:
        found.append(("temporal_tls_client_cert_pem", "required with a client key"))
    if cert and "-----BEGIN CERTIFICATE-----" not in _unfolded(cert):
        found.append(("temporal_tls_client_cert_pem", "must be a PEM certificate"))
    if key and "PRIVATE KEY-----" not in _unfolded(key):
        found.append(("temporal_tls_client_key_pem", "must be a PEM private key"))
    if settings.temporal_tls is False and settings.temporal_api_key:
        found.append(("temporal_tls", "cannot be off with an API key: it is sent over TLS only"))
    if settings.temporal_tls is False and cert:
        found.append(("temporal_tls", "cannot be off with a client certificate (mTLS)"))
    if settings.smtp_username and not settings.smtp_password:
        found.append(("smtp_password", "required with NOPIC_SMTP_USERNAME"))
    if settings.smtp_password and not settings.smtp_username:
        found.append(("smtp_username", "required with NOPIC_SMTP_PASSWORD"))
    if settings.public_url and not settings.public_url.startswith(("http://", "https://")):
        found.append(("public_url", "must be an http(s) address, e.g. https://nopic.example.org"))
    return found


def _production(settings: Settings) -> list[Problem]:
    found: list[Problem] = []
    given = settings.model_fields_set
    secret = len(settings.jwt_secret.encode())
    if not secret:
        found.append(("jwt_secret", "required in production (openssl rand -base64 48)"))
    elif secret < MIN_JWT_SECRET_BYTES:
        found.append(
            (
                "jwt_secret",
                f"must be at least {MIN_JWT_SECRET_BYTES} bytes, not {secret} "
                "(openssl rand -base64 48)",
            )
        )
    for name, what in (
        ("temporal_host", "the Temporal frontend's host"),
        ("temporal_namespace", "the Temporal namespace"),
        ("smtp_host", "the mail relay's host"),
        ("smtp_port", "the mail relay's port"),
    ):
        if name not in given or not getattr(settings, name):
            found.append((name, f"required in production ({what})"))
    found += _temporal_tls(settings)
    found += _smtp_tls(settings)
    if not settings.public_url:
        found.append(("public_url", "required in production (printed into signed documents)"))
    elif not settings.public_url.startswith("https://"):
        found.append(("public_url", "must be https in production (printed into signed documents)"))
    return found


def _database(settings: Settings) -> list[Problem]:
    if not settings.database_url:
        return [("database_url", f"required in production ({POSTGRES_SCHEME}...)")]
    if not settings.database_url.startswith(POSTGRES_SCHEME):
        return [("database_url", f"must be PostgreSQL in production ({POSTGRES_SCHEME}...)")]
    return []


def _temporal_tls(settings: Settings) -> list[Problem]:
    credential = settings.temporal_api_key or settings.temporal_tls_client_cert_pem
    if settings.temporal_tls is None and not credential:
        return [
            (
                "temporal_tls",
                f"required in production: give {_CREDENTIAL}, "
                "or say off if the frontend is reachable on a private network only",
            )
        ]
    if settings.temporal_tls and not credential:
        return [
            (
                "temporal_tls",
                f"TLS without a client credential lets anyone reaching the frontend in: give "
                f"{_CREDENTIAL}",
            )
        ]
    return []


def _smtp_tls(settings: Settings) -> list[Problem]:
    if settings.smtp_tls is None:
        return [
            (
                "smtp_tls",
                "required in production: starttls or tls "
                "(none only for a relay on a private network, said explicitly)",
            )
        ]
    if settings.smtp_tls == "none" and settings.smtp_password:
        return [("smtp_tls", "cannot be none with a password: it would cross the network in clear")]
    return []


def _signing_keys(settings: Settings, process: Process | None) -> list[Problem]:
    found: list[Problem] = []
    private, public = settings.signing_key_pem, settings.signing_public_key_pem
    if process == "api" and not public:
        found.append(("signing_public_key_pem", "required for the API in production"))
    if process == "api" and private:
        # Whoever takes over the API must not be able to sign documents.
        found.append(("signing_key_pem", "the API must not hold the private key: unset it here"))
    if process == "worker" and not private:
        found.append(("signing_key_pem", "required for the worker in production (it signs)"))
    return found


def _unfolded(text: str) -> str:
    return text.replace("\\n", "\n")
