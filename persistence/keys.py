"""The Ed25519 key that signs certificate documents.

Production passes it in NOPIC_SIGNING_KEY_PEM (Settings refuses to start without it). Dev and
tests keep one generated key in the data folder, so documents signed yesterday still verify
today; two processes starting at once (API and worker) must end up with the same key.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from config.settings import Settings
from domain.signing import generate_private_key_pem, public_key_pem


def signing_key_pem(settings: Settings) -> bytes:
    """The private key PEM; ValueError if what is configured is not an Ed25519 key."""
    if settings.signing_key_pem:
        text = settings.signing_key_pem
        # An environment variable often carries the PEM on one line with literal "\n".
        if "\n" not in text.strip():
            text = text.replace("\\n", "\n")
        pem, source = text.encode("ascii", "replace"), "NOPIC_SIGNING_KEY_PEM"
    else:
        pem, source = _local_key(settings.signing_key_path), str(settings.signing_key_path)
    try:
        public_key_pem(pem)  # fail at start-up, not at the first issuance
    except ValueError as exc:
        raise ValueError(f"{source} is not an Ed25519 private key (PEM): {exc}") from exc
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
