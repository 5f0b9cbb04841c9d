"""Numbers the studio draws, computed from the session and the rendered files.

Every curve is a real response: EQ curves come from the renderer's own second-order sections
(:func:`mixwise.render.engine.filter_sos`), gain reduction from the renderer's compressor run
on the track's signal as it reaches the compressor, loudness from the BS.1770 meters.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from mixwise.io.audio import write_audio, write_text_atomic
from mixwise.session import model as m

#: Frequencies (Hz) at which EQ curves are drawn: 1/12 octave from 20 Hz to 20 kHz.
CURVE_FREQS_HZ = np.geomspace(20.0, 20_000.0, 121)
#: Hop of the gain-reduction envelope (s).
GR_FRAME_S = 0.05


def _finite(x: float, digits: int = 2) -> float | None:
    return round(float(x), digits) if x is not None and math.isfinite(x) else None


def eq_curve_db(
    sample_rate: int,
    *,
    high_pass: m.Filter | None = None,
    low_pass: m.Filter | None = None,
    eq: list[m.EQBand] | None = None,
    freqs_hz: np.ndarray = CURVE_FREQS_HZ,
) -> list[float]:
    """Magnitude response (dB) of a chain's filters and EQ at ``freqs_hz``, from the exact
    second-order sections the renderer runs."""
    from scipy.signal import sosfreqz

    from mixwise.render.engine import filter_sos

    sos = filter_sos(sample_rate, high_pass=high_pass, low_pass=low_pass, eq=eq)
    if len(sos) == 0:
        return [0.0] * len(freqs_hz)
    f = np.minimum(freqs_hz, 0.499 * sample_rate)
    _, h = sosfreqz(sos, worN=f, fs=sample_rate)
    db = 20 * np.log10(np.maximum(np.abs(h), 1e-6))
    return [round(float(v), 2) for v in db]


def chain_curve(session: m.Session, target: str) -> list[float]:
    """EQ curve (dB at :data:`CURVE_FREQS_HZ`) of ``tracks[id]``, ``buses[id]`` or ``master``."""
    sr = session.sample_rate
    if target == "master":
        ms = session.master
        return eq_curve_db(sr, high_pass=ms.high_pass, eq=ms.eq)
    kind, _, ident = target.partition(":")
    items = session.tracks if kind == "track" else session.buses
    for it in items:
        if it.id == ident:
            c = it.chain
            return eq_curve_db(sr, high_pass=c.high_pass, low_pass=c.low_pass, eq=c.eq)
    raise KeyError(target)


def all_curves(session: m.Session) -> dict[str, list[float]]:
    """``track:<id>`` / ``bus:<id>`` / ``master`` -> EQ curve (dB)."""
    out = {f"track:{t.id}": chain_curve(session, f"track:{t.id}") for t in session.tracks}
    out.update({f"bus:{b.id}": chain_curve(session, f"bus:{b.id}") for b in session.buses})
    out["master"] = chain_curve(session, "master")
    return out


def stem_files(session: m.Session, render_dir: Path) -> dict[str, str]:
    """``track:<id>`` / ``bus:<id>`` -> the processed stem in ``render/stems`` (path relative
    to the project folder), for the tracks and aux returns that were rendered."""
    from mixwise.api import session_stem_names
    from mixwise.render.engine import return_stem_name

    out: dict[str, str] = {}
    names = session_stem_names(session)
    for t in session.tracks:
        p = render_dir / "stems" / f"{names[t.id]}.wav"
        if p.is_file():
            out[f"track:{t.id}"] = f"render/stems/{p.name}"
    taken = set(names.values())
    for b in session.buses:
        if b.kind != "aux":
            continue
        rname = return_stem_name(b.id, taken)
        taken.add(rname)
        p = render_dir / "stems" / f"{rname}.wav"
        if p.is_file():
            out[f"bus:{b.id}"] = f"render/stems/{p.name}"
    return out


# --------------------------------------------------------------------------------------------
# measurements made once after a render (render/studio.json)


def _load(path: Path, sample_rate: int) -> np.ndarray:
    from mixwise.io.audio import load_file

    audio, _, _ = load_file(path, sample_rate=sample_rate)
    return audio


def gain_reduction_db(
    track: m.Track, audio: np.ndarray, sample_rate: int, *, frame_s: float = GR_FRAME_S
) -> list[float]:
    """The compressor's gain reduction (dB, >= 0, makeup excluded) of ``track`` over time, the
    largest in each ``frame_s`` frame, computed on the source after trim, polarity and the
    track's filters (what reaches its compressor). Empty when the compressor is off."""
    from scipy.signal import sosfilt

    from mixwise.render.engine import db_to_gain, filter_sos, make_compressor

    c = track.chain
    comp = make_compressor(c.compressor, sample_rate, audio.shape[0])
    if comp is None:
        return []
    x = audio.astype(np.float64) * db_to_gain(c.trim_db) * (-1 if c.polarity_inverted else 1)
    sos = filter_sos(sample_rate, high_pass=c.high_pass, low_pass=c.low_pass, eq=c.eq)
    if len(sos):
        x = sosfilt(sos, x, axis=-1)
    g = comp.gains(np.ascontiguousarray(x))
    gr = c.compressor.makeup_db - 20 * np.log10(np.maximum(g, 1e-9))
    hop = max(1, round(frame_s * sample_rate))
    n = len(gr) // hop
    if n == 0:
        return []
    frames = gr[: n * hop].reshape(n, hop).max(axis=1)
    return [round(float(max(v, 0.0)), 2) for v in frames]


