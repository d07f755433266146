"""Measure the complexity weights: what each layer kind, effect, transition and title costs.

Renders small timelines that differ by one feature (a second video layer, a still image, a colour
wash, a picture-in-picture, each picture effect, a dissolve, a title) through the real renderer in
this process (``workers.render.render_to_file``: decode, composite, encode with one x264 thread, as
a worker slot of a 2-core node renders), at several canvas sizes, and times the process's CPU per
frame: the marginal cost, from renders of two lengths (``--frames`` and ``LONGER`` times as many),
so that what a render pays once (opening decoders and the encoder, seeking) is not counted per
frame (the cluster learns that part per chunk). Each feature's extra cost over the plain
one-layer timeline is fitted as a fixed part plus a part per canvas pixel, then expressed in
complexity units (one unit: the per-pixel cost of a plain, full-canvas 1920x1080 video layer).
The printed table is what ``chunking/weights.py`` holds.

Run: ``.venv/bin/python bench/complexity_weights.py [--frames 30] [--repeat 2] [--json]``.
"""

from __future__ import annotations

import os

# One BLAS thread, as a worker's render process runs (workers.blas); before numpy loads.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402

from bench.script import emit, log  # noqa: E402
from bench.support import project, solid, video_track  # noqa: E402
from bench.throughput_project import FPS, make_logo, make_source  # noqa: E402
from chunking.timeline.project import read_project  # noqa: E402
from workers.render import render_to_file  # noqa: E402

SIZES = [(320, 180), (640, 360), (1280, 720)]
REFERENCE_PIXELS = 1920 * 1080

#: The longer render of each variant, in multiples of ``--frames``: the difference is the
#: marginal cost of those frames.
LONGER = 3

#: The second preset effects are measured at (the base timelines encode at "medium").
FAST = "veryfast"

#: One non-identity setting per picture effect, as the editor writes them.
EFFECTS: dict[str, dict[str, Any]] = {
    "blur": {"effect_type": "Blur", "params": {"radius": 4.0}},
    "brightness": {"effect_type": "Brightness", "params": {"value": 1.2}},
    "contrast": {"effect_type": "Contrast", "params": {"value": 1.2}},
    "saturation": {"effect_type": "Saturation", "params": {"value": 1.3}},
    "huerotate": {"effect_type": "HueRotate", "params": {"angle": 30}},
    "grayscale": {"effect_type": "Grayscale", "params": {"amount": 1.0}},
    "sepia": {"effect_type": "Sepia", "params": {"amount": 1.0}},
    "invert": {"effect_type": "Invert", "params": {"amount": 1.0}},
    "vignette": {"effect_type": "Vignette", "params": {"strength": 0.5}},
    "sharpen": {"effect_type": "Sharpen", "params": {"amount": 1.0}},
    "filmgrain": {"effect_type": "FilmGrain", "params": {"amount": 0.3}},
    "glow": {"effect_type": "Glow", "params": {"intensity": 0.4}},
    "lensflare": {"effect_type": "LensFlare", "params": {"intensity": 0.6}},
    "chromaticaberration": {"effect_type": "ChromaticAberration", "params": {"amount": 0.5}},
    "noisereduction": {"effect_type": "NoiseReduction", "params": {"strength": 0.5}},
    "chromakey": {"effect_type": "ChromaKey", "params": {"key_color": "#00ff00"}},
    "exposure": {"effect_type": "Exposure", "params": {"ev": 0.5}},
    "curves": {"effect_type": "Curves", "params": {"preset": "increase_contrast"}},
    "levels": {"effect_type": "Levels", "params": {"in_black": 0.1, "in_white": 0.9}},
    "whitebalance": {"effect_type": "WhiteBalance", "params": {"temperature": 30}},
    "shadowshighlights": {"effect_type": "ShadowsHighlights", "params": {"shadows": 0.3}},
    "colorbalance": {"effect_type": "ColorBalance", "params": {"rs": 0.2, "bh": -0.1}},
    "colorcorrection": {"effect_type": "ColorCorrection", "params": {"saturation": 1.2}},
    **{
        look: {"effect_type": look.capitalize(), "params": {}}
        for look in ("vintage", "noir", "cyberpunk", "dreamy", "sunset", "lomo")
    },
}


