// The mixer: a channel strip per track, the group and aux buses, the master; an inspector
// for the selected channel (EQ bands, filters, compressor, sends). Every control moves the
// live preview at once and is saved to the session on release.
import { app, applyAllLevels, applyLocal, queueParam, setParam, stripLevel, updateChrome } from "./main.js";
import { eqCurve, grHistory } from "./plots.js";
import { $, $$, dbNum, fmtDb, fmtHz, fmtPan, h, toast } from "./util.js";

// fader law: position 0-1 against dB (piecewise linear through these points)
const LAW = [
  [-Infinity, 0], [-60, 0.03], [-40, 0.14], [-30, 0.25], [-20, 0.4], [-10, 0.58], [-5, 0.69], [0, 0.8], [6, 0.92], [12, 1],
];
const SCALE = [12, 6, 0, -5, -10, -20, -30, -40, -60];

export function dbToPos(db) {
  if (!Number.isFinite(db)) return 0;
  if (db >= 12) return 1;
  for (let i = 1; i < LAW.length; i++) {
    const [d1, p1] = LAW[i];
    const [d0, p0] = LAW[i - 1];
    if (db <= d1) return Number.isFinite(d0) ? p0 + ((db - d0) / (d1 - d0)) * (p1 - p0) : p1 * Math.max(0, 1 + (db + 60) / 60);
  }
  return 1;
}

export function posToDb(p) {
  if (p <= 0.005) return -Infinity;
  if (p < LAW[1][1]) return -60 - (1 - p / LAW[1][1]) * 30;
  for (let i = 2; i < LAW.length; i++) {
    const [d1, p1] = LAW[i];
    const [d0, p0] = LAW[i - 1];
    if (p <= p1) return d0 + ((p - p0) / (p1 - p0)) * (d1 - d0);
  }
  return 12;
}

const roundDb = (db) => (Number.isFinite(db) ? Math.round(db * 10) / 10 : db);
const toJson = (db) => (Number.isFinite(db) ? db : "-inf");

function channels() {
  const s = app.state.session;
  const groups = s.buses.filter((b) => b.kind === "group");
  const auxes = s.buses.filter((b) => b.kind === "aux");
  return { tracks: s.tracks, groups, auxes };
}

function pathOf(key) {
  const [kind, id] = key.split(":");
  return kind === "track" ? `tracks[${id}]` : `buses[${id}]`;
}

function chOf(key) {
  const [kind, id] = key.split(":");
  const s = app.state.session;
  return (kind === "track" ? s.tracks : s.buses).find((x) => x.id === id);
}

// ------------------------------------------------------------------------------------------

export function renderMixer(main) {
  const t0 = performance.now();
  const st = app.state;
  if (!st.session) {
    main.append(h("div.empty", h("b", "No mix yet"), "Press “Mix it” to build the session, then every channel appears here."));
    return;
  }
  const { tracks, groups, auxes } = channels();
  const mixer = h("div.mixer", { id: "mixer" });
  for (const t of tracks) mixer.append(strip(`track:${t.id}`, t, "track", auxes));
  if (groups.length || auxes.length) mixer.append(h("div.strip-sep"));
  for (const b of groups) mixer.append(strip(`bus:${b.id}`, b, "group", auxes));
  for (const b of auxes) mixer.append(strip(`bus:${b.id}`, b, "aux", auxes));
  mixer.append(h("div.strip-sep"), masterStrip());
  const inspector = h("aside.inspector", { id: "inspector" });
  main.append(h("div.mixer-wrap", { style: { height: "100%" } }, mixer, inspector));
  main.style.overflow = "hidden";
  if (!app.selected || !chOf(app.selected)) app.selected = tracks[0] ? `track:${tracks[0].id}` : null;
  select(app.selected);
  requestAnimationFrame(() => {
    for (const c of $$("canvas.eq", mixer)) drawStripEq(c);
    app.timings.mixer_render_ms = performance.now() - t0;
    document.body.dataset.mixer = "ready";
  });
}

