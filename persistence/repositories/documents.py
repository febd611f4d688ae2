"""Issued certificate documents: the data they attest, and the rendered, signed files.

`canonical_data` gathers everything the document shows, as plain values; the activity signs
its canonical bytes. The verification code is deliberately not part of it: the code is a bearer
secret for the public verify page, printed on the document and in its QR code (so the signed PDF
covers it), but the attested certificate content is the same without it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.canonical import CANONICAL_VERSION
from domain.errors import Conflict, NotFound
from domain.hts import reference_catalogue
from domain.model import Actor
from persistence.models import Certificate, CertificateDocument, ImportRequest, Organisation
from persistence.repositories.scope import certificate_readable_by

SCHEMA = "nopic-certificate"


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def canonical_data(
        self, certificate_id: str, *, issued_at: datetime | None = None
    ) -> dict[str, Any]:
        """What the document of a numbered certificate attests (issued_at defaults to the row's).

        NotFound for an unknown certificate; Conflict while it has no number or issuance time.
        """
        certificate = await self.session.get(Certificate, certificate_id)
        if certificate is None:
            raise NotFound(f"certificate {certificate_id} not found", code="certificate_not_found")
        issued = issued_at or certificate.issued_at
        if certificate.number is None or issued is None:
            raise Conflict(
                f"certificate {certificate_id} has no number or issuance time yet",
                code="not_numbered",
            )
        request = await self.session.get(ImportRequest, certificate.request_id)
        assert request is not None, "a certificate row always has its request"
        replaces = None
        if certificate.replaces_id is not None:
            replaces = await self.session.scalar(
                select(Certificate.number).where(Certificate.id == certificate.replaces_id)
            )
        shipment = request.shipment
        return {
            "schema": SCHEMA,
            "version": CANONICAL_VERSION,
            "certificate_id": certificate.id,
            "number": certificate.number,
            "revision": certificate.revision,
            "replaces_number": replaces,
            "issued_at": issued,
            "certifier": await self._party(certificate.certifier_id, "code"),
            "exporter": await self._party(certificate.exporter_id, "operation_id"),
            "importer": await self._party(certificate.importer_id, "operation_id"),
            "product_name": certificate.product_name,
            "hts_code": certificate.hts_code,
            "hts_description": reference_catalogue().description(certificate.hts_code),
            "organic_category": certificate.organic_category,
            "quantity_kg": certificate.quantity_kg,
            "lot_numbers": list(certificate.lot_numbers),
            "coverage": certificate.coverage,
            "valid_from": certificate.valid_from,
            "valid_until": certificate.valid_until,
            "country_of_origin": request.country_of_origin,
            "port_of_export": request.port_of_export,
            "port_of_entry": request.port_of_entry,
            "shipment": {
                "transport_mode": shipment.get("transport_mode"),
                "bill_of_lading": shipment.get("bill_of_lading"),
                "containers": list(shipment.get("containers") or []),
            },
        }

    async def _party(self, organisation_id: str, id_name: str) -> dict[str, str]:
        organisation = await self.session.get(Organisation, organisation_id)
        assert organisation is not None, "certificates reference existing organisations"
        return {
            id_name: organisation.id,
            "name": organisation.name,
            "country": organisation.country,
        }

    async def store(self, document: CertificateDocument) -> CertificateDocument:
        """Insert the document unless the certificate has one: the first rendering stays."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {
            column.key: getattr(document, column.key)
            for column in CertificateDocument.__table__.columns
        }
        await self.session.execute(
            insert(CertificateDocument).values(**values).on_conflict_do_nothing()
        )
        stored = await self.get(document.certificate_id)
        assert stored is not None, "inserted above or by an earlier attempt"
        return stored

    async def get(self, certificate_id: str) -> CertificateDocument | None:
        return await self.session.get(CertificateDocument, certificate_id)

    async def by_number(self, number: str) -> CertificateDocument | None:
        return await self.session.scalar(
            select(CertificateDocument).where(CertificateDocument.number == number)
        )

    async def get_visible(self, actor: Actor, certificate_id: str) -> CertificateDocument:
        """The document of a certificate the actor is a party to; NotFound otherwise (404)."""
        found = await self.session.scalar(
            select(CertificateDocument)
            .join(Certificate, Certificate.id == CertificateDocument.certificate_id)
            .where(CertificateDocument.certificate_id == certificate_id)
            .where(certificate_readable_by(actor))
        )
        if found is None:
            raise NotFound("no issued document for this certificate", code="document_not_found")
        return found
