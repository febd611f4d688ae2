"""The log lines this process writes, formatted as `nopic api` and `nopic worker` write them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from config.logs import JsonFormatter

# The tests' own tools, not the API's or the worker's: httpx is the test's HTTP client (it logs
# each URL it calls, query string included), mail.log the aiosmtpd server standing for SMTP.
TEST_TOOLS = ("httpx", "httpcore", "mail.log")


class _NotTestTools(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(TEST_TOOLS)


@dataclass
class Captured:
    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Each line as JSON: a line that is not one fails the test here."""
        return [json.loads(line) for line in self.text.splitlines()]


@contextmanager
def json_log(level: int = logging.INFO) -> Iterator[Captured]:
    """Every record logged in the block at `level` or above, one JSON line each."""
    captured = Captured(io.StringIO())
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_NotTestTools())
    handler.setLevel(level)
    root = logging.getLogger()
    was = root.level
    root.addHandler(handler)
    if was > level:
        root.setLevel(level)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(was)
