// Canvas pictures: EQ curves, line plots, the masking matrix, bars, the waveform.
import { fmtHz, fmtTime } from "./util.js";

const GRID = "#2a303a";
const AXIS = "#7d8696";
const FONT = '10px "DejaVu Sans Mono", monospace';

export function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

const logX = (f, x0, x1, f0 = 20, f1 = 20000) => x0 + ((Math.log10(f) - Math.log10(f0)) / (Math.log10(f1) - Math.log10(f0))) * (x1 - x0);

/** An EQ curve (dB at freqs). Small: a strip thumbnail; otherwise with grid and labels. */
export function eqCurve(canvas, freqs, db, { colour = "#f0a030", small = true, range = 15 } = {}) {
  const { ctx, w, h } = setup(canvas);
  const pad = small ? { l: 2, r: 2, t: 3, b: 3 } : { l: 34, r: 8, t: 8, b: 18 };
  const x0 = pad.l, x1 = w - pad.r, y0 = pad.t, y1 = h - pad.b;
  const y = (v) => y0 + ((range - Math.max(-range, Math.min(range, v))) / (2 * range)) * (y1 - y0);
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  ctx.font = FONT;
  ctx.fillStyle = AXIS;
  for (const f of [100, 1000, 10000]) {
    const x = Math.round(logX(f, x0, x1)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, y0);
    ctx.lineTo(x, y1);
    ctx.stroke();
    if (!small) ctx.fillText(fmtHz(f), x + 2, h - 5);
  }
  const steps = small ? [0] : [-12, -6, 0, 6, 12].filter((v) => Math.abs(v) <= range);
  for (const v of steps) {
    ctx.strokeStyle = v === 0 ? "#465063" : GRID;
    const yy = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x0, yy);
    ctx.lineTo(x1, yy);
    ctx.stroke();
    if (!small) ctx.fillText(`${v > 0 ? "+" : ""}${v}`, 4, yy + 3);
  }
  if (!freqs || !db) return;
  ctx.beginPath();
  freqs.forEach((f, i) => {
    const xx = logX(f, x0, x1);
    i ? ctx.lineTo(xx, y(db[i])) : ctx.moveTo(xx, y(db[i]));
  });
  ctx.strokeStyle = colour;
  ctx.lineWidth = small ? 1.5 : 2;
  ctx.stroke();
  ctx.lineTo(x1, y(0));
  ctx.lineTo(x0, y(0));
  ctx.closePath();
  ctx.globalAlpha = 0.14;
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.globalAlpha = 1;
}

