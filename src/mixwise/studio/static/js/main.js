// The studio page: routing, the project's state, the top bar, the transport and its meters.
import * as api from "./api.js";
import { Engine, peaks } from "./audio.js";
import { renderMixer, tickMixer } from "./mixer.js";
import { waveform } from "./plots.js";
import { $, $$, dbNum, dbToGain, fmtLufs, fmtTime, h, toast } from "./util.js";
import * as views from "./views.js";

export const app = {
  info: null,
  pid: null,
  state: null, // GET /api/projects/{pid}
  view: "mix",
  engine: new Engine(),
  wave: null, // {peaks, duration} of the master
  previewKey: null, // which render the live preview holds
  previewLoading: null,
  timings: {},
};
window.__mixwise = app; // for the browser tests (timings, latency)

// ------------------------------------------------------------------------------------------
// routing

const VIEWS = {
  mix: views.renderMix,
  mixer: renderMixer,
  suggestions: views.renderSuggestions,
  listen: views.renderListen,
  look: views.renderLook,
  feedback: views.renderFeedback,
};

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  const m = location.hash.match(/^#\/project\/([a-z0-9-]+)(?:\/(\w+))?/);
  if (!m) {
    app.pid = null;
    app.state = null;
    app.engine.forget();
    app.previewKey = null;
    app.wave = null;
    showChrome(false);
    views.renderStart();
    return;
  }
  const [, pid, view] = m;
  const t0 = performance.now();
  if (pid !== app.pid) {
    app.pid = pid;
    app.engine.forget();
    app.previewKey = null;
    app.wave = null;
    try {
      await refresh(false);
    } catch (e) {
      toast(e.message, "error");
      go("#/");
      return;
    }
  }
  app.view = VIEWS[view] ? view : "mix";
  showChrome(true);
  if (app.state.job) {
    // a job still running (the page was reloaded meanwhile): follow it, then show the view
    followJob(app.state.job)
      .then(() => renderView())
      .catch((e) => {
        toast(e.message, "error", 8000);
        refresh();
      });
    return;
  }
  renderView();
  app.timings[`view_${app.view}_ms`] = performance.now() - t0;
}

export function renderView() {
  $$("#tabs button").forEach((b) => b.classList.toggle("on", b.dataset.view === app.view));
  const main = $("#main");
  main.replaceChildren();
  delete document.body.dataset.mixer;
  const t0 = performance.now();
  VIEWS[app.view](main);
  app.timings[`render_${app.view}_ms`] = performance.now() - t0;
  document.body.dataset.view = app.view;
}

export function setView(view) {
  go(`#/project/${app.pid}/${view}`);
}

// ------------------------------------------------------------------------------------------
// state

export async function refresh(redraw = true) {
  const st = await api.get(`/api/projects/${app.pid}`);
  app.state = st;
  updateChrome();
  if (st.session && st.files && st.files.master) {
    const key = `${st.files.master}@${st.render && st.render.render_seconds}@${st.project.saved_render || ""}`;
    if (key !== app.previewKey) loadPreview(key);
    else setupAbc(); // a new reference or loudness numbers
  }
  if (redraw && !st.job) renderView();
  return st;
}

/** Load the processed stems into the live preview, and the master's waveform. */
function loadPreview(key) {
  const st = app.state;
  app.previewKey = key;
  app.engine.forget();
  const base = `/api/projects/${app.pid}/files/`;
  const t0 = performance.now();
  const defs = Object.entries(st.stem_files || {}).map(([k, rel]) => ({
    key: k,
    url: base + rel + `?v=${encodeURIComponent(key)}`,
    ...stripLevel(k),
  }));
  app.previewLoading = (async () => {
    try {
      const master = await app.engine.load(base + st.files.master + `?v=${encodeURIComponent(key)}`);
      app.wave = { peaks: peaks(master, 1200), duration: master.duration };
      drawWave();
      setupAbc();
      await app.engine.setStrips(defs);
      app.engine.setMasterGainDb(masterGainDb());
      app.timings.preview_ready_ms = performance.now() - t0;
      document.body.dataset.preview = "ready";
    } catch (e) {
      toast(`Preview: ${e.message}`, "error");
    }
  })();
  return app.previewLoading;
}

function masterGainDb() {
  const r = app.state.render;
  return r && r.master && r.master.gain_db !== null ? r.master.gain_db : 0;
}

