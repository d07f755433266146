"""How the command line fails: its exit statuses, the one-line error (and with ``--json`` the
``{"error", "problems"}`` object on stdout) for bad arguments, bad input, Redis refusing or
unreachable, and a full disk."""

from __future__ import annotations

import argparse
import errno
import json
import re
import sys
import tempfile
from typing import Any, NoReturn

from common.errors import RenderError, ValidationError, summarize
from common.urls import redact_url

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
#: As a shell tool killed by SIGPIPE (128 + 13) when its reader goes away (`| head`).
EXIT_BROKEN_PIPE = 141
#: The cluster's Redis could not be reached (or failed): nothing was done.
EXIT_UNREACHABLE = 3
#: The Redis user may not run a command this one needs (an ACL user of another role).
EXIT_FORBIDDEN = 4
#: Which role's Redis user does what (deploy/redis/users.acl.template).
ROLE_USERS = (
    "client: submit, status, cancel, estimate, download, cache; orchestrator: `cloudrender "
    "orchestrator`, serve, keys, budget set, cluster scale; worker: "
    "`cloudrender worker`; docs/security.md"
)


class CliParser(argparse.ArgumentParser):
    """argparse with the CLI's error contract: one line on stderr (not the whole usage), and
    with ``--json`` on the command line also ``{"error", "problems"}`` on stdout."""

    def error(self, message: str) -> NoReturn:
        """Print the one-line error (and its JSON) and exit with status 2."""
        # argparse quotes the offending argument, which may be a --broker URL with a password.
        message = redact_url(message)
        line = f"{self.prog}: {message} (see {self.prog} --help)"
        if "--json" in (ARGV or sys.argv[1:]):
            print(json.dumps({"error": line, "problems": [line]}, indent=2))
        print(f"error: {terminal_text(line)}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


#: The arguments being parsed (what `CliParser.error` looks for ``--json`` in).
ARGV: list[str] = []


#: Errors of a disk (full, over quota, read-only, failing) rather than of a name.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG})


def os_error_line(exc: OSError) -> str:
    """One line for a file error that reached the command line: what failed, and where."""
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename:
        return f"{what}: {exc.filename}"
    if exc.errno in _DISK_ERRNOS:
        # Unnamed: a write to standard output or to a temporary file of this command.
        return (
            f"{what} (writing the command's output, or under the temporary directory "
            f"{tempfile.gettempdir()}: free some space there or set TMPDIR)"
        )
    return what


def report_error(args: argparse.Namespace, message: str) -> None:
    """Say why the command failed: one line on stderr, and with --json the object bad input
    prints on stdout too (a script parsing `status --json` got nothing when Redis was down,
    though the same outage through --api printed it)."""
    if getattr(args, "json", False):
        print(json.dumps(error_json(args.command, RenderError(message)), indent=2))
    print(f"error: {terminal_text(summarize([message]))}", file=sys.stderr)


#: Control characters (C0 but the tab, DEL, C1) and the Unicode controls that reorder a line's
#: display: a project's clip ids, paths and effect names reach the terminal inside messages.
_UNSHOWABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """``text`` for a terminal: each control character written as its escape (``\\x1b``), as
    the messages quote ids with repr(); a path's ESC [2J cleared the screen, hiding the error."""
    return _UNSHOWABLE.sub(lambda found: repr(found.group())[1:-1], text)


def error_json(command: str, exc: RenderError) -> dict[str, Any]:
    """What ``--json`` prints for a failed command: the one-line message and every problem
    (the line names only the first few; scripts get them all here)."""
    problems = exc.problems if isinstance(exc, ValidationError) else [str(exc)]
    return {
        **({"valid": False} if command == "validate" else {}),
        "error": summarize([str(exc)]),
        "problems": list(problems),
    }
