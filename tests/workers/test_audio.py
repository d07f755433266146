"""Audio mixing and encoding, judged by what a listener would hear."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
import numpy.typing as npt
import pytest
from av.audio.stream import AudioStream
from PIL import Image

from chunking.timeline.model import (
    Clip,
    FileSource,
    GeneratedSource,
    Source,
    Timeline,
    Track,
    TrackKind,
)
from common.errors import AssetNotFound, DecodeError, EncodeError, MediaError, TimelineError
from workers import audio_source
from workers.audio import (
    add_audio_stream,
    audio_codec_for,
    encode_audio,
    encoder_sample_rate,
    mix_length,
    mix_timeline,
    sample_offset,
    write_audio_file,
)

RATE = 48_000
FPS = Fraction(24)
AMP = 0.5
Signal = npt.NDArray[np.float32]


# --- source files -------------------------------------------------------------------------


def tone(freq: float, seconds: float, rate: int = RATE, amp: float = AMP) -> Signal:
    """A sine starting at phase pi/4, so its very first sample is already loud."""
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t + np.pi / 4)).astype(np.float32)


def write_audio(path: Path, signal: Signal, rate: int, codec: str, fmt: str) -> Path:
    """Write a (channels, N) or (N,) float signal with PyAV."""
    data = np.atleast_2d(signal).astype(np.float32)
    layout = "mono" if data.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        assert isinstance(stream, AudioStream)
        stream.layout = layout
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout=layout)
        frame.sample_rate = rate
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_streams(path: Path, signals: list[Signal], fmt: str = "matroska") -> Path:
    """One file holding each stereo signal as its own audio stream, in order."""
    codec = "pcm_f32le" if fmt == "matroska" else "aac"
    with av.open(str(path), "w", format=fmt) as container:
        streams = []
        for _ in signals:
            stream = container.add_stream(codec, rate=RATE)
            assert isinstance(stream, AudioStream)
            stream.layout = "stereo"
            streams.append(stream)
        for stream, signal in zip(streams, signals, strict=True):
            data = np.ascontiguousarray(np.vstack([signal, signal]))
            frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = RATE, 0, Fraction(1, RATE)
            container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    return path


def write_video(path: Path, seconds: float, audio: Signal | None) -> Path:
    """A 64x48 h264 video at 24 fps, with a stereo AAC track when audio is given."""
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=RATE)
            sound.layout = "stereo"
        for i in range(round(seconds * 24)):
            picture = np.full((48, 64, 3), i * 5 % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None and audio is not None:
            stereo = np.ascontiguousarray(np.vstack([audio, audio]))
            aframe = av.AudioFrame.from_ndarray(stereo, format="fltp", layout="stereo")
            aframe.sample_rate, aframe.pts, aframe.time_base = RATE, 0, Fraction(1, RATE)
            container.mux(sound.encode(aframe))
            container.mux(sound.encode(None))
    return path


class Sources:
    """Paths of the generated test media."""

    def __init__(self, root: Path) -> None:
        self.a440 = write_audio(root / "a440.wav", tone(440, 2), RATE, "pcm_f32le", "wav")
        self.a660 = write_audio(root / "a660.wav", tone(660, 2), RATE, "pcm_f32le", "wav")
        self.a440_1s = write_audio(root / "a440_1s.wav", tone(440, 1), RATE, "pcm_f32le", "wav")
        self.a440_mp4 = write_audio(root / "a440.mp4", tone(440, 2), RATE, "aac", "mp4")
        self.mono44 = write_audio(
            root / "mono44.wav", tone(440, 2, rate=44_100), 44_100, "pcm_s16le", "wav"
        )
        # 440 Hz for 1.5 s, then 880 Hz for 1.5 s: where a clip reads from is audible.
        steps = np.concatenate([tone(440, 1.5), tone(880, 1.5)])
        self.steps_wav = write_audio(root / "steps.wav", steps, RATE, "pcm_f32le", "wav")
        self.steps_mp4 = write_audio(root / "steps.mp4", steps, RATE, "aac", "mp4")
        self.video = write_video(root / "video.mp4", 2, tone(440, 2))
        self.two_streams = write_streams(root / "two.mkv", [tone(440, 2), tone(660, 2)])
        self.two_streams_mp4 = write_streams(root / "two.mp4", [tone(440, 2), tone(660, 2)], "mp4")
        self.silent_video = write_video(root / "silent.mp4", 2, None)
        self.image = root / "still.png"
        Image.new("RGB", (64, 48), (200, 30, 30)).save(self.image)
        # An image under a name that does not say so is opened by FFmpeg: still no sound.
        self.image_unnamed = root / "still.bin"
        self.image_unnamed.write_bytes(self.image.read_bytes())
        self.corrupt = root / "corrupt.wav"
        self.corrupt.write_bytes(np.random.default_rng(1).bytes(20_000))


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    return Sources(tmp_path_factory.mktemp("audio-sources"))


# --- timelines ----------------------------------------------------------------------------


def clip(
    source: Path | Source, start: float, end: float, *, clip_id: str = "c1", **kw: Any
) -> Clip:
    """A clip over [start, end) seconds of a 24 fps timeline."""
    resolved = FileSource(str(source)) if isinstance(source, Path) else source
    return Clip(
        id=clip_id,
        track_id="t",
        source=resolved,
        start=round(start * 24),
        end=round(end * 24),
        **kw,
    )


def track(*clips: Clip, kind: TrackKind = TrackKind.AUDIO, **kw: Any) -> Track:
    return Track(id="t", kind=kind, clips=clips, **kw)


def timeline(*tracks: Track, seconds: float = 3, rate: int = RATE, fps: Fraction = FPS) -> Timeline:
    return Timeline(
        fps=fps,
        width=64,
        height=48,
        frames=round(seconds * fps),
        sample_rate=rate,
        tracks=tracks,
    )


def mix_of(*clips: Clip, seconds: float = 3, **track_kw: Any) -> Signal:
    return mix_timeline(timeline(track(*clips, **track_kw), seconds=seconds))


# --- measurements -------------------------------------------------------------------------


def rms(x: npt.NDArray[np.floating]) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def dominant_hz(x: npt.NDArray[np.floating], rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def loud_span(x: npt.NDArray[np.floating], threshold: float = 1e-3) -> tuple[int, int]:
    """First and one-past-last index where the signal is audible."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    return int(loud[0]), int(loud[-1]) + 1


