"""Which isolation chunk renders get (bubblewrap present, absent, forbidden, required, off), the
worker's one log line about it, and what the sandbox shows a render process."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from chunking.timeline.studio import load_project
from common.settings import Settings
from tests.helpers import file_clip
from tests.media import make_video, project, video_track
from workers import isolation as iso
from workers import sandbox

pytestmark = pytest.mark.timeout(60)


def test_off_never_uses_bwrap() -> None:
    found = iso.detect("off", which=lambda _: "/usr/bin/bwrap", probe=lambda _: None)
    assert found.kind == iso.RLIMITS and found.error is None
    assert "off" in found.describe()


def test_auto_without_bwrap_falls_back_to_limits_and_says_why() -> None:
    found = iso.detect("auto", which=lambda _: None)
    assert (found.kind, found.error) == (iso.RLIMITS, None)
    assert "not installed" in found.describe() and "no sandbox" in found.describe()


def test_auto_where_namespaces_are_forbidden_falls_back() -> None:
    why = "bwrap cannot create its sandbox here (No permissions to create new namespace)"
    found = iso.detect("auto", which=lambda _: "/usr/bin/bwrap", probe=lambda _: why)
    assert (found.kind, found.reason, found.error) == (iso.RLIMITS, why, None)


def test_auto_with_a_working_bwrap_uses_it() -> None:
    commands: list[list[str]] = []
    found = iso.detect(
        "auto", which=lambda _: "/opt/bwrap", probe=lambda c: commands.append(c) or None
    )
    assert (found.kind, found.bwrap) == (iso.BWRAP, "/opt/bwrap")
    # The probe starts Python in the same sandbox a chunk gets.
    assert commands[0][0] == "/opt/bwrap" and "--unshare-all" in commands[0]


@pytest.mark.parametrize("installed", [False, True])
def test_required_bwrap_that_cannot_run_is_an_error_not_a_fallback(installed: bool) -> None:
    found = iso.detect(
        "bwrap",
        which=lambda _: "/usr/bin/bwrap" if installed else None,
        probe=lambda _: "bwrap cannot create its sandbox here (Operation not permitted)",
    )
    assert found.error is not None and found.error.startswith("CLOUDRENDER_SANDBOX=bwrap, but")


def test_this_machine_gets_bwrap_when_it_is_installed_and_allowed() -> None:
    found = iso.detect("auto")
    if shutil.which("bwrap") is None:
        assert found.reason == "bubblewrap (bwrap) is not installed"
    else:
        assert found.kind == iso.BWRAP or found.reason.startswith("bwrap cannot")


def test_the_worker_logs_its_isolation_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(iso, "_detected", {})
    with caplog.at_level(logging.INFO, logger=iso.__name__):
        found = iso.announce("off")
    assert [r.getMessage() for r in caplog.records] == [found.describe()]
    assert caplog.records[0].levelno == logging.WARNING  # no sandbox is worth noticing


def test_the_sandbox_command_binds_only_what_the_chunk_needs(tmp_path: Path) -> None:
    media = str(tmp_path / "clip.mp4")
    argv = iso.sandbox_command(
        "/usr/bin/bwrap",
        program=["python3", "-m", "x"],
        env={"HOME": "/s"},
        scratch="/s",
        media=[(media, media)],
    )
    pairs = list(zip(argv, argv[1:], argv[2:], strict=False))
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in argv
    assert ("--ro-bind-try", media, media) in pairs  # media: read-only, one file at a time
    assert ("--bind", "/s", "/s") in pairs  # the scratch directory: the only writable bind
    writable = [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"]
    assert writable == ["/s"]
    assert ("--ro-bind", "/", "/") not in pairs
    assert argv[argv.index("--") + 1 :] == ["python3", "-m", "x"]


def test_the_render_process_environment_has_no_credentials() -> None:
    environ = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "CLOUDRENDER_ENCRYPTION_KEY": "00" * 32,
        "CLOUDRENDER_BROKER_URL": "redis://:secret@host:6379/0",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AZURE_STORAGE_KEY": "y",
    }
    env = iso.child_env(environ, "/scratch")
    assert env["PATH"] == "/usr/bin" and env["HOME"] == env["TMPDIR"] == "/scratch"
    assert not any(k.startswith(("CLOUDRENDER_", "AWS_", "AZURE_")) for k in env)


def test_the_render_process_composites_and_steps_as_its_worker_says() -> None:
    """The node's fingerprint names its compositor and kernels: a render process under
    bubblewrap must not fall back to the defaults."""
    environ = {"CLOUDRENDER_COMPOSITOR": "cpu", "CLOUDRENDER_KERNELS": "numpy"}
    env = iso.child_env(environ, "/scratch")
    assert env["CLOUDRENDER_COMPOSITOR"] == "cpu" and env["CLOUDRENDER_KERNELS"] == "numpy"


def test_the_render_process_picks_the_cpu_kernels_its_worker_does() -> None:
    """A node told to use OpenBLAS's Haswell kernels (OPENBLAS_CORETYPE) rendered its chunks
    with the ones it detected: a blurred pixel differed from a direct render in its last bit."""
    environ = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512",
               "NPY_DISABLE_CPU_FEATURES": "AVX512F"}  # fmt: skip
    env = iso.child_env(environ, "/scratch")
    assert {k: env[k] for k in environ} == environ


def test_the_sandbox_shows_only_media_inside_the_roots(tmp_path: Path) -> None:
    roots, outside = tmp_path / "media", tmp_path / "outside"
    roots.mkdir()
    outside.mkdir()
    inside, secret = roots / "a.mp4", outside / "secret.mp4"
    for path in (inside, secret):
        make_video(path, frames=2, size=(64, 36))
    (roots / "door.mp4").symlink_to(secret)
    clips = [
        file_clip(n, p, i * 0.1, i * 0.1 + 0.1)
        for i, (n, p) in enumerate([("a", inside), ("s", secret), ("d", roots / "door.mp4")])
    ]
    tl = load_project(project([video_track("v", clips)], size=(64, 36)), str(tmp_path))
    confined = Settings(media_roots=(str(roots),), cache_dir=str(tmp_path / "cache"))
    assert sandbox._media(tl, confined, 0, tl.frames) == [(str(inside), str(inside))]
    # A worker without media roots shows what the job names (its path checks decided).
    assert len(sandbox._media(tl, Settings(), 0, tl.frames)) == 3


def test_the_worker_working_directory_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``python -m`` puts the working directory (a user's home, say) on sys.path.
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    argv = iso.sandbox_command("/usr/bin/bwrap", program=["true"], env={})
    assert str(tmp_path) not in argv
    # The Python install itself is (under /usr when it is the system's).
    assert sys.base_prefix in argv or sys.base_prefix.startswith("/usr/")


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_worker_installed_under_tmp_finds_its_python_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sandbox's private /tmp was mounted after the worker's Python paths: a checkout or
    virtualenv under /tmp vanished inside, and every chunk ran without the sandbox."""
    with tempfile.TemporaryDirectory(dir="/tmp") as install:
        packages = Path(install) / "site-packages"
        packages.mkdir()
        (packages / "cr_probe_module.py").write_text("ANSWER = 42\n")
        monkeypatch.setattr(sys, "path", [str(packages), *sys.path])
        code = (
            f"import sys; sys.path.insert(0, {str(packages)!r}); "
            "import cr_probe_module as m; print(m.ANSWER)"
        )
        argv = iso.sandbox_command(
            str(shutil.which("bwrap")), program=[sys.executable, "-S", "-c", code], env={}
        )
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if "setting up uid map" in done.stderr or "Creating new namespace failed" in done.stderr:
        pytest.skip(f"bubblewrap cannot make namespaces here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_symlink_swapped_after_the_check_still_shows_the_checked_file(tmp_path: Path) -> None:
    """The sandbox bound each media path as named, so bwrap resolved a symlink again when it
    started: one swapped after the worker's check (to a file outside the media roots) showed
    the render process that file at the clip's path."""
    roots, outside = tmp_path / "media", tmp_path / "outside"
    roots.mkdir()
    outside.mkdir()
    inside, secret = roots / "a.mp4", outside / "secret.mp4"
    make_video(inside, frames=2, size=(64, 36))
    make_video(secret, frames=3, size=(32, 18))
    door = roots / "door.mp4"
    door.symlink_to(inside)
    tl = load_project(
        project([video_track("v", [file_clip("d", door, 0.0, 0.1)])], size=(64, 36)),
        str(tmp_path),
    )
    confined = Settings(media_roots=(str(roots),), cache_dir=str(tmp_path / "cache"))
    media = sandbox._media(tl, confined, 0, tl.frames)
    door.unlink()
    door.symlink_to(secret)  # swapped between the check and the render process's start
    argv = iso.sandbox_command(
        str(shutil.which("bwrap")), program=["cat", str(door)], env={}, media=media
    )
    done = subprocess.run(argv, capture_output=True, timeout=60)
    if b"setting up uid map" in done.stderr or b"Creating new namespace failed" in done.stderr:
        pytest.skip(f"bubblewrap cannot make namespaces here: {done.stderr.decode().strip()}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == inside.read_bytes()


def test_a_worker_starts_its_probe_early_and_waits_for_it_before_its_pool_forks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading
    import time

    from celery.signals import celeryd_init, worker_init

    calls: list[str] = []
    release = threading.Event()

    def slow_detect(mode: str, **_: object) -> iso.Isolation:
        calls.append(threading.current_thread().name)
        release.wait(10)  # the probe: bwrap and a Python in it
        return iso.Isolation(iso.RLIMITS, None, f"probed {mode}")

    monkeypatch.setattr(iso, "detect", slow_detect)
    monkeypatch.setattr(sandbox, "_SETTINGS", [Settings.from_env({"CLOUDRENDER_SANDBOX": "auto"})])
    iso.forget()
    try:
        # As the worker program starts: the probe runs in a thread, the worker goes on
        began = time.monotonic()
        sandbox._detect_soon()  # Celery's celeryd_init
        assert time.monotonic() - began < 1
        assert wait_until(lambda: calls == ["sandbox-probe"])
        # At worker_init (before the fork) it waits for that probe's answer: no second probe
        threading.Timer(0.2, release.set).start()
        sandbox._detect()  # Celery's worker_init
        assert iso._detected["auto"].reason == "probed auto" and not iso._pending
        assert iso.current("auto").reason == "probed auto" and calls == ["sandbox-probe"]
    finally:
        release.set()
        iso.forget()
    assert sandbox._detect_soon in [receiver for _, receiver in celeryd_init.receivers]
    assert sandbox._detect in [receiver for _, receiver in worker_init.receivers]


def wait_until(condition: object, timeout: float = 5.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
