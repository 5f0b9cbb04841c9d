// The client-side preview: the processed stems (render/stems/*.wav, each already through its
// track's chain) play in Web Audio; a fader or pan move changes that stem's GainNode /
// StereoPannerNode relative to the rendered value at once. The master is approximated (the
// rendered master gain, then a fast limiter); "Render" on the server gives the exact sound.
// A/B/C plays the raw unity sum, the rendered master and a reference, loudness-matched.

const SMOOTH_S = 0.005; // time constant of gain changes (s): no zipper noise, still immediate

export class Engine {
  constructor() {
    this.ctx = null;
    this.buffers = new Map(); // url -> AudioBuffer
    this.strips = new Map(); // key -> {gain, pan, analyser, url}
    this.abc = new Map(); // "raw" | "master" | "ref" -> {url, gainDb}
    this.mode = "live";
    this.playing = false;
    this.offset = 0; // s, where playback (re)started in the song
    this.startedAt = 0; // ctx time at that moment
    this.duration = 0;
    this.sources = [];
    this.onEnded = null;
    this.latency = []; // measured fader-to-audible times
  }

  ensure() {
    if (this.ctx) return this.ctx;
    const ctx = (this.ctx = new AudioContext({ latencyHint: "interactive" }));
    this.sum = ctx.createGain();
    this.masterGain = ctx.createGain();
    this.limiter = ctx.createDynamicsCompressor();
    this.limiter.threshold.value = -1;
    this.limiter.knee.value = 0;
    this.limiter.ratio.value = 20;
    this.limiter.attack.value = 0.001;
    this.limiter.release.value = 0.08;
    this.abcBus = ctx.createGain();
    this.post = ctx.createGain();
    this.sum.connect(this.masterGain).connect(this.limiter).connect(this.post);
    this.abcBus.connect(this.post);
    this.post.connect(ctx.destination);
    // meters: sample peak per channel, and K-weighted power for momentary loudness
    const split = ctx.createChannelSplitter(2);
    this.post.connect(split);
    this.peakL = this._analyser(2048);
    this.peakR = this._analyser(2048);
    split.connect(this.peakL, 0);
    split.connect(this.peakR, 1);
    const shelf = ctx.createBiquadFilter();
    shelf.type = "highshelf";
    shelf.frequency.value = 1682;
    shelf.gain.value = 4.0;
    const hp = ctx.createBiquadFilter();
    hp.type = "highpass";
    hp.frequency.value = 38;
    hp.Q.value = 0.5;
    const ksplit = ctx.createChannelSplitter(2);
    this.post.connect(shelf).connect(hp).connect(ksplit);
    this.kL = this._analyser(16384);
    this.kR = this._analyser(16384);
    ksplit.connect(this.kL, 0);
    ksplit.connect(this.kR, 1);
    this._buf = new Float32Array(16384);
    return ctx;
  }

  _analyser(size) {
    const a = this.ctx.createAnalyser();
    a.fftSize = size;
    a.smoothingTimeConstant = 0;
    return a;
  }

  async load(url) {
    if (this.buffers.has(url)) return this.buffers.get(url);
    this.ensure();
    const res = await fetch(url);
    if (!res.ok) throw new Error(`cannot load ${url.split("/").pop()} (${res.status})`);
    const buf = await this.ctx.decodeAudioData(await res.arrayBuffer());
    this.buffers.set(url, buf);
    return buf;
  }

  forget() {
    this.stop();
    this.buffers.clear();
    this.strips.clear();
    this.abc.clear();
  }

