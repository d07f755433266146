"""``render -o URL``: an output that is a storage URL (``s3://``, ``gs://``, ``az://``,
``file://``) rather than a path on this machine.

Distributed renders hand the URL to the job, whose merge puts the video there
(``workers.delivery``); ``--direct`` renders to a scratch file and puts it there itself, by the
same rules: never over an existing object or file, encrypted when this process holds the
cluster's key, as every stored object is.
"""

from __future__ import annotations

import os

from common.errors import RenderError
from common.settings import Settings
from providers.storage import Storage, split_object_url
from workers.delivery import check_free, local_output, put_output
from workers.job_policy import WorkerPolicy


def is_output_url(output: str) -> bool:
    """Whether ``-o`` names a storage URL instead of a local path."""
    return "://" in output


def check_output_url(url: str) -> str | None:
    """Refuse a malformed or taken output URL; return its local path (``file://``) or None."""
    split_object_url(url)
    local = local_output(url)
    if local is not None and not os.path.isdir(os.path.dirname(local)):
        raise RenderError(f"output directory does not exist: {os.path.dirname(local)}")
    check_free(url)
    return local


def deliver_to_url(path: str, url: str, scratch: str) -> None:
    """Put the finished video at ``path`` at ``url`` (``scratch``: a directory for staging)."""
    # This process writes for its own user: no worker's output roots apply.
    put_output(url, path, scratch, seal=_seal, policy=WorkerPolicy())


def _seal(storage: Storage) -> Storage:
    """``storage`` as a client of this cluster writes to it (workers.job_spec.JobSpec.sealed)."""
    from providers.storage.encrypted import EncryptedStorage, PlaintextStorage, key_from_text

    key = Settings.from_env().encryption_key
    return EncryptedStorage(storage, key_from_text(key)) if key else PlaintextStorage(storage)
