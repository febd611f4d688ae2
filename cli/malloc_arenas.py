"""At most two malloc arenas in the worker process (glibc's `mallopt(M_ARENA_MAX, 2)`).

glibc gives each thread that allocates an arena of its own, up to eight per core, and an arena
keeps the pages it once used. The worker runs many threads (the SDK core's Tokio runtime, the
activity threads, aiosqlite's connection threads), so its resident memory kept growing with the
number of certificates long after the sticky cache had stopped growing: a tracemalloc snapshot
showed Python's own heap flat between 600 and 1,300 certificates in review while the RSS rose.
`nopic bench memory --certificates 10000`, same code and day: 265.4 / 295.6 MiB in review /
delivered with glibc's default, 226.5 / 252.1 MiB with two arenas, and no slower (BENCHMARKS.md).

It is the in-process form of the `MALLOC_ARENA_MAX` environment variable, so the limit holds
however the worker is started; a MALLOC_ARENA_MAX set by the operator is left to glibc. Where the
C library is not glibc (musl, macOS) nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# glibc's malloc.h: #define M_ARENA_MAX -8
M_ARENA_MAX = -8
WORKER_MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = WORKER_MALLOC_ARENAS) -> bool:
    """Caps the process's malloc arenas at `arenas` for the threads that allocate from now on;
    True if glibc took the cap, False if MALLOC_ARENA_MAX already decides or there is no glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