def peak(x: npt.NDArray[np.floating], centre: int, width: int = 110) -> float:
    """Peak amplitude over about one 440 Hz period around a sample."""
    return float(np.max(np.abs(x[centre - width // 2 : centre + width // 2])))


TONE_RMS = AMP / np.sqrt(2)


# --- mixing -------------------------------------------------------------------------------


def test_tone_placed_at_one_second_is_silent_before_and_full_after(src: Sources) -> None:
    mix = mix_of(clip(src.a440, 1, 3))
    assert mix.shape == (2, 3 * RATE)
    assert mix.dtype == np.float32
    assert not mix[:, :RATE].any()
    assert mix[0, RATE] == pytest.approx(AMP * np.sin(np.pi / 4), abs=1e-6)
    assert rms(mix[0, RATE:]) == pytest.approx(TONE_RMS, rel=1e-3)
    assert np.array_equal(mix[0], mix[1])
    assert dominant_hz(mix[0, RATE:]) == pytest.approx(440, abs=1)


def test_clip_volume_scales_amplitude(src: Sources) -> None:
    full = mix_of(clip(src.a440, 0, 2))
    half = mix_of(clip(src.a440, 0, 2, volume=0.5))
    assert rms(half[0, :RATE]) == pytest.approx(rms(full[0, :RATE]) / 2, rel=1e-4)


def test_track_volume_multiplies_clip_volume(src: Sources) -> None:
    quarter = mix_of(clip(src.a440, 0, 2, volume=0.5), volume=0.5)
    assert rms(quarter[0, :RATE]) == pytest.approx(TONE_RMS / 4, rel=1e-3)


@pytest.mark.parametrize(
    ("clip_kw", "track_kw"),
    [({"muted": True}, {}), ({}, {"muted": True}), ({}, {"enabled": False}), ({"volume": 0}, {})],
    ids=["muted-clip", "muted-track", "disabled-track", "zero-volume"],
)
def test_silenced_clips_contribute_nothing(
    src: Sources, clip_kw: dict[str, Any], track_kw: dict[str, Any]
) -> None:
    assert not mix_of(clip(src.a440, 0, 2, **clip_kw), **track_kw).any()


def test_fade_in_ramps_linearly(src: Sources) -> None:
    mix = mix_of(clip(src.a440, 1, 3, fade_in=1.0))[0]
    assert peak(mix, RATE + 60, 120) < 0.01
    assert peak(mix, RATE + RATE // 4) == pytest.approx(AMP / 4, rel=0.02)
    assert peak(mix, RATE + RATE // 2) == pytest.approx(AMP / 2, rel=0.02)
    assert peak(mix, RATE + 3 * RATE // 4) == pytest.approx(3 * AMP / 4, rel=0.02)
    assert rms(mix[2 * RATE :]) == pytest.approx(TONE_RMS, rel=1e-3)


def test_fade_out_ramps_to_silence_at_clip_end(src: Sources) -> None:
    mix = mix_of(clip(src.a440, 0, 2, fade_out=0.5))[0]
    assert rms(mix[: RATE + RATE // 2]) == pytest.approx(TONE_RMS, rel=1e-3)
    assert peak(mix, 2 * RATE - RATE // 4) == pytest.approx(AMP / 2, rel=0.02)
    assert peak(mix, 2 * RATE - 60, 120) < 0.01
    assert not mix[2 * RATE :].any()


@pytest.mark.parametrize(("speed", "hz"), [(2.0, 880), (0.5, 220), (1.3, 572)])
def test_speed_changes_pitch_and_length_like_tape(src: Sources, speed: float, hz: float) -> None:
    # One second of source: at speed s it plays for 1/s seconds at s times the pitch.
    mix = mix_of(clip(src.a440_1s, 0, 3, speed=speed))[0]
    first, last = loud_span(mix)
    assert first == 0
    assert last == pytest.approx(RATE / speed, abs=RATE * 0.002)
    assert dominant_hz(mix[: int(RATE / speed) - 100], RATE) == pytest.approx(hz, abs=2)
    assert rms(mix[RATE // 20 : int(RATE / speed) - RATE // 20]) == pytest.approx(
        TONE_RMS, rel=0.01
    )


@pytest.mark.parametrize(("speed", "hz"), [(10.0, 4400), (0.1, 44)])
def test_the_editors_fastest_and_slowest_speeds_play_like_tape(
    src: Sources, speed: float, hz: float
) -> None:
    """Timeline Studio's speed range ends at 0.1 and 10 (setClipSpeed): one second of a 440 Hz
    tone lasts 0.1 s at 4400 Hz, or 10 s at 44 Hz."""
    mix = mix_of(clip(src.a440_1s, 0, 11, speed=speed), seconds=11)[0]
    first, last = loud_span(mix)
    assert first == 0
    assert last == pytest.approx(RATE / speed, abs=RATE * 0.002)
    assert dominant_hz(mix[: int(RATE / speed) - 100], RATE) == pytest.approx(hz, rel=0.01)


def test_overlapping_clips_on_two_tracks_sum(src: Sources) -> None:
    a = track(clip(src.a440, 0, 2, clip_id="a"))
    b = Track(id="b", kind=TrackKind.AUDIO, clips=(clip(src.a660, 1, 3, clip_id="b"),))
    both = mix_timeline(timeline(a, b))
    alone_a = mix_timeline(timeline(a))
    alone_b = mix_timeline(timeline(b))
    np.testing.assert_allclose(both, alone_a + alone_b, atol=1e-6)
    overlap = both[0, RATE : 2 * RATE]
    assert rms(overlap) == pytest.approx(np.sqrt(2) * TONE_RMS, rel=0.01)


def test_mix_is_clipped_to_unit_range(src: Sources) -> None:
    mix = mix_of(clip(src.a440, 0, 2, volume=4.0))
    assert mix.max() == 1.0
    assert mix.min() == -1.0


def test_mono_44k_source_lands_in_48k_stereo_mix(src: Sources) -> None:
    mix = mix_of(clip(src.mono44, 0.5, 2.5))
    assert not mix[:, : RATE // 2].any()
    first, last = loud_span(mix[0])
    assert first == RATE // 2
    assert last == pytest.approx(RATE // 2 + 2 * RATE, abs=2)
    assert np.array_equal(mix[0], mix[1])  # duplicated, not panned
    assert rms(mix[0, RATE : 2 * RATE]) == pytest.approx(TONE_RMS, rel=2e-3)  # not 3 dB down
    assert dominant_hz(mix[0, RATE : 2 * RATE]) == pytest.approx(440, abs=2)


def test_source_start_offsets_into_the_source(src: Sources) -> None:
    # Read 1.0..2.0 s of the source: 0.5 s of 440 Hz, then 0.5 s of 880 Hz.
    mix = mix_of(clip(src.steps_wav, 0, 1, source_start=1.0))[0]
    assert dominant_hz(mix[: RATE // 2 - 100]) == pytest.approx(440, abs=2)
    assert dominant_hz(mix[RATE // 2 + 100 : RATE]) == pytest.approx(880, abs=2)
    assert not mix[RATE:].any()
    expected = np.concatenate([tone(440, 1.5), tone(880, 1.5)])[RATE : 2 * RATE]
    np.testing.assert_allclose(mix[:RATE], expected, atol=1e-6)


def test_source_end_stops_the_clip(src: Sources) -> None:
    mix = mix_of(clip(src.steps_wav, 0, 2, source_start=0.25, source_end=0.75))[0]
    assert loud_span(mix) == (0, RATE // 2)


@pytest.mark.parametrize("which", ["two_streams", "two_streams_mp4"])
def test_audio_stream_plays_the_chosen_stream(src: Sources, which: str) -> None:
    path = getattr(src, which)
    first = mix_of(clip(path, 0, 2))[0]
    second = mix_of(clip(path, 0, 2, audio_stream=1))[0]
    assert dominant_hz(first[: RATE // 2]) == pytest.approx(440, abs=2)
    assert dominant_hz(second[: RATE // 2]) == pytest.approx(660, abs=2)
    assert mix_of(clip(path, 0, 2, audio_stream=0)).tobytes() == mix_of(clip(path, 0, 2)).tobytes()
    if which == "two_streams":  # lossless: exactly the second stream's samples
        np.testing.assert_allclose(second[: 2 * RATE], tone(660, 2), atol=1e-6)


def test_audio_stream_the_file_lacks_names_the_clip_and_the_count(src: Sources) -> None:
    with pytest.raises(MediaError) as info:
        mix_of(clip(src.two_streams, 0, 1, clip_id="interview", audio_stream=2))
    message = str(info.value)
    assert "clip 'interview'" in message
    assert "audio_stream 2" in message
    assert "2 audio streams" in message
    assert "\n" not in message
    with pytest.raises(MediaError, match="1 audio stream "):
        mix_of(clip(src.a440, 0, 1, audio_stream=1))


def test_audio_stream_below_zero_is_a_timeline_error(src: Sources) -> None:
    with pytest.raises(TimelineError, match="clip 'c1': audio_stream"):
        mix_of(clip(src.a440, 0, 1, audio_stream=-1))


@pytest.mark.parametrize("fps", [FPS, Fraction(30000, 1001)])
def test_clip_starting_before_its_media_is_silent_then_sample_exact(
    src: Sources, fps: Fraction
) -> None:
    # An OTIO clip that starts two frames before its media's available range.
    lead = Fraction(-2) / fps
    tl = Timeline(
        fps=fps,
        width=64,
        height=48,
        frames=round(2 * fps),
        tracks=(
            track(
                Clip(
                    id="c",
                    track_id="t",
                    source=FileSource(str(src.a440)),
                    start=0,
                    end=round(2 * fps),
                    source_start=float(lead),
                )
            ),
        ),
    )
    mix = mix_timeline(tl)[0]
    silent = round(Fraction(2) / fps * RATE)  # two frames of samples: 4000 at 24 fps, 3203 at 29.97
    assert not mix[:silent].any()
    assert mix[silent] != 0
    np.testing.assert_allclose(mix[silent:], tone(440, 2)[: mix.shape[0] - silent], atol=1e-6)


def test_video_clip_starting_before_its_media_stays_in_sync(src: Sources) -> None:
    mix = mix_of(clip(src.video, 0, 2, source_start=-2 / 24), kind=TrackKind.VIDEO)[0]
    assert not mix[:4000].any()
    reference = np.concatenate([np.zeros(4000, dtype=np.float32), tone(440, 2)])[: 2 * RATE]
    lags = range(-40, 41)
    score = [float(np.dot(mix[6000:60000], reference[6000 + k : 60000 + k])) for k in lags]
    assert lags[int(np.argmax(score))] == 0


def test_seeking_into_compressed_source_is_sample_aligned(
    src: Sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    # source_start 1.2 s makes the mixer seek; decoding from the very start must agree with it.
    seeked = mix_of(clip(src.steps_mp4, 0, 1, source_start=1.2))[0]
    monkeypatch.setattr(audio_source, "SEEK_PREROLL", Fraction(10))
    from_start = mix_of(clip(src.steps_mp4, 0, 1, source_start=1.2))[0]
    # Including the first frames, which a decoder started cold right at the seek gets wrong.
    np.testing.assert_allclose(seeked, from_start, atol=2e-3)
    reference = mix_of(clip(src.steps_wav, 0, 1, source_start=1.2))[0]
    np.testing.assert_allclose(seeked[:2048], reference[:2048], atol=0.05)
    lags = range(-50, 51)
    score = [float(np.dot(seeked[2000:40000], reference[2000 + k : 40000 + k])) for k in lags]
    assert lags[int(np.argmax(score))] == 0


def test_mixing_is_bit_identical_across_runs(src: Sources) -> None:
    def build() -> Timeline:
        return timeline(
            track(clip(src.a440_mp4, 0.1, 2.1, clip_id="x", speed=1.3, fade_in=0.3)),
            Track(
                id="v",
                kind=TrackKind.VIDEO,
                clips=(clip(src.video, 0.5, 2.5, clip_id="y", source_start=0.7, volume=0.7),),
            ),
        )

    first, second = mix_timeline(build()), mix_timeline(build())
    assert first.tobytes() == second.tobytes()
    assert first.any()


@pytest.mark.parametrize(
    ("fps", "frames", "rate", "expected"),
    [
        (Fraction(24000, 1001), 240, 48_000, 480_480),
        (Fraction(24000, 1001), 24, 44_100, 44_144),  # 44144.1
        (Fraction(24000, 1001), 1000, 44_100, 1_839_338),  # 1839337.5 rounds half up
        (Fraction(30000, 1001), 7, 48_000, 11_211),  # 11211.2
    ],
)
def test_sample_count_is_exact_for_ntsc_rates(
    fps: Fraction, frames: int, rate: int, expected: int
) -> None:
    tl = Timeline(fps=fps, width=64, height=48, frames=frames, sample_rate=rate)
    assert mix_length(tl) == expected
    assert mix_timeline(tl).shape == (2, expected)


def test_clip_offset_uses_exact_frame_times(src: Sources) -> None:
    fps = Fraction(30000, 1001)
    tl = Timeline(
        fps=fps,
        width=64,
        height=48,
        frames=60,
        tracks=(
            track(Clip(id="c", track_id="t", source=FileSource(str(src.a440)), start=7, end=60)),
        ),
    )
    assert sample_offset(7, tl) == 11_211  # floor(7 * 1001 / 30000 * 48000) = floor(11211.2)
    first, _ = loud_span(mix_timeline(tl)[0])
    assert first == 11_211


def test_video_track_audio_is_mixed_in_sync(src: Sources) -> None:
    mix = mix_of(clip(src.video, 0.5, 2, source_start=0.7), kind=TrackKind.VIDEO)[0]
    assert not mix[: RATE // 2].any()
    # The 2 s source runs out 1.3 s into the clip, at 1.8 s on the timeline.
    assert loud_span(mix)[1] == pytest.approx(int(1.8 * RATE), abs=2)
    assert rms(mix[RATE : int(1.7 * RATE)]) == pytest.approx(TONE_RMS, rel=0.02)
    assert dominant_hz(mix[RATE : int(1.7 * RATE)]) == pytest.approx(440, abs=2)
    # The same tone from a WAV file, read from the same source time: same phase.
    reference = mix_of(clip(src.a440, 0.5, 2, source_start=0.7))[0]
    steady = slice(RATE // 2 + 2048, int(1.7 * RATE))
    np.testing.assert_allclose(mix[steady], reference[steady], atol=0.05)


@pytest.mark.parametrize("which", ["silent_video", "image", "image_unnamed", "generated"])
def test_sources_without_sound_are_silent(src: Sources, which: str) -> None:
    source: Path | Source = GeneratedSource() if which == "generated" else getattr(src, which)
    assert not mix_of(clip(source, 0, 2), kind=TrackKind.VIDEO).any()


def test_subtitle_tracks_are_ignored(src: Sources) -> None:
    assert not mix_of(clip(src.a440, 0, 2), kind=TrackKind.SUBTITLE).any()


def test_missing_file_names_the_clip(src: Sources, tmp_path: Path) -> None:
    with pytest.raises(AssetNotFound, match="clip 'gone'") as info:
        mix_of(clip(tmp_path / "nope.wav", 0, 1, clip_id="gone"))
    assert "nope.wav" in str(info.value)


def test_corrupt_file_raises_decode_error_naming_the_clip(src: Sources) -> None:
    with pytest.raises(DecodeError, match="clip 'broken'") as info:
        mix_of(clip(src.corrupt, 0, 1, clip_id="broken"))
    assert not isinstance(info.value, av.error.FFmpegError)
    assert "corrupt.wav" in str(info.value)


def test_oversized_mix_is_refused_before_allocating() -> None:
    ten_hours = Timeline(fps=FPS, width=64, height=48, frames=24 * 3600 * 10)
    with pytest.raises(TimelineError, match="GiB"):
        mix_timeline(ten_hours)


def test_nonpositive_speed_is_a_timeline_error(src: Sources) -> None:
    with pytest.raises(TimelineError, match="clip c1"):
        mix_of(clip(src.a440, 0, 1, speed=0))


# --- encoding -----------------------------------------------------------------------------


def decode_all(path: Path) -> tuple[Signal, int]:
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    data = np.concatenate([f.to_ndarray() for f in frames], axis=1).astype(np.float32)
    return data, frames[0].sample_rate


def test_audio_codec_for_containers() -> None:
    assert audio_codec_for("mp4") == "aac"
    assert audio_codec_for("mov") == "aac"
    assert audio_codec_for("webm") == "libopus"
    assert audio_codec_for("MKV") == "libopus"
    with pytest.raises(EncodeError, match="avi"):
        audio_codec_for("avi")


def test_opus_rate_is_raised_to_a_supported_one() -> None:
    assert encoder_sample_rate("libopus", 44_100) == 48_000
    assert encoder_sample_rate("libopus", 24_000) == 24_000
    assert encoder_sample_rate("aac", 44_100) == 44_100
    with pytest.raises(EncodeError):
        encoder_sample_rate("no-such-codec", 48_000)


@pytest.mark.parametrize(
    ("suffix", "rate", "frame"),
    [("mp4", 48_000, 1024), ("mov", 44_100, 1024), ("webm", 48_000, 960), ("mkv", 44_100, 960)],
)
def test_encoded_file_round_trips(tmp_path: Path, suffix: str, rate: int, frame: int) -> None:
    samples = np.vstack([tone(440, 2, rate), tone(440, 2, rate)])
    path = tmp_path / f"out.{suffix}"
    write_audio_file(path, samples, rate, suffix)
    decoded, decoded_rate = decode_all(path)
    expected_rate = encoder_sample_rate(audio_codec_for(suffix), rate)
    assert decoded_rate == expected_rate
    assert decoded.shape[0] == 2
    assert abs(decoded.shape[1] / decoded_rate - 2.0) <= frame / decoded_rate
    middle = decoded[0, decoded_rate // 2 : 3 * decoded_rate // 2]
    assert dominant_hz(middle, decoded_rate) == pytest.approx(440, abs=2)
    assert rms(middle) == pytest.approx(TONE_RMS, rel=0.05)


def test_encode_audio_is_lazy_and_ordered(tmp_path: Path) -> None:
    samples = np.vstack([tone(440, 1, 44_100), tone(440, 1, 44_100)])
    with av.open(str(tmp_path / "lazy.webm"), "w") as container:
        stream = add_audio_stream(container, "libopus", 44_100, 96_000)
        packets = encode_audio(stream, samples, 44_100)
        assert not stream.codec_context.is_open  # nothing has been encoded yet
        got = list(packets)
        # Before muxing, which rescales them to the container's time base.
        assert all(p.time_base == Fraction(1, 48_000) for p in got)
        times = [p.pts * p.time_base for p in got if p.pts is not None]
        samples_out = sum(p.duration or 0 for p in got)
        container.mux(got)
    assert len(got) > 10
    assert times == sorted(times)
    # 44100 samples become exactly 48000 at the Opus rate, the encoder's pre-skip aside.
    assert samples_out == 48_000 + 312


@pytest.mark.parametrize("count", [10, 1500])
def test_very_short_mixes_are_not_lost_in_the_resampler(tmp_path: Path, count: int) -> None:
    path = tmp_path / "short.webm"
    write_audio_file(path, np.full((2, count), 0.1, dtype=np.float32), 44_100)
    decoded, rate = decode_all(path)
    assert rate == 48_000
    assert decoded.shape[1] >= round(count * 48_000 / 44_100)


def test_empty_mix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EncodeError, match="no audio samples"):
        write_audio_file(tmp_path / "empty.mp4", np.zeros((2, 0), dtype=np.float32), RATE)


def test_encode_audio_rejects_wrong_shape(tmp_path: Path) -> None:
    with av.open(str(tmp_path / "bad.mp4"), "w") as container:
        stream = add_audio_stream(container, "aac", RATE, 128_000)
        with pytest.raises(ValueError, match=r"\(2, N\)"):
            encode_audio(stream, np.zeros((1, 100), dtype=np.float32), RATE)


def test_audio_interleaves_with_video(tmp_path: Path, src: Sources) -> None:
    # How the renderer uses it: mix, then mux audio packets in time order among video packets.
    mix = mix_of(clip(src.a440, 0, 1), seconds=1)
    path = tmp_path / "av.mp4"
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = add_audio_stream(container, audio_codec_for("mp4"), RATE, 128_000)
        pending = iter(encode_audio(audio, mix, RATE))
        next_audio = next(pending, None)
        for i in range(24):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            while next_audio is not None and (next_audio.pts or 0) * next_audio.time_base <= i / 24:
                container.mux(next_audio)
                next_audio = next(pending, None)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        while next_audio is not None:
            container.mux(next_audio)
            next_audio = next(pending, None)
    decoded, _ = decode_all(path)
    assert abs(decoded.shape[1] - RATE) <= 1024
    assert dominant_hz(decoded[0, 4800:43200]) == pytest.approx(440, abs=3)


def test_unknown_codec_is_an_encode_error(tmp_path: Path) -> None:
    with av.open(str(tmp_path / "x.mp4"), "w") as container:
        with pytest.raises(EncodeError):
            add_audio_stream(container, "no-such-codec", RATE, 128_000)


# --- cost ---------------------------------------------------------------------------------


def test_a_short_excerpt_of_a_long_source_decodes_only_that_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_source = write_audio(tmp_path / "long.mp4", tone(440, 30), RATE, "aac", "mp4")
    decoded = 0
    real = audio_source.resampled

    def counting(
        frames: Iterable[av.AudioFrame], layout: str, rate: int, channel: int | None = None
    ) -> Iterator[av.AudioFrame]:
        def counted() -> Iterator[av.AudioFrame]:
            nonlocal decoded
            for frame in frames:
                decoded += frame.samples
                yield frame

        return real(counted(), layout, rate, channel)

    monkeypatch.setattr(audio_source, "resampled", counting)
    mix = mix_of(clip(long_source, 0, 2, source_start=25.0), seconds=2)
    assert rms(mix[0, 1000:]) == pytest.approx(TONE_RMS, rel=0.05)
    # 2 s wanted plus the seek pre-roll and a frame or two, not the 25 s before it.
    assert decoded / RATE < 3.0


@pytest.mark.parametrize(("channels", "sample_format"), [(9, "s16"), (64, "s16"), (11, "flt")])
def test_channels_in_no_known_order_are_mixed_down_not_refused(
    tmp_path: Path, channels: int, sample_format: str
) -> None:
    """A WAV of 9 or 64 channels (no channel mask): FFmpeg's resampler has no layout to remix
    them from; every channel counts the same in the mix."""
    import struct

    rate = 44_100
    signal = tone(440, 1.0, rate=rate)
    if sample_format == "s16":
        samples, code, width = (signal * 32767).astype("<i2"), 1, 2
    else:
        samples, code, width = signal.astype("<f4"), 3, 4
    body = np.repeat(samples[:, None], channels, axis=1).tobytes()
    fmt = struct.pack("<HHIIHH", code, channels, rate, rate * channels * width,
                      channels * width, 8 * width)  # fmt: skip
    path = tmp_path / f"c{channels}.wav"
    path.write_bytes(
        b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body))
        + body
    )  # fmt: skip
    mix = mix_of(clip(path, 0, 1), seconds=1)
    assert rms(mix[0, RATE // 10 : -RATE // 10]) == pytest.approx(TONE_RMS, rel=5e-3)
    assert np.array_equal(mix[0], mix[1])
    assert dominant_hz(mix[0]) == pytest.approx(440, abs=2)


@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_a_clip_plays_the_one_channel_it_names_centred(tmp_path: Path, speed: float) -> None:
    """A dual-mono recording (camera mic left, lavalier right): an editor's channel item plays
    its channel alone, at its own level, in both ears; the other never leaks in."""
    left, right = tone(500, 2.0), tone(3000, 2.0)
    path = write_audio(tmp_path / "dual.wav", np.stack([left, right]), RATE, "pcm_f32le", "wav")
    for channel, hz in ((1, 500), (2, 3000)):
        mix = mix_of(clip(path, 0, 0.9, audio_channel=channel, speed=speed), seconds=1)
        body = mix[0, RATE // 10 : RATE * 8 // 10]
        assert np.array_equal(mix[0], mix[1])
        assert rms(body) == pytest.approx(TONE_RMS, rel=5e-3)
        assert dominant_hz(body) == pytest.approx(hz * speed, abs=3)
        spectrum = np.abs(np.fft.rfft(body))
        other = round((3500 - hz) * speed * len(body) / RATE)  # the other channel's bin
        assert spectrum[other] < spectrum.max() * 1e-3
    with pytest.raises(TimelineError, match="audio_channel 3 does not exist: the sound of"):
        mix_of(clip(path, 0, 0.9, audio_channel=3), seconds=1)
    # A mono file where the edit names its second channel (relinked to a mono proxy): it plays.
    mono = write_audio(tmp_path / "mono.wav", left, RATE, "pcm_f32le", "wav")
    mix = mix_of(clip(mono, 0, 0.9, audio_channel=2, speed=speed), seconds=1)
    assert dominant_hz(mix[0, RATE // 10 : RATE * 8 // 10]) == pytest.approx(500 * speed, abs=3)
