"""Audio effects as the mixer plays them, judged by what a listener would hear or a meter read."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.audio.stream import AudioStream

from chunking.timeline.audio_catalogue import AUDIO_EFFECT_PARAMS, AUDIO_EFFECTS
from chunking.timeline.catalogue import EFFECT_ALIASES, EFFECTS, effect_kind
from chunking.timeline.model import (
    Clip,
    Effect,
    FileSource,
    Timeline,
    Track,
    TrackKind,
    Transition,
)
from common.errors import TimelineError
from workers.audio import mix_timeline
from workers.audio_effects import FACTORIES, PLANNED, run_chain

RATE = 48_000
FPS = Fraction(24)
Signal = npt.NDArray[np.float32]


def tone(freq: float, seconds: float, amp: float = 0.5) -> Signal:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_wav(path: Path, signal: npt.NDArray[np.floating]) -> Path:
    """A float WAV of a (N,) mono or (2, N) stereo signal, written with PyAV."""
    data = np.atleast_2d(np.asarray(signal, dtype=np.float32))
    layout = "mono" if data.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_f32le", rate=RATE)
        assert isinstance(stream, AudioStream)
        stream.layout = layout
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = RATE, 0, Fraction(1, RATE)
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


class Media:
    """Paths of the generated test sources (2 s, 48 kHz)."""

    def __init__(self, root: Path) -> None:
        self.a440 = write_wav(root / "a440.wav", tone(440, 2))
        self.a1k = write_wav(root / "a1k.wav", tone(1000, 2))
        self.a1k_loud = write_wav(root / "a1k_loud.wav", tone(1000, 2, 0.9))
        self.lows_highs = write_wav(root / "lh.wav", tone(100, 2, 0.3) + tone(5000, 2, 0.3))
        self.three = write_wav(
            root / "three.wav", tone(100, 2, 0.25) + tone(1000, 2, 0.25) + tone(10000, 2, 0.25)
        )
        clicks = np.zeros(2 * RATE, dtype=np.float32)
        clicks[[4800, 48000]] = 0.8
        self.clicks = write_wav(root / "clicks.wav", clicks)
        # 0.05 (-26 dBFS) for a second, then 0.8 (-1.9 dBFS): a quiet and a loud passage.
        envelope = np.where(np.arange(2 * RATE) < RATE, 0.05, 0.8)
        self.steps = write_wav(
            root / "steps.wav", (envelope * tone(440, 2, 1.0)).astype(np.float32)
        )
        self.left_only = write_wav(root / "left.wav", np.vstack([tone(440, 2), np.zeros(2 * RATE)]))
        self.wide = write_wav(root / "wide.wav", np.vstack([tone(440, 2), tone(660, 2)]))
        noise = np.random.default_rng(7).normal(0.0, 0.02, 2 * RATE)
        speech = np.concatenate([np.zeros(RATE // 2), tone(440, 1.5, 0.3)])
        self.noisy = write_wav(root / "noisy.wav", (speech + noise).astype(np.float32))
        self.octaves = write_wav(
            root / "octaves.wav", np.concatenate([tone(440, 1.5), tone(880, 1.5)])
        )
        self.a660 = write_wav(root / "a660.wav", tone(660, 2))
        self.a100 = write_wav(root / "a100.wav", tone(100, 2, 0.3))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("audio-effects"))


def fx(kind: str, /, start: float | None = None, end: float | None = None, **params: Any) -> Effect:
    """An effect as the loader makes it (canonical kind); start/end in seconds (24 fps frames)."""
    intensity = params.pop("intensity", 1.0)
    return Effect(
        id=kind,
        kind=kind.lower(),
        params=params,
        start=None if start is None else round(start * 24),
        end=None if end is None else round(end * 24),
        intensity=intensity,
    )


def clip(
    path: Path, start: float = 0, end: float = 2, *, effects: Sequence[Effect] = (), **kw: Any
) -> Clip:
    kw.setdefault("id", "c")
    return Clip(
        track_id="t",
        source=FileSource(str(path)),
        start=round(start * 24),
        end=round(end * 24),
        effects=tuple(effects),
        **kw,
    )


def mix(*tracks: Track, seconds: float = 2, transitions: Sequence[Transition] = ()) -> Signal:
    return mix_timeline(
        Timeline(
            fps=FPS,
            width=64,
            height=48,
            frames=round(seconds * 24),
            tracks=tracks,
            transitions=tuple(transitions),
        )
    )


def play(path: Path, *effects: Effect, seconds: float = 2, **kw: Any) -> Signal:
    """The mix of one clip over the whole timeline with these clip effects."""
    track = Track(
        id="t", kind=TrackKind.AUDIO, clips=(clip(path, 0, seconds, effects=effects, **kw),)
    )
    return mix(track, seconds=seconds)


def rms(x: npt.NDArray[np.floating]) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def db(ratio: float) -> float:
    return float(20 * np.log10(ratio))


def level_at(x: npt.NDArray[np.floating], freq: float) -> float:
    """Amplitude of the sinusoid at ``freq`` in x (Hann-windowed DFT, exact bin)."""
    window = np.hanning(len(x))
    t = np.arange(len(x)) / RATE
    return float(2 * abs(np.sum(x * window * np.exp(-2j * np.pi * freq * t))) / window.sum())


def dominant_hz(x: npt.NDArray[np.floating]) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * RATE / len(x))


STEADY = slice(RATE // 2, 3 * RATE // 2)  # well inside the clip, past any filter's start-up


# --- catalogue ----------------------------------------------------------------------------


def test_every_editor_audio_effect_is_implemented() -> None:
    editor = [
        "AudioFadeIn", "AudioFadeOut", "AudioFade", "AudioCrossfade", "AudioEqualizer",
        "AudioCompressor", "AudioReverb", "AudioDelay", "AudioChorus", "AudioDistortion",
        "AudioNormalize", "AudioDenoise", "AudioPitch", "AudioTempo", "AudioDucking",
        "AudioGate", "AudioLimiter", "AudioExpander", "AudioPan", "AudioStereoWidth",
        "AudioHighpass", "AudioLowpass", "AudioBandpass",
    ]  # fmt: skip
    kinds = {name.lower() for name in editor}
    assert kinds == AUDIO_EFFECTS <= EFFECTS
    assert set(AUDIO_EFFECT_PARAMS) == AUDIO_EFFECTS
    assert set(FACTORIES) | PLANNED == AUDIO_EFFECTS
    assert effect_kind("eq") == "audioequalizer" and EFFECT_ALIASES["loudnorm"] == "audionormalize"


# --- fades --------------------------------------------------------------------------------


def test_fade_in_ramps_from_silence_over_its_duration(media: Media) -> None:
    out = play(media.a1k, fx("AudioFadeIn", duration=0.5))[0]
    source = tone(1000, 2)
    assert out[0] == 0
    quarter = RATE // 4
    # Linear: a quarter second in, the envelope is at one half.
    assert level_at(out[quarter - 480 : quarter + 480], 1000) == pytest.approx(0.25, rel=0.02)
    np.testing.assert_allclose(out[RATE // 2 :], source[RATE // 2 :], atol=1e-6)


def test_fade_out_reaches_silence_at_the_clip_end(media: Media) -> None:
    out = play(media.a1k, fx("audiofadeout", duration=0.5))[0]
    assert abs(out[-1]) < 1e-3
    assert rms(out[-480:]) < 0.01
    np.testing.assert_allclose(out[: 3 * RATE // 2], tone(1000, 2)[: 3 * RATE // 2], atol=1e-6)


def test_fade_window_places_the_fade(media: Media) -> None:
    # afade=in:st=0.5:d=0.25 — silent before its start, full after it.
    out = play(media.a1k, fx("audiofadein", start=0.5, end=2, duration=0.25))[0]
    assert not out[: RATE // 2].any()
    assert rms(out[RATE // 2 : RATE // 2 + 600]) < 0.02
    np.testing.assert_allclose(out[RATE:], tone(1000, 2)[RATE:], atol=1e-6)


def test_audio_fade_does_both_and_curves_follow_afade(media: Media) -> None:
    out = play(media.a1k, fx("AudioFade", fade_in=0.5, fade_out=0.5, curve="qsin"))[0]
    quarter = RATE // 4
    # qsin: sin(pi/4) of the way up a quarter second in.
    expected = 0.5 * np.sin(np.pi / 4)
    assert level_at(out[quarter - 480 : quarter + 480], 1000) == pytest.approx(expected, rel=0.02)
    assert rms(out[-480:]) < 0.02
    assert rms(out[STEADY]) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


# --- filters ------------------------------------------------------------------------------


def test_highpass_at_1k_removes_a_100hz_tone_and_keeps_5k(media: Media) -> None:
    out = play(media.lows_highs, fx("AudioHighpass", frequency=1000))[0][STEADY]
    assert db(level_at(out, 100) / 0.3) < -35
    assert db(level_at(out, 5000) / 0.3) == pytest.approx(0, abs=0.1)


def test_lowpass_at_1k_keeps_100hz_and_removes_5k(media: Media) -> None:
    out = play(media.lows_highs, fx("AudioLowpass", frequency=1000))[0][STEADY]
    assert db(level_at(out, 100) / 0.3) == pytest.approx(0, abs=0.1)
    assert db(level_at(out, 5000) / 0.3) < -25
    # poles=1 is ffmpeg's 6 dB/octave filter: far gentler.
    gentle = play(media.lows_highs, fx("AudioLowpass", frequency=1000, poles=1))[0][STEADY]
    assert -16 < db(level_at(gentle, 5000) / 0.3) < -10


def test_bandpass_keeps_its_centre_only(media: Media) -> None:
    out = play(media.three, fx("AudioBandpass", frequency=1000, q=2))[0][STEADY]
    assert db(level_at(out, 1000) / 0.25) == pytest.approx(0, abs=0.1)
    assert db(level_at(out, 100) / 0.25) < -25
    assert db(level_at(out, 10000) / 0.25) < -25


def test_equalizer_bands_are_the_editors(media: Media) -> None:
    out = play(media.three, fx("AudioEqualizer", gain_low=6, mid=-6, treble=0))[0][STEADY]
    assert db(level_at(out, 100) / 0.25) == pytest.approx(6, abs=0.1)
    assert db(level_at(out, 1000) / 0.25) == pytest.approx(-6, abs=0.1)
    assert db(level_at(out, 10000) / 0.25) == pytest.approx(0, abs=0.3)


# --- dynamics -----------------------------------------------------------------------------


def test_compressor_reduces_the_loud_passage_by_its_ratio(media: Media) -> None:
    # A long release keeps the gain steady between the peaks of each cycle.
    comp = fx("AudioCompressor", threshold=-20, ratio=4, knee=0, release=1000)
    out = play(media.steps, comp)[0]
    quiet = rms(out[RATE // 4 : RATE])
    loud = rms(out[5 * RATE // 4 :])
    assert quiet == pytest.approx(0.05 / np.sqrt(2), rel=1e-3)  # below the threshold: untouched
    # The peak is 1.94 dB over -20 by 18.06 dB: 3/4 of that comes off.
    over = db(0.8) + 20
    assert db(loud / (0.8 / np.sqrt(2))) == pytest.approx(-over * 0.75, abs=0.1)
    crest_in = db(0.8 / (0.05 / np.sqrt(2)))
    assert db(loud / quiet) < crest_in - 13


def test_compressor_makeup_and_attack(media: Media) -> None:
    out = play(media.steps, fx("AudioCompressor", threshold=-20, ratio=4, attack=20, makeup=6))[0]
    quiet = rms(out[RATE // 4 : RATE])
    assert db(quiet / (0.05 / np.sqrt(2))) == pytest.approx(6, abs=0.05)
    # A 20 ms attack lets the first milliseconds of the loud passage through louder.
    onset, settled = out[RATE : RATE + 240], out[RATE + 24000 : RATE + 24240]
    assert np.max(np.abs(onset)) > 1.5 * np.max(np.abs(settled))


def test_gate_silences_below_its_threshold(media: Media) -> None:
    out = play(media.steps, fx("AudioGate", threshold=-20))[0]
    assert rms(out[RATE // 4 : RATE]) < 0.05 * 1e-4  # -80 dB
    assert rms(out[5 * RATE // 4 :]) == pytest.approx(0.8 / np.sqrt(2), rel=1e-3)


def test_expander_lowers_quiet_passages_by_its_ratio(media: Media) -> None:
    out = play(media.steps, fx("AudioExpander", threshold=-20, ratio=2, knee=0, release=1000))[0]
    quiet = rms(out[RATE // 4 : RATE])
    # The quiet passage peaks 6.02 dB under the threshold: ratio 2 takes 6.02 dB more.
    assert db(quiet / (0.05 / np.sqrt(2))) == pytest.approx(db(0.05) + 20, abs=0.1)
    assert rms(out[5 * RATE // 4 :]) == pytest.approx(0.8 / np.sqrt(2), rel=1e-3)


def test_limiter_holds_the_ceiling_without_shifting_the_sound(media: Media) -> None:
    out = play(media.steps, fx("AudioLimiter", ceiling=-6))[0]
    assert np.max(np.abs(out)) <= 10 ** (-6 / 20) + 1e-6
    assert db(np.max(np.abs(out[5 * RATE // 4 :]))) == pytest.approx(-6, abs=0.05)
    # The look-ahead delay is removed: the quiet passage comes out untouched, sample for sample.
    source = (0.05 * tone(440, 1, 1.0)).astype(np.float32)
    np.testing.assert_allclose(out[: RATE - 480], source[: RATE - 480], atol=1e-6)


def test_normalize_reaches_its_loudness_target(media: Media) -> None:
    # BS.1770: a 1 kHz sine in both channels reads its peak level in LUFS (0 dBFS -> 0 LUFS),
    # so -16 LUFS is a 1 kHz sine peaking at -16 dBFS.
    out = play(media.a1k, fx("AudioNormalize", target=-16))
    assert db(np.max(np.abs(out[:, STEADY]))) == pytest.approx(-16, abs=0.1)
    louder = play(media.a1k, fx("AudioNormalize", target=-23))
    assert db(np.max(np.abs(louder[:, STEADY]))) == pytest.approx(-23, abs=0.1)


def test_normalize_to_a_peak_and_its_ceiling(media: Media) -> None:
    out = play(media.a440, fx("AudioNormalize", mode="peak", peak=-3))
    assert db(np.max(np.abs(out))) == pytest.approx(-3, abs=0.01)
    # -3 LUFS for a tone peaking at 0.9 would need +2 dB: the -1 dBFS ceiling limits it instead.
    capped = play(media.a1k_loud, fx("AudioNormalize", target=-3))
    assert np.max(np.abs(capped)) <= 10 ** (-1 / 20) + 1e-6


# --- time and space -----------------------------------------------------------------------


def test_delay_echoes_at_the_delay_with_decaying_repeats(media: Media) -> None:
    out = play(media.clicks, fx("AudioDelay", delay=0.25, decay=0.5))[0]
    loud = np.flatnonzero(np.abs(out) > 1e-4)
    first = [4800 + k * 12000 for k in range(4)]
    assert list(loud[:4]) == first
    assert out[first] == pytest.approx([0.8, 0.4, 0.2, 0.1], abs=1e-6)


def test_reverb_adds_a_decaying_tail_and_keeps_the_dry_sound(media: Media) -> None:
    out = play(media.clicks, fx("AudioReverb", room_size=0.5, damping=0.5, wet=0.3))
    assert out[0, 4800] == pytest.approx(0.8, abs=0.05)
    tail = [rms(out[:, 4800 + a : 4800 + a + 4800]) for a in (2400, 9600, 19200)]
    assert tail[0] > tail[1] > tail[2] > 0
    assert not np.array_equal(out[0], out[1])  # Freeverb's spread makes it stereo
    dry = play(media.clicks, fx("AudioReverb", wet=0))
    np.testing.assert_allclose(dry[0], play(media.clicks)[0], atol=1e-6)


def test_chorus_adds_voices_whose_delay_sweeps(media: Media) -> None:
    fixed = play(media.clicks, fx("AudioChorus", voices=1, depth=0, delay=25, decay=1))[0]
    # One voice, no sweep: the click and its copy 25 ms later, each at half level.
    assert fixed[4800] == pytest.approx(0.4, abs=1e-6)
    assert fixed[4800 + 1200] == pytest.approx(0.4, abs=1e-6)
    swept = play(media.clicks, fx("AudioChorus", voices=1, depth=5, delay=25, rate=0.5, decay=1))
    echoes = [int(np.argmax(np.abs(swept[0, c + 600 : c + 3000]))) + 600 for c in (4800, 48000)]
    assert echoes[0] != echoes[1]  # the two clicks met the LFO at different delays


def test_pan_hard_left_silences_the_right_channel(media: Media) -> None:
    out = play(media.a440, fx("AudioPan", pan=-1))
    assert not out[1].any()
    # A mono source pans with equal power: +3 dB on the side it goes to.
    assert rms(out[0, STEADY]) == pytest.approx(0.5, rel=1e-3)
    centre = play(media.wide, fx("AudioPan", pan=0))
    np.testing.assert_array_equal(centre, play(media.wide))


def test_pan_right_folds_a_stereo_left_channel_over(media: Media) -> None:
    out = play(media.left_only, fx("AudioPan", pan=1))
    assert not out[0].any()
    assert rms(out[1, STEADY]) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)


def test_stereo_width(media: Media) -> None:
    mono = play(media.wide, fx("AudioStereoWidth", width=0))
    np.testing.assert_allclose(mono[0], mono[1], atol=1e-7)
    wider = play(media.wide, fx("AudioStereoWidth", width=2))[:, STEADY]
    # Side doubled: L = 1.5 * a440 - 0.5 * a660.
    assert level_at(wider[0], 440) == pytest.approx(0.75, rel=0.01)
    assert level_at(wider[0], 660) == pytest.approx(0.25, rel=0.01)


def test_distortion_adds_odd_harmonics_only(media: Media) -> None:
    out = play(media.a440, fx("AudioDistortion", drive=20))[0][STEADY]
    assert np.max(np.abs(out)) <= 1.0
    assert level_at(out, 1320) > 0.1 * level_at(out, 440)
    assert level_at(out, 880) < 1e-4


# --- spectral -----------------------------------------------------------------------------


def test_denoise_lowers_the_noise_and_keeps_the_tone(media: Media) -> None:
    dry = play(media.noisy)[0]
    out = play(media.noisy, fx("AudioDenoise", amount=0.5))[0]
    noise_only = slice(RATE // 16, 7 * RATE // 16)
    assert db(rms(out[noise_only]) / rms(dry[noise_only])) < -12
    speech = slice(RATE, 2 * RATE - RATE // 8)
    assert db(level_at(out[speech], 440) / level_at(dry[speech], 440)) == pytest.approx(0, abs=0.5)


@pytest.mark.parametrize(("semitones", "hz"), [(12, 880), (-12, 220), (7, 659.26)])
def test_pitch_shifts_without_changing_length(media: Media, semitones: int, hz: float) -> None:
    out = play(media.a440, fx("AudioPitch", semitones=semitones))[0]
    assert dominant_hz(out[STEADY]) == pytest.approx(hz, abs=1.5)
    assert db(rms(out[STEADY]) / rms(tone(440, 1))) == pytest.approx(0, abs=1)
    assert db(rms(out[-RATE // 8 :]) / rms(tone(440, 1))) == pytest.approx(0, abs=1)


def test_tempo_plays_faster_at_the_same_pitch(media: Media) -> None:
    # 440 Hz for 1.5 s, then 880 Hz: at tempo 2 the change comes 0.75 s into the clip.
    out = play(media.octaves, fx("AudioTempo", tempo=2), seconds=1.5)[0]
    assert dominant_hz(out[RATE // 8 : 5 * RATE // 8]) == pytest.approx(440, abs=2)
    assert dominant_hz(out[7 * RATE // 8 : 11 * RATE // 8]) == pytest.approx(880, abs=2)
    assert out.shape[0] == round(1.5 * RATE)
    # 1.5 s at tempo 2 plays the whole 3 s source, up to its very end.
    assert rms(out[-RATE // 16 :]) > 0.3


# --- what the mixer plans -----------------------------------------------------------------


def test_crossfade_mixes_two_clips_over_the_cut(media: Media) -> None:
    a = clip(media.a440, 0, 1, id="a", effects=[fx("AudioCrossfade", duration=0.5)])
    b = clip(media.a660, 1, 2, id="b", source_start=0.5)
    out = mix(Track(id="t", kind=TrackKind.AUDIO, clips=(a, b)))[0]
    # Centred on the cut: 0.75..1.25 s. a plays on past its end fading out, b starts early.
    np.testing.assert_allclose(out[: 3 * RATE // 4], tone(440, 2)[: 3 * RATE // 4], atol=1e-6)
    at_cut = out[RATE - 480 : RATE + 480]
    assert level_at(at_cut, 440) == pytest.approx(0.25, rel=0.03)
    assert level_at(at_cut, 660) == pytest.approx(0.25, rel=0.03)
    assert level_at(out[5 * RATE // 4 + 480 :], 440) < 1e-3
    assert level_at(out[3 * RATE // 2 :], 660) == pytest.approx(0.5, rel=0.01)
    # b starts early by reading 0.25 s of its source before its in point; a source with no
    # such handle is silent there.
    bare = clip(media.a660, 1, 2, id="b")
    cut = mix(Track(id="t", kind=TrackKind.AUDIO, clips=(a, bare)))[0]
    assert not cut[3 * RATE // 4 : RATE].any() or level_at(cut[3 * RATE // 4 : RATE], 660) < 1e-3


def test_crossfade_uses_the_transition_window(media: Media) -> None:
    a = clip(media.a440, 0, 1, id="a", source_start=0.5)
    b = clip(media.a660, 1, 2, id="b", source_start=0.5)
    track = Track(
        id="t", kind=TrackKind.AUDIO, clips=(a, b), effects=(fx("AudioCrossfade", duration=2),)
    )
    out = mix(track, transitions=[Transition("x", "dissolve", "a", "b", 18, 30)])[0]
    assert level_at(out[: 3 * RATE // 4 - 480], 660) < 1e-3
    assert level_at(out[5 * RATE // 4 :], 440) < 1e-3
    assert level_at(out[RATE - 480 : RATE + 480], 660) == pytest.approx(0.25, rel=0.03)


def test_ducking_lowers_the_music_while_the_other_tracks_play(media: Media) -> None:
    music = Track(
        id="m",
        kind=TrackKind.AUDIO,
        clips=(clip(media.a440, 0, 2, id="music", effects=[fx("AudioDucking", reduction=12)]),),
    )
    voice = Track(id="v", kind=TrackKind.AUDIO, clips=(clip(media.a1k, 1, 2, id="voice"),))
    out = mix(music, voice)[0]
    before = level_at(out[RATE // 4 : 3 * RATE // 4], 440)
    during = level_at(out[5 * RATE // 4 : 7 * RATE // 4], 440)
    assert before == pytest.approx(0.5, rel=1e-3)
    assert db(during / before) == pytest.approx(-12, abs=0.2)
    assert level_at(out[5 * RATE // 4 : 7 * RATE // 4], 1000) == pytest.approx(0.5, rel=1e-3)


def test_clip_effects_run_before_the_clip_volume_and_track_effects_after(media: Media) -> None:
    norm = fx("AudioNormalize", mode="peak", peak=-6)
    clip_level = play(media.a440, norm, volume=0.5)
    assert db(np.max(np.abs(clip_level))) == pytest.approx(-6 + db(0.5), abs=0.01)
    track = Track(
        id="t",
        kind=TrackKind.AUDIO,
        clips=(clip(media.a440, volume=0.5),),
        effects=(norm,),
        volume=0.5,
    )
    # The track's normaliser sees the clip at half volume and undoes it; the track fader follows.
    assert db(np.max(np.abs(mix(track)))) == pytest.approx(-6 + db(0.5), abs=0.01)


# --- windows, intensity, determinism -------------------------------------------------------


def test_window_limits_an_effect_to_its_frames(media: Media) -> None:
    # Frames 13..36: the window opens where the 100 Hz tone is at 87 % of its crest.
    out = play(media.a100, fx("AudioHighpass", start=13 / 24, end=1.5, frequency=1000))[0]
    dry = play(media.a100)[0]
    lo, hi = 26000, 3 * RATE // 2  # frame 13 at 24 fps
    np.testing.assert_array_equal(out[:lo], dry[:lo])
    np.testing.assert_array_equal(out[hi:], dry[hi:])
    assert db(level_at(out[lo + 4800 : hi - 480], 100) / 0.3) < -35
    # No click where it switches: the change is spread over a 5 ms ramp, not one sample.
    change = np.abs(np.diff(out[lo - 480 : lo + 480] - dry[lo - 480 : lo + 480]))
    assert np.max(change) < 0.01
    assert np.max(np.abs(out[lo + 240 : lo + 480] - dry[lo + 240 : lo + 480])) > 0.2


def test_intensity_mixes_dry_and_wet(media: Media) -> None:
    dry = play(media.a1k)
    none = play(media.a1k, fx("AudioLowpass", frequency=100, intensity=0.0))
    np.testing.assert_array_equal(none, dry)
    half = play(media.steps, fx("AudioGate", threshold=-20, intensity=0.5))[0]
    assert rms(half[RATE // 4 : RATE]) == pytest.approx(0.5 * 0.05 / np.sqrt(2), rel=1e-3)


def test_effects_are_bit_identical_from_run_to_run(media: Media) -> None:
    chain = (
        fx("AudioCompressor"),
        fx("AudioReverb"),
        fx("AudioPitch", semitones=3),
        fx("AudioDenoise"),
    )
    first, second = play(media.noisy, *chain), play(media.noisy, *chain)
    assert first.tobytes() == second.tobytes()


def test_chain_refuses_a_picture_effect() -> None:
    buffer = np.zeros((2, 100), dtype=np.float32)
    with pytest.raises(TimelineError, match="clip c: effect 'blur'"):
        run_chain(buffer, [fx("blur")], RATE, lambda f: f * 2000, "c")
