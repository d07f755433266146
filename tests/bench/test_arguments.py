"""The benchmark scripts' command lines: a bad option stops with one usage line and status 2,
never a traceback, before anything is generated or started."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench import api_load, autoscale, chaos, complexity_weights, estimate_accuracy, fuzz, spot_sim

Main = Callable[[list[str]], object]

BAD = [
    (spot_sim.main, ["--seeds", "one"], "--seeds"),
    (spot_sim.main, ["--seeds", "5-1"], "--seeds"),
    (spot_sim.main, ["--rates", "-5"], "--rates"),
    (spot_sim.main, ["--diversify", "ibm"], "--diversify"),
    (spot_sim.main, ["--diversify", "aws", "--spot-share", "0.3"], "--spot-share"),
    (spot_sim.main, ["--spread", "0"], "--spread"),
    (autoscale.main, ["--fixed", "x"], "--fixed"),
    (autoscale.main, ["--fixed", "0,4"], "--fixed"),
    (autoscale.main, ["--budget", "0"], "--budget"),
    (fuzz.main, ["5", "bogus"], "bogus"),
    (fuzz.main, ["0"], "examples"),
    (estimate_accuracy.main, ["--workers", "0"], "--workers"),
    (estimate_accuracy.main, ["--projects", "0"], "--projects"),
    (chaos.main, ["--seconds", "-1"], "--seconds"),
    (api_load.parse_args, ["--size", "10"], "--size"),
    (api_load.parse_args, ["--seconds", "-1"], "--seconds"),
    (api_load.parse_args, ["--rate", "0"], "--rate"),
    (complexity_weights.main, ["--only", "bogus"], "bogus"),
    (complexity_weights.main, ["--repeat", "0"], "--repeat"),
    (complexity_weights.main, ["--frames", "0"], "--frames"),
]


@pytest.mark.parametrize(
    ("main", "argv", "named"), BAD, ids=[f"{m.__module__}:{' '.join(a)}" for m, a, _ in BAD]
)
def test_a_bad_option_is_one_usage_line(
    main: Main, argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert "error:" in message and named in message


def test_the_documented_seed_range_is_accepted() -> None:
    assert spot_sim.parse_seeds("1-5") == [1, 2, 3, 4, 5]
    assert spot_sim.parse_seeds("1-3,7, 9") == [1, 2, 3, 7, 9]
    assert spot_sim.parse_seeds("4") == [4]
    for bad in ("5-1", "a", "1-b"):
        with pytest.raises(ValueError):
            spot_sim.parse_seeds(bad)


def test_good_api_load_options_parse() -> None:
    args = api_load.parse_args(["--seconds", "5", "--clients", "0", "--size", "320x180"])
    assert args.size == (320, 180) and args.clients == 0


def test_ctrl_c_stops_a_fuzz_run() -> None:
    # Every target catches BaseException to count what escapes; Ctrl-C must not be counted.
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        with pytest.raises(KeyboardInterrupt):
            fuzz._escaped("studio", exc, {})
    assert not fuzz.escaped