function drawStripEq(canvas) {
  const key = canvas.dataset.key;
  const ch = chOf(key);
  eqCurve(canvas, app.state.curve_freqs_hz, app.state.curves[key], { colour: ch ? ch.colour : "#f0a030" });
}

function strip(key, ch, kind, auxes) {
  const c = ch.chain;
  const el = h("div.strip", { "data-key": key, class: `strip ${kind === "track" ? "" : "bus"}` });
  el.addEventListener("mousedown", () => select(key));
  const cap = h("div.cap", { style: { background: ch.colour } });
  const name = h("div.nm", { title: "Double-click to rename" }, ch.name);
  name.addEventListener("dblclick", () => rename(name, key, ch));
  const rl = h("div.rl");
  const colour = h("input", { type: "color", value: ch.colour, title: "Colour" });
  colour.addEventListener("change", async () => {
    await setParam(`${pathOf(key)}.colour`, colour.value.toUpperCase());
    cap.style.background = colour.value;
    drawStripEq(el.querySelector("canvas.eq"));
  });
  rl.append(colour);
  if (kind === "track") {
    const role = h("select", { title: "Role (locks it)" }, app.info.roles.map((r) => h("option", { value: r, selected: r === ch.role }, r.replace("_", " "))));
    role.addEventListener("change", () => setParam(`${pathOf(key)}.role`, role.value));
    rl.append(role);
  } else {
    rl.append(h("span.faint", { style: { fontSize: "10px" } }, kind === "group" ? "group bus" : `aux · ${ch.effect ? ch.effect.type : "return"}`));
  }
  const eq = h("canvas.eq", { "data-key": key, title: "EQ and filters (the real response). Click to edit." });
  eq.addEventListener("click", () => select(key));
  const comp = h("div.comp", { title: "Compressor gain reduction" }, c.compressor.enabled ? "GR" : "comp off", h("div.gr", h("div")));
  if (!c.compressor.enabled) comp.querySelector(".gr").style.opacity = 0.3;
  const sends = h("div.sends");
  if (kind === "track") {
    for (const aux of auxes) {
      const i = c.sends.findIndex((s) => s.bus === aux.id);
      if (i < 0) continue;
      const lv = dbNum(c.sends[i].level_db);
      const r = h("input", { type: "range", min: -60, max: 6, step: 0.5, value: Number.isFinite(lv) ? lv : -60, title: `${aux.name} send ${fmtDb(lv)}` });
      r.addEventListener("change", () => {
        const v = Number(r.value) <= -60 ? "-inf" : Number(r.value);
        r.title = `${aux.name} send ${fmtDb(v)}`;
        setParam(`${pathOf(key)}.chain.sends[${i}].level_db`, v);
      });
      sends.append(h("div.send", h("span", aux.name.slice(0, 3)), r));
    }
  }
  const panLabel = h("span", fmtPan(c.pan));
  const pan = h("input", { type: "range", min: -100, max: 100, step: 1, value: Math.round(c.pan * 100), title: "Pan (double-click: centre)", "aria-label": "pan" });
  const commitPan = (v) => queueParam(`${pathOf(key)}.chain.pan`, v);
  pan.addEventListener("input", () => {
    const v = Number(pan.value) / 100;
    ch.chain.pan = v;
    panLabel.textContent = fmtPan(v);
    app.engine.setPan(key, stripLevel(key).pan);
    commitPan(v);
  });
  pan.addEventListener("dblclick", () => {
    pan.value = 0;
    pan.dispatchEvent(new Event("input"));
  });
  const mute = h("button.m", { class: `m ${c.mute ? "on" : ""}`, title: "Mute" }, "M");
  mute.addEventListener("click", async () => {
    ch.chain.mute = !ch.chain.mute;
    mute.classList.toggle("on", ch.chain.mute);
    applyAllLevels();
    await setParam(`${pathOf(key)}.chain.mute`, ch.chain.mute);
  });
  const ms = h("div.ms", mute);
  if (kind === "track") {
    const solo = h("button.s", { class: `s ${c.solo ? "on" : ""}`, title: "Solo" }, "S");
    solo.addEventListener("click", async () => {
      ch.chain.solo = !ch.chain.solo;
      solo.classList.toggle("on", ch.chain.solo);
      applyAllLevels();
      await setParam(`${pathOf(key)}.chain.solo`, ch.chain.solo);
    });
    ms.append(solo);
  }
  const val = h("input", { type: "text", value: fmtDb(c.fader_db, ""), "aria-label": `${ch.name} fader dB`, title: "Fader (dB): type a value, Enter" });
  const fader = faderEl(key, ch, val);
  const meter = h("div.meter", { "data-meter": key }, h("div.lvl"), h("div.pk"));
  const foot = kind === "track" ? (ch.bus ? `→ ${ch.bus}` : "→ mix") : kind === "group" ? "→ mix" : "return";
  el.append(
    cap, name, rl, eq, comp, sends,
    h("div.pan", panLabel, pan), ms,
    h("div.fz", fader, meter),
    h("div.val", val),
    h("div.foot", foot),
  );
  return el;
}

