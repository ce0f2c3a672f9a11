// robodeploy dashboard: a snapshot of the engine's state, then its event stream.
// Reads need no token; actions and logs send the token the user gave (kept in sessionStorage).
"use strict";

const PAGE = 100; // fleet rows per page
const PHASES = ["InProgress", "Provisioning", "Succeeded"];
const state = {
  devices: [], fleets: [], deployments: new Map(), jobs: new Map(), codes: {},
  fleetOf: new Map(), page: 0, filter: { fleet: "", label: "", status: "", name: "" },
  pendingLatency: [], latencies: [], events: 0, logAbort: null, logFor: null,
  timelineFor: null, timelineTimer: null, refreshTimer: null,
};
window.__rd = state; // for tests and benchmarks

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const badge = (name) => `<span class="status s-${esc(name)}">${esc(name)}</span>`;
const token = () => sessionStorage.getItem("robodeploy-token") || "";

// Sets `el`'s HTML only when it differs, so focus, clicks and selection survive updates.
function put(el, html) {
  if (el && el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
}

// Builds the view's frame once per `key` (view and subject); later renders update its parts.
function frame(key, html) {
  const v = $("#view");
  if (v.dataset.key === key) return false;
  v.innerHTML = html;
  v.dataset.key = key;
  v.dataset.html = "";
  return true;
}

function notice(text, refused) {
  const n = $("#notice");
  n.textContent = text;
  n.className = refused ? "refused" : "";
}

// ---- data ----------------------------------------------------------------------------------

// Snapshots and events race (a snapshot may be older than an event already applied), so
// both merge by recency: a deployment by its `at`, a robot's report and a job's status never
// step back from an end (or to an earlier step).
const STEPS = ["Validating", "ExecutingDownloadCondition", "DownloadingExtracting", "ExecutingPreLaunch", "Launching", "ExecutingPostLaunch", "Finished"];
const ROBOT_ENDS = new Set(["Failed", "InSync", "NoResponse"]);
const JOB_ENDS = new Set(["Succeeded", "Failed", "Canceled"]);

function newerRobot(old, next) {
  if (!old) return true;
  const oe = ROBOT_ENDS.has(old.status), ne = ROBOT_ENDS.has(next.status);
  if (oe !== ne) return ne;
  if (!oe && next.status === old.status) return STEPS.indexOf(next.step) >= STEPS.indexOf(old.step);
  return true;
}

function mergeDeployment(d) {
  const old = state.deployments.get(d.name);
  if (old && old.id === d.id && Date.parse(old.at) > Date.parse(d.at)) return;
  state.deployments.set(d.name, d);
}

function mergeRobot(job, report) {
  const i = job.robots.findIndex((r) => r.robot === report.robot);
  if (i < 0) job.robots.push(report);
  else if (newerRobot(job.robots[i], report)) job.robots[i] = report;
}

function mergeJobStatus(job, status) {
  if (!JOB_ENDS.has(job.status) || JOB_ENDS.has(status)) job.status = status;
}

async function loadSnapshot() {
  const r = await fetch("/dashboard/api/snapshot", { cache: "no-store" });
  if (!r.ok) throw new Error(`snapshot: HTTP ${r.status}`);
  const s = await r.json();
  state.devices = s.devices;
  state.fleets = s.fleets;
  Object.assign(state.codes, s.codes);
  const names = new Set(s.deployments.map((d) => d.name));
  for (const name of [...state.deployments.keys()]) if (!names.has(name)) state.deployments.delete(name);
  for (const d of s.deployments) mergeDeployment(d);
  const jobs = new Map();
  for (const j of s.jobs) {
    const old = state.jobs.get(j.id);
    if (old) {
      for (const r of j.robots) mergeRobot(old, r);
      const status = old.status;
      Object.assign(old, j, { robots: old.robots, status });
      mergeJobStatus(old, j.status);
      jobs.set(j.id, old);
    } else jobs.set(j.id, j);
  }
  state.jobs = jobs;
  state.fleetOf = new Map();
  for (const f of s.fleets) for (const r of f.robots) state.fleetOf.set(r, f);
}

// What runs on each device: live deployments with an executable placed on it.
function runningOn() {
  const on = new Map();
  for (const d of state.deployments.values()) {
    if (d.phase === "DeploymentStopped") continue;
    const seen = new Set();
    for (const e of d.executables) {
      if (!e.device || seen.has(e.device)) continue;
      seen.add(e.device);
      if (!on.has(e.device)) on.set(e.device, []);
      on.get(e.device).push(d);
    }
  }
  return on;
}

const RANK = { Error: 4, Unknown: 3, Pending: 2, Running: 1, Stopped: 0 };
function robotStatus(deps) {
  if (!deps || deps.length === 0) return "Idle";
  return deps.map((d) => d.status).sort((a, b) => (RANK[b] ?? 0) - (RANK[a] ?? 0))[0];
}

function applyEvent(ev) {
  state.events += 1;
  switch (ev.event) {
    case "deployment": {
      const d = Object.assign({}, ev);
      delete d.event;
      mergeDeployment(d);
      if (d.at) state.pendingLatency.push(Date.parse(d.at));
      for (const e of d.errors) if (!state.codes[e.code]) scheduleSnapshot();
      break;
    }
    case "robot": {
      const job = state.jobs.get(ev.job);
      if (!job) { scheduleSnapshot(); break; }
      mergeRobot(job, ev.report);
      if (state.timelineFor === ev.job) scheduleTimeline();
      break;
    }
    case "job": {
      const job = state.jobs.get(ev.job);
      if (job) mergeJobStatus(job, ev.status); else scheduleSnapshot();
      if (state.timelineFor === ev.job) scheduleTimeline();
      break;
    }
    case "device": {
      const d = state.devices.find((x) => x.name === ev.device);
      if (d) d.online = ev.online;
      break;
    }
    case "lagged": scheduleSnapshot(); break;
    default: break;
  }
  scheduleRender();
}

function scheduleSnapshot() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(async () => {
    state.refreshTimer = null;
    try { await loadSnapshot(); scheduleRender(); } catch (e) { notice(String(e), true); }
  }, 150);
}

