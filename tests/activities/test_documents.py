"""The issued document: rendered once, showing every field, signed so that any change shows."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.documents import DocumentActivities
from domain.canonical import canonical_bytes, parse_canonical
from domain.document_format import (
    DATA_NAME,
    SIGNATURE_NAME,
    Problem,
    embedded_files,
    seal,
    verify_document,
)
from domain.signing import generate_private_key_pem, key_id, public_key_pem
from persistence.db import transaction
from persistence.models import Certificate, CertificateDocument
from persistence.repositories import DocumentRepository
from tests.activities.test_numbers import approved
from tests.activities.test_pdf_layout import drawn_qr, qr_modules
from workflows.payloads import AllocateNumberInput, RenderDocumentInput

KEY = generate_private_key_pem()
PUBLIC = public_key_pem(KEY)
ISSUED_AT = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
PUBLIC_URL = "https://nopic.example"


def activities(sessions: async_sessionmaker[AsyncSession]) -> DocumentActivities:
    return DocumentActivities(sessions, KEY, PUBLIC_URL)


async def issued(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, CertificateDocument]:
    """A numbered certificate with shipment details, and its rendered document."""
    [certificate] = await approved(sessions, lots=["L-2026-11", "L-2026-12"])
    async with transaction(sessions) as session:
        await session.execute(
            update(Certificate)
            .where(Certificate.id == certificate)
            .values(product_name="Fresh Hass avocados (Señor de Muruhuay)")
        )
    documents = activities(sessions)
    await documents.allocate_number(AllocateNumberInput(certificate_id=certificate))
    rendered = await documents.render_document(
        RenderDocumentInput(certificate_id=certificate, issued_at=ISSUED_AT)
    )
    async with sessions() as session:
        document = await DocumentRepository(session).get(certificate)
    assert document is not None
    assert (rendered.sha256, rendered.key_id) == (document.pdf_sha256, key_id(PUBLIC))
    return certificate, document


@pytest.fixture
async def document(sessions) -> CertificateDocument:
    return (await issued(sessions))[1]


async def test_the_rendered_pdf_verifies_with_the_signing_key(document) -> None:
    check = verify_document(document.pdf, PUBLIC)

    assert check.valid, check.reason
    assert (check.number, check.key_id) == (document.number, key_id(PUBLIC))
    assert check.data is not None
    assert canonical_bytes(check.data) == document.canonical_data.encode()


async def test_the_canonical_data_holds_every_field_but_not_the_code(sessions, document) -> None:
    data = parse_canonical(document.canonical_data.encode())

    assert data["number"] == document.number == "555-5550000001-000001"
    assert data["issued_at"] == "2026-11-20T14:30:00+00:00"
    assert data["certifier"] == {
        "code": "555",
        "name": data["certifier"]["name"],
        "country": data["certifier"]["country"],
    }
    assert data["exporter"]["operation_id"] == "5550000001"
    assert data["importer"]["operation_id"] == "5550000002"
    assert (data["hts_code"], data["quantity_kg"]) == ("0804400020", "100")
    assert data["hts_description"].endswith("Hass-like: Certified organic")
    assert data["lot_numbers"] == ["L-2026-11", "L-2026-12"]
    assert data["shipment"] == {
        "transport_mode": "sea",
        "bill_of_lading": "MSCU1234567",
        "containers": [],
    }
    async with sessions() as session:
        code = await session.scalar(
            select(Certificate.verification_code).where(Certificate.number == document.number)
        )
    assert code is not None
    assert code not in document.canonical_data


def leaves(value: object) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in leaves(v)]
    return [] if value is None else [str(value)]


# Values the page shows in words rather than as stored.
SHOWN_AS = {
    "single_shipment": "Single shipment",
    "organic": "Organic",
    "sea": "Sea",
    "2026-11-20T14:30:00+00:00": "2026-11-20 14:30 UTC",
    "nopic-certificate": None,
}


async def test_the_html_shows_every_field_the_number_code_and_qr(sessions, document) -> None:
    data = parse_canonical(document.canonical_data.encode())
    async with sessions() as session:
        code = await session.scalar(
            select(Certificate.verification_code).where(Certificate.number == document.number)
        )
    for value in leaves(data):
        shown = SHOWN_AS.get(value, value)
        if shown is not None and value != str(data["version"]):
            assert shown in document.html, value
    assert f"{PUBLIC_URL}/verify/{document.number}?code={code}" in document.html
    assert 'src="data:image/svg+xml' in document.html
    assert document.signature in document.html


async def test_the_pdf_opens_and_shows_number_hts_code_parties_and_qr(sessions, document) -> None:
    reader = PdfReader(io.BytesIO(document.pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    data = parse_canonical(document.canonical_data.encode())

    for shown in (
        document.number,
        "0804400020",
        data["certifier"]["name"],
        data["exporter"]["name"],
        data["importer"]["name"],
        "Fresh Hass avocados (Señor de Muruhuay)",
        "L-2026-11, L-2026-12",
        "2026-12-01",
        "Los Angeles",
    ):
        assert shown in text
    async with sessions() as session:
        code = await session.scalar(
            select(Certificate.verification_code).where(Certificate.number == document.number)
        )
    qr = qr_modules(f"{PUBLIC_URL}/verify/{document.number}?code={code}")
    assert drawn_qr(document.pdf, len(qr)) == qr
    assert set(embedded_files(document.pdf)) == {DATA_NAME, SIGNATURE_NAME}


async def test_a_second_render_returns_the_stored_document(sessions) -> None:
    certificate, document = await issued(sessions)

    again = await activities(sessions).render_document(
        RenderDocumentInput(certificate_id=certificate, issued_at=datetime.now(UTC))
    )

    assert again.sha256 == document.pdf_sha256
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CertificateDocument)) == 1


async def test_rendering_before_numbering_is_a_permanent_failure(sessions) -> None:
    [certificate] = await approved(sessions)

    with pytest.raises(ApplicationError) as failure:
        await activities(sessions).render_document(
            RenderDocumentInput(certificate_id=certificate, issued_at=ISSUED_AT)
        )

    assert (failure.value.type, failure.value.non_retryable) == ("CertificateNotNumbered", True)


def flipped(pdf: bytes, at: int) -> bytes:
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


async def test_flipping_any_byte_of_the_pdf_fails_the_check(document) -> None:
    pdf = document.pdf
    positions = {0, len(pdf) // 2, len(pdf) - 2, pdf.index(b"%%EOF"), *range(0, len(pdf), 997)}
    positions.add(pdf.index(document.number.encode()))

    for at in sorted(positions):
        check = verify_document(flipped(pdf, at), PUBLIC)
        assert not check.valid, at
        assert check.problem in (Problem.DOCUMENT_SIGNATURE, Problem.UNSIGNED), at


async def test_changed_embedded_data_fails_even_when_the_file_is_resealed(document) -> None:
    # The embedded JSON is stored uncompressed: change the quantity in place.
    original = b'"quantity_kg":"100"'
    changed = document.pdf.replace(original, b'"quantity_kg":"900"')
    assert changed != document.pdf

    assert verify_document(changed, PUBLIC).problem is Problem.DOCUMENT_SIGNATURE
    body = changed[: changed.rindex(b"%NOPIC-SIGNATURE")]
    resealed = seal(body, KEY, key_id(PUBLIC))
    check = verify_document(resealed, PUBLIC)
    assert check.problem is Problem.DATA_SIGNATURE
    assert check.data is not None
    assert check.data["quantity_kg"] == "900"


async def test_another_key_fails_the_check(document) -> None:
    other = public_key_pem(generate_private_key_pem())

    check = verify_document(document.pdf, other)

    assert check.problem is Problem.KEY_MISMATCH
    assert check.number == document.number


async def test_a_pdf_without_the_signature_line_fails_the_check(document) -> None:
    body = document.pdf[: document.pdf.rindex(b"%NOPIC-SIGNATURE")]

    assert verify_document(body, PUBLIC).problem is Problem.UNSIGNED
    assert verify_document(document.pdf + b"\n", PUBLIC).problem is Problem.UNSIGNED


async def test_a_signed_file_that_is_no_certificate_pdf_fails_the_check() -> None:
    assert verify_document(b"not a pdf at all", PUBLIC).problem is Problem.UNSIGNED
    sealed = seal(b"%PDF-1.7\nnot really\n%%EOF\n", KEY, key_id(PUBLIC))

    check = verify_document(sealed, PUBLIC)

    assert check.problem is Problem.DATA_MISSING
    assert check.number is None


async def test_a_replacement_names_the_number_it_replaces(sessions) -> None:
    original, first = await issued(sessions)
    [replacement] = await approved(sessions)
    async with transaction(sessions) as session:
        await session.execute(
            update(Certificate)
            .where(Certificate.id == replacement)
            .values(replaces_id=original, revision=1, quantity_kg=Decimal(90))
        )
    documents = activities(sessions)
    await documents.allocate_number(AllocateNumberInput(certificate_id=replacement))
    await documents.render_document(
        RenderDocumentInput(certificate_id=replacement, issued_at=ISSUED_AT)
    )

    async with sessions() as session:
        document = await DocumentRepository(session).get(replacement)
    assert document is not None
    data = parse_canonical(document.canonical_data.encode())
    assert (data["replaces_number"], data["revision"]) == (first.number, 1)
    assert f"replaces certificate {first.number}" in document.html
    assert document.number == "555-5550000001-000002"
