"""What the benchmarks share with the tests: a chaos cluster, a heavy timeline, media helpers.

    ChaosCluster            a small cluster whose parts can be killed, frozen and restarted
    ├── PersistentRedis     an EmbeddedRedis with append-only persistence, restartable in place
    ├── orchestrator        one LocalWorkers process: beat + orchestrator/merge/audio queues
    └── render workers      LocalWorkers of one slot each, added and killed at will
    heavy_project           a lossless timeline slow enough for faults to land mid-chunk
    status                  a job record, or None while Redis is down
    make_video, decode_rgb  generated source media (frame i identifiable), decoded output
    project, video_track,   ProjectSchema documents built in a line
    solid

Used by ``bench/chaos.py`` and ``tests/chaos``; the media and project helpers also by the tests
(``tests/media.py`` re-exports them). Nothing here imports the tests. A spot node's notice comes
from ``workers.spot_fake.FakeMetadataService``.
"""

from __future__ import annotations

import math
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import av
import numpy as np

from common.errors import ClusterUnreachable
from common.names import QUEUE_RENDER
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded_redis import EmbeddedRedis, find_redis_server
from orchestrator.job_record import JobRecord
from orchestrator.local_workers import LocalWorkers
from orchestrator.processes import group_members, signal_group, start_process, wait_until

#: Queues of the orchestrator process; render workers take "render" only.
ORCHESTRATOR_QUEUES = ("orchestrator", "merge", "audio")
#: Settings every process of a chaos cluster gets: one thread each, so that slots are cores.
CHAOS_ENV = {"OPENBLAS_NUM_THREADS": "1", "CLOUDRENDER_ENCODER_THREADS": "1"}


# -- the chaos cluster ---------------------------------------------------------------------------


class PersistentRedis(EmbeddedRedis):
    """redis-server with append-only persistence (fsync always), restartable in place.

    The server life cycle is ``EmbeddedRedis``'s (free port with retries, readiness by PING and
    pid, stop, log directory); only the command line differs. The data lives in a directory of
    its own that outlives each process, and once started the server keeps its port, so ``kill``
    then ``start`` is a crash and a recovery from the append-only file at the same URL.
    ``close`` stops it and removes the data.
    """

    label = "redis-server (append-only)"
    name = "chaos-redis"

    def __init__(self, *, start_timeout: float = 15.0, stop_timeout: float = 5.0) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.data_dir = Path(tempfile.mkdtemp(prefix="cloudrender-chaos-redis-data-"))
        self._data_finalizer = weakref.finalize(self, shutil.rmtree, self.data_dir, True)

    @property
    def port(self) -> int:
        """The TCP port: chosen at the first start, the same across restarts and while down."""
        return self._requested_port if self._requested_port is not None else super().port

    @property
    def url(self) -> str:
        """The broker URL of database 0; stable across restarts, valid while the server is down."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Self:
        """Start the server (again) from its data directory; return once it answers."""
        super().start()
        if self._requested_port is None:
            # ServerProcess binds a requested port or fails (no retry on another): clients keep
            # the URL across a restart. The first start may still retry on a free port.
            self._requested_port = super().port
        return self

    def kill(self) -> None:
        """SIGKILL the server, as a crash does (no shutdown, no final write); keep its data."""
        pid = self.pid
        if pid is not None:
            signal_group(pid, signal.SIGKILL)
            wait_until(lambda: not group_members(pid), self.stop_timeout, hurry=False)
        self.stop()  # reaps it and removes its log directory; the data directory stays

    def close(self) -> None:
        """Stop the server and remove its data."""
        try:
            self.stop()
        finally:
            self._data_finalizer()

    def _launch(self, port: int, log_path: Path) -> subprocess.Popen[bytes]:
        command = [
            self.executable or find_redis_server(),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--protected-mode", "yes",
            "--daemonize", "no",
        ]  # fmt: skip
        return start_process(command, log_path, None, self.die_with_parent)


class ChaosCluster:
    """Redis + orchestrator + render workers, each a process group the caller may abuse.

    A context manager: entering starts Redis, the orchestrator process and ``workers`` render
    workers (waiting until each consumes its queues); leaving stops them all, workers first.
    """

    def __init__(self, workers: int, env: dict[str, str] | None = None) -> None:
        self.redis = PersistentRedis()
        self.env = {**CHAOS_ENV, **(env or {})}
        self.orchestrator: LocalWorkers | None = None
        self.workers: list[LocalWorkers] = []
        self.initial = workers

    def __enter__(self) -> Self:
        try:
            self.redis.start()
            self.orchestrator = LocalWorkers(
                self.redis.url, 1, ORCHESTRATOR_QUEUES, self.env, beat=True
            )
            self.orchestrator.start()
            self.orchestrator.wait_ready()
            for _ in range(self.initial):
                self.add_worker()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add_worker(self, env: dict[str, str] | None = None) -> LocalWorkers:
        """Start one more render worker (one slot) and return once it consumes its queue."""
        worker = LocalWorkers(self.redis.url, 1, (QUEUE_RENDER,), {**self.env, **(env or {})})
        self.workers.append(worker)  # stopped by close() even if it never gets ready
        worker.start()
        worker.wait_ready()
        return worker

    def kill_worker(self, worker: LocalWorkers) -> None:
        """SIGKILL a worker's whole process group, as when its machine dies."""
        if worker.pid is not None:
            signal_group(worker.pid, signal.SIGKILL)
        worker.stop()

    def pause(self, worker: LocalWorkers) -> None:
        """SIGSTOP a worker's whole process group."""
        if worker.pid is not None:
            signal_group(worker.pid, signal.SIGSTOP)

    def resume(self, worker: LocalWorkers) -> None:
        """SIGCONT a worker's whole process group."""
        if worker.pid is not None:
            signal_group(worker.pid, signal.SIGCONT)

    def freeze(self, worker: LocalWorkers, seconds: float) -> None:
        """Stop a worker's processes for a while (a stalled machine), then let them go on."""
        self.pause(worker)
        try:
            time.sleep(seconds)
        finally:
            self.resume(worker)

    def restart_redis(self, down_seconds: float = 1.0) -> None:
        """Kill Redis and start it again, on the same port, from its append-only file."""
        self.redis.kill()
        time.sleep(down_seconds)
        self.redis.start()

    def close(self) -> None:
        """Stop the render workers, then the orchestrator, then Redis (removing its data)."""
        try:
            for worker in self.workers:
                # A paused worker would ignore SIGTERM until SIGKILL: let it go first.
                self.resume(worker)
                worker.stop()
            if self.orchestrator is not None:
                self.orchestrator.stop()
        finally:
            self.redis.close()