function rename(label, key, ch) {
  const input = h("input", { type: "text", value: ch.name });
  label.replaceChildren(input);
  input.focus();
  input.select();
  const done = async (save) => {
    const v = input.value.trim();
    label.textContent = save && v ? v : ch.name;
    if (save && v && v !== ch.name) {
      await setParam(`${pathOf(key)}.name`, v);
      if (app.selected === key) select(key);
    }
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") done(true);
    if (e.key === "Escape") done(false);
  });
  input.addEventListener("blur", () => done(true));
}

// ---- the fader: drag, wheel, keys (arrows 0.5 dB, shift 0.1 dB, page 3 dB), typed values
function faderEl(key, ch, valInput) {
  const el = h("div.fader", { role: "slider", tabindex: 0, "aria-label": `${ch.name} fader`, "data-fader": key, "aria-valuemin": -90, "aria-valuemax": 12 });
  const trackEl = h("div.track");
  el.append(trackEl);
  for (const d of SCALE) {
    const p = dbToPos(d);
    const top = `calc(6px + ${(1 - p) * 100}% - ${(1 - p) * 12}px)`;
    el.append(h("div.tick", { class: `tick ${d === 0 ? "zero" : ""}`, style: { top } }));
    if ([6, 0, -10, -20, -40].includes(d)) el.append(h("span.tl", { style: { top } }, d > 0 ? `+${d}` : String(d)));
  }
  const capEl = h("div.cap2");
  el.append(capEl);
  let db = dbNum(ch.chain.fader_db);
  const place = () => {
    const p = dbToPos(db);
    capEl.style.top = `calc(6px + ${(1 - p) * 100}% - ${(1 - p) * 12}px)`;
    el.setAttribute("aria-valuenow", Number.isFinite(db) ? db.toFixed(1) : "-inf");
    el.setAttribute("aria-valuetext", fmtDb(db));
    valInput.value = fmtDb(db, "");
  };
  place();
  const commit = () => queueParam(`${pathOf(key)}.chain.fader_db`, toJson(db));
  const move = (newDb, ev, save = true) => {
    db = Number.isFinite(newDb) ? Math.max(-90, Math.min(12, newDb)) : -Infinity;
    if (Number.isFinite(db) && db <= -89.95) db = -Infinity;
    ch.chain.fader_db = toJson(db);
    place();
    const { gain } = stripLevel(key);
    if (key.startsWith("bus:") && chOf(key).kind === "group") applyAllLevels(ev ? ev.timeStamp : undefined);
    else app.engine.setGain(key, gain, ev ? ev.timeStamp : undefined);
    if (save) commit();
  };
  const fromY = (ev) => {
    const r = el.getBoundingClientRect();
    const p = 1 - (ev.clientY - r.top - 6) / (r.height - 12);
    return roundDb(posToDb(Math.max(0, Math.min(1, p))));
  };
  let grab = null;
  el.addEventListener("pointerdown", (ev) => {
    el.focus();
    el.setPointerCapture(ev.pointerId);
    const r = capEl.getBoundingClientRect();
    grab = ev.clientY >= r.top - 4 && ev.clientY <= r.bottom + 4 ? { y: ev.clientY, p: dbToPos(db) } : null;
    if (!grab) move(fromY(ev), ev, false);
    grab = grab || { y: ev.clientY, p: dbToPos(db) };
  });
  el.addEventListener("pointermove", (ev) => {
    if (!grab) return;
    const r = el.getBoundingClientRect();
    const fine = ev.shiftKey ? 0.25 : 1;
    const p = grab.p - ((ev.clientY - grab.y) / (r.height - 12)) * fine;
    move(roundDb(posToDb(Math.max(0, Math.min(1, p)))), ev, false);
  });
  el.addEventListener("pointerup", () => {
    if (grab) commit();
    grab = null;
  });
  el.addEventListener("dblclick", () => move(0, undefined));
  el.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    move(roundDb((Number.isFinite(db) ? db : -60) + (ev.deltaY < 0 ? 0.5 : -0.5)), ev);
  }, { passive: false });
  el.addEventListener("keydown", (ev) => {
    const step = { ArrowUp: 0.5, ArrowDown: -0.5, PageUp: 3, PageDown: -3 }[ev.key];
    if (step === undefined) return;
    ev.preventDefault();
    const s = ev.shiftKey ? step / 5 : step;
    const base = Number.isFinite(db) ? db : -60.5;
    move(Math.round((base + s) * 1000) / 1000, ev); // exact steps: -0.53 + 0.5 = -0.03
  });
  valInput.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    const txt = valInput.value.trim().replace("−", "-").replace(/dB$/i, "").replace("∞", "inf");
    const v = /^-?inf/i.test(txt) ? -Infinity : Number(txt);
    if (Number.isNaN(v)) {
      toast("Type a level in dB, e.g. -3.5", "error");
      return;
    }
    move(v, ev);
    valInput.blur();
  });
  return el;
}

