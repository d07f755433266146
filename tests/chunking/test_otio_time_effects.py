"""Avid effects as the AAF adapter reads them (chunking.timeline.otio_media.item_effects): a
time effect OpenTimelineIO has no schema for, and an operation that changes nothing.

Avid Media Composer's Timewarp (a keyframed speed ramp, its ``Motion Control`` operation) reads
through the AAF adapter as a plain ``TimeEffect`` named "Motion Control" of effect name
"Unknown Time Warp Effect": the clip ``zts02_1060`` of ``tests/sample_data/
keyframed_properties.aaf`` in https://github.com/OpenTimelineIO/otio-aaf-adapter at commit
6292a38006629338090918cddb517f332545423a (Apache-2.0, Copyright Contributors to the
OpenTimelineIO project; tests/data/nle/LICENSE-otio-aaf-adapter). Its clip, range and effect
are rebuilt below as the adapter reads them (the file is 1.3 MB). One such clip refused the
whole timeline ("time effect 'Motion Control' is not supported").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import opentimelineio as otio

from chunking.timeline.loader import load

RT = otio.opentime.RationalTime


def ramp() -> Any:
    """The adapter's reading of Avid's Timewarp (its metadata cut to what says what it is)."""
    return otio.schema.TimeEffect(
        name="Motion Control",
        effect_name="Unknown Time Warp Effect",
        metadata={
            "AAF": {
                "Operation": {"Name": "Motion Control", "IsTimeWarp": True},
                "Parameters": {
                    "PARAM_SPEED_MAP_U": {
                        "keyframe_interpolation": "Cubic",
                        "keyframe_values": [[0.0, 0.0], [275.0, 1.0]],
                    }
                },
            }
        },
    )


def written(tmp_path: Path) -> str:
    """The ramped clip between two plain ones, as the sample's track holds them (24 fps)."""
    (tmp_path / "zts02.mxf").write_bytes(b"")

    def shot(name: str, frames: int, effects: list[Any]) -> Any:
        return otio.schema.Clip(
            name=name,
            media_reference=otio.schema.ExternalReference(
                target_url="zts02.mxf",
                available_range=otio.opentime.TimeRange(RT(1, 24), RT(5000, 24)),
            ),
            source_range=otio.opentime.TimeRange(RT(1001, 24), RT(frames, 24)),
            effects=effects,
        )

    track = otio.schema.Track(
        children=[shot("zts02_1050", 131, []), shot("zts02_1060", 276, [ramp()]),
                  shot("zts02_1070", 182, [])]
    )  # fmt: skip
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=[track]), str(path))
    return str(path)


def test_a_speed_ramp_plays_at_its_own_speed_with_a_warning(tmp_path: Path) -> None:
    timeline = load(written(tmp_path))
    (track,) = timeline.tracks
    spans = {c.id: (c.start, c.end, c.speed) for c in track.clips}
    assert spans == {
        "zts02_1050": (0, 131, 1.0),
        "zts02_1060": (131, 407, 1.0),  # its record length, from its in point
        "zts02_1070": (407, 589, 1.0),
    }
    (warning,) = [w for w in timeline.warnings if "Motion Control" in w]
    assert "zts02_1060" in warning and "normal speed" in warning


def test_avids_submaster_is_a_pass_through_not_an_unknown_effect(tmp_path: Path) -> None:
    """Avid's Submaster (operation f1db0f3d-8d64-11d3-80df-006008143e6f) on a nested track, as
    the AAF adapter reads it from that repository's ``nesting_test.aaf``: an effect with no
    look of its own (it gathers the tracks under it so an effect can be applied to them all).
    Each clip under it warned "effect type 'Submaster' is not an effect this renderer knows"."""
    (tmp_path / "a.mov").write_bytes(b"")
    submaster = otio.schema.Effect(
        name="Submaster",
        effect_name="",
        metadata={
            "AAF": {
                "Operation": {
                    "Name": "Submaster",
                    "Identification": "f1db0f3d-8d64-11d3-80df-006008143e6f",
                    "IsTimeWarp": False,
                },
                "Parameters": {"AvidBorderSoft": 0, "AvidBorderWidth": 0},
            }
        },
    )
    shot = otio.schema.Clip(
        name="Frame Debugger 0h.mov",
        media_reference=otio.schema.ExternalReference(target_url="a.mov"),
        source_range=otio.opentime.TimeRange(RT(0, 24), RT(24, 24)),
    )
    nested = otio.schema.Track(name="Sequence", children=[shot])
    nested.effects.append(submaster)  # the constructor takes no effects
    outer = otio.schema.Track(children=[otio.schema.Stack(children=[nested])])
    path = tmp_path / "nested.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=[outer]), str(path))
    timeline = load(str(path))
    (clip,) = [c for t in timeline.tracks for c in t.clips]
    assert clip.effects == ()
    assert not [w for w in timeline.warnings if "Submaster" in w]
