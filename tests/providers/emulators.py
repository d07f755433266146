"""Local cloud-storage emulators for the provider tests: no Docker, no network after setup.

GCS: gcp-storage-emulator (a dev dependency) serves in memory from a thread of the test process::

    create_server("localhost", 0, in_memory=True).start()

Azure: Azurite's blob service, from npm, runs as a child process in its own process group::

    npm install --prefix .cache/azurite azurite@3.35.0        # once; .cache/ is git-ignored
    .cache/azurite/node_modules/.bin/azurite-blob --inMemoryPersistence --blobHost 127.0.0.1 \\
        --blobPort PORT --skipApiVersionCheck --loose --silent --disableTelemetry

Azurite 3.36+ needs Node >= 21 and our machines have Node 20, hence the pin; 3.35 only knows API
versions up to 2025-11-05, hence --skipApiVersionCheck for newer azure-storage-blob releases.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_VERSION = "3.35.0"
AZURITE_DIR = REPO_ROOT / ".cache" / "azurite"

#: Azurite's fixed development account (published in its README; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class EmulatorUnavailable(Exception):
    """An emulator cannot run on this machine because a tool is missing or will not install."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A port where connections are refused at once: bound, released, never listened on."""
    return free_port()


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class GCSEmulator:
    """gcp-storage-emulator serving in memory from a thread of this process."""

    def __init__(self) -> None:
        self._server: Any = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        """The value for STORAGE_EMULATOR_HOST."""
        return f"http://localhost:{self.port}"

    def start(self) -> None:
        """Start serving on a port the OS picks."""
        from gcp_storage_emulator.server import create_server

        # Port 0 makes the OS choose at bind time: no window in which another process can take
        # a port we picked. A bind failure would kill the server thread while start() waited
        # forever on it, so avoiding that race matters more than usual here.
        server = create_server("localhost", 0, in_memory=True)
        server.start()
        httpd = getattr(server._api, "_httpd", None)
        if httpd is None:
            server.stop()
            raise RuntimeError("gcp-storage-emulator changed: cannot find its HTTP server's port")
        self.port = int(httpd.server_port)
        self._server = server

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def wipe(self) -> None:
        """Forget every bucket and object."""
        if self._server is not None:
            self._server.wipe()

    def create_bucket(self, name: str) -> None:
        """Create an empty bucket through the JSON API."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/storage/v1/b?project=test",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def __enter__(self) -> GCSEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def ensure_azurite(cache_dir: Path = AZURITE_DIR) -> Path:
    """The azurite-blob launcher, installed with npm into ``cache_dir`` first if missing.

    Raises EmulatorUnavailable when Node or npm is missing or the install fails.
    """
    binary = cache_dir / "node_modules" / ".bin" / "azurite-blob"
    if _azurite_installed(cache_dir, binary):
        return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise EmulatorUnavailable(
            "Azure tests need Node.js and npm on PATH to install Azurite "
            f"(npm install --prefix {cache_dir} azurite@{AZURITE_VERSION})"
        )
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    # Two pytest runs installing at once would corrupt node_modules; the lock serialises them.
    with open(cache_dir.parent / "azurite.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _azurite_installed(cache_dir, binary):
            command = [npm, "install", "--prefix", str(cache_dir), "--no-audit", "--no-fund"]
            try:
                result = subprocess.run(
                    [*command, f"azurite@{AZURITE_VERSION}"],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
            except subprocess.TimeoutExpired as exc:
                raise EmulatorUnavailable(f"npm install of Azurite timed out: {exc}") from exc
            if result.returncode != 0 or not _azurite_installed(cache_dir, binary):
                tail = (result.stdout + result.stderr).strip()[-2000:]
                raise EmulatorUnavailable(
                    f"npm install azurite@{AZURITE_VERSION} into {cache_dir} failed "
                    f"(exit {result.returncode}):\n{tail}"
                )
    return binary


def _azurite_installed(cache_dir: Path, binary: Path) -> bool:
    """Whether the pinned Azurite version is installed in ``cache_dir``."""
    manifest = cache_dir / "node_modules" / "azurite" / "package.json"
    try:
        version = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return False
    return bool(version == AZURITE_VERSION and binary.exists())


class Azurite:
    """Azurite's blob service in memory, as a child process in its own process group."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def blob_endpoint(self) -> str:
        """The account's blob endpoint URL."""
        return f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        """A connection string for the development account."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.blob_endpoint};"
        )

    @property
    def pid(self) -> int | None:
        """Process id (and process group id) of the running server."""
        return self._process.pid if self._process is not None else None

    def command(self, port: int) -> list[str]:
        """The command line that starts Azurite on ``port``."""
        return [
            str(self.binary),
            "--inMemoryPersistence",
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            # Azurite 3.35 otherwise posts telemetry to Application Insights on every run.
            "--disableTelemetry",
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start on a free port and wait until it accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_path = self.workdir / "azurite.log"
        for _attempt in range(3):
            port = free_port()
            with open(log_path, "ab") as log:
                process = subprocess.Popen(
                    self.command(port),
                    cwd=self.workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own group, so stop() reaches node and anything it spawned.
                    start_new_session=True,
                )
            self._process, self.port = process, port
            deadline = time.monotonic() + timeout
            while process.poll() is None and time.monotonic() < deadline:
                if port_answers(port):
                    return
                time.sleep(0.1)
            self.stop()
            log_text = log_path.read_text(errors="replace")
            if "EADDRINUSE" not in log_text:  # anything but a lost race for the port is final
                raise RuntimeError(
                    f"Azurite did not start within {timeout:.0f}s: {' '.join(self.command(port))}"
                    f"\n{log_text[-2000:]}"
                )
        raise RuntimeError("Azurite could not bind a free port in 3 attempts")

    def stop(self) -> None:
        """Terminate the process group and reap the server; no node process survives."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        # The leader is gone; anything it left in the group goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def create_container(self, name: str) -> None:
        """Create an empty container in the development account."""
        with self._service() as service:
            service.create_container(name)

    def delete_container(self, name: str) -> None:
        """Delete a container and everything in it."""
        with self._service() as service:
            service.delete_container(name)

    @contextlib.contextmanager
    def _service(self) -> Iterator[Any]:
        """A BlobServiceClient for the development account."""
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(self.connection_string) as service:
            yield service

    def __enter__(self) -> Azurite:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