function masterStrip() {
  const st = app.state;
  const m = st.session.master;
  const r = (st.render && st.render.master) || {};
  const el = h("div.strip.master", { "data-key": "master" });
  el.addEventListener("mousedown", () => select("master"));
  const row = (k, v) => h("div.mm", h("span", k), h("b", v));
  const target = h("input", { type: "text", value: m.target_lufs ?? "", "aria-label": "master target LUFS", style: { width: "64px", height: "22px" } });
  target.addEventListener("change", () => {
    const v = target.value.trim() === "" ? null : Number(target.value);
    setParam("master.target_lufs", v);
  });
  const ceiling = h("input", { type: "text", value: m.limiter.ceiling_dbtp, "aria-label": "ceiling dBTP", style: { width: "64px", height: "22px" } });
  ceiling.addEventListener("change", () => setParam("master.limiter.ceiling_dbtp", Number(ceiling.value)));
  const meterL = h("div.meter", { "data-meter": "master-L", style: { width: "14px" } }, h("div.lvl"), h("div.pk"));
  const meterR = h("div.meter", { "data-meter": "master-R", style: { width: "14px" } }, h("div.lvl"), h("div.pk"));
  el.append(
    h("div.cap", { style: { background: "#f0a030" } }),
    h("div.nm", "Master"),
    h("div.rl", h("span.faint", { style: { fontSize: "10px" } }, "EQ → glue → limiter")),
    h("canvas.eq", { "data-key": "master", style: { width: "164px" } }),
    h("div.big",
      row("Integrated", `${fmtNum(r.integrated_lufs)} LUFS`),
      row("True peak", `${fmtNum(r.true_peak_dbtp)} dBTP`),
      row("Master gain", fmtDb(r.gain_db)),
      row("Limiter max", `${fmtNum(r.limiter_max_reduction_db)} dB`),
      h("div.mm", h("span", "Target LUFS"), target),
      h("div.mm", h("span", "Ceiling dBTP"), ceiling),
    ),
    h("div.fz", { style: { justifyContent: "center", gap: "6px" } }, meterL, meterR, h("div", { id: "master-live", class: "num", style: { fontSize: "11px", alignSelf: "flex-end", color: "var(--dim)", width: "60px" } }, "")),
    h("div.foot", "live peak L / R"),
  );
  return el;
}

