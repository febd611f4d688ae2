"""The Ed25519 key that signs certificate documents, and the public keys that check them.

Production gives the worker the private key (NOPIC_SIGNING_KEY_PEM) and the API its public half
(NOPIC_SIGNING_PUBLIC_KEY_PEM); Settings refuses to start either without its own. Dev and tests
keep one generated key in the data folder, so documents signed yesterday still verify today;
two processes starting at once (API and worker) must end up with the same key. After a rotation
the earlier public keys (NOPIC_SIGNING_PREVIOUS_PUBLIC_KEYS_PEM) keep old documents verifiable.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings, pem_blocks, pem_bytes
from domain.signing import generate_private_key_pem, key_id, public_key_pem


@dataclass(frozen=True)
class PublicKeys:
    """The key documents are signed with now, then the earlier ones, newest first."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    @property
    def all(self) -> tuple[bytes, ...]:
        return (self.current, *self.previous)


def signing_key_pem(settings: Settings) -> bytes:
    """The private key PEM; ValueError if what is configured is not an Ed25519 key, or if
    production has none configured (it never generates one)."""
    if settings.signing_key_pem:
        pem, source = pem_bytes(settings.signing_key_pem), "NOPIC_SIGNING_KEY_PEM"
    elif settings.env == "production":
        raise ValueError("NOPIC_SIGNING_KEY_PEM is not set: production never generates a key")
    else:
        pem, source = _local_key(settings.signing_key_path), str(settings.signing_key_path)
    try:
        public_key_pem(pem)  # fail at start-up, not at the first issuance
    except ValueError as exc:
        raise ValueError(f"{source} is not an Ed25519 private key (PEM): {exc}") from exc
    return pem


def public_keys(settings: Settings) -> PublicKeys:
    """The public keys documents are checked with; ValueError naming the setting at fault.

    NOPIC_SIGNING_PUBLIC_KEY_PEM when given (the API's in production), else the public half of
    the private key; given both, they must be one pair.
    """
    if settings.signing_public_key_pem:
        configured = pem_bytes(settings.signing_public_key_pem)
        current = _public(configured, "NOPIC_SIGNING_PUBLIC_KEY_PEM")
        paired = settings.signing_key_pem and public_key_pem(signing_key_pem(settings))
        if paired and key_id(paired) != key_id(current):
            raise ValueError(
                "NOPIC_SIGNING_PUBLIC_KEY_PEM is not the public half of NOPIC_SIGNING_KEY_PEM"
            )
    elif settings.env == "production" and not settings.signing_key_pem:
        raise ValueError("NOPIC_SIGNING_PUBLIC_KEY_PEM is not set")
    else:
        current = public_key_pem(signing_key_pem(settings))
    previous = tuple(
        _public(pem, "NOPIC_SIGNING_PREVIOUS_PUBLIC_KEYS_PEM")
        for pem in pem_blocks(settings.signing_previous_public_keys_pem)
    )
    if settings.signing_previous_public_keys_pem.strip() and not previous:
        raise ValueError("NOPIC_SIGNING_PREVIOUS_PUBLIC_KEYS_PEM holds no PEM public key")
    return PublicKeys(current, tuple(pem for pem in previous if pem != current))


def _public(pem: bytes, source: str) -> bytes:
    try:
        key_id(pem)
    except ValueError as exc:
        raise ValueError(f"{source} is not an Ed25519 public key (PEM): {exc}") from exc
    return pem


def _local_key(path: Path) -> bytes:
    if not path.exists():
        _create_once(path)
    return path.read_bytes()


def _create_once(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file with 0600; a hard link publishes it whole and never replaces a
    # key another process published first (rename would silently overwrite it).
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing_key.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(generate_private_key_pem())
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
