"""Start a Celery worker in this process from a ``-A APP worker ...`` command line, without
Celery's own command line (``orchestrator.local_workers`` runs its private worker so).

``celery.__main__`` imports every subcommand (``celery amqp``'s REPL: click_repl and
prompt_toolkit) and every installed plugin (Flower, with Tornado) before it parses one option:
0.35 CPU-s of the 1.56 a private render's worker spent before it was ready, measured on a 2-core
machine. A command line made of LocalWorkers.command's own options is parsed here and its Worker
started directly; any other is left to Celery (``worker_options`` says None).

Before the pool's first fork, the objects of the imports (every module's functions and classes)
are moved out of the collector's reach (``gc.freeze``): Celery collects before each fork
(its issue 2927), a full traversal of them on the worker's critical path, and each forked pool
process then neither traverses them again nor copies their pages by touching their headers.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Sequence
from typing import Any

#: ``celery worker`` flags of LocalWorkers.command that take a value: Worker's keyword for each.
_VALUED = {
    "--pool": "pool_cls",
    "--concurrency": "concurrency",
    "--queues": "queues",
    "--hostname": "hostname",
    "--loglevel": "loglevel",
}
#: Its flags that take none (``--without-gossip``: ``without_gossip=True``).
_FLAGS = ("--without-gossip", "--without-mingle", "--without-heartbeat")


def worker_options(args: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
    """The app and ``Celery.Worker`` keywords of a ``-A APP worker ...`` command line made of
    LocalWorkers.command's options only, else None (Celery's own command line parses it)."""
    if len(args) < 3 or args[0] != "-A" or args[2] != "worker":
        return None
    options: dict[str, Any] = {}
    rest = list(args[3:])
    while rest:
        flag = rest.pop(0)
        if flag in _FLAGS:
            options[flag[2:].replace("-", "_")] = True
        elif flag in _VALUED and rest:
            options[_VALUED[flag]] = rest.pop(0)
        else:
            return None
    if "concurrency" in options:
        if not options["concurrency"].isdigit():
            return None
        options["concurrency"] = int(options["concurrency"])
    if "queues" in options:
        options["queues"] = [q for q in options["queues"].split(",") if q]
    if "loglevel" in options:
        level = logging.getLevelName(options["loglevel"].upper())
        if not isinstance(level, int):
            return None
        options["loglevel"] = level
    return args[1], options


def run_worker(app_name: str, options: dict[str, Any]) -> int:
    """Start ``app_name``'s worker with ``options`` in this process, as ``celery worker`` does,
    and return its exit code.

    Celery's command line imports every subcommand and every installed plugin first (the REPL
    of ``celery amqp``, prompt_toolkit, Flower and Tornado): a third of the private worker's
    start-up CPU, for a command line whose every option is known here.
    """
    from celery.app.utils import find_app

    try:
        app = find_app(app_name)
    except (ImportError, AttributeError) as exc:
        # As Celery's command line says it: one line naming what did not load, status 2.
        print(f"Error: unable to load the celery application {app_name}: {exc}", file=sys.stderr)
        return 2
    worker = app.Worker(**options)
    _freeze_before_first_fork()
    worker.start()
    return int(worker.exitcode or 0)


def _freeze_before_first_fork() -> None:
    """Freeze what the worker holds when its pool first forks (later forks, of a pool process
    that died, collect as Celery does: what the worker made since may be garbage)."""
    from celery.signals import worker_before_create_process

    done: list[bool] = []

    def freeze(**_: object) -> None:
        if not done:
            done.append(True)
            gc.freeze()

    worker_before_create_process.connect(freeze, weak=False)
