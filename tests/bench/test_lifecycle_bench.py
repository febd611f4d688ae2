"""`nopic bench lifecycle` against a started stack prints every figure (timings never asserted)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.bench_lifecycle_http import CALL_KINDS
from tests.e2e.stack import DevStack

NUMBER = r"\d+\.\d+"
BENCH = (sys.executable, "-m", "cli.main", "bench", "lifecycle")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    running = DevStack(tmp_path_factory.mktemp("bench") / "var")
    running.start()
    try:
        yield running
    finally:
        running.stop()


def bench(stack: DevStack, certificates: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BENCH, "--certificates", str(certificates), "--concurrency", "2"],
        env=stack.env,
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_report_has_rates_latencies_cpu_and_history_figures(stack: DevStack) -> None:
    out, _ = bench(stack, certificates=2).communicate(timeout=60)
    assert re.search(rf"^NOP-IC +2 lifecycles in {NUMBER} s: {NUMBER}/s$", out, re.M), out
    assert re.search(rf"^bare workflow +2 lifecycles in {NUMBER} s: {NUMBER}/s$", out, re.M), out
    assert re.search(rf"^ratio +{NUMBER} \(NOP-IC / bare\)$", out, re.M), out
    for kind in CALL_KINDS:
        assert re.search(rf"^{kind} +\d+ +{NUMBER} +{NUMBER}$", out, re.M), (kind, out)
    for process in ("temporal", "worker", "api", "this bench", "stack, all three"):
        assert re.search(rf"^  {process} +{NUMBER} +{NUMBER}$", out, re.M), (process, out)
    # The rest may come out a hair below zero: the machine's ticks and the processes' round apart.
    assert re.search(rf"^  rest of the machine +-?{NUMBER} +-?{NUMBER}$", out, re.M), out
    assert "billable actions: one per workflow or child started" in out
    for workflow in ("certificate workflow", "request workflow", "certificate, all", "bare"):
        assert re.search(rf"^  {workflow}.* {NUMBER} events +{NUMBER} actions", out, re.M), out


def test_ctrl_c_stops_and_prints_what_finished(stack: DevStack) -> None:
    running = bench(stack, certificates=200)
    assert running.stdout is not None
    first = running.stdout.readline()  # the progress line once the first lifecycle is done
    assert first.startswith("NOP-IC"), first
    running.send_signal(signal.SIGINT)
    out, _ = running.communicate(timeout=30)
    assert running.returncode == 130, out
    assert re.search(r"^NOP-IC +\d+ lifecycles in .*\(stopped by Ctrl-C\)$", out, re.M), out
    assert re.search(rf"^submit +\d+ +{NUMBER} +{NUMBER}$", out, re.M), out


def test_without_a_running_stack_it_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [*BENCH, "--certificates", "1"],
        env={**os.environ, "NOPIC_DATA_DIR": str(tmp_path), "NOPIC_TEMPORAL_PORT": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no running stack" in done.stdout
