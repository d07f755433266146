"""submit_job's checks: a past deadline is refused, a future one kept; a cost over max_cost
named in readable money."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from common.errors import RenderError
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_results import CostLimitExceeded
from orchestrator.scheduling import future_deadline
from tests.helpers import colour_project


@pytest.fixture
def api(redis_url: str, tmp_path: Path) -> CloudRenderingAPI:
    return CloudRenderingAPI(redis_url, storage_url=(tmp_path / "storage").as_uri())


@pytest.mark.parametrize(
    ("when", "now", "refused"),
    [(None, 100.0, False), (101.0, 100.0, False), (100.0, 100.0, True), (5.0, 100.0, True)],
)
def test_only_a_time_after_now_is_a_deadline(when: float | None, now: float, refused: bool) -> None:
    if refused:
        with pytest.raises(RenderError, match="has passed .* give a future time"):
            future_deadline(when, "x", now)
    else:
        assert future_deadline(when, "x", now) == when


@pytest.mark.parametrize(
    "deadline",
    [time.time() - 60, (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()],
)
def test_a_past_deadline_is_refused_and_nothing_is_queued(
    api: CloudRenderingAPI, tmp_path: Path, deadline: float | str
) -> None:
    with pytest.raises(RenderError, match="has passed") as caught:
        api.submit_job(colour_project(1.0), output=str(tmp_path / "o.mp4"), deadline=deadline)
    assert "\n" not in str(caught.value)
    assert api.store.active() == []


def test_a_future_deadline_is_kept_on_the_job(api: CloudRenderingAPI, tmp_path: Path) -> None:
    when = time.time() + 3600
    job = api.submit_job(colour_project(1.0), output=str(tmp_path / "o.mp4"), deadline=when)
    assert api.get_job_status(job).deadline == pytest.approx(when)


def test_a_cost_over_a_zero_ceiling_is_named_to_the_millionth(
    api: CloudRenderingAPI, tmp_path: Path
) -> None:
    with pytest.raises(CostLimitExceeded) as caught:
        api.submit_job(colour_project(1.0), output=str(tmp_path / "o.mp4"), max_cost=0.0)
    text = str(caught.value)
    assert text.startswith("estimated cost $0.0000") and "above the limit $0.00 " in text
    assert not text.startswith("estimated cost $0.0000 ")  # six places: not zero


def test_a_deadline_from_now_is_taken_as_the_cli_and_the_estimate_take_it(
    api: CloudRenderingAPI, tmp_path: Path
) -> None:
    """submit_job(deadline="+2h") was refused as "not an ISO 8601 time", though estimate_cost
    takes it and the past-deadline message tells the user to write it."""
    before = time.time()
    job = api.submit_job(colour_project(1.0), output=str(tmp_path / "o.mp4"), deadline="+2h")
    got = api.get_job_status(job).deadline
    assert got is not None and before + 7200 <= got <= time.time() + 7200