/** A/B/C sources, loudness-matched to the quietest of them (so nothing is boosted into clipping). */
export function setupAbc() {
  const st = app.state;
  const base = `/api/projects/${app.pid}/files/`;
  const v = `?v=${encodeURIComponent(app.previewKey || "")}`;
  const lufs = {
    raw: st.studio ? st.studio.raw_lufs : null,
    master: st.studio ? st.studio.master_lufs : null,
    ref: st.reference ? st.reference.lufs : null,
  };
  const present = Object.entries(lufs).filter(([k, l]) => l !== null && (k !== "ref" || st.reference));
  const match = Math.min(...present.map(([, l]) => l));
  app.matchLufs = Number.isFinite(match) ? match : null;
  const matched = app.loudnessMatch !== false;
  const gain = (k) => (matched && lufs[k] !== null && app.matchLufs !== null ? app.matchLufs - lufs[k] : 0);
  app.engine.setAbc("raw", st.files.raw ? base + st.files.raw + v : null, gain("raw"));
  app.engine.setAbc("master", st.files.master ? base + st.files.master + v : null, gain("master"));
  app.engine.setAbc("ref", st.reference ? base + st.reference.path : null, gain("ref"));
}

// ------------------------------------------------------------------------------------------
// preview levels: the session now against the session as rendered

function findChannel(key) {
  const s = app.state.session;
  const [kind, id] = key.split(":");
  return (kind === "track" ? s.tracks : s.buses).find((x) => x.id === id);
}

export function stripLevel(key) {
  const st = app.state;
  const now = findChannel(key);
  const was = st.rendered && st.rendered[key];
  if (!now || !was) return { gain: 1, pan: 0 };
  const c = now.chain;
  const anySolo = st.session.tracks.some((t) => t.chain.solo);
  let gain;
  const rf = dbNum(was.fader_db);
  if (!Number.isFinite(rf)) gain = 0; // the stem was rendered silent: render to hear it
  else gain = dbToGain(dbNum(c.fader_db) - rf);
  if (c.mute) gain = 0;
  if (key.startsWith("track:")) {
    if (anySolo && !c.solo) gain = 0;
    if (now.bus) {
      const bus = st.session.buses.find((b) => b.id === now.bus);
      const bw = st.rendered[`bus:${now.bus}`];
      if (bus && bw && Number.isFinite(dbNum(bw.fader_db))) {
        gain *= bus.chain.mute ? 0 : dbToGain(dbNum(bus.chain.fader_db) - dbNum(bw.fader_db));
      }
    }
  }
  return { gain, pan: c.pan - (was.pan || 0) };
}

/** Push every strip's level to the preview (after mute/solo/group changes). */
export function applyAllLevels(eventTime) {
  for (const key of app.engine.strips.keys()) {
    const { gain, pan } = stripLevel(key);
    app.engine.setGain(key, gain, eventTime);
    app.engine.setPan(key, pan);
  }
}

/** Set a parameter: the page's copy and the preview at once, then the server (autosave). */
export async function setParam(path, value, { quiet = false } = {}) {
  status("saving");
  try {
    const res = await api.post(`/api/projects/${app.pid}/param`, { path, value });
    applyLocal(path, res.new);
    if (res.target && res.curve) app.state.curves[res.target] = res.curve;
    app.state.needs_render = true;
    status("saved");
    updateChrome();
    return res;
  } catch (e) {
    status("error", e.message);
    if (!quiet) toast(e.message, "error");
    throw e;
  }
}

// Edits waiting for their debounce (a fader being moved): sent at once if the tab closes, so
// closing the page loses nothing.
const queued = new Map();
let flushTimer = null;

/** Queue a parameter for saving shortly (drags and key repeats send one request). */
export function queueParam(path, value, delayMs = 300) {
  queued.set(path, value);
  clearTimeout(flushTimer);
  flushTimer = setTimeout(flushQueued, delayMs);
  status("saving");
}

export async function flushQueued() {
  const items = [...queued.entries()];
  queued.clear();
  for (const [path, value] of items) {
    try {
      await setParam(path, value);
    } catch {
      /* setParam showed the message */
    }
  }
}

window.addEventListener("pagehide", () => {
  if (!app.pid) return;
  for (const [path, value] of queued.entries()) {
    fetch(`/api/projects/${app.pid}/param`, {
      method: "POST",
      keepalive: true,
      headers: { "X-Mixwise": "1", "Content-Type": "application/json" },
      body: JSON.stringify({ path, value }),
    });
  }
  queued.clear();
});

/** Write ``value`` at ``path`` into app.state.session (same grammar as the server). */
export function applyLocal(path, value) {
  let obj = app.state.session;
  const parts = path.split(".");
  parts.forEach((part, i) => {
    const m = part.match(/^(\w+)(?:\[([^\]]+)\])?$/);
    const last = i === parts.length - 1;
    if (m[2] === undefined) {
      if (last) obj[m[1]] = value;
      else obj = obj[m[1]];
    } else {
      const list = obj[m[1]];
      const idx = /^-?\d+$/.test(m[2]) ? Number(m[2]) : list.findIndex((x) => x.id === m[2]);
      if (last) list[idx] = value;
      else obj = list[idx];
    }
  });
}

