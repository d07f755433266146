"""The complexity model's weights, measured (data for ``chunking.complexity``).

Unit: the per-pixel CPU cost of one full-canvas, opaque, unscaled 1920x1080 video layer (decode
and composite). Measured with ``bench/complexity_weights.py`` on the development machine (2 vCPUs,
AMD EPYC, 2026-12-03, C compositing kernels, libx264 with one thread, as a worker slot renders):
one unit was 16.9 ms of CPU there (two runs agreed within 0.1 %). Each figure is the extra CPU
a feature costs, fitted over 320x180, 640x360 and 1280x720 renders of 30 frames as a fixed part
(units per frame or per layer, whatever the size) plus a part per reference frame of pixels (per
canvas, or per layer area for effects). A feature whose extra cost was within the measurement's
noise reads 0 here; the model floors every drawn layer and effect at ``MIN_PASS``.

The encoder dominates: x264 at "medium" costs about 4.5 units per 1080p frame, four times the
layer it encodes; film grain costs 18 units there (6 at "veryfast"), nearly all of it in the
encoder: noise does not compress.
Encode cost depends on the picture as well (a flat wash encodes cheaper than footage), which no
weight captures: the node class's learned throughput absorbs a cluster's typical content.
"""

from __future__ import annotations

#: Per output frame, whatever it shows: the frame loop, the conversion set-up.
FRAME = 0.04
#: Per drawn layer, whatever its size: placement, the Python around the pixel work.
LAYER_FIXED = 0.05
#: Decoding a source frame the size of the canvas (part of a video layer's unit).
DECODE = 0.53
#: Resizing a source the size of the canvas to another scale (picture-in-picture, zoom).
RESIZE = 0.37
#: Blending a translucent layer (opacity under 1), per its area: the blend is part of the pass
#: that draws the layer, and what it shows changes the encoder's work both ways. Measured again
#: on 2026-12-07 (A/B, renders alternating, 5-7 pairs, medians of CPU per frame; x264
#: veryfast, one thread): a half-size video at 0.8 opacity +0.43 per area over it opaque, a
#: full-frame one -0.17 (the blend of two pictures is cheaper to encode), a colour wash at 0.25
#: opacity +0.02 with its layer at 320x180, 640x360 and 1280x720; 0.1 is their mean. It was 0.6
#: (the NumPy blend of 2026-12-03), which priced the bench's projects with a wash 10-18 % over
#: the rest (docs/cost.md).
TRANSLUCENT = 0.1
#: A still image or a generated colour/pattern layer, per its area: decoded or drawn once, then
#: blended (measured at about 0: within the noise).
STILL = 0.0
#: A transition's blend per canvas (both sides expanded to the canvas with alpha), plus its
#: fixed part; the two clips count as layers besides.
TRANSITION = (0.05, 1.7)
#: One burned-in title: rasterised once, then a small blend.
TITLE = 0.01
#: The least a drawn layer or an effect costs per its area: one pass over its pixels.
MIN_PASS = 0.05

#: Encoding, per canvas, by codec and preset (fixed parts are under 0.12 and folded into FRAME).
ENCODE = {
    "h264": {
        "ultrafast": 0.95,
        "superfast": 2.31,
        "veryfast": 2.31,
        "faster": 3.33,
        "fast": 3.87,
        "medium": 4.47,
        "slow": 6.58,
        "slower": 11.23,
    },
    "hevc": {"ultrafast": 2.53, "veryfast": 4.11, "medium": 5.45},
    "vp9": {"veryfast": 6.58, "medium": 8.06},
    "av1": {"veryfast": 1.95, "medium": 5.76},
    # Lossless: FFV1, and RGB H.264 at qp 0 for mp4/mov (not measured apart; FFV1's figure).
    "lossless": {"medium": 3.98},
}
#: ProRes and DNxHR by profile (they take no preset), as multiples of x264 medium's figure: CPU
#: time per 1080p frame on the same noisy frames, one thread, against libx264 medium (measured
#: 2026-12 with FFmpeg 7 in PyAV 18: prores_ks is 5x to 24x slower than x264, dnxhd 0.4x to 5x).
#: Left to the h264 row, a ProRes 4444 job was estimated at a twenty-fourth of its time and cost.
INTRA_ENCODE_X264 = {
    "prores": {"proxy": 5.1, "lt": 6.9, "standard": 8.8, "hq": 14.1, "4444": 24.1},
    "dnxhr": {"lb": 0.39, "sq": 0.57, "hq": 1.02, "hqx": 2.85, "444": 5.14},
}
#: Presets not measured for a codec: its "medium" times x264's ratio for that preset; beyond
#: "slower", x264's documented steps (veryslow about twice slower, placebo about three times).
PRESET_ORDER = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
EXTRA_PRESETS = {"veryslow": 22.5, "placebo": 67.0}

