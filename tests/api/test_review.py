"""The review of a certificate through the API: queue, claim, decide, answer, withdraw."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.flow import (
    CERTIFIER,
    CERTIFIER2,
    EXPORTER,
    IMPORTER,
    Auth,
    in_review,
    review_task,
    submit,
)
from tests.conftest import SmtpServer


async def test_full_review_with_an_information_request(
    live_api: httpx.AsyncClient, auth: Auth, smtp_server: SmtpServer
):
    created = await submit(live_api, auth)
    certificate_id = created["certificates"][0]["id"]

    task = await review_task(live_api, auth, certificate_id)
    assert task["kind"] == "review"
    assert task["assignee"] is None
    await smtp_server.wait_for(1)  # the certifiers are told a review task is waiting

    claimed = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert claimed.status_code == 200, claimed.text
    me = (await live_api.get("/api/me", headers=auth(CERTIFIER))).json()
    assert (claimed.json()["state"], claimed.json()["assignee"]) == ("claimed", me["id"])

    asked = await live_api.post(
        f"/api/certificates/{certificate_id}/decision",
        json={"decision": "request_info", "comment": "Which orchard are lots L-2026-11 from?"},
        headers=auth(CERTIFIER),
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "info_requested"
    assert asked.json()["awaiting"] == "exporter"

    answered = await live_api.post(
        f"/api/certificates/{certificate_id}/answer",
        json={"message": "Orchard Santa Rosa, Ica."},
        headers=auth(EXPORTER),
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "in_review"
    assert answered.json()["tasks"] == [], "the review queue is not shown to the exporter"

    # The answer goes back to the certifier who asked; claiming it again changes nothing.
    again = await review_task(live_api, auth, certificate_id, state="claimed")
    reclaimed = await live_api.post(f"/api/tasks/{again['id']}/claim", headers=auth(CERTIFIER))
    assert reclaimed.status_code == 200, reclaimed.text
    approved = await live_api.post(
        f"/api/certificates/{certificate_id}/decision",
        json={"decision": "approve", "comment": ""},
        headers=auth(CERTIFIER),
    )
    assert approved.status_code == 200, approved.text
    # Issuance follows in the same workflow task, the delivery soon after: the answer may show
    # them done already.
    assert approved.json()["status"] in {"approved", "issued", "delivered"}
    issued = approved.json()["status"] in {"issued", "delivered"}
    assert (approved.json()["number"] is not None) == issued, "a number only at issuance"
    assert [t["state"] for t in approved.json()["tasks"]] == ["closed", "closed"]

    events = await live_api.get(
        f"/api/certificates/{certificate_id}/events", headers=auth(IMPORTER)
    )
    assert events.status_code == 200, events.text
    timeline = [(e["action"], e["to_status"]) for e in events.json()["items"]]
    assert timeline[:6] == [
        ("submitted", "submitted"),
        ("screening_passed", "in_review"),
        ("claimed", "in_review"),
        ("info_requested", "info_requested"),
        ("answered", "in_review"),
        ("approved", "approved"),
    ]
    assert timeline[6:7] in ([], [("issued", "issued")])
    assert events.json()["next_cursor"] is None


async def test_events_are_paged_with_a_cursor(live_api: httpx.AsyncClient, auth: Auth):
    certificate_id, task = await in_review(live_api, auth)
    await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    url = f"/api/certificates/{certificate_id}/events"

    first = (await live_api.get(url, params={"limit": 2}, headers=auth(EXPORTER))).json()
    rest = await live_api.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(EXPORTER)
    )

    assert [e["action"] for e in first["items"]] == ["submitted", "screening_passed"]
    assert [e["action"] for e in rest.json()["items"]] == ["claimed"]
    assert rest.json()["next_cursor"] is None


async def test_second_claim_gets_409(live_api: httpx.AsyncClient, auth: Auth):
    _, task = await in_review(live_api, auth)
    first = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert first.status_code == 200, first.text

    second = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER2))

    assert second.status_code == 409
    assert second.json()["code"] == "task_taken"


async def test_two_certifiers_claiming_at_once_one_wins(live_api: httpx.AsyncClient, auth: Auth):
    _, task = await in_review(live_api, auth)

    responses = await asyncio.gather(
        *(
            live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(email))
            for email in (CERTIFIER, CERTIFIER2)
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 409]


async def test_a_double_click_on_claim_is_one_claim(live_api: httpx.AsyncClient, auth: Auth):
    certificate_id, task = await in_review(live_api, auth)

    responses = await asyncio.gather(
        *(live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER)) for _ in "ab")
    )

    assert [r.status_code for r in responses] == [200, 200]
    events = await live_api.get(
        f"/api/certificates/{certificate_id}/events", headers=auth(CERTIFIER)
    )
    assert [e["action"] for e in events.json()["items"]].count("claimed") == 1


async def test_release_opens_the_task_again_and_only_the_holder_releases(
    live_api: httpx.AsyncClient, auth: Auth
):
    _, task = await in_review(live_api, auth)
    await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))

    by_other = await live_api.post(f"/api/tasks/{task['id']}/release", headers=auth(CERTIFIER2))
    released = await live_api.post(f"/api/tasks/{task['id']}/release", headers=auth(CERTIFIER))
    claimed_by_other = await live_api.post(
        f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER2)
    )

    assert (by_other.status_code, by_other.json()["code"]) == (409, "task_taken")
    assert released.status_code == 200, released.text
    assert (released.json()["state"], released.json()["assignee"]) == ("open", None)
    assert claimed_by_other.status_code == 200, claimed_by_other.text


async def test_decision_without_claim_gets_409(live_api: httpx.AsyncClient, auth: Auth):
    certificate_id, _ = await in_review(live_api, auth)

    response = await live_api.post(
        f"/api/certificates/{certificate_id}/decision",
        json={"decision": "approve"},
        headers=auth(CERTIFIER),
    )

    assert response.status_code == 409
    assert response.json()["code"] == "task_not_claimed"


async def test_an_exporter_cannot_decide(live_api: httpx.AsyncClient, auth: Auth):
    certificate_id, _ = await in_review(live_api, auth)

    response = await live_api.post(
        f"/api/certificates/{certificate_id}/decision",
        json={"decision": "approve"},
        headers=auth(EXPORTER),
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_reject_and_request_info_need_a_comment(live_api: httpx.AsyncClient, auth: Auth):
    certificate_id, _ = await in_review(live_api, auth)

    for decision in ("reject", "request_info"):
        response = await live_api.post(
            f"/api/certificates/{certificate_id}/decision",
            json={"decision": decision, "comment": "  "},
            headers=auth(CERTIFIER),
        )
        assert response.status_code == 422
        assert response.json()["detail"].startswith("comment: ")


async def test_withdraw_after_approval_gets_409(live_api: httpx.AsyncClient, auth: Auth):
    certificate_id, task = await in_review(live_api, auth)
    await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    approved = await live_api.post(
        f"/api/certificates/{certificate_id}/decision",
        json={"decision": "approve"},
        headers=auth(CERTIFIER),
    )
    assert approved.status_code == 200, approved.text

    response = await live_api.post(
        f"/api/certificates/{certificate_id}/withdraw",
        json={"reason": "changed our mind"},
        headers=auth(EXPORTER),
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"


async def test_exporter_withdraws_before_the_decision(live_api: httpx.AsyncClient, auth: Auth):
    certificate_id, _ = await in_review(live_api, auth)

    response = await live_api.post(
        f"/api/certificates/{certificate_id}/withdraw",
        json={"reason": "the buyer cancelled"},
        headers=auth(EXPORTER),
    )
    again = await live_api.post(
        f"/api/certificates/{certificate_id}/withdraw",
        json={"reason": "the buyer cancelled"},
        headers=auth(EXPORTER),
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")
    queue = await live_api.get("/api/tasks", headers=auth(CERTIFIER))
    assert certificate_id not in [t["certificate_id"] for t in queue.json()["items"]]


async def test_a_command_on_a_finished_certificate_gets_409(
    live_api: httpx.AsyncClient, auth: Auth
):
    certificate_id, task = await in_review(live_api, auth)
    await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    rejected = await live_api.post(
        f"/api/certificates/{certificate_id}/decision",
        json={"decision": "reject", "comment": "Lots not on the organic system plan."},
        headers=auth(CERTIFIER),
    )
    assert rejected.json()["status"] == "rejected"

    response = await live_api.post(
        f"/api/certificates/{certificate_id}/answer",
        json={"message": "but why?"},
        headers=auth(EXPORTER),
    )

    assert response.status_code == 409


async def test_a_retried_command_with_the_same_idempotency_key_is_applied_once(
    live_api: httpx.AsyncClient, auth: Auth
):
    _, task = await in_review(live_api, auth)
    await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    url = f"/api/tasks/{task['id']}/release"
    keyed = {**auth(CERTIFIER), "Idempotency-Key": "release-1"}

    first = await live_api.post(url, headers=keyed)
    retried = await live_api.post(url, headers=keyed)
    fresh = await live_api.post(url, headers=auth(CERTIFIER))

    assert (first.status_code, retried.status_code) == (200, 200)
    assert retried.json()["state"] == "open"
    # Without the key it is a new command, and there is nothing left to release.
    assert (fresh.status_code, fresh.json()["code"]) == (409, "task_not_claimed")
