"""Output files that appear whole or not at all: a temp file beside the destination, synced,
renamed over it, and the rename synced.

render and stitch write through ``atomic_output``. PyAV wants a path to write to, so
``providers.storage.base.write_atomic`` (which hands its caller a file object) does not fit;
the directory sync is that module's ``fsync_dir``.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from chunking.timeline.model import FileSource, Timeline
from common.errors import EncodeError, RenderError
from common.scratch import process_alive
from providers.storage.base import fsync_dir

#: Temp files start with this; a crash that kills the process outright (SIGKILL, power) can
#: leave one, which is safe to delete.
PARTIAL_PREFIX = ".partial-"
#: This machine in temp names (letters, digits and dots only), so that a sweep on shared
#: storage only judges its own machine's processes.
_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"
#: How much of the destination's name a temp file keeps (for people looking at the directory;
#: the whole name could push the temp name past the filesystem's 255 bytes).
_NAME_TAIL = 64


def write_target(path: str) -> str:
    """The file a write to the user's ``path`` lands in: the final target of a symlink there,
    since ffmpeg, cp and the shell write through one (the rename replaced the link itself),
    else ``path``. Only for paths a user names: a worker's delivery never follows a link. A
    link that loops is refused, as ffmpeg and cp refuse it (realpath gives back the link, and
    the rename replaced it)."""
    if not os.path.islink(path):
        return path
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RenderError(
                f"output {path} is a symbolic link that loops ({exc.strerror}): name a file"
            ) from None
    return os.path.realpath(path)


def check_output_path(output: str) -> str:
    """Refuse an output path no file can be written at; return the directory it goes into."""
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise RenderError(f"output directory does not exist: {directory}")
    if os.path.lexists(output) and not (os.path.islink(output) or os.path.isfile(output)):
        # The rename would replace a device (/dev/null), a FIFO or a socket with a file, and
        # cannot replace a directory (`-o renders/` meant a file inside it).
        raise RenderError(f"output {output} exists and is not a regular file: name a file")
    name = os.path.basename(output)
    longest = _name_max(directory)
    if len(os.fsencode(name)) > longest:
        # The temp file keeps only the name's tail, so without this the render would run to
        # its end and fail at the rename.
        raise RenderError(
            f"output file name {name[:40]}... is {len(os.fsencode(name))} bytes long; "
            f"{directory} takes names of up to {longest} bytes"
        )
    return directory


def check_writable(output: str) -> str:
    """Refuse an output no file can be written at (check_output_path's checks, then a temp file
    made and removed beside it: a read-only or someone else's directory fails now, not after a
    long render); return the directory it goes into."""
    directory = check_output_path(output)
    partial = os.path.join(directory, partial_name(os.path.basename(output)))
    _create(partial, directory)
    discard(partial)
    return directory


def check_not_media(output: str, timeline: Timeline) -> None:
    """Refuse an output that is one of the timeline's media files: the render would read it
    while it renders and then replace it, the user's footage lost (ffmpeg refuses it too)."""
    if not os.path.isfile(output):
        return
    for track in timeline.tracks:
        for clip in track.clips:
            source = clip.source
            if not isinstance(source, FileSource):
                continue
            try:
                same = os.path.samefile(output, source.path)
            except OSError:
                continue  # a missing medium is the loader's to report
            if same:
                raise RenderError(
                    f"output {output} is the media of clip {clip.id!r}: rendering to it would "
                    "replace it; choose another name"
                )


def _name_max(directory: str) -> int:
    """The longest file name (in bytes) the directory's filesystem takes."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


@contextmanager
def atomic_output(output: str) -> Iterator[str]:
    """Yield a new empty temp path beside ``output``; rename it over ``output`` when the block ends
    (over a symlink's target, where ``output`` is one: write_target).

    The temp file has mode 0666 less the umask, as any file the user creates (mkstemp's 0600
    would hide a render from the group whatever the umask). Before the rename the file's data is
    synced, and after it the directory, so a crash leaves the old file or the whole new one,
    never a complete name on missing data. On any exception (a KeyboardInterrupt or a signal
    handler's included) the temp file is removed and the exception goes on.
    """
    output = write_target(output)
    directory = check_output_path(output)
    name = os.path.basename(output)
    sweep_stale(directory, name)
    partial = os.path.join(directory, partial_name(name))
    try:
        # Inside the try, so an interrupt right after the create still removes the file; the
        # 64-bit random name makes removing someone else's file on O_EXCL failure moot.
        _create(partial, directory)
        yield partial
        _commit(partial, output)
    except BaseException:
        discard(partial)
        raise
    fsync_dir(directory)


#: Errors of the disk written to (full, the folder removed, read-only, failing), not the job's.
DISK_ERRNOS = frozenset({errno.ENOENT, errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


def write_error(what: str, exc: Exception, output: str) -> RenderError:
    """The error of a failed write of ``output``: transient when the disk is at fault (a
    scratch folder removed mid-chunk failed the whole job, as if the encoder had refused the
    settings), else an EncodeError."""
    if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
        error = RenderError(
            f"cannot write {output}: {exc.strerror or exc}; the disk it goes to "
            f"({os.path.dirname(os.path.abspath(output))}) is full, gone or failing"
        )
        error.transient = True
        return error
    if isinstance(exc, OSError) and exc.strerror:
        # Not the encoder's doing (a file size limit, say): name the file, not its temp name.
        return EncodeError(f"cannot write {output}: {exc.strerror}")
    return EncodeError(f"{what}: {exc}")


def _create(partial: str, directory: str) -> None:
    try:
        # os.open honours the umask (0o666 & ~umask), like open(path, "w") would.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise RenderError(f"cannot write into {directory}: {exc.strerror or exc}") from None
    os.close(fd)


def _commit(partial: str, output: str) -> None:
    try:
        sync_file(partial)
        os.replace(partial, output)
    except OSError as exc:
        error = RenderError(f"cannot write {output}: {exc.strerror or exc}")
        # Its folder was there when the file was made: a folder removed since, or a disk full
        # or failing, is the disk's fault; a chunk renders again rather than fail its job.
        error.transient = exc.errno in DISK_ERRNOS
        raise error from None


def sync_file(path: str) -> None:
    """Flush a closed file's data to the disk (the writer, PyAV here, closed its own handle)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discard(path: str) -> None:
    """Remove a temp file if it is there; never raises (it runs while another error is raised)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def partial_name(name: str) -> str:
    """A new temp file name for an output named ``name``, owned by this process (what
    sweep_stale recognises once the process is gone)."""
    return f"{PARTIAL_PREFIX}{_HOST}-{os.getpid()}-{secrets.token_hex(8)}-{name[-_NAME_TAIL:]}"


def sweep_stale(directory: str, name: str) -> list[str]:
    """Remove the temp files of outputs named ``name`` that this machine's processes left when
    killed outright (SIGKILL, the OOM killer): their process is gone. Return their names."""
    prefix = f"{PARTIAL_PREFIX}{_HOST}-"
    pattern = re.compile(r"(\d+)-[0-9a-f]{16}-" + re.escape(name[-_NAME_TAIL:]))
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        found = pattern.fullmatch(name[len(prefix) :]) if name.startswith(prefix) else None
        if found is None or process_alive(int(found[1])):
            continue
        discard(os.path.join(directory, name))
        removed.append(name)
    return removed
