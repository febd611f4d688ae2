"""Password hashing with Argon2id; verification answers yes or no and never raises."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

# An Argon2 check costs tens of milliseconds of CPU and 64 MiB, on purpose. On the event loop a
# few dozen sign-ins at once would stall every request of the process; on this pool they run
# beside it (argon2-cffi lets go of the GIL), at most this many at once, the others waiting
# their turn, so a burst of sign-ins takes neither all the cores nor all the memory.
CHECKS_AT_ONCE = max(1, min(os.cpu_count() or 1, 4))
CHECKER_THREAD_PREFIX = "password-check"
_checkers = ThreadPoolExecutor(max_workers=CHECKS_AT_ONCE, thread_name_prefix=CHECKER_THREAD_PREFIX)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash() -> str:
    # Verifying against a decoy for unknown emails makes both refusals take the same time,
    # so the answer time does not tell which emails have accounts.
    return hash_password("decoy password that no account has")


def _check(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        verify_password(_decoy_hash(), password)
        return False
    return verify_password(password_hash, password)


async def check_password(password_hash: str | None, password: str) -> bool:
    """`verify_password` on the checkers' pool, off the event loop. No hash (no such account)
    is checked against a decoy, as long, and answers no."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_checkers, _check, password_hash, password)
