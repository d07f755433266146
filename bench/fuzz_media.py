"""Damaged media through validate, asset upload and render: whether the three agree.

    python bench/fuzz_media.py 400            # 400 damaged files (seeds 0-399)
    python bench/fuzz_media.py 200 --from 1000

Each seed takes one small original (H.264 + AAC in MP4, MOV and Matroska; VP9 in WebM), flips
bits near the boxes and codec IDs its structure hangs on or anywhere, cuts it short, or both,
and puts it in a one-clip project (1.5 s of a 2 s file). Then ``validate`` (media_report),
``upload`` (asset_checks' media_problem: no project, so no clip ranges) and ``render``
(header_warnings then render_to_file, sound included) each accept or refuse it. Printed: the
count of each (validate, upload, render) outcome, and every seed where validate and render
disagree, upload refuses what validate accepts, or anything escaped (an exception that is not
our RenderError, or a hang past 120 s). Exits 1 when any of those happened.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import signal
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import make_video, project, video_track  # noqa: E402
from chunking.timeline.project import read_project  # noqa: E402
from common.errors import RenderError, TimelineError  # noqa: E402
from workers.probe import header_warnings, media_problem, media_report  # noqa: E402
from workers.render import render_to_file  # noqa: E402

#: Names a file's structure hangs on: damage near them finds what uniform damage rarely does.
LANDMARKS = (b"moov", b"trak", b"mdhd", b"tkhd", b"hdlr", b"stsd", b"avc1", b"avcC", b"mp4a",
             b"esds", b"stts", b"stss", b"stsz", b"stco", b"ctts", b"mdat", b"V_MPEG4",
             b"V_VP9", b"A_AAC", b"A_OPUS")  # fmt: skip
#: Seconds one check may take before it counts as a hang.
HANG_SECONDS = 120


class _Hang(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise _Hang


def originals(folder: Path) -> dict[str, Path]:
    """The small whole files that are damaged."""
    return {
        ".mp4": make_video(folder / "a.mp4", frames=60, size=(64, 36), audio_hz=440.0),
        ".mkv": make_video(folder / "a.mkv", frames=60, size=(64, 36), audio_hz=440.0),
        ".webm": make_video(folder / "a.webm", frames=60, size=(64, 36), codec="libvpx-vp9"),
        ".mov": make_video(folder / "a.mov", frames=60, size=(64, 36), audio_hz=440.0),
    }


def damaged(seed: int, made: dict[str, Path]) -> tuple[str, bytes, list[str]]:
    """The extension, bytes and description of seed's damaged file."""
    rng = random.Random(seed)
    ext = rng.choice(sorted(made))
    body = bytearray(made[ext].read_bytes())
    marks = [i for name in LANDMARKS for i in _all(bytes(body), name)] or [0]
    kind = rng.choice(["flip", "cut", "both", "header"])
    said: list[str] = []
    if kind != "cut":
        for _ in range(rng.randint(1, 4)):
            near = kind == "header" or rng.random() < 0.5
            at = rng.choice(marks) + rng.randint(-8, 24) if near else rng.randrange(len(body))
            at, bit = min(max(0, at), len(body) - 1), rng.randrange(8)
            body[at] ^= 1 << bit
            said.append(f"flip@{at}:{bit}")
    if kind in ("cut", "both"):
        share = rng.uniform(0.05, 0.999)
        body = body[: int(len(body) * share)]
        said.append(f"cut{share:.3f}")
    return ext, bytes(body), said


def _all(body: bytes, name: bytes) -> list[int]:
    found, at = [], body.find(name)
    while at >= 0:
        found.append(at)
        at = body.find(name, at + 1)
    return found


def _outcome(check: Any) -> tuple[str, str]:
    """("ok" | "refuse" | "HANG" | "ESCAPED", the message) of one check."""
    signal.alarm(HANG_SECONDS)
    try:
        problem = check()
        return ("refuse", str(problem)) if problem else ("ok", "")
    except _Hang:
        return "HANG", ""
    except RenderError as exc:
        return "refuse", str(exc)
    except Exception as exc:  # noqa: BLE001 - what escapes is what this counts
        return "ESCAPED", f"{type(exc).__name__}: {exc}"
    finally:
        signal.alarm(0)


def examine(seed: int, made: dict[str, Path], root: Path) -> dict[str, Any]:
    """Validate, upload and render of seed's damaged file."""
    ext, body, said = damaged(seed, made)
    folder = root / f"s{seed}"
    folder.mkdir()
    path = folder / f"damaged{ext}"
    path.write_bytes(body)
    clip = {"id": "take", "start_time": 0, "end_time": 1.5, "source": {"File": path.name}}
    found: dict[str, Any] = {"seed": seed, "ext": ext, "damage": said}
    try:
        timeline = read_project(project([video_track("v", [clip])]), base_dir=str(folder)).timeline
    except TimelineError as exc:
        found["load"] = str(exc)
        return found

    def render() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            header_warnings(timeline)
            render_to_file(timeline, str(folder / "out.mp4"), audio=True)

    for name, check in (
        ("validate", lambda: media_report(timeline, str(folder))[0]),
        ("upload", lambda: media_problem(str(path))),
        ("render", render),
    ):
        found[name], found[f"{name}_says"] = _outcome(check)
    return found


def main(argv: list[str] | None = None) -> int:
    """Damage the files, check each three ways, print the table and the disagreements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="damaged files (seeds)")
    parser.add_argument("--from", dest="first", type=int, default=0, help="first seed (0)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGALRM, _alarm)
    table: collections.Counter[str] = collections.Counter()
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        made = originals(root)
        for seed in range(args.first, args.first + args.count):
            found = examine(seed, made, root)
            if "load" in found:
                table["refused at load"] += 1
                continue
            outcomes = (found["validate"], found["upload"], found["render"])
            table[" / ".join(outcomes)] += 1
            # Upload knows no clips: it may take what validate refuses for the clip's range,
            # never refuse what validate (and so render) accepts.
            refused_upload = found["validate"] == "ok" and found["upload"] == "refuse"
            if (
                found["validate"] != found["render"]
                or refused_upload
                or {"HANG", "ESCAPED"} & set(outcomes)
            ):
                bad += 1
                print(json.dumps(found), flush=True)
    print("validate / upload / render:")
    print(json.dumps(dict(table.most_common()), indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
