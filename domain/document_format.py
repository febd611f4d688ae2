"""The signed certificate document: how a PDF carries its signatures, and how to check them.

A document is a PDF that embeds two files, `certificate.json` (the canonical certificate data,
byte for byte what was signed) and `certificate.sig` (the Ed25519 signature of those bytes,
base64), followed after `%%EOF` by one comment line over the whole file:

    %NOPIC-SIGNATURE <key id> <base64 Ed25519 signature of every byte before this line>

PDF readers ignore a comment after `%%EOF`, so the file still opens anywhere; changing any byte
of the PDF, or the embedded data, or checking with another key, fails `verify_document`.
Everything here works on bytes in memory, so the CLI, the API and the tests share it.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pypdf import PdfReader

from domain.canonical import canonical_bytes, parse_canonical
from domain.signing import key_id, sign, verify

DATA_NAME = "certificate.json"
SIGNATURE_NAME = "certificate.sig"
SEAL_PREFIX = b"%NOPIC-SIGNATURE "
_SEAL = re.compile(rb"%NOPIC-SIGNATURE ([0-9a-f]{16}) ([A-Za-z0-9+/]{86}==)\n")


class Problem(StrEnum):
    UNSIGNED = "unsigned"
    KEY_MISMATCH = "key_mismatch"
    DOCUMENT_SIGNATURE = "document_signature"
    DATA_MISSING = "data_missing"
    DATA_SIGNATURE = "data_signature"
    DATA_NOT_CANONICAL = "data_not_canonical"


@dataclass(frozen=True)
class DocumentCheck:
    problem: Problem | None
    reason: str
    key_id: str | None = None
    number: str | None = None
    data: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return self.problem is None


def encode_signature(signature: bytes) -> str:
    return base64.b64encode(signature).decode("ascii")


def seal(pdf: bytes, private_pem: bytes, signing_key_id: str) -> bytes:
    """The PDF followed by its signature line."""
    body = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    signature = encode_signature(sign(private_pem, body)).encode("ascii")
    return body + SEAL_PREFIX + signing_key_id.encode("ascii") + b" " + signature + b"\n"


def _unseal(document: bytes) -> tuple[bytes, str, bytes] | None:
    at = document.rfind(b"\n" + SEAL_PREFIX)
    if at < 0:
        return None
    found = _SEAL.fullmatch(document, at + 1)
    if found is None:
        return None
    return document[: at + 1], found.group(1).decode("ascii"), base64.b64decode(found.group(2))


def key_for(document: bytes, public_pems: Sequence[bytes]) -> bytes:
    """Of the keys given (the current one first, then those it replaced), the one whose id the
    document's seal names; the first when none does, which `verify_document` then refuses."""
    sealed = _unseal(document)
    if sealed is not None:
        for pem in public_pems:
            if key_id(pem) == sealed[1]:
                return pem
    return public_pems[0]


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF by name (first copy of each); empty if it does not parse."""
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        return {name: attachments[name][0] for name in attachments if attachments[name]}
    # The file is untrusted input: a damaged one makes pypdf fail in ways (AttributeError and
    # more) that are no part of its API, and every one of them means "no data here".
    except Exception:
        return {}


def verify_document(document: bytes, public_pem: bytes) -> DocumentCheck:
    """Check a document's two signatures with `public_pem`; the first problem found wins."""
    unsealed = _unseal(document)
    if unsealed is None:
        return DocumentCheck(Problem.UNSIGNED, "no NOP-IC signature line at the end of the file")
    body, signed_by, document_signature = unsealed
    expected = key_id(public_pem)
    files = embedded_files(body)
    raw = files.get(DATA_NAME)
    data = _parse(raw)
    number = data.get("number") if data else None
    check = _Check(signed_by, number if isinstance(number, str) else None, data)
    if signed_by != expected:
        return check.result(
            Problem.KEY_MISMATCH, f"signed with key {signed_by}, not with the given key {expected}"
        )
    if not verify(public_pem, body, document_signature):
        return check.result(
            Problem.DOCUMENT_SIGNATURE, "the document signature does not match: the file changed"
        )
    encoded = files.get(SIGNATURE_NAME)
    if raw is None or encoded is None:
        return check.result(
            Problem.DATA_MISSING, f"the PDF does not embed {DATA_NAME} and {SIGNATURE_NAME}"
        )
    try:
        data_signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        data_signature = b""
    if not verify(public_pem, raw, data_signature):
        return check.result(
            Problem.DATA_SIGNATURE, "the signature of the certificate data does not match"
        )
    if data is None or canonical_bytes(data) != raw:
        return check.result(
            Problem.DATA_NOT_CANONICAL, "the certificate data is not in its canonical form"
        )
    return check.result(None, "both signatures match")


def _parse(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return parse_canonical(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


@dataclass(frozen=True)
class _Check:
    signed_by: str
    number: str | None
    data: dict[str, Any] | None

    def result(self, problem: Problem | None, reason: str) -> DocumentCheck:
        return DocumentCheck(problem, reason, self.signed_by, self.number, self.data)
