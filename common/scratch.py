"""Scratch folders named after the process that made them (``cloudrender-KIND-PID-...``).

A process killed outright (SIGKILL, the OOM killer) runs no cleanup, so its temporary folders
stay; naming them after their process lets the next process of the same kind on this machine
remove those whose process is gone, and only those.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

log = logging.getLogger(__name__)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (another user's counts)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def scratch_prefix(kind: str, pid: int | None = None) -> str:
    """The name prefix of a scratch folder of ``kind`` made by this process (or ``pid``)."""
    return f"cloudrender-{kind}-{os.getpid() if pid is None else pid}-"


def make_scratch(kind: str) -> str:
    """A new private scratch folder of ``kind`` named after this process; its path."""
    return tempfile.mkdtemp(prefix=scratch_prefix(kind))


def sweep_scratch(kind: str, root: str | None = None) -> list[str]:
    """Remove the scratch folders of ``kind`` whose process is gone; their names. Without
    ``root`` (this process's temporary directory), first make that directory again if it
    vanished."""
    if root is None:
        root = tempfile.gettempdir()
        _ensure_root(root)
    head = f"cloudrender-{kind}-"
    removed = []
    try:
        names = os.listdir(root)
    except OSError:
        return []
    for name in sorted(names):
        pid = name[len(head) :].split("-", 1)[0]
        if not name.startswith(head) or not pid.isdigit() or process_alive(int(pid)):
            continue
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        removed.append(name)
    return removed


def _ensure_root(root: str) -> None:
    """Make this process's temporary directory again if it was removed under it (a cleaner of
    /tmp, an operator's rm -rf of TMPDIR): every chunk, mix and merge of a long-lived worker
    failed with "No such file or directory" on it, failing each job sent to the node."""
    if os.path.isdir(root):
        return
    try:
        os.makedirs(root, mode=0o700, exist_ok=True)
    except OSError as exc:
        # What the scratch folder's creation then raises says it; this says why.
        log.error("the temporary directory %s is gone and cannot be made again: %s", root, exc)
        return
    log.warning("the temporary directory %s was gone: made it again", root)
