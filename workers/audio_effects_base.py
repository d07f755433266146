"""What every audio effect shares: the processor protocol, its context, parameter reading, and
the exact vectorised recursions (one-pole smoothing, peak hold with release, sliding maximum)
the dynamics and filters are built from.

An effect is a ``Processor``: the chain driver (``workers.audio_effects``) feeds it a clip's
samples block after block, in order, as float64 ``(channels, n)`` arrays, and it returns as many
samples as it was given, delayed by its ``latency``; the driver removes that delay, so every
effect comes out aligned with its input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from chunking.timeline.audio_catalogue import AUDIO_EFFECT_PARAMS
from chunking.timeline.catalogue import effect_kind
from chunking.timeline.model import Effect

Block = npt.NDArray[np.float64]  # channels x n
Samples = npt.NDArray[np.float32]  # channels x n, a clip's whole buffer

#: Samples per block the driver hands a processor (and the convolvers' partition size).
BLOCK = 1 << 16

#: exp(-LOG_TINY) is far below anything float64 arithmetic on audio can resolve; recursions
#: carry state across blocks that long and treat what is left as zero.
LOG_TINY = 600.0


class Processor(Protocol):
    """One effect instance running over one clip."""

    #: samples by which the output lags the input
    latency: int

    def process(self, block: Block, start: int) -> Block:
        """The next ``block.shape[1]`` output samples; ``start`` is the block's buffer index."""
        ...


@dataclass(frozen=True)
class Context:
    """Where an effect runs: the clip buffer's shape and rate and the effect's window."""

    rate: int
    channels: int
    length: int  # samples in the clip buffer
    #: the effect's window in buffer samples, clipped to [0, length]; the whole buffer if unset
    window: tuple[int, int]
    clip_id: str = ""
    #: for ducking: the other tracks' sound over the same samples as the buffer
    key: Samples | None = None
    #: the two channels are copies of one mono source (panning uses the mono law)
    mono_source: bool = False


def value(effect: Effect, name: str) -> float:
    """The effect's numeric parameter ``name`` (its catalogue name), read leniently and clamped
    to the catalogue's range; the default when no spelling of it is a finite number."""
    kind = effect_kind(effect.kind) or effect.kind
    for spec in AUDIO_EFFECT_PARAMS[kind]:
        if spec.names[0] != name:
            continue
        for alias in spec.names:
            number = _number(effect.params.get(alias))
            if number is not None:
                return min(max(number, spec.low), spec.high)
        return spec.default
    raise KeyError(f"{kind} has no parameter {name!r}")


def given(effect: Effect, name: str) -> bool:
    """Whether the project sets parameter ``name`` (any spelling) to a number."""
    kind = effect_kind(effect.kind) or effect.kind
    for spec in AUDIO_EFFECT_PARAMS[kind]:
        if spec.names[0] == name:
            return any(_number(effect.params.get(alias)) is not None for alias in spec.names)
    return False


def text(effect: Effect, name: str, default: str) -> str:
    """A string parameter, lower-cased without separators; ``default`` when absent."""
    raw = effect.params.get(name)
    if not isinstance(raw, str) or not raw.strip():
        return default
    return raw.strip().lower().replace("-", "").replace("_", "").replace(" ", "")


def _number(raw: object) -> float | None:
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float | str):
        try:
            number = float(raw)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def db_to_gain(db: float) -> float:
    """Amplitude ratio of a level in dB."""
    return float(10.0 ** (db / 20.0))


def coefficient(ms: float, rate: int) -> float:
    """The one-pole coefficient of a time constant in milliseconds (0 for an instant one)."""
    samples = ms * 1e-3 * rate
    return math.exp(-1.0 / samples) if samples > 1e-3 else 0.0


def linked_level(block: Block) -> npt.NDArray[np.float64]:
    """The larger absolute sample of all channels at each instant (stereo-linked detection)."""
    return np.asarray(np.max(np.abs(block), axis=0), dtype=np.float64)


def to_db(level: npt.NDArray[np.float64], floor: float = -200.0) -> npt.NDArray[np.float64]:
    """Levels in dBFS, ``floor`` for silence."""
    safe = np.maximum(level, 10.0 ** (floor / 20.0))
    return np.asarray(20.0 * np.log10(safe), dtype=np.float64)


