"""Ed25519 signatures of certificate documents (DESIGN 4.3): keys as PEM, no I/O.

A key is named by its key id, the first 16 hex digits of the SHA-256 of the raw 32-byte public
key, so a document says which key signed it and a verifier can tell a wrong key from a forgery.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_ID_LENGTH = 16


def generate_private_key_pem() -> bytes:
    """A new Ed25519 private key, PEM (PKCS#8, unencrypted)."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _private_key(private_pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"the signing key must be Ed25519, not {type(key).__name__}")
    return key


def _public_key(public_pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(public_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"the public key must be Ed25519, not {type(key).__name__}")
    return key


def public_key_pem(private_pem: bytes) -> bytes:
    """The public key (PEM, SubjectPublicKeyInfo) of a private key; ValueError if not Ed25519."""
    return (
        _private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def key_id(public_pem: bytes) -> str:
    raw = _public_key(public_pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


def sign(private_pem: bytes, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `data`."""
    return _private_key(private_pem).sign(data)


def verify(public_pem: bytes, data: bytes, signature: bytes) -> bool:
    """True only for a good signature by this key; False for anything else, never an error."""
    try:
        _public_key(public_pem).verify(signature, data)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True