/** Lines over a shared x axis. opts: {xlog, xmin, xmax, ymin, ymax, yunit, xfmt, hlines} */
export function lines(canvas, series, opts = {}) {
  const { ctx, w, h } = setup(canvas);
  const pad = { l: 44, r: 26, t: 10, b: 22 };
  const x0 = pad.l, x1 = w - pad.r, y0 = pad.t, y1 = h - pad.b;
  const all = series.flatMap((s) => s.y.filter((v) => v !== null && Number.isFinite(v)));
  let ymin = opts.ymin ?? Math.floor((Math.min(...all) - 2) / 6) * 6;
  let ymax = opts.ymax ?? Math.ceil((Math.max(...all) + 2) / 6) * 6;
  if (!all.length) { ymin = -30; ymax = 0; }
  const xs = series.flatMap((s) => s.x);
  const xmin = opts.xmin ?? Math.min(...xs), xmax = opts.xmax ?? Math.max(...xs);
  const X = opts.xlog ? (v) => logX(v, x0, x1, xmin, xmax) : (v) => x0 + ((v - xmin) / (xmax - xmin || 1)) * (x1 - x0);
  const Y = (v) => y0 + ((ymax - v) / (ymax - ymin || 1)) * (y1 - y0);
  ctx.font = FONT;
  ctx.lineWidth = 1;
  const ystep = niceStep((ymax - ymin) / 5);
  for (let v = Math.ceil(ymin / ystep) * ystep; v <= ymax + 1e-9; v += ystep) {
    const yy = Math.round(Y(v)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath(); ctx.moveTo(x0, yy); ctx.lineTo(x1, yy); ctx.stroke();
    ctx.fillStyle = AXIS;
    ctx.fillText(`${Math.round(v * 10) / 10}`, 4, yy + 3);
  }
  if (opts.yunit) { ctx.fillStyle = AXIS; ctx.fillText(opts.yunit, 4, h - 6); }
  const xt = opts.xlog ? [31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000].filter((f) => f >= xmin && f <= xmax)
    : ticks(xmin, xmax, 8, opts.xint ? 1 : 0);
  for (const v of xt) {
    const xx = Math.round(X(v)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath(); ctx.moveTo(xx, y0); ctx.lineTo(xx, y1); ctx.stroke();
    ctx.fillStyle = AXIS;
    const label = opts.xfmt ? opts.xfmt(v) : opts.xlog ? fmtHz(v).replace(" ", "") : String(v);
    ctx.fillText(label, xx - ctx.measureText(label).width / 2, h - 6);
  }
  for (const hl of opts.hlines || []) {
    ctx.strokeStyle = hl.colour;
    ctx.setLineDash([5, 4]);
    ctx.beginPath(); ctx.moveTo(x0, Y(hl.y)); ctx.lineTo(x1, Y(hl.y)); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = hl.colour;
    ctx.fillText(hl.label, x1 - ctx.measureText(hl.label).width - 2, Y(hl.y) - 4);
  }
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = s.width || 2;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    let pen = false;
    s.x.forEach((xv, i) => {
      const v = s.y[i];
      if (v === null || !Number.isFinite(v)) { pen = false; return; }
      const yy = Y(Math.max(ymin, Math.min(ymax, v)));
      pen ? ctx.lineTo(X(xv), yy) : ctx.moveTo(X(xv), yy);
      pen = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  for (const m of [1, 2, 3, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function ticks(a, b, n, minStep = 0) {
  const s = Math.max(minStep, niceStep((b - a) / n));
  const out = [];
  for (let v = Math.ceil(a / s) * s; v <= b + 1e-9; v += s) out.push(Math.round(v * 100) / 100);
  return out;
}

/** The masking matrix: rows mask columns; values 0-1 (share of the column's bands covered). */
export function matrix(canvas, labels, values, { max = null } = {}) {
  const { ctx, w, h } = setup(canvas);
  const n = labels.length;
  if (!n) return;
  const left = Math.min(110, w * 0.3), top = 8;
  const size = Math.min((w - left - 8) / n, (h - top - 60) / n);
  const vmax = max ?? Math.max(0.05, ...values.flat());
  ctx.font = FONT;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = i === j ? null : values[i][j];
      const x = left + j * size, y = top + i * size;
      if (v === null) {
        ctx.fillStyle = "#1a1d22";
      } else {
        const t = Math.min(1, v / vmax);
        ctx.fillStyle = `rgb(${Math.round(30 + 210 * t)},${Math.round(36 + 110 * t * (1 - t) * 2 + 20 * t)},${Math.round(48 + 10 * (1 - t))})`;
      }
      ctx.fillRect(x + 1, y + 1, size - 2, size - 2);
      if (v !== null && size > 26) {
        ctx.fillStyle = v / vmax > 0.55 ? "#111" : "#cfd5de";
        const s = `${Math.round(v * 100)}`;
        ctx.fillText(s, x + size / 2 - ctx.measureText(s).width / 2, y + size / 2 + 3);
      }
    }
    ctx.fillStyle = "#c8ced8";
    const lab = labels[i].length > 14 ? labels[i].slice(0, 13) + "…" : labels[i];
    ctx.fillText(lab, left - ctx.measureText(lab).width - 6, top + i * size + size / 2 + 3);
    ctx.save();
    ctx.translate(left + i * size + size / 2 + 3, top + n * size + 6);
    ctx.rotate(Math.PI / 4);
    ctx.fillText(lab, 0, 0);
    ctx.restore();
  }
}

/** Horizontal bars per track: before (grey) and after (colour), LUFS. */
export function bars(canvas, rows, { min = -40, max = -5 } = {}) {
  const { ctx, w, h } = setup(canvas);
  const left = 110, right = 50;
  const rowH = Math.min(26, (h - 20) / Math.max(1, rows.length));
  const X = (v) => left + ((Math.max(min, Math.min(max, v)) - min) / (max - min)) * (w - left - right);
  ctx.font = FONT;
  for (const v of ticks(min, max, 6)) {
    const x = Math.round(X(v)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, rows.length * rowH); ctx.stroke();
    ctx.fillStyle = AXIS;
    ctx.fillText(String(v), x - 8, rows.length * rowH + 12);
  }
  rows.forEach((r, i) => {
    const y = i * rowH;
    ctx.fillStyle = "#c8ced8";
    const lab = r.label.length > 15 ? r.label.slice(0, 14) + "…" : r.label;
    ctx.fillText(lab, left - ctx.measureText(lab).width - 8, y + rowH / 2 + 3);
    if (r.before !== null && r.before !== undefined) {
      ctx.fillStyle = "#3a414d";
      ctx.fillRect(left, y + 3, X(r.before) - left, rowH / 2 - 3);
    }
    if (r.after !== null && r.after !== undefined) {
      ctx.fillStyle = r.colour || "#f0a030";
      ctx.fillRect(left, y + rowH / 2, X(r.after) - left, rowH / 2 - 3);
      ctx.fillStyle = "#c8ced8";
      ctx.fillText(r.after.toFixed(1), X(r.after) + 4, y + rowH - 4);
    }
  });
}

const waveCache = new WeakMap();

function waveBase(canvas, pk, w, h, duration, colour) {
  const dpr = window.devicePixelRatio || 1;
  const key = `${w}x${h}@${dpr}:${duration}:${colour}`;
  const hit = waveCache.get(canvas);
  if (hit && hit.key === key && hit.pk === pk) return hit;
  const make = (fill) => {
    const off = document.createElement("canvas");
    off.width = Math.round(w * dpr);
    off.height = Math.round(h * dpr);
    const ctx = off.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#101216";
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = "#1d2129";
    const step = duration > 120 ? 30 : duration > 30 ? 10 : duration > 8 ? 2 : 1;
    for (let t = 0; t < duration; t += step) {
      const x = Math.round((t / duration) * w) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, h); ctx.stroke();
    }
    const mid = h / 2;
    const n = pk.length / 2;
    ctx.fillStyle = fill;
    for (let i = 0; i < n; i++) {
      const lo = pk[2 * i], hi = pk[2 * i + 1];
      ctx.fillRect((i / n) * w, mid - hi * mid * 0.95, Math.max(1, w / n - 0.3), Math.max(1, (hi - lo) * mid * 0.95));
    }
    return off;
  };
  const entry = { key, pk, grey: make("#5b6577"), lit: make(colour) };
  waveCache.set(canvas, entry);
  return entry;
}

/** The song's waveform with the playhead and comment pins (the waveform itself is drawn once
 * and cached; each frame only copies it). */
export function waveform(canvas, pk, { pos = 0, duration = 1, markers = [], colour = "#f0a030" } = {}) {
  const { ctx, w, h } = setup(canvas);
  if (!pk) {
    ctx.fillStyle = "#101216";
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = AXIS;
    ctx.font = FONT;
    ctx.fillText("no audio loaded yet", 10, h / 2 + 3);
    return;
  }
  const base = waveBase(canvas, pk, w, h, duration, colour);
  const dpr = window.devicePixelRatio || 1;
  const px = Math.max(0, Math.min(w, (pos / duration) * w));
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(base.grey, 0, 0);
  if (px > 0) ctx.drawImage(base.lit, 0, 0, px * dpr, h * dpr, 0, 0, px * dpr, h * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  for (const mk of markers) {
    const x = (mk.time_s / duration) * w;
    ctx.fillStyle = mk.author === "request" ? "rgba(90,169,240,.85)" : "rgba(255,191,94,.9)";
    if (mk.end_s) ctx.fillRect(x, 0, ((mk.end_s - mk.time_s) / duration) * w, 3);
    ctx.beginPath();
    ctx.moveTo(x - 5, 0); ctx.lineTo(x + 5, 0); ctx.lineTo(x, 7); ctx.closePath(); ctx.fill();
    ctx.fillRect(x - 0.5, 0, 1, h);
  }
  const x = Math.round(px) + 0.5;
  ctx.strokeStyle = "#ffffff";
  ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, h); ctx.stroke();
  ctx.font = FONT;
  ctx.fillStyle = "#6b7384";
  ctx.fillText(fmtTime(duration, false), w - 30, h - 4);
}

/** Gain reduction (dB) over time, the current time marked. */
export function grHistory(canvas, values, frameS, pos) {
  const { ctx, w, h } = setup(canvas);
  if (!values || !values.length) return;
  const max = Math.max(6, ...values);
  ctx.fillStyle = "rgba(242,201,76,.75)";
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    ctx.fillRect((i / n) * w, 0, Math.max(1, w / n), (v / max) * (h - 12));
  }
  ctx.fillStyle = AXIS;
  ctx.font = FONT;
  ctx.fillText(`max ${max.toFixed(1)} dB`, 4, h - 3);
  const x = (pos / (n * frameS)) * w;
  ctx.fillStyle = "#fff";
  ctx.fillRect(x, 0, 1, h);
}
