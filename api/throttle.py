"""The login throttle: after too many failed sign-ins with one email, or from one client address,
within a window, further ones are refused (429 with `Retry-After`) before their password is
checked, until the oldest failures in the window have aged out of it.

The failures live in the database (`login_failures`), so every API process of a deployment
counts the same ones. The key is the email as typed, whether or not an account has it: the
refusal says nothing about which emails have accounts.

The address is the client's as uvicorn gives it (`request.client.host`). uvicorn takes it from
`X-Forwarded-For` only when the connection comes from an address its `--forwarded-allow-ips`
(the environment's `FORWARDED_ALLOW_IPS`; 127.0.0.1 by default) names, with `--proxy-headers`
on (the default): behind a proxy elsewhere, name the proxy there, or every sign-in counts
against the proxy's address. The header is never read here: a client could write anything in it.

An attempt counts from the moment it begins until it succeeds, so that many attempts at once
cannot all pass the count before any is recorded; the price is that more than the limit of
sign-ins of one account at the same instant see some refused.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from domain.errors import TooManyAttempts
from persistence.repositories import LoginFailureRepository

logger = logging.getLogger(__name__)

# An address may fail this many times more than one account: an office signs in from behind
# one address, and its people mistype their passwords too.
ADDRESS_FACTOR = 4


@dataclass(frozen=True)
class LoginAttempt:
    """An admitted sign-in: its rows, counted as failures unless it succeeds."""

    account_key: str
    row_ids: tuple[int, ...]


@dataclass(frozen=True)
class LoginThrottle:
    allowed: int  # failures of one account within the window
    window: timedelta

    @classmethod
    def of(cls, settings: Settings) -> LoginThrottle:
        return cls(
            allowed=settings.login_failures_allowed,
            window=timedelta(seconds=settings.login_throttle_seconds),
        )

    async def admit(
        self, session: AsyncSession, email: str, address: str | None, *, now: datetime
    ) -> LoginAttempt:
        """Counts this attempt as a failure until it succeeds, or refuses it (TooManyAttempts)
        when its account or its address has failed too often within the window.

        Commits `session`: the count must hold even when the attempt is refused or fails."""
        failures = LoginFailureRepository(session)
        account_key = f"account:{email.strip().lower()}"
        limits = {account_key: self.allowed}
        if address:
            limits[f"address:{address}"] = self.allowed * ADDRESS_FACTOR
        await failures.prune(before=now - self.window)
        row_ids = await failures.record(limits, at=now)
        await session.commit()
        # Counted after the commit: of many attempts at once, each sees those committed before
        # it, so no more than the limit are let through.
        retry_after = 0.0
        refused_by = None
        for key, limit in limits.items():
            others = [
                at for id_, at in await failures.since(key, now - self.window) if id_ not in row_ids
            ]
            if len(others) >= limit:
                # Free again when enough of the others have aged out to leave room for one.
                free_at = others[len(others) - limit] + self.window
                wait = (free_at - now).total_seconds()
                if wait > retry_after:
                    retry_after, refused_by = wait, key.split(":", 1)[0]
        if refused_by is None:
            return LoginAttempt(account_key=account_key, row_ids=tuple(row_ids))
        # A refused attempt is no failure: it would keep the throttle on for ever.
        await failures.forget(ids=row_ids)
        await session.commit()
        seconds = max(1, math.ceil(retry_after))
        logger.warning("sign-in refused: too many failures of its %s", refused_by)
        raise TooManyAttempts(
            f"too many failed sign-ins: try again in {seconds} seconds", retry_after=seconds
        )

    async def succeeded(self, session: AsyncSession, attempt: LoginAttempt) -> None:
        """The account starts afresh, and the attempt was no failure of its address; in
        `session`'s transaction, committed with the sign-in."""
        await LoginFailureRepository(session).forget(
            keys=[attempt.account_key], ids=attempt.row_ids
        )
