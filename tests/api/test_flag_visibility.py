"""Screening flags carry the exporter's capacity and volumes: its certifier and the exporter see
them with their figures in every answer; the importer sees none, in no answer at all."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    Auth,
    in_force,
    in_review,
    line,
    review_task,
    wait_status,
)

# 460,000 kg of the exporter's 500,000 kg of avocados a year: over 90%, a soft flag for review.
FLAGGED = {**in_force(), "lines": [line(quantity_kg=460_000)]}
FIGURES = {"annual_capacity_kg": 500_000, "used_kg": 0, "requested_kg": 460_000, "left_kg": 500_000}
# Words of a flag that no answer to the importer may contain.
FLAG_WORDS = ("mass_balance", "capacity", "findings", "500000.0")


def assert_flag_with_figures(flags: list[dict[str, Any]]) -> None:
    assert [(f["rule"], f["code"], f["hard"]) for f in flags] == [
        ("R4", "mass_balance_high", False)
    ]
    assert flags[0]["details"] == FIGURES


def assert_no_flag(response: httpx.Response) -> None:
    assert response.status_code in (200, 201), response.text
    for word in FLAG_WORDS:
        assert word not in response.text, f"{response.request.url}: {word} in {response.text}"


async def answers(
    api: httpx.AsyncClient, auth: Auth, email: str, certificate_id: str
) -> dict[str, httpx.Response]:
    """What `email` reads of the certificate: its detail, the list and its timeline."""
    url = f"/api/certificates/{certificate_id}"
    detail = await api.get(url, headers=auth(email))
    listed = await api.get("/api/certificates", headers=auth(email))
    events = await api.get(f"{url}/events", headers=auth(email))
    return {"detail": detail, "list": listed, "events": events}


@pytest.fixture
async def flagged(live_api: httpx.AsyncClient, auth: Auth) -> tuple[str, dict[str, Any]]:
    """A certificate in review with a mass balance flag: (certificate id, its review task)."""
    return await in_review(live_api, auth, **FLAGGED)


@pytest.mark.parametrize("email", [CERTIFIER, EXPORTER])
async def test_the_certifier_and_the_exporter_read_the_flags_with_the_capacity_figures(
    live_api: httpx.AsyncClient, auth: Auth, flagged: tuple[str, dict[str, Any]], email: str
):
    certificate_id, _ = flagged

    read = await answers(live_api, auth, email, certificate_id)

    assert_flag_with_figures(read["detail"].json()["flags"])
    [item] = [c for c in read["list"].json()["items"] if c["id"] == certificate_id]
    assert_flag_with_figures(item["flags"])
    [screening] = [e for e in read["events"].json()["items"] if e["action"] == "screening_passed"]
    assert_flag_with_figures(screening["detail"]["findings"])


async def test_the_importer_reads_no_flag_in_the_detail_the_list_or_the_timeline(
    live_api: httpx.AsyncClient, auth: Auth, flagged: tuple[str, dict[str, Any]]
):
    certificate_id, _ = flagged

    read = await answers(live_api, auth, IMPORTER, certificate_id)

    for response in read.values():
        assert_no_flag(response)
    assert read["detail"].json()["flags"] == []
    [item] = [c for c in read["list"].json()["items"] if c["id"] == certificate_id]
    assert item["flags"] == []
    actions = [e["action"] for e in read["events"].json()["items"]]
    assert "screening_passed" in actions, "the event is there, only its findings are not"


async def test_command_answers_show_the_flags_to_whom_they_belong_and_never_to_the_importer(
    live_api: httpx.AsyncClient, auth: Auth, flagged: tuple[str, dict[str, Any]]
):
    certificate_id, task = flagged
    url = f"/api/certificates/{certificate_id}"

    claimed = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    asked = await live_api.post(
        f"{url}/decision",
        json={"decision": "request_info", "comment": "Which orchards?"},
        headers=auth(CERTIFIER),
    )
    answered = await live_api.post(
        f"{url}/answer", json={"message": "Orchards 4 and 7."}, headers=auth(EXPORTER)
    )
    await review_task(live_api, auth, certificate_id, state="claimed")
    approved = await live_api.post(
        f"{url}/decision", json={"decision": "approve"}, headers=auth(CERTIFIER)
    )
    await wait_status(live_api, auth, certificate_id, "delivered")
    acknowledged = await live_api.post(f"{url}/acknowledge", headers=auth(IMPORTER))
    voided = await live_api.post(
        f"{url}/void", json={"reason": "Issued in error."}, headers=auth(CERTIFIER)
    )

    assert claimed.status_code == 200, claimed.text
    for response in (asked, answered, approved, voided):
        assert response.status_code == 200, response.text
        assert_flag_with_figures(response.json()["flags"])
    assert_no_flag(acknowledged)
    assert acknowledged.json()["flags"] == []
    # The whole life afterwards, as the importer reads it: still no flag anywhere.
    for response in (await answers(live_api, auth, IMPORTER, certificate_id)).values():
        assert_no_flag(response)