#: Extra cost per picture effect, per its layer's area: (its own work, its share of the encoder's
#: cost per canvas). Measured at x264 "medium" and "veryfast" and solved for both: an effect that
#: adds fine detail (grain, sharpening) makes the encoder work harder, the more so the slower its
#: preset; one that removes detail (blur, noise reduction) saves the encoder work. Either part may
#: be negative (grain's own work, drawing the noise, is small beside its cost to the encoder); the
#: model takes the encoder's cost at no less than ``EFFECT_ENCODE_FLOOR`` and floors the sum at
#: ``MIN_PASS``. Fixed parts were all under 0.03.
EFFECTS: dict[str, tuple[float, float]] = {
    "filmgrain": (-7.48, 5.65),
    "noisereduction": (5.74, -0.46),
    "sharpen": (1.57, 0.46),
    "glow": (2.40, -0.11),
    "blur": (2.54, -0.37),
    "chromaticaberration": (1.92, -0.12),
    "curves": (1.88, -0.10),
    "cyberpunk": (0.40, 0.41),
    "sunset": (1.97, -0.26),
    "chromakey": (1.46, -0.15),
    "exposure": (0.70, 0.15),
    "colorbalance": (1.24, -0.09),
    "lomo": (1.46, -0.20),
    "vintage": (0.78, 0.08),
    "dreamy": (1.05, -0.11),
    "shadowshighlights": (0.48, 0.09),
    "whitebalance": (0.73, -0.15),
    "noir": (0.34, 0.01),
    "brightness": (0.34, -0.03),
    "lensflare": (0.13, -0.03),
    "sepia": (-0.03, 0.03),
    "invert": (0.02, 0.00),
    "contrast": (0.02, 0.00),
    "levels": (0.01, 0.00),
    "huerotate": (0.01, 0.00),
    "saturation": (0.00, 0.00),
    "grayscale": (0.00, 0.00),
    "vignette": (0.00, 0.00),
    "colorcorrection": (0.00, 0.00),
}
#: The fastest encoder the effects were measured with (x264 veryfast): the linear model is not
#: extended below it.
EFFECT_ENCODE_FLOOR = ENCODE["h264"]["veryfast"]
#: A look not measured (a chain of colour matrices): about the median of the measured looks.
LOOK = 0.6
#: An effect not measured (or measured within the noise) costs one pass.
OTHER_EFFECT = MIN_PASS
#: A non-identity colour correction on a clip, per its area.
COLOR_CORRECTION = 0.04

#: The job's audio task (``chunking.audio_cost``), in units. Measured on 2026-12-07 on the
#: development machine (CPU seconds, medians of 3-5 runs, one unit = 11.1 ms of CPU in the same
#: runs; load average 13-16 from other sessions, so the ratios, not the milliseconds): mixing
#: costs 1.7 ms per second of each sounding clip read (decode, resample, place, sum: 0.15
#: units), writing the output per second of it by codec (20 s of a tone and of noisy music,
#: ``workers.audio_encode.write_audio_file``: AAC 13-16 ms, Opus 7 ms, MP3 16-20 ms, FLAC 1.1
#: ms, 16-bit PCM 0.8 ms), and about 10 ms once (opening, the file's header and trailer).
AUDIO_CLIP_SECOND = 0.15
AUDIO_ENCODE_SECOND = {
    "aac": 1.3,
    "opus": 0.63,
    "mp3": 1.6,
    "flac": 0.1,
    "alac": 0.1,  # not measured: lossless like FLAC
    "pcm_s16le": 0.07,
    "pcm_s24le": 0.07,
}
#: A codec not in the table: AAC's (the default of mp4 and mov).
AUDIO_SECOND = AUDIO_ENCODE_SECOND["aac"]
AUDIO_TASK = 1.0
