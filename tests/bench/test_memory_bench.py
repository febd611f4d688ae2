"""`nopic bench memory` starts its own stack and prints the worker's RSS (never asserted)."""

from __future__ import annotations

import re

from tests.bench.run import nopic_bench

MIB = r"\d+\.\d"


def test_bench_memory_prints_the_idle_baseline_and_both_waiting_states() -> None:
    lines = nopic_bench("memory", "--certificates", "2", timeout=300)
    assert re.fullmatch(rf"idle worker \(baseline\)\s+{MIB}\s+-\s+-", lines[-3]), lines[-3]
    for state, line in zip(
        ("2 waiting for review", "2 delivered, waiting for expiry"), lines[-2:], strict=True
    ):
        assert re.fullmatch(rf"{state}\s+{MIB}\s+-?{MIB}\s+-?{MIB}", line), line
    assert any(line.startswith("in_review ") and "2/2" in line for line in lines)
    assert any(line.startswith("delivered ") and "2/2" in line for line in lines)
