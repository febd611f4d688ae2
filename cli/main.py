"""`nopic`: the command line of NOP-IC."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from config.logs import configure_logging
from config.settings import SERVICE_SETTINGS, Settings, describe_problems, get_settings

# Settings or keys that make a process refuse to start: a message, not a traceback.
CANNOT_START = 2


def _migrate(settings: Settings) -> None:
    from cli.database import migrate

    asyncio.run(migrate(settings))
    print(f"database at head: {settings.database_url}")


def _seed_command(settings: Settings, demo: bool) -> int:
    from cli.database import seed_demo_data

    if not demo:
        print("nothing to seed: pass --demo for the demo organisations and users")
        return 2
    seeded = asyncio.run(seed_demo_data(settings))
    print("demo data seeded" if seeded else "database already has users: nothing seeded")
    return 0


def _api(settings: Settings) -> None:
    import uvicorn

    from api.app import create_app
    from cli.shutdown import API_GRACEFUL_SHUTDOWN
    from cli.telemetry import install_default_runtime

    install_default_runtime()

    # Our logging, not uvicorn's: its access log writes paths and query strings as they came
    # (a verification code in `?code=`); api.observe writes one line per request instead.
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        # On SIGTERM uvicorn stops accepting and finishes the requests in flight; without a
        # bound, one stuck request would hold the stop until compose's SIGKILL.
        timeout_graceful_shutdown=int(API_GRACEFUL_SHUTDOWN.total_seconds()),
    )


def _worker(settings: Settings) -> None:
    from cli.malloc_arenas import limit_malloc_arenas
    from cli.worker import run_worker

    # Before the SDK's runtime and the activity threads exist: they take their arenas under the cap.
    limit_malloc_arenas()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings))


def _load_settings(command: str) -> Settings:
    """The settings of `command`; a deployed process's are checked for its role (DESIGN 7)."""
    if command == "dev":
        # The embedded stack is dev by definition; its children (`nopic api`, `nopic worker`)
        # inherit this, while a deployed one without NOPIC_ENV refuses to start.
        os.environ["NOPIC_ENV"] = "dev"
        return Settings(env="dev")
    service = SERVICE_SETTINGS.get(command)
    if service is None:
        return get_settings()
    settings: Settings = service()
    from persistence.keys import public_keys, signing_key_pem

    # A key that does not parse stops the process now, not at the first document or request.
    if command == "api":
        public_keys(settings)
    elif command == "worker":
        signing_key_pem(settings)
    return settings


def _refuse(command: str, problems: list[str]) -> int:
    print(f"nopic {command} cannot start: fix these settings", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return CANNOT_START


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nopic", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="the embedded stack: Temporal, SMTP sink, worker and API")
    commands.add_parser("api", help="the HTTP API")
    commands.add_parser("worker", help="the Temporal worker")
    commands.add_parser("migrate", help="upgrade the database to the latest schema")
    replay = commands.add_parser(
        "replay-check",
        help="replay the cluster's workflow histories on this code (before rolling out workers)",
    )
    replay.add_argument(
        "--closed-days",
        type=float,
        default=0,
        help="also those closed in the last N days (default: running ones only)",
    )
    replay.add_argument(
        "--limit", type=int, default=1000, help="at most this many workflows (default 1000)"
    )
    seed = commands.add_parser("seed", help="load data into an empty database")
    seed.add_argument("--demo", action="store_true", help="the demo data of DESIGN 7")
    bench = commands.add_parser("bench", help="benchmarks that print figures and ratios")
    benches = bench.add_subparsers(dest="bench", required=True)
    queue = benches.add_parser("queue", help="the certifier queue and certificate list at scale")
    queue.add_argument("--certificates", type=int, default=100_000)
    queue.add_argument("--repeat", type=int, default=20)
    queue.add_argument("--database-url", default=None, help="default: a scratch SQLite file")
    render = benches.add_parser("render", help="rendering and signing one certificate document")
    render.add_argument("--documents", type=int, default=200)
    memory = benches.add_parser("memory", help="the worker's RSS with N certificates waiting")
    memory.add_argument("--certificates", type=int, default=10_000)
    memory.add_argument("--concurrency", type=int, default=20)
    lifecycle = benches.add_parser("lifecycle", help="whole lifecycles against a running stack")
    lifecycle.add_argument("--certificates", type=int, default=300)
    lifecycle.add_argument("--concurrency", type=int, default=30)
    admin = benches.add_parser("admin", help="/api/admin/stuck and /stats with N running workflows")
    admin.add_argument("--workflows", type=int, default=100_000)
    admin.add_argument("--failing", type=int, default=50, help="workflows whose task fails")
    admin.add_argument("--repeat", type=int, default=50)
    admin.add_argument("--concurrency", type=int, default=200, help="workflow starts in flight")
    admin.add_argument(
        "--data-dir", type=Path, default=None, help="keep the stack here (default: a scratch one)"
    )
    verify = commands.add_parser("verify", help="check a certificate PDF's signatures offline")
    verify.add_argument("document", type=Path, help="the certificate PDF")
    verify.add_argument(
        "--public-key",
        type=Path,
        help="PEM file of the certifier's public key (default: this installation's key)",
    )
    args = parser.parse_args(argv)
    if args.command == "verify":
        from cli.verify import run_verify

        # Settings only when needed: a check with a given key works on any machine.
        settings = get_settings() if args.public_key is None else None
        return run_verify(args.document, args.public_key, settings)

    try:
        # The check runs with a worker's settings, as the workers it vouches for will.
        role = "worker" if args.command == "replay-check" else args.command
        settings = _load_settings(role)
    except ValidationError as exc:
        return _refuse(args.command, describe_problems(exc))
    except ValueError as exc:
        return _refuse(args.command, [str(exc)])
    if args.command in ("api", "worker"):
        # Services write for log collectors: NOPIC_LOG_FORMAT, JSON lines by default.
        configure_logging(settings.log_format)
    else:
        # The dev supervisor talks to a person: only its own lines and real warnings.
        quiet = args.command in ("dev", "migrate", "seed", "bench", "replay-check")
        logging.basicConfig(
            level=logging.WARNING if quiet else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
    # fontTools tells of every glyph subset of every document it renders: noise, and CPU.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    if args.command == "dev":
        from cli.dev import run_dev

        return run_dev(settings)
    if args.command == "api":
        _api(settings)
    elif args.command == "worker":
        _worker(settings)
    elif args.command == "migrate":
        _migrate(settings)
    elif args.command == "seed":
        return _seed_command(settings, args.demo)
    elif args.command == "replay-check":
        from cli.replay_check import run_replay_check

        run_replay_check(settings, closed_days=args.closed_days, limit=args.limit)
    elif args.command == "bench" and args.bench == "render":
        from cli.bench_render import run_bench_render

        return run_bench_render(args.documents)
    elif args.command == "bench" and args.bench == "memory":
        from cli.bench_memory import run_bench_memory

        return run_bench_memory(args.certificates, args.concurrency)
    elif args.command == "bench" and args.bench == "lifecycle":
        from cli.bench_lifecycle import run_bench_lifecycle

        return run_bench_lifecycle(settings, args.certificates, args.concurrency)
    elif args.command == "bench" and args.bench == "admin":
        from cli.bench_admin import run_bench_admin

        return run_bench_admin(
            args.workflows, args.failing, args.repeat, args.concurrency, args.data_dir
        )
    elif args.command == "bench":
        from cli.bench import run_bench_queue

        return run_bench_queue(args.certificates, args.repeat, args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