const fmtNum = (v) => (v === null || v === undefined ? "–" : (v < 0 ? "−" : "") + Math.abs(v).toFixed(1));

// ------------------------------------------------------------------------------------------
// the inspector

function select(key) {
  app.selected = key;
  $$(".strip").forEach((s) => s.classList.toggle("sel", s.dataset.key === key));
  const box = $("#inspector");
  if (!box || !key) return;
  box.replaceChildren(key === "master" ? masterInspector() : inspector(key));
  requestAnimationFrame(() => {
    const big = $("canvas.big-eq", box);
    if (big) eqCurve(big, app.state.curve_freqs_hz, app.state.curves[key], { small: false, colour: key === "master" ? "#f0a030" : chOf(key).colour, range: 18 });
  });
}

function num(path, value, { step = 0.1, unit = "", min, max } = {}) {
  const input = h("input", { type: "number", step, value: value ?? "", min, max, "data-path": path });
  input.addEventListener("change", async () => {
    const v = Number(input.value);
    await setParam(path, v);
    refreshInspector();
  });
  return h("div", { style: { display: "flex", alignItems: "center", gap: "4px" } }, input, unit ? h("span.faint", unit) : null);
}

function check(path, value, label) {
  const input = h("input", { type: "checkbox", checked: !!value });
  input.addEventListener("change", async () => {
    await setParam(path, input.checked);
    refreshInspector();
  });
  return h("label", { style: { display: "flex", gap: "6px", alignItems: "center" } }, input, label);
}

function refreshInspector() {
  select(app.selected);
  const c = $(`canvas.eq[data-key="${app.selected}"]`);
  if (c) drawStripEq(c);
  updateChrome();
}