def _blocked(n: int, alpha: float) -> int:
    """A block length over which alpha**length is negligible, so state need not carry further."""
    return max(1, min(n, int(LOG_TINY / -math.log(alpha))))


def _blocks(
    x: npt.NDArray[np.float64], alpha: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``x`` zero-padded into rows of a ``_blocked`` length B, with alpha**-j and alpha**j for
    j in 0..B-1 (alpha**-j is at most exp(LOG_TINY))."""
    n = x.shape[0]
    b = _blocked(n, alpha)
    rows = -(-n // b)
    padded = np.zeros(rows * b, dtype=np.float64)
    padded[:n] = x
    j = np.arange(b, dtype=np.float64)
    log_a = math.log(alpha)
    return padded.reshape(rows, b), np.exp(-j * log_a), np.exp(j * log_a)


def _carry(local: npt.NDArray[np.float64], y0: float) -> npt.NDArray[np.float64]:
    """The state each block starts from: y0, then the previous block's last value."""
    carry = np.empty(local.shape[0], dtype=np.float64)
    carry[0] = y0
    carry[1:] = local[:-1, -1]
    return carry


def one_pole(
    x: npt.NDArray[np.float64], alpha: float, y0: float
) -> tuple[npt.NDArray[np.float64], float]:
    """y[n] = alpha * y[n-1] + (1 - alpha) * x[n] from y[-1] = y0, exactly, without a loop
    over samples; returns y and its last value.

    Within a block of length B, y[j] = alpha**(j+1) * y0 + (1-alpha) * alpha**j *
    cumsum(x[k] * alpha**-k)[j]; B is chosen so alpha**B is below float64 resolution, so each
    block needs only the previous block's last value (and earlier ones are negligible).
    """
    n = x.shape[0]
    if n == 0:
        return x.copy(), y0
    if alpha <= 0.0:
        return x.copy(), float(x[-1])
    grid, up, down = _blocks(x, alpha)
    local = (1.0 - alpha) * down * np.cumsum(grid * up, axis=1)
    # Each block starts from the previous block's last value (plus alpha**B times earlier
    # state: below resolution).
    y = local + _carry(local, y0)[:, None] * (down * alpha)
    flat = y.reshape(-1)[:n]
    return flat, float(flat[-1])


def release_hold(
    x: npt.NDArray[np.float64], alpha: float, y0: float
) -> tuple[npt.NDArray[np.float64], float]:
    """y[n] = max(x[n], alpha * y[n-1]) for x >= 0 (rises at once, falls exponentially), exact
    and loop-free like ``one_pole``: within a block y[j] = alpha**j * cummax(x[k] * alpha**-k)."""
    n = x.shape[0]
    if n == 0:
        return x.copy(), y0
    if alpha <= 0.0:
        return x.copy(), float(x[-1])
    grid, up, down = _blocks(x, alpha)
    local = down * np.maximum.accumulate(grid * up, axis=1)
    y = np.maximum(local, _carry(local, y0)[:, None] * (down * alpha))
    flat = y.reshape(-1)[:n]
    return flat, float(flat[-1])


def sliding_max(x: npt.NDArray[np.float64], width: int) -> npt.NDArray[np.float64]:
    """m[n] = max(x[n - width + 1 .. n]) (shorter windows at the start), in log2(width) steps."""
    m = x.copy()
    span = 1
    while span < width:
        step = min(span, width - span)
        np.maximum(m[step:], m[:-step], out=m[step:])
        span += step
    return m


class Identity:
    """An effect whose settings change nothing."""

    latency = 0

    def process(self, block: Block, start: int) -> Block:
        """The block itself."""
        return block


class History:
    """The last ``size`` values of a 1-D stream, for processors that look back across blocks."""

    def __init__(self, size: int, fill: float = 0.0) -> None:
        self.size = size
        self.data = np.full(size, fill, dtype=np.float64)

    def extend(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """History followed by ``x``; the history then becomes the last ``size`` of those."""
        joined = np.concatenate([self.data, x])
        self.data = joined[joined.shape[0] - self.size :] if self.size else joined[:0]
        return joined
