"""An encrypting storage stages a whole ciphertext copy of each object in a temp folder. A
process killed mid-put or mid-get (the OOM killer, a hard time limit) ran no cleanup, and its
copy (a segment's or a video's size) stayed in the temp directory for ever: a long-lived node
filled its disk one killed upload at a time. The next process to stage anything removes the
folders of processes that are gone."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from providers.storage.encrypted import EncryptedStorage
from providers.storage.local import LocalStorage

KEY = bytes(range(32))


def _killed_mid_put(store: EncryptedStorage, source: str) -> None:
    """Fork a process that puts ``source`` and is SIGKILLed once its ciphertext is staged."""
    pid = os.fork()
    if pid == 0:  # the child: no pytest cleanup may run here
        try:

            def killed(*args: Any) -> None:
                os.kill(os.getpid(), signal.SIGKILL)

            store.inner.put_file = killed  # type: ignore[method-assign]
            store.put_file("jobs/a/segments/000000.mkv", source)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_a_killed_process_s_staged_ciphertext_is_removed_by_the_next(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    store = EncryptedStorage(LocalStorage(str(tmp_path / "store")), KEY, tmp_dir=str(staging))
    source = tmp_path / "segment"
    source.write_bytes(os.urandom(1 << 16))
    _killed_mid_put(store, str(source))
    assert len(os.listdir(staging)) == 1  # what the killed process left
    store.put_file("jobs/a/segments/000001.mkv", str(source))
    assert os.listdir(staging) == []
    store.get_file("jobs/a/segments/000001.mkv", str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == source.read_bytes()


def test_a_live_process_s_staging_is_left_alone(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    store = EncryptedStorage(LocalStorage(str(tmp_path / "store")), KEY, tmp_dir=str(staging))
    source = tmp_path / "segment"
    source.write_bytes(b"x")
    # Another worker process of this machine (this test's parent stands in for one) mid-put.
    live = staging / f"cloudrender-enc-{os.getppid()}-abc"
    live.mkdir()
    store.put_file("k", str(source))
    assert os.listdir(staging) == [live.name]
