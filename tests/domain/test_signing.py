"""Ed25519 helpers: round trip, key ids, and a verify that answers False instead of raising."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from domain.signing import generate_private_key_pem, key_id, public_key_pem, sign, verify

PRIVATE = generate_private_key_pem()
PUBLIC = public_key_pem(PRIVATE)


def test_a_signature_verifies_with_the_public_key_only_for_the_same_data() -> None:
    signature = sign(PRIVATE, b"certificate")

    assert len(signature) == 64
    assert verify(PUBLIC, b"certificate", signature)
    assert not verify(PUBLIC, b"certificatf", signature)


def test_signatures_are_deterministic() -> None:
    assert sign(PRIVATE, b"same") == sign(PRIVATE, b"same")


def test_keys_are_pkcs8_and_subject_public_key_info_pem() -> None:
    assert PRIVATE.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert PUBLIC.startswith(b"-----BEGIN PUBLIC KEY-----")


def test_the_key_id_is_16_hex_digits_of_the_public_key() -> None:
    other = public_key_pem(generate_private_key_pem())

    assert re.fullmatch(r"[0-9a-f]{16}", key_id(PUBLIC))
    assert key_id(PUBLIC) == key_id(public_key_pem(PRIVATE))
    assert key_id(PUBLIC) != key_id(other)


def test_another_key_does_not_verify() -> None:
    other = public_key_pem(generate_private_key_pem())

    assert not verify(other, b"data", sign(PRIVATE, b"data"))


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        (b"not a pem", b"\x00" * 64),
        (PUBLIC, b""),
        (PUBLIC, b"\x00" * 63),
        (PUBLIC, b"\x00" * 64),
        (PRIVATE, b"\x00" * 64),
    ],
)
def test_verify_answers_false_on_bad_input(public: bytes, signature: bytes) -> None:
    assert verify(public, b"data", signature) is False


def test_a_key_that_is_not_ed25519_is_refused() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    with pytest.raises(ValueError, match="Ed25519"):
        public_key_pem(p256)
    with pytest.raises(ValueError, match="Ed25519"):
        sign(p256, b"data")
    assert not verify(public_key_pem_of(p256), b"data", b"\x00" * 64)


def public_key_pem_of(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
