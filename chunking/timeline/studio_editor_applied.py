"""Effects and filters the editor applied to a track or clip (AppliedEffect, AppliedFilter) as
ids of ProjectSchema ``effects[]``/``filters[]`` entries.

The editor's conversion (convertEffects, convertFilters in timeline-to-project.ts) sends only
each application's ``effectId``/``filterId`` and the definition it names; here an application's
own values and time window are kept too, and one whose definition the document lost (a ``.tlsp``
writes a sequence's resource Maps as ``{}``) is rebuilt from what the application itself carries
where that is enough: a catalogue effect id, or a filter's ``customParams`` (the editor's
createAppliedFilter writes the filter's whole parameter set there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, to_float
from chunking.timeline.schema import entries
from chunking.timeline.studio_editor_entries import (
    CATALOGUE_PARAMS,
    EFFECT_TYPES,
    applied_params,
    effect_entry,
    filter_entry,
    filter_type,
    param_values,
    switched_off,
)
from chunking.timeline.studio_editor_library import Library, as_map, text
from chunking.timeline.studio_effect_panel import fit_to_panel

#: (first second, end second or None) of the clip an application belongs to; a track's
#: applications have no end.
Window = tuple[float, float | None]


class Applications:
    """Turns a track's or clip's applied effects and filters into entries of ``effects`` and
    ``filters`` (the converted document's tables, filled in place)."""

    def __init__(
        self,
        library: Library,
        problems: Problems,
        effects: dict[str, dict[str, Any]],
        filters: dict[str, dict[str, Any]],
    ) -> None:
        self.lib = library
        self.p = problems
        self.tables = {"effect": effects, "filter": filters}

    def ids(
        self, raw: Any, group: str, owner: str, where: str, window: Window = (0.0, None)
    ) -> list[str]:
        """AppliedEffect/AppliedFilter entries (``group`` "effect" or "filter") as ids of
        ``effects[]``/``filters[]`` entries.

        The editor sends only ``effectId``; an application that is switched off is left out,
        and one with its own parameters (``customParams``, ``parameters``) or time window
        (``startTime`` and ``duration``, relative to the clip) gets an entry of its own.
        """
        ids: list[str] = []
        for i, item in enumerate(in_chain_order(entries(raw))):
            applied = as_map(item) if isinstance(item, Mapping) else {f"{group}Id": item}
            if switched_off(applied):
                continue
            ref = applied.get(f"{group}Id")
            if not isinstance(ref, str) or not ref:
                self.p.error(where, f"{group} #{i} has no {group}Id")
                continue
            custom = applied_params(applied)
            definition = self._lookup(group, ref, applied, custom, f"{where} {group} {ref!r}")
            if definition is None:
                if group == "effect":
                    ids.append(ref)  # the loader names the clip and the id it cannot find
                continue
            start = to_float(applied.get("startTime"))
            length = to_float(applied.get("duration"))
            if length is not None and not length > 0:
                self.p.warn(where, f"{group} {ref!r} lasts {length:g} s; not applied")
                continue
            if start is not None and window[1] is not None and window[0] + start >= window[1]:
                self.p.warn(where, f"{group} {ref!r} starts after the clip's end; never shown")
                continue
            entry = self._definition(group, ref, definition, custom, f"{where} {group} {ref!r}")
            mix = self._extras(applied, f"{where} {group} {ref!r}")
            if mix is not None:
                entry["intensity"] = mix
            table = self.tables[group]
            if not custom and start is None and length is None and mix is None:
                table.setdefault(ref, entry)
                ids.append(ref)
                continue
            own = f"{ref}@{owner}#{i}"
            entry["id"] = own
            if start is not None or length is not None:
                entry["start_time"] = window[0] + (start or 0.0)
                end = entry["start_time"] + length if length is not None else window[1]
                if end is not None:
                    entry["end_time"] = end
            table[own] = entry
            ids.append(own)
        return ids

    def _lookup(
        self,
        group: str,
        ref: str,
        applied: Mapping[str, Any],
        custom: Mapping[str, Any],
        where: str,
    ) -> Mapping[str, Any] | None:
        """The definition an application names; when the document lacks it, one rebuilt from
        what the application carries, else None (a filter's then warned about)."""
        table = self.lib.effects if group == "effect" else self.lib.filters
        definition = self.lib.lookup(table, ref)
        if definition is not None:
            return definition
        if group == "effect":
            kind = ref if ref in EFFECT_TYPES else text(applied.get("type"))
            if kind in EFFECT_TYPES and (ref in EFFECT_TYPES or custom):
                # As the editor's catalogue defines it, at its own strength, under the
                # application's values.
                return {"id": ref, "type": kind, "name": ref,
                        "params": dict(CATALOGUE_PARAMS.get(kind, {}))}  # fmt: skip
            return None
        if filter_type(custom) != "custom":
            # The editor's createAppliedFilter copies the filter's parameters into customParams.
            return {"id": ref, "name": ref}
        why = "names no value a filter type is known by" if custom else "carries no values"
        self.p.warn(where, f"is not in the document's resources and its application {why}; "
                    "not rendered")  # fmt: skip
        return None

    def _extras(self, applied: Mapping[str, Any], where: str) -> float | None:
        """An AppliedEffect's ``opacity`` below 1 (how much of it is mixed in), or None; its
        masks, keyframes and blend mode are not rendered, and said so."""
        if isinstance(applied.get("masks"), list) and applied["masks"]:
            self.p.warn(where, "masks are not rendered; it applies to the whole frame")
        if isinstance(applied.get("keyframes"), list | Mapping) and applied["keyframes"]:
            self.p.warn(where, "keyframes are not rendered; its fixed parameters are")
        blend = applied.get("blendMode")
        if isinstance(blend, str) and blend.lower() not in ("", "normal"):
            self.p.warn(where, f"blend mode {blend!r} is not rendered; it is applied normally")
        opacity = to_float(applied.get("opacity"))
        if opacity is None or not 0 <= opacity < 1:
            return None
        return opacity

    def _definition(
        self, group: str, ref: str, raw: Mapping[str, Any], custom: Mapping[str, Any], where: str
    ) -> dict[str, Any]:
        params = {
            **param_values(raw.get("params")),
            **param_values(raw.get("parameters")),
            **custom,
        }
        name = raw.get("name") if isinstance(raw.get("name"), str) else ref
        if group == "effect":
            entry = effect_entry(ref, text(raw.get("type")) or ref, name, params)
            return fit_to_panel(entry, self.p, where)
        return filter_entry(ref, name, params)


def in_chain_order(items: list[Any]) -> list[Any]:
    """Applications in their ``order`` (the editor's applyEffectToClip appends one put at the
    start of the chain with order 0; updateEffectOnClip changes an order in place), ties in
    list order; the list order itself when any lacks a numeric order."""
    orders = [to_float(as_map(item).get("order")) for item in items]
    if not all(o is not None and math.isfinite(o) for o in orders):
        return items
    ranked = sorted(zip(orders, range(len(items)), strict=True))
    return [items[n] for _, n in ranked]