// ------------------------------------------------------------------------------------------
// chrome: top bar, tabs, downloads

function showChrome(on) {
  for (const id of ["tabs", "transport", "mixit", "render-button", "dl-wrap"]) $("#" + id).classList.toggle("hidden", !on);
  $("#save-status").classList.toggle("hidden", !on);
  $("#project-name").textContent = on && app.state ? app.state.project.name : "";
}

export function updateChrome() {
  const st = app.state;
  if (!st) return;
  $("#project-name").textContent = st.project.name || "";
  const has = !!st.session;
  const rb = $("#render-button");
  rb.disabled = !has || !!st.job;
  $("#mix-button").disabled = !!st.job || !st.stems.length;
  rb.classList.toggle("attention", has && st.needs_render);
  rb.textContent = has && st.needs_render ? "Render changes" : "Render";
  const pending = has ? st.session.proposals.filter((p) => p.status === "pending").length : 0;
  const badge = $("#pending-badge");
  badge.textContent = pending;
  badge.classList.toggle("hidden", !pending);
  if (has && st.session.intent) {
    $("#level").value = st.session.intent.level || "auto";
  }
  const r = st.render && st.render.master;
  $("#m-int").innerHTML = `${r ? fmtLufs(r.integrated_lufs) : "–"}<small>LUFS</small>`;
  $("#m-tp").innerHTML = `${r ? fmtLufs(r.true_peak_dbtp) : "–"}<small>dBTP</small>`;
  buildDownloads();
}

function buildDownloads() {
  const st = app.state;
  const f = st.features || {};
  const base = `/api/projects/${app.pid}/download/`;
  const has = !!(st.files && st.files.master);
  const items = [
    ["master", "Master (WAV 24-bit)", has],
    ["mix", "Mix before mastering (WAV float)", has],
    ["stems", "Processed stems (ZIP)", has],
    ["session", "Session (JSON)", !!st.session],
    ["report", "Report (HTML)", has],
    ["report-json", "Report data (JSON)", has],
    ["ardour", "Ardour session (ZIP)", has && f.export_ardour],
    ["reaper", "REAPER project (ZIP)", has && f.export_reaper],
    ["dawproject", "DAWproject", has && f.export_dawproject],
  ];
  $("#dl-menu").replaceChildren(
    ...items.map(([k, label, on]) =>
      h("a", { href: base + k, class: on ? "" : "off", download: "", "data-dl": k }, label, h("small", on ? "" : "not available")),
    ),
  );
}

export function status(kind, message) {
  const el = $("#save-status");
  el.className = kind === "saving" ? "saving" : kind === "error" ? "error" : "";
  el.textContent = kind === "saving" ? "Saving…" : kind === "error" ? `Not saved: ${message}` : "All changes saved";
}

// ------------------------------------------------------------------------------------------
// jobs: mix and render

export async function startMix(options = {}) {
  const level = options.level || $("#level").value;
  const preset = app.info.presets[$("#target").value] || { lufs: -14, dbtp: -1 };
  const body = { level, target_lufs: preset.lufs, ceiling_dbtp: preset.dbtp, ...options.body };
  try {
    app.engine.stop(true);
    const res = await api.post(`/api/projects/${app.pid}/mix`, body);
    await followJob(res.job);
    toast(level === "assist" ? "Suggestions ready: accept or reject each one." : "Mixed and mastered.", "ok");
    app.view = level === "assist" ? "suggestions" : "mix";
    go(`#/project/${app.pid}/${app.view}`);
    renderView();
  } catch (e) {
    toast(e.message, "error", 8000);
    await refresh();
  }
}

export async function startRender() {
  try {
    app.engine.stop(true);
    const res = await api.post(`/api/projects/${app.pid}/render`, {});
    await followJob(res.job);
    toast("Rendered: the preview now plays the exact server render.", "ok");
    renderView();
  } catch (e) {
    toast(e.message, "error", 8000);
    await refresh();
  }
}

export async function followJob(job) {
  views.renderProgress(job);
  const done = await api.waitJob(job.id, (j) => views.updateProgress(j));
  app.previewKey = null;
  await refresh(false);
  return done;
}

// ------------------------------------------------------------------------------------------
// transport

export async function togglePlay() {
  const e = app.engine;
  if (e.playing) {
    e.pause();
  } else {
    if (app.previewLoading) await app.previewLoading;
    await e.play();
  }
  $("#tp-play").textContent = e.playing ? "❚❚" : "▶";
}

