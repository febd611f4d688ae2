"""After approval, over HTTP on the embedded stack: the signed certificate reaches the importer by
mail, the importer acknowledges it and records customs entries until it is used (R5-R7)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.stack import DevStack, login, wait_status

# In force from today: the public verification says `valid` only within the validity dates.
TODAY = datetime.now(UTC).date()
REQUEST: dict[str, Any] = {
    "importer_id": "5550000002",
    "coverage": "multiple_shipments",
    "valid_from": TODAY.isoformat(),
    "valid_until": (TODAY + timedelta(days=120)).isoformat(),
    "country_of_origin": "PE",
    "port_of_export": "Callao",
    "port_of_entry": "Los Angeles",
    "shipment": {"transport_mode": "sea", "bill_of_lading": "MSCU1234567", "containers": []},
    "lines": [
        {
            "hts_code": "1008500010",
            "product_name": "Organic white quinoa",
            "organic_category": "organic",
            "quantity_kg": 1000,
            "lot_numbers": ["Q-2026-40"],
        }
    ],
}


def _pdf_mail_to(stack: DevStack, to: str) -> tuple[Message, bytes]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for message in stack.mails():
            if to not in str(message.get("To", "")):
                continue
            for part in message.walk():
                if part.get_content_type() == "application/pdf":
                    payload = part.get_payload(decode=True)
                    assert isinstance(payload, bytes)
                    return message, payload
        time.sleep(0.3)
    raise AssertionError(f"no mail with a PDF to {to}: {[m['Subject'] for m in stack.mails()]}")


def _verify(stack: DevStack, pdf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", str(pdf)],
        env={**os.environ, "NOPIC_DATA_DIR": str(stack.data_dir)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _entry(number: str, line: int, kg: int) -> dict[str, Any]:
    return {
        "entry_number": number,
        "line_number": line,
        "quantity_kg": kg,
        "entry_date": TODAY.isoformat(),
        "port_of_entry": "Los Angeles",
    }


def test_approved_certificate_is_delivered_acknowledged_and_used(
    stack: DevStack, tmp_path: Path
) -> None:
    stack.start()
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        exporter = login(client, "exporter@demo.test")
        certifier = login(client, "certifier@demo.test")
        importer = login(client, "importer@demo.test")

        created = client.post("/api/requests", json=REQUEST, headers=exporter)
        assert created.status_code == 201, created.text
        cert = created.json()["certificates"][0]["id"]
        wait_status(client, exporter, cert, "in_review")
        task = next(
            t
            for t in client.get("/api/tasks", headers=certifier).json()["items"]
            if t["certificate_id"] == cert
        )
        assert client.post(f"/api/tasks/{task['id']}/claim", headers=certifier).status_code == 200
        approved = client.post(
            f"/api/certificates/{cert}/decision",
            json={"decision": "approve", "comment": "ok"},
            headers=certifier,
        )
        assert approved.status_code == 200, approved.text

        # The importer's mail carries the signed PDF; anyone can check it offline.
        mail, pdf = _pdf_mail_to(stack, "importer@demo.test")
        body = wait_status(client, importer, cert, "delivered")
        number = body["number"]
        assert len(number) == 21
        assert number.startswith("555-5550000001-")
        assert number in str(mail["Subject"]) + mail.as_string()
        assert pdf.startswith(b"%PDF")
        saved = tmp_path / f"{number}.pdf"
        saved.write_bytes(pdf)
        checked = _verify(stack, saved)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "VALID" in checked.stdout
        tampered = tmp_path / "tampered.pdf"
        middle = len(pdf) // 2
        tampered.write_bytes(pdf[:middle] + bytes([pdf[middle] ^ 1]) + pdf[middle + 1 :])
        assert _verify(stack, tampered).returncode != 0
        _pdf_mail_to(stack, "exporter@demo.test")  # the exporter's copy

        verified = client.get(f"/api/verify/{number}", params={"code": body["verification_code"]})
        assert verified.status_code == 200
        assert verified.json()["valid"] is True

        ack = client.post(f"/api/certificates/{cert}/acknowledge", headers=importer)
        assert ack.status_code == 200, ack.text

        url = f"/api/certificates/{cert}/entries"
        first = client.post(url, json=_entry("ENT-0001", 1, 400), headers=importer)
        assert first.status_code == 201, first.text
        assert first.json()["remaining_kg"] == 600
        again = client.post(url, json=_entry("ENT-0001", 1, 400), headers=importer)
        assert again.status_code == 200, again.text
        assert again.json()["remaining_kg"] == 600
        over = client.post(url, json=_entry("ENT-0002", 1, 700), headers=importer)
        assert over.status_code == 409, over.text
        after_refusal = client.get(f"/api/certificates/{cert}", headers=importer).json()
        assert after_refusal["remaining_kg"] == 600
        assert after_refusal["status"] == "delivered"
        last = client.post(url, json=_entry("ENT-0002", 1, 600), headers=importer)
        assert last.status_code == 201, last.text
        assert last.json()["status"] == "used"
        assert last.json()["remaining_kg"] == 0

        customs = client.get(f"/api/certificates/{cert}/customs", headers=importer).json()
        assert customs["number"] == number
        assert sorted((e["entry_number"], e["quantity_kg"]) for e in customs["entries"]) == [
            ("ENT-0001", 400),
            ("ENT-0002", 600),
        ]
        final = client.get(f"/api/certificates/{cert}", headers=exporter).json()
        assert final["status"] == "used"
        assert final["acknowledged_at"] is not None
