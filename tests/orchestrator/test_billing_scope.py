"""A job is billed to a project and a user: the names are checked, stored on the job, and a
used-up budget refuses the job at submission (the hard stop) in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import RenderError
from orchestrator.api import CloudRenderingAPI
from orchestrator.budgets import BudgetExceeded, Scope, set_budget
from tests.helpers import colour_project


@pytest.fixture
def api(redis_url: str, tmp_path: Path) -> CloudRenderingAPI:
    return CloudRenderingAPI(redis_url, storage_url=(tmp_path / "storage").as_uri())


def submit(api: CloudRenderingAPI, tmp_path: Path, **scope: str) -> str:
    return api.submit_job(colour_project(1.0), output=str(tmp_path / "out.mp4"), **scope)


def test_the_job_carries_its_project_and_user(api: CloudRenderingAPI, tmp_path: Path) -> None:
    job = submit(api, tmp_path, project_name="film-2", user="ann@studio")
    record = api.get_job_status(job)
    assert (record.project, record.user) == ("film-2", "ann@studio")


@pytest.mark.parametrize(
    # "film\n" passed "$" (it matches before a final newline): a line break in the billing CSV,
    # and a project shown as "film" that is not film's
    "name",
    ["a b", "x" * 65, "-lead", "semi;colon", "new\nline", "film\n"],
)
def test_a_name_that_would_break_keys_or_exports_is_refused(
    api: CloudRenderingAPI, tmp_path: Path, name: str
) -> None:
    with pytest.raises(RenderError, match="project .* must be 1-64 letters") as caught:
        submit(api, tmp_path, project_name=name)
    assert "\n" not in str(caught.value).replace(repr(name), "")


def test_a_used_up_budget_refuses_the_job(api: CloudRenderingAPI, tmp_path: Path) -> None:
    set_budget(api.store.redis, Scope.PROJECT, "film", daily=0.0)
    with pytest.raises(BudgetExceeded, match="film") as caught:
        submit(api, tmp_path, project_name="film")
    assert "\n" not in str(caught.value)
    assert api.store.active() == []  # nothing queued
    submit(api, tmp_path, project_name="other")  # another project is not held back


def test_a_job_exported_with_hardware_acceleration_is_marked_for_gpu_nodes(
    api: CloudRenderingAPI, tmp_path: Path
) -> None:
    plain = api.submit_job(colour_project(1.0), output=str(tmp_path / "a.mp4"))
    hardware = api.submit_job(
        colour_project(1.0), {"hardware_acceleration": True}, output=str(tmp_path / "b.mp4")
    )
    assert not api.get_job_status(plain).gpu
    assert api.get_job_status(hardware).gpu
