"""Running `nopic bench ...` as a person would: a process of its own, its printed lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def nopic_bench(*args: str, timeout: float) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "bench", *args],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
    return done.stdout.splitlines()
