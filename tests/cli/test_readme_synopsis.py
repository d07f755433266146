"""README's command-line synopsis against the parser: a flag it shows that the command refuses
(or a flag a command takes that it never shows) sends a new user to the wrong place."""

from __future__ import annotations

import argparse
import re

from cli.main import _parser
from tests.helpers import ROOT

#: What the synopsis says every job command also takes (its note under `download`).
SHARED = {"--broker", "--storage", "--api"}


def _synopsis() -> dict[str, str]:
    """Each `cloudrender CMD ...` entry of README's synopsis block, continuation lines joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("```", 2)[1]
    entries: dict[str, str] = {}
    name = ""
    for line in block.splitlines():
        if line.startswith("cloudrender "):
            words = line.split()
            name = " ".join(words[1:3]) if "|" in words[2] or words[2].isalpha() else words[1]
            entries[name] = line
        elif name:
            entries[name] += " " + line
    return entries


def _children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands' parsers of `parser`, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _parsers(entry: str) -> list[argparse.ArgumentParser]:
    """The parsers an entry such as `prices show|refresh` stands for."""
    words = entry.split()
    top = _children(_parser())[words[0]]
    below = _children(top)
    if not below:
        return [top]
    names = words[1].split("|") if len(words) > 1 and words[1].split("|")[0] in below else []
    return [below[n] for n in names] or list(below.values())


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    """The long options a parser takes (not --help)."""
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--")} - {"--help"}


def test_every_flag_the_synopsis_shows_is_taken() -> None:
    """A flag in README's synopsis is one its command accepts."""
    wrong = []
    for name, line in _synopsis().items():
        shown = set(re.findall(r"--[a-z][a-z0-9-]*", line))
        taken = set().union(*(_flags(p) for p in _parsers(name)))
        wrong += [f"{name} {flag}" for flag in sorted(shown - taken)]
    assert wrong == []


def test_every_flag_a_command_takes_is_in_the_synopsis() -> None:
    """The synopsis shows every option of the commands it lists (by one of its spellings)."""
    missing = []
    for name, line in _synopsis().items():
        shown = set(re.findall(r"--?[a-z][a-z0-9-]*", line)) | SHARED
        for parser in _parsers(name):
            for action in parser._actions:
                spellings = set(action.option_strings) - {"-h", "--help"}
                if spellings and not spellings & shown:
                    missing.append(f"{parser.prog} {max(spellings, key=len)}")
    assert missing == []
