"""Names and numeric parameters of the audio effects the mixer implements, and their aliases.

``chunking.timeline.catalogue`` merges these into its tables, so the loader treats an audio effect
like any other; ``workers.audio_effects`` implements exactly ``AUDIO_EFFECTS``.

The kinds are the editor's ``EffectType`` audio variants (Timeline Studio,
src-tauri/src/video_compiler/schema/effects.rs) lower-cased. Parameter names are the ones the
editor writes where it writes any (src/features/timeline/components/audio-effects-editor.tsx:
fade ``duration``, equalizer ``gain_low/gain_mid/gain_high``, compressor ``threshold, ratio,
attack, release``, reverb ``room_size, damping, wet``, delay ``delay, decay``, normalize
``target``, denoise ``amount``; its Rust builder (ffmpeg_builder/effects.rs): ``fade_in,
fade_out``, ``bass, mid, treble``), else the usual ffmpeg option names. Units: seconds for
fades and the delay time, milliseconds for dynamics time constants and chorus delays, dB for
levels and gains, Hz for frequencies.
"""

from __future__ import annotations

from chunking.timeline.catalogue_params import Param

#: Canonical audio effect kinds.
AUDIO_EFFECTS: frozenset[str] = frozenset(
    {
        "audiofadein",
        "audiofadeout",
        "audiofade",
        "audiocrossfade",
        "audioequalizer",
        "audiocompressor",
        "audioreverb",
        "audiodelay",
        "audiochorus",
        "audiodistortion",
        "audionormalize",
        "audiodenoise",
        "audiopitch",
        "audiotempo",
        "audioducking",
        "audiogate",
        "audiolimiter",
        "audioexpander",
        "audiopan",
        "audiostereowidth",
        "audiohighpass",
        "audiolowpass",
        "audiobandpass",
    }
)

#: Longest fade or crossfade (s): an hour is longer than any clip worth fading.
MAX_FADE_SECONDS = 3600.0

_THRESHOLD = (-90.0, 0.0)  # dBFS
_ATTACK_MS = (0.0, 2000.0)
_RELEASE_MS = (0.0, 5000.0)
_RATIO = (1.0, 100.0)
_KNEE_DB = (0.0, 40.0)
_GAIN_DB = (-30.0, 30.0)
_HZ = (1.0, 96000.0)  # clamped below Nyquist by the worker
_Q = (0.1, 30.0)

#: Each audio effect kind's numeric parameters; the first name of each is the one the worker
#: asks for, the others are accepted spellings.
AUDIO_EFFECT_PARAMS: dict[str, tuple[Param, ...]] = {
    "audiofadein": (Param(("duration", "fade_in", "length"), 0.0, MAX_FADE_SECONDS, 1.0),),
    "audiofadeout": (Param(("duration", "fade_out", "length"), 0.0, MAX_FADE_SECONDS, 1.0),),
    "audiofade": (
        Param(("fade_in", "in", "duration_in"), 0.0, MAX_FADE_SECONDS, 0.0),
        Param(("fade_out", "out", "duration_out"), 0.0, MAX_FADE_SECONDS, 0.0),
    ),
    "audiocrossfade": (Param(("duration", "length"), 0.0, MAX_FADE_SECONDS, 1.0),),
    # The Rust builder's bands: equalizer=f=100|1000|10000, t=q, w=1.
    "audioequalizer": (
        Param(("bass", "gain_low", "low"), *_GAIN_DB, 0.0),
        Param(("mid", "gain_mid", "middle"), *_GAIN_DB, 0.0),
        Param(("treble", "gain_high", "high"), *_GAIN_DB, 0.0),
        # One more free band, for projects that set a frequency of their own.
        Param(("frequency", "f", "freq"), *_HZ, 1000.0),
        Param(("gain", "g"), *_GAIN_DB, 0.0),
        Param(("q", "width"), *_Q, 1.0),
    ),
    "audiocompressor": (
        Param(("threshold",), *_THRESHOLD, -20.0),
        Param(("ratio",), *_RATIO, 4.0),
        Param(("attack",), *_ATTACK_MS, 5.0),
        Param(("release",), *_RELEASE_MS, 50.0),
        Param(("knee",), *_KNEE_DB, 2.5),
        Param(("makeup", "makeup_gain"), 0.0, 30.0, 0.0),
    ),
    "audioreverb": (
        Param(("room_size", "roomsize", "room", "size"), 0.0, 1.0, 0.5),
        Param(("damping", "damp"), 0.0, 1.0, 0.5),
        Param(("wet", "wet_level", "mix"), 0.0, 1.0, 0.3),
        Param(("dry", "dry_level"), 0.0, 1.0, 1.0),
        Param(("width",), 0.0, 1.0, 1.0),
        Param(("predelay", "pre_delay"), 0.0, 500.0, 0.0),
    ),
    "audiodelay": (
        Param(("delay", "time", "delay_time"), 0.01, 5.0, 0.5),
        Param(("decay", "feedback"), 0.0, 1.0, 0.3),
    ),
    "audiochorus": (
        Param(("delay", "delay_ms"), 1.0, 100.0, 25.0),
        Param(("depth", "depth_ms"), 0.0, 20.0, 2.0),
        Param(("rate", "speed"), 0.01, 20.0, 0.5),
        Param(("voices",), 1.0, 8.0, 3.0),
        Param(("decay", "level"), 0.0, 1.0, 0.5),
    ),
    "audiodistortion": (
        Param(("drive", "gain"), 0.0, 60.0, 12.0),
        Param(("output", "level", "output_gain"), -60.0, 24.0, 0.0),
    ),
    "audionormalize": (
        Param(("target", "target_lufs", "loudness", "i"), -70.0, 0.0, -23.0),
        Param(("peak", "true_peak", "tp", "ceiling"), -60.0, 0.0, -1.0),
    ),
    "audiodenoise": (Param(("amount", "strength"), 0.0, 1.0, 0.5),),
    "audiopitch": (
        Param(("semitones", "pitch", "shift", "steps"), -24.0, 24.0, 0.0),
        Param(("ratio", "factor"), 0.25, 4.0, 1.0),
    ),
    "audiotempo": (Param(("tempo", "factor", "rate", "ratio"), 0.25, 4.0, 1.0),),
    "audioducking": (
        Param(("threshold",), *_THRESHOLD, -30.0),
        Param(("ratio",), *_RATIO, 4.0),
        Param(("reduction", "amount", "depth", "range"), 0.0, 90.0, 12.0),
        Param(("attack",), *_ATTACK_MS, 20.0),
        Param(("release",), *_RELEASE_MS, 300.0),
    ),
    "audiogate": (
        Param(("threshold",), *_THRESHOLD, -40.0),
        Param(("range", "floor", "reduction"), -120.0, 0.0, -80.0),
        Param(("attack",), *_ATTACK_MS, 1.0),
        Param(("release",), *_RELEASE_MS, 100.0),
        Param(("hold",), 0.0, 5000.0, 0.0),
        Param(("knee",), *_KNEE_DB, 0.0),
    ),
    "audiolimiter": (
        Param(("ceiling", "limit", "threshold"), -60.0, 0.0, -1.0),
        Param(("release",), 1.0, 5000.0, 50.0),
        Param(("lookahead", "attack"), 0.1, 100.0, 5.0),
    ),
    "audioexpander": (
        Param(("threshold",), *_THRESHOLD, -40.0),
        Param(("ratio",), *_RATIO, 2.0),
        Param(("range", "floor"), -120.0, 0.0, -40.0),
        Param(("attack",), *_ATTACK_MS, 5.0),
        Param(("release",), *_RELEASE_MS, 100.0),
        Param(("knee",), *_KNEE_DB, 2.5),
    ),
    "audiopan": (Param(("pan", "position", "balance", "value"), -1.0, 1.0, 0.0),),
    "audiostereowidth": (Param(("width", "amount", "value"), 0.0, 4.0, 1.5),),
    # The editor's own analysis chain uses highpass=f=100,lowpass=f=5000
    # (src-tauri/src/montage_planner/services/audio_analyzer.rs); those are the defaults here.
    "audiohighpass": (
        Param(("frequency", "cutoff", "f", "freq"), *_HZ, 100.0),
        Param(("q", "resonance"), *_Q, 0.707),
        Param(("poles",), 1.0, 2.0, 2.0),
    ),
    "audiolowpass": (
        Param(("frequency", "cutoff", "f", "freq"), *_HZ, 5000.0),
        Param(("q", "resonance"), *_Q, 0.707),
        Param(("poles",), 1.0, 2.0, 2.0),
    ),
    "audiobandpass": (
        Param(("frequency", "center", "centre", "f", "freq"), *_HZ, 1000.0),
        Param(("q", "resonance"), *_Q, 0.707),
    ),
}

