"""bench/hdr_steps.py: times the HDR frame conversion with the C kernel and with NumPy, against
an SDR frame, and refuses sizes swscale's 4:2:0 frames cannot have."""

from __future__ import annotations

import pytest

from bench import hdr_steps


def test_a_small_run_times_every_step_both_ways() -> None:
    result = hdr_steps.measure(64, 36, 1)
    names = {
        f"{t}_{s} {p}"
        for t in ("pq", "hlg")
        for s in ("colour", "frame")
        for p in ("kernel", "numpy")
    }
    assert set(result["ms"]) == names | {"sdr_frame"}
    assert set(result["times_sdr_frame"]) == names
    assert all(ms >= 0 for ms in result["ms"].values())


@pytest.mark.parametrize("argv", [["--size", "65x36"], ["--size", "big"], ["--calls", "0"]])
def test_a_bad_option_is_one_usage_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        hdr_steps.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("usage:") or "error:" in err[-1]