#: The software encoders and presets measured (the base timeline encodes h264 at "medium").
ENCODERS = {
    "h264": ["ultrafast", "superfast", "veryfast", "faster", "fast", "slow", "slower"],
    "hevc": ["ultrafast", "veryfast", "medium"],
    "vp9": ["veryfast", "medium"],
    "av1": ["veryfast", "medium"],
    "ffv1": ["medium"],
}


def _clip(source: str, seconds: float, **extra: Any) -> dict[str, Any]:
    """A clip of `source` over the whole timeline."""
    return {"source": {"File": source}, "start_time": 0.0, "end_time": seconds, **extra}


def variants(tag: str, seconds: float) -> dict[str, dict[str, Any]]:
    """Each measured timeline's tracks and extras: the plain one-layer base and one change each."""
    video = f"source-{tag}.mp4"
    base = [video_track("v0", [_clip(video, seconds, id="a")])]

    def over(clip: dict[str, Any]) -> list[dict[str, Any]]:
        return [*base, video_track("v1", [clip])]

    wash = {
        "id": "wash",
        **solid("#2040a0"),
        "start_time": 0.0,
        "end_time": seconds,
        "opacity": 0.25,
    }
    half = {"scale_x": 0.5, "scale_y": 0.5}
    half_cut = seconds / 2
    cut = [
        _clip(video, half_cut, id="c0"),
        {**_clip(video, seconds, id="c1", source_start=1.0), "start_time": half_cut},
    ]
    found: dict[str, dict[str, Any]] = {
        "blank": {"tracks": []},
        "video": {"tracks": base},
        "video+video": {"tracks": over(_clip(video, seconds, id="b", source_start=1.0))},
        "video+pip": {
            "tracks": over(_clip(video, seconds, id="b", source_start=1.0, transform=half))
        },
        "video+image": {"tracks": over(_clip(f"logo-{tag}.png", seconds, id="b"))},
        "video+color": {"tracks": over(wash)},
        # Each second layer shows another moment of the file: the same moment would share the
        # first layer's decode (workers.sources.VideoSource.share) and hide its cost.
        "video+opacity": {
            "tracks": over(_clip(video, seconds, id="b", source_start=1.0, opacity=0.8))
        },
        "video+colorgrade": {
            "tracks": [
                video_track(
                    "v0",
                    [_clip(video, seconds, id="a", color_correction={"saturation": 1.2})],
                )
            ]
        },
        "cut": {"tracks": [video_track("v0", cut)]},
        "cut+dissolve": {
            "tracks": [video_track("v0", cut)],
            "transitions": [
                {
                    "id": "mix",
                    "transition_type": "Dissolve",
                    "from_clip_id": "c0",
                    "to_clip_id": "c1",
                    "duration": seconds,
                }
            ],
        },
        "video+title": {
            "tracks": base,
            "subtitles": [
                {"id": "t", "text": "Chapter one", "start_time": 0.0, "end_time": seconds}
            ],
        },
    }
    for codec, presets in ENCODERS.items():
        for preset in presets:
            found[f"enc:{codec}:{preset}"] = {
                "tracks": base,
                "settings": {"export": {"format": "mkv", "codec": codec, "preset": preset}},
            }
    fast = {"export": {"format": "mkv", "codec": "h264", "preset": FAST}}
    for name, effect in EFFECTS.items():
        found[f"fx:{name}"] = {
            "tracks": [video_track("v0", [_clip(video, seconds, id="a", effects=["fx"])])],
            "effects": [{**effect, "id": "fx"}],
        }
        # Again at a fast preset: how much of the effect's cost is the encoder's extra work.
        found[f"fxfast:{name}"] = {**found[f"fx:{name}"], "settings": fast}
    return found


def cpu_seconds(doc: dict[str, Any], directory: Path, repeat: int) -> tuple[float, int]:
    """The least CPU seconds over `repeat` renders of the document, and its frames."""
    timeline = read_project(doc, base_dir=str(directory)).timeline
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        render_to_file(timeline, str(directory / "out.mp4"), audio=False, threads=1)
        best = min(best, time.process_time() - began)
    return best, timeline.frames


