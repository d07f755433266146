"""Incremental re-render: a long film rendered, one 3-s title fixed, rendered again.

Generates, in a temporary directory, a moving h264 test video (``bench.throughput_project``'s
pattern, ``--source-seconds`` long), a music bed (a 48 kHz AAC tone) and a Timeline Studio
project of ``--minutes`` minutes at ``--size`` (default 10 minutes at 1920x1080, 30 fps): a cut
every ``--shot`` seconds, each shot a different stretch of the test video, the music on an audio
track, and a 3-second title every 15 seconds. A local cluster (a private Redis plus ``--workers``
worker slots and the orchestrator, as ``cloudrender render`` starts one) renders it; then one
title in the middle of the film gets its typo fixed and the edited project is rendered again on
the same cluster, whose segment cache holds the first render's chunks.

Printed: for each render the wall time (submit to completed, as the client sees it), the
CPU-seconds of the whole cluster (every worker, chunk and Redis process, plus this client), the
chunks and frames rendered, the chunks reused from the cache; then the second render's wall and
CPU as a fraction of the first (the issue's target: at most 5 %). ``--verify`` also renders the
edited project with the cache off and checks that both outputs carry the same video packets
and decode to the same frames and samples.

Run: ``.venv/bin/python bench/incremental.py [--minutes 10] [--size 1920x1080]
[--workers N] [--shot 6] [--verify] [--json]``. Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import media_machine
from bench.script import emit, exit_on_signals, log
from bench.support import project, video_track
from bench.throughput_project import FPS, make_source
from cli import WORKER_APP
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import JobRecord, JobState
from orchestrator.processes import group_members
from workers.job_policy import policy_env

#: The title that gets its typo fixed: the one nearest the middle of the film.
TITLE_EVERY = 15.0
TITLE_SECONDS = 3.0
TYPO, FIXED = "Chapter {n}: The Begining", "Chapter {n}: The Beginning"
#: The issue's target for the re-render, as a fraction of the first render.
TARGET = 0.05
MUSIC_SECONDS = 30.0
SAMPLE_RATE = 48000


# -- the generated film ---------------------------------------------------------------------------


def make_music(path: Path, seconds: float) -> None:
    """A stereo AAC tone with a slow tremolo: something the mix has to carry through."""
    total = int(seconds * SAMPLE_RATE)
    t = np.arange(total) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * math.pi * 220.0 * t) * (0.75 + 0.25 * np.sin(2 * math.pi * 0.5 * t))
    data = np.stack([tone, tone]).astype(np.float32)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        step = 1024
        for pos in range(0, total, step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(data[:, pos : pos + step]), format="fltp", layout="stereo"
            )
            frame.sample_rate = SAMPLE_RATE
            frame.pts = pos
            frame.time_base = Fraction(1, SAMPLE_RATE)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def film(
    minutes: float, size: tuple[int, int], shot: float, source_seconds: float
) -> dict[str, Any]:
    """The Timeline Studio document: shots cut from the test video, music, a title every 15 s."""
    length = minutes * 60
    clips: list[dict[str, Any]] = []
    titles: list[dict[str, Any]] = []
    music: list[dict[str, Any]] = []
    start, index = 0.0, 0
    while start < length - 1e-9:
        end = min(start + shot, length)
        # Shots read different stretches of the source, as cuts of real footage do.
        offset = (index * 3.7) % max(source_seconds - shot, 0.0)
        clips.append(
            {
                "id": f"shot{index}",
                "start_time": round(start, 3),
                "end_time": round(end, 3),
                "source": {"File": "source.mp4"},
                "source_start": round(offset, 3),
            }
        )
        start, index = end, index + 1
    at = 0.0
    while at < length - 1e-9:
        music.append(
            {
                "id": f"music{len(music)}",
                "start_time": round(at, 3),
                "end_time": round(min(at + MUSIC_SECONDS, length), 3),
                "source": {"File": "music.m4a"},
                "volume": 0.8,
            }
        )
        at += MUSIC_SECONDS
    at = 2.0
    while at + TITLE_SECONDS <= length:
        n = len(titles) + 1
        titles.append(
            {
                "id": f"title{n}",
                "text": TYPO.format(n=n),
                "start_time": at,
                "end_time": at + TITLE_SECONDS,
                "position": {"type": "Relative", "align_x": "Center", "align_y": "Bottom"},
                "style": {"font_size": size[1] / 18, "color": "#ffffff"},
            }
        )
        at += TITLE_EVERY
    return project(
        [
            video_track("v1", clips),
            {"id": "a1", "track_type": "Audio", "name": "Music", "clips": music},
        ],
        fps=FPS,
        size=size,
        subtitles=titles,
        settings={"export": {"format": "mp4", "codec": "h264", "crf": 23, "preset": "veryfast"}},
    )


def fix_typo(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document with the middle title's typo fixed, and that title."""
    edited = copy.deepcopy(doc)
    titles = edited["subtitles"]
    title = titles[len(titles) // 2]
    n = int(title["id"].removeprefix("title"))
    title["text"] = FIXED.format(n=n)
    return edited, title


# -- measuring the cluster ------------------------------------------------------------------------


def tree_cpu(groups: list[int]) -> float:
    """CPU-seconds of every live process of these process groups, with their reaped children.

    A chunk's render child and a replaced pool process are reaped by a member of the group, so
    their time moves into its ``cutime``/``cstime`` and is never lost between two readings.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for group in groups:
        for pid in group_members(group):
            try:
                stat = Path(f"/proc/{pid}/stat").read_bytes()
            except OSError:
                continue  # exited while we looked
            fields = stat[stat.rfind(b")") + 2 :].split()
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    own = resource.getrusage(resource.RUSAGE_SELF)
    return total / tick + own.ru_utime + own.ru_stime


def render(
    api: CloudRenderingAPI, path: Path, output: Path, groups: list[int], *, use_cache: bool
) -> dict[str, Any]:
    """Submit the project, wait for it, and measure what it cost."""
    cpu0, began = tree_cpu(groups), time.perf_counter()
    job = api.submit_job(str(path), output=str(output), use_cache=use_cache)
    record = api.wait(job)
    wall = time.perf_counter() - began
    cpu = tree_cpu(groups) - cpu0
    if record.state is not JobState.COMPLETED:
        sys.exit(f"job {job} ended {record.state}: {record.error}")
    return summary(record, wall, cpu)


def summary(record: JobRecord, wall: float, cpu: float) -> dict[str, Any]:
    """What one render did: time, CPU, chunks and frames rendered and reused."""
    reused = [c for c in record.chunks if c.reused]
    return {
        "job": record.id,
        "wall": round(wall, 2),
        "cpu": round(cpu, 2),
        "chunks": record.chunk_count,
        "reused_chunks": len(reused),
        "frames": record.frames,
        "frames_rendered": record.frames - sum(c.frames for c in reused),
        "rendered": [[c.start, c.end] for c in record.chunks if not c.reused],
        "merge_seconds": (record.result or {}).get("merge_seconds"),
    }


def video_digest(path: Path) -> str:
    """sha256 over the video stream's packets (payload and timestamps): container-independent."""
    digest = hashlib.sha256()
    with av.open(str(path)) as container:
        for packet in container.demux(video=0):
            if packet.size:
                digest.update(f"{packet.pts}:{packet.dts}:{packet.is_keyframe}".encode())
                digest.update(bytes(packet))
    return digest.hexdigest()


def decoded_difference(path: Path, reference: Path) -> str | None:
    """Where two outputs' decoded pictures or sound first differ, or None when every frame and
    sample is the same (what a viewer gets: packets may differ where the pictures do not)."""
    streams: list[tuple[list[np.ndarray], np.ndarray]] = []
    for name in (path, reference):
        with av.open(str(name)) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
            container.seek(0)
            chunks = [f.to_ndarray() for f in container.decode(audio=0)]
        streams.append((frames, np.concatenate(chunks, axis=-1) if chunks else np.zeros((1, 0))))
    (pictures, sound), (want, heard) = streams
    if len(pictures) != len(want):
        return f"{len(pictures)} frames, the reference {len(want)}"
    for n, (a, b) in enumerate(zip(pictures, want, strict=True)):
        if not np.array_equal(a, b):
            return f"frame {n} differs (by up to {int(np.abs(a.astype(int) - b).max())} levels)"
    if sound.shape != heard.shape or not np.array_equal(sound, heard):
        return f"the sound differs ({sound.shape[-1]} samples, the reference {heard.shape[-1]})"
    return None


# -- the benchmark --------------------------------------------------------------------------------


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Generate the film, render it, fix one title, render again; return the measurements."""
    width, height = args.size
    with tempfile.TemporaryDirectory(prefix="cloudrender-incremental-") as tmp:
        directory = Path(tmp)
        began = time.perf_counter()
        log(f"generating a {args.source_seconds:g}-s {width}x{height} test video and music")
        make_source(directory / "source.mp4", width, height, round(args.source_seconds * FPS))
        make_music(directory / "music.m4a", MUSIC_SECONDS)
        doc = film(args.minutes, (width, height), args.shot, args.source_seconds)
        first_path = directory / "film.json"
        first_path.write_text(json.dumps(doc, indent=1))
        edited, title = fix_typo(doc)
        second_path = directory / "film-fixed.json"
        second_path.write_text(json.dumps(edited, indent=1))
        generated = time.perf_counter() - began
        storage = directory / "storage"
        storage.mkdir()
        storage_url = storage.as_uri()
        threads = max(1, (os.cpu_count() or 1) // args.workers)
        env = {
            "CLOUDRENDER_ENCODER_THREADS": str(threads),
            "OPENBLAS_NUM_THREADS": str(threads),
            "OMP_NUM_THREADS": str(threads),
            **policy_env(storage_url=storage_url, media_roots=[tmp], output_roots=[tmp]),
        }
        log(f"starting a local cluster with {args.workers} worker slot(s)")
        with EmbeddedCluster(workers=args.workers, env=env, beat=True, app=WORKER_APP) as cluster:
            assert cluster.workers is not None and cluster.workers.pid is not None
            groups = [cluster.workers.pid]
            if cluster.redis.pid is not None:
                groups.append(cluster.redis.pid)
            api = CloudRenderingAPI(cluster.broker_url, storage_url=storage_url)
            log(f"render 1: {len(doc['tracks'][0]['clips'])} shots, {len(doc['subtitles'])} titles")
            first = render(api, first_path, directory / "first.mp4", groups, use_cache=True)
            log(f"render 1: {first['wall']:.1f} s, {first['cpu']:.1f} CPU-s")
            log(f"render 2: {title['id']} now reads {title['text']!r}")
            second = render(api, second_path, directory / "second.mp4", groups, use_cache=True)
            log(f"render 2: {second['wall']:.1f} s, {second['cpu']:.1f} CPU-s")
            cache = api.cache_stats()
            verify: dict[str, Any] | None = None
            if args.verify:
                log("render 3: the edited film again with the cache off (the reference)")
                third = render(api, second_path, directory / "third.mp4", groups, use_cache=False)
                same = video_digest(directory / "second.mp4") == video_digest(
                    directory / "third.mp4"
                )
                differs = decoded_difference(directory / "second.mp4", directory / "third.mp4")
                verify = {
                    "reference": third,
                    "identical_video_packets": same,
                    "decoded_difference": differs,
                }
    result: dict[str, Any] = {
        "machine": media_machine(),
        "params": {
            "minutes": args.minutes,
            "size": [width, height],
            "fps": FPS,
            "shot": args.shot,
            "workers": args.workers,
            "source_seconds": args.source_seconds,
            "edit": {
                "title": title["id"],
                "start": title["start_time"],
                "end": title["end_time"],
            },
            "generate_seconds": round(generated, 1),
        },
        "first": first,
        "second": second,
        "cache": {
            "entries": cache.entries,
            "bytes": cache.bytes,
            "hits": cache.hits,
            "misses": cache.misses,
        },
        "wall_fraction": round(second["wall"] / first["wall"], 4),
        "cpu_fraction": round(second["cpu"] / first["cpu"], 4),
        "target": TARGET,
    }
    if verify is not None:
        result["verify"] = verify
    return result


def report(result: dict[str, Any]) -> None:
    """The results as a short table."""
    p = result["params"]
    print(
        f"{p['minutes']:g} min at {p['size'][0]}x{p['size'][1]} {p['fps']} fps, a cut every "
        f"{p['shot']:g} s, {p['workers']} worker slot(s); edit: {p['edit']['title']} "
        f"({p['edit']['start']:g}-{p['edit']['end']:g} s)"
    )
    print(f"{'':8} {'wall s':>8} {'CPU s':>8} {'chunks':>7} {'reused':>7} {'frames rendered':>16}")
    for name in ("first", "second"):
        r = result[name]
        print(
            f"{name:8} {r['wall']:8.1f} {r['cpu']:8.1f} {r['chunks']:7d} {r['reused_chunks']:7d} "
            f"{r['frames_rendered']:9d} of {r['frames']}"
        )
    verdict = "met" if max(result["wall_fraction"], result["cpu_fraction"]) <= TARGET else "missed"
    print(
        f"second / first: wall {100 * result['wall_fraction']:.1f} %, CPU "
        f"{100 * result['cpu_fraction']:.1f} % (target <= {100 * TARGET:.0f} %: {verdict})"
    )
    c = result["cache"]
    print(f"cache: {c['entries']} segments, {c['bytes'] / 2**20:.1f} MiB, {c['hits']} hits")
    if "verify" in result:
        same = result["verify"]["identical_video_packets"]
        print(f"edited film, cache on vs off: video packets {'identical' if same else 'DIFFER'}")
        differs = result["verify"]["decoded_difference"]
        print(f"edited film, cache on vs off, decoded: {differs or 'every frame and sample equal'}")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, got {text!r}") from None
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(f"sides must be even and at least 16, got {text}")
    return width, height


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="film length (default 10)")
    parser.add_argument("--size", type=_size, default=(1920, 1080), help="WxH (1920x1080)")
    parser.add_argument("--shot", type=float, default=6.0, help="seconds between cuts (6)")
    parser.add_argument(
        "--source-seconds", type=float, default=20.0, help="length of the test video (20)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker slots (one per core)"
    )
    parser.add_argument("--verify", action="store_true", help="also render without the cache")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.minutes * 60 < 2 * TITLE_EVERY:
        parser.error(f"--minutes must give at least {2 * TITLE_EVERY:g} s (two titles)")
    if not 1 <= args.shot <= 60 or args.workers < 1 or args.source_seconds < args.shot + 1:
        parser.error("need 1 <= --shot <= 60, --workers >= 1, --source-seconds > --shot + 1")
    emit(benchmark(args), args.json, report)
    return 0


if __name__ == "__main__":
    exit_on_signals()  # stopped by timeout or kill: children stopped, temp dir removed
    sys.exit(main())
