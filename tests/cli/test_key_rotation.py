"""Rotating the signing key: documents the old key signed still verify once its public key is
listed as a previous one, and not without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.rendering import CertificateRenderer
from cli.verify import INVALID, VALID, run_verify
from config.settings import Settings
from domain.signing import generate_private_key_pem, key_id, public_key_pem
from persistence.keys import public_keys
from tests.cli.test_verify import ISSUED_AT, certificate_data

OLD, NEW = generate_private_key_pem(), generate_private_key_pem()


def signed_by(key: bytes, path: Path) -> Path:
    rendered = CertificateRenderer(key, "https://nopic.example.org").render(
        certificate_data(), "ABCDEFGHJK", ISSUED_AT
    )
    path.write_bytes(rendered.pdf)
    return path


@pytest.fixture(scope="module")
def old_document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return signed_by(OLD, tmp_path_factory.mktemp("old") / "old.pdf")


def rotated(tmp_path: Path, previous: str) -> Settings:
    """After the rotation: NEW signs, and the earlier public keys are `previous`."""
    return Settings(
        env="test",
        data_dir=tmp_path,
        jwt_secret="r" * 48,
        signing_key_pem=NEW.decode(),
        signing_previous_public_keys_pem=previous,
    )


def test_an_old_document_verifies_after_the_rotation(
    old_document: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = rotated(tmp_path, public_key_pem(OLD).decode())
    assert run_verify(old_document, None, settings) == VALID
    assert f"checked with {key_id(public_key_pem(OLD))}" in capsys.readouterr().out
    # And what the new key signs verifies with the same settings.
    assert run_verify(signed_by(NEW, tmp_path / "new.pdf"), None, settings) == VALID


def test_without_the_old_key_listed_the_old_document_fails(
    old_document: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_verify(old_document, None, rotated(tmp_path, "")) == INVALID
    assert "INVALID (key_mismatch)" in capsys.readouterr().out


def test_several_previous_keys_each_check_their_own_documents(
    old_document: Path, tmp_path: Path
) -> None:
    oldest = generate_private_key_pem()
    listed = (public_key_pem(OLD) + public_key_pem(oldest)).decode().replace("\n", "\\n")
    settings = rotated(tmp_path, listed)
    assert public_keys(settings).previous == (public_key_pem(OLD), public_key_pem(oldest))
    assert run_verify(old_document, None, settings) == VALID
    assert run_verify(signed_by(oldest, tmp_path / "oldest.pdf"), None, settings) == VALID


def test_a_public_key_file_with_several_keys_checks_with_the_one_the_seal_names(
    old_document: Path, tmp_path: Path
) -> None:
    published = tmp_path / "keys.pem"
    published.write_bytes(public_key_pem(NEW) + public_key_pem(OLD))
    assert run_verify(old_document, published, None) == VALID


def test_a_previous_key_that_is_not_a_public_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NOPIC_SIGNING_PREVIOUS_PUBLIC_KEYS_PEM"):
        public_keys(rotated(tmp_path, "not a key"))


def test_a_public_key_that_is_not_the_private_keys_half_is_refused(tmp_path: Path) -> None:
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        jwt_secret="r" * 48,
        signing_key_pem=NEW.decode(),
        signing_public_key_pem=public_key_pem(OLD).decode(),
    )
    with pytest.raises(ValueError, match="not the public half"):
        public_keys(settings)
