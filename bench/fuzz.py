"""A long fuzz run of the loaders and the renderer: how many inputs, how many refused, what
escaped (anything but our TimelineError / RenderError, or a warning), and the peak memory.

    python bench/fuzz.py 2000                 # every target, 2,000 examples each (render: 1/5)
    python bench/fuzz.py 500 studio otio      # some targets

Exits 1 when anything escaped, printing the first inputs that did.
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from bench.fuzz_strategies import (  # noqa: E402
    otio_documents,
    renderable_documents,
    studio_documents,
)
from chunking.memory import frame_bytes  # noqa: E402
from chunking.timeline.loader import load  # noqa: E402
from chunking.timeline.studio import load_project  # noqa: E402
from common.errors import RenderError, TimelineError  # noqa: E402
from workers.render import render_to_file  # noqa: E402

#: Rendered documents must stay far below this machine's memory.
RENDER_BUDGET = 512 * 2**20
#: The targets, in the order they run.
TARGETS = ("studio", "studio_file", "otio", "render")

counts: collections.Counter[str] = collections.Counter()
escaped: dict[str, tuple[Any, str]] = {}


def _escaped(target: str, exc: BaseException, document: Any) -> None:
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc  # Ctrl-C stops the run; it is not an input that escaped
    key = f"{target}: {type(exc).__name__}: {str(exc)[:120]}"
    counts[f"{target} escaped"] += 1
    escaped.setdefault(key, (document, traceback.format_exc()[-1500:]))


def _load_file(document: Any, suffix: str, target: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"project{suffix}"
        path.write_text(json.dumps(document))
        try:
            load(str(path))
            counts[f"{target} loaded"] += 1
        except TimelineError as exc:
            counts[f"{target} refused"] += 1
            if "\n" in str(exc):
                _escaped(target + " (multi-line message)", exc, document)
        except BaseException as exc:  # noqa: BLE001 - what escapes is what we count
            _escaped(target, exc, document)


def targets(examples: int) -> dict[str, Callable[[], None]]:
    """The fuzz targets, each a Hypothesis test of `examples` inputs."""
    run = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )

    @run
    @given(studio_documents())
    def studio(document: Any) -> None:
        try:
            frame_bytes(load_project(document, "/nonexistent"))
            counts["studio loaded"] += 1
        except TimelineError:
            counts["studio refused"] += 1
        except BaseException as exc:  # noqa: BLE001
            _escaped("studio", exc, document)

    @run
    @given(studio_documents())
    def studio_file(document: Any) -> None:
        _load_file(document, ".json", "studio_file")

    @run
    @given(otio_documents())
    def otio(document: Any) -> None:
        _load_file(document, ".otio", "otio")

    @settings(run, max_examples=max(examples // 5, 1))
    @given(renderable_documents())
    def render(document: Any) -> None:
        try:
            timeline = load_project(document, "/nonexistent")
        except TimelineError:
            counts["render refused at load"] += 1
            return
        except BaseException as exc:  # noqa: BLE001
            _escaped("render (load)", exc, document)
            return
        if frame_bytes(timeline)[0] > RENDER_BUDGET:
            counts["render over budget"] += 1
            return
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                render_to_file(timeline, str(Path(tmp) / "out.mp4"), audio=False)
                counts["render rendered"] += 1
            except RenderError:
                counts["render refused"] += 1
            except BaseException as exc:  # noqa: BLE001
                _escaped("render", exc, document)

    return {"studio": studio, "studio_file": studio_file, "otio": otio, "render": render}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen targets and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", type=int, help="inputs per target (render: a fifth)")
    parser.add_argument("targets", nargs="*", help=f"{', '.join(TARGETS)} (all)")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("examples must be at least 1")
    unknown = [name for name in args.targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    available = targets(args.examples)
    chosen = args.targets or list(available)
    for name in chosen:
        began = time.perf_counter()
        available[name]()
        print(f"{name}: {time.perf_counter() - began:.1f} s", flush=True)
    print(json.dumps(dict(sorted(counts.items())), indent=1))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
    for key, (document, trace) in list(escaped.items())[:8]:
        print(f"==== {key}\n{json.dumps(document)[:600]}\n{trace}")
    return 1 if escaped else 0


if __name__ == "__main__":
    sys.exit(main())