def transition_frames(doc: dict[str, Any], directory: Path) -> int:
    """How many frames of the document a transition covers."""
    timeline = read_project(doc, base_dir=str(directory)).timeline
    return sum(tr.end - tr.start for tr in timeline.transitions)


def decode_per_frame(path: Path) -> float:
    """CPU seconds to decode one frame of a video (one thread)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        began = time.process_time()
        count = sum(1 for _ in container.decode(stream))
    return (time.process_time() - began) / max(count, 1)


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares of cost = fixed + per_pixel x pixels, relative error, both >= 0."""
    weights = [1.0 / max(abs(c), 1e-6) ** 2 for _, c in points]
    sw = sum(weights)
    sx = sum(w * x for (x, _), w in zip(points, weights, strict=True))
    sy = sum(w * y for (_, y), w in zip(points, weights, strict=True))
    sxx = sum(w * x * x for (x, _), w in zip(points, weights, strict=True))
    sxy = sum(w * x * y for (x, y), w in zip(points, weights, strict=True))
    det = sw * sxx - sx * sx
    fixed, slope = (sy * sxx - sx * sxy) / det, (sw * sxy - sx * sy) / det
    if slope < 0:
        return max(sy / sw, 0.0), 0.0
    if fixed < 0:
        return 0.0, max(sxy / sxx, 0.0)
    return fixed, slope


def measure(frames: int, repeat: int, only: set[str] | None) -> dict[str, Any]:
    """Marginal CPU per frame of every variant at every size (between renders of `frames` and
    LONGER times as many), and each size's marginal transition frames."""
    lengths = (frames / FPS, LONGER * frames / FPS)
    frames_apart = (LONGER - 1) * frames
    costs: dict[str, dict[str, float]] = {}
    spans: dict[str, int] = {}
    decode: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="cr-weights-") as tmp:
        directory = Path(tmp)
        for width, height in SIZES:
            tag = f"{width}x{height}"
            log(f"{tag}: generating media")
            make_source(directory / f"source-{tag}.mp4", width, height, round(8 * FPS))
            make_logo(directory / f"logo-{tag}.png", width, height)
            decode[tag] = decode_per_frame(directory / f"source-{tag}.mp4")
            short, long = (variants(tag, seconds) for seconds in lengths)
            for name in short:
                bases = ("video", "video+video", "cut", f"enc:h264:{FAST}")
                if only and not any(name.startswith(o) for o in only) and name not in bases:
                    continue
                docs = [
                    _document(v[name], width, height, s)
                    for v, s in zip((short, long), lengths, strict=True)
                ]
                (c0, f0), (c1, f1) = (cpu_seconds(doc, directory, repeat) for doc in docs)
                costs.setdefault(name, {})[tag] = per_frame = (c1 - c0) / (f1 - f0)
                if name == "cut+dissolve":
                    spans[tag] = transition_frames(docs[1], directory) - transition_frames(
                        docs[0], directory
                    )
                average = 1000 * c0 / f0
                log(f"  {name:24s} {1000 * per_frame:7.2f} ms/frame ({average:.2f} over {f0})")
    return {"costs": costs, "decode": decode, "spans": spans, "frames": frames_apart}


def _document(extra: dict[str, Any], width: int, height: int, seconds: float) -> dict[str, Any]:
    """The project document of one variant."""
    return project(
        extra["tracks"],
        fps=FPS,
        size=(width, height),
        duration=seconds,
        **{k: v for k, v in extra.items() if k != "tracks"},
    )


