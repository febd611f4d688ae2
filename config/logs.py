"""How the API and the worker log: one JSON object a line, or plain text for a person.

Each line carries the time (ISO 8601, UTC), the level, the logger and the message, and what is
known of its context: the `request_id` of the HTTP request being served, the `certificate_id` a
command is sent to, and, from the extras the Temporal SDK's loggers attach, the `workflow_id`,
`run_id` and `activity` being run (a certificate's id derived from its workflow's id).

Nothing else of a record is written: an `extra` a library attaches could carry anything, and
these lines must never carry a password, a token, a verification code or trade data.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

import temporalio.activity
import temporalio.workflow

CONTEXT_FIELDS = ("request_id", "workflow_id", "run_id", "certificate_id", "activity")
# What an access log line adds (api.observe), each a plain value.
HTTP_FIELDS = ("method", "route", "status", "duration_ms")

# What workflows.contracts.certificate_workflow_id puts before a certificate's id (a test holds
# the two together): config may not import the workflows, as the API it serves may not.
CERTIFICATE_WORKFLOW_PREFIX = "certificate-"

_context: ContextVar[Mapping[str, str] | None] = ContextVar("nopic_log_context", default=None)


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Every line logged in the block (in this task and the tasks it starts) carries `fields`."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def context_of(record: logging.LogRecord) -> dict[str, str]:
    """The context fields of `record`: the block's, then what the Temporal SDK attached."""
    fields = dict(_context.get() or {})
    workflow = getattr(record, "temporal_workflow", None)
    if isinstance(workflow, Mapping):
        fields.update(
            _known(workflow_id=workflow.get("workflow_id"), run_id=workflow.get("run_id"))
        )
    activity = getattr(record, "temporal_activity", None)
    if isinstance(activity, Mapping):
        fields.update(
            _known(
                workflow_id=activity.get("workflow_id"),
                run_id=activity.get("workflow_run_id"),
                activity=activity.get("activity_type"),
            )
        )
    elif temporalio.activity.in_activity():
        # A line of our modules' own loggers (or a library's) written while an activity runs.
        info = temporalio.activity.info()
        fields.update(
            _known(
                workflow_id=info.workflow_id,
                run_id=info.workflow_run_id,
                activity=info.activity_type,
            )
        )
    workflow_id = fields.get("workflow_id", "")
    if workflow_id.startswith(CERTIFICATE_WORKFLOW_PREFIX):
        fields.setdefault("certificate_id", workflow_id.removeprefix(CERTIFICATE_WORKFLOW_PREFIX))
    return {name: fields[name] for name in CONTEXT_FIELDS if name in fields}


def _known(**values: Any) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value is not None}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context_of(record),
        }
        for name in HTTP_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str | int | float):
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, with the context fields after the message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{name}={value}" for name, value in context_of(record).items())
        line = super().formatMessage(record)
        return f"{line} [{context}]" if context else line


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("nopic").critical("stopped by an error", exc_info=(kind, error, traceback))


def configure_logging(log_format: Literal["json", "text"], level: int = logging.INFO) -> None:
    """The root logger writes `log_format` lines to stderr; everything else propagates to it."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # A process that dies of an exception says so in one line of its format, not a bare
    # traceback over many lines that a collector would take for as many events.
    sys.excepthook = _log_uncaught
    # The SDK appends its context to each message as a dict; JSON lines carry it as fields.
    temporalio.workflow.logger.workflow_info_on_message = log_format == "text"
    temporalio.activity.logger.activity_info_on_message = log_format == "text"
