// The views other than the mixer: start, progress, mix overview, suggestions, listen and
// compare, look (pictures), feedback (comments and requests in words).
import * as api from "./api.js";
import { peaks } from "./audio.js";
import { app, drawWave, followJob, go, refresh, renderView, seek, setupAbc, startMix, togglePlay, updateChrome } from "./main.js";
import { bars, lines, matrix, waveform } from "./plots.js";
import { $, $$, fmtBytes, fmtDb, fmtLufs, fmtTime, fmtValue, h, prettyParam, toast } from "./util.js";

const EXT = /\.(wav|wave|flac|aif|aiff|ogg|mp3)$/i;
const LEVELS = {
  auto: ["Auto", "mixwise does the whole mix and master"],
  conditional: ["Conditional", "everything, around your locks and target"],
  partial: ["Partial", "only the tasks you tick"],
  assist: ["Assist", "suggests every move; you accept or reject"],
  manual: ["Manual", "renders the session as you set it"],
};
const TASK_NAMES = {
  prep: "Preparation", gain: "Gain staging", pan: "Panning", eq: "EQ", dynamics: "Dynamics",
  balance: "Balance", unmask: "Unmasking", space: "Space", master: "Mastering", user: "Your changes",
};

// ------------------------------------------------------------------------------------------
// start: drop or choose a folder, or open a saved project

