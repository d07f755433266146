"""The house rules of the layout (docs/architecture.md): each top-level package imports only the
packages below it, every package says what lives in it, and only the settings read the
environment. Parsed from the source, so a new upward or circular arrow fails here first."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Which of our top-level packages each one may import, written once. Entry points at the top.
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "providers": {"common"},
    "chunking": {"common"},
    "workers": {"common", "chunking", "providers"},
    "orchestrator": {"common", "chunking", "providers", "workers"},
    "monitoring": {"common", "chunking", "providers", "workers", "orchestrator"},
    # the HTTP service: an entry point like the CLI, which starts it (``cloudrender serve``)
    "server": {"common", "chunking", "providers", "workers", "orchestrator", "monitoring"},
    "cli": {"common", "chunking", "providers", "workers", "orchestrator", "monitoring", "server"},
    "bench": {
        "common",
        "chunking",
        "providers",
        "workers",
        "orchestrator",
        "monitoring",
        "server",
        "cli",
    },
}
OURS = set(ALLOWED) | {"tests"}
#: Where os.environ may be read besides common/settings.py: cloud SDKs' own credential chains.
ENVIRONMENT_READERS = {"providers/storage/azure_client.py", "providers/storage/gcs.py"}


def sources(package: str) -> Iterator[Path]:
    """Every Python file of a top-level package."""
    yield from sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import in a file, in functions too, and of every
    ``importlib.import_module("...")`` with a literal name (an import by another spelling)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def arrows(package: str) -> list[tuple[str, str]]:
    """(where, target package) of every import from `package` into another package of ours."""
    found = []
    for path in sources(package):
        for line, module in imported(path):
            top = module.split(".")[0]
            if top in OURS and top != package:
                found.append((f"{path.relative_to(ROOT)}:{line}", top))
    return found


def test_the_allowed_directions_have_no_cycle() -> None:
    order: list[str] = []
    pending = dict(ALLOWED)
    while pending:
        ready = [p for p, below in pending.items() if below <= set(order)]
        assert ready, f"the allowed imports form a cycle among {sorted(pending)}"
        order += sorted(ready)
        for p in ready:
            del pending[p]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_only_downward(package: str) -> None:
    wrong = [
        f"{where} imports {target}"
        for where, target in arrows(package)
        if target not in ALLOWED[package]
    ]
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}: " + "; ".join(wrong)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_every_package_says_what_lives_in_it(package: str) -> None:
    for init in sorted((ROOT / package).rglob("__init__.py")):
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring"


def test_only_the_settings_read_the_environment() -> None:
    readers = []
    for package in sorted(set(ALLOWED) - {"bench"}):
        for path in sources(package):
            name = str(path.relative_to(ROOT))
            if name == "common/settings.py" or name in ENVIRONMENT_READERS:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                # A read: os.environ.get(...), os.environ[...] or os.getenv(...). Copying the
                # whole environment into a child process's (``{**os.environ}``) is not a read.
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    target = ast.unparse(node.func)
                    if target in ("os.environ.get", "os.getenv"):
                        readers.append(f"{name}:{node.lineno}")
                elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                    if isinstance(node.ctx, ast.Load):
                        readers.append(f"{name}:{node.lineno}")
    assert not readers, "read the environment through common.settings.Settings: " + ", ".join(
        readers
    )
