"""The queue benchmark runs and prints its figures (speed itself is never asserted here)."""

from __future__ import annotations

import subprocess
import sys

from cli.bench import QUEUE_INDEXES, bench_queue


async def test_bench_measures_every_query_with_and_without_the_indexes() -> None:
    timings, over_http = await bench_queue(count=600, repeat=2, database_url=None)
    assert [t.name for t in timings] == [
        "tasks: first page",
        "tasks: page 21 by cursor",
        "tasks: mine, overdue",
        "certificates: in review",
    ]
    assert all(t.indexed_ms > 0 and t.baseline_ms > 0 for t in timings)
    assert "ix_tasks_live" in QUEUE_INDEXES
    assert [t.name for t in over_http] == [
        "queue: first page",
        "queue: page 21 by cursor",
        "exporter's certificates",
        "timeline (5000 events)",
        "admin stats",
    ]
    assert all(t.http_p50 > 0 and t.sql_p50 > 0 and t.http_p95 >= t.http_p50 for t in over_http)
    assert all(t.query_p50 > 0 and t.query_p95 >= t.query_p50 for t in over_http)
    assert all(t.httpx_p50 > 0 for t in over_http)


def test_bench_command_prints_a_table_of_figures_and_ratios() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "bench",
            "queue",
            "--certificates",
            "300",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = done.stdout.splitlines()
    assert any(line.startswith("query") and "ratio" in line for line in lines)
    # Four queries with and without their indexes, four reads over HTTP against their query.
    assert sum(line.rstrip().endswith("x") for line in lines) == 9
    assert any(line.startswith("read") and "http p95" in line for line in lines)
