"""Issuance side effects: the certificate number (R5) and the signed document (DESIGN 4.3).

Both activities are idempotent: a retry gets the number allocated by the first attempt, and a
document once stored is never rendered again, so its hash and signature stay those delivered.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.rendering import CertificateRenderer
from domain.errors import Conflict, NotFound
from persistence.db import transaction
from persistence.models import Certificate, CertificateDocument
from persistence.repositories import DocumentRepository, NumberRepository
from workflows.contracts import ALLOCATE_NUMBER_ACTIVITY, RENDER_DOCUMENT_ACTIVITY
from workflows.payloads import (
    AllocatedNumber,
    AllocateNumberInput,
    RenderDocumentInput,
    RenderedDocument,
)


class DocumentActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signing_key_pem: bytes,
        public_url: str,
    ) -> None:
        self.sessions = sessions
        self.renderer = CertificateRenderer(signing_key_pem, public_url)

    @activity.defn(name=ALLOCATE_NUMBER_ACTIVITY)
    async def allocate_number(self, input: AllocateNumberInput) -> AllocatedNumber:
        try:
            async with transaction(self.sessions) as session:
                number, code = await NumberRepository(session).allocate(input.certificate_id)
        except NotFound as exc:
            raise ApplicationError(
                exc.detail, type="CertificateNotFound", non_retryable=True
            ) from exc
        except Conflict as exc:
            # Another attempt numbered it in between: the next attempt reads that number.
            raise ApplicationError(exc.detail, type="NumberRace") from exc
        except ValueError as exc:
            raise ApplicationError(
                str(exc), type="NumberSequenceExhausted", non_retryable=True
            ) from exc
        return AllocatedNumber(number=number, verification_code=code)

    @activity.defn(name=RENDER_DOCUMENT_ACTIVITY)
    async def render_document(self, input: RenderDocumentInput) -> RenderedDocument:
        issued_at = input.issued_at.astimezone(UTC)
        async with transaction(self.sessions) as session:
            documents = DocumentRepository(session)
            existing = await documents.get(input.certificate_id)
            if existing is not None:
                return RenderedDocument(sha256=existing.pdf_sha256, key_id=existing.key_id)
            certificate = await session.get(Certificate, input.certificate_id)
            if certificate is None:
                raise ApplicationError(
                    f"certificate {input.certificate_id} not found",
                    type="CertificateNotFound",
                    non_retryable=True,
                )
            if certificate.number is None or certificate.verification_code is None:
                raise ApplicationError(
                    f"certificate {input.certificate_id} has no number: allocate it first",
                    type="CertificateNotNumbered",
                    non_retryable=True,
                )
            data = await documents.canonical_data(input.certificate_id, issued_at=issued_at)
            code = certificate.verification_code
        # Rendering takes a CPU for a while: off the event loop, and outside any transaction.
        rendered = await asyncio.to_thread(self.renderer.render, data, code, issued_at)
        async with transaction(self.sessions) as session:
            stored = await DocumentRepository(session).store(
                CertificateDocument(
                    certificate_id=input.certificate_id,
                    number=data["number"],
                    canonical_data=rendered.canonical.decode("utf-8"),
                    signature=rendered.signature,
                    key_id=rendered.key_id,
                    html=rendered.html,
                    pdf=rendered.pdf,
                    pdf_sha256=rendered.pdf_sha256,
                    created_at=datetime.now(UTC),
                )
            )
        return RenderedDocument(sha256=stored.pdf_sha256, key_id=stored.key_id)
