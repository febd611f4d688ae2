"""`nopic verify FILE.pdf`: check a certificate document offline, with no server and no database.

The public keys are those given with --public-key (a PEM file: the certifier's public key as
the API publishes it, several of them one after another, or a private key, whose public half is
used), else this installation's: NOPIC_SIGNING_PUBLIC_KEY_PEM or the public half of its signing
key (NOPIC_SIGNING_KEY_PEM or the key in the data folder), then the keys it replaced
(NOPIC_SIGNING_PREVIOUS_PUBLIC_KEYS_PEM). The document's seal names the key that checks it.

Exit codes: 0 valid, 1 invalid, 2 the check could not be made (no such file, no usable key).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from config.settings import Settings, pem_blocks
from domain.document_format import key_for, verify_document
from domain.signing import key_id, public_key_pem

VALID, INVALID, CANNOT_CHECK = 0, 1, 2


def _public_keys(pem: bytes) -> Sequence[bytes]:
    """The public keys in a PEM file: one or more public keys, or one private key."""
    blocks = pem_blocks(pem.decode("ascii", "replace")) or [pem]
    try:
        for block in blocks:
            key_id(block)
        return blocks
    except ValueError:
        return [public_key_pem(pem)]


def _installed_public_keys(settings: Settings) -> Sequence[bytes]:
    from persistence.keys import public_keys

    configured = settings.signing_key_pem or settings.signing_public_key_pem
    if not configured and not settings.signing_key_path.exists():
        raise ValueError(
            f"no signing key in {settings.data_dir}: pass --public-key with the certifier's key"
        )
    return public_keys(settings).all


def run_verify(document_path: Path, public_key_path: Path | None, settings: Settings | None) -> int:
    try:
        document = document_path.read_bytes()
        if public_key_path is not None:
            keys = _public_keys(public_key_path.read_bytes())
        else:
            assert settings is not None, "settings are needed without --public-key"
            keys = _installed_public_keys(settings)
    except OSError as exc:
        print(f"cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return CANNOT_CHECK
    except ValueError as exc:
        print(f"no usable public key: {exc}", file=sys.stderr)
        return CANNOT_CHECK
    # A damaged file makes pypdf log its repairs; the verdict below already says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    public = key_for(document, keys)
    check = verify_document(document, public)
    print(f"document: {document_path}")
    print(f"number:   {check.number or 'unknown'}")
    print(f"key id:   {check.key_id or 'none'} (checked with {key_id(public)})")
    if check.valid:
        print(f"VALID: {check.reason}")
        return VALID
    print(f"INVALID ({check.problem}): {check.reason}")
    return INVALID