function inspector(key) {
  const ch = chOf(key);
  const c = ch.chain;
  const p = `${pathOf(key)}.chain`;
  const bands = h("div.bands",
    h("span.hd", ""), h("span.hd", "type"), h("span.hd", "freq Hz"), h("span.hd", "gain dB"), h("span.hd", "Q"), h("span.hd", ""),
  );
  c.eq.forEach((b, i) => {
    const type = h("select", {}, ["peak", "low_shelf", "high_shelf", "notch", "band_pass", "low_pass", "high_pass"].map((t) => h("option", { value: t, selected: t === b.type }, t.replace("_", " "))));
    type.addEventListener("change", async () => {
      await setParam(`${p}.eq[${i}].type`, type.value);
      refreshInspector();
    });
    const on = h("input", { type: "checkbox", checked: b.enabled, title: "band on" });
    on.addEventListener("change", async () => {
      await setParam(`${p}.eq[${i}].enabled`, on.checked);
      refreshInspector();
    });
    const rm = h("button.btn.ghost.small", { title: "Remove band" }, "×");
    rm.addEventListener("click", async () => {
      await setParam(`${p}.eq`, c.eq.filter((_, j) => j !== i));
      refreshInspector();
    });
    bands.append(on, type, num(`${p}.eq[${i}].freq_hz`, b.freq_hz, { step: 1 }), num(`${p}.eq[${i}].gain_db`, b.gain_db, { step: 0.5 }), num(`${p}.eq[${i}].q`, b.q, { step: 0.1 }), rm);
  });
  const add = h("button.btn.small", "+ Band");
  add.addEventListener("click", async () => {
    await setParam(`${p}.eq`, [...c.eq, { type: "peak", enabled: true, freq_hz: 1000, gain_db: 0, q: 1 }]);
    refreshInspector();
  });
  const gr = app.state.studio && app.state.studio.gain_reduction && app.state.studio.gain_reduction.tracks[ch.id];
  const sends = (c.sends || []).map((s, i) =>
    [h("span", `Send → ${s.bus}`), num(`${p}.sends[${i}].level_db`, Number.isFinite(dbNum(s.level_db)) ? s.level_db : -120, { step: 0.5, unit: "dB" })],
  );
  const moves = app.state.session.history.filter((e) => e.parameter.startsWith(pathOf(key) + ".")).slice(-6).reverse();
  return h("div",
    h("h2", ch.name),
    h("div.muted", key.startsWith("track") ? `${ch.role.replace("_", " ")} · ${ch.bus ? "group " + ch.bus : "to the mix bus"} · fader ${fmtDb(c.fader_db)} · pan ${fmtPan(c.pan)}` : `${ch.kind} bus · fader ${fmtDb(c.fader_db)}`),
    h("canvas.big-eq"),
    h("section",
      h("h3", "Filters"),
      h("div.kv",
        check(`${p}.high_pass.enabled`, c.high_pass.enabled, "High-pass"), num(`${p}.high_pass.freq_hz`, c.high_pass.freq_hz, { step: 1, unit: "Hz" }),
        check(`${p}.low_pass.enabled`, c.low_pass.enabled, "Low-pass"), num(`${p}.low_pass.freq_hz`, c.low_pass.freq_hz, { step: 10, unit: "Hz" }),
      ),
    ),
    h("section", h("div.row", h("h3.grow", "EQ bands"), add), bands),
    h("section",
      h("h3", "Compressor"),
      h("div.kv",
        check(`${p}.compressor.enabled`, c.compressor.enabled, "On"), h("span"),
        h("span", "Threshold"), num(`${p}.compressor.threshold_db`, c.compressor.threshold_db, { unit: "dB", step: 0.5 }),
        h("span", "Ratio"), num(`${p}.compressor.ratio`, c.compressor.ratio, { unit: ":1", step: 0.1 }),
        h("span", "Attack"), num(`${p}.compressor.attack_ms`, c.compressor.attack_ms, { unit: "ms", step: 1 }),
        h("span", "Release"), num(`${p}.compressor.release_ms`, c.compressor.release_ms, { unit: "ms", step: 5 }),
        h("span", "Makeup"), num(`${p}.compressor.makeup_db`, c.compressor.makeup_db, { unit: "dB", step: 0.5 }),
      ),
      gr && gr.length ? h("div", h("canvas.gr-hist", { "data-gr": ch.id }), h("div.faint", { style: { fontSize: "11px" } }, "Gain reduction over the song (from the renderer's compressor)")) : null,
    ),
    key.startsWith("track")
      ? h("section",
        h("h3", "Input and sends"),
        h("div.kv",
          h("span", "Trim"), num(`${p}.trim_db`, c.trim_db, { unit: "dB", step: 0.5 }),
          h("span", "Delay"), num(`${p}.delay_ms`, c.delay_ms, { unit: "ms", step: 0.1 }),
          h("span", "Width"), num(`${p}.width`, c.width, { step: 0.05 }),
          check(`${p}.polarity_inverted`, c.polarity_inverted, "Polarity inverted"), h("span"),
          ...sends.flat(),
        ),
        h("div.faint", { style: { fontSize: "11px", marginTop: "6px" } }, "EQ, compressor, trim and send changes are heard after “Render”; fader, pan, mute and solo are heard at once."),
      )
      : null,
    moves.length ? h("section", h("h3", "Recent moves"), ...moves.map((e) => h("div.faint", { style: { fontSize: "11px", margin: "3px 0" } }, `${e.source === "user" ? "you" : e.task}: ${e.parameter.split(".").slice(-1)[0]} ${fmtShort(e.old)} → ${fmtShort(e.new)} — ${e.reason}`))) : null,
  );
}

const fmtShort = (v) => (typeof v === "number" ? Math.round(v * 100) / 100 : v === "-inf" ? "−∞" : typeof v === "object" ? "…" : String(v));