export async function renderStart() {
  const main = $("#main");
  main.style.overflow = "";
  const files = h("input", { type: "file", multiple: true, accept: ".wav,.wave,.flac,.aif,.aiff,.ogg,.mp3,audio/*", class: "hidden", id: "pick-files" });
  const folder = h("input", { type: "file", multiple: true, webkitdirectory: true, class: "hidden", id: "pick-folder" });
  const session = h("input", { type: "file", accept: ".json,application/json", class: "hidden", id: "pick-session" });
  files.addEventListener("change", () => importFiles([...files.files]));
  folder.addEventListener("change", () => importFiles([...folder.files]));
  const drop = h("div.drop#drop",
    h("div", { html: '<svg width="46" height="46" viewBox="0 0 24 24" fill="none" stroke="#f0a030" stroke-width="1.5"><path d="M3 7h6l2 2h10v10a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z"/><path d="M12 12v6M9 15l3-3 3 3"/></svg>' }),
    h("div.big", "Drop a folder of stems here"),
    h("div.muted", `WAV, FLAC, AIFF, Ogg or MP3 · up to ${fmtBytes(app.info.limits.max_file_bytes)} per file, ${fmtBytes(app.info.limits.max_project_bytes)} per song`),
    h("div.row",
      h("button.btn.primary.big", { on: { click: () => folder.click() } }, "Choose a folder…"),
      h("button.btn.big", { on: { click: () => files.click() } }, "Choose files…"),
      h("button.btn.big.ghost", { on: { click: () => session.click() }, title: "A session.json saved by mixwise; then add its stems" }, "Open a session file…"),
    ),
    files, folder, session,
  );
  session.addEventListener("change", () => openSessionFile(session.files[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    importFiles(await droppedFiles(e.dataTransfer));
  });
  const list = h("div.projects#projects", h("div.muted", "Loading…"));
  main.replaceChildren(
    h("div.start",
      h("h1", "Mix a song"),
      h("div.muted", "Give mixwise the stems of a song: it balances, pans, EQs, compresses, adds space and masters — and explains every move."),
      drop,
      h("div.row", { style: { marginTop: "28px" } }, h("h2.grow", "Recent sessions"), h("span.faint", "saved automatically")),
      list,
    ),
  );
  try {
    const { projects } = await api.get("/api/projects");
    list.replaceChildren(
      ...(projects.length ? projects.map(projectCard) : [h("div.muted", "No sessions yet. Drop a folder of stems above to start.")]),
    );
  } catch (e) {
    list.replaceChildren(h("div.muted", e.message));
  }
}

function projectCard(p) {
  const state = p.has_render ? h("span.pill.good", "mixed") : p.stems ? h("span.pill.warn", "not mixed yet") : h("span.pill", "empty");
  const when = (p.saved || p.created || "").replace("T", " ").slice(0, 16);
  const del = h("button.btn.ghost.small", { title: "Delete this session and its files", style: { marginLeft: "auto" } }, "×");
  del.addEventListener("click", async (e) => {
    e.stopPropagation();
    if (!confirm(`Delete “${p.name}” and all its files?`)) return;
    try {
      await api.del(`/api/projects/${p.id}`);
      renderStart();
    } catch (err) {
      toast(err.message, "error");
    }
  });
  return h("div.pcard", { on: { click: () => go(`#/project/${p.id}/mix`) }, "data-project": p.id },
    h("div.row", h("div.name", p.name), del),
    h("div.row", state, h("span.faint", `${p.stems} stem${p.stems === 1 ? "" : "s"}`)),
    h("div.faint", { style: { fontSize: "11px" } }, when ? `saved ${when} UTC` : ""),
  );
}

async function droppedFiles(dt) {
  const out = [];
  const walk = async (entry) => {
    if (entry.isFile) out.push(await new Promise((res, rej) => entry.file(res, rej)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res) => reader.readEntries(res));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (entries.length) for (const e of entries) await walk(e);
  else out.push(...dt.files);
  return out;
}

/** Upload stems into a new project, one file per request (clear errors per file). */
export async function importFiles(all, existingPid = null) {
  const audio = all.filter((f) => EXT.test(f.name));
  const skipped = all.filter((f) => !EXT.test(f.name) && !f.name.startsWith("."));
  if (!audio.length) {
    toast("No audio files there (WAV, FLAC, AIFF, Ogg, MP3).", "error");
    return;
  }
  const folderName = (all[0].webkitRelativePath || "").split("/")[0] || (audio.length === 1 ? audio[0].name.replace(EXT, "") : "New song");
  let pid = existingPid;
  if (!pid) pid = (await api.post("/api/projects", { name: folderName })).project.id;
  const total = audio.reduce((a, f) => a + f.size, 0);
  let sent = 0;
  const rows = audio.map((f) => h("div.f", h("span", f.name), h("span.faint.num", fmtBytes(f.size)), h("span.faint", "waiting")));
  renderProgress({ stage: "Uploading the stems", progress: 0, kind: "upload" }, rows);
  const problems = [];
  for (let i = 0; i < audio.length; i++) {
    const f = audio[i];
    rows[i].lastChild.textContent = "uploading…";
    try {
      await api.upload(`/api/projects/${pid}/stems`, [f], (done) => updateProgress({ stage: "Uploading the stems", progress: (0.98 * (sent + done)) / total, kind: "upload" }));
      rows[i].lastChild.textContent = "✓ uploaded";
      rows[i].lastChild.className = "ok";
    } catch (e) {
      rows[i].lastChild.textContent = e.message;
      rows[i].lastChild.className = "notok";
      problems.push(e.message);
    }
    sent += f.size;
  }
  if (skipped.length) toast(`Left out ${skipped.length} file(s) that are not audio: ${skipped.slice(0, 3).map((f) => f.name).join(", ")}`, "info", 6000);
  if (problems.length) toast(problems[0], "error", 8000);
  if (app.pendingSession) {
    const file = app.pendingSession;
    app.pendingSession = null;
    try {
      await api.upload(`/api/projects/${pid}/session-file`, [file], null);
      toast("Session opened. Press Render to hear it exactly as saved.", "ok", 6000);
      go(`#/project/${pid}/mixer`);
      return;
    } catch (e) {
      toast(e.message, "error", 10000);
    }
  }
  go(`#/project/${pid}/mix`);
}

function openSessionFile(file) {
  if (!file) return;
  app.pendingSession = file;
  toast(`Session “${file.name}” chosen. Now choose or drop the folder with its stems: the tracks are matched to them by file name.`, "info", 10000);
  const drop = $("#drop");
  if (drop) drop.classList.add("over");
}

// ------------------------------------------------------------------------------------------
// progress

const STEPS = [["upload", "Upload"], ["analyse", "Analyse"], ["mix", "Mix"], ["master", "Master"], ["measure", "Measure"]];

export function renderProgress(job, rows = null) {
  const main = $("#main");
  delete document.body.dataset.mixer;
  for (const id of ["#mix-button", "#render-button"]) $(id).disabled = true; // one job at a time
  main.style.overflow = "";
  const title = job.kind === "render" ? "Rendering the session" : job.kind === "variations" ? "Making alternative mixes" : job.kind === "upload" ? "Importing the stems" : "Mixing your song";
  main.replaceChildren(
    h("div.progress-view#progress",
      h("div.card",
        h("h2", { style: { marginBottom: "6px" } }, title),
        h("div.stage#stage", job.stage || "Starting"),
        h("div.progress", h("div#bar")),
        h("div.row", { style: { marginTop: "6px" } }, h("span.faint#pct", "0 %"), h("span.spacer"), h("span.faint#elapsed", "")),
        h("div.steps#steps", ...STEPS.map(([k, l]) => h("span", { "data-step": k }, l))),
        rows ? h("div.filelist", ...rows) : null,
      ),
    ),
  );
  updateProgress(job);
}

export function updateProgress(job) {
  const bar = $("#bar");
  if (!bar) return;
  const pct = Math.round((job.progress || 0) * 100);
  bar.style.width = `${pct}%`;
  $("#pct").textContent = `${pct} %`;
  $("#stage").textContent = job.error || job.stage || "";
  if (job.elapsed_s !== undefined) $("#elapsed").textContent = `${job.elapsed_s.toFixed(1)} s`;
  const s = (job.stage || "").toLowerCase();
  const now = job.kind === "upload" ? 0 : s.includes("analys") || s.includes("read") || s.includes("start") ? 1 : s.includes("mix") || s.includes("render") ? 2 : s.includes("master") ? 3 : s.includes("measur") || s === "done" ? 4 : 1;
  $$("#steps span").forEach((el, i) => {
    el.className = i < now ? "done" : i === now ? "now" : "";
  });
}

// ------------------------------------------------------------------------------------------
// mix: the one button, then results and downloads

export function renderMix(main) {
  main.style.overflow = "";
  const st = app.state;
  const view = h("div.view");
  main.append(view);
  if (!st.session || !st.files || !st.files.master) {
    view.append(mixSetup(st));
    return;
  }
  const r = st.render || {};
  const ms = r.master || {};
  const target = st.session.master.target_lufs;
  const ceiling = st.session.master.limiter.ceiling_dbtp;
  const okL = target !== null && ms.integrated_lufs !== null && Math.abs(ms.integrated_lufs - target) <= 0.5;
  const okP = ms.true_peak_dbtp !== null && ms.true_peak_dbtp <= ceiling + 0.05;
  const cosmetic = /\.(colour|role|role_confidence|name)$/;
  const moves = st.session.history.filter((e) => !cosmetic.test(e.parameter));
  const pending = st.session.proposals.filter((p) => p.status === "pending").length;
  const f = st.features;
  const dl = (k, title, desc, ico, on = true) =>
    h("a.dl", { href: `/api/projects/${app.pid}/download/${k}`, class: on ? "dl" : "dl off", download: "", "data-dl": k }, h("span.ico", ico), h("span", h("div.t", title), h("div.d", on ? desc : "not available in this version")));
  view.append(
    h("div.overview",
      h("div",
        h("div.card",
          h("div.card-head", h("h2.grow", "Your mix"), st.needs_render ? h("span.pill.warn", "changed since the last render") : h("span.pill.good", "rendered"), h("span.pill", `level: ${(st.session.intent && st.session.intent.level) || "auto"}`)),
          h("div.grid3",
            stat("Integrated", fmtLufs(ms.integrated_lufs), "LUFS", target !== null ? `target ${fmtLufs(target)} ${okL ? "✓" : "✗"}` : "", okL),
            stat("True peak", fmtLufs(ms.true_peak_dbtp), "dBTP", `ceiling ${fmtLufs(ceiling)} ${okP ? "✓" : "✗"}`, okP),
            stat("Length", fmtTime(r.duration_s || st.session.length_s, false), "", `${st.session.tracks.length} tracks · ${st.session.sample_rate / 1000} kHz`),
          ),
          h("div.row", { style: { marginTop: "14px" } },
            h("button.btn.primary.big", { on: { click: togglePlay }, id: "play-big" }, "▶ Play the mix"),
            h("button.btn.big", { on: { click: () => go(`#/project/${app.pid}/listen`) } }, "A/B against the raw stems"),
            pending ? h("button.btn.big.attention", { on: { click: () => go(`#/project/${app.pid}/suggestions`) } }, `${pending} suggestion${pending > 1 ? "s" : ""} to review`) : null,
          ),
        ),
        h("div.card",
          h("div.card-head", h("h2.grow", "What mixwise did"), h("span.faint", `${moves.length} moves, each with its reason`)),
          h("div.moves", ...moves.slice(0, 200).map(moveRow)),
        ),
      ),
      h("div",
        h("div.card",
          h("div.card-head", h("h2.grow", "Download")),
          h("div.downloads",
            dl("master", "Master", "WAV 24-bit, ready to release", "WAV"),
            dl("mix", "Mix", "before mastering, 32-bit float", "WAV"),
            dl("stems", "Stems", "each track processed, ZIP", "ZIP"),
            dl("session", "Session", "every setting, editable JSON", "JSON"),
            dl("report", "Report", "moves, reasons, pictures", "HTML"),
            dl("report-json", "Report data", "the same as JSON", "JSON"),
            dl("ardour", "Ardour", "DAW session, ZIP", "ARD", f.export_ardour),
            dl("reaper", "REAPER", "DAW project, ZIP", "RPP", f.export_reaper),
            dl("dawproject", "DAWproject", "Bitwig, Studio One, Cubase", "DAW", f.export_dawproject),
          ),
        ),
        h("div.card", mixAgain(st)),
      ),
    ),
  );
}

function stat(k, v, unit, sub, ok) {
  return h("div.stat", h("span.k", k), h("span.v", v, unit ? h("small", unit) : null), sub ? h("span", { class: ok === undefined ? "muted" : ok ? "ok" : "notok", style: { fontSize: "12px" } }, sub) : null);
}

function moveRow(e) {
  return h("div.move",
    h("span.task-tag", TASK_NAMES[e.task] || e.task),
    h("span", { style: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" } }, e.target),
    h("span", h("span.mono", `${prettyParam(e.parameter)}: ${fmtValue(e.old, e.unit)} → ${fmtValue(e.new, e.unit)}`), h("span.muted", ` — ${e.reason}`)),
  );
}

function levelPicker(selected, onPick) {
  const box = h("div.levels");
  for (const [k, [name, desc]] of Object.entries(LEVELS)) {
    const el = h("div.level", { class: `level ${k === selected ? "on" : ""}`, "data-level": k }, h("b", name), h("span", desc));
    el.addEventListener("click", () => {
      $$(".level", box).forEach((x) => x.classList.toggle("on", x === el));
      onPick(k);
    });
    box.append(el);
  }
  return box;
}

function amountSliders(intent) {
  const box = h("div.amounts");
  const amounts = { ...(intent && intent.amount_pct) };
  for (const t of ["all", ...app.info.tasks]) {
    const v = amounts[t] ?? 100;
    const out = h("span.num.faint", `${Math.round(v)} %`);
    const r = h("input", { type: "range", min: 0, max: 100, step: 5, value: v, "data-amount": t });
    r.addEventListener("input", () => (out.textContent = `${r.value} %`));
    box.append(h("div.amount", h("span", t === "all" ? "All moves" : TASK_NAMES[t]), r, out));
  }
  return box;
}

function readAmounts(root) {
  const out = {};
  for (const r of $$("input[data-amount]", root)) if (Number(r.value) !== 100) out[r.dataset.amount] = Number(r.value);
  return out;
}

function mixSettings(st, buttonLabel) {
  const intent = st.session && st.session.intent;
  let level = (intent && intent.level) || $("#level").value || "auto";
  const tasks = h("div.row", { style: { flexWrap: "wrap", marginTop: "8px" } },
    ...app.info.tasks.map((t) => h("label", { class: "pill", style: { cursor: "pointer" } }, h("input", { type: "checkbox", checked: !intent || !intent.tasks || intent.tasks.includes(t), "data-task": t }), ` ${TASK_NAMES[t]}`)),
  );
  const amounts = amountSliders(intent);
  const PROFILES = ["", "pop", "rock", "hiphop", "edm", "jazz", "acoustic"];
  const current = (intent && intent.profile) || "";
  const profile = h("label.row", { style: { marginTop: "8px", gap: "8px" } }, h("span.muted", "Style"),
    h("select", { "data-profile": "1", title: "A genre profile shifts the balance, tone, space and dynamics targets" },
      PROFILES.map((p) => h("option", { value: p, selected: p === current }, p || "none"))));
  const locks = h("input", { type: "text", placeholder: "locks, comma-separated, e.g. track:vox, role:kick, task:dynamics family:drums", value: intent ? (intent.locks || []).join(", ") : "", style: { width: "100%", marginTop: "8px" } });
  const box = h("div",
    h("h3", "Level of automation"),
    levelPicker(level, (k) => {
      level = k;
      $("#level").value = k;
      tasks.style.display = k === "partial" ? "flex" : "none";
    }),
    tasks,
    h("details", { style: { marginTop: "10px" } }, h("summary", { class: "muted", style: { cursor: "pointer" } }, "Amounts, locks and style"), amounts, locks, profile),
    h("div.row", { style: { marginTop: "14px" } },
      h("span.muted", "Target"), $("#target").cloneNode(true),
      h("span.spacer"),
      h("button.btn.primary.big#mix-now", {
        on: {
          click: (e) => {
            const sel = $("select", e.currentTarget.parentElement);
            $("#target").value = sel.value;
            const body = {};
            if (level === "partial") body.tasks = $$("input[data-task]", box).filter((c) => c.checked).map((c) => c.dataset.task);
            const am = readAmounts(box);
            if (Object.keys(am).length) body.amounts = am;
            const lk = locks.value.split(",").map((s) => s.trim()).filter(Boolean);
            if (lk.length) body.locks = lk;
            body.profile = $("select[data-profile]", box).value || "none";
            startMix({ level, body });
          },
        },
      }, buttonLabel),
    ),
  );
  tasks.style.display = level === "partial" ? "flex" : "none";
  const sel = $("select", box.lastChild);
  sel.id = "";
  sel.value = $("#target").value;
  return box;
}

function mixSetup(st) {
  return h("div", { style: { maxWidth: "920px", margin: "0 auto" } },
    h("div.card",
      h("div.card-head", h("h2.grow", `${st.stems.length} stem${st.stems.length === 1 ? "" : "s"} ready`), h("span.faint", fmtBytes(st.stems.reduce((a, s) => a + s.size_bytes, 0)))),
      h("div.filelist", ...st.stems.map((s) => h("div.f", h("span", s.name), h("span.faint.num", fmtBytes(s.size_bytes)), h("span.ok", "✓")))),
      h("div.row", { style: { marginTop: "10px" } },
        h("button.btn.small", { on: { click: () => addMore() } }, "+ Add stems"),
      ),
    ),
    h("div.card", mixSettings(st, "Mix it")),
  );
}

function addMore() {
  const input = h("input", { type: "file", multiple: true });
  input.addEventListener("change", () => importFiles([...input.files], app.pid));
  input.click();
}

function mixAgain(st) {
  return h("div", h("div.card-head", h("h2.grow", "Mix again")), mixSettings(st, "Mix again"));
}

// ------------------------------------------------------------------------------------------
// suggestions

export function renderSuggestions(main) {
  main.style.overflow = "";
  const st = app.state;
  const view = h("div.view");
  main.append(view);
  if (!st.session) {
    view.append(h("div.empty", h("b", "No suggestions yet"), "Choose the Assist level and press “Mix it”: every move is listed here to accept or reject."));
    return;
  }
  const props = st.session.proposals;
  const byTask = new Map();
  for (const p of props) {
    if (!byTask.has(p.task)) byTask.set(p.task, []);
    byTask.get(p.task).push(p);
  }
  const left = h("div");
  if (!props.length) {
    left.append(h("div.card.empty", h("b", "Nothing to review"), "This mix was made at the “", (st.session.intent && st.session.intent.level) || "auto", "” level, which applies its moves directly. Mix at the Assist level to review each move first.",
      h("div.row", { style: { justifyContent: "center", marginTop: "12px" } }, h("button.btn.primary", { on: { click: () => startMix({ level: "assist" }) } }, "Mix at the Assist level"))));
  }
  for (const [task, list] of byTask) {
    const pending = list.filter((p) => p.status === "pending");
    const amount = h("input", { type: "range", min: 0, max: 100, step: 5, value: 100, "data-task-amount": task, title: "How far accepted moves go" });
    const amountOut = h("span.num.faint", "100 %");
    amount.addEventListener("input", () => (amountOut.textContent = `${amount.value} %`));
    const all = h("button.btn.small.good", { disabled: !pending.length, "data-accept-task": task }, `Accept all ${pending.length}`);
    all.addEventListener("click", () => act(`/api/projects/${app.pid}/proposals/accept-task`, { task, amount_pct: Number(amount.value) }, `Accepted ${pending.length} ${TASK_NAMES[task] || task} move(s)`));
    left.append(
      h("div.task",
        h("div.task-head", h("span.tn", TASK_NAMES[task] || task), h("span.faint", `${pending.length} pending of ${list.length}`), h("span.spacer"), h("span.faint", "amount"), amount, amountOut, all),
        h("div.task-body", ...list.map((p) => suggestionRow(p, amount))),
      ),
    );
  }
  const history = st.session.history.filter((e) => !/\.(colour|role_confidence)$/.test(e.parameter)).slice(-40).reverse();
  const undoBtn = h("button.btn", { disabled: !st.session.history.length || !st.features.undo, on: { click: doUndo }, id: "undo" }, "↶ Undo last change");
  view.append(
    h("div.sugg-layout", left,
      h("div",
        h("div.card",
          h("div.card-head", h("h2.grow", "History"), undoBtn),
          h("div.faint", { style: { marginBottom: "8px", fontSize: "12px" } }, `${st.session.history.length} changes · Ctrl+Z undoes the last`),
          h("div.history", ...history.map((e) => h("div.h", h("div", h("b", e.target), " ", h("span.mono", `${prettyParam(e.parameter)} ${fmtValue(e.old, e.unit)} → ${fmtValue(e.new, e.unit)}`)), h("div.faint", `${e.source === "user" ? "you" : TASK_NAMES[e.task] || e.task} · ${e.reason}`)))),
        ),
        st.needs_render ? h("div.card", h("div.muted", "Accepted moves change the session; press “Render changes” to hear them exactly."), h("button.btn.attention", { style: { marginTop: "8px" }, on: { click: () => $("#render-button").click() } }, "Render changes")) : null,
      ),
    ),
  );
}

function suggestionRow(p, amount) {
  const ev = Object.entries(p.evidence || {}).filter(([, v]) => typeof v !== "object" || v === null).slice(0, 6);
  const accept = h("button.btn.small.good", { disabled: p.status !== "pending", "data-accept": p.number }, "Accept");
  const reject = h("button.btn.small.bad", { disabled: p.status !== "pending" || !app.state.features.reject, "data-reject": p.number }, "Reject");
  accept.addEventListener("click", () => act(`/api/projects/${app.pid}/proposals/${p.number}/accept`, { amount_pct: Number(amount.value) }, `Accepted suggestion ${p.number}`));
  reject.addEventListener("click", () => act(`/api/projects/${app.pid}/proposals/${p.number}/reject`, {}, `Rejected suggestion ${p.number}`));
  return h("div.sg", { class: `sg ${p.status}`, "data-proposal": p.number, "data-status": p.status },
    h("span.no", `#${p.number}`),
    h("div",
      h("div.tg", p.target, h("span.muted", ` · ${prettyParam(p.parameter)}`)),
      h("div.why", p.reason),
      ev.length ? h("div.ev", ...ev.map(([k, v]) => h("span", `${k.replace(/_/g, " ")} ${typeof v === "number" ? Math.round(v * 100) / 100 : v}`))) : null,
    ),
    h("div",
      h("div.chg", h("span.old", fmtValue(p.old, p.unit)), " → ", h("span.new", fmtValue(p.new, p.unit))),
      h("div.conf", { title: `confidence ${Math.round(p.confidence * 100)} %` }, h("div", { style: { width: `${p.confidence * 100}%` } })),
      h("div.faint", { style: { fontSize: "11px", marginTop: "2px" } }, `confidence ${Math.round(p.confidence * 100)} %`),
    ),
    h("div.acts", p.status === "pending" ? [accept, reject] : h("span", { class: `pill ${p.status === "applied" ? "good" : "bad"}` }, p.status === "applied" ? "accepted" : "rejected")),
  );
}

async function act(url, body, message) {
  try {
    await api.post(url, body);
    toast(message, "ok", 2500);
    await refresh();
  } catch (e) {
    toast(e.message, "error", 7000);
  }
}

export async function doUndo() {
  try {
    const res = await api.post(`/api/projects/${app.pid}/undo`, { count: 1 });
    const e = res.undone[0];
    toast(e ? `Undone: ${e.target} ${prettyParam(e.parameter)} back to ${fmtValue(e.old, e.unit)}` : "Undone", "ok", 3000);
    await refresh();
  } catch (e) {
    toast(e.message, "error");
  }
}

// ------------------------------------------------------------------------------------------
// listen and compare

export function renderListen(main) {
  main.style.overflow = "";
  const st = app.state;
  const view = h("div.view");
  main.append(view);
  if (!st.files || !st.files.master) {
    view.append(h("div.empty", h("b", "Nothing to listen to yet"), "Press “Mix it” first."));
    return;
  }
  const lu = (v) => (v === null || v === undefined ? "–" : `${fmtLufs(v)} LUFS`);
  const srcs = [
    ["live", "Live", "Preview", "the processed stems, with your fader moves"],
    ["raw", "A", "Raw sum", `the stems at unity · ${lu(st.studio && st.studio.raw_lufs)}`],
    ["master", "B", "mixwise master", `the exact render · ${lu(st.studio && st.studio.master_lufs)}`],
    ["ref", "C", "Reference", st.reference ? `${st.reference.file} · ${lu(st.reference.lufs)}` : "upload one below"],
  ];
  const abc = h("div.abc",
    ...srcs.map(([k, L, name, desc]) => {
      const off = k === "ref" && !st.reference;
      const el = h("div.src", { class: `src ${app.engine.mode === k ? "on" : ""} ${off ? "off" : ""}`, "data-src": k }, h("span.L", L), h("b", name), h("span", desc));
      el.addEventListener("click", async () => {
        if (off) return;
        await app.engine.setMode(k);
        $$(".abc .src").forEach((x) => x.classList.toggle("on", x === el));
      });
      return el;
    }),
  );
  const match = h("input", { type: "checkbox", checked: app.loudnessMatch !== false, id: "match" });
  match.addEventListener("change", async () => {
    app.loudnessMatch = match.checked;
    setupAbc();
    await app.engine.setMode(app.engine.mode);
  });
  const big = h("canvas.wave-big#wave-big");
  big.addEventListener("click", (ev) => {
    const r = big.getBoundingClientRect();
    seek(((ev.clientX - r.left) / r.width) * (app.wave ? app.wave.duration : 1));
  });
  const refInput = h("input", { type: "file", accept: ".wav,.flac,.aif,.aiff,.ogg,.mp3,audio/*", class: "hidden", id: "pick-reference" });
  refInput.addEventListener("change", async () => {
    try {
      await api.upload(`/api/projects/${app.pid}/reference`, [refInput.files[0]], null);
      toast("Reference loaded: C plays it, loudness-matched.", "ok");
      await refresh();
    } catch (e) {
      toast(e.message, "error", 8000);
    }
  });
  const compareBox = h("div#compare");
  const variationsBox = h("div#variations");
  view.append(
    h("div.card",
      h("div.card-head", h("h2.grow", "Listen and compare"),
        h("label.row.muted", match, "Loudness-matched", app.matchLufs !== null && app.matchLufs !== undefined ? h("span.faint", ` (all at ${fmtLufs(app.matchLufs)} LUFS, so louder never sounds better)`) : null)),
      abc,
      h("div", { style: { marginTop: "12px" } }, big),
      h("div.row", { style: { marginTop: "10px" } },
        h("button.btn.primary", { on: { click: togglePlay } }, "▶ / ❚❚  Play"),
        h("span.faint", "Keys: Space plays, click the waveform to jump; switching A/B/C keeps the position."),
      ),
    ),
    h("div.grid2", { style: { marginTop: "12px" } },
      h("div.card",
        h("div.card-head", h("h2.grow", "Reference track"), h("button.btn.small", { on: { click: () => refInput.click() } }, st.reference ? "Replace…" : "Upload…"), refInput),
        st.reference ? h("div", h("div.muted", `${st.reference.file} · ${fmtTime(st.reference.duration_s, false)} · ${lu(st.reference.lufs)}`), compareBox) : h("div.muted", "A finished song you like the sound of: mixwise compares your master with it (spectrum, loudness) and C plays it loudness-matched."),
      ),
      h("div.card",
        h("div.card-head", h("h2.grow", "Alternative mixes"), h("button.btn.small#make-variations", { disabled: !st.features.variations, on: { click: makeVariations }, title: st.features.variations ? "" : "not available in this version" }, "Make alternatives")),
        variationsBox,
      ),
    ),
  );
  if (st.reference) loadCompare(compareBox);
  loadVariations(variationsBox);
}

async function loadCompare(box) {
  if (!app.state.features.compare) {
    box.append(h("div.faint", { style: { marginTop: "6px" } }, "The detailed comparison is not available in this version; see the spectrum in Look."));
    return;
  }
  try {
    const res = await api.get(`/api/projects/${app.pid}/compare`);
    box.replaceChildren(h("ul", ...res.sentences.map((s) => h("li", s))), res.svg ? h("div.svg-dark", { html: res.svg, style: { marginTop: "8px" } }) : null);
  } catch (e) {
    box.replaceChildren(h("div.faint", e.message));
  }
}

async function makeVariations() {
  try {
    const res = await api.post(`/api/projects/${app.pid}/variations`, { n: app.variationsN || 4 });
    await followJob(res.job);
    renderView();
  } catch (e) {
    toast(e.message, "error", 8000);
    renderView();
  }
}

async function loadVariations(box) {
  if (!app.state.features.variations) {
    box.append(h("div.muted", "Side-by-side alternative mixes are not available in this version of mixwise."));
    return;
  }
  const { variations } = await api.get(`/api/projects/${app.pid}/variations`);
  if (!variations.length) {
    box.append(h("div.muted", "Make a few alternative mixes (different balance and tone) and play them side by side, loudness-matched."));
    return;
  }
  const match = app.matchLufs;
  box.append(h("div.variations", ...variations.map((v) => {
    const play = h("button.btn.small", "▶ Play");
    play.addEventListener("click", async () => {
      const key = `var:${v.name}`;
      app.engine.setAbc(key, `/api/projects/${app.pid}/files/${v.file}`, match !== null && v.lufs !== null ? match - v.lufs : 0);
      await app.engine.setMode(key);
      if (!app.engine.playing) togglePlay();
    });
    const use = h("button.btn.small", "Use this mix");
    use.addEventListener("click", async () => {
      await api.post(`/api/projects/${app.pid}/variations/${v.name}/use`, {});
      toast(`Now using “${v.name}”. Render to hear it in the preview.`, "ok");
      await refresh();
    });
    return h("div.card", { "data-variation": v.name }, h("b", v.name.replace(/^\d+-/, "").replace(/-/g, " ")), h("div.muted", { style: { fontSize: "12px", margin: "4px 0" } }, v.description || ""), h("div.faint.num", `${fmtLufs(v.lufs)} LUFS`), h("div.row", { style: { marginTop: "6px" } }, play, use));
  })));
}

// ------------------------------------------------------------------------------------------
// look: the pictures

export function renderLook(main) {
  main.style.overflow = "";
  const st = app.state;
  const view = h("div.view");
  main.append(view);
  if (!st.studio) {
    view.append(h("div.empty", h("b", "No pictures yet"), "Press “Mix it” first."));
    return;
  }
  const plot = (id, title, note, legend) =>
    h("div.card.plot", h("div.card-head", h("h2.grow", title)), h("canvas", { id }), legend ? h("div.legend", ...legend.map(([c, l, dash]) => h("span", h("i", { style: { background: dash ? `repeating-linear-gradient(90deg, ${c} 0 4px, transparent 4px 7px)` : c } }), l))) : null, note ? h("div.note", note) : null);
  const ref = st.reference;
  const analysis = st.analysis || {};
  view.append(
    h("div.plots",
      plot("p-spectrum", "Spectrum", "Long-term third-octave spectrum, 0 dB = mean of 100 Hz – 8 kHz, so the tonal balance compares whatever the loudness.",
        [["#f0a030", "master"], ["#6b7384", "raw sum"], ["#4cc38a", "target curve", true], ...(ref ? [["#5aa9f0", `reference: ${ref.file}`]] : [])]),
      plot("p-loudness", "Loudness over time", "Short-term loudness (3 s windows, BS.1770) every second.",
        [["#f0a030", "master"], ["#6b7384", "mix before mastering"], ["#4cc38a", "target", true]]),
      plot("p-masking", "Masking matrix", "How much of each column's track is covered by each row's track (% of its bands and moments).", null),
      plot("p-tracks", "Track loudness", "Each track's loudness in the mix (LUFS): grey before, colour after.", null),
    ),
  );
  requestAnimationFrame(() => {
    const sp = st.studio.spectrum;
    const series = [
      { x: sp.freqs_hz, y: sp.raw_db, colour: "#6b7384", width: 1.5 },
      { x: sp.freqs_hz, y: sp.master_db, colour: "#f0a030" },
    ];
    const target = analysis.spectrum;
    if (target) series.splice(1, 0, { x: target.freqs_hz, y: target.target_db, colour: "#4cc38a", dash: [5, 4], width: 1.5 });
    if (ref) series.push({ x: ref.spectrum.freqs_hz, y: ref.spectrum.db, colour: "#5aa9f0" });
    lines($("#p-spectrum"), series, { xlog: true, xmin: 25, xmax: 16000, ymin: -30, ymax: 12, yunit: "dB" });
    const lot = (st.report_plots && st.report_plots.loudness_over_time) || {};
    if (lot.times_s && lot.times_s.length) {
      lines($("#p-loudness"), [
        { x: lot.times_s, y: lot.mix_short_term_lufs, colour: "#6b7384", width: 1.5 },
        { x: lot.times_s, y: lot.master_short_term_lufs, colour: "#f0a030" },
      ], { yunit: "LUFS", xint: true, xfmt: (v) => fmtTime(v, false), hlines: lot.target_lufs !== null ? [{ y: lot.target_lufs, colour: "#4cc38a", label: `target ${lot.target_lufs}` }] : [] });
    }
    const mk = analysis.masking;
    if (mk) matrix($("#p-masking"), mk.tracks, mk.after);
    else noData($("#p-masking"), "masking is measured by a Mix it run");
    // after: the latest render; before: the stems as they came in (measured by the Mix it run)
    const tl = (st.report_plots && st.report_plots.track_loudness) || analysis.track_loudness || [];
    const before = Object.fromEntries((analysis.track_loudness || []).map((r) => [r.track, r.before_lufs]));
    const colours = Object.fromEntries(st.session.tracks.map((t) => [t.name, t.colour]));
    const rows = tl.map((r) => ({ label: r.track, before: r.before_lufs ?? before[r.track] ?? null, after: r.after_lufs, colour: colours[r.track] || r.colour }));
    const c = $("#p-tracks");
    c.style.height = `${Math.max(200, rows.length * 22 + 30)}px`;
    bars(c, rows);
  });
}

function noData(canvas, text) {
  const ctx = canvas.getContext("2d");
  canvas.width = canvas.clientWidth;
  canvas.height = canvas.clientHeight;
  ctx.fillStyle = "#7d8696";
  ctx.font = "12px sans-serif";
  ctx.fillText(text, 12, 24);
}

// ------------------------------------------------------------------------------------------
// feedback: comments pinned to times, requests in words

export function renderFeedback(main) {
  main.style.overflow = "";
  const st = app.state;
  const view = h("div.view");
  main.append(view);
  if (!st.session) {
    view.append(h("div.empty", h("b", "No session yet"), "Press “Mix it” first; then pin comments to moments of the song."));
    return;
  }
  const draftKey = `mixwise:${app.pid}:draft`;
  const at = app.commentAt ?? app.engine.time();
  app.commentAt = undefined;
  const time = h("input", { type: "text", value: fmtTime(at), id: "comment-time", style: { width: "80px" }, title: "m:ss.s" });
  const until = h("input", { type: "text", value: "", id: "comment-end", placeholder: "(optional)", style: { width: "90px" }, title: "end of the passage, m:ss.s" });
  const text = h("textarea", { rows: 3, id: "comment-text", placeholder: "What do you hear here? e.g. “snare too loud in the chorus”", style: { width: "100%" } });
  text.value = localStorage.getItem(draftKey) || "";
  text.addEventListener("input", () => localStorage.setItem(draftKey, text.value));
  const author = h("input", { type: "text", placeholder: "your name (optional)", value: localStorage.getItem("mixwise:author") || "", style: { width: "180px" } });
  const nowBtn = h("button.btn.small", { on: { click: () => (time.value = fmtTime(app.engine.time())) } }, "Now");
  const add = h("button.btn.primary#add-comment", "Add comment");
  add.addEventListener("click", async () => {
    const t = parseTime(time.value);
    if (t === null) return toast("Time as m:ss.s, e.g. 0:03.5", "error");
    const end = until.value.trim() ? parseTime(until.value) : null;
    if (until.value.trim() && (end === null || end <= t)) return toast("The end must be a time after the start", "error");
    if (!text.value.trim()) return toast("Write the comment first", "error");
    localStorage.setItem("mixwise:author", author.value);
    try {
      await api.post(`/api/projects/${app.pid}/comments`, { time_s: t, end_s: end, text: text.value, author: author.value });
      localStorage.removeItem(draftKey);
      toast(`Comment pinned at ${fmtTime(t)}`, "ok", 2500);
      await refresh();
    } catch (e) {
      toast(e.message, "error");
    }
  });
  const req = h("input", { type: "text", id: "request-text", placeholder: "e.g. warmer vocals, more punch in the drums, less reverb", style: { flex: 1 } });
  const rFrom = h("input", { type: "text", id: "request-from", placeholder: "whole song", style: { width: "96px" }, title: "only from (m:ss.s)" });
  const rTo = h("input", { type: "text", id: "request-to", placeholder: "to the end", style: { width: "96px" }, title: "until (m:ss.s)" });
  const reqOut = h("div#request-out", { style: { marginTop: "8px" } });
  if (app.lastRequest) {
    const r = app.lastRequest;
    reqOut.append(h("div", { class: r.ok ? "ok" : "muted" }, r.head), ...r.lines.map((l) => h("div", { class: l.startsWith("not done") ? "notok" : "muted", style: { fontSize: "12px" } }, l)));
  }
  const send = h("button.btn.primary", "Apply");
  const sendReq = async () => {
    if (!req.value.trim()) return;
    try {
      const text = req.value;
      const body = { text };
      if (rFrom.value.trim()) body.start_s = parseTime(rFrom.value);
      if (rTo.value.trim()) body.end_s = parseTime(rTo.value);
      if (body.start_s === null || body.end_s === null) throw new Error("Times as m:ss.s, e.g. 0:12.0");
      const res = await api.post(`/api/projects/${app.pid}/requests`, body);
      const n = res.applied.length;
      app.lastRequest = {
        ok: n > 0,
        head: n ? `“${text}”: ${n} change${n > 1 ? "s" : ""} made (see History; Ctrl+Z undoes)` : `“${text}”: nothing changed`,
        lines: (res.summary || "").split("\n").filter(Boolean),
      };
      await refresh();
    } catch (e) {
      app.lastRequest = { ok: false, head: e.message, lines: [] };
      if (e.status === 501) await refresh();
      else reqOut.replaceChildren(h("div.notok", e.message));
    }
  };
  send.addEventListener("click", sendReq);
  req.addEventListener("keydown", (e) => e.key === "Enter" && sendReq());
  const markers = st.session.markers.map((m, i) => ({ ...m, index: i })).filter((m) => m.kind === "comment");
  const comments = markers.filter((m) => m.author !== "request");
  const requests = markers.filter((m) => m.author === "request");
  view.append(
    h("div.fb",
      h("div.card",
        h("div.card-head", h("h2.grow", "Comments on the song"), h("span.faint", `${comments.length} pinned · Shift-click the waveform to comment there`)),
        h("div.row", h("span.muted", "at"), time, nowBtn, h("span.muted", "to"), until, h("span.spacer"), author),
        h("div", { style: { marginTop: "8px" } }, text),
        h("div.row", { style: { marginTop: "8px" } }, h("span.faint", "Saved in the session; a draft is kept if you close the tab."), h("span.spacer"), add),
        h("div#comments", { style: { marginTop: "12px" } }, ...(comments.length ? comments.map(commentRow) : [h("div.empty-note", "No comments yet. They appear as pins on the waveform below.")])),
      ),
      h("div.card",
        h("div.card-head", h("h2.grow", "Ask in words")),
        h("div.muted", "Describe what you want; mixwise turns it into ordinary parameter moves you can see and undo."),
        h("div.row", { style: { marginTop: "10px" } }, req, send),
        h("div.row", { style: { marginTop: "6px" } }, h("span.muted", "only in the passage from"), rFrom, h("span.muted", "to"), rTo, h("span.faint", { style: { fontSize: "11px" } }, "(level requests become fader automation there)")),
        reqOut,
        h("div#requests", { style: { marginTop: "12px" } }, ...requests.map(commentRow)),
      ),
    ),
  );
}

function commentRow(m) {
  const del = h("button.btn.ghost.small", { title: "Delete" }, "×");
  del.addEventListener("click", async () => {
    await api.del(`/api/projects/${app.pid}/comments/${m.index}`);
    await refresh();
  });
  return h("div.comment", { class: `comment ${m.author === "request" ? "req" : ""}`, "data-comment": m.index },
    h("span.t", { on: { click: () => seek(m.time_s) }, title: "Play from here" }, m.author === "request" && !m.time_s && !m.end_s ? "song" : fmtTime(m.time_s), m.end_s ? h("div.faint", `– ${fmtTime(m.end_s)}`) : null),
    h("div", h("div", m.text), h("div.who", m.author === "request" ? "request" : m.author || "")),
    del,
  );
}

function parseTime(s) {
  const m = String(s).trim().match(/^(?:(\d+):)?(\d+(?:\.\d+)?)$/);
  if (!m) return null;
  return (m[1] ? Number(m[1]) * 60 : 0) + Number(m[2]);
}

// ------------------------------------------------------------------------------------------

const sourcePeaks = new Map();

/** The waveform of what plays: the master for the live preview, else the chosen source. */
function playingWave() {
  const e = app.engine;
  const src = e.mode !== "live" && e.abc.get(e.mode);
  const buf = src && e.buffers.get(src.url);
  if (!buf) return app.wave;
  if (!sourcePeaks.has(src.url)) sourcePeaks.set(src.url, { peaks: peaks(buf, 1200), duration: buf.duration });
  return sourcePeaks.get(src.url);
}

export function tickViews(t) {
  const big = document.getElementById("wave-big");
  const wave = big && playingWave();
  if (wave) {
    const markers = app.state.session.markers.filter((m) => m.kind === "comment");
    const colour = { raw: "#9aa3b2", ref: "#5aa9f0" }[app.engine.mode] || "#f0a030";
    waveform(big, wave.peaks, { pos: t, duration: wave.duration, markers, colour });
  }
}

export { drawWave, updateChrome, fmtDb };