  /** Define the live strips: [{key, url, gain (linear), pan (-1..1)}]; loads what is missing. */
  async setStrips(defs, onEach) {
    this.ensure();
    const keep = new Set(defs.map((d) => d.key));
    for (const key of [...this.strips.keys()]) if (!keep.has(key)) this.strips.delete(key);
    let done = 0;
    await Promise.all(
      defs.map(async (d) => {
        const buf = await this.load(d.url);
        let s = this.strips.get(d.key);
        if (!s) {
          const gain = this.ctx.createGain();
          const pan = this.ctx.createStereoPanner();
          const analyser = this._analyser(256);
          gain.connect(pan).connect(this.sum);
          gain.connect(analyser);
          s = { gain, pan, analyser };
          this.strips.set(d.key, s);
        }
        s.url = d.url;
        s.gain.gain.value = d.gain;
        s.pan.pan.value = d.pan || 0;
        this.duration = Math.max(this.duration, buf.duration);
        onEach && onEach(++done, defs.length);
      }),
    );
  }

  setMasterGainDb(db) {
    this.ensure();
    this.masterGain.gain.value = Math.pow(10, db / 20);
  }

  /** Change a strip's gain now (linear). With the input event's time, the page measures how
   * long until the strip's own analyser (after the gain node) shows the new level. */
  setGain(key, linear, eventTime) {
    const s = this.strips.get(key);
    if (!s) return;
    const ctx = this.ctx;
    const watching = eventTime !== undefined && this.playing;
    const before = watching ? this._rms(key) : 0;
    const old = s.gain.gain.value;
    s.gain.gain.cancelScheduledValues(ctx.currentTime);
    s.gain.gain.setTargetAtTime(linear, ctx.currentTime, SMOOTH_S);
    const issued = performance.now();
    if (watching && old > 0 && linear > 0 && before > 1e-5) {
      this._watch(key, eventTime, issued, before, 20 * Math.log10(linear / old));
    }
  }

  setPan(key, pan) {
    const s = this.strips.get(key);
    if (!s) return;
    s.pan.pan.setTargetAtTime(Math.max(-1, Math.min(1, pan)), this.ctx.currentTime, SMOOTH_S);
  }

  /** Peak (linear) a strip shows now, from its analyser (after its gain). */
  stripPeak(key) {
    const s = this.strips.get(key);
    if (!s || !this.playing) return 0;
    const b = this._buf.subarray(0, s.analyser.fftSize);
    s.analyser.getFloatTimeDomainData(b);
    let p = 0;
    for (let i = 0; i < b.length; i++) p = Math.max(p, Math.abs(b[i]));
    return p;
  }

  _rms(key) {
    const s = this.strips.get(key);
    const b = new Float32Array(s.analyser.fftSize);
    s.analyser.getFloatTimeDomainData(b);
    let e = 0;
    for (let i = 0; i < b.length; i++) e += b[i] * b[i];
    return Math.sqrt(e / b.length);
  }

  // polled every few ms until the level has moved by half the expected change (dB)
  _watch(key, eventTime, issued, before, expectDb) {
    const start = performance.now();
    const check = () => {
      const now = performance.now();
      const moved = 20 * Math.log10((this._rms(key) + 1e-12) / before);
      const heard = Math.abs(moved) >= Math.abs(expectDb) / 2 && Math.sign(moved) === Math.sign(expectDb);
      if (heard || now - start > 1000) {
        this.latency.push({
          key,
          expected_db: expectDb,
          heard,
          handler_ms: issued - eventTime,
          audible_ms: now - eventTime,
          base_latency_ms: (this.ctx.baseLatency || 0) * 1000,
          output_latency_ms: (this.ctx.outputLatency || 0) * 1000,
        });
        if (this.latency.length > 50) this.latency.shift();
        return;
      }
      setTimeout(check, 1);
    };
    setTimeout(check, 1);
  }

