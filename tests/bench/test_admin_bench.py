"""`nopic bench admin` starts its own stack and prints both endpoints' figures (never asserted)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.bench.run import nopic_bench

BENCH = (sys.executable, "-m", "cli.main", "bench", "admin")
MS = r"\d+\.\d\d"
FIGURES = rf"\s+{MS}\s+{MS}\s+{MS}\s+{MS}"


def test_bench_admin_times_stuck_and_stats_over_http_and_their_parts() -> None:
    lines = nopic_bench(
        "admin", "--workflows", "200", "--failing", "5", "--repeat", "3", timeout=600
    )
    out = "\n".join(lines)
    assert re.search(r"^database: 205 certificates and review tasks in ", out, re.M), out
    assert re.search(r"^parked workflows: 200 started in .*/s$", out, re.M), out
    assert re.search(r"^visibility: 205 running, 5 with reported problems", out, re.M), out
    for endpoint in ("stuck", "stats"):
        at = lines.index(f"GET /api/admin/{endpoint}")
        assert re.fullmatch(rf"  over HTTP{FIGURES}", lines[at + 1]), lines[at + 1]
    for part in (
        r"task queue pollers \(DescribeTaskQueue\)",
        r"database: overdue tasks \(count, \d+ oldest\)",
        r"database: failing steps",
        r"visibility: list failing \(up to \d+\)",
        r"describe 5 failing, at once",
        r"visibility: count all running \(not in it\)",
        r"database: stats queries",
    ):
        assert re.search(rf"^  {part}{FIGURES}$", out, re.M), (part, out)
    assert len(re.findall(r"^  HTTP / its parts \(p50\)\s+\d+\.\dx$", out, re.M)) == 2, out


def test_a_folder_of_something_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nopic.db").write_text("someone's data")
    done = subprocess.run(
        [*BENCH, "--data-dir", str(tmp_path)],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "holds files of something else" in done.stdout
    assert (tmp_path / "nopic.db").read_text() == "someone's data"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_its_stack_and_prints_what_finished(tmp_path: Path) -> None:
    folder = tmp_path / "stack"
    running = subprocess.Popen(
        [*BENCH, "--workflows", "20000", "--data-dir", str(folder)],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert running.stdout is not None
    seen = []
    for line in running.stdout:  # the first progress line of the starts
        seen.append(line)
        if line.startswith("parked "):
            break
    stack = [int(path.read_text()) for path in (folder / "run").glob("*.pid")]
    assert len(stack) == 3, seen  # temporal, worker, api
    running.send_signal(signal.SIGINT)
    out, _ = running.communicate(timeout=120)
    assert running.returncode == 130, out
    assert re.search(r"^parked workflows: \d+ started in .*\(stopped by Ctrl-C\)$", out, re.M), out
    assert not [pid for pid in stack if _alive(pid)], out
