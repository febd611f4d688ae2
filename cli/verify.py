"""`nopic verify FILE.pdf`: check a certificate document offline, with no server and no database.

The public key is the one given with --public-key (a PEM file: the certifier's public key, as
the API publishes it, or a private key, whose public half is used), else the public half of
this installation's signing key (NOPIC_SIGNING_KEY_PEM or the key in the data folder).

Exit codes: 0 valid, 1 invalid, 2 the check could not be made (no such file, no usable key).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from config.settings import Settings
from domain.document_format import verify_document
from domain.signing import key_id, public_key_pem

VALID, INVALID, CANNOT_CHECK = 0, 1, 2


def _public_key(pem: bytes) -> bytes:
    """The public key in a PEM file that holds either half of an Ed25519 key pair."""
    try:
        key_id(pem)
        return pem
    except ValueError:
        return public_key_pem(pem)


def _installed_public_key(settings: Settings) -> bytes:
    from persistence.keys import signing_key_pem

    if not settings.signing_key_pem and not settings.signing_key_path.exists():
        raise ValueError(
            f"no signing key in {settings.data_dir}: pass --public-key with the certifier's key"
        )
    return public_key_pem(signing_key_pem(settings))


def run_verify(document_path: Path, public_key_path: Path | None, settings: Settings | None) -> int:
    try:
        document = document_path.read_bytes()
        if public_key_path is not None:
            public = _public_key(public_key_path.read_bytes())
        else:
            assert settings is not None, "settings are needed without --public-key"
            public = _installed_public_key(settings)
    except OSError as exc:
        print(f"cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return CANNOT_CHECK
    except ValueError as exc:
        print(f"no usable public key: {exc}", file=sys.stderr)
        return CANNOT_CHECK
    # A damaged file makes pypdf log its repairs; the verdict below already says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    check = verify_document(document, public)
    print(f"document: {document_path}")
    print(f"number:   {check.number or 'unknown'}")
    print(f"key id:   {check.key_id or 'none'} (checked with {key_id(public)})")
    if check.valid:
        print(f"VALID: {check.reason}")
        return VALID
    print(f"INVALID ({check.problem}): {check.reason}")
    return INVALID
