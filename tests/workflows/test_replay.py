"""Recorded histories of every released workflow version replay on today's code (DESIGN 4.1).

A failure here means a change is not deterministic for workflows already running: put it behind
`workflow.patched`. New histories come from `record_histories.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.certificate import CertificateWorkflow
from workflows.import_request import ImportRequestWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_of_each_workflow_are_kept() -> None:
    names = {path.stem.rsplit("-", 1)[0] for path in HISTORIES}
    assert {"import_request", "certificate_review", "certificate_rejected"} <= names
    # Version 2: the issued life to each of its terminal states, and a replacement's own life.
    assert {
        "certificate_expired",
        "certificate_used",
        "certificate_voided",
        "certificate_replaced",
        "certificate_replacement",
    } <= names
    # Version 3: mail beside the main loop, atomic replacement, a delivery refused for good.
    assert "certificate_delivery_failed" in names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[ImportRequestWorkflow, CertificateWorkflow],
        data_converter=pydantic_data_converter,
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
