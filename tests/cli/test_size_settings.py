"""Byte sizes in CLOUDRENDER_* variables: written with units as the README writes them, and a
bad one told in one line by the command that reads it, never a traceback at import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.errors import RenderError
from common.settings import Settings
from tests.helpers import CLI


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        ("1073741824", 2**30),
        ("10G", 10 * 2**30),
        ("10 GiB", 10 * 2**30),
        ("512m", 512 * 2**20),
        ("1.5T", int(1.5 * 2**40)),
        ("2GB", 2 * 10**9),
        ("0", 0),
    ],
)
def test_a_cache_cap_may_be_written_with_units(raw: str, size: int) -> None:
    assert Settings.from_env({"CLOUDRENDER_CACHE_MAX_BYTES": raw}).cache_max_bytes == size


@pytest.mark.parametrize("raw", ["10X", "-1", "ten", "1e3"])
def test_a_bad_size_names_the_variable(raw: str) -> None:
    with pytest.raises(RenderError, match=f"CLOUDRENDER_CACHE_MAX_BYTES='{raw}' must be a size"):
        Settings.from_env({"CLOUDRENDER_CACHE_MAX_BYTES": raw})


def test_cache_stats_reads_a_cap_with_units(cli: CLI, tmp_path: Path) -> None:
    run = cli.with_env(
        CLOUDRENDER_EMBEDDED_DIR=str(tmp_path / "emb"), CLOUDRENDER_CACHE_MAX_BYTES="10G"
    )
    result = run("cache", "stats", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["max_bytes"] == 10 * 2**30


def test_a_bad_cap_is_one_line_and_help_still_works(cli: CLI, tmp_path: Path) -> None:
    run = cli.with_env(
        CLOUDRENDER_EMBEDDED_DIR=str(tmp_path / "emb"), CLOUDRENDER_CACHE_MAX_BYTES="10X"
    )
    assert run("--help").returncode == 0
    result = run("cache", "stats")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: CLOUDRENDER_CACHE_MAX_BYTES='10X' must be a size in bytes, "
        "such as 10737418240, 10G or 10 GiB"
    ]