#: Other spellings, after canonical() normalisation.
AUDIO_EFFECT_ALIASES: dict[str, str] = {
    "fadein": "audiofadein",
    "afadein": "audiofadein",
    "fadeout": "audiofadeout",
    "afadeout": "audiofadeout",
    "afade": "audiofade",
    "audiofades": "audiofade",
    "crossfade": "audiocrossfade",
    "acrossfade": "audiocrossfade",
    "equalizer": "audioequalizer",
    "equaliser": "audioequalizer",
    "audioequaliser": "audioequalizer",
    "eq": "audioequalizer",
    "audioeq": "audioequalizer",
    "compressor": "audiocompressor",
    "acompressor": "audiocompressor",
    "compand": "audiocompressor",
    "reverb": "audioreverb",
    "freeverb": "audioreverb",
    "delay": "audiodelay",
    "echo": "audiodelay",
    "aecho": "audiodelay",
    "audioecho": "audiodelay",
    "chorus": "audiochorus",
    "distortion": "audiodistortion",
    "overdrive": "audiodistortion",
    "normalize": "audionormalize",
    "normalise": "audionormalize",
    "audionormalise": "audionormalize",
    "loudnorm": "audionormalize",
    "loudnessnormalization": "audionormalize",
    "denoise": "audiodenoise",
    "audionoisereduction": "audiodenoise",
    "afftdn": "audiodenoise",
    "pitch": "audiopitch",
    "pitchshift": "audiopitch",
    "audiopitchshift": "audiopitch",
    "tempo": "audiotempo",
    "atempo": "audiotempo",
    "timestretch": "audiotempo",
    "ducking": "audioducking",
    "duck": "audioducking",
    "autoduck": "audioducking",
    "sidechaincompress": "audioducking",
    "gate": "audiogate",
    "noisegate": "audiogate",
    "agate": "audiogate",
    "limiter": "audiolimiter",
    "alimiter": "audiolimiter",
    "expander": "audioexpander",
    "pan": "audiopan",
    "panning": "audiopan",
    "audiobalance": "audiopan",
    "stereowidth": "audiostereowidth",
    "stereowiden": "audiostereowidth",
    "stereowidener": "audiostereowidth",
    "extrastereo": "audiostereowidth",
    "highpass": "audiohighpass",
    "highpassfilter": "audiohighpass",
    "hpf": "audiohighpass",
    "lowpass": "audiolowpass",
    "lowpassfilter": "audiolowpass",
    "lpf": "audiolowpass",
    "bandpass": "audiobandpass",
    "bandpassfilter": "audiobandpass",
    "bpf": "audiobandpass",
}
