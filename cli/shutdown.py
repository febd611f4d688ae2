"""Stopping a service the way `docker stop` does: SIGTERM, then SIGKILL after a grace period.

Both services end by themselves well before compose's `stop_grace_period` (30 s for the API,
60 s for the worker in docker-compose.yml), so the SIGKILL never comes: a worker hands back what it
could not finish instead of losing it half-done, and an API answers what it was asked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import timedelta

from temporalio.worker import Worker

logger = logging.getLogger(__name__)

# Requests in flight after SIGTERM: an update waits at most the Temporal RPC timeout (10 s).
API_GRACEFUL_SHUTDOWN = timedelta(seconds=15)
# The whole of a worker's shutdown, its activities' grace period (cli.worker) included. Core
# waits for local activities, and one retrying a refused database write would wait forever.
WORKER_SHUTDOWN_BOUND = timedelta(seconds=15)
# Exit status of a worker whose shutdown outlived the bound: nothing is lost (its tasks time
# out and go to another worker), but the stop was not clean, and its supervisor should know.
EXIT_SHUTDOWN_OVERDUE = 3
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def run_until_stopped(worker: Worker, bound: timedelta = WORKER_SHUTDOWN_BOUND) -> None:
    """Run `worker` until SIGTERM or SIGINT, then shut it down gracefully within `bound`."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        running = asyncio.create_task(worker.run())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            stopping.cancel()
            # A fatal worker error ends the process with it.
            running.result()
            return
        logger.info("stop signal: finishing the tasks in flight (at most %s)", bound)
        try:
            await asyncio.wait_for(asyncio.shield(worker.shutdown()), bound.total_seconds())
        except TimeoutError:
            logger.error(
                "worker shutdown outlived %s; exiting, its tasks go to other workers", bound
            )
            logging.shutdown()
            # Neither returning nor raising would end the process: the interpreter's exit would
            # wait for the same shutdown of the SDK's core, and the engine for its connections.
            os._exit(EXIT_SHUTDOWN_OVERDUE)
        await running
        logger.info("worker stopped")
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
