// The web dashboard's drawing: a snapshot (the body of GET /v1/dashboard/snapshot) into the
// page's tables, bars and chart. Plain JavaScript, no build step; dashboard.js logs in, follows
// the live feed and runs the operator's actions (set in DashboardView.actions).
"use strict";

window.DashboardView = (function () {
  const $ = (id) => document.getElementById(id);
  const actions = { cancelJob: null, scalePool: null };

  // -- formatting ------------------------------------------------------------------------------

  function money(value) {
    if (value === null || value === undefined) return "-";
    return "$" + (Math.abs(value) >= 1 ? value.toFixed(2) : value.toFixed(4));
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "?";
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = s % 60;
    if (h) return h + "h" + String(m).padStart(2, "0") + "m";
    if (m) return m + "m" + String(rest).padStart(2, "0") + "s";
    return rest + "s";
  }

  function percent(value, digits) {
    return value === null || value === undefined ? "-" : value.toFixed(digits) + " %";
  }

  function clock(epoch) {
    return new Date(epoch * 1000).toLocaleTimeString();
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A bar with its value: `fraction` 0..1, or null for "not measured".
  function meter(cell, fraction, label) {
    let box = cell.querySelector(".meter");
    if (!box) {
      box = el("div", "meter");
      const track = el("div", "track");
      track.appendChild(el("div", "fill"));
      box.appendChild(track);
      box.appendChild(el("span", "value"));
      cell.textContent = "";
      cell.appendChild(box);
    }
    const known = fraction !== null && fraction !== undefined;
    const clamped = known ? Math.min(Math.max(fraction, 0), 1) : 0;
    box.querySelector(".fill").style.width = (100 * clamped).toFixed(1) + "%";
    box.querySelector(".value").textContent = label;
    box.dataset.value = known ? String(fraction) : "";
    box.classList.toggle("warn", known && fraction >= 0.8 && fraction < 1);
    box.classList.toggle("bad", known && fraction >= 1);
    return box;
  }

  // -- drawing a snapshot ----------------------------------------------------------------------

  // Keep one <tr> per item (keyed), so bars move smoothly and buttons stay under the pointer.
  function syncRows(tbody, items, keyOf, create, update) {
    const existing = new Map();
    for (const row of Array.from(tbody.rows)) existing.set(row.dataset.key, row);
    let previous = null;
    for (const item of items) {
      const key = keyOf(item);
      let row = existing.get(key);
      if (row) existing.delete(key);
      else {
        row = create(item);
        row.dataset.key = key;
      }
      update(row, item);
      const next = previous ? previous.nextSibling : tbody.firstChild;
      if (next !== row) tbody.insertBefore(row, next);
      previous = row;
    }
    for (const row of existing.values()) row.remove();
  }

  function cells(row, count) {
    for (let i = 0; i < count; i++) row.appendChild(el("td"));
    return row;
  }

  function jobRow(cancellable) {
    return (job) => {
      const row = cells(el("tr"), 10);
      row.dataset.jobId = job.id;
      row.cells[0].className = "id";
      row.cells[1].className = "name";
      row.cells[3].className = "state";
      row.cells[5].className = "wide progress";
      for (const i of [6, 7, 8]) row.cells[i].classList.add("num");
      if (cancellable) {
        const button = el("button", "cancel-job", "Cancel");
        button.type = "button";
        button.dataset.jobId = job.id;
        button.addEventListener("click", () => actions.cancelJob(button.dataset.jobId, row));
        row.cells[9].appendChild(button);
      }
      return row;
    };
  }

  function updateJob(row, job) {
    row.dataset.state = job.state;
    row.dataset.progress = String(job.progress);
    row.cells[0].textContent = job.id.slice(0, 8);
    row.cells[0].title = job.id;
    row.cells[1].textContent = job.name || "-";
    row.cells[1].title = job.name || "";
    row.cells[2].textContent = job.user || "-";
    row.cells[3].textContent = job.state;
    row.cells[3].dataset.state = job.state;
    row.cells[4].textContent = job.priority;
    const bar = meter(row.cells[5], job.progress, (100 * job.progress).toFixed(1) + " %");
    bar.classList.add("progress-bar");
    bar.querySelector(".value").classList.add("progress-value");
    bar.title = job.frames_done + " / " + job.frames + " frames";
    row.cells[6].textContent = job.fps.toFixed(1);
    row.cells[7].textContent = (job.eta_estimated ? "~" : "") + duration(job.eta_seconds);
    row.cells[8].textContent = money(job.cost);
    const button = row.cells[9].querySelector("button");
    if (button) button.disabled = ["completed", "failed", "cancelled"].includes(job.state);
  }

  function drawJobs(snapshot) {
    syncRows($("jobs-table").tBodies[0], snapshot.jobs, (j) => j.id, jobRow(true), updateJob);
    syncRows($("recent-table").tBodies[0], snapshot.recent, (j) => j.id, jobRow(false), updateJob);
    $("jobs-empty").hidden = snapshot.jobs.length > 0;
    $("jobs-table").hidden = snapshot.jobs.length === 0;
    $("active-count").textContent = "(" + snapshot.jobs.length + ")";
  }

  function drawCluster(snapshot) {
    const c = snapshot.cluster;
    const spend = snapshot.spend;
    $("stat-nodes").textContent =
      c.nodes + " " + (c.nodes === 1 ? "host" : "hosts") + ", " + c.busy + "/" + c.slots + " slots busy";
    $("stat-queue").textContent = c.active_jobs + " jobs, " + c.queued_chunks + " chunks queued";
    $("stat-fps").textContent = c.fps.toFixed(1) + " fps";
    $("stat-hourly").textContent = money(spend.slots_per_hour + spend.pools_per_hour) + "/h";
    $("stat-hourly").title =
      c.slots + " slots x " + money(spend.hourly_rate) + "/h + pools " + money(spend.pools_per_hour) + "/h";
    $("stat-today").textContent = money(spend.today);
    $("paused-banner").hidden = !snapshot.paused;
    const toggle = $("pause-toggle");
    toggle.dataset.action = snapshot.paused ? "resume" : "pause";
    toggle.textContent = snapshot.paused ? "Resume" : "Pause All";
    const slots = $("slots-input");
    if (document.activeElement !== slots && !slots.value) slots.value = c.slots || "";
    $("clock").textContent = clock(snapshot.time);
  }

  function drawQueue(snapshot) {
    const q = snapshot.queue;
    syncRows(
      $("queue-table").tBodies[0],
      q.priorities,
      (p) => p,
      () => cells(el("tr"), 4),
      (row, p) => {
        row.dataset.priority = p;
        row.cells[0].textContent = p;
        row.cells[1].textContent = q.chunks[p] || 0;
        row.cells[2].textContent = q.jobs[p] || 0;
        row.cells[3].textContent = q.waiting_jobs[p] || 0;
      }
    );
  }

  function drawBudgets(snapshot) {
    syncRows(
      $("budgets-table").tBodies[0],
      snapshot.budgets,
      (b) => b.scope + ":" + b.name + ":" + b.period,
      () => cells(el("tr"), 5),
      (row, b) => {
        row.cells[0].textContent = b.scope + " " + b.name;
        row.cells[1].textContent = b.period + " " + b.window;
        row.cells[2].textContent = money(b.spent);
        row.cells[3].textContent = money(b.limit);
        row.cells[4].className = "wide";
        meter(row.cells[4], b.percent / 100, b.percent.toFixed(0) + " %");
      }
    );
    $("budgets-empty").hidden = snapshot.budgets.length > 0;
    $("budgets-table").hidden = snapshot.budgets.length === 0;
  }

  function drawNodes(snapshot) {
    syncRows(
      $("nodes-table").tBodies[0],
      snapshot.nodes,
      (n) => n.name,
      (n) => {
        const row = cells(el("tr"), 10);
        row.dataset.node = n.name;
        for (const i of [5, 6, 7]) row.cells[i].className = "wide";
        return row;
      },
      (row, n) => {
        row.cells[0].textContent = n.name;
        row.cells[1].textContent = n.role;
        row.cells[2].textContent = n.status;
        row.cells[3].textContent = n.pool || "-";
        row.cells[4].textContent = n.busy + "/" + n.concurrency;
        const cpu = n.cpu_utilization_percent;
        meter(row.cells[5], cpu === null ? null : cpu / 100, cpu === null ? "n/a" : percent(cpu, 0));
        const gpu = n.gpu_utilization_percent;
        meter(row.cells[6], gpu === null ? null : gpu / 100, gpu === null ? "no GPU" : percent(gpu, 0));
        const mem = n.memory_percent;
        meter(row.cells[7], mem === null ? null : mem / 100, mem === null ? "n/a" : percent(mem, 0));
        row.cells[8].textContent = n.active_chunks + " / " + n.completed_chunks + " / " + n.failed_chunks;
        row.cells[9].textContent = n.heartbeat_age_seconds.toFixed(0) + " s ago";
      }
    );
    $("nodes-empty").hidden = snapshot.nodes.length > 0;
    $("nodes-table").hidden = snapshot.nodes.length === 0;
    const gpu = snapshot.host.gpu_utilization_percent;
    $("host-gpu").textContent =
      "API host GPU: " + (gpu === null || gpu === undefined ? "none" : percent(gpu, 0));
  }

  function drawPools(snapshot) {
    syncRows(
      $("pools-table").tBodies[0],
      snapshot.pools,
      (p) => p.name,
      (p) => {
        const row = cells(el("tr"), 11);
        row.dataset.pool = p.name;
        const form = el("form", "inline");
        const input = el("input", "pool-nodes");
        input.type = "number";
        input.min = "0";
        input.step = "1";
        input.dataset.pool = p.name;
        input.value = p.override !== null ? p.override : p.desired;
        const button = el("button", "scale-pool", "Scale");
        button.type = "submit";
        button.dataset.pool = p.name;
        form.appendChild(input);
        form.appendChild(button);
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          actions.scalePool(p.name, input.value);
        });
        row.cells[10].appendChild(form);
        return row;
      },
      (row, p) => {
        row.cells[0].textContent = p.name;
        row.cells[1].textContent = p.provider + (p.instance_type ? " " + p.instance_type : "");
        row.cells[2].textContent = p.market;
        row.cells[3].textContent = p.running;
        row.cells[4].textContent = p.booting;
        row.cells[5].textContent = p.draining;
        row.cells[6].textContent = p.desired;
        row.cells[7].textContent = p.min_nodes + "-" + p.max_nodes;
        row.cells[8].className = "held";
        row.cells[8].textContent =
          p.override === null ? "auto" : p.override + " until " + clock(p.override_until);
        row.cells[9].textContent = money(p.spend_per_hour);
        row.title = p.error ? "ERROR " + p.error : p.reason;
      }
    );
    $("pools-empty").hidden = snapshot.pools.length > 0;
    $("pools-table").hidden = snapshot.pools.length === 0;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function drawThroughput(snapshot) {
    const chart = $("throughput-chart");
    const t = snapshot.throughput;
    while (chart.firstChild) chart.removeChild(chart.firstChild);
    if (!t) return;
    const width = 720, height = 160, top = 4, bottom = 1, left = 0;
    const points = t.points;
    const peak = Math.max(1, ...points.map((p) => p.fps || 0));
    const step = (width - left) / points.length;
    chart.appendChild(svg("line", { class: "axis", x1: 0, x2: width, y1: height - bottom, y2: height - bottom }));
    points.forEach((p, i) => {
      const known = p.fps !== null;
      const h = known ? ((height - top - bottom) * p.fps) / peak : 2;
      const bar = svg("rect", {
        class: known ? "bar" : "gap",
        x: (left + i * step + 1).toFixed(1),
        y: (height - bottom - h).toFixed(1),
        width: Math.max(step - 2, 1).toFixed(1),
        height: Math.max(h, known && p.fps > 0 ? 1 : 0.5).toFixed(1),
        "data-t": p.t,
        "data-fps": known ? p.fps : "",
      });
      const title = svg("title", {});
      title.textContent = clock(p.t) + ": " + (known ? p.fps.toFixed(2) + " fps, " + p.frames + " frames" : "not sampled");
      bar.appendChild(title);
      chart.appendChild(bar);
    });
    $("chart-peak").textContent = peak.toFixed(1) + " fps";
    const last = [...points].reverse().find((p) => p.fps !== null);
    $("throughput-summary").textContent =
      "(" + t.total_frames + " frames counted" + (last ? ", " + last.fps.toFixed(1) + " fps this minute" : "") + ")";
    $("throughput-source").textContent = "Source: " + t.source + ".";
  }

  function draw(snapshot) {
    drawCluster(snapshot);
    drawJobs(snapshot);
    drawQueue(snapshot);
    drawBudgets(snapshot);
    drawNodes(snapshot);
    drawPools(snapshot);
    drawThroughput(snapshot);
    document.body.dataset.updated = String(snapshot.time);
  }

  return { draw, clock, actions };
})();
