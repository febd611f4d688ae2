"""The signing key: from the settings in production, generated once in the data folder in dev."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from config.settings import Settings
from domain.signing import generate_private_key_pem, public_key_pem
from persistence.keys import signing_key_pem


def dev_settings(data_dir: Path, signing_key_pem: str = "") -> Settings:
    return Settings(
        env="test", data_dir=data_dir, jwt_secret="x" * 32, signing_key_pem=signing_key_pem
    )


def test_dev_generates_one_key_in_the_data_folder_readable_by_its_owner_only(tmp_path) -> None:
    settings = dev_settings(tmp_path / "var")

    first = signing_key_pem(settings)
    again = signing_key_pem(settings)

    assert first == again == settings.signing_key_path.read_bytes()
    assert stat.S_IMODE(settings.signing_key_path.stat().st_mode) == 0o600
    assert public_key_pem(first).startswith(b"-----BEGIN PUBLIC KEY-----")


def test_processes_starting_together_end_up_with_the_same_key(tmp_path) -> None:
    settings = dev_settings(tmp_path)

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: signing_key_pem(settings), range(32)))

    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["signing_key.pem"]


def test_a_configured_key_wins_over_the_data_folder(tmp_path) -> None:
    configured = generate_private_key_pem()

    settings = dev_settings(tmp_path, signing_key_pem=configured.decode())

    assert signing_key_pem(settings) == configured
    assert not settings.signing_key_path.exists()


def test_a_configured_key_on_one_line_with_escaped_newlines_is_read(tmp_path) -> None:
    configured = generate_private_key_pem()
    one_line = configured.decode().replace("\n", "\\n")

    assert signing_key_pem(dev_settings(tmp_path, signing_key_pem=one_line)) == configured


def test_a_configured_key_that_is_not_a_key_is_refused_at_once(tmp_path) -> None:
    with pytest.raises(ValueError, match="NOPIC_SIGNING_KEY_PEM"):
        signing_key_pem(dev_settings(tmp_path, signing_key_pem="-----BEGIN nonsense"))
