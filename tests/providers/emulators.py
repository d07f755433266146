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
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestrator.processes import free_port, start_process
from orchestrator.server_process import ServerProcess
from tests.helpers import ROOT

AZURITE_VERSION = "3.35.0"
AZURITE_DIR = ROOT / ".cache" / "azurite"

#: Azurite's fixed development account (published in its README; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


#: Environment variables that carry each backend's endpoint and credentials to the workers.
FORWARDED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "CLOUDRENDER_S3_ENDPOINT_URL",
    "STORAGE_EMULATOR_HOST",
    "GOOGLE_CLOUD_PROJECT",
    "AZURE_STORAGE_CONNECTION_STRING",
)


def worker_env(cache_dir: Path) -> dict[str, str]:
    """Environment for the workers of a test cluster: the endpoints and credentials that the
    emulator fixtures set in this process (FORWARDED), and an asset cache of their own."""
    env = {name: os.environ[name] for name in FORWARDED if name in os.environ}
    env["CLOUDRENDER_CACHE_DIR"] = str(cache_dir)
    return env


class EmulatorUnavailable(Exception):
    """An emulator cannot run on this machine because a tool is missing or will not install."""


def closed_port() -> int:
    """A port where connections are refused at once: bound, released, never listened on."""
    return free_port()


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A port where connections hang, as behind a firewall that drops packets: a listening
    socket whose accept queue is full and is never served (Linux drops the further SYNs)."""
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(socket.socket())
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = int(server.getsockname()[1])
        for _ in range(4):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        yield port


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


class Azurite(ServerProcess):
    """Azurite's blob service in memory, as a child process in its own process group."""

    label = "Azurite"
    name = "azurite"

    def __init__(self, binary: Path, start_timeout: float = 60.0) -> None:
        super().__init__(port=None, start_timeout=start_timeout, stop_timeout=10.0)
        self.binary = binary

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

    def _launch(self, port: int, log_path: Path) -> subprocess.Popen[bytes]:
        return start_process(self.command(port), log_path, None, True)

    def _serving(self, port: int, deadline: float) -> bool:
        """Wait until it accepts connections; False if it lost the race for the port."""
        assert self._proc is not None
        while self._proc.poll() is None:
            if port_answers(port):
                return True
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        log = self._log_tail()
        if "EADDRINUSE" in log:
            return False
        raise RuntimeError(
            f"Azurite did not start within {self.start_timeout:.0f}s: "
            f"{' '.join(self.command(port))}\n{log}"
        )

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
