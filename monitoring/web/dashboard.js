// The web dashboard: plain JavaScript, no build step, nothing loaded from elsewhere (draw.js
// draws a snapshot; this file logs in, follows the live feed and runs the operator's actions).
// The operator's API key stays in this tab's sessionStorage; fetch() sends it as a Bearer
// header, and the live feed (EventSource, which cannot set headers) as ?key=.
"use strict";

(function () {
  const KEY = "cloudrender.apiKey";
  const $ = (id) => document.getElementById(id);
  let source = null; // the EventSource of the live feed
  let latest = null; // the last snapshot drawn
  const view = window.DashboardView;

  function draw(snapshot) {
    latest = snapshot;
    view.draw(snapshot);
  }

  // -- talking to the API ----------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function call(method, path, body) {
    const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (err) {
      throw new ApiError(0, "the API cannot be reached (" + err.message + ")");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      const message = data && data.error ? data.error : response.status + " " + response.statusText;
      throw new ApiError(response.status, message);
    }
    return data;
  }

  function showError(message) {
    $("error-text").textContent = message;
    $("error-banner").hidden = false;
  }

  function clearError() {
    $("error-banner").hidden = true;
    $("error-text").textContent = "";
  }

  // The last action's outcome stays until the next one, as on the terminal dashboard.
  function showStatus(message) {
    const line = $("status-line");
    line.textContent = message;
    line.hidden = false;
  }

  // Run an operator action: errors go to the banner, success to the status line.
  async function act(method, path, body, describe) {
    try {
      const answer = await call(method, path, body);
      clearError();
      showStatus(describe(answer));
      await refresh();
    } catch (err) {
      if (err.status === 401) return loggedOut(err.message);
      $("status-line").hidden = true; // the last outcome is not this action's
      showError(err.message);
    }
  }

  // -- the confirmation dialog -----------------------------------------------------------------

  function confirmDialog(message, okLabel) {
    return new Promise((resolve) => {
      const overlay = $("confirm");
      const ok = $("confirm-ok");
      const cancel = $("confirm-cancel");
      $("confirm-message").textContent = message;
      ok.textContent = okLabel || "Confirm";
      overlay.hidden = false;
      cancel.focus();
      function done(answer) {
        overlay.hidden = true;
        ok.removeEventListener("click", yes);
        cancel.removeEventListener("click", no);
        document.removeEventListener("keydown", key);
        resolve(answer);
      }
      function yes() { done(true); }
      function no() { done(false); }
      function key(event) { if (event.key === "Escape") done(false); }
      ok.addEventListener("click", yes);
      cancel.addEventListener("click", no);
      document.addEventListener("keydown", key);
    });
  }

  // -- actions ---------------------------------------------------------------------------------

  async function cancelJob(id, row) {
    const name = row.cells[1].textContent;
    if (!(await confirmDialog("Cancel job " + id.slice(0, 8) + " (" + name + ")?", "Cancel job"))) return;
    await act("POST", "/v1/jobs/" + encodeURIComponent(id) + "/cancel", {}, (job) =>
      "Job " + id.slice(0, 8) + " is " + job.state + ".");
  }

  async function scalePool(pool, value) {
    const nodes = value === "" ? null : Number(value);
    const what = nodes === null ? "hand pool " + pool + " back to the autoscaler" : "hold pool " + pool + " at " + nodes + " nodes";
    if (!(await confirmDialog("Scale: " + what + "?", "Scale"))) return;
    await act("POST", "/v1/cluster/scale", { pool, nodes }, (p) =>
      p.override === null ? "Pool " + p.name + " is back with the autoscaler." :
        "Pool " + p.name + " is held at " + p.override + " nodes until " + view.clock(p.override_until) + ".");
  }

  async function scaleSlots(event) {
    event.preventDefault();
    const slots = Number($("slots-input").value);
    if (!(await confirmDialog("Scale the workers to " + slots + " slots in all?", "Scale"))) return;
    await act("POST", "/v1/cluster/scale", { slots }, (a) =>
      "Asked the workers for " + a.slots + " slots; heartbeats follow in seconds.");
  }

  async function togglePause() {
    const resume = $("pause-toggle").dataset.action === "resume";
    const question = resume
      ? "Resume dispatching chunks?"
      : "Pause all? Running chunks finish, queued ones wait.";
    if (!(await confirmDialog(question, resume ? "Resume" : "Pause"))) return;
    await act("POST", resume ? "/v1/cluster/resume" : "/v1/cluster/pause", {}, (a) =>
      a.paused ? "Paused: running chunks finish, queued ones wait." : "Resumed: chunks are dispatched again.");
  }

  async function emergencyStop() {
    const count = latest ? latest.jobs.length : 0;
    const question = "Emergency stop: cancel ALL " + count + " active jobs and pause dispatching?";
    if (!(await confirmDialog(question, "Stop everything"))) return;
    await act("POST", "/v1/cluster/emergency-stop", {}, (a) =>
      "Emergency stop: cancelled " + a.cancelled.length + " jobs" + (a.paused ? "; dispatching paused." : "."));
  }

  // -- logging in and the live feed -------------------------------------------------------------

  function setConnection(state) {
    const badge = $("connection");
    badge.dataset.state = state;
    badge.textContent = state;
  }

  function loggedOut(message) {
    stopFeed();
    sessionStorage.removeItem(KEY);
    $("app").hidden = true;
    $("logout").hidden = true;
    $("refresh").hidden = true;
    $("login").hidden = false;
    const error = $("login-error");
    error.textContent = message || "";
    error.hidden = !message;
    setConnection("offline");
  }

  function stopFeed() {
    if (source) source.close();
    source = null;
  }

  function startFeed() {
    stopFeed();
    const key = sessionStorage.getItem(KEY);
    const es = new EventSource("/v1/dashboard/events?key=" + encodeURIComponent(key));
    source = es;
    es.addEventListener("open", () => setConnection("live"));
    es.addEventListener("snapshot", (event) => {
      setConnection("live");
      draw(JSON.parse(event.data));
      if ($("error-banner").dataset.fromFeed) {
        delete $("error-banner").dataset.fromFeed;
        clearError();
      }
    });
    // The server could not read the cluster this time (Redis away): keep the last figures.
    es.addEventListener("problem", (event) => {
      showError(JSON.parse(event.data).error);
      $("error-banner").dataset.fromFeed = "1";
    });
    es.addEventListener("error", () => {
      if (source !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        // Refused (revoked key?) or the server went away: ask once to learn which.
        setConnection("offline");
        refresh().then(() => { if (source === es) setTimeout(startFeed, 3000); });
      } else {
        setConnection("reconnecting");
      }
    });
  }

  async function refresh() {
    try {
      draw(await call("GET", "/v1/dashboard/snapshot"));
      return true;
    } catch (err) {
      if (err.status === 401 || err.status === 403) loggedOut(err.message);
      else showError(err.message);
      return false;
    }
  }

  async function login() {
    if (!(await refresh())) return;
    $("login").hidden = true;
    $("login-error").hidden = true;
    $("app").hidden = false;
    $("logout").hidden = false;
    $("refresh").hidden = false;
    clearError();
    startFeed();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("api-key").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY, key);
      $("api-key").value = "";
      login();
    });
    $("logout").addEventListener("click", () => loggedOut(""));
    $("refresh").addEventListener("click", refresh);
    $("error-close").addEventListener("click", clearError);
    $("pause-toggle").addEventListener("click", togglePause);
    $("emergency-stop").addEventListener("click", emergencyStop);
    $("slots-form").addEventListener("submit", scaleSlots);
    view.actions.cancelJob = cancelJob;
    view.actions.scalePool = scalePool;
    if (sessionStorage.getItem(KEY)) login();
  });
})();
