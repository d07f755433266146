"""``cloudrender serve`` (the HTTP service) and ``cloudrender keys create|list|revoke`` (its
API keys)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from common.errors import RenderError
from common.settings import Settings
from common.urls import redact_url
from orchestrator.api_keys import ROLES, ApiKey, KeyStore

#: Where ``serve`` listens unless told otherwise: this machine only (a TLS proxy in front).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_server_parsers(sub: Any, positive: Callable[[str], int]) -> None:
    """Add ``serve`` and ``keys`` to the command line's subcommands."""
    serve = sub.add_parser("serve", help="run the HTTP API (and the web dashboard)")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind ({DEFAULT_HOST})")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT}; 0: any free one)"
    )
    _broker(serve)
    serve.add_argument(
        "--storage",
        help="the storage the cluster's workers share (default: $CLOUDRENDER_STORAGE_URL)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    serve.set_defaults(handler=run_serve)

    keys = sub.add_parser("keys", help="API keys of the HTTP service")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key for a user (printed once)")
    create.add_argument("user", help="who the key's jobs are billed to")
    create.add_argument("--role", choices=ROLES, default="user")
    create.add_argument("--project", type=_project_name, help="bind the key to this project")
    create.add_argument("--max-jobs", type=positive, help="unfinished jobs it may have at once")
    create.add_argument("--rate", type=positive, help="requests per minute (default: service's)")
    create.add_argument("--label", default="", help="a note: whose laptop, which app")
    _broker(create)
    create.set_defaults(handler=run_keys_create)
    listing = actions.add_parser("list", help="every key (never the secrets)")
    listing.add_argument("--json", action="store_true")
    _broker(listing)
    listing.set_defaults(handler=run_keys_list)
    revoke = actions.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("id", help="the key's id (cr_<id>_..., or from `keys list`)")
    _broker(revoke)
    revoke.set_defaults(handler=run_keys_revoke)


def _broker(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", help="Redis URL (default: $CLOUDRENDER_BROKER_URL)")


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    broker = args.broker or settings.broker_url
    if broker is None:
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    return dataclasses.replace(settings, broker_url=broker, result_backend=broker)


def _key_store(args: argparse.Namespace) -> KeyStore:
    import redis  # 0.2 CPU-s: loaded by the commands that talk to Redis, not by every command

    url = _settings(args).broker_url
    assert url is not None
    return KeyStore(redis.Redis.from_url(url, decode_responses=True))


def run_serve(args: argparse.Namespace) -> int:
    """Serve the HTTP API in this process until interrupted (SIGINT/SIGTERM end it cleanly)."""
    import uvicorn

    from orchestrator.api import CloudRenderingAPI
    from server.app import create_app

    settings = _settings(args)
    storage = args.storage or settings.storage_url
    if storage is None:
        raise RenderError(
            "no storage: pass --storage URL or set CLOUDRENDER_STORAGE_URL to the storage the "
            "cluster's workers share (jobs' media and videos go through it)"
        )
    settings = dataclasses.replace(settings, storage_url=storage)
    api = CloudRenderingAPI(settings=settings)
    api.store.redis.ping()  # unreachable: the CLI's one-line Redis error, before binding
    # Refused (503, JSON with Retry-After) before the process runs out of file descriptors: a
    # flood of requests then costs answers, not a crash loop of "Too many open files". Counted
    # in the app, not by uvicorn's limit_concurrency, whose refusal is plain text without CORS
    # and which counts idle connections (a crowd of them, keyless, refused every client).
    app = create_app(settings, api=api, max_requests=connection_limit())
    sock = _bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving the HTTP API on http://{shown}:{port}", flush=True)
    print(
        f"cluster {redact_url(settings.broker_url or '')}, storage {redact_url(storage)}; "
        "make a key with `cloudrender keys create USER`",
        file=sys.stderr,
    )
    if args.host not in _LOOPBACK:
        print(
            "note: keys travel in every request: put a TLS proxy in front (deploy/)",
            file=sys.stderr,
        )
    server_class = _uvicorn_server()
    from server.protocol import HeadDeadlineProtocol

    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        ws="none",
        http=HeadDeadlineProtocol,
        timeout_graceful_shutdown=10,
    )
    try:
        server_class(config).run(sockets=[sock])
    finally:
        sock.close()
    print("stopped", file=sys.stderr)
    return 0


def connection_limit() -> int:
    """Requests ``serve`` answers at once: most of the file descriptors this process may open
    (each request's connection holds one; Redis, storage and logs need the rest)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 10_000
    return max(64, min(10_000, soft - 200))


def _uvicorn_server() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, ending with status 0 after a graceful stop on SIGINT/SIGTERM
        (uvicorn's own re-raises the signal once it has shut down, exiting with -15)."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            signums = (signal.SIGINT, signal.SIGTERM)
            previous = {signum: signal.signal(signum, self.handle_exit) for signum in signums}
            try:
                yield
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            """Tell the app's event streams to end before waiting for connections to close:
            left open, each was cut after the graceful timeout with an ERROR traceback."""
            closing = getattr(getattr(self.config.app, "state", None), "closing", None)
            if isinstance(closing, threading.Event):
                closing.set()
            await super().shutdown(sockets=sockets)

    return Server


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket (bound here, so --port 0 can print the port it got)."""
    if not 0 <= port <= 65535:
        raise RenderError(f"--port {port} is not a port (0-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RenderError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    # Listening now: a client that reads the printed URL may connect before uvicorn has
    # started; its connection waits in the backlog instead of being refused.
    sock.listen(2048)
    return sock


def _project_name(text: str) -> str:
    """``keys create --project``: a name, never blank (``--project ""`` made a key bound to no
    project, silently, when the caller meant to confine it to one)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "is empty: name the project to bind the key to, or leave out --project"
        )
    return text


def run_keys_create(args: argparse.Namespace) -> int:
    """Make a key and print it (the only time it is shown)."""
    record, token = _key_store(args).create(
        args.user,
        role=args.role,
        project=args.project or "",
        label=args.label,
        max_concurrent_jobs=args.max_jobs,
        rate_per_minute=args.rate,
    )
    print(
        f"created key {record.id} for user {record.user} ({record.role}"
        + (f", project {record.project}" if record.project else "")
        + "); it is shown only now:",
        file=sys.stderr,
    )
    print(token)
    return 0


def run_keys_list(args: argparse.Namespace) -> int:
    """Print every key's record (never a secret)."""
    found = _key_store(args).list()
    if args.json:
        print(json.dumps([dataclasses.asdict(k) for k in found], indent=2))
        return 0
    if not found:
        print("no API keys (make one with `cloudrender keys create USER`)")
        return 0
    rows: list[tuple[str, ...]] = [
        ("ID", "USER", "ROLE", "PROJECT", "CREATED", "REVOKED", "JOBS", "RATE", "LABEL")
    ]
    rows += [_row(k) for k in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def _row(key: ApiKey) -> tuple[str, ...]:
    return (
        key.id,
        key.user,
        key.role,
        key.project or "-",
        _when(key.created_at),
        _when(key.revoked_at) if key.revoked_at else "-",
        str(key.max_concurrent_jobs or "-"),
        str(key.rate_per_minute or "-"),
        key.label,
    )


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M")


def run_keys_revoke(args: argparse.Namespace) -> int:
    """Revoke a key (given by id, or as the whole key string)."""
    key_id = args.id
    if key_id.startswith("cr_") and key_id.count("_") >= 2:
        key_id = key_id.split("_", 2)[1]  # the whole key pasted: its id part
    record = _key_store(args).revoke(key_id)
    print(f"revoked key {record.id} (user {record.user}, {record.role})")
    return 0
