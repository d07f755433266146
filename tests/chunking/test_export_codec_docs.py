"""The docs list the codecs, profiles and audio codecs the export takes, and which container
takes which: a table changed in code without its docs fails here."""

from __future__ import annotations

import re

from chunking.timeline.audio_export import AUDIO_ENCODERS, CONTAINER_AUDIO
from chunking.timeline.export import CONTAINER_CODECS
from chunking.timeline.profiles import PROFILES
from cli.export_options import CODECS
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
FORMAT = (ROOT / "docs" / "timeline-format.md").read_text(encoding="utf-8")
API = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_readme_usage_names_every_codec_and_audio_codec() -> None:
    usage = _flat(README)
    assert f"[--codec {'|'.join(CODECS)}]" in usage
    assert f"[--audio-codec {'|'.join(AUDIO_ENCODERS)}]" in usage
    for codec, profiles in PROFILES.items():
        assert f"--codec {codec}" in usage and "|".join(profiles) in usage, codec


def test_the_format_doc_says_which_container_takes_which_audio_codec() -> None:
    text = _flat(FORMAT)
    for container, codecs in CONTAINER_AUDIO.items():
        assert f"{container} takes {', '.join(codecs)}" in text, container


def test_the_format_doc_says_which_container_takes_prores_and_dnxhr() -> None:
    text = _flat(FORMAT)
    holders = {c for c, codecs in CONTAINER_CODECS.items() if "dnxhr" in codecs}
    assert holders == {"mov"} and "DNxHR is written to `.mov` only" in text
    assert "mkv takes h264, hevc, av1, vp9, ffv1 and prores" in text
    assert CONTAINER_CODECS["mkv"] == {"h264", "hevc", "av1", "vp9", "ffv1", "prores"}
    for codec, profiles in PROFILES.items():
        for name in profiles:
            assert f"`{name}`" in text, (codec, name)


def test_the_api_doc_names_the_settings() -> None:
    text = _flat(API)
    for name in ("`profile`", "`audio_codec`", "settings.profile", "settings.audio_codec"):
        assert name in text, name
