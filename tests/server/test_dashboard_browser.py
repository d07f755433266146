"""The web dashboard in a real browser (Debian's chromium driven by Playwright) against a real
uvicorn in front of a real cluster: an operator logs in, watches a job's progress bar reach
100 %, cancels a second job, scales a pool and pulls the emergency stop, each through the
page's own confirmation dialog; a user key is refused. Screenshots of every state go to
test-artifacts/dashboard/. The routes' own answers (page, files, 401/403, SSE, the access log)
are checked first, without a browser.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import redis
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import JobState
from server import routes_dashboard
from server.app import create_app
from server.routes_dashboard import DashboardFeed, RedactKey, snapshot_events
from tests.helpers import ROOT, slow_project
from tests.server.conftest import ServerCluster, bearer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
POOLS = """
[pools.sim]
provider = "memory"
max_nodes = 4
price_per_hour = 0.5
"""


@pytest.fixture
def api_app(server_cluster: ServerCluster, tmp_path: Path) -> Iterator[FastAPI]:
    """The service over the module's cluster, with a pools file (one simulated pool)."""
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)
    settings = dataclasses.replace(server_cluster.settings, pools_file=str(pools))
    app = create_app(settings, api=CloudRenderingAPI(settings=settings))
    yield app
    feed = getattr(app.state, "dashboard_feed", None)
    if feed is not None:
        feed.stop()  # the live server runs without a lifespan: nothing else stops it


@pytest.fixture
def api(api_app: FastAPI) -> Iterator[CloudRenderingAPI]:
    """The service's own Python API; leaves the cluster unpaused with no job running."""
    client: CloudRenderingAPI = api_app.state.api
    yield client
    client.cancel_all()
    client.resume_all()


# -- the routes, without a browser --------------------------------------------------------------


def test_page_and_files_are_public_and_hold_no_data(live_server: str) -> None:
    page = httpx.get(live_server + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="login-form"' in page.text and "cr_" in page.text
    # Nothing comes from elsewhere: the page's policy allows its own origin only.
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http://www.w3.org", "")
    for name in ("draw.js", "dashboard.js"):
        script = httpx.get(live_server + "/dashboard/" + name)
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert httpx.get(live_server + "/dashboard/dashboard.css").status_code == 200
    for path in ("/", "/dashboard/draw.js"):  # uptime probes ask with HEAD: it was 405
        head = httpx.head(live_server + path)
        assert head.status_code == 200 and head.content == b"", path
    missing = httpx.get(live_server + "/dashboard/app.py")
    assert missing.status_code == 404 and "app.py" in missing.json()["error"]
    assert httpx.get(live_server + "/dashboard/..%2Fweb_dashboard.py").status_code == 404


def test_data_needs_an_operator_key(live_server: str, user_key: str) -> None:
    url = live_server + "/v1/dashboard/snapshot"
    assert httpx.get(url).status_code == 401
    refused = httpx.get(url, headers=bearer(user_key))
    assert refused.status_code == 403 and "operator" in refused.json()["error"]
    events = httpx.get(live_server + "/v1/dashboard/events", params={"key": user_key})
    assert events.status_code == 403 and "operator" in events.json()["error"]
    assert httpx.get(live_server + "/v1/dashboard/events").status_code == 401


def test_events_stream_snapshots_to_an_operator(live_server: str, operator_key: str) -> None:
    url = live_server + "/v1/dashboard/events"
    started = time.monotonic()
    snapshots: list[dict[str, Any]] = []
    with httpx.stream("GET", url, params={"key": operator_key}, timeout=30) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "snapshot":
                snapshots.append(json.loads(line.removeprefix("data: ")))
                if len(snapshots) == 3:
                    break
    assert time.monotonic() - started < 20
    assert snapshots[0]["cluster"]["nodes"] == 1 and snapshots[0]["pools"][0]["name"] == "sim"
    assert snapshots[0]["time"] < snapshots[1]["time"] < snapshots[2]["time"]
    assert len(snapshots[2]["throughput"]["points"]) == 60


KEY = "cr_0123456789ab_" + "s" * 43


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("?key=cr_abc_secret&x=1", "key=[redacted]&x=1"),
        (f"?x=1&k%65y={KEY}", "k%65y=[redacted]"),  # the name percent-encoded
        (f"?%6B%65%79={KEY}", "%6B%65%79=[redacted]"),
        (f"?KEY={KEY}", "KEY=[redacted]"),
        (f"?token={KEY}", "token=[redacted]"),  # a key under any name
    ],
)
def test_the_access_log_never_shows_the_key(query: str, shown: str) -> None:
    # uvicorn's access log: '%s - "%s %s HTTP/%s" %d' with the path and query as one argument
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/v1/dashboard/events{query}", "1.1", 200),
        None,
    )
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactKey) for f in access.filters)  # installed on import
    assert RedactKey().filter(record)
    line = record.getMessage()
    assert "secret" not in line and "sss" not in line and shown in line


