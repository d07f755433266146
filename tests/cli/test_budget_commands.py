"""`cloudrender budget set|show|clear` and `cloudrender billing export`, run in-process on the
test Redis through the parsers the command line registers (add_budget_parsers)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from cli.budget_commands import add_budget_parsers
from common.errors import RenderError
from orchestrator.budgets import record_spend


def run(*argv: str) -> int:
    """Parse `argv` as the command line does and run its handler."""
    parser = argparse.ArgumentParser(prog="cloudrender")
    add_budget_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def broker(redis_url: str) -> str:
    return redis_url


def test_set_show_and_clear_a_budget(broker: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("budget", "set", "--project", "film", "--daily", "5", "--broker", broker) == 0
    assert run("budget", "set", "--project", "film", "--monthly", "100", "--broker", broker) == 0
    assert (
        capsys.readouterr().out.splitlines()[-1] == "project 'film': daily $5.00, monthly $100.00"
    )
    with redis.Redis.from_url(broker, decode_responses=True) as client:
        record_spend(client, "film", "ann", 4.5, time.time())
    run("budget", "show", "--broker", broker)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("project 'film' daily (")
    assert lines[0].endswith("$4.50 of $5.00 (90 %)  [warning]")
    assert lines[1].endswith("$4.50 of $100.00 (4 %)")
    run("budget", "show", "--json", "--broker", broker)
    shown = json.loads(capsys.readouterr().out)
    assert [(s["period"], s["spent"], s["limit"], s["level"]) for s in shown] == [
        ("daily", 4.5, 5.0, "warning"),
        ("monthly", 4.5, 100.0, None),
    ]
    run("budget", "clear", "--project", "film", "--daily", "--broker", broker)
    assert capsys.readouterr().out.strip() == "project 'film': daily unlimited, monthly $100.00"
    run("budget", "clear", "--project", "film", "--broker", broker)
    assert capsys.readouterr().out.strip() == "project 'film': no budget"
    run("budget", "show", "--broker", broker)
    assert capsys.readouterr().out.startswith("no budgets set")


def test_show_json_writes_small_spends_in_fixed_point(
    broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`budget show --json` as `billing export --format json`: 0.000068, not 6.8e-05."""
    run("budget", "set", "--project", "film", "--daily", "5", "--broker", broker)
    with redis.Redis.from_url(broker, decode_responses=True) as client:
        record_spend(client, "film", "ann", 0.000068, time.time())
    capsys.readouterr()
    run("budget", "show", "--json", "--broker", broker)
    text = capsys.readouterr().out
    assert '"spent": 0.000068' in text and "e-" not in text
    assert json.loads(text)[0]["spent"] == pytest.approx(0.000068)


def test_show_one_project_or_user(broker: str, capsys: pytest.CaptureFixture[str]) -> None:
    """README's synopsis: `budget show --project P` (it was refused as an unknown option)."""
    run("budget", "set", "--project", "film", "--daily", "5", "--broker", broker)
    run("budget", "set", "--user", "ann", "--monthly", "50", "--broker", broker)
    capsys.readouterr()
    run("budget", "show", "--project", "film", "--broker", broker)
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("project 'film' daily (")
    run("budget", "show", "--user", "ann", "--json", "--broker", broker)
    assert [s["period"] for s in json.loads(capsys.readouterr().out)] == ["monthly"]
    run("budget", "show", "--project", "ads", "--broker", broker)
    assert capsys.readouterr().out.strip() == "project 'ads': no budget"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--project", "film", "--daily", "-5"], "--daily '-5': give a number of dollars of 0"),
        (["--user", "ann", "--monthly", "lots"], "--monthly 'lots': give a number of dollars"),
        (["--daily", "5"], "name whose budget: --project NAME or --user NAME"),
        (["--project", "film"], "give a limit: --daily USD and/or --monthly USD"),
        (["--project", " ", "--daily", "5"], "--project needs a name"),
    ],
)
def test_mistakes_are_one_line_errors(broker: str, argv: list[str], message: str) -> None:
    with pytest.raises(RenderError) as error:
        run("budget", "set", *argv, "--broker", broker)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    with redis.Redis.from_url(broker, decode_responses=True) as client:
        assert client.hgetall("cr:budgets") == {}  # nothing was set


def test_no_broker_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDRENDER_BROKER_URL", raising=False)
    with pytest.raises(RenderError, match="no broker: pass --broker URL"):
        run("budget", "show")


@pytest.fixture
def reader(broker: str) -> Iterator[str]:
    """The URL of a Redis user that may only read our keys (a client, in a deployment)."""
    name, password = f"reader-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    parts = urlsplit(broker)
    with redis.Redis.from_url(broker) as admin:
        admin.acl_setuser(
            name,
            enabled=True,
            passwords=[f"+{password}"],
            keys=["cr:*"],
            commands=["+@connection", "+@read"],
        )
        try:
            yield f"redis://{name}:{password}@{parts.hostname}:{parts.port}/0"
        finally:
            admin.acl_deluser(name)


def test_a_client_user_may_read_budgets_but_not_set_them(reader: str) -> None:
    with pytest.raises(RenderError, match="may not set budgets: operators do"):
        run("budget", "set", "--user", "ann", "--daily", "1", "--broker", reader)
    assert run("budget", "show", "--broker", reader) == 0


def test_billing_export_as_csv_to_a_file_and_json_to_stdout(
    broker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    with redis.Redis.from_url(broker, decode_responses=True) as client:
        record_spend(client, "film", "ann", 1.25, now)
        record_spend(client, "ads", "bob", 0.5, now)
    out = tmp_path / "billing.csv"
    assert run("billing", "export", "--by", "project", "-o", str(out), "--broker", broker) == 0
    assert capsys.readouterr().out.strip() == f"wrote 2 rows (project, csv) to {out}"
    assert out.read_text().splitlines()[0] == "project,cost,days"
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["project"], float(r["cost"])) for r in table] == [("film", 1.25), ("ads", 0.5)]
    run("billing", "export", "--format", "json", "--since", today, "--broker", broker)
    assert json.loads(capsys.readouterr().out) == [{"day": today, "cost": 1.75}]
    with pytest.raises(RenderError, match="--since: '2026-02-30' is not a day"):
        run("billing", "export", "--since", "2026-02-30", "--broker", broker)
    # A missing directory is refused by name, as `render -o` refuses it, and not created
    missing = tmp_path / "missing"
    with pytest.raises(RenderError, match=f"^output directory does not exist: {missing}$"):
        run("billing", "export", "-o", str(missing / "x.csv"), "--broker", broker)
    assert not missing.exists()
    # An export over an earlier one replaces it whole, leaving no temp file beside it
    assert run("billing", "export", "--by", "day", "-o", str(out), "--broker", broker) == 0
    assert out.read_text().splitlines()[0] == "day,cost"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["billing.csv"]


def test_a_budget_below_a_cent_is_shown(broker: str, capsys: pytest.CaptureFixture[str]) -> None:
    run("budget", "set", "--project", "film", "--daily", "0.00012", "--broker", broker)
    assert capsys.readouterr().out.strip() == "project 'film': daily $0.000120, monthly unlimited"
    with redis.Redis.from_url(broker, decode_responses=True) as client:
        record_spend(client, "film", "ann", 0.000232, time.time())
    run("budget", "show", "--broker", broker)
    assert "$0.000232 of $0.000120 (193 %)  [exceeded]" in capsys.readouterr().out
