"""`nopic verify FILE.pdf`, run as a person would: a process of its own, exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from activities.rendering import CertificateRenderer
from config.settings import Settings
from domain.signing import generate_private_key_pem, public_key_pem
from persistence.keys import signing_key_pem

ROOT = Path(__file__).resolve().parents[2]
ISSUED_AT = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
NUMBER = "555-5550000001-000007"


def certificate_data() -> dict[str, Any]:
    return {
        "schema": "nopic-certificate",
        "version": 1,
        "certificate_id": "0b5e1c4e-6f7c-4d39-9d43-5f2b0a9d2a11",
        "number": NUMBER,
        "revision": 0,
        "replaces_number": None,
        "issued_at": ISSUED_AT,
        "certifier": {"code": "555", "name": "Andes Organic Certification", "country": "PE"},
        "exporter": {"operation_id": "5550000001", "name": "Agro Andes SAC", "country": "PE"},
        "importer": {"operation_id": "5550000002", "name": "Pacific Organics", "country": "US"},
        "product_name": "Fresh Hass avocados",
        "hts_code": "0804400020",
        "hts_description": "Avocados: Certified organic",
        "organic_category": "organic",
        "quantity_kg": Decimal(18000),
        "lot_numbers": ["L-2026-11"],
        "coverage": "single_shipment",
        "valid_from": date(2026, 12, 1),
        "valid_until": date(2026, 12, 31),
        "country_of_origin": "PE",
        "port_of_export": "Callao",
        "port_of_entry": "Los Angeles",
        "shipment": {"transport_mode": "sea", "bill_of_lading": None, "containers": []},
    }


def nopic_verify(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOPIC_")}
    env.update(NOPIC_DATA_DIR=str(data_dir), NOPIC_ENV="test")
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def signed_pdf(tmp_path: Path, data_dir: Path) -> Path:
    """A document signed with the key of the data folder, as the dev worker would sign it."""
    key = signing_key_pem(Settings(env="test", data_dir=data_dir, signing_key_pem=""))
    rendered = CertificateRenderer(key, "http://127.0.0.1:8000").render(
        certificate_data(), "ABCDEFGHJK", ISSUED_AT
    )
    path = tmp_path / "certificate.pdf"
    path.write_bytes(rendered.pdf)
    return path


def test_a_genuine_document_is_valid_with_the_data_folder_key(data_dir, signed_pdf) -> None:
    result = nopic_verify(data_dir, str(signed_pdf))

    assert result.returncode == 0, result.stderr
    assert NUMBER in result.stdout
    assert "VALID" in result.stdout


def test_a_changed_byte_is_invalid_with_the_reason(data_dir, signed_pdf) -> None:
    pdf = bytearray(signed_pdf.read_bytes())
    pdf[len(pdf) // 3] ^= 0x20
    signed_pdf.write_bytes(bytes(pdf))

    result = nopic_verify(data_dir, str(signed_pdf))

    assert result.returncode == 1
    assert "INVALID (document_signature)" in result.stdout


def test_the_certifiers_public_key_can_be_given(tmp_path, data_dir, signed_pdf) -> None:
    right = tmp_path / "certifier.pub.pem"
    right.write_bytes(public_key_pem(signing_key_pem(Settings(env="test", data_dir=data_dir))))
    wrong = tmp_path / "other.pub.pem"
    wrong.write_bytes(public_key_pem(generate_private_key_pem()))
    elsewhere = tmp_path / "no-key-here"

    assert nopic_verify(elsewhere, str(signed_pdf), "--public-key", str(right)).returncode == 0
    mismatch = nopic_verify(elsewhere, str(signed_pdf), "--public-key", str(wrong))
    assert mismatch.returncode == 1
    assert "INVALID (key_mismatch)" in mismatch.stdout


def test_without_any_key_the_check_cannot_be_made(tmp_path, signed_pdf) -> None:
    result = nopic_verify(tmp_path / "empty", str(signed_pdf))

    assert result.returncode == 2
    assert "--public-key" in result.stderr
    assert not (tmp_path / "empty" / "signing_key.pem").exists()