def weights(measured: dict[str, Any]) -> dict[str, Any]:
    """The fitted weights in complexity units (see the module docstring)."""
    costs, frames = measured["costs"], measured["frames"]
    pixels = {f"{w}x{h}": w * h / REFERENCE_PIXELS for w, h in SIZES}

    def increment(
        name: str, against: str, scale: dict[str, float] | None = None
    ) -> list[tuple[float, float]]:
        return [
            (pixels[tag], (costs[name][tag] - costs[against][tag]) * (scale or {}).get(tag, 1.0))
            for tag in costs.get(name, {})
        ]

    layer_fixed, layer_px = fit(increment("video+video", "video"))
    unit = layer_px  # seconds of one full-canvas 1080p video layer's per-pixel part
    if unit <= 0:
        raise ValueError(
            "a second video layer measured no dearer than one at every size: the machine's noise "
            "is larger than a layer's cost (run again on a quieter machine, or with --repeat)"
        )
    base_fixed, base_px = fit([(pixels[t], c) for t, c in costs["video"].items()])
    found: dict[str, Any] = {
        "seconds_per_unit": unit,
        "frame": (base_fixed - layer_fixed) / unit,
        "encode": (base_px - layer_px) / unit,
        "layer_fixed": layer_fixed / unit,
        "decode": fit([(pixels[t], c) for t, c in measured["decode"].items()])[1] / unit,
    }
    for name, key in (
        ("video+pip", "pip"),
        ("video+image", "image"),
        ("video+color", "color"),
        ("video+opacity", "opacity"),
        ("video+colorgrade", "colorgrade"),
        ("video+title", "title"),
    ):
        if name in costs:
            fixed, px = fit(increment(name, "video"))
            found[key] = (fixed / unit, px / unit)
    if "cut+dissolve" in costs:
        share = {tag: frames / max(span, 1) for tag, span in measured["spans"].items()}
        fixed, px = fit(increment("cut+dissolve", "cut", share))
        found["transition"] = (fixed / unit, px / unit)
    found["encoders"] = {
        name[4:]: tuple(
            v / unit
            for v in fit(
                [
                    (pixels[t], c - layer_fixed - layer_px * pixels[t])
                    for t, c in costs[name].items()
                ]
            )
        )
        for name in costs
        if name.startswith("enc:")
    }
    slow_encode = base_px - layer_px
    fast_encode = found["encoders"].get(f"h264:{FAST}", (0.0, 0.0))[1] * unit
    effects = {}
    for name in (n[3:] for n in costs if n.startswith("fx:")):
        slow = fit(increment(f"fx:{name}", "video"))[1]
        if f"fxfast:{name}" not in costs or not fast_encode:
            effects[name] = (slow / unit, 0.0)
            continue
        quick = fit(increment(f"fxfast:{name}", f"enc:h264:{FAST}"))[1]
        # slow = own + part x slow_encode, quick = own + part x fast_encode. Either may be
        # negative: grain's own work is small beside what it costs the encoder, and a blur saves
        # the encoder more at a slow preset than at a fast one. The model floors the sum.
        part = (slow - quick) / (slow_encode - fast_encode)
        own = slow - part * slow_encode
        effects[name] = (own / unit, part)
    found["effects"] = effects
    return found


def show(result: dict[str, Any]) -> None:
    """The weights as a table."""
    w = result["weights"]
    print(f"unit: {1000 * w['seconds_per_unit']:.2f} ms CPU (a 1080p video layer's pixels)")
    for key in ("frame", "encode", "layer_fixed", "decode"):
        print(f"{key:24s} {w[key]:8.3f}")
    for key in ("pip", "image", "color", "opacity", "colorgrade", "title", "transition"):
        if key in w:
            print(f"{key:24s} fixed {w[key][0]:7.3f}  per canvas {w[key][1]:7.3f}")
    for name, (fixed, px) in sorted(w["encoders"].items()):
        print(f"enc {name:20s} fixed {fixed:7.3f}  per canvas {px:7.3f}")
    for name, (own, share) in sorted(w["effects"].items(), key=lambda kv: -kv[1][0]):
        print(f"fx {name:21s} own per layer {own:7.3f}  encoder share {share:+7.3f}")


def main(argv: list[str] | None = None) -> None:
    """Measure and print the weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="variants to measure (besides the bases)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.repeat < 1:
        parser.error("--frames and --repeat must be at least 1")
    names = variants("check", 1.0)
    unknown = [o for o in args.only or () if not any(name.startswith(o) for name in names)]
    if unknown:
        parser.error(f"--only {unknown[0]!r} names no variant (e.g. fx:blur, enc:h264, video+)")
    measured = measure(args.frames, args.repeat, set(args.only) if args.only else None)
    try:
        found = weights(measured)
    except ValueError as exc:
        emit({"measured": measured, "error": str(exc)}, True, show)  # keep what was measured
        raise SystemExit(f"error: {exc}") from None
    emit({"measured": measured, "weights": found}, args.json, show)


if __name__ == "__main__":
    main()
