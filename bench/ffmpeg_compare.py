"""The ffmpeg side of the throughput comparison, and what an encoded output file says.

``ffmpeg_command`` builds the filter graph that does the benchmark project's work (two decodes
of the source, vignette + saturation, the scaled colour-corrected picture-in-picture at 0.8
opacity, the PNG on top, libx264 with the same settings), or the same graph into ``-f null``
(decode + filters only). ``ensure_ffmpeg`` finds the system ffmpeg (installing the Debian
package when asked); ``x264_build`` and ``count_frames`` read an output file, either renderer's.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import av

from bench.measure import run_timed
from bench.script import log
from bench.throughput_project import CRF, GOP, PIP, SATURATION, VIGNETTE_ANGLE, pip_geometry

#: The command that installs the system ffmpeg (Debian).
INSTALL = "apt-get update && apt-get install -y ffmpeg"


def ffmpeg_command(
    directory: Path,
    output: Path | None,
    width: int,
    height: int,
    frames: int,
    preset: str,
    blur: float,
    one_decode: bool = False,
) -> list[str]:
    """ffmpeg doing the project's work: 2 decodes, 3 layers, effects, x264 (None: no encode).

    ``one_decode``: the source is decoded once and split between the two layers (as the
    renderer does for clips showing the same footage at the same moment)."""
    pip_w, pip_h, pip_x, pip_y = pip_geometry(width, height)
    pip_chain = (
        f"scale={pip_w}:{pip_h}:flags=bilinear,"
        f"eq=brightness={PIP['brightness']}:contrast={PIP['contrast']}"
        f":saturation={PIP['saturation']}"
    )
    if blur > 0:
        pip_chain += f",gblur=sigma={blur}"
    bottom, top, logo = ("[v0]", "[v1]", "[1:v]") if one_decode else ("[0:v]", "[1:v]", "[2:v]")
    graph = ";".join(
        (["[0:v]split[v0][v1]"] if one_decode else [])
        + [
            f"{bottom}vignette=angle={VIGNETTE_ANGLE},eq=saturation={SATURATION}[bg]",
            f"{top}{pip_chain},format=rgba,colorchannelmixer=aa={PIP['opacity']}[pip]",
            f"[bg][pip]overlay=x={pip_x}:y={pip_y}[mid]",
            f"[mid]{logo}overlay=x=0:y=0,format=yuv420p[out]",
        ]
    )
    source = str(directory / "source.mp4")
    inputs = ["-i", source] if one_decode else ["-i", source, "-i", source]
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        *inputs,
        "-i",
        str(directory / "logo.png"),
        "-filter_complex",
        graph,
        "-map",
        "[out]",
        "-frames:v",
        str(frames),
        "-an",
        *(
            ["-f", "null", "-"]
            if output is None
            else [
                "-c:v",
                "libx264",
                "-preset",
                preset,
                "-crf",
                str(CRF),
                "-g",
                str(GOP),
                "-x264-params",
                f"keyint={GOP}:min-keyint={GOP}:scenecut=0",
                "-pix_fmt",
                "yuv420p",
                str(output),
            ]
        ),
    ]


def ensure_ffmpeg(install: bool) -> str:
    """The ffmpeg binary on PATH; installs the Debian package first when asked."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    if not install:
        sys.exit(f"error: ffmpeg is not on PATH: run '{INSTALL}' (or rerun with --install)")
    log(f"installing ffmpeg: {INSTALL}")
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", "ffmpeg"]):
        if subprocess.run(step, check=False).returncode != 0:
            sys.exit(f"'{shlex.join(step)}' failed; install ffmpeg yourself: {INSTALL}")
    found = shutil.which("ffmpeg")
    if not found:
        sys.exit("ffmpeg is still not on PATH after installing it")
    return found


def ffmpeg_version(binary: str) -> str:
    """The first line of `ffmpeg -version`."""
    out = subprocess.run([binary, "-version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def run_ffmpeg(cmd: list[str], output: Path | None, frames: int) -> dict[str, Any]:
    """Run an ffmpeg command once, timed with perf_counter around the process."""
    timed = run_timed(cmd)
    done, wall = timed.done, timed.wall
    if done.returncode != 0:
        sys.exit(f"ffmpeg failed ({done.returncode}): {done.stderr.strip()}")
    result: dict[str, Any] = {
        "seconds": round(wall, 3),
        "fps": round(frames / wall, 2),
        "command": shlex.join(cmd),
    }
    if output is not None:
        result["frames_written"] = count_frames(output)
        result["bytes"] = output.stat().st_size
        result["x264"] = x264_build(output)
    return result


def x264_build(path: Path) -> str:
    """The x264 version and threading an encoded file records in its SEI message."""
    data = path.read_bytes()[:1_000_000]
    found = re.search(rb"x264 - core (\d+)", data)
    threads = re.search(rb"threads=(\d+) lookahead_threads=\d+ sliced_threads=(\d)", data)
    if not found:
        return "unknown"
    text = f"x264 core {found.group(1).decode()}"
    if threads:
        kind = "slice" if threads.group(2) == b"1" else "frame"
        text += f", {threads.group(1).decode()} {kind} threads"
    return text


def count_frames(path: Path) -> int:
    """Video packets in a file (one per frame for h264)."""
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(video=0) if p.size)