def _spectrum(audio: np.ndarray, sample_rate: int) -> tuple[list[float], list[float]]:
    """Third-octave long-term spectrum (dB), normalised to 0 dB mean over 100 Hz - 8 kHz."""
    from mixwise.analysis.spectrum import band_frames

    bf = band_frames(audio, sample_rate)
    db = np.asarray(bf.long_term_db(), dtype=float)
    mid = (bf.centres_hz >= 100) & (bf.centres_hz <= 8000)
    ok = np.isfinite(db)
    ref = float(np.mean(db[mid & ok])) if np.any(mid & ok) else 0.0
    return [float(f) for f in bf.centres_hz], [
        round(float(v - ref), 2) if math.isfinite(v) else None for v in db
    ]


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float | None:
    """Integrated loudness (LUFS) or ``None`` for silence."""
    from mixwise.analysis.meters import integrated_loudness

    return _finite(integrated_loudness(audio, sample_rate))


def short_term_lufs(audio: np.ndarray, sample_rate: int) -> list[float | None]:
    from mixwise.analysis.meters import short_term_loudness

    return [_finite(v) for v in short_term_loudness(audio, sample_rate)]


def measure_render(
    session: m.Session, session_path: Path, render_dir: Path, progress=None
) -> dict[str, Any]:
    """After a render: write ``raw.wav`` (the stems summed at unity, for A/B) and
    ``studio.json`` (raw and master loudness, spectrum, gain reduction per compressed track);
    returns what ``studio.json`` holds."""
    from mixwise.session.io import resolve_source

    sr = session.sample_rate
    n = max(1, round(session.length_s * sr))
    raw = np.zeros((2, n), dtype=np.float32)
    gr: dict[str, list[float]] = {}
    tracks = session.tracks
    for i, t in enumerate(tracks):
        path = resolve_source(session_path, t.source.path)
        try:
            audio = _load(path, sr)
        except Exception:
            continue
        k = min(n, audio.shape[1])
        raw[:, :k] += audio[:, :k] if audio.shape[0] == 2 else audio[:1, :k]
        if t.chain.compressor.enabled:
            gr[t.id] = gain_reduction_db(t, audio, sr)
        if progress:
            progress((i + 1) / max(1, len(tracks)))
    write_audio(render_dir / "raw.wav", raw, sample_rate=sr)
    master = _load(render_dir / "master.wav", sr)
    freqs, master_spec = _spectrum(master, sr)
    _, raw_spec = _spectrum(raw, sr)
    data = {
        "raw_lufs": loudness_lufs(raw, sr),
        "master_lufs": loudness_lufs(master, sr),
        "master_short_term_lufs": short_term_lufs(master, sr),
        "spectrum": {"freqs_hz": freqs, "master_db": master_spec, "raw_db": raw_spec},
        "gain_reduction": {"frame_s": GR_FRAME_S, "tracks": gr},
    }
    write_text_atomic(render_dir / "studio.json", json.dumps(data) + "\n")
    return data


def measure_reference(path: Path, sample_rate: int) -> dict[str, Any]:
    """Loudness (LUFS) and spectrum of a reference track, resampled to the session rate."""
    audio = _load(path, sample_rate)
    if audio.shape[0] == 1:
        audio = np.vstack([audio, audio])
    freqs, spec = _spectrum(audio, sample_rate)
    return {
        "file": path.name,
        "lufs": loudness_lufs(audio, sample_rate),
        "duration_s": round(audio.shape[1] / sample_rate, 2),
        "spectrum": {"freqs_hz": freqs, "db": spec},
    }
