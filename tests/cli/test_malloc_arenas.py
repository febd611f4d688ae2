"""The worker's cap on glibc's malloc arenas, seen in glibc's own account of its arenas."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from cli.malloc_arenas import limit_malloc_arenas

# Eight threads each allocate from malloc (100 kB: past pymalloc, under the mmap threshold), all
# alive at once, then glibc's malloc_stats() writes one "Arena N:" block per arena to stderr.
EIGHT_THREADS = textwrap.dedent(
    """
    import ctypes, ctypes.util, sys, threading
    from cli.malloc_arenas import limit_malloc_arenas
    print(limit_malloc_arenas() if sys.argv[1] == "capped" else None, flush=True)
    held, barrier = [], threading.Barrier(8)
    def allocate():
        held.append(bytearray(100_000))
        barrier.wait()
    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
    """
)


def arenas_used(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", EIGHT_THREADS, mode],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | (env or {}),
    )
    return result.stdout.strip(), result.stderr.count("Arena ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_the_cap_keeps_eight_threads_to_two_arenas() -> None:
    # glibc's default: an arena per thread (up to eight per core), beside the main one.
    uncapped, arenas = arenas_used("uncapped")
    assert uncapped == "None"
    assert arenas > 2
    assert arenas_used("capped") == ("True", 2)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_an_operators_malloc_arena_max_is_left_to_glibc() -> None:
    assert arenas_used("capped", {"MALLOC_ARENA_MAX": "4"}) == ("False", 4)


def test_nothing_is_capped_when_the_environment_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert limit_malloc_arenas() is False
