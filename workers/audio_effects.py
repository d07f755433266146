"""Running a clip's audio effects over its samples, in order, honouring each effect's window and
intensity.

Every effect runs over the whole clip buffer, block by block, so stateful ones (reverb tails,
echoes, compressor envelopes, noise profiles) see the clip from its first sample however the
timeline is later cut into chunks: audio is rendered once per timeline (``render_audio``).
The output of an effect is then mixed over its input: ``dry + (wet - dry) * weight``, where
the weight is ``Effect.intensity`` inside the effect's window of timeline frames and 0
outside, ramped over 5 ms at window edges inside the clip (a hard switch would click).
Fades are the exception: their window places the ramp (``afade=in:st=...``), it does not gate
it. The driver removes each effect's latency, so the chain stays sample-aligned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from chunking.timeline.catalogue import effect_kind
from chunking.timeline.model import Effect
from common.errors import TimelineError
from workers import audio_effects_dynamics as dyn
from workers import audio_effects_lti as lti
from workers import audio_effects_pointwise as pointwise
from workers import audio_effects_spectral as spectral
from workers import audio_effects_time as timed
from workers.audio_effects_base import BLOCK, Context, Processor, Samples

Factory = Callable[[Effect, Context, Samples], Processor]

#: The implementation of every audio effect kind the chain runs.
FACTORIES: dict[str, Factory] = {
    "audiofadein": pointwise.make_fade_in,
    "audiofadeout": pointwise.make_fade_out,
    "audiofade": pointwise.make_fade,
    "audioequalizer": lti.make_equalizer,
    "audiocompressor": dyn.make_compressor,
    "audioreverb": lti.make_reverb,
    "audiodelay": timed.make_delay,
    "audiochorus": timed.make_chorus,
    "audiodistortion": pointwise.make_distortion,
    "audionormalize": dyn.make_normalize,
    "audiodenoise": spectral.make_denoise,
    "audiopitch": spectral.make_pitch,
    "audioducking": dyn.make_ducking,
    "audiogate": dyn.make_gate,
    "audiolimiter": dyn.make_limiter,
    "audioexpander": dyn.make_expander,
    "audiopan": pointwise.make_pan,
    "audiostereowidth": pointwise.make_stereo_width,
    "audiohighpass": lti.make_highpass,
    "audiolowpass": lti.make_lowpass,
    "audiobandpass": lti.make_bandpass,
}

#: Kinds the mixer's plan (``audio_effects_plan``) turns into something else before the chain:
#: a crossfade into fades and handles, a tempo change into a faster read plus a pitch shift.
PLANNED = frozenset({"audiocrossfade", "audiotempo"})

#: Kinds whose window anchors them rather than gating them.
ANCHORED = frozenset({"audiofadein", "audiofadeout", "audiofade"})

#: Kinds that make or need two channels; a mono buffer is copied to both first.
STEREO = frozenset({"audiopan", "audiostereowidth", "audioreverb"})

#: Length of the fade of an effect in and out at its window's edges (s).
RAMP_SECONDS = 0.005

F64 = npt.NDArray[np.float64]


def run_chain(
    buffer: Samples,
    effects: Sequence[Effect],
    rate: int,
    frame_index: Callable[[int], int],
    clip_id: str,
    key: Samples | None = None,
) -> Samples:
    """Apply the effects in order to a clip's (channels, n) float32 buffer; the result may have
    two channels where the buffer had one. ``frame_index`` maps a timeline frame to a buffer
    index; ``key`` is what ducking listens to."""
    for effect in effects:
        kind = effect_kind(effect.kind) or effect.kind
        if kind in PLANNED:
            continue
        factory = FACTORIES.get(kind)
        if factory is None:
            raise TimelineError(
                f"clip {clip_id}: effect {effect.id!r}: {effect.kind!r} is not an audio effect"
            )
        n = buffer.shape[1]
        lo = 0 if effect.start is None else min(max(frame_index(effect.start), 0), n)
        hi = n if effect.end is None else min(max(frame_index(effect.end), 0), n)
        intensity = min(max(effect.intensity, 0.0), 1.0)
        if intensity == 0 or (hi <= lo and kind not in ANCHORED):
            continue
        mono = kind in STEREO and buffer.shape[0] == 1
        if mono:
            buffer = np.repeat(buffer, 2, axis=0)
        ctx = Context(rate, buffer.shape[0], n, (lo, hi), clip_id, key, mono)
        processor = factory(effect, ctx, buffer)
        if kind in ANCHORED:
            weights = _Weights(0, n, n, intensity, 0)
        else:
            weights = _Weights(lo, hi, n, intensity, round(RAMP_SECONDS * rate))
        _drive(buffer, processor, weights)
    return buffer


class _Weights:
    """How much of an effect's output replaces its input at each buffer index."""

    def __init__(self, lo: int, hi: int, n: int, intensity: float, ramp: int) -> None:
        self.lo, self.hi, self.n, self.intensity = lo, hi, n, intensity
        self.ramp = min(ramp, (hi - lo) // 2)

    def __call__(self, s: int, e: int) -> F64 | None:
        """Weights for buffer indices [s, e); None when they are all 1."""
        lo, hi, ramp = self.lo, self.hi, self.ramp
        starts = lo > 0
        ends = hi < self.n
        full_from = lo + ramp if starts else lo
        full_to = hi - ramp if ends else hi
        if self.intensity >= 1 and full_from <= s and e <= full_to:
            return None
        index = np.arange(s, e, dtype=np.float64)
        w = ((index >= lo) & (index < hi)).astype(np.float64)
        if ramp:
            if starts:
                w = np.minimum(w, np.clip((index - lo + 0.5) / ramp, 0.0, 1.0))
            if ends:
                w = np.minimum(w, np.clip((hi - index - 0.5) / ramp, 0.0, 1.0))
        return w * self.intensity


def _drive(buffer: Samples, processor: Processor, weights: _Weights) -> None:
    """Run a processor over the buffer in place, removing its latency and mixing by weight."""
    channels, n = buffer.shape
    latency = processor.latency
    for a in range(0, n + latency, BLOCK):
        b = min(a + BLOCK, n + latency)
        block = np.zeros((channels, b - a), dtype=np.float64)
        if a < n:
            block[:, : min(b, n) - a] = buffer[:, a : min(b, n)]
        out = processor.process(block, a)
        # The output covers buffer indices [a - latency, b - latency); those below 0 are the
        # processor's start-up, and [a - latency, a) were read earlier but not yet written.
        s, e = max(a - latency, 0), b - latency
        if e <= s:
            continue
        wet = out[:, s - (a - latency) :]
        w = weights(s, e)
        if w is None:
            buffer[:, s:e] = wet
        else:
            dry = buffer[:, s:e]
            buffer[:, s:e] = dry + (wet - dry) * w
