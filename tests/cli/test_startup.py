"""The command line's start: light commands load none of the render or cluster stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.json"

#: What the render and cluster commands need and a light one (`validate`, `--help`, the
#: parsers of every command) must not pay for: about 1.3 CPU-s of imports together.
HEAVY = ("celery", "kombu", "numpy", "av", "redis", "orchestrator.dispatcher")


def _loaded_after(code: str) -> set[str]:
    """The heavy modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport sys\nprint('loaded:', *(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=DEMO.parents[1],
    )
    # The last line: what the command printed (its help) comes before.
    return set(done.stdout.splitlines()[-1].split()[1:])


@pytest.mark.parametrize(
    "code",
    [
        "import cli.main",
        "import cli.main\ncli.main._parser()",
        "import cli.main, contextlib\n"
        "with contextlib.suppress(SystemExit):\n"
        "    cli.main.main(['validate', '--help'])",
    ],
)
def test_the_parser_loads_no_heavy_module(code: str) -> None:
    assert _loaded_after(code) == set()


def test_validate_runs_without_the_cluster_stack() -> None:
    # Validating a project talks to no broker and dispatches nothing.
    loaded = _loaded_after(f"import cli.main\ncli.main.main(['validate', {str(DEMO)!r}])")
    assert not loaded & {"celery", "kombu", "redis", "orchestrator.dispatcher"}


def test_the_parser_loads_no_project_loader_or_price_client() -> None:
    # `--help`, `budget`, `keys` read no project and fetch no prices.
    code = "import cli.main, sys\ncli.main._parser()\n"
    probe = code + (
        "print('loaded:', *(m for m in ('chunking.timeline.loader', 'chunking.plan',"
        " 'providers.compute.prices.refresh') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=DEMO.parents[1],
    )
    assert done.stdout.split() == ["loaded:"]


#: What a command that only reads the job store (``status``, ``cluster status``) must not load:
#: it needs Redis, never the Celery app, the dispatcher or the media stack (about 1 CPU-s).
RENDER_STACK = ("celery", "kombu", "numpy", "av", "orchestrator.dispatcher", "orchestrator.api")
#: ... nor the HTTP client, which only ``--api`` uses (about 0.17 s of imports).
HTTP_CLIENT = ("httpx",)


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "0123456789abcdef"],
        ["status", "0123456789abcdef", "--json"],
        ["cluster", "status"],
    ],
)
def test_read_only_commands_load_no_render_stack(argv: list[str]) -> None:
    # A dead broker: the command fails right after its imports, as one unreachable line (exit 3).
    probe = (
        f"import sys, cli.main\ncode = cli.main.main({argv!r})\n"
        f"print('exit', code, 'loaded:',"
        f" *(m for m in {RENDER_STACK + HTTP_CLIENT!r} if m in sys.modules))"
    )
    env = {
        **os.environ,
        "CLOUDRENDER_BROKER_URL": "redis://127.0.0.1:1/0",
        "CLOUDRENDER_REDIS_PATIENCE": "0",
    }
    env.pop("CLOUDRENDER_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=DEMO.parents[1],
        env=env,
    )
    words = done.stdout.splitlines()[-1].split()
    assert words[:3] == ["exit", "3", "loaded:"]
    assert words[3:] == []
    assert "127.0.0.1:1" in done.stderr


@pytest.mark.parametrize("argv", [["status", "0123456789abcdef"], ["cluster", "status"]])
def test_the_read_only_commands_still_refuse_a_malformed_encryption_key(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The full API refused it before any Redis call; the light one must not go quiet about it.
    import cli.main

    monkeypatch.setenv("CLOUDRENDER_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("CLOUDRENDER_ENCRYPTION_KEY", "bogus")
    monkeypatch.delenv("CLOUDRENDER_API_URL", raising=False)
    assert cli.main.main(argv) == 2
    assert "encryption key must be 64 hex characters" in capsys.readouterr().err