  /** Momentary loudness (LUFS, 370 ms window) and sample peak (dBFS) of what plays. */
  masterMeters() {
    if (!this.ctx || !this.playing) return { lufs: null, peak: null };
    const ms = (a) => {
      const b = this._buf.subarray(0, a.fftSize);
      a.getFloatTimeDomainData(b);
      let e = 0;
      for (let i = 0; i < b.length; i++) e += b[i] * b[i];
      return e / b.length;
    };
    const pk = (a) => {
      const b = this._buf.subarray(0, a.fftSize);
      a.getFloatTimeDomainData(b);
      let p = 0;
      for (let i = 0; i < b.length; i++) p = Math.max(p, Math.abs(b[i]));
      return p;
    };
    const power = ms(this.kL) + ms(this.kR);
    const peak = Math.max(pk(this.peakL), pk(this.peakR));
    return {
      lufs: power > 1e-10 ? -0.691 + 10 * Math.log10(power) : null,
      peak: peak > 1e-6 ? 20 * Math.log10(peak) : null,
    };
  }

  setAbc(name, url, gainDb) {
    if (url) this.abc.set(name, { url, gainDb });
    else this.abc.delete(name);
  }

  async setMode(mode) {
    const t = this.time();
    const was = this.playing;
    if (was) this.stop(true);
    this.mode = mode;
    if (mode !== "live" && this.abc.has(mode)) await this.load(this.abc.get(mode).url);
    if (was) await this.play(t);
  }

  time() {
    if (!this.playing) return this.offset;
    return Math.min(this.offset + (this.ctx.currentTime - this.startedAt), this.length());
  }

  length() {
    if (this.mode !== "live" && this.abc.has(this.mode)) {
      const b = this.buffers.get(this.abc.get(this.mode).url);
      if (b) return b.duration;
    }
    return this.duration;
  }

  async play(at) {
    const ctx = this.ensure();
    if (ctx.state === "suspended") await ctx.resume();
    this.stop(true);
    const from = Math.max(0, Math.min(at ?? this.offset, Math.max(0, this.length() - 0.01)));
    const when = ctx.currentTime + 0.02;
    const start = (buf, dest) => {
      const src = ctx.createBufferSource();
      src.buffer = buf;
      src.connect(dest);
      src.start(when, Math.min(from, buf.duration));
      this.sources.push(src);
      return src;
    };
    if (this.mode === "live") {
      for (const s of this.strips.values()) start(this.buffers.get(s.url), s.gain);
    } else if (this.abc.has(this.mode)) {
      const { url, gainDb } = this.abc.get(this.mode);
      const g = ctx.createGain();
      g.gain.value = Math.pow(10, (gainDb || 0) / 20);
      g.connect(this.abcBus);
      start(await this.load(url), g);
    }
    if (!this.sources.length) return;
    this.offset = from;
    this.startedAt = when;
    this.playing = true;
    const first = this.sources[0];
    first.onended = () => {
      if (this.playing && this.sources.includes(first) && this.time() >= this.length() - 0.05) {
        this.playing = false;
        this.offset = 0;
        this.sources = [];
        this.onEnded && this.onEnded();
      }
    };
  }

  stop(keepPosition = false) {
    const t = this.time();
    for (const s of this.sources) {
      try {
        s.onended = null;
        s.stop();
      } catch {
        /* already stopped */
      }
      s.disconnect();
    }
    this.sources = [];
    this.playing = false;
    this.offset = keepPosition ? t : this.offset;
  }

  pause() {
    this.stop(true);
  }

  seek(t) {
    if (this.playing) this.play(t);
    else this.offset = Math.max(0, t);
  }
}

/** Min/max peaks of a buffer in `n` columns (both channels). */
export function peaks(buffer, n) {
  const out = new Float32Array(n * 2);
  const chans = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) chans.push(buffer.getChannelData(c));
  const step = buffer.length / n;
  for (let i = 0; i < n; i++) {
    let lo = 0;
    let hi = 0;
    const a = Math.floor(i * step);
    const b = Math.min(buffer.length, Math.floor((i + 1) * step));
    const stride = Math.max(1, Math.floor((b - a) / 200));
    for (const d of chans) {
      for (let j = a; j < b; j += stride) {
        const v = d[j];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    out[2 * i] = lo;
    out[2 * i + 1] = hi;
  }
  return out;
}
