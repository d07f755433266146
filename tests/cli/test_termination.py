"""SIGTERM and SIGHUP end a render even where their first raise is dropped."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import pytest

from cli.termination import Terminated, terminable


class _SignalledInFinalizer:
    """An object whose finalizer receives the signal: CPython drops what a finalizer raises."""

    def __init__(self, signum: int) -> None:
        self.signum = signum

    def __del__(self) -> None:
        os.kill(os.getpid(), self.signum)
        for _ in range(10_000):  # the handler runs between these bytecodes
            pass


@pytest.fixture
def dropped(monkeypatch: pytest.MonkeyPatch) -> list[BaseException | None]:
    """What CPython printed as "Exception ignored" (here collected instead)."""
    seen: list[BaseException | None] = []

    def hook(unraisable: Any) -> None:
        seen.append(unraisable.exc_value)

    monkeypatch.setattr(sys, "unraisablehook", hook)
    return seen


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_dropped_signal_is_raised_at_the_next_poll(
    dropped: list[BaseException | None], signum: int
) -> None:
    polls_after = 0
    with pytest.raises(Terminated) as raised, terminable() as termination:
        _SignalledInFinalizer(signum)  # collected at once: its signal's raise is dropped
        assert [type(each) for each in dropped] == [Terminated]
        for _ in range(1000):  # a render's frames, each polling
            termination.check()
            polls_after += 1
    assert raised.value.signum == signum and polls_after == 0


def test_a_dropped_signal_is_raised_when_the_block_ends(
    dropped: list[BaseException | None],
) -> None:
    with pytest.raises(Terminated) as raised, terminable():
        _SignalledInFinalizer(signal.SIGTERM)
    assert raised.value.signum == signal.SIGTERM and len(dropped) == 1


def test_a_second_signal_does_not_interrupt_the_cleanup() -> None:
    cleaned = False
    with pytest.raises(Terminated), terminable():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):
                pass
        finally:
            os.kill(os.getpid(), signal.SIGHUP)  # ignored: the first is being handled
            for _ in range(10_000):
                pass
            cleaned = True
    assert cleaned


def test_no_signal_no_raise_and_the_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with terminable() as termination:
        assert termination.check() is False
    assert signal.getsignal(signal.SIGTERM) is before
