"""Fonts parsed once and subsets cut once: the documents are those each document alone makes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from activities.rendering import CertificateRenderer
from domain.document_format import verify_document
from domain.signing import generate_private_key_pem, public_key_pem
from tests.activities.test_rendering import certificate, pdf_text
from tests.cli.test_verify import ISSUED_AT

KEY = generate_private_key_pem()
URL = "https://nopic.example"
# Text within the common characters (one shared subset), beyond them (a subset of its own), and
# beyond the font (a mark).
NAMES = ("Fresh Hass avocados", "Palta orgánica «Señor» Œuvre", "Αβοκάντο авокадо", "有机牛油果")


def variants() -> list[dict[str, Any]]:
    return [
        certificate(product_name=name, exporter={**certificate()["exporter"], "name": other})
        for name in NAMES
        for other in NAMES
    ]


def alone(data: dict[str, Any]) -> bytes:
    """The document as a renderer with nothing parsed or cut yet makes it."""
    return CertificateRenderer(KEY, URL).render(data, "CODE1234", ISSUED_AT).pdf


def test_documents_rendered_at_once_by_one_renderer_equal_each_rendered_alone() -> None:
    documents = variants()
    expected = [alone(data) for data in documents]
    shared = CertificateRenderer(KEY, URL)

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(
            pool.map(lambda data: shared.render(data, "CODE1234", ISSUED_AT).pdf, documents * 3)
        )

    assert made == expected * 3
    assert all(verify_document(pdf, public_key_pem(KEY)).valid for pdf in made)
    assert "Αβοκάντο" in pdf_text(made[NAMES.index("Αβοκάντο авокадо") * len(NAMES)])