# -- jobs ----------------------------------------------------------------------------------------


def heavy_project(
    tmp: Path, seconds: float = 2.0, size: tuple[int, int] = (640, 360)
) -> dict[str, Any]:
    """A lossless timeline (a wide blur over generated video in ``tmp``) whose frames are slow
    enough that faults land in the middle of chunks."""
    return blurred_project(
        tmp, seconds, size=size, radius=12, export={"format": "mkv", "lossless": True}
    )


def blurred_project(
    tmp: Path,
    seconds: float,
    *,
    size: tuple[int, int] = (640, 360),
    radius: float,
    export: dict[str, Any],
) -> dict[str, Any]:
    """One clip of video generated in ``tmp`` under a blur of ``radius``: frames that take a
    while each."""
    make_video(tmp / "src.mp4", frames=int(seconds * 30) + 1, size=size, gop=10)
    return project(
        [
            video_track(
                "v",
                [
                    {
                        "id": "c",
                        "start_time": 0,
                        "end_time": seconds,
                        "source": {"File": "src.mp4"},
                        "effects": ["b"],
                    }
                ],
            )
        ],
        size=size,
        effects=[{"id": "b", "effect_type": "Blur", "params": {"radius": radius}}],
        settings={"export": export},
    )


def status(api: CloudRenderingAPI, job: str) -> JobRecord | None:
    """The job record, or None while Redis is down."""
    try:
        return api.get_job_status(job)
    except ClusterUnreachable:
        return None


# -- media ---------------------------------------------------------------------------------------


def level(index: int) -> tuple[int, int, int]:
    """The flat colour that identifies source frame `index` (steps of 16 survive lossy codecs)."""
    return 24 + (index % 14) * 16, 128, 24 + (index // 14 % 14) * 16


def make_video(
    path: Path,
    *,
    frames: int = 30,
    fps: Fraction | int = 30,
    size: tuple[int, int] = (160, 90),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int = 10,
    audio_hz: float | None = None,
    sample_rate: int = 48000,
    rotate: int | None = None,
    timecode: str | None = None,
) -> Path:
    """A video whose frame i is the flat colour level(i) with a white marker bar at column i
    (starting at a SMPTE ``timecode``, written where the container keeps one)."""
    width, height = size
    fmt = {".mkv": "matroska", ".webm": "webm", ".mov": "mov"}.get(path.suffix, None)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        assert isinstance(stream, av.VideoStream), f"{codec} is not a video codec"
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.codec_context.options = {"preset": "ultrafast", "crf": "10"}
        if rotate is not None:
            stream.set_display_rotation(rotate)
        if timecode is not None:
            stream.metadata["timecode"] = timecode
        astream = None
        if audio_hz is not None:
            astream = out.add_stream("aac", rate=sample_rate, layout="stereo")
        for i in range(frames):
            img = np.full((height, width, 3), level(i), dtype=np.uint8)
            img[: height // 4, (i * 3) % width] = 255
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = 1 / Fraction(fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if astream is not None and audio_hz is not None:
            seconds = frames / float(fps)
            total = int(seconds * sample_rate)
            t = np.arange(total) / sample_rate
            tone = (0.5 * np.sin(2 * math.pi * audio_hz * t)).astype(np.float32)
            data = np.stack([tone, tone])
            step = 1024
            for pos in range(0, total, step):
                chunk = np.ascontiguousarray(data[:, pos : pos + step])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate = sample_rate
                af.pts = pos
                out.mux(astream.encode(af))
            out.mux(astream.encode(None))
    return path


def decode_rgb(path: Path | str) -> list[np.ndarray]:
    """Every video frame of a file as uint8 RGB arrays."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def solid(color: str) -> dict[str, Any]:
    """A Generated solid-colour clip source plus its properties."""
    return {
        "source": "Generated",
        "properties": {"custom_metadata": {"generator": {"type": "color", "color": color}}},
    }


def project(
    tracks: list[dict[str, Any]],
    *,
    fps: Any = 30,
    size: tuple[int, int] = (320, 180),
    duration: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A minimal ProjectSchema document."""
    timeline: dict[str, Any] = {"fps": fps, "resolution": list(size), "sample_rate": 48000}
    if duration is not None:
        timeline["duration"] = duration
    doc: dict[str, Any] = {
        "version": "1",
        "metadata": {"name": "test"},
        "timeline": timeline,
        "tracks": tracks,
    }
    doc.update(extra)
    return doc


def video_track(track_id: str, clips: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A Video track document."""
    return {"id": track_id, "track_type": "Video", "name": track_id, "clips": clips, **extra}
