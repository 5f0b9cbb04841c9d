// Small DOM and formatting helpers.

/** h("div.card#id", {attrs, on: {click}}, ...children) */
export function h(spec, attrs, ...children) {
  const m = spec.match(/^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i);
  const el = document.createElement(m[1] || "div");
  for (const part of m[2].match(/[.#][\w-]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k === "text") el.textContent = v;
    else if (k === "html") el.innerHTML = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export function dbNum(v) {
  if (v === "-inf" || v === null || v === undefined) return -Infinity;
  return Number(v);
}

/** "-3.5 dB", "−∞ dB"; sign always shown for gains. */
export function fmtDb(v, unit = "dB", digits = 1) {
  const x = dbNum(v);
  if (!Number.isFinite(x)) return `−∞${unit ? " " + unit : ""}`;
  const s = (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x).toFixed(digits);
  return unit ? `${s} ${unit}` : s;
}

export function fmtLufs(v, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return "–";
  return (Number(v) < 0 ? "−" : "") + Math.abs(Number(v)).toFixed(digits);
}

export function fmtTime(s, tenths = true) {
  if (!Number.isFinite(s) || s < 0) s = 0;
  const m = Math.floor(s / 60);
  const sec = s - m * 60;
  return tenths ? `${m}:${sec.toFixed(1).padStart(4, "0")}` : `${m}:${String(Math.floor(sec)).padStart(2, "0")}`;
}

export function fmtPan(p) {
  const x = Math.round(Number(p) * 100);
  if (x === 0) return "C";
  return x < 0 ? `L${-x}` : `R${x}`;
}

export function fmtHz(f) {
  f = Number(f);
  return f >= 1000 ? `${(f / 1000).toFixed(f >= 10000 ? 1 : 2).replace(/\.?0+$/, "")} kHz` : `${Math.round(f)} Hz`;
}

export function fmtBytes(n) {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`;
}

export function fmtValue(v, unit) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "boolean") return v ? "on" : "off";
  if (v === "-inf") return `−∞ ${unit || "dB"}`;
  if (typeof v === "number") {
    if (unit === "dB") return fmtDb(v);
    if (unit === "Hz") return fmtHz(v);
    const r = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
    return unit ? `${r} ${unit}` : r;
  }
  if (Array.isArray(v)) {
    if (!v.length) return "none";
    if (v.every((b) => b && typeof b === "object" && "gain_db" in b && "freq_hz" in b)) {
      return v.map((b) => `${b.type.replace("_", " ")} ${fmtHz(b.freq_hz)} ${fmtDb(b.gain_db)}`).join(", ");
    }
    return `${v.length} item${v.length > 1 ? "s" : ""}`;
  }
  if (typeof v === "object") {
    if ("enabled" in v && "freq_hz" in v) return v.enabled ? `${fmtHz(v.freq_hz)}${v.slope_db_oct ? ", " + v.slope_db_oct + " dB/oct" : ""}` : "off";
    if ("threshold_db" in v) return v.enabled ? `${fmtDb(v.threshold_db)}, ${v.ratio}:1` : "off";
    if ("type" in v && "freq_hz" in v) return `${v.type} ${fmtHz(v.freq_hz)} ${fmtDb(v.gain_db)}`;
    return JSON.stringify(v).slice(0, 60);
  }
  return String(v);
}

/** "tracks[vox].chain.eq[1].gain_db" -> "EQ band 2 gain" */
export function prettyParam(path) {
  const tail = path.replace(/^(tracks|buses)\[[^\]]+\]\.?/, "").replace(/^chain\./, "").replace(/^master\./, "master ");
  return tail
    .replace(/eq\[(\d+)\]/g, (_, i) => `EQ band ${Number(i) + 1}`)
    .replace(/sends\[(\d+)\]/g, (_, i) => `send ${Number(i) + 1}`)
    .replace(/_(db|hz|ms|s|dbtp|lufs|db_oct)$/, "")
    .replace(/[._]/g, " ")
    .trim() || path;
}

export function toast(message, kind = "ok", ms = 4200) {
  const box = document.getElementById("toasts");
  const el = h("div.toast", { class: `toast ${kind}` }, message);
  box.append(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

export function debounce(fn, ms) {
  let t = null;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}

export function dbToGain(db) {
  const x = dbNum(db);
  return Number.isFinite(x) ? Math.pow(10, x / 20) : 0;
}