export function seek(t) {
  app.engine.seek(t);
}

export function drawWave() {
  const c = $("#wave");
  if (!c || !app.state) return;
  const markers = app.state.session ? app.state.session.markers.filter((m) => m.kind === "comment") : [];
  const dur = app.wave ? app.wave.duration : app.state.session ? app.state.session.length_s : 1;
  waveform(c, app.wave && app.wave.peaks, { pos: app.engine.time(), duration: dur || 1, markers });
}

let lastTick = { t: -1, playing: false, at: 0 };

function tick() {
  const now = performance.now();
  const e = app.engine;
  const idle = !e.playing && !lastTick.playing && lastTick.t === e.time() && now - lastTick.at < 500;
  if (app.state && app.state.session && !idle) {
    const t = e.time();
    lastTick = { t, playing: e.playing, at: now };
    const len = (app.wave && app.wave.duration) || app.state.session.length_s || 0;
    $("#clock").innerHTML = `${fmtTime(t)} <small>/ ${fmtTime(len, false)}</small>`;
    drawWave();
    if (now - (app.lastMeterText || 0) > 100) {
      app.lastMeterText = now;
      const m = e.masterMeters();
      $("#m-mom").innerHTML = `${m.lufs === null ? "–" : fmtLufs(m.lufs)}<small>LUFS</small>`;
      $("#m-peak").innerHTML = `${m.peak === null ? "–" : fmtLufs(m.peak)}<small>dBFS</small>`;
    }
    $("#tp-play").textContent = e.playing ? "❚❚" : "▶";
    const src = { live: "Live preview of the processed stems (approximate master)", raw: "A: raw sum of the stems, unity gain", master: "B: mixwise master (exact render)", ref: "C: reference track" };
    $("#tp-src").textContent = src[e.mode] + (e.mode !== "live" && app.loudnessMatch !== false && app.matchLufs !== null ? ` · matched to ${fmtLufs(app.matchLufs)} LUFS` : "");
    if (app.view === "mixer") tickMixer(t);
    views.tickViews(t);
  }
  requestAnimationFrame(tick);
}

function waveClick(ev) {
  if (!app.wave) return;
  const r = ev.currentTarget.getBoundingClientRect();
  const t = ((ev.clientX - r.left) / r.width) * app.wave.duration;
  if (ev.shiftKey) {
    app.commentAt = t;
    setView("feedback");
    return;
  }
  seek(t);
}

// ------------------------------------------------------------------------------------------
// start-up

async function init() {
  try {
    app.info = await api.get("/api/info");
  } catch (e) {
    $("#main").replaceChildren(h("div.empty", h("b", "The studio server cannot be reached"), e.message));
    return;
  }
  const target = $("#target");
  const labels = { streaming: "Streaming", apple: "Apple Music", amazon: "Amazon", deezer: "Deezer", youtube: "YouTube", spotify: "Spotify", tidal: "Tidal", broadcast: "Broadcast", club: "Club" };
  for (const [k, p] of Object.entries(app.info.presets)) {
    target.append(h("option", { value: k }, `${labels[k] || k}  ${p.lufs} LUFS / ${p.dbtp} dBTP`));
  }
  target.value = "streaming";
  $("#home").addEventListener("click", () => go("#/"));
  $("#mix-button").addEventListener("click", () => startMix());
  $("#render-button").addEventListener("click", () => startRender());
  $("#dl-button").addEventListener("click", (e) => {
    e.stopPropagation();
    $("#dl-menu").classList.toggle("hidden");
  });
  document.addEventListener("click", () => $("#dl-menu").classList.add("hidden"));
  $$("#tabs button").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
  $("#tp-play").addEventListener("click", togglePlay);
  $("#tp-stop").addEventListener("click", () => {
    app.engine.stop();
    app.engine.offset = 0;
  });
  $("#wave").addEventListener("click", waveClick);
  app.engine.onEnded = () => ($("#tp-play").textContent = "▶");
  document.addEventListener("keydown", (e) => {
    const typing = /INPUT|TEXTAREA|SELECT/.test(document.activeElement?.tagName || "") || document.activeElement?.getAttribute("role") === "slider";
    if (e.code === "Space" && !typing && app.state) {
      e.preventDefault();
      togglePlay();
    }
    if (e.code === "Home" && !typing && app.state) seek(0);
    if ((e.ctrlKey || e.metaKey) && e.key === "z" && !typing && app.state) {
      e.preventDefault();
      views.doUndo();
    }
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", () => app.state && !app.state.job && renderView());
  requestAnimationFrame(tick);
  await route();
}

init();