// Reads a response of JSON lines, handing each value to `each` until the stream ends or `each`
// returns false.
async function readLines(response, each) {
  const reader = response.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() && !each(JSON.parse(line))) { reader.cancel(); return; }
    }
  }
}

async function followEvents() {
  for (;;) {
    try {
      const r = await fetch("/dashboard/api/events", { cache: "no-store" });
      $("#live").textContent = "live: following the event stream";
      // Connected: what happened before is in the snapshot, what follows in the stream.
      loadSnapshot().then(scheduleRender, (e) => notice(String(e), true));
      await readLines(r, (e) => { applyEvent(e); return true; });
    } catch (e) { /* reconnect below */ }
    $("#live").textContent = "event stream lost: reconnecting…";
    await new Promise((res) => setTimeout(res, 1000));
  }
}

// ---- rendering -----------------------------------------------------------------------------

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
    const now = Date.now();
    for (const at of state.pendingLatency) state.latencies.push(now - at);
    state.pendingLatency = [];
  });
}

function route() {
  const [view, ...rest] = (location.hash.slice(1) || "fleet").split("/");
  return { view, arg: decodeURIComponent(rest.join("/")) };
}

function render() {
  const { view, arg } = route();
  for (const v of ["fleet", "deployments", "jobs"]) {
    const a = $(`#nav-${v}`);
    if (v === view || (v === "deployments" && view === "deployment") || (v === "jobs" && view === "job")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const keepFocus = document.activeElement && document.activeElement.id;
  if (view === "deployment") renderDeployment(arg);
  else if (view === "deployments") renderDeployments();
  else if (view === "job") renderJob(arg);
  else if (view === "jobs") renderJobs();
  else renderFleet();
  if (keepFocus && document.getElementById(keepFocus)) {
    const el = document.getElementById(keepFocus);
    if (document.activeElement !== el) el.focus();
  }
  if (view !== "deployment") stopLog();
  if (view !== "job") state.timelineFor = null;
  document.body.dataset.view = view;
  // The first render after the snapshot: ms since navigation started (for the benchmark).
  if (!state.readyAt && state.fleets.length + state.devices.length > 0) state.readyAt = performance.now();
  document.body.dataset.ready = "1";
}

function fleetRows() {
  const f = state.filter;
  const on = runningOn();
  let label = null;
  if (f.label) {
    const [k, v] = f.label.split("=");
    label = { k: k.trim(), v: v === undefined ? null : v.trim() };
  }
  const rows = [];
  for (const d of state.devices) {
    const fleet = state.fleetOf.get(d.name);
    if (f.fleet && (!fleet || fleet.name !== f.fleet)) continue;
    if (f.name && !d.name.includes(f.name)) continue;
    if (label) {
      const labels = Object.assign({}, fleet ? fleet.labels : {}, d.labels || {});
      if (!(label.k in labels) || (label.v !== null && labels[label.k] !== label.v)) continue;
    }
    const deps = on.get(d.name) || [];
    const status = robotStatus(deps);
    if (f.status && status !== f.status && !(f.status === "Offline" && !d.online)) continue;
    rows.push({ d, fleet, deps, status });
  }
  return rows;
}

function renderFleet() {
  const f = state.filter;
  const fleetOpts = state.fleets.map((x) => `<option>${esc(x.name)}</option>`).join("");
  const statusOpts = ["Running", "Pending", "Error", "Unknown", "Stopped", "Idle", "Offline"].map((s) => `<option>${s}</option>`).join("");
  if (frame("fleet:" + state.fleets.map((x) => x.name).join(","), `<h2>Fleet</h2>
    <div class="filters">
      <label>Fleet<select id="f-fleet"><option value="">all</option>${fleetOpts}</select></label>
      <label>Label (key or key=value)<input id="f-label"></label>
      <label>Status<select id="f-status"><option value="">all</option>${statusOpts}</select></label>
      <label>Name contains<input id="f-name"></label>
    </div>
    <div class="pager"><button id="prev">Previous</button><span id="fleet-count" aria-live="polite"></span><button id="next">Next</button></div>
    <table id="fleet-table"><thead><tr><th>Robot</th><th>Fleet</th><th>Runtime</th><th>Architecture</th><th>Online</th><th>Runs</th><th>Status</th></tr></thead><tbody></tbody></table>`)) {
    $("#f-fleet").value = f.fleet; $("#f-status").value = f.status; $("#f-label").value = f.label; $("#f-name").value = f.name;
    const set = (k) => (e) => { state.filter[k] = e.target.value; state.page = 0; render(); };
    $("#f-fleet").onchange = set("fleet");
    $("#f-status").onchange = set("status");
    $("#f-label").oninput = set("label");
    $("#f-name").oninput = set("name");
    $("#prev").onclick = () => { state.page -= 1; render(); };
    $("#next").onclick = () => { state.page += 1; render(); };
  }
  const rows = fleetRows();
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  state.page = Math.max(0, Math.min(state.page, pages - 1));
  const shown = rows.slice(state.page * PAGE, (state.page + 1) * PAGE);
  $("#prev").disabled = state.page === 0;
  $("#next").disabled = state.page + 1 >= pages;
  $("#fleet-count").textContent = `${rows.length} of ${state.devices.length} robots, page ${state.page + 1} of ${pages}`;
  put($("#fleet-table tbody"), shown.map(({ d, fleet, deps, status }) => `<tr data-robot="${esc(d.name)}">
    <td>${esc(d.name)}</td><td>${esc(fleet ? fleet.name : "")}</td><td>${esc(d.runtime)}</td><td>${esc(d.architecture)}</td>
    <td>${d.online ? badge("online") : badge("offline")}</td>
    <td>${deps.map((x) => `<a href="#deployment/${encodeURIComponent(x.name)}">${esc(x.name)}</a>`).join(" ") || "—"}</td>
    <td class="robot-status">${badge(status)}</td></tr>`).join(""));
}

function renderDeployments() {
  const rows = [...state.deployments.values()].map((d) => `<tr><td><a href="#deployment/${encodeURIComponent(d.name)}">${esc(d.name)}</a></td>
    <td>${esc(d.package)} ${esc(d.version)}</td><td>${badge(d.phase)}</td><td>${badge(d.status)}</td>
    <td>${d.errors.map((e) => esc(e.code)).join(", ")}</td><td>${d.restartCount}</td></tr>`).join("");
  $("#view").dataset.key = "deployments";
  put($("#view"), `<h2>Deployments</h2><table><thead><tr><th>Name</th><th>Package</th><th>Phase</th><th>Status</th><th>Errors</th><th>Restarts</th></tr></thead><tbody>${rows}</tbody></table>`);
}

function phaseBar(phase) {
  const at = PHASES.indexOf(phase);
  return `<ol class="phases" aria-label="Phase">${PHASES.map((p, i) => {
    let cls = at > i ? "done" : at === i ? "current" : "";
    if (phase === "FailedToStart" && i === 2) return `<li class="failed" aria-current="step">Failed to start</li>`;
    if (at < 0 && phase !== "FailedToStart") cls = "done";
    return `<li class="${cls}" ${cls === "current" ? 'aria-current="step"' : ""}>${p.replace(/([a-z])([A-Z])/g, "$1 $2")}</li>`;
  }).join("")}</ol>${at < 0 && phase !== "FailedToStart" ? `<p>Now: ${badge(phase)}</p>` : ""}`;
}

function reasonText(s) {
  if (!s.reason) return "";
  const r = s.reason;
  const extra = Object.entries(r).filter(([k]) => k !== "kind").map(([k, v]) => `${k} ${v}`).join(", ");
  return r.kind + (extra ? ` (${extra})` : "");
}

function renderDeployment(name) {
  const d = state.deployments.get(name);
  if (!d) { frame("none", ""); $("#view").innerHTML = `<p>No deployment named ${esc(name)}. <a href="#deployments">All deployments</a></p>`; return; }
  const exes = d.executables.map((e) => `<tr><td>${esc(e.component)}</td><td>${esc(e.name)}</td><td>${esc(e.device || "cloud")}</td>
    <td>${badge(e.status.status)}</td><td class="reason">${esc(reasonText(e.status))}</td><td>${e.restartCount}</td></tr>`).join("");
  const errs = d.errors.map((e) => {
    const t = state.codes[e.code] || {};
    return `<div class="error-code" data-code="${esc(e.code)}"><b>${esc(e.code)}</b> ${esc(e.component || "")} ${esc(e.executable || "")}
      <div class="description">${esc(t.description || "")}</div>
      <div class="action">Recommended action: ${esc(t.recommendedAction || "")}</div>
      ${e.detail ? `<div class="detail">${esc(e.detail)}</div>` : ""}</div>`;
  }).join("");
  if (frame("deployment:" + name, `<h2>Deployment ${esc(d.name)}</h2><div id="dep-head"></div><div id="dep-phase"></div>
    <div class="actions"><button id="deprovision">Deprovision</button></div>
    <h3>Executables</h3><table><thead><tr><th>Component</th><th>Executable</th><th>Device</th><th>Status</th><th>Reason</th><th>Restarts</th></tr></thead><tbody id="dep-exes"></tbody></table>
    <h3>Errors</h3><div id="dep-errors"></div><h3>Depends on</h3><p class="list" id="dep-deps"></p>
    <h3>Log</h3><pre class="log" id="log" tabindex="0"></pre>`)) {
    state.logFor = null;
    $("#deprovision").onclick = () => act("DELETE", `/v1/deployments/${encodeURIComponent(d.name)}`, `deprovision ${d.name}`);
  }
  put($("#dep-head"), `<p>${esc(d.package)} ${esc(d.version)} · status ${badge(d.status)} · restarts ${d.restartCount}
    ${d.job ? ` · job <a href="#job/${d.job}">${d.job}</a>` : ""}</p>`);
  put($("#dep-phase"), phaseBar(d.phase));
  put($("#dep-exes"), exes);
  put($("#dep-errors"), errs || "<p>none</p>");
  put($("#dep-deps"), d.dependsOn.map((x) => `<a href="#deployment/${encodeURIComponent(x)}">${esc(x)}</a>`).join("") || "nothing");
  followLog(name);
}

function stopLog() {
  if (state.logAbort) state.logAbort.abort();
  state.logAbort = null;
  state.logFor = null;
}

async function followLog(name) {
  if (state.logFor === name) return;
  stopLog();
  state.logFor = name;
  const pre = $("#log");
  if (!token()) { pre.textContent = "The log needs the API token (enter it above)."; return; }
  const ctl = new AbortController();
  state.logAbort = ctl;
  try {
    const r = await fetch(`/v1/deployments/${encodeURIComponent(name)}/logs?tail=100&follow=true`,
      { headers: { Authorization: `Bearer ${token()}` }, signal: ctl.signal });
    if (!r.ok) { const e = await r.json().catch(() => ({})); $("#log").textContent = `log refused: ${e.message || r.status}`; return; }
    await readLines(r, (e) => {
      const p = $("#log");
      if (!p) return false;
      const stick = p.scrollTop + p.clientHeight >= p.scrollHeight - 4;
      p.textContent += `${e.device} ${e.executable}: ${e.line}\n`;
      if (stick) p.scrollTop = p.scrollHeight;
      return true;
    });
  } catch (e) { /* aborted or gone */ }
}

function renderJobs() {
  const rows = [...state.jobs.values()].reverse().map((j) => `<tr><td><a href="#job/${j.id}">${esc(j.id)}</a></td>
    <td>${esc(j.application)} ${esc(j.version)}</td><td>${esc(j.fleet)}</td><td>${badge(j.status)}</td><td>${j.robots.length}</td></tr>`).join("");
  $("#view").dataset.key = "jobs";
  put($("#view"), `<h2>Jobs</h2><table><thead><tr><th>Job</th><th>Application</th><th>Fleet</th><th>Status</th><th>Robots</th></tr></thead><tbody>${rows}</tbody></table>`);
}

function eta(t) {
  if (!t) return "";
  const s = Math.round((Date.parse(t) - Date.now()) / 1000);
  return s > 0 ? `${s} s` : "now";
}

function renderJob(id) {
  const j = state.jobs.get(id);
  if (!j) { frame("none", ""); $("#view").innerHTML = `<p>No job ${esc(id)}. <a href="#jobs">All jobs</a></p>`; return; }
  const counts = {};
  for (const r of j.robots) counts[r.status] = (counts[r.status] || 0) + 1;
  const failed = (counts.Failed || 0) + (counts.NoResponse || 0);
  const cards = Object.entries(counts).sort().map(([s, n]) => `<div class="card" data-status="${esc(s)}">${badge(s)}<b class="count">${n}</b></div>`).join("");
  const robots = j.robots.map((r) => `<tr data-robot="${esc(r.robot)}"><td>${esc(r.robot)}</td><td>${badge(r.status)}</td><td>${esc(r.step)}</td>
    <td><progress max="100" value="${r.percentDone}" aria-label="${esc(r.robot)} percent done"></progress> ${r.percentDone} %</td><td class="eta">${eta(r.eta)}</td>
    <td class="failure">${esc(r.failure || "")}</td><td class="failure-detail">${esc(r.failureDetail || "")}</td>
    <td>${r.deployment ? `<a href="#deployment/${r.deployment}">deployment</a>` : ""}</td></tr>`).join("");
  if (frame("job:" + id, `<h2>Job ${esc(j.id)}</h2><div id="job-head"></div>
    <div class="cards" id="counts"></div><p id="threshold"></p>
    <div class="actions"><button id="cancel">Cancel</button><button id="resume">Resume</button><button id="rollback">Roll back</button>
      <a id="export" href="/dashboard/api/jobs/${j.id}/timeline.svg" download="timeline-${j.id}.svg">Export timeline (SVG)</a></div>
    <h3>Waves</h3><table id="job-waves"><thead><tr><th>Wave</th><th>Robots</th><th>State</th><th>Failed of its threshold</th><th>Then</th></tr></thead><tbody></tbody></table>
    <h3>Timeline</h3><div class="timeline" id="timeline"></div>
    <h3>Robots</h3><table id="job-robots"><thead><tr><th>Robot</th><th>Status</th><th>Step</th><th>Done</th><th>ETA</th><th>Failure</th><th>Detail</th><th></th></tr></thead><tbody></tbody></table>`)) {
    state.timelineFor = null;
    for (const a of ["cancel", "resume", "rollback"]) $(`#${a}`).onclick = () => act("POST", `/v1/jobs/${j.id}/${a}`, `${a} job`);
  }
  put($("#job-head"), `<p>${esc(j.application)} ${esc(j.version)} to fleet ${esc(j.fleet)} · <span id="job-status">${badge(j.status)}</span>${j.failure ? ` · ${esc(j.failure)}` : ""}
    · at most ${j.inFlightLimit} at once</p>`);
  put($("#counts"), cards);
  put($("#threshold"), `Failed <b>${failed}</b> of threshold <b>${j.failureThreshold}</b>
      <meter min="0" max="${Math.max(1, j.failureThreshold)}" value="${failed}" high="${Math.max(1, j.failureThreshold) * 0.75}" aria-label="failures against the threshold"></meter>
      ${failed >= j.failureThreshold ? "reached" : `${j.failureThreshold - failed} more halt the job`}`);
  put($("#job-robots tbody"), robots);
  put($("#job-waves tbody"), waveRows(j));
  // A soak counts down: render again in a second while one runs.
  if ((j.waves || []).some((w) => w.state === "Soaking")) setTimeout(scheduleRender, 1000);
  if (state.timelineFor !== id) { state.timelineFor = id; loadTimeline(); }
}

function scheduleTimeline() {
  if (state.timelineTimer) return;
  state.timelineTimer = setTimeout(() => { state.timelineTimer = null; loadTimeline(); }, 300);
}

async function loadTimeline() {
  const id = state.timelineFor;
  if (!id) return;
  const [r, report] = await Promise.all([
    fetch(`/dashboard/api/jobs/${id}/timeline.svg`, { cache: "no-store" }),
    fetch(`/dashboard/api/jobs/${id}/waves`, { cache: "no-store" }),
  ]);
  const text = await r.text();
  const t = $("#timeline");
  if (t && state.timelineFor === id && r.ok) t.innerHTML = text;
  // Waves (their states, soak times) come only from the server's report: take them from it.
  const job = state.jobs.get(id);
  if (job && report.ok) {
    const fresh = await report.json();
    job.waves = fresh.waves;
    job.rollback = fresh.rollback;
    mergeJobStatus(job, fresh.status);
    scheduleRender();
  }
}

function waveRows(j) {
  return (j.waves || []).map((w, i) => {
    const then = [w.soak ? `soak ${esc(w.soak)}` : "", w.manualResume ? "resume" : ""].filter(Boolean).join(", ") || "—";
    return `<tr data-wave="${i + 1}" data-state="${esc(w.state)}"><td>${i + 1}</td><td>${w.start + 1}–${w.end}</td>
      <td class="wave-state">${badge(w.state)}${w.state === "Soaking" && w.soakEndsAt ? ` ${eta(w.soakEndsAt)} left` : ""}</td><td class="wave-failed">${w.failed} of ${w.threshold}</td><td>${then}</td></tr>`;
  }).join("");
}

async function act(method, path, what) {
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  notice(`${what}…`);
  try {
    const r = await fetch(path, { method, headers });
    if (r.ok) { notice(`${what}: done`); await loadSnapshot(); render(); return; }
    const e = await r.json().catch(() => ({}));
    notice(`Refused (HTTP ${r.status}): ${e.message || r.statusText}${r.status === 401 ? " — enter the API token above" : ""}`, true);
  } catch (e) { notice(`${what}: ${e}`, true); }
}

function showTokenState() {
  $("#token-state").textContent = token() ? "token set: actions enabled" : "read-only";
}

window.addEventListener("hashchange", () => { render(); $("#view").focus(); });
$("#token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const v = $("#token").value.trim();
  if (v) sessionStorage.setItem("robodeploy-token", v);
  $("#token").value = "";
  showTokenState();
  // A refusal for want of a token no longer holds.
  if ($("#notice").className === "refused") notice("");
  state.logFor = null;
  render();
});
$("#token-clear").onclick = () => { sessionStorage.removeItem("robodeploy-token"); showTokenState(); state.logFor = null; render(); };

(async () => {
  showTokenState();
  try { await loadSnapshot(); } catch (e) { notice(String(e), true); }
  render();
  followEvents();
})();
