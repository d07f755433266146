"""``render -o mix.wav`` (.flac, .m4a, .ogg, .opus, .mp3): an audio-only job on a real cluster,
planned as no video chunk and one audio task, its mix written in the chosen container and
lasting the timeline to the sample; refused, naming why, for a silent timeline or a codec the
container cannot hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.project import read_project
from cli.render_command import render_distributed
from common.errors import ValidationError
from orchestrator.submission import prepare_project
from tests.helpers import CLI, colour_project
from tests.media import project, write_project, write_wav
from workers.audio import mix_length, mix_timeline

pytestmark = [pytest.mark.timeout(600), pytest.mark.cluster(workers=1)]
RATE = 48000


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "storage"
    monkeypatch.setenv("CLOUDRENDER_STORAGE_URL", f"file://{root}")
    return root


def sound_project(tmp: Path, **settings: Any) -> dict[str, Any]:
    """1.37 s (41 frames at 30 fps, 65600 samples) of a tone with a fade in, on an audio track."""
    t = np.arange(2 * RATE) / RATE
    tone = (0.5 * np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 220 * t)])).astype(
        np.float32
    )
    write_wav(tmp / "tone.wav", tone, RATE)
    clip = {"id": "c", "start_time": 0, "end_time": 1.37, "source": {"File": "tone.wav"},
            "fade_in": 0.2}  # fmt: skip
    return project([{"id": "a", "track_type": "Audio", "name": "a", "clips": [clip]}],
                   settings={"export": settings})  # fmt: skip


def decoded(path: Path) -> tuple[np.ndarray, str, str]:
    with av.open(str(path)) as result:
        assert not result.streams.video
        stream = result.streams.audio[0]
        frames = [f.to_ndarray() for f in result.decode(stream)]
        name = stream.codec_context.name
        data = np.concatenate([f if f.ndim == 2 and f.shape[0] == 2 else
                               f.reshape(-1, 2).T for f in frames], axis=1)  # fmt: skip
        return data, name, result.format.name


@pytest.mark.parametrize(
    ("ext", "codec", "exact"),
    [("wav", "pcm_s16le", True), ("flac", "flac", True), ("opus", "opus", True),
     ("m4a", "aac", False), ("mp3", "mp3float", True)],
)  # fmt: skip
def test_an_audio_only_job_writes_the_mix_to_the_sample(
    cluster: str, storage: Path, tmp_path: Path, ext: str, codec: str, exact: bool
) -> None:
    prepared = read_project(sound_project(tmp_path), base_dir=str(tmp_path),
                            output=f"mix.{ext}")  # fmt: skip
    out = tmp_path / f"mix.{ext}"
    summary = render_distributed(prepared, str(out), workers=1, broker_url=cluster)
    assert summary["chunk_count"] == 0 and summary["chunks"] == []  # no video rendered
    data, name, _ = decoded(out)
    assert name == codec
    want = mix_timeline(prepared.timeline)
    assert want.shape[1] == mix_length(prepared.timeline) == 65600
    if exact:
        assert data.shape[1] == want.shape[1]
    else:  # AAC in m4a: whole 1024-sample frames, the end told by the edit list (as FFmpeg's)
        assert abs(data.shape[1] - want.shape[1]) < 1024 * 2
    if ext in ("wav", "flac"):
        scale = 32768.0 if data.dtype == np.int16 else 2.0**31
        assert np.abs(data / scale - want).max() < 2e-4  # the same mix, fade and all


def test_a_silent_timeline_is_refused_before_any_job(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"audio only \(wav\) but the timeline has no sound"):
        prepare_project(colour_project(0.3), None, str(tmp_path), "mix.wav", 1 << 30)


@pytest.mark.parametrize(
    ("output", "flags", "words"),
    [
        ("m.wav", ["--audio-codec", "aac"], ["--audio-codec", "wav", "pcm_s16le, pcm_s24le"]),
        ("m.opus", ["--lossless"], ["lossless output needs wav, flac, m4a, ogg, not opus"]),
        ("m.aiff", [], ["unknown container .aiff", ".wav", ".mp3"]),
    ],
)
def test_an_impossible_audio_output_is_one_line(
    cli: CLI, tmp_path: Path, output: str, flags: list[str], words: list[str]
) -> None:
    path = write_project(tmp_path / "p.json", sound_project(tmp_path))
    done = cli("render", str(path), "-o", str(tmp_path / output), "--direct", *flags)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    for word in words:
        assert word in line, line


def test_a_direct_render_writes_the_same_mix(cli: CLI, tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.json", sound_project(tmp_path, audio_codec="pcm_s24le"))
    out = tmp_path / "direct.wav"
    done = cli("render", str(path), "-o", str(out), "--direct", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["audio"] == "pcm_s24le"
    data, name, fmt = decoded(out)
    assert (name, fmt, data.shape[1]) == ("pcm_s24le", "wav", 65600)


def test_a_sample_rate_asked_for_is_the_outputs(cli: CLI, tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.json", sound_project(tmp_path))
    out = tmp_path / "mix.flac"
    done = cli("render", str(path), "-o", str(out), "--direct", "--sample-rate", "44100")
    assert done.returncode == 0, done.stderr
    with av.open(str(out)) as result:
        rate = result.streams.audio[0].rate
        samples = sum(f.samples for f in result.decode(audio=0))
    assert (rate, samples) == (44100, 60270)  # 41 frames at 30 fps, at 44.1 kHz


@pytest.mark.parametrize(
    ("output", "rate", "words"),
    [
        ("m.opus", "44100", ["--sample-rate", "44100", "Opus", "8000, 12000, 16000, 24000, 48000"]),
        ("m.mp3", "96000", ["--sample-rate", "96000", "MP3", "44100, 48000 Hz only"]),
        ("m.wav", "100", ["--sample-rate", "'100'", "8000 to 384000"]),
    ],
)
def test_a_sample_rate_the_codec_cannot_encode_is_one_line(
    cli: CLI, tmp_path: Path, output: str, rate: str, words: list[str]
) -> None:
    path = write_project(tmp_path / "p.json", sound_project(tmp_path))
    done = cli("render", str(path), "-o", str(tmp_path / output), "--direct", "--sample-rate", rate)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in line, line


def test_a_sample_rate_asked_for_reaches_the_workers(
    cluster: str, storage: Path, tmp_path: Path
) -> None:
    prepared = read_project(sound_project(tmp_path), base_dir=str(tmp_path), output="mix.wav")
    prepared = prepared.with_sample_rate(32000)  # as --sample-rate 32000 sets it
    out = tmp_path / "mix.wav"
    render_distributed(prepared, str(out), workers=1, broker_url=cluster)
    with av.open(str(out)) as result:
        rate = result.streams.audio[0].rate
    data, _, _ = decoded(out)
    assert (rate, data.shape[1]) == (32000, mix_length(prepared.timeline)) == (32000, 43733)


def test_a_render_says_it_wrote_sound_not_zero_frames(cli: CLI, tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.json", sound_project(tmp_path))
    done = cli("render", str(path), "-o", str(tmp_path / "m.flac"), "--direct")
    assert done.returncode == 0, done.stderr
    assert "wrote 1.37s of sound (flac, 48000 Hz mix) to" in done.stdout, done.stdout
    assert "0 frames" not in done.stdout and "fps" not in done.stdout
