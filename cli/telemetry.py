"""The Temporal SDK runtime of a process: where its metrics are served, where its logs go.

The worker's runtime serves Prometheus' `/metrics` on NOPIC_WORKER_METRICS_HOST:PORT: the SDK's
own series (`temporal_...`: polls, task latencies, slots, sticky cache) and ours, which the
activities count through the SDK's meter (`nopic_...`). The SDK core's own log lines (Rust) are
handed to Python's logging, so they come out in the process's format, JSON lines by default,
instead of the core's text on stderr.
"""

from __future__ import annotations

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from config.settings import Settings

CORE_LOGGER = "temporalio.core"

logger = logging.getLogger(__name__)


def temporal_runtime(metrics_address: str | None) -> Runtime:
    """A runtime serving `/metrics` on `metrics_address` (host:port), or no metrics if None."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
            ),
            metrics=None if metrics_address is None else PrometheusConfig(metrics_address),
        )
    )


def worker_runtime(settings: Settings) -> Runtime:
    """The worker's runtime, serving `/metrics` on NOPIC_WORKER_METRICS_HOST:PORT (0: none).

    A port already taken stops the worker with a line that says which setting to change.
    """
    address = settings.worker_metrics_address
    try:
        runtime = temporal_runtime(address)
    except ValueError as exc:  # the SDK's word for a port it cannot bind
        logger.error(
            "cannot serve the worker's metrics on %s (%s): set NOPIC_WORKER_METRICS_PORT to a "
            "free port, or to 0 for none",
            address,
            exc,
        )
        raise SystemExit(1) from exc
    if address is not None:
        logger.info("worker metrics on http://%s/metrics", address)
    return runtime


def install_default_runtime() -> None:
    """The SDK's default runtime, for the clients that take it (the API's): no metrics, and the
    core's log lines through Python's logging. Set before any client connects."""
    Runtime.set_default(temporal_runtime(None))
