"""Names and numeric parameters of the audio effects the mixer implements, and their aliases.

``chunking.timeline.catalogue`` merges these into its tables, so the loader treats an audio effect
like any other; ``workers.audio_effects`` implements exactly ``AUDIO_EFFECTS``.
"""

from __future__ import annotations

from chunking.timeline.catalogue_params import Param

#: Canonical audio effect kinds.
AUDIO_EFFECTS: frozenset[str] = frozenset()

#: Each audio effect kind's numeric parameters.
AUDIO_EFFECT_PARAMS: dict[str, tuple[Param, ...]] = {}

#: Other spellings, after canonical() normalisation.
AUDIO_EFFECT_ALIASES: dict[str, str] = {}