class _RedisAway:
    """A CloudRenderingAPI whose Redis does not answer."""

    def __init__(self) -> None:
        self.store = self
        self.redis = self

    def scan_iter(self, **_: Any) -> Any:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    get_node_metrics = get_cluster_status = scan_iter


def test_the_feed_says_when_the_cluster_cannot_be_read() -> None:
    feed = DashboardFeed(cast(CloudRenderingAPI, _RedisAway()), interval=0.05)

    async def first_events() -> list[str]:
        stream = snapshot_events(feed)
        try:
            return [await anext(stream), await anext(stream)]
        finally:
            await stream.aclose()

    try:
        retry, event = asyncio.run(asyncio.wait_for(first_events(), 20))
    finally:
        feed.stop()
    assert retry.startswith("retry:")
    assert event.startswith("event: problem\n")
    error = json.loads(event.split("data: ", 1)[1])["error"]
    assert (
        error
        == "the cluster cannot be read: Error 111 connecting to 127.0.0.1:1. Connection refused."
    )
    assert feed.watchers == 0


# -- in the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for the module (Debian's; Playwright's own download is not
    reachable here)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (scripts/test.sh installs chromium with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh tab (its own sessionStorage), closed before the server stops (its event stream
    would hold the server's shutdown)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"the page's script failed: {errors}"


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of this state as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def submit(api: CloudRenderingAPI, tmp: Path, name: str, seconds: float, **options: Any) -> str:
    """A job whose frames take a while (blurred video), in chunks of 36 frames."""
    folder = tmp / name
    folder.mkdir()
    return api.submit_job(
        slow_project(folder, seconds),
        output=str(folder / "out.mp4"),
        chunk_frames=36,
        base_dir=str(folder),
        project_name=name,
        user="alice",
        **options,
    )


def log_in(page: Page, base: str, key: str) -> None:
    page.goto(base + "/")
    page.fill("#api-key", key)
    page.click("#login-button")


def confirm(page: Page, expected: str) -> None:
    """Answer the page's own confirmation dialog with its OK button."""
    dialog = page.locator("#confirm")
    dialog.wait_for(state="visible")
    assert expected in page.locator("#confirm-message").inner_text()
    page.click("#confirm-ok")
    dialog.wait_for(state="hidden")


def status(page: Page, text: str) -> None:
    """Wait for the status line to tell an action's outcome."""
    page.locator("#status-line").filter(has_text=text).wait_for()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_operator_watches_cancels_scales_and_stops(
    page: Page, live_server: str, operator_key: str, api: CloudRenderingAPI, tmp_path: Path
) -> None:
    log_in(page, live_server, operator_key)
    page.locator("#app").wait_for(state="visible")
    page.locator("#connection[data-state=live]").wait_for()
    assert page.locator("#login").is_hidden()
    page.locator("#nodes-table tbody tr").first.wait_for()
    shot(page, "1-logged-in")

    # Two jobs; the second, at low priority, waits for the first's chunks.
    first = submit(api, tmp_path, "first", 6.0)
    second = submit(api, tmp_path, "second", 10.0, priority="low")
    row = page.locator(f'#jobs-table tr[data-job-id="{first}"]')
    row.wait_for()

    seen: list[float] = []

    def finished() -> bool:
        found = page.locator(f'tr[data-job-id="{first}"]').first
        if not found.count():
            return False
        # One read of both attributes: two reads could straddle a redraw and pair an
        # older progress with the newer 'completed'.
        state, shown = found.evaluate("row => [row.dataset.state, row.dataset.progress]")
        progress = float(shown or 0)
        if not seen or progress != seen[-1]:
            seen.append(progress)
            if 0.3 < progress < 0.7 and not (ARTIFACTS / "2-progress.png").exists():
                shot(page, "2-progress")
        return bool(state == "completed")

    wait_until(finished, "the first job to complete on the page", 120)
    done = page.locator(f'#recent-table tr[data-job-id="{first}"]')
    assert done.locator(".progress-value").inner_text() == "100.0 %"
    assert any(0 < p < 1 for p in seen), f"the bar jumped straight to the end: {seen}"
    assert seen == sorted(seen) and seen[-1] == 1.0, f"progress seen: {seen}"
    shot(page, "3-completed")

    # Cancel the second job: answering "Cancel" in the dialog leaves it alone.
    button = page.locator(f'#jobs-table tr[data-job-id="{second}"] button.cancel-job')
    button.click()
    page.locator("#confirm").wait_for(state="visible")
    page.click("#confirm-cancel")
    assert not api.get_job_status(second).state.finished, "cancelled without the confirmation"
    button.click()
    shot(page, "4-confirm-cancel")
    confirm(page, f"Cancel job {second[:8]}")
    page.locator(f'#recent-table tr[data-job-id="{second}"][data-state="cancelled"]').wait_for()
    assert api.get_job_status(second).state is JobState.CANCELLED
    # (the live feed may show the new state before the POST's answer reaches the page)
    status(page, f"Job {second[:8]} is cancelled")
    shot(page, "5-cancelled")

    # Scale the pool: above its maximum the API's refusal shows in the banner; within, it holds.
    nodes = page.locator('input.pool-nodes[data-pool="sim"]')
    nodes.fill("9")
    page.click('button.scale-pool[data-pool="sim"]')
    confirm(page, "hold pool sim at 9 nodes")
    banner = page.locator("#error-banner")
    banner.wait_for(state="visible")
    assert "above its max_nodes" in page.locator("#error-text").inner_text()
    shot(page, "6-scale-refused")
    nodes.fill("2")
    page.click('button.scale-pool[data-pool="sim"]')
    confirm(page, "hold pool sim at 2 nodes")
    page.locator('tr[data-pool="sim"] td.held').filter(has_text="2 until").wait_for()
    status(page, "Pool sim is held at 2 nodes")
    assert banner.is_hidden()
    assert api.get_pools()[0].override == 2
    shot(page, "7-scaled")

    # The emergency stop cancels what runs and pauses dispatching.
    third = submit(api, tmp_path, "third", 10.0)
    page.locator(f'#jobs-table tr[data-job-id="{third}"]').wait_for()
    page.click("#emergency-stop")
    confirm(page, "cancel ALL 1 active jobs")
    page.locator("#paused-banner").wait_for(state="visible")
    page.locator(f'#recent-table tr[data-job-id="{third}"][data-state="cancelled"]').wait_for()
    status(page, "Emergency stop: cancelled 1 jobs; dispatching paused.")
    assert api.get_job_status(third).state is JobState.CANCELLED and api.paused()
    assert page.locator("#pause-toggle").inner_text() == "Resume"
    shot(page, "8-emergency-stop")

    page.click("#pause-toggle")
    confirm(page, "Resume")
    page.locator("#paused-banner").wait_for(state="hidden")
    assert not api.paused()


def test_a_user_key_is_refused_the_dashboard(page: Page, live_server: str, user_key: str) -> None:
    log_in(page, live_server, user_key)
    error = page.locator("#login-error")
    error.wait_for(state="visible")
    assert "needs an operator key" in error.inner_text()
    assert page.locator("#app").is_hidden() and page.locator("#login").is_visible()
    # The refused key is not kept: a reload asks again.
    assert page.evaluate("sessionStorage.getItem('cloudrender.apiKey')") is None
    shot(page, "9-user-refused")


def test_a_viewers_stream_ends_once_its_key_is_revoked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes_dashboard, "RECHECK", 0.05)
    feed = DashboardFeed(cast(CloudRenderingAPI, _RedisAway()), interval=0.05)
    live = [True]

    async def events() -> list[str]:
        got: list[str] = []
        async for event in snapshot_events(feed, lambda: live[0]):
            got.append(event)
            if len(got) == 2:
                live[0] = False  # revoked while the stream is open
        return got

    seen: list[str] = []
    # Its own thread: a browser test before it may leave this thread's event loop running.
    runner = threading.Thread(
        target=lambda: seen.extend(asyncio.run(asyncio.wait_for(events(), 20)))
    )
    try:
        runner.start()
        runner.join(30)
    finally:
        feed.stop()
    assert json.loads(seen[-1].split("data: ", 1)[1]) == {"error": "the API key was revoked"}
    assert feed.watchers == 0