function masterInspector() {
  const m = app.state.session.master;
  const p = "master";
  return h("div",
    h("h2", "Master"),
    h("div.muted", "high-pass → EQ → glue compressor → gain to target → true-peak limiter"),
    h("canvas.big-eq"),
    h("section", h("h3", "Loudness"),
      h("div.kv",
        h("span", "Target"), num(`${p}.target_lufs`, m.target_lufs, { unit: "LUFS", step: 0.5 }),
        h("span", "Ceiling"), num(`${p}.limiter.ceiling_dbtp`, m.limiter.ceiling_dbtp, { unit: "dBTP", step: 0.1 }),
        check(`${p}.compressor.enabled`, m.compressor.enabled, "Glue compressor"), h("span"),
        h("span", "Threshold"), num(`${p}.compressor.threshold_db`, m.compressor.threshold_db, { unit: "dB", step: 0.5 }),
        h("span", "Ratio"), num(`${p}.compressor.ratio`, m.compressor.ratio, { unit: ":1", step: 0.1 }),
      ),
    ),
    h("section", h("h3", "EQ bands"), ...m.eq.map((b, i) => h("div.kv", h("span", `${b.type.replace("_", " ")} ${fmtHz(b.freq_hz)}`), num(`${p}.eq[${i}].gain_db`, b.gain_db, { unit: "dB", step: 0.5 })))),
  );
}

// ------------------------------------------------------------------------------------------
// meters, every frame

let meterEls = [];
let grEls = [];
let lastMeter = 0;

export function tickMixer(t) {
  const e = app.engine;
  const now = performance.now();
  if (now - lastMeter < 40) return; // 25 meter frames a second keep the page free for input
  lastMeter = now;
  if (!meterEls.length || !meterEls[0].lvl.isConnected) {
    meterEls = $$(".meter[data-meter]").map((m) => ({ key: m.dataset.meter, lvl: m.firstChild, pk: m.lastChild, held: 0, h: m.clientHeight, shown: -1 }));
    grEls = $$(".strip[data-key^='track:'] .comp .gr div").map((el) => ({ el, id: el.closest(".strip").dataset.key.slice(6), shown: -1 }));
  }
  for (const m of meterEls) {
    let p;
    if (m.key.startsWith("master-")) p = e.playing ? masterChannelPeak(m.key.endsWith("L") ? 0 : 1) : 0;
    else p = e.stripPeak(m.key);
    const db = p > 0 ? 20 * Math.log10(p) : -90;
    const frac = Math.max(0, Math.min(1, (db + 60) / 66));
    const held = Math.max(frac, m.held - 0.012);
    if (Math.abs(frac - m.shown) < 0.004 && held === m.held) continue; // nothing to repaint
    m.shown = frac;
    m.held = held;
    m.lvl.style.clipPath = `inset(${((1 - frac) * 100).toFixed(1)}% 0 0 0)`;
    m.pk.style.transform = `translateY(${(-held * m.h).toFixed(1)}px)`;
  }
  const grs = app.state.studio && app.state.studio.gain_reduction;
  if (grs) {
    const idx = Math.floor(t / grs.frame_s);
    for (const g of grEls) {
      const v = grs.tracks[g.id];
      const gr = v && e.playing ? v[Math.min(idx, v.length - 1)] || 0 : 0;
      const x = Math.round(Math.min(1, gr / 12) * 200) / 200;
      if (x === g.shown) continue;
      g.shown = x;
      g.el.style.transform = `scaleX(${x})`;
    }
    const hist = $("canvas.gr-hist");
    if (hist && grs.tracks[hist.dataset.gr]) grHistory(hist, grs.tracks[hist.dataset.gr], grs.frame_s, t);
  }
}

function masterChannelPeak(ch) {
  const a = ch === 0 ? app.engine.peakL : app.engine.peakR;
  if (!a) return 0;
  const b = new Float32Array(a.fftSize);
  a.getFloatTimeDomainData(b);
  let p = 0;
  for (let i = 0; i < b.length; i++) p = Math.max(p, Math.abs(b[i]));
  return p;
}

export { applyLocal };
