"""Ardour 7 session export and import.

:func:`export_ardour` writes a complete Ardour 7 session folder, by mixwise alone (no Ardour
needed to write it)::

    OUT/NAME.ardour                          the session (XML, written with lxml)
    OUT/interchange/NAME/audiofiles/*.wav    each track's audio, float WAV at the session rate
    OUT/peaks/ analysis/ dead/ export/ externals/ plugins/ interchange/NAME/midifiles/
    OUT/mixwise-notes.txt                    what could not be carried exactly, per track

What is carried and how (``docs/ardour.md`` has the full parameter table and measurements):

* a track per stem, its audio as one region per kept part (region trims with mixwise's raised-
  cosine fades; Ardour's default 64-sample fades are off where mixwise has none), the delay as
  the regions' offset (whole samples); click repairs are written into the exported audio;
* trim on Ardour's trim control, polarity on the track's phase invert, fader on the gain
  control (fader moves as gain automation), mute, solo, colour;
* pan: mono tracks keep Ardour's mono panner, whose law (-3 dB at the centre) approximates
  mixwise's constant-power sine law; the azimuth gives mixwise's left/right ratio and the small
  level difference (at most 0.26 dB) is added to the fader (and to pre-fader sends). Stereo
  tracks get Ardour's balance panner, set so the attenuated side matches mixwise's;
* peaking bands and Q = 0.7071 shelves on ACE EQ (``urn:ardour:a-eq``): the RBJ Q becomes
  ACE's bandwidth in octaves, the shelf frequency moves to ACE's shelf definition and the port
  values allow for ACE's control glide, so the response is the same biquad; high- and low-pass
  filters (Butterworth, 6-48 dB/oct), the other EQ bands and stereo width run in a small Lua
  DSP processor embedded in the session ("mixwise Filters", :data:`LUA_FILTERS`);
* compressor on ACE Compressor (``urn:ardour:a-comp``, ``#stereo`` for stereo): same static
  curve and time-constant formula, but a different detector, so threshold and attack are
  matched to mixwise's gain reduction on the session's own audio (:func:`fit_ace_compressor`);
* group buses as Ardour buses fed by their tracks' outputs (plus a route group for the colour);
  aux buses with ACE Reverb (level-matched, length approximated) or two ACE Delays, and aux
  sends pre- or post-fader; the master bus with its filters, EQ and glue compressor. The
  true-peak limiter and loudness target have no ACE equivalent (see ``mixwise-notes.txt``);
* markers (points as Ardour markers, ranges as range markers, comments as markers named
  ``name: text``); mixwise's own ids, roles and marker details ride in the session's ``Extra``
  node (Ardour keeps it when it saves), so :func:`import_ardour` gets them back exactly.

:func:`import_ardour` reads a session (the ``.ardour`` file or its folder) back into a
:class:`~mixwise.session.model.Session`: tracks with their audio files (absolute paths, inside
the Ardour folder, so the session can be saved anywhere), names, colours, fader, trim, pan,
mute, polarity, regions, filters, EQ, compressors, sends, buses and markers.

Times in Ardour 7 sessions are superclock ticks written ``a<ticks>``: 282,240,000 per second.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit

from mixwise.dsp.pan import pan_gains
from mixwise.errors import ExportError, MixwiseError
from mixwise.export.common import atomic_output, check_sources, write_track_wavs
from mixwise.session import model as m

log = logging.getLogger(__name__)

#: Ardour 7's time unit: superclock ticks per second (``a<ticks>`` in the session file).
SUPERCLOCK_PER_SECOND = 282_240_000
#: The session format this module writes (Ardour 7.0-7.5).
SESSION_VERSION = "7002"

URI_EQ = "urn:ardour:a-eq"
URI_COMP = "urn:ardour:a-comp"
URI_COMP_STEREO = "urn:ardour:a-comp#stereo"
URI_REVERB = "urn:ardour:a-reverb"
URI_DELAY = "urn:ardour:a-delay"
URI_BALANCE = "http://ardour.org/plugin/panner_balance"

#: ACE EQ's limits: gains (dB), frequencies (Hz), bandwidths (octaves).
ACE_EQ_GAIN_DB = 19.9  # its range is +-20 dB; the port sits a little beyond the gain
ACE_EQ_FREQ_HZ = (20.0, 20_000.0)
ACE_EQ_BW_OCT = (0.1, 4.0)
#: ACE EQ's shelves have a fixed Q; mixwise shelves within this much of it (max |dB| error of
#: the response) go to ACE EQ, the others to the Lua filters.
ACE_SHELF_Q = 1.0 / math.sqrt(2.0)
SHELF_TOLERANCE_DB = 0.02
#: Ardour's trim and fader ranges (dB).
TRIM_RANGE_DB = (-20.0, 20.0)
FADER_MAX_DB = 6.0

#: Ardour's mono panner: ``g(x) = x (s x + 1 - s)`` for the share x of a side, with s chosen so
#: that the centre is -3 dB (libs/panners/1in2out).
_MONO_PAN_SCALE = 2.0 - 4.0 * 10.0 ** (-3.0 / 20.0)


# --------------------------------------------------------------------------------------------
# units


def samples_to_superclock(samples: int, sample_rate: int) -> int:
    """Superclock ticks for a number of samples at ``sample_rate`` (Hz)."""
    return round(int(samples) * SUPERCLOCK_PER_SECOND / sample_rate)


def superclock_to_samples(ticks: int, sample_rate: int) -> int:
    """Samples (rounded) for a number of superclock ticks at ``sample_rate`` (Hz)."""
    return round(int(ticks) * sample_rate / SUPERCLOCK_PER_SECOND)


def _db_to_gain(db: float) -> float:
    return 0.0 if db == -math.inf else 10.0 ** (db / 20.0)


def _gain_to_db(gain: float) -> float:
    return 20.0 * math.log10(gain) if gain > 0 else -math.inf


def colour_to_rgba(colour: str) -> int:
    """``#RRGGBB`` -> Ardour's 32-bit ``0xRRGGBBAA`` (opaque)."""
    return (int(colour[1:7], 16) << 8) | 0xFF


def rgba_to_colour(rgba: int) -> str | None:
    """Ardour's ``0xRRGGBBAA`` -> ``#RRGGBB`` (``None`` for 0, Ardour's "no colour")."""
    if not rgba:
        return None
    return f"#{(rgba >> 8) & 0xFFFFFF:06X}"


# --------------------------------------------------------------------------------------------
# pan laws


def ardour_mono_pan_gains(azimuth: float) -> tuple[float, float]:
    """(left, right) linear gains of Ardour's mono panner at ``azimuth`` (0 left .. 1 right)."""
    r = min(max(azimuth, 0.0), 1.0)
    lft = 1.0 - r
    s = _MONO_PAN_SCALE
    return lft * (s * lft + 1.0 - s), r * (s * r + 1.0 - s)


def mono_pan_to_ardour(pan: float) -> tuple[float, float]:
    """Ardour azimuth (0-1) and trim correction (dB) that give mixwise's mono pan ``pan``.

    The azimuth makes Ardour's left/right ratio equal mixwise's (the same image position);
    the correction makes the levels equal too (0 dB at the centre and the extremes, at most
    0.26 dB in between)."""
    gl, gr = pan_gains(pan, channels=1)
    if gr == 0.0:
        return 0.0, 0.0
    if gl == 0.0:
        return 1.0, 0.0
    target = gr / gl
    lo, hi = 0.0, 1.0
    for _ in range(60):  # Ardour's ratio grows monotonically with the azimuth
        mid = 0.5 * (lo + hi)
        al, ar = ardour_mono_pan_gains(mid)
        if ar / al < target:
            lo = mid
        else:
            hi = mid
    az = 0.5 * (lo + hi)
    al, ar = ardour_mono_pan_gains(az)
    return az, _gain_to_db(gl / al)


def ardour_to_mono_pan(azimuth: float) -> tuple[float, float]:
    """mixwise pan and the trim correction (dB) :func:`mono_pan_to_ardour` would have added,
    for an Ardour mono-panner ``azimuth``."""
    al, ar = ardour_mono_pan_gains(azimuth)
    pan = 4.0 / math.pi * math.atan2(ar, al) - 1.0
    pan = min(max(pan, -1.0), 1.0)
    return pan, mono_pan_to_ardour(pan)[1]


def balance_to_ardour(pan: float) -> float:
    """Ardour balance-panner azimuth (0-1) giving mixwise's stereo balance ``pan``: Ardour
    attenuates one side linearly (``2 - 2 az`` on the left above the centre), mixwise along
    its constant-power curve; the azimuth is chosen so the attenuated side matches."""
    gl, gr = pan_gains(pan, channels=2)
    if pan > 0:
        return 1.0 - gl / 2.0
    if pan < 0:
        return gr / 2.0
    return 0.5


def ardour_to_balance(azimuth: float) -> float:
    """mixwise stereo balance for an Ardour balance-panner ``azimuth`` (inverse of
    :func:`balance_to_ardour`)."""
    az = min(max(azimuth, 0.0), 1.0)
    if az > 0.5:
        left = 2.0 - 2.0 * az  # = sqrt(2) cos(theta)
        theta = math.acos(min(left / math.sqrt(2.0), 1.0))
    elif az < 0.5:
        right = 2.0 * az  # = sqrt(2) sin(theta)
        theta = math.asin(min(right / math.sqrt(2.0), 1.0))
    else:
        return 0.0
    return min(max(4.0 * theta / math.pi - 1.0, -1.0), 1.0)


# --------------------------------------------------------------------------------------------
# EQ


def q_to_bandwidth_oct(q: float) -> float:
    """ACE EQ bandwidth (octaves) of a peaking band with the RBJ cookbook ``q``.

    ACE EQ turns its bandwidth into ``Q = 2^(bw/2) / (2^bw - 1)`` and builds the same analog
    prototype as the cookbook (bilinear transform, pre-warped at the centre), so inverting that
    formula gives the identical filter."""
    u = (1.0 + math.sqrt(1.0 + 4.0 * q * q)) / (2.0 * q)
    return 2.0 * math.log2(u)


def bandwidth_oct_to_q(bandwidth_oct: float) -> float:
    """RBJ Q of an ACE EQ peaking band of ``bandwidth_oct`` octaves."""
    return 2.0 ** (bandwidth_oct / 2.0) / (2.0**bandwidth_oct - 1.0)


def shelf_to_ace_hz(kind: str, freq_hz: float, gain_db: float, sample_rate: int) -> float:
    """ACE EQ shelf frequency (Hz) equal to an RBJ shelf (Q = 0.7071) at ``freq_hz``.

    The cookbook puts the shelf's midpoint at ``freq_hz`` (poles at f/sqrt(A) for a low shelf);
    ACE EQ puts its poles at its frequency and the zeros a factor A = 10^(gain/40) away. So the
    ACE frequency is the cookbook's moved by sqrt(A) (down for a low shelf, up for a high
    shelf), in the pre-warped (tan) domain, which makes the two digital filters identical."""
    a_sqrt = 10.0 ** (gain_db / 80.0)
    k = math.tan(math.pi * freq_hz / sample_rate)
    k = k / a_sqrt if kind == "low_shelf" else k * a_sqrt
    return math.atan(k) * sample_rate / math.pi


def ace_hz_to_shelf(kind: str, ace_hz: float, gain_db: float, sample_rate: int) -> float:
    """Inverse of :func:`shelf_to_ace_hz`: the RBJ shelf frequency (Hz) of an ACE EQ shelf."""
    a_sqrt = 10.0 ** (gain_db / 80.0)
    k = math.tan(math.pi * ace_hz / sample_rate)
    k = k * a_sqrt if kind == "low_shelf" else k / a_sqrt
    return math.atan(k) * sample_rate / math.pi


#: ACE EQ glides every control towards its port value (in steps of ``tau`` every 64 samples,
#: starting from 0 when loaded) and stops once within these tolerances, a little short of it:
#: gains (dB), frequencies (Hz), bandwidths (octaves).
_ACE_GLIDE_TOLERANCE = {"gain": 0.05, "freq": 0.1, "bw": 0.001}


def _ace_settled(port_value: float, tolerance: float, sample_rate: int) -> float:
    """Where ACE EQ's smoothing of one control, from 0 towards ``port_value``, comes to rest
    (computed in float32 like the plug-in)."""
    f32 = np.float32
    tau = f32(1.0) - f32(math.exp(float(f32(-2.0 * math.pi * 64.0 * 25.0 / sample_rate))))
    target = f32(port_value)
    tol = f32(tolerance)
    v = f32(0.0)
    for _ in range(100_000):
        if abs(f32(v - target)) < tol:
            break
        v = f32(v + f32(tau * f32(target - v)))
    return float(v)


def ace_port_value(wanted: float, kind: str, sample_rate: int) -> float:
    """The ACE EQ port value (``kind``: ``"gain"``, ``"freq"`` or ``"bw"``) at which the
    plug-in's control glide settles on ``wanted``: ACE EQ never reaches its port values
    exactly (it stops up to 0.05 dB short on gains), so the port is set a little beyond."""
    tol = _ACE_GLIDE_TOLERANCE[kind]
    if wanted == 0.0:
        return 0.0
    best, best_err = wanted, abs(_ace_settled(wanted, tol, sample_rate) - wanted)
    port = wanted
    for _ in range(12):
        port = port + (wanted - _ace_settled(port, tol, sample_rate))
        err = abs(_ace_settled(port, tol, sample_rate) - wanted)
        if err < best_err:
            best, best_err = port, err
        if err < 1e-6 * max(1.0, abs(wanted)):
            break
    return float(np.float32(best))


def _shelf_fits_ace(band: m.EQBand, sample_rate: int) -> bool:
    from mixwise.dsp.biquad import rbj_biquad, sos_response_db

    if abs(band.q - ACE_SHELF_Q) < 1e-9:
        return True
    nyq = 0.49 * sample_rate
    f = min(band.freq_hz, nyq)
    grid = np.geomspace(20.0, min(20_000.0, nyq), 200)
    a = sos_response_db(
        rbj_biquad(band.type, f, sample_rate, gain_db=band.gain_db, q=band.q), grid, sample_rate
    )
    b = sos_response_db(
        rbj_biquad(band.type, f, sample_rate, gain_db=band.gain_db, q=ACE_SHELF_Q),
        grid,
        sample_rate,
    )
    return float(np.max(np.abs(a - b))) <= SHELF_TOLERANCE_DB


# --------------------------------------------------------------------------------------------
# compressor


#: ACE Compressor's ranges: attack, release (ms), knee (its unit: 1 = 6 dB wide), ratio,
#: threshold (dB), makeup (dB).
ACE_COMP_RANGES = {
    "att": (0.1, 100.0),
    "rel": (1.0, 2000.0),
    "kn": (0.0, 8.0),
    "rat": (1.0, 20.0),
    "thr": (-60.0, 0.0),
    "mak": (0.0, 30.0),
}


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def compressor_to_ace(
    c: m.Compressor, *, threshold_offset_db: float = 0.0, attack_ms: float | None = None
) -> tuple[dict[str, float], float]:
    """ACE Compressor port values for a mixwise compressor, and the gain (dB, <= 0) that must
    follow it elsewhere (ACE's makeup cannot be negative; the fader takes the rest).

    The static curves are the same formula: above the knee ``(L - T)(1 - 1/R)`` of reduction,
    a quadratic knee ``W`` dB wide centred on the threshold (ACE's knee control ``kn`` gives
    ``W = 6 kn + 0.01`` dB). The time constants use the same one-pole coefficient
    ``exp(-1000 / (ms * rate))``. The detectors differ: ACE smooths the reduction computed from
    every sample's magnitude, with the attack while it grows and the release while it falls;
    mixwise follows the peak (or 10 ms RMS) envelope's reduction instantly up, releases it, then
    smooths the result with the attack. So on the same audio ACE reduces more on sustained
    sounds and less on short hits; :func:`fit_ace_compressor` finds the ``threshold_offset_db``
    and ``attack_ms`` that make ACE's reduction follow mixwise's on the track's own audio.
    """
    ranges = ACE_COMP_RANGES
    ports = {
        "att": _clamp(c.attack_ms if attack_ms is None else attack_ms, *ranges["att"]),
        "rel": _clamp(c.release_ms, *ranges["rel"]),
        "kn": _clamp((c.knee_db - 0.01) / 6.0, *ranges["kn"]),
        "rat": _clamp(c.ratio, *ranges["rat"]),
        "thr": _clamp(c.threshold_db + threshold_offset_db, *ranges["thr"]),
        "mak": _clamp(c.makeup_db, *ranges["mak"]),
    }
    return ports, min(c.makeup_db, 0.0)


@njit(cache=True, nogil=True, fastmath=True)
def _ace_frame_energy(level_db, power, thr, slope, width, att, rel, frame, out):  # pragma: no cover
    # ACE Compressor's gain computer and smoothing (a-comp.c, per sample), summing the
    # compressed power ``power[k] * 10^(-gr/10)`` of each band k per frame of ``frame`` samples
    # into ``out[frame index, k]``.
    old = 0.0
    half = 0.5 * width
    knee = slope / (2.0 * width)
    g2 = np.empty(frame)
    for f in range(out.shape[0]):
        base = f * frame
        for j in range(frame):
            over = level_db[base + j] - thr
            if over <= -half:
                cur = 0.0
            elif over >= half:
                cur = slope * over
            else:
                t = over + half
                cur = knee * t * t
            if cur < old:
                cur = rel * old + (1.0 - rel) * cur
            elif cur > old:
                cur = att * old + (1.0 - att) * cur
            old = cur
            g2[j] = cur
        for j in range(frame):  # independent of the recurrence: vectorises
            g2[j] = math.exp(-0.23025850929940458 * g2[j])
        for k in range(power.shape[0]):
            acc = 0.0
            for j in range(frame):
                acc += power[k, base + j] * g2[j]
            out[f, k] = acc


def ace_compressor_frames(
    audio: np.ndarray, ports: dict[str, float], sample_rate: int, *, frame: int = 1024
) -> np.ndarray:
    """Power per ``frame`` samples of ``audio`` [shape=(channels, n)] after ACE Compressor with
    ``ports`` (makeup left out): a simulation of the plug-in's gain reduction."""
    lv, p = _levels(audio)
    return _ace_frames(lv, p[None, :], ports, sample_rate, frame)[:, 0]


def _levels(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(level in dB, power) of every sample: the loudest channel, as ACE's detector reads it."""
    x = np.asarray(audio, dtype=np.float64)
    p = np.max(x * x, axis=0)
    lv = np.where(p > 0, 10.0 * np.log10(np.maximum(p, 1e-300)), -160.0)
    return lv, p


def _ace_frames(lv, bands, ports: dict[str, float], sample_rate: int, frame: int) -> np.ndarray:
    out = np.zeros((lv.shape[0] // frame, bands.shape[0]))
    width = 6.0 * ports["kn"] + 0.01
    slope = 1.0 - 1.0 / ports["rat"]
    att, rel = _coef(ports["att"], sample_rate), _coef(ports["rel"], sample_rate)
    _ace_frame_energy(lv, bands, ports["thr"], slope, width, att, rel, frame, out)
    return out


def _coef(ms: float, sample_rate: int) -> float:
    return math.exp(-1000.0 / (ms * sample_rate))


#: Compressor matching compares the compressed audio in these bands (crossovers, Hz).
FIT_CROSSOVERS_HZ = (150.0, 600.0, 2500.0, 8000.0)


def _band_powers(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Power per sample ``(bands, n)`` of ``x`` [shape=(channels, n)] split at
    :data:`FIT_CROSSOVERS_HZ` (Butterworth, channels summed)."""
    from scipy.signal import butter, sosfilt

    edges = [f for f in FIT_CROSSOVERS_HZ if f < 0.45 * sample_rate]
    parts = []
    for lo, hi in zip([None, *edges], [*edges, None], strict=True):
        if lo is None:
            sos = butter(4, hi, "lowpass", fs=sample_rate, output="sos")
        elif hi is None:
            sos = butter(4, lo, "highpass", fs=sample_rate, output="sos")
        else:
            sos = butter(2, [lo, hi], "bandpass", fs=sample_rate, output="sos")
        y = sosfilt(sos, x, axis=1)
        parts.append(np.sum(y * y, axis=0))
    return np.ascontiguousarray(parts)


@dataclass
class AceFit:
    """ACE Compressor settings matched to a mixwise compressor on some audio.

    threshold_offset_db, attack_ms : what :func:`compressor_to_ace` is given
    frame_error_db : the matching cost after the fit (``unfitted_error_db`` with mixwise's
        own values): RMS difference (dB) of the two compressed signals' levels in 23 ms
        frames and five bands, energy-weighted within each band, bands counted alike
    level_error_db : the whole excerpt's level difference (dB), ACE minus mixwise
    """

    threshold_offset_db: float
    attack_ms: float
    frame_error_db: float
    unfitted_error_db: float
    level_error_db: float


#: Compressor matching: a grid of threshold offsets (dB) and attack factors, then two finer
#: grids around the best point.
_FIT_STAGES = (
    (np.arange(-12.0, 12.01, 2.0), (0.5, 1.0, 2.0, 4.0)),
    (np.arange(-1.5, 1.51, 0.5), (0.7, 0.85, 1.0, 1.2, 1.4)),
    (np.arange(-0.25, 0.26, 0.25), (0.92, 1.0, 1.08)),
)


def fit_ace_compressor(audio: np.ndarray, c: m.Compressor, sample_rate: int) -> AceFit:
    """The ACE threshold offset and attack that make ACE Compressor's gain reduction follow
    mixwise's compressor ``c`` on ``audio`` [shape=(channels, n), the compressor's input].

    Both compressors are simulated on the audio. The cost compares the compressed levels in
    1024-sample frames in five bands (split at :data:`FIT_CROSSOVERS_HZ`, so that the fit keeps
    the spectral balance as well as the envelope): the RMS of the dB differences, weighted by
    mixwise's energy within each band, every band that holds music counting alike. A grid
    (offsets -12..+12 dB, attack x0.5..x4) is refined twice around its best point. Ratio, knee
    and release keep mixwise's values."""
    from mixwise.dsp.dynamics import Compressor

    x = np.ascontiguousarray(audio, dtype=np.float64)
    frame = 1024
    ref = Compressor(
        sample_rate=sample_rate,
        channels=x.shape[0],
        threshold_db=c.threshold_db,
        ratio=c.ratio,
        attack_ms=c.attack_ms,
        release_ms=c.release_ms,
        knee_db=c.knee_db,
        makeup_db=0.0,
        detector=c.detector,
    )
    g2 = ref.gains(x) ** 2
    lv, _ = _levels(x)
    bands = _band_powers(x, sample_rate)
    n_frames = x.shape[1] // frame
    if n_frames == 0 or not np.any(bands > 0):
        return AceFit(0.0, c.attack_ms, 0.0, 0.0, 0.0)
    n = n_frames * frame
    want = (bands[:, :n] * g2[:n]).reshape(len(bands), n_frames, frame).sum(axis=2).T
    totals = want.sum(axis=0)
    used = totals > 1e-4 * totals.sum()  # bands holding music
    weights = np.where(used, want / np.maximum(totals, 1e-300), 0.0) / used.sum()
    want_db = 10.0 * np.log10(want + 1e-30)

    def cost(offset: float, attack: float) -> tuple[float, float]:
        ports, _ = compressor_to_ace(c, threshold_offset_db=offset, attack_ms=attack)
        got = _ace_frames(lv, bands, ports, sample_rate, frame)
        err = math.sqrt(float(np.sum(weights * (10.0 * np.log10(got + 1e-30) - want_db) ** 2)))
        return err, 10.0 * math.log10(max(got.sum(), 1e-30) / totals.sum())

    lo, hi = ACE_COMP_RANGES["att"]
    base = cost(0.0, c.attack_ms)
    best = (base[0], 0.0, _clamp(c.attack_ms, lo, hi), base[1])
    for offsets, factors in _FIT_STAGES:
        centre_off, centre_att = (0.0, c.attack_ms) if offsets[0] < -2.0 else best[1:3]
        for off in centre_off + offsets:
            for f in factors:
                att = _clamp(centre_att * f, lo, hi)
                e, lvl = cost(float(off), att)
                if e < best[0]:
                    best = (e, float(off), att, lvl)
    return AceFit(best[1], best[2], best[0], base[0], best[3])


def ace_to_compressor(ports: dict[str, float], *, enabled: bool = True) -> m.Compressor:
    """A mixwise compressor (peak detector) from ACE Compressor port values."""
    return m.Compressor(
        enabled=enabled,
        threshold_db=_clamp(round(ports.get("thr", 0.0), 3), -80.0, 0.0),
        ratio=_clamp(round(ports.get("rat", 4.0), 3), 1.0, 100.0),
        attack_ms=_clamp(round(ports.get("att", 10.0), 3), 0.01, 1000.0),
        release_ms=_clamp(round(ports.get("rel", 80.0), 3), 1.0, 5000.0),
        knee_db=_clamp(round(6.0 * ports.get("kn", 0.0) + 0.01, 3), 0.0, 24.0),
        makeup_db=_clamp(round(ports.get("mak", 0.0), 3), -24.0, 24.0),
        detector="peak",
    )


# --------------------------------------------------------------------------------------------
# the Lua DSP processor for what ACE plug-ins cannot do exactly

#: Band types of the Lua filters' four bands (the ``Band k Type`` control).
LUA_BAND_TYPES = {
    "peak": 1,
    "low_shelf": 2,
    "high_shelf": 3,
    "notch": 4,
    "band_pass": 5,
    "low_pass": 6,
    "high_pass": 7,
}
LUA_BANDS = 4
LUA_FILTERS_NAME = "mixwise Filters"

#: A Lua DSP script Ardour runs inside the session (stored base64 in the processor's state):
#: Butterworth high/low-pass cascades (-3 dB at the set frequency, as mixwise's), four RBJ
#: cookbook bands and a mid/side stereo width, on Ardour's own biquad class.
LUA_FILTERS = r"""ardour {
	["type"]    = "dsp",
	name        = "mixwise Filters",
	category    = "Filter",
	license     = "Apache-2.0",
	author      = "mixwise",
	description = [[Butterworth high and low pass (6 to 48 dB/oct, -3 dB at the set
frequency), four RBJ cookbook bands and a stereo width (mid/side), as mixwise computes
them. Written by mixwise's Ardour export.]]
}

function dsp_ioconfig ()
	return { { audio_in = -1, audio_out = -1 } }
end

local function control (name, min, max, default, extra)
	local c = { ["type"] = "input", name = name, min = min, max = max, default = default }
	for k, v in pairs (extra or {}) do
		c[k] = v
	end
	return c
end

function dsp_params ()
	local slopes = { ["Off"] = 0, ["6 dB/oct"] = 6, ["12 dB/oct"] = 12, ["18 dB/oct"] = 18,
		["24 dB/oct"] = 24, ["36 dB/oct"] = 36, ["48 dB/oct"] = 48 }
	local kinds = { ["Off"] = 0, ["Peak"] = 1, ["Low Shelf"] = 2, ["High Shelf"] = 3,
		["Notch"] = 4, ["Band Pass"] = 5, ["Low Pass"] = 6, ["High Pass"] = 7 }
	local steps = { enum = true, scalepoints = slopes }
	local hz = { unit = "Hz", logarithmic = true }
	local p = {
		control ("High Pass Slope", 0, 48, 0, steps),
		control ("High Pass Frequency", 10, 24000, 80, hz),
		control ("Low Pass Slope", 0, 48, 0, steps),
		control ("Low Pass Frequency", 10, 24000, 20000, hz),
		control ("Stereo Width", 0, 2, 1),
	}
	for b = 1, 4 do
		local band = "Band " .. b .. " "
		p[#p + 1] = control (band .. "Type", 0, 7, 0, { enum = true, scalepoints = kinds })
		p[#p + 1] = control (band .. "Frequency", 10, 24000, 1000, hz)
		p[#p + 1] = control (band .. "Gain", -48, 48, 0, { unit = "dB" })
		p[#p + 1] = control (band .. "Q", 0.1, 40, 0.7071, { logarithmic = true })
	end
	return p
end

local NPARAMS = 21  -- the controls above (CtrlPorts:array () has no length)
local rate = 48000
local chn = 0
local sections = {} -- sections[c][k]: the k-th biquad of channel c
local used = 0      -- sections in use
local width = 1
local last = {}     -- the control values the coefficients belong to

function dsp_init (r)
	rate = r
end

function dsp_configure (ins, outs)
	chn = ins:n_audio ()
	sections = {}
	for c = 1, chn do
		sections[c] = {}
		for k = 1, 12 do
			sections[c][k] = ARDOUR.DSP.Biquad (rate)
		end
	end
	used = 0
	last = {}
end

local function put (k, a1, a2, b0, b1, b2)
	for c = 1, chn do
		sections[c][k]:set_coefficients (a1, a2, b0, b1, b2)
	end
end

-- Butterworth high or low pass of the given order: second-order sections with the
-- Butterworth pole Qs, a first-order section for odd orders; bilinear, pre-warped.
local function pass (k, high, order, freq)
	local K = math.tan (math.pi * freq / rate)
	for i = 1, order // 2 do
		local q = 1 / (2 * math.cos ((2 * i - 1 + order % 2) * math.pi / (2 * order)))
		local n = 1 / (1 + K / q + K * K)
		local a1, a2 = 2 * (K * K - 1) * n, (1 - K / q + K * K) * n
		if high then
			put (k, a1, a2, n, -2 * n, n)
		else
			local b = K * K * n
			put (k, a1, a2, b, 2 * b, b)
		end
		k = k + 1
	end
	if order % 2 == 1 then
		local n = 1 / (1 + K)
		if high then
			put (k, (K - 1) * n, 0, n, -n, 0)
		else
			put (k, (K - 1) * n, 0, K * n, K * n, 0)
		end
		k = k + 1
	end
	return k
end

-- One RBJ "Audio EQ Cookbook" biquad.
local function band (k, kind, freq, gain, q)
	local w = 2 * math.pi * freq / rate
	local cw, sw = math.cos (w), math.sin (w)
	local al = sw / (2 * q)
	local A = 10 ^ (gain / 40)
	local b0, b1, b2, a0, a1, a2
	if kind == 1 then
		b0, b1, b2 = 1 + al * A, -2 * cw, 1 - al * A
		a0, a1, a2 = 1 + al / A, -2 * cw, 1 - al / A
	elseif kind == 2 or kind == 3 then
		local s = 2 * math.sqrt (A) * al
		local sg = (kind == 2) and 1 or -1
		b0 = A * ((A + 1) - sg * (A - 1) * cw + s)
		b1 = sg * 2 * A * ((A - 1) - sg * (A + 1) * cw)
		b2 = A * ((A + 1) - sg * (A - 1) * cw - s)
		a0 = (A + 1) + sg * (A - 1) * cw + s
		a1 = -sg * 2 * ((A - 1) + sg * (A + 1) * cw)
		a2 = (A + 1) + sg * (A - 1) * cw - s
	elseif kind == 4 then
		b0, b1, b2 = 1, -2 * cw, 1
		a0, a1, a2 = 1 + al, -2 * cw, 1 - al
	elseif kind == 5 then
		b0, b1, b2 = al, 0, -al
		a0, a1, a2 = 1 + al, -2 * cw, 1 - al
	elseif kind == 6 then
		b0, b1, b2 = (1 - cw) / 2, 1 - cw, (1 - cw) / 2
		a0, a1, a2 = 1 + al, -2 * cw, 1 - al
	else
		b0, b1, b2 = (1 + cw) / 2, -(1 + cw), (1 + cw) / 2
		a0, a1, a2 = 1 + al, -2 * cw, 1 - al
	end
	put (k, a1 / a0, a2 / a0, b0 / a0, b1 / a0, b2 / a0)
	return k + 1
end

local function update (ctrl)
	local nyq = 0.49 * rate
	local k = 1
	local hs = math.floor (ctrl[1] + 0.5)
	if hs > 0 then
		k = pass (k, true, hs // 6, math.min (ctrl[2], nyq))
	end
	local ls = math.floor (ctrl[3] + 0.5)
	if ls > 0 and ctrl[4] < nyq then
		k = pass (k, false, ls // 6, ctrl[4])
	end
	for b = 0, 3 do
		local kind = math.floor (ctrl[6 + 4 * b] + 0.5)
		local gain = ctrl[8 + 4 * b]
		local neutral = (kind == 1 or kind == 2 or kind == 3) and gain == 0
		if kind > 0 and kind <= 7 and not neutral then
			k = band (k, kind, math.min (ctrl[7 + 4 * b], nyq), gain, ctrl[9 + 4 * b])
		end
	end
	for c = 1, chn do
		for j = used + 1, k - 1 do
			sections[c][j]:reset ()
		end
	end
	used = k - 1
	width = ctrl[5]
	for i = 1, NPARAMS do
		last[i] = ctrl[i]
	end
end

function dsp_run (ins, outs, n_samples)
	local ctrl = CtrlPorts:array ()
	local changed = false
	for i = 1, NPARAMS do
		if ctrl[i] ~= last[i] then
			changed = true
			break
		end
	end
	if changed then
		update (ctrl)
	end
	for c = 1, #ins do
		if ins[c] ~= outs[c] then
			ARDOUR.DSP.copy_vector (outs[c]:offset (0), ins[c]:offset (0), n_samples)
		end
		for k = 1, used do
			sections[c][k]:run (outs[c]:offset (0), n_samples)
		end
	end
	if chn == 2 and width ~= 1 then
		local l, r = outs[1]:array (), outs[2]:array ()
		local h = 0.5 * width
		for i = 1, n_samples do
			local mid = 0.5 * (l[i] + r[i])
			local side = h * (l[i] - r[i])
			l[i] = mid + side
			r[i] = mid - side
		end
	end
end
"""

_LUA_PARAM_NAMES = [
    "High Pass Slope",
    "High Pass Frequency",
    "Low Pass Slope",
    "Low Pass Frequency",
    "Stereo Width",
] + [f"Band {b} {what}" for b in range(1, 5) for what in ("Type", "Frequency", "Gain", "Q")]
_LUA_DEFAULTS = [0.0, 80.0, 0.0, 20_000.0, 1.0] + [0.0, 1000.0, 0.0, 0.7071] * LUA_BANDS


# --------------------------------------------------------------------------------------------
# LV2 port tables (symbol, name, index), from the ACE bundles of Ardour 7.3

_EQ_PORTS = [
    ("freql", "Frequency L", 0),
    ("gl", "Gain L", 1),
    ("freq1", "Frequency 1", 2),
    ("g1", "Gain 1", 3),
    ("bw1", "Bandwidth 1", 4),
    ("freq2", "Frequency 2", 5),
    ("g2", "Gain 2", 6),
    ("bw2", "Bandwidth 2", 7),
    ("freq3", "Frequency 3", 8),
    ("g3", "Gain 3", 9),
    ("bw3", "Bandwidth 3", 10),
    ("freq4", "Frequency 4", 11),
    ("g4", "Gain 4", 12),
    ("bw4", "Bandwidth 4", 13),
    ("freqh", "Frequency H", 14),
    ("gh", "Gain H", 15),
    ("master", "Master Gain", 16),
    ("filtogl", "Filter L", 17),
    ("filtog1", "Filter 1", 18),
    ("filtog2", "Filter 2", 19),
    ("filtog3", "Filter 3", 20),
    ("filtog4", "Filter 4", 21),
    ("filtogh", "Filter H", 22),
    ("enable", "Enable", 23),
]
_EQ_DEFAULTS = {
    "freql": 160.0,
    "gl": 0.0,
    "freq1": 300.0,
    "g1": 0.0,
    "bw1": 1.0,
    "freq2": 1000.0,
    "g2": 0.0,
    "bw2": 1.0,
    "freq3": 2500.0,
    "g3": 0.0,
    "bw3": 1.0,
    "freq4": 6000.0,
    "g4": 0.0,
    "bw4": 1.0,
    "freqh": 9000.0,
    "gh": 0.0,
    "master": 0.0,
    "filtogl": 0.0,
    "filtog1": 0.0,
    "filtog2": 0.0,
    "filtog3": 0.0,
    "filtog4": 0.0,
    "filtogh": 0.0,
    "enable": 1.0,
}
#: ACE EQ ports Ardour automates on a logarithmic scale.
_EQ_LOG_PORTS = {
    s: "Logarithmic"
    for s in ("freql", "freq1", "freq2", "freq3", "freq4", "freqh", "bw1", "bw2", "bw3", "bw4")
}
_COMP_PORTS = [
    ("att", "Attack", 0),
    ("rel", "Release", 1),
    ("kn", "Knee", 2),
    ("rat", "Ratio", 3),
    ("thr", "Threshold", 4),
    ("mak", "Makeup", 5),
    ("sidech", "Sidechain", 9),
    ("enable", "Enable", 10),
]
_REVERB_PORTS = [("blend", "Blend", 4), ("roomsz", "Room Size", 5), ("enable", "Enable", 6)]
_DELAY_PORTS = [
    ("inv", "Invert", 3),
    ("sync", "Sync BPM", 4),
    ("time", "Time", 5),
    ("div", "Divisor", 6),
    ("drywet", "Dry/Wet", 7),
    ("feedback", "Feedback", 8),
    ("lpf", "LPF", 9),
    ("gain", "Output Gain", 10),
    ("enable", "Enable", 12),
    ("dot", "Dotted", 13),
]
_TOGGLES = {
    "filtogl",
    "filtog1",
    "filtog2",
    "filtog3",
    "filtog4",
    "filtogh",
    "enable",
    "sidech",
    "inv",
    "sync",
    "dot",
}


#: ACE Reverb measured through ``ardour7-export`` (7.3, 48 kHz, an impulse into the left input):
#: room size -> decay time RT60 (s, from the Schroeder curve's -5 to -25 dB) and energy gain
#: (dB, both outputs together).
ACE_REVERB_TABLE = (
    (0.5, 0.66, -8.93),
    (0.6, 0.76, -8.57),
    (0.7, 0.96, -8.09),
    (0.8, 1.18, -7.56),
    (0.9, 1.60, -6.73),
    (1.0, 2.37, -5.61),
)


def reverb_to_ace(fx: m.Reverb) -> tuple[dict[str, float], float]:
    """ACE Reverb ports for a mixwise reverb and the gain (dB) to put before it.

    100 % wet (an aux return); the room size whose measured decay time is nearest mixwise's
    ``decay_s`` (ACE spans 0.66-2.37 s); the gain makes the return's energy equal mixwise's
    (whose impulse response has unit energy). ACE Reverb is a small comb/all-pass reverb with
    no pre-delay, damping or width controls: it takes the place of mixwise's generated reverb
    at the same level and length, but cannot sound the same."""
    rooms, rt60s, gains = (np.array(c) for c in zip(*ACE_REVERB_TABLE, strict=True))
    room = float(np.interp(math.log(fx.decay_s), np.log(rt60s), rooms))
    gain_db = -float(np.interp(room, rooms, gains))
    return {"blend": 1.0, "roomsz": room, "enable": 1.0}, gain_db


def delay_to_ace(fx: m.Delay, time_ms: float) -> dict[str, float]:
    """ACE Delay ports (one channel) for a mixwise delay: 100 % wet, the channel's delay time,
    feedback in percent and the repeats' low-pass at the damping frequency."""
    return {
        "inv": 0.0,
        "sync": 0.0,
        "time": _clamp(time_ms, 1.0, 8000.0),
        "div": 4.0,
        "drywet": 100.0,
        "feedback": _clamp(100.0 * fx.feedback, 0.0, 100.0),
        "lpf": _clamp(fx.damping_hz, 20.0, 20_000.0),
        "gain": 0.0,
        "enable": 1.0,
        "dot": 0.0,
    }


# --------------------------------------------------------------------------------------------
# the writer


def _fmt(x: float) -> str:
    """A number as Ardour writes it: integers without a decimal point, else full precision."""
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (control characters)."""
    return _XML_BAD.sub("", text)


def _meta(parent, tag: str, **attrs: str):
    """A metadata element for mixwise's ``Extra`` node (attribute names as given)."""
    from lxml import etree

    return etree.SubElement(parent, tag, {k: _xml_safe(v) for k, v in attrs.items()})


class _Ids:
    """Ardour object ids: one counter for the whole session."""

    def __init__(self) -> None:
        self.n = 100

    def __call__(self) -> str:
        self.n += 1
        return str(self.n)


@dataclass
class _RouteSpec:
    """What a route needs besides its processors."""

    name: str
    kind: str  # "track", "bus", "master"
    order: int
    colour: str | None
    n_inputs: int
    azimuth: float = 0.5
    stereo_panner: bool = False
    mute: bool = False
    solo: bool = False
    phase_invert: bool = False
    trim_gain: float = 1.0
    fader_gain: float = 1.0
    playlist_id: str | None = None
    group: str | None = None
    outputs_to: str = "Master"
    inputs_from: list[str] = field(default_factory=list)
    route_id: str = ""


class _Writer:
    """Builds the session XML for one export."""

    def __init__(self, session: m.Session, name: str) -> None:
        from lxml import etree

        self.E = etree
        self.session = session
        self.name = name
        self.sr = session.sample_rate
        self.ids = _Ids()
        self.notes: dict[str, list[str]] = {}
        #: matched ACE Compressor settings by chain key ("track:<id>", "group:<id>", "master")
        self.fits: dict[str, AceFit] = {}
        #: ACE Compressor ports written and the mixwise compressor they stand for, by chain key
        self.written_comps: dict[str, tuple[dict[str, float], m.Compressor]] = {}

    def comp_meta(self, key: str) -> dict[str, str]:
        """Metadata so that an unedited ACE Compressor imports as the original compressor."""
        if key not in self.written_comps:
            return {}
        ports, c = self.written_comps[key]
        return {"ace_comp": json.dumps(ports), "compressor": c.model_dump_json()}

    # small helpers ----------------------------------------------------------------------
    def el(self, parent, tag: str, **attrs: object):
        e = self.E.SubElement(parent, tag)
        for k, v in attrs.items():
            e.set(k.replace("_", "-"), _xml_safe(v) if isinstance(v, str) else _fmt(v))  # type: ignore[arg-type]
        return e

    def sc(self, samples: int) -> str:
        return f"a{samples_to_superclock(samples, self.sr)}"

    def note(self, where: str, text: str) -> None:
        self.notes.setdefault(where, []).append(text)
        log.info("ardour export: %s: %s", where, text)

    def _automation_list(
        self,
        parent,
        aid: str,
        style: str,
        domain: str = "AudioTime",
        events: list[tuple[int, float]] | None = None,
    ) -> None:
        al = self.el(
            parent,
            "AutomationList",
            automation_id=aid,
            id=self.ids(),
            interpolation_style=style,
            time_domain=domain,
            state="Play" if events else "Off",
        )
        if events:
            ev = self.el(al, "events")
            ev.text = "\n".join(f"{self.sc(s)} {_fmt(v)}" for s, v in events) + "\n"

    def _controllable(self, parent, name: str, value: float, flags: str = "", **extra: object):
        return self.el(
            parent, "Controllable", name=name, id=self.ids(), flags=flags, value=value, **extra
        )

    # processors -------------------------------------------------------------------------
    def _plugin_io(self, p, n_in: int, count: int, plugin_in: int, sinks: int) -> None:
        ci = self.el(p, "ConfiguredInput")
        self.el(ci, "Channels", type="audio", count=n_in)
        cs = self.el(p, "CustomSinks")
        self.el(cs, "Channels", type="audio", count=sinks)
        co = self.el(p, "ConfiguredOutput")
        self.el(co, "Channels", type="audio", count=n_in)
        self.el(p, "PresetOutput")
        for inst in range(count):
            im = self.el(p, f"InputMap-{inst}")
            om = self.el(p, f"OutputMap-{inst}")
            for pin in range(plugin_in):
                buf = inst * plugin_in + pin
                self.el(im, "Channelmap", type="audio", **{"from": pin, "to": buf})
                self.el(om, "Channelmap", type="audio", **{"from": pin, "to": buf})
        self.el(p, "ThruMap")

    def lv2(
        self,
        name: str,
        uri: str,
        ports: list[tuple[str, str, int]],
        values: dict[str, float],
        *,
        n_in: int,
        plugin_in: int,
        sinks: int | None = None,
        interp: dict[str, str] | None = None,
    ):
        """An LV2 plug-in processor: ``n_in`` route channels, ``plugin_in`` per instance."""
        count = max(1, n_in // plugin_in)
        p = self.E.Element("Processor")
        for k, v in dict(
            id=self.ids(),
            name=name,
            active="1",
            user_latency="0",
            use_user_latency="0",
            type="lv2",
            unique_id=uri,
            count=str(count),
            custom="0",
        ).items():
            p.set(k.replace("_", "-"), v)
        auto = self.el(p, "Automation")
        for sym, _, idx in ports:
            style = "Discrete" if sym in _TOGGLES else (interp or {}).get(sym, "Linear")
            self._automation_list(auto, f"parameter-{idx}", style, "BeatTime")
        self._plugin_io(p, n_in, count, plugin_in, sinks if sinks is not None else plugin_in)
        state = self.el(
            p,
            "lv2",
            last_preset_uri="",
            last_preset_label="",
            parameter_changed_since_last_preset="1",
        )
        for sym, _, _ in ports:
            self.el(state, "Port", symbol=sym, value=float(values[sym]))
        for sym, pname, idx in ports:
            flags = "Toggle" if sym in _TOGGLES else ""
            self._controllable(p, pname, float(values[sym]), flags, parameter=idx, symbol=sym)
        return p

    def lua_filters(self, values: list[float], *, n_in: int):
        """The embedded "mixwise Filters" Lua DSP processor with control ``values``."""
        script = LUA_FILTERS.encode("utf-8")
        p = self.E.Element("Processor")
        for k, v in dict(
            id=self.ids(),
            name=LUA_FILTERS_NAME,
            active="1",
            user_latency="0",
            use_user_latency="0",
            type="luaproc",
            unique_id=hashlib.sha1(script).hexdigest(),
            count="1",
            custom="0",
        ).items():
            p.set(k.replace("_", "-"), v)
        auto = self.el(p, "Automation")
        for i, pname in enumerate(_LUA_PARAM_NAMES):
            style = "Discrete" if pname.endswith(("Slope", "Type")) else "Linear"
            self._automation_list(auto, f"parameter-{i}", style, "BeatTime")
        ci = self.el(p, "ConfiguredInput")
        self.el(ci, "Channels", type="audio", count=n_in)
        cs = self.el(p, "CustomSinks")
        self.el(cs, "Channels", type="audio", count=n_in)
        co = self.el(p, "ConfiguredOutput")
        self.el(co, "Channels", type="audio", count=n_in)
        self.el(p, "PresetOutput")
        im = self.el(p, "InputMap-0")
        om = self.el(p, "OutputMap-0")
        for c in range(n_in):
            self.el(im, "Channelmap", type="audio", **{"from": c, "to": c})
            self.el(om, "Channelmap", type="audio", **{"from": c, "to": c})
        self.el(p, "ThruMap")
        state = self.el(
            p,
            "luaproc",
            last_preset_uri="",
            last_preset_label="",
            parameter_changed_since_last_preset="1",
        )
        s = self.el(state, "script", lua="Lua 5.3", origin="mixwise")
        s.text = base64.b64encode(script).decode("ascii")
        for i, v in enumerate(values):
            self.el(state, "Port", id=i, value=float(v))
        for i, (pname, v) in enumerate(zip(_LUA_PARAM_NAMES, values, strict=True)):
            self._controllable(p, pname, float(v), "", parameter=i)
        return p

    def simple(self, name: str, kind: str, **extra: object):
        p = self.E.Element("Processor")
        for k, v in dict(
            id=self.ids(), name=name, active="1", user_latency="0", use_user_latency="0", type=kind
        ).items():
            p.set(k.replace("_", "-"), v)
        for k, v in extra.items():
            p.set(k.replace("_", "-"), v if isinstance(v, str) else _fmt(v))  # type: ignore[arg-type]
        return p

    def gain_stage(self, kind: str, gain: float, events: list[tuple[int, float]] | None = None):
        """Ardour's trim (``kind="trim"``) or fader (``"amp"``) processor at linear ``gain``."""
        p = self.simple("Amp", kind)
        auto = self.el(p, "Automation")
        if kind == "trim":
            self._automation_list(auto, "trim", "Logarithmic")
            self._controllable(p, "trimcontrol", gain, "GainLike")
        else:
            self._automation_list(
                auto, "gain", "Linear" if events else "Exponential", events=events
            )
            self._controllable(p, "gaincontrol", gain, "GainLike")
        return p

    def send(self, target: _RouteSpec, level: float, stereo: bool):
        """An aux send to ``target`` at linear ``level``, panned like its route."""
        p = self.simple(
            target.name,
            "intsend",
            own_input="1",
            own_output="1",
            role="Aux",
            bitslot="1",
            selfdestruct="0",
            target=target.route_id,
            allow_feedback="0",
        )
        auto = self.el(p, "Automation")
        self._automation_list(auto, "phase", "Discrete")
        self._automation_list(auto, "send", "Exponential")
        self.el(
            p,
            "PannerShell",
            bypassed="0",
            user_panner=URI_BALANCE if stereo else "",
            linked_to_route="1",
        )
        self._pannable(p, 0.5)
        self._controllable(p, "polarity-invert", 0, "Toggle")
        self._controllable(p, "gaincontrol", level, "GainLike,InlineControl")
        return p

    def _pannable(self, parent, azimuth: float) -> None:
        pan = self.el(parent, "Pannable")
        for name, value in (
            ("pan-azimuth", azimuth),
            ("pan-width", 0.0),
            ("pan-elevation", 0.0),
            ("pan-frontback", 0.0),
            ("pan-lfe", 0.0),
        ):
            self._controllable(pan, name, value, "")
        auto = self.el(pan, "Automation")
        for name in ("pan-azimuth", "pan-elevation", "pan-width", "pan-frontback", "pan-lfe"):
            self._automation_list(auto, name, "Linear")

    # routes -----------------------------------------------------------------------------
    def route(self, routes_el, spec: _RouteSpec, processors: list) -> None:
        attrs = dict(
            version=SESSION_VERSION,
            id=spec.route_id,
            name=spec.name,
            default_type="audio",
            strict_io="1",
            active="1",
            denormal_protection="0",
            meter_point="MeterPostFader" if spec.kind != "master" else "MeterOutput",
            disk_io_point="DiskIOPreFader",
            meter_type="MeterPeak" if spec.kind != "master" else "MeterK14",
        )
        if spec.kind == "master":
            attrs["volume_applies_to_output"] = "1"
        if spec.group:
            attrs["route_group"] = spec.group
        if spec.kind == "track":
            attrs.update(
                audio_playlist=spec.playlist_id or "",
                saved_meter_point="MeterPostFader",
                alignment_choice="Automatic",
                mode="Normal",
            )
        r = self.el(routes_el, "Route", **attrs)
        flags = {"track": "AudioTrack", "bus": "AudioBus", "master": "MasterOut"}[spec.kind]
        self.el(
            r,
            "PresentationInfo",
            order=spec.order,
            flags=f"{flags},OrderSet",
            color=colour_to_rgba(spec.colour) if spec.colour else 0,
        )
        self._controllable(
            r,
            "solo",
            int(spec.solo),
            "Toggle,RealTime",
            self_solo=int(spec.solo),
            soloed_by_upstream="0",
            soloed_by_downstream="0",
        )
        self._controllable(r, "solo-iso", 0, "Toggle,RealTime", solo_isolated="0")
        self._controllable(r, "solo-safe", 0, "Toggle", solo_safe="0")
        io_in = self.el(
            r, "IO", name=spec.name, id=self.ids(), direction="Input", default_type="audio"
        )
        for k in range(spec.n_inputs):
            port = self.el(io_in, "Port", type="audio", name=f"{spec.name}/audio_in {k + 1}")
            for src in spec.inputs_from:
                self.el(port, "Connection", other=f"{src}/audio_out {k + 1}")
        io_out = self.el(
            r, "IO", name=spec.name, id=self.ids(), direction="Output", default_type="audio"
        )
        for k in range(2):
            port = self.el(io_out, "Port", type="audio", name=f"{spec.name}/audio_out {k + 1}")
            if spec.kind != "master":
                self.el(port, "Connection", other=f"{spec.outputs_to}/audio_in {k + 1}")
        self.el(r, "MuteMaster", mute_point="PreFader,PostFader,Listen,Main", muted=int(spec.mute))
        self._controllable(r, "mute", int(spec.mute), "Toggle,RealTime")
        bits = ("1" if spec.phase_invert else "0") * spec.n_inputs
        self._controllable(r, "phase", int(spec.phase_invert), "Toggle", phase_invert=bits)
        if spec.kind == "master":
            self._controllable(r, "mastervolume", 1, "GainLike,NotAutomatable")
        auto = self.el(r, "Automation")
        for name in ("solo", "solo-iso", "solo-safe", "mute", "phase"):
            self._automation_list(auto, name, "Discrete")
        self._pannable(r, spec.azimuth)
        if spec.kind == "track":
            r.append(self.simple(f"recorder:{spec.name}", "diskwriter", record_safe="0"))
            r.append(self.simple(f"player:{spec.name}", "diskreader"))
        if spec.kind == "bus":
            r.append(self.simple("Return", "intreturn"))
        r.append(self.simple("Polarity", "polarity"))
        r.append(self.gain_stage("trim", spec.trim_gain))
        for p in processors:
            r.append(p)
        r.append(self.simple(f"meter-{spec.name}", "meter"))
        outs = self.simple(
            spec.name, "main-outs", own_input="1", own_output="0", output=spec.name, role="Main"
        )
        self.el(
            outs,
            "PannerShell",
            bypassed="0",
            user_panner=URI_BALANCE if spec.stereo_panner else "",
            linked_to_route="1",
        )
        r.append(outs)
        self.el(r, "Slavable")
        if spec.kind == "track":
            self._controllable(r, "monitor", 0, "RealTime", monitoring="")
            self._controllable(r, "rec-safe", 0, "Toggle,RealTime")
            self._controllable(r, "rec-enable", 0, "Toggle,RealTime")

    # chains -----------------------------------------------------------------------------
    def eq_plan(self, where: str, bands: Iterable[m.EQBand]) -> tuple[list[dict], list[m.EQBand]]:
        """Split EQ bands into ACE EQ instances (port values) and bands for the Lua filters."""
        sr = self.sr
        nyq = 0.49 * sr
        peaks: list[m.EQBand] = []
        lows: list[tuple[m.EQBand, float]] = []
        highs: list[tuple[m.EQBand, float]] = []
        lua: list[m.EQBand] = []
        lo_hz, hi_hz = ACE_EQ_FREQ_HZ
        for b in bands:
            if not b.enabled or (b.type in ("peak", "low_shelf", "high_shelf") and b.gain_db == 0):
                continue
            f = min(b.freq_hz, nyq)
            if b.type == "peak":
                bw = q_to_bandwidth_oct(b.q)
                if (
                    abs(b.gain_db) <= ACE_EQ_GAIN_DB
                    and lo_hz <= f <= hi_hz
                    and ACE_EQ_BW_OCT[0] <= bw <= ACE_EQ_BW_OCT[1]
                ):
                    peaks.append(b)
                    continue
            elif b.type in ("low_shelf", "high_shelf"):
                ace_f = shelf_to_ace_hz(b.type, f, b.gain_db, sr)
                if (
                    abs(b.gain_db) <= ACE_EQ_GAIN_DB
                    and lo_hz <= ace_f <= hi_hz
                    and _shelf_fits_ace(b, sr)
                ):
                    (lows if b.type == "low_shelf" else highs).append((b, ace_f))
                    continue
            lua.append(b)
        n = max(math.ceil(len(peaks) / 4), len(lows), len(highs))
        instances: list[dict] = []
        for i in range(n):
            v = dict(_EQ_DEFAULTS)
            if i < len(lows):
                b, ace_f = lows[i]
                v.update(
                    freql=ace_port_value(ace_f, "freq", sr),
                    gl=ace_port_value(b.gain_db, "gain", sr),
                    filtogl=1.0,
                )
            if i < len(highs):
                b, ace_f = highs[i]
                v.update(
                    freqh=ace_port_value(ace_f, "freq", sr),
                    gh=ace_port_value(b.gain_db, "gain", sr),
                    filtogh=1.0,
                )
            for j, b in enumerate(peaks[4 * i : 4 * i + 4], start=1):
                v.update(
                    {
                        f"freq{j}": ace_port_value(min(b.freq_hz, nyq), "freq", sr),
                        f"g{j}": ace_port_value(b.gain_db, "gain", sr),
                        f"bw{j}": ace_port_value(q_to_bandwidth_oct(b.q), "bw", sr),
                        f"filtog{j}": 1.0,
                    }
                )
            instances.append(v)
        if lua:
            kinds = ", ".join(sorted({b.type for b in lua}))
            self.note(
                where,
                f"{len(lua)} EQ band(s) ({kinds}) outside what ACE EQ does exactly "
                f"run in the '{LUA_FILTERS_NAME}' processor",
            )
        return instances, lua

    def lua_values(
        self,
        *,
        high_pass: m.Filter | None = None,
        low_pass: m.Filter | None = None,
        bands: list[m.EQBand] | None = None,
        width: float = 1.0,
    ) -> list[float]:
        """The "mixwise Filters" control values for these filters, bands and width."""
        v = list(_LUA_DEFAULTS)
        if high_pass is not None and high_pass.enabled:
            v[0], v[1] = float(high_pass.slope_db_oct), high_pass.freq_hz
        if low_pass is not None and low_pass.enabled and low_pass.freq_hz < 0.49 * self.sr:
            v[2], v[3] = float(low_pass.slope_db_oct), low_pass.freq_hz
        v[4] = width
        for i, b in enumerate(bands or []):
            v[5 + 4 * i : 9 + 4 * i] = [float(LUA_BAND_TYPES[b.type]), b.freq_hz, b.gain_db, b.q]
        return v

    def chain(
        self,
        where: str,
        ch: m.BusChain,
        n_in: int,
        *,
        effect: list | None = None,
        key: str = "",
    ) -> tuple[list, float]:
        """Processors for a chain's filters, EQ, compressor and width, in mixwise's order, and
        the gain (dB) the fader must add (a negative compressor makeup).

        With ``effect`` (an aux bus) the filters run before the effect and the EQ after it."""
        procs: list = []
        hp = ch.high_pass if ch.high_pass.enabled else None
        lp = ch.low_pass if ch.low_pass.enabled and ch.low_pass.freq_hz < 0.49 * self.sr else None
        ace, lua_bands = self.eq_plan(where, ch.eq)
        has_comp = ch.compressor.enabled
        stereo_width = n_in == 2 and ch.width != 1.0
        lua_groups = [lua_bands[i : i + LUA_BANDS] for i in range(0, len(lua_bands), LUA_BANDS)]
        if effect is not None:
            if hp or lp:
                procs.append(
                    self.lua_filters(self.lua_values(high_pass=hp, low_pass=lp), n_in=n_in)
                )
            procs += effect
            hp = lp = None
        if hp or lp or lua_groups:
            groups = lua_groups or [[]]
            for i, g in enumerate(groups):
                last = i == len(groups) - 1
                width = ch.width if (last and stereo_width and not has_comp) else 1.0
                vals = self.lua_values(
                    high_pass=hp if i == 0 else None,
                    low_pass=lp if i == 0 else None,
                    bands=g,
                    width=width,
                )
                procs.append(self.lua_filters(vals, n_in=n_in))
            if not has_comp:
                stereo_width = False
        for v in ace:
            procs.append(
                self.lv2(
                    "ACE EQ",
                    URI_EQ,
                    _EQ_PORTS,
                    v,
                    n_in=n_in,
                    plugin_in=1,
                    interp=_EQ_LOG_PORTS,
                )
            )
        extra_db = 0.0
        if has_comp:
            c = ch.compressor
            fit = self.fits.get(key)
            if fit is not None:
                ports, extra_db = compressor_to_ace(
                    c, threshold_offset_db=fit.threshold_offset_db, attack_ms=fit.attack_ms
                )
                self.note(
                    where,
                    f"compressor matched to ACE's detector on the audio: threshold "
                    f"{fit.threshold_offset_db:+.2f} dB, attack {fit.attack_ms:.1f} ms "
                    f"(mixwise {c.attack_ms:g} ms); level error in 23 ms frames and 5 bands "
                    f"{fit.frame_error_db:.2f} dB RMS (unmatched {fit.unfitted_error_db:.2f} dB), "
                    f"overall {fit.level_error_db:+.2f} dB",
                )
            else:
                ports, extra_db = compressor_to_ace(c)
                self.note(
                    where,
                    f"compressor carried with mixwise's values; ACE's detector reads sample "
                    f"peaks, mixwise's {c.detector} detector reads differently (not matched)",
                )
            ports.update(sidech=0.0, enable=1.0)
            self.written_comps[key] = (ports, c)
            stereo = n_in == 2
            procs.append(
                self.lv2(
                    "ACE Compressor (stereo)" if stereo else "ACE Compressor",
                    URI_COMP_STEREO if stereo else URI_COMP,
                    _COMP_PORTS,
                    ports,
                    n_in=n_in,
                    plugin_in=n_in,
                    sinks=n_in + 1,
                    interp={"rat": "Logarithmic"},
                )
            )
        if stereo_width:
            procs.append(self.lua_filters(self.lua_values(width=ch.width), n_in=n_in))
        return procs, extra_db


# --------------------------------------------------------------------------------------------
# regions


@dataclass
class _Span:
    """One region in samples: session position, source offset, length, fades."""

    position: int
    offset: int
    length: int
    fade_in: int = 0
    fade_out: int = 0


def _spans(track: m.Track, n_source: int, sample_rate: int) -> tuple[list[_Span], float]:
    """The regions Ardour plays for a track, and the part of the delay (ms) that whole
    samples cannot carry (dropped)."""
    delay = track.chain.delay_ms * sample_rate / 1000.0
    d = round(delay)
    lost_ms = (delay - d) * 1000.0 / sample_rate
    if not track.regions:
        off = max(0, -d)
        return ([_Span(max(0, d), off, n_source - off)] if n_source > off else []), lost_ms
    raw = sorted(
        (
            round(r.start_s * sample_rate),
            round(r.end_s * sample_rate),
            round(r.fade_in_ms * sample_rate / 1000.0),
            round(r.fade_out_ms * sample_rate / 1000.0),
        )
        for r in track.regions
    )
    merged: list[list[int]] = []
    for s0, s1, fi, fo in raw:  # overlapping regions play as their union
        if merged and s0 <= merged[-1][1]:
            if s1 > merged[-1][1]:
                merged[-1][1], merged[-1][3] = s1, fo
            continue
        merged.append([s0, s1, fi, fo])
    spans = []
    for s0, s1, fi, fo in merged:
        off = s0 - d
        if off < 0:
            s0, off = s0 - off, 0
        s1 = min(s1, s0 + n_source - off)
        if s1 <= s0:
            continue
        n = s1 - s0
        spans.append(_Span(s0, off, n, min(fi, n), min(fo, n)))
    return spans, lost_ms


def _fade_events(n: int, *, fade_in: bool) -> list[tuple[float, float]]:
    """(time in samples from the fade's start, gain) points of mixwise's raised-cosine fade of
    ``n`` samples, for a linearly interpolated Ardour fade list.

    mixwise gives sample ``i`` of a fade-in the gain ``0.5 - 0.5 cos(pi (i + 0.5) / n)``.
    Ardour evaluates a fade read in one piece at ``x_i = i n / (n - 1)`` (its curve sampler
    includes both ends), so the points describe ``g(x (n - 1) / n)``; 512 segments keep the
    linear interpolation within 1e-5 of the curve."""
    segments = max(1, min(n, 512))
    out = []
    for j in range(segments + 1):
        x = n * j / segments
        i = x * (n - 1) / n if n > 1 else 0.0
        u = (i + 0.5) if fade_in else (n - i - 0.5)
        g = 0.5 - 0.5 * math.cos(math.pi * _clamp(u, 0.0, n) / n)
        out.append((x, _clamp(g, 0.0, 1.0)))
    return out


# --------------------------------------------------------------------------------------------
# compressor inputs, for matching ACE Compressor


#: Compressors are matched on at most this much of the session (s), from its middle.
MATCH_EXCERPT_S = 20.0


def _render_mix(session: m.Session, wavs: dict[str, Path], start_s: float, end_s: float):
    """``mix.wav`` of ``session`` (tracks read from the exported WAVs) between two times (s),
    as ``(2, n)`` float64."""
    import tempfile

    import soundfile as sf

    from mixwise.io.audio import FileSource
    from mixwise.render.engine import RenderOptions, render

    sources = {
        t.id: FileSource(wavs[t.id], sample_rate=session.sample_rate) for t in session.tracks
    }
    opts = RenderOptions(write_stems=False, write_master=False, start_s=start_s, end_s=end_s)
    with tempfile.TemporaryDirectory(prefix="mixwise-ardour-") as tmp:
        render(session, sources, tmp, options=opts)
        x, _ = sf.read(str(Path(tmp) / "mix.wav"), dtype="float64", always_2d=True)
    return np.ascontiguousarray(x.T)


class _BusiestWindow:
    """The :data:`MATCH_EXCERPT_S` seconds (start, end in s) where some tracks' audio holds the
    most energy, from their exported files read once (energy per second)."""

    def __init__(self, session: m.Session, wavs: dict[str, Path]) -> None:
        self.session = session
        self.wavs = wavs
        self.energy: dict[str, np.ndarray] = {}

    def _per_second(self, track_id: str) -> np.ndarray:
        import soundfile as sf

        if track_id not in self.energy:
            sr = self.session.sample_rate
            sums = []
            with sf.SoundFile(str(self.wavs[track_id])) as f:
                for block in f.blocks(blocksize=sr, dtype="float32", always_2d=True):
                    sums.append(float(np.sum(np.square(block, dtype=np.float64))))
            self.energy[track_id] = np.array(sums)
        return self.energy[track_id]

    def __call__(self, track_ids: list[str]) -> tuple[float, float]:
        per = [self._per_second(t) for t in track_ids]
        n = max((len(e) for e in per), default=0)
        if self.session.length_s > 0:
            n = min(n, math.ceil(self.session.length_s))
        total = np.zeros(n)
        for e in per:
            total[: min(n, len(e))] += e[:n]
        span = int(MATCH_EXCERPT_S)
        if n <= span:
            return 0.0, float(n)
        sums = np.convolve(total, np.ones(span), mode="valid")
        start = int(np.argmax(sums))
        return float(start), float(start + span)


def _isolated(session: m.Session, keep: list[m.Track]) -> m.Session:
    """A copy of ``session`` with only ``keep`` (no sends, no aux buses, neutral master, click
    repairs already in the exported audio)."""
    s = session.model_copy(deep=True)
    ids = {t.id for t in keep}
    s.tracks = [t for t in s.tracks if t.id in ids]
    for t in s.tracks:
        t.chain.sends = []
        t.repairs = []
        t.chain.solo = False
    s.buses = [b for b in s.buses if b.kind == "group"]
    s.master = m.Master(target_lufs=None, limiter=m.Limiter(enabled=False))
    return s


def _compressor_inputs(session: m.Session, wavs: dict[str, Path]) -> dict[str, np.ndarray]:
    """The audio entering each track, group-bus and master compressor (by chain key), rendered
    by mixwise: the chain up to the compressor, with the compressor and what follows it made
    neutral (fader 0 dB, centre balance, a mono track panned hard left: gain 1 on the left)."""
    out: dict[str, np.ndarray] = {}
    window = _BusiestWindow(session, wavs)
    for t in session.tracks:
        if not t.chain.compressor.enabled or t.chain.mute:
            continue
        s = _isolated(session, [t])
        tt = s.tracks[0]
        tt.bus = None
        ch = tt.chain
        ch.compressor.enabled = False
        ch.fader_db, ch.width, ch.automation = 0.0, 1.0, []
        mono = _wav_info(wavs[t.id])[1] == 1
        ch.pan = -1.0 if mono else 0.0
        x = _render_mix(s, wavs, *window([t.id]))
        out[f"track:{t.id}"] = x[:1] if mono else x
    for b in session.buses:
        if b.kind != "group" or not b.chain.compressor.enabled or b.chain.mute:
            continue
        members = [t for t in session.tracks if t.bus == b.id]
        if not members:
            continue
        s = _isolated(session, members)
        bb = s.bus(b.id)
        bb.chain.compressor.enabled = False
        bb.chain.fader_db, bb.chain.pan, bb.chain.width = 0.0, 0.0, 1.0
        out[f"group:{b.id}"] = _render_mix(s, wavs, *window([t.id for t in members]))
    if session.master.compressor.enabled:
        from mixwise.dsp.biquad import SosFilter
        from mixwise.render.engine import filter_sos

        s = session.model_copy(deep=True)
        for t in s.tracks:
            t.repairs = []
        s.master = m.Master(target_lufs=None, limiter=m.Limiter(enabled=False))
        x = _render_mix(s, wavs, *window([t.id for t in session.tracks]))
        mst = session.master
        sos = filter_sos(session.sample_rate, high_pass=mst.high_pass, eq=mst.eq)
        out["master"] = SosFilter(sos, 2).process(x)
    return out


def _match_compressors(session: m.Session, wavs: dict[str, Path]) -> dict[str, AceFit]:
    sr = session.sample_rate
    comps = {f"track:{t.id}": t.chain.compressor for t in session.tracks}
    comps.update({f"group:{b.id}": b.chain.compressor for b in session.buses})
    comps["master"] = session.master.compressor
    inputs = _compressor_inputs(session, wavs)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # numba frees the GIL
        done = pool.map(lambda k: (k, fit_ace_compressor(inputs[k], comps[k], sr)), inputs)
        fits = dict(done)
    for key, fit in fits.items():
        log.debug("ardour export: %s compressor matched: %s", key, fit)
    return fits


# --------------------------------------------------------------------------------------------
# export


_CONFIG = [
    ("use-region-fades", "1"),
    ("use-transport-fades", "1"),
    ("use-monitor-fades", "1"),
    ("native-file-data-format", "FormatFloat"),
    ("native-file-header-format", "WAVE"),
    ("auto-play", "0"),
    ("auto-return", "0"),
    ("auto-input", "1"),
    ("punch-in", "0"),
    ("punch-out", "0"),
    ("count-in", "0"),
    ("record-mode", "RecLayered"),
    ("timecode-format", "timecode_30"),
    ("insert-merge-policy", "InsertMergeRelax"),
    ("glue-new-markers-to-bars-and-beats", "0"),
    ("glue-new-regions-to-bars-and-beats", "0"),
    ("realtime-export", "0"),
    ("show-region-fades", "1"),
]

_SESSION_DIRS = ("analysis", "dead", "export", "externals", "peaks", "plugins")


def _route_names(session: m.Session) -> tuple[dict[str, str], dict[str, str]]:
    """Unique Ardour route names for tracks and buses (``:`` is not allowed in port names;
    "Master" is taken)."""
    taken = {"master", "monitor", "click"}
    out_t: dict[str, str] = {}
    out_b: dict[str, str] = {}

    def unique(name: str) -> str:
        base = " ".join(name.replace(":", "-").replace("/", "-").split()) or "Track"
        cand, k = base, 2
        while cand.lower() in taken:
            cand, k = f"{base} {k}", k + 1
        taken.add(cand.lower())
        return cand

    for t in session.tracks:
        out_t[t.id] = unique(t.name)
    for b in session.buses:
        out_b[b.id] = unique(b.name)
    return out_t, out_b


def export_ardour(
    session: m.Session,
    session_path: Path | None,
    out_dir: Path,
    *,
    name: str | None = None,
    match_compressors: bool = True,
) -> Path:
    """Write ``session`` as an Ardour 7 session folder ``out_dir`` and return its ``.ardour``
    file (``out_dir/NAME.ardour``).

    Parameters
    ----------
    session : the mix document; ``session.sample_rate`` (Hz) becomes the Ardour session rate
    session_path : the session file the tracks' relative source paths are relative to (or
        ``None`` when they are absolute)
    out_dir : the folder to create (replaced atomically if it exists)
    name : the Ardour session (snapshot) name; default: the folder's name
    match_compressors : set ACE Compressor's threshold and attack so that its gain reduction
        follows mixwise's on the session's own audio (:func:`fit_ace_compressor`, on up to
        :data:`MATCH_EXCERPT_S` s of each compressor's input, rendered by mixwise); without
        it mixwise's values are copied (ACE then reduces more on sustained sounds)

    Every track's audio is decoded at the session rate and written as 32-bit float WAV into
    ``interchange/NAME/audiofiles``. Raises :class:`ExportError` (nothing written) when a
    source file is missing or unreadable.
    """
    out_dir = Path(out_dir)
    snap = _snapshot_name(name or out_dir.name)
    check_sources(session, session_path)
    with atomic_output(out_dir, is_dir=True) as tmp:
        audio_dir = tmp / "interchange" / snap / "audiofiles"
        audio_dir.mkdir(parents=True)
        (tmp / "interchange" / snap / "midifiles").mkdir()
        for d in _SESSION_DIRS:
            (tmp / d).mkdir()
        wavs = write_track_wavs(session, session_path, audio_dir)  # repairs written in
        info = {tid: _wav_info(p) for tid, p in wavs.items()}
        writer = _Writer(session, snap)
        if match_compressors:
            try:
                writer.fits = _match_compressors(session, wavs)
            except MixwiseError as err:  # keep mixwise's values; the notes say so
                log.warning("ardour export: compressors not matched (%s)", err)
        xml = _build(writer, wavs, info)
        (tmp / f"{snap}.ardour").write_bytes(xml)
        (tmp / "mixwise-notes.txt").write_text(_notes_text(session, writer), encoding="utf-8")
    return out_dir / f"{snap}.ardour"


def _snapshot_name(name: str) -> str:
    bad = '/\\:*?"<>|'
    clean = "".join("-" if ch in bad or ord(ch) < 32 else ch for ch in name).strip(" .")
    return clean or "mixwise"


def _wav_info(path: Path) -> tuple[int, int]:
    import soundfile as sf

    i = sf.info(str(path))
    return i.frames, i.channels


def _notes_text(session: m.Session, w: _Writer) -> str:
    lines = [
        f"mixwise -> Ardour 7 export of '{session.name}' ({w.sr} Hz)",
        "",
        "What could not be carried exactly (see docs/ardour.md for the whole mapping):",
    ]
    if not w.notes:
        lines.append("  nothing")
    for where, items in w.notes.items():
        for text in items:
            lines.append(f"  {where}: {text}")
    return "\n".join(lines) + "\n"


def _build(w: _Writer, wavs: dict[str, Path], info: dict[str, tuple[int, int]]) -> bytes:
    E = w.E
    session = w.session
    sr = w.sr
    track_names, bus_names = _route_names(session)
    n_total = round(session.length_s * sr) if session.length_s > 0 else 0
    if n_total <= 0:
        n_total = max((info[t.id][0] for t in session.tracks), default=sr)

    root = E.Element("Session")
    for k, v in dict(
        version=SESSION_VERSION, name=w.name, sample_rate=str(sr), session_range_is_free="1"
    ).items():
        root.set(k.replace("_", "-"), v)
    w.el(root, "ProgramVersion", created_with="mixwise", modified_with="mixwise")
    w.el(root, "MIDIPorts")
    cfg = w.el(root, "Config")
    for k, v in _CONFIG:
        w.el(cfg, "Option", name=k, value=v)
    w.el(root, "Metadata")
    sources_el = w.el(root, "Sources")
    regions_el = w.el(root, "Regions")
    locations_el = w.el(root, "Locations")
    w.el(root, "Bundles")
    w.el(root, "VCAManager")
    routes_el = w.el(root, "Routes")
    playlists_el = w.el(root, "Playlists")
    w.el(root, "UnusedPlaylists")
    groups_el = w.el(root, "RouteGroups")
    meta = E.Element("mixwise", format="1", version=_mixwise_version())
    meta.set("name", _xml_safe(session.name))

    # route ids first: sends and connections refer to them
    master = _RouteSpec(
        name="Master", kind="master", order=0, colour=None, n_inputs=2, route_id=w.ids()
    )
    bus_specs: dict[str, _RouteSpec] = {}
    order = 1
    track_specs: dict[str, _RouteSpec] = {}
    for t in session.tracks:
        track_specs[t.id] = _RouteSpec(
            name=track_names[t.id],
            kind="track",
            order=order,
            colour=t.colour,
            n_inputs=info[t.id][1],
            route_id=w.ids(),
        )
        order += 1
    for b in session.buses:
        bus_specs[b.id] = _RouteSpec(
            name=bus_names[b.id],
            kind="bus",
            order=order,
            colour=b.colour,
            n_inputs=2,
            route_id=w.ids(),
        )
        order += 1

    # markers and the session range
    w.el(
        locations_el,
        "Location",
        id=w.ids(),
        name="session",
        start="a0",
        end=w.sc(n_total),
        flags="IsSessionRange",
        locked="0",
        timestamp=str(int(time.time())),
        cue="0",
    )
    for mk in session.markers:
        lid = w.ids()
        label = mk.name
        if mk.kind == "comment" and mk.text:
            label = f"{mk.name}: {mk.text}" if mk.name else mk.text
        t0 = round(mk.time_s * sr)
        t1 = round(mk.end_s * sr) if mk.end_s is not None else t0
        w.el(
            locations_el,
            "Location",
            id=lid,
            name=label,
            start=w.sc(t0),
            end=w.sc(t1),
            flags="IsRangeMarker" if mk.end_s is not None else "IsMark",
            locked="0",
            timestamp=str(int(time.time())),
            cue="0",
        )
        _meta(
            meta, "Marker", location=lid, kind=mk.kind, name=mk.name, text=mk.text, author=mk.author
        )

    # tracks
    for t in session.tracks:
        spec = track_specs[t.id]
        where = f"track '{t.name}'"
        ch = t.chain
        frames, channels = info[t.id]
        stereo = channels == 2
        # sources, whole-file region, playlist
        file_name = wavs[t.id].name
        src_ids = []
        for c in range(channels):
            sid = w.ids()
            src_ids.append(sid)
            w.el(
                sources_el,
                "Source",
                name=file_name,
                type="audio",
                flags="",
                id=sid,
                captured_for=spec.name,
                channel=c,
                origin="",
                gain="1",
            )
        src_attrs = {f"source-{c}": s for c, s in enumerate(src_ids)}
        src_attrs.update({f"master-source-{c}": s for c, s in enumerate(src_ids)})
        _region(
            w,
            regions_el,
            Path(file_name).stem,
            _Span(0, 0, frames),
            src_attrs,
            channels,
            whole=True,
        )
        spec.playlist_id = w.ids()
        pl = w.el(
            playlists_el,
            "Playlist",
            id=spec.playlist_id,
            name=spec.name,
            type="audio",
            orig_track_id=spec.route_id,
            pgroup_id="",
            shared_with_ids="",
            frozen="0",
            combine_ops="0",
        )
        spans, lost_ms = _spans(t, frames, sr)
        if abs(lost_ms) > 1e-6:
            w.note(
                where,
                f"delay {ch.delay_ms:g} ms placed to the whole sample "
                f"({lost_ms * 1000:.1f} us dropped)",
            )
        for k, sp in enumerate(spans, start=1):
            _region(w, pl, f"{Path(file_name).stem}.{k}", sp, src_attrs, channels, whole=False)
        # gains and pan
        if stereo:
            spec.azimuth, pan_corr_db = balance_to_ardour(ch.pan), 0.0
            spec.stereo_panner = True
        else:
            spec.azimuth, pan_corr_db = mono_pan_to_ardour(ch.pan)
        procs, comp_db = w.chain(where, ch, channels, key=f"track:{t.id}")
        trim_db = ch.trim_db
        fader_db = ch.fader_db + comp_db + pan_corr_db
        lo, hi = TRIM_RANGE_DB
        if not lo <= trim_db <= hi:
            w.note(
                where,
                f"trim {trim_db:+.2f} dB is beyond Ardour's trim range; the rest is "
                "on the fader (after the compressor)",
            )
            fader_db += trim_db - _clamp(trim_db, lo, hi)
            trim_db = _clamp(trim_db, lo, hi)
        if fader_db > FADER_MAX_DB:
            w.note(where, f"fader {fader_db:+.2f} dB is above Ardour's +6 dB; set to +6 dB")
            fader_db = FADER_MAX_DB
        spec.trim_gain = _db_to_gain(trim_db)
        spec.fader_gain = _db_to_gain(fader_db)
        spec.mute, spec.solo, spec.phase_invert = ch.mute, ch.solo, ch.polarity_inverted
        if t.bus is not None and t.bus in bus_specs:
            spec.outputs_to = bus_specs[t.bus].name
            spec.group = bus_specs[t.bus].name
            bus_specs[t.bus].inputs_from.append(spec.name)
        events = _fader_events(ch, fader_db, sr, n_total)
        pre = [s for s in ch.sends if s.pre_fader and s.level_db != -math.inf]
        post = [s for s in ch.sends if not s.pre_fader and s.level_db != -math.inf]
        for s in pre:  # pre-fader sends miss the fader's pan-law correction: give it to them
            procs.append(w.send(bus_specs[s.bus], _db_to_gain(s.level_db + pan_corr_db), stereo))
        procs.append(w.gain_stage("amp", spec.fader_gain, events))
        for s in post:
            procs.append(w.send(bus_specs[s.bus], _db_to_gain(s.level_db), stereo))
        if spec.outputs_to == "Master":
            master.inputs_from.append(spec.name)
        w.route(routes_el, spec, procs)
        _meta(
            meta,
            "Track",
            route=spec.route_id,
            id=t.id,
            name=t.name,
            role=t.role,
            role_confidence=_fmt(t.role_confidence),
            role_locked=str(int(t.role_locked)),
            source=t.source.path,
            route_name=spec.name,
            trim_offset_db=repr(ch.trim_db - trim_db),
            fader_offset_db=repr(fader_db - ch.fader_db - pan_corr_db),
            **w.comp_meta(f"track:{t.id}"),
        )

    # buses
    for b in session.buses:
        spec = bus_specs[b.id]
        where = f"bus '{b.name}'"
        ch = b.chain
        effect = None
        if b.kind == "aux":
            effect = []
            if isinstance(b.effect, m.Reverb):
                ports, rev_db = reverb_to_ace(b.effect)
                effect.append(
                    w.lv2("ACE Reverb", URI_REVERB, _REVERB_PORTS, ports, n_in=2, plugin_in=2)
                )
                spec.trim_gain = _db_to_gain(rev_db)
                w.note(
                    where,
                    f"reverb ({b.effect.decay_s:g} s) replaced by ACE Reverb (room size "
                    f"{ports['roomsz']:.2f}, trim {rev_db:+.1f} dB for the same energy); it "
                    "cannot sound like mixwise's generated reverb (no pre-delay, damping, "
                    "width; its decay spans 0.66-2.37 s)",
                )
            elif isinstance(b.effect, m.Delay):
                w.note(
                    where,
                    "delay carried as two ACE Delays (one per channel); ACE's "
                    "feedback filter and interpolation differ slightly from mixwise's",
                )
                effect += _delay_processors(w, b.effect)
        procs, comp_db = w.chain(where, ch, 2, effect=effect, key=f"{b.kind}:{b.id}")
        spec.azimuth = balance_to_ardour(ch.pan)
        spec.stereo_panner = True
        fader_db = ch.fader_db + comp_db
        spec.fader_gain = _db_to_gain(min(fader_db, FADER_MAX_DB))
        spec.mute = ch.mute
        procs.append(w.gain_stage("amp", spec.fader_gain))
        master.inputs_from.append(spec.name)
        w.route(routes_el, spec, procs)
        _meta(
            meta,
            "Bus",
            route=spec.route_id,
            id=b.id,
            name=b.name,
            kind=b.kind,
            route_name=spec.name,
            fader_offset_db=repr(comp_db),
            **w.comp_meta(f"{b.kind}:{b.id}"),
        )
        if b.kind == "group":
            members = [track_specs[t.id].route_id for t in session.tracks if t.bus == b.id]
            w.el(
                groups_el,
                "RouteGroup",
                id=w.ids(),
                rgba=colour_to_rgba(b.colour),
                used_to_share_gain="0",
                name=spec.name,
                hidden="0",
                active="1",
                relative="1",
                gain="0",
                mute="0",
                solo="0",
                recenable="1",
                select="1",
                route_active="1",
                color="1",
                monitoring="1",
                group_master_number="-1",
                routes="".join(f"{r} " for r in members),
            )

    # master: its EQ and glue compressor; no true-peak limiter in ACE
    mst = session.master
    mch = m.BusChain(high_pass=mst.high_pass, eq=mst.eq, compressor=mst.compressor)
    procs, comp_db = w.chain("master", mch, 2, key="master")
    gain_db = comp_db + (mst.gain_db if mst.target_lufs is None else 0.0)
    master.fader_gain = _db_to_gain(min(gain_db, FADER_MAX_DB))
    procs.append(w.gain_stage("amp", master.fader_gain))
    if mst.target_lufs is not None:
        w.note(
            "master",
            f"loudness target {mst.target_lufs:g} LUFS: not applied in the session "
            "(no ACE plug-in measures loudness); in Ardour's export dialog normalise to "
            f"{mst.target_lufs:g} LUFS with a {mst.limiter.ceiling_dbtp:g} dBTP true-peak "
            "limit",
        )
    elif mst.limiter.enabled:
        w.note(
            "master",
            f"true-peak limiter ({mst.limiter.ceiling_dbtp:g} dBTP) has no ACE "
            "equivalent: not carried; use Ardour's export normalisation with a true-peak "
            "limit",
        )
    routes_el.insert(0, E.Element("placeholder"))
    _master_route(w, routes_el, master, procs)
    _meta(
        meta,
        "Master",
        target_lufs="" if mst.target_lufs is None else repr(mst.target_lufs),
        ceiling_dbtp=repr(mst.limiter.ceiling_dbtp),
        limiter=str(int(mst.limiter.enabled)),
        gain_db=repr(mst.gain_db),
        fader_offset_db=repr(comp_db),
        **w.comp_meta("master"),
    )

    _tempo_map(w, root)
    extra = w.el(root, "Extra")
    extra.append(meta)
    w.el(root, "Script", lua="Lua 5.3").text = base64.b64encode(b"scripts = {} ").decode()
    w.el(root, "IOPlugins")
    root.set("id-counter", str(w.ids.n + 1))
    root.set("name-counter", "1")
    root.set("event-counter", "0")
    root.set("vca-counter", "1")
    return E.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _master_route(w: _Writer, routes_el, spec: _RouteSpec, procs: list) -> None:
    """Write the master route as the first route (replacing the placeholder)."""
    tmp = w.E.Element("Routes")
    w.route(tmp, spec, procs)
    routes_el[0] = tmp[0]


def _delay_processors(w: _Writer, fx: m.Delay) -> list:
    """Two mono ACE Delays, one per channel (their own times), each passing the other channel
    through untouched."""
    out = []
    for ch, t_ms in ((0, fx.time_left_ms), (1, fx.time_right_ms)):
        p = w.lv2("ACE Delay", URI_DELAY, _DELAY_PORTS, delay_to_ace(fx, t_ms), n_in=2, plugin_in=1)
        p.set("count", "1")
        p.set("custom", "1")
        for tag in ("InputMap-1", "OutputMap-1"):
            for e in p.findall(tag):
                p.remove(e)
        for tag in ("InputMap-0", "OutputMap-0"):
            e = p.find(tag)
            for c in list(e):
                e.remove(c)
            w.el(e, "Channelmap", type="audio", **{"from": 0, "to": ch})
        thru = p.find("ThruMap")
        w.el(thru, "Channelmap", type="audio", **{"from": 1 - ch, "to": 1 - ch})
        out.append(p)
    return out


def _region(
    w: _Writer,
    parent,
    name: str,
    sp: _Span,
    src_attrs: dict[str, str],
    channels: int,
    *,
    whole: bool,
) -> None:
    attrs = dict(
        name=name,
        muted="0",
        opaque="1",
        locked="0",
        video_locked="0",
        automatic="0",
        whole_file=str(int(whole)),
        import_="0",
        external="0",
        sync_marked="0",
        left_of_split="0",
        right_of_split="0",
        hidden="0",
        position_locked="0",
        valid_transients="0",
        start=w.sc(sp.offset),
        length=f"{w.sc(sp.length)}@{w.sc(sp.position)}",
        sync_position=w.sc(sp.offset),
        ancestral_start="a0",
        ancestral_length="a0@a0",
        stretch="1",
        shift="1",
        layering_index="0",
        tags="",
        contents="0",
        envelope_active="0",
        default_fade_in="0",
        default_fade_out="0",
        fade_in_active=str(int(sp.fade_in > 0)),
        fade_out_active=str(int(sp.fade_out > 0)),
        scale_amplitude="1",
        id=w.ids(),
        type="audio",
        first_edit="nothing",
    )
    r = w.el(parent, "Region")
    for k, v in attrs.items():
        r.set(k.rstrip("_").replace("_", "-"), v)
    for k, v in src_attrs.items():
        r.set(k, v)
    r.set("channels", str(channels))
    if whole:
        return
    w.el(r, "Envelope", default="yes")
    for tag, aid, n, is_in in (
        ("FadeIn", "fadein", sp.fade_in, True),
        ("FadeOut", "fadeout", sp.fade_out, False),
    ):
        if n <= 0:
            continue
        f = w.el(r, tag)
        al = w.el(
            f,
            "AutomationList",
            automation_id=aid,
            id=w.ids(),
            interpolation_style="Linear",
            time_domain="AudioTime",
            state="Off",
        )
        ev = w.el(al, "events")
        sc = SUPERCLOCK_PER_SECOND / w.sr
        ev.text = (
            "\n".join(
                f"a{round(t * sc)} {_fmt(max(g, 1e-7))}" for t, g in _fade_events(n, fade_in=is_in)
            )
            + "\n"
        )


#: Ardour's fader smooths every gain change, automation included, with a one-pole low-pass of
#: this coefficient times the sample rate (25 Hz, libs/ardour/amp.cc).
_AMP_SMOOTHING = 156.825


def _fader_events(ch: m.Chain, fader_db: float, sr: int, n_total: int) -> list[tuple[int, float]]:
    """Gain automation points (samples, linear gain) for mixwise's fader moves: each ramps in dB
    along a raised cosine centred on its edges. Ardour low-passes the automated gain (25 Hz),
    so each point is pre-emphasised (the smoothing's inverse), and the ramps are sampled densely
    (65 points each) for Ardour's linear interpolation between points."""
    moves = [a for a in ch.automation if a.gain_db != 0.0]
    if not moves:
        return []
    spans = []
    for a in moves:
        ramp = max(1, round(a.ramp_ms * sr / 1000.0))
        spans.append((round(a.start_s * sr), round(a.end_s * sr), ramp, a.gain_db))

    def gain(n: float) -> float:
        db = fader_db
        for s0, s1, ramp, move_db in spans:
            rise = _clamp((n - (s0 - ramp / 2)) / ramp, 0.0, 1.0)
            fall = _clamp(((s1 + ramp / 2) - n) / ramp, 0.0, 1.0)
            wgt = min(0.5 - 0.5 * math.cos(math.pi * rise), 0.5 - 0.5 * math.cos(math.pi * fall))
            db += wgt * move_db
        return _db_to_gain(min(db, FADER_MAX_DB))

    times = {0, n_total}
    for s0, s1, ramp, _ in spans:
        for edge in (s0, s1):
            for j in range(65):
                times.add(max(0, edge - ramp // 2 + round(ramp * j / 64)))
    a = _AMP_SMOOTHING / sr
    out = []
    for n in sorted(times):
        y, y_prev = gain(n), gain(n - 1)
        out.append((n, max(0.0, y_prev + (y - y_prev) / a)))
    return out


def _tempo_map(w: _Writer, root) -> None:
    tm = w.el(root, "TempoMap", superclocks_per_second=str(SUPERCLOCK_PER_SECOND))
    tempos = w.el(tm, "Tempos")
    w.el(
        tempos,
        "Tempo",
        npm="120",
        enpm="120",
        note_type="4",
        type="Tempo::Constant",
        active="1",
        locked_to_meter="0",
        continuing="0",
        sclock="0",
        quarters="0:0",
        bbt="1|1|0",
        omega="0",
    )
    meters = w.el(tm, "Meters")
    w.el(
        meters,
        "Meter",
        note_value="4",
        divisions_per_bar="4",
        sclock="0",
        quarters="0:0",
        bbt="1|1|0",
    )
    w.el(tm, "MusicTimes")


def _mixwise_version() -> str:
    try:
        from mixwise import __version__

        return str(__version__)
    except ImportError:  # pragma: no cover
        return ""


# --------------------------------------------------------------------------------------------
# import


def _session_file(path: Path) -> Path:
    """The ``.ardour`` file of ``path`` (the file itself, or the folder's snapshot named like
    the folder, or its only snapshot)."""
    p = Path(path)
    if p.is_file():
        return p
    if not p.is_dir():
        raise ExportError(f"{p}: no such Ardour session (file or folder)")
    own = p / f"{p.name}.ardour"
    if own.is_file():
        return own
    found = sorted(f for f in p.glob("*.ardour") if f.is_file())
    if len(found) == 1:
        return found[0]
    if not found:
        raise ExportError(f"{p}: no .ardour session file in this folder")
    names = ", ".join(f.name for f in found)
    raise ExportError(f"{p}: several snapshots ({names}); give the .ardour file to import")


class _Times:
    """Ardour time values (``a<superclock>``, ``b<beat ticks>``, or Ardour 6 samples) in
    samples at the session rate."""

    def __init__(self, sample_rate: int, bpm: float) -> None:
        self.sr = sample_rate
        self.bpm = bpm

    def samples(self, text: str | None) -> int:
        if not text:
            return 0
        t = text.split("@")[0].strip()
        try:
            if t.startswith("a"):
                return superclock_to_samples(int(t[1:]), self.sr)
            if t.startswith("b"):
                return round(int(t[1:]) / 1920.0 * 60.0 / self.bpm * self.sr)
            return int(float(t))
        except ValueError:
            raise ExportError(f"unreadable time value {text!r}") from None

    def position(self, length_text: str | None) -> int | None:
        """The position part of an Ardour 7 length (``a<len>@a<pos>``), or None."""
        if not length_text or "@" not in length_text:
            return None
        return self.samples(length_text.split("@", 1)[1])


def _float(e, attr: str, default: float = 0.0) -> float:
    if e is None:
        return default
    try:
        return float(e.get(attr, default))
    except (TypeError, ValueError):
        return default


def _controllable(parent, name: str):
    for c in parent.findall("Controllable"):
        if c.get("name") == name:
            return c
    return None


def _plugin_ports(proc) -> dict[str, float]:
    """LV2 port values of a plug-in processor (from its Controllables, which Ardour restores
    last, else from the plug-in state)."""
    ports: dict[str, float] = {}
    lv2 = proc.find("lv2")
    if lv2 is not None:
        for pt in lv2.findall("Port"):
            ports[pt.get("symbol", "")] = _float(pt, "value")
    for c in proc.findall("Controllable"):
        if c.get("symbol"):
            ports[c.get("symbol")] = _float(c, "value")
    return ports


def _lua_values(proc) -> list[float] | None:
    state = proc.find("luaproc")
    if state is None:
        return None
    vals = list(_LUA_DEFAULTS)
    for pt in state.findall("Port"):
        i = int(_float(pt, "id", -1))
        if 0 <= i < len(vals):
            vals[i] = _float(pt, "value")
    for c in proc.findall("Controllable"):
        i = int(_float(c, "parameter", -1))
        if 0 <= i < len(vals):
            vals[i] = _float(c, "value")
    return vals


@dataclass
class _ChainRead:
    """What an Ardour route's processors say about a mixwise chain."""

    high_pass: m.Filter = field(default_factory=m.Filter)
    low_pass: m.Filter = field(default_factory=lambda: m.Filter(freq_hz=20_000.0))
    eq: list[m.EQBand] = field(default_factory=list)
    compressor: m.Compressor = field(default_factory=m.Compressor)
    width: float = 1.0
    trim_gain: float = 1.0
    fader_gain: float = 1.0
    sends: list[tuple[str, float, bool]] = field(default_factory=list)  # target id, gain, pre
    reverb: dict[str, float] | None = None
    delays: list[dict[str, float]] = field(default_factory=list)


_SLOPES = (6, 12, 18, 24, 36, 48)
_LUA_KINDS = {v: k for k, v in LUA_BAND_TYPES.items()}


def _read_chain(route, sample_rate: int, meta) -> _ChainRead:
    out = _ChainRead()
    seen_amp = False
    for proc in route.findall("Processor"):
        kind = proc.get("type")
        uri = proc.get("unique-id", "")
        active = proc.get("active", "1") == "1"
        if kind == "trim":
            out.trim_gain = _float(_controllable(proc, "trimcontrol"), "value", 1.0)
        elif kind == "amp":
            out.fader_gain = _float(_controllable(proc, "gaincontrol"), "value", 1.0)
            seen_amp = True
        elif kind == "intsend":
            gain = _float(_controllable(proc, "gaincontrol"), "value", 1.0)
            out.sends.append((proc.get("target", ""), gain, not seen_amp))
        elif not active:
            continue
        elif kind == "luaproc" and proc.get("name") == LUA_FILTERS_NAME:
            _read_lua(out, _lua_values(proc) or _LUA_DEFAULTS)
        elif kind == "lv2" and uri == URI_EQ:
            _read_ace_eq(out, _plugin_ports(proc), sample_rate)
        elif kind == "lv2" and uri in (URI_COMP, URI_COMP_STEREO):
            ports = _plugin_ports(proc)
            out.compressor = _original_compressor(ports, meta) or ace_to_compressor(
                ports, enabled=ports.get("enable", 1.0) > 0.5
            )
        elif kind == "lv2" and uri == URI_REVERB:
            out.reverb = _plugin_ports(proc)
        elif kind == "lv2" and uri == URI_DELAY:
            out.delays.append(_plugin_ports(proc))
    return out


def _original_compressor(ports: dict[str, float], meta) -> m.Compressor | None:
    """The mixwise compressor an ACE Compressor was written for, if unchanged since."""
    if meta is None or not meta.get("ace_comp") or not meta.get("compressor"):
        return None
    try:
        written = json.loads(meta.get("ace_comp"))
        original = m.Compressor.model_validate_json(meta.get("compressor"))
    except (ValueError, TypeError):
        return None
    for k in ("att", "rel", "kn", "rat", "thr", "mak"):
        if abs(float(written.get(k, 0.0)) - ports.get(k, 0.0)) > 1e-4 * max(
            1.0, abs(ports.get(k, 0.0))
        ):
            return None
    return original


def _read_lua(out: _ChainRead, v: list[float]) -> None:
    hs, ls = round(v[0]), round(v[2])
    if hs in _SLOPES:
        hz = _clamp(_tidy(v[1], 3), 10.0, 24_000.0)
        out.high_pass = m.Filter(enabled=True, freq_hz=hz, slope_db_oct=hs)
    if ls in _SLOPES:
        hz = _clamp(_tidy(v[3], 3), 10.0, 24_000.0)
        out.low_pass = m.Filter(enabled=True, freq_hz=hz, slope_db_oct=ls)
    if v[4] != 1.0:
        out.width = _clamp(_tidy(v[4], 4), 0.0, 2.0)
    for b in range(LUA_BANDS):
        kind = _LUA_KINDS.get(round(v[5 + 4 * b]))
        if kind is None:
            continue
        f, g, q = v[6 + 4 * b], v[7 + 4 * b], v[8 + 4 * b]
        out.eq.append(
            m.EQBand(
                type=kind,
                freq_hz=_clamp(_tidy(f, 3), 10.0, 24_000.0),  # type: ignore[arg-type]
                gain_db=_clamp(_tidy(g, 4), -48.0, 48.0),
                q=_clamp(_tidy(q, 4), 0.1, 40.0),
            )
        )


def _read_ace_eq(out: _ChainRead, p: dict[str, float], sr: int) -> None:
    def settled(v: float, kind: str) -> float:
        return _tidy(_ace_settled(v, _ACE_GLIDE_TOLERANCE[kind], sr), 4)

    if p.get("enable", 1.0) <= 0.5:
        return
    if p.get("filtogl", 0.0) > 0.5 and p.get("gl", 0.0) != 0.0:
        g = settled(p["gl"], "gain")
        f = ace_hz_to_shelf("low_shelf", settled(p.get("freql", 160.0), "freq"), g, sr)
        out.eq.append(
            m.EQBand(type="low_shelf", freq_hz=_clamp(_tidy(f, 3), 10.0, 24_000.0), gain_db=g)
        )
    for j in range(1, 5):
        if p.get(f"filtog{j}", 0.0) > 0.5 and p.get(f"g{j}", 0.0) != 0.0:
            bw = _ace_settled(p.get(f"bw{j}", 1.0), _ACE_GLIDE_TOLERANCE["bw"], sr)
            q = bandwidth_oct_to_q(bw)
            out.eq.append(
                m.EQBand(
                    type="peak",
                    freq_hz=_clamp(settled(p[f"freq{j}"], "freq"), 10.0, 24_000.0),
                    gain_db=settled(p[f"g{j}"], "gain"),
                    q=_clamp(_tidy(q, 4), 0.1, 40.0),
                )
            )
    if p.get("filtogh", 0.0) > 0.5 and p.get("gh", 0.0) != 0.0:
        g = settled(p["gh"], "gain")
        f = ace_hz_to_shelf("high_shelf", settled(p.get("freqh", 9000.0), "freq"), g, sr)
        out.eq.append(
            m.EQBand(type="high_shelf", freq_hz=_clamp(_tidy(f, 3), 10.0, 24_000.0), gain_db=g)
        )


def _reverb_from_ace(ports: dict[str, float]) -> m.Reverb:
    rooms, rt60s, _ = (np.array(c) for c in zip(*ACE_REVERB_TABLE, strict=True))
    decay = float(np.exp(np.interp(ports.get("roomsz", 0.75), rooms, np.log(rt60s))))
    return m.Reverb(decay_s=_clamp(_tidy(decay, 3), 0.1, 10.0))


def _delay_from_ace(delays: list[dict[str, float]]) -> m.Delay:
    left = delays[0]
    right = delays[1] if len(delays) > 1 else delays[0]
    return m.Delay(
        time_left_ms=_clamp(left.get("time", 375.0), 1.0, 4000.0),
        time_right_ms=_clamp(right.get("time", 500.0), 1.0, 4000.0),
        feedback=_clamp(left.get("feedback", 30.0) / 100.0, 0.0, 0.95),
        damping_hz=_clamp(left.get("lpf", 6000.0), 10.0, 24_000.0),
    )


def _route_kind(route) -> str:
    flags = route.find("PresentationInfo")
    f = flags.get("flags", "") if flags is not None else ""
    if "MasterOut" in f:
        return "master"
    if "AudioTrack" in f:
        return "track"
    if "AudioBus" in f:
        return "bus"
    return "other"


def _route_colour(route, default: str = "#8A8F98") -> str:
    pi = route.find("PresentationInfo")
    try:
        rgba = int(pi.get("color", "0")) if pi is not None else 0
    except ValueError:
        rgba = 0
    return rgba_to_colour(rgba) or default


def _outputs_to(route) -> set[str]:
    out = set()
    for io in route.findall("IO"):
        if io.get("direction") != "Output":
            continue
        for port in io.findall("Port"):
            for c in port.findall("Connection"):
                other = c.get("other", "")
                if "/" in other:
                    out.add(other.rsplit("/", 1)[0])
    return out


def _unique_id(name: str, taken: set[str], fallback: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_.\-]+", "-", ascii_name).strip("-.").lower()[:60] or fallback
    cand, k = base, 2
    while cand in taken:
        cand, k = f"{base}-{k}", k + 1
    taken.add(cand)
    return cand


def import_ardour(path: Path) -> m.Session:
    """Read an Ardour session (the ``.ardour`` file or its folder) as a mixwise session.

    Tracks come back with their audio files (absolute paths to the files the Ardour session
    uses, normally inside its ``interchange/NAME/audiofiles``; a session saved elsewhere keeps
    pointing at them), names, colours, fader, trim, pan, mute, solo, polarity, regions (trims,
    fades, the delay as the regions' offset), filters, EQ and compressor where they are ACE or
    mixwise processors, sends, and group / aux buses; markers and range markers, with
    comments and mixwise's ids and roles where mixwise wrote them. Raises
    :class:`ExportError` naming the file when it is not a readable Ardour session.
    """
    from lxml import etree

    file = _session_file(Path(path))
    folder = file.parent
    try:
        root = etree.parse(str(file), etree.XMLParser(huge_tree=True)).getroot()
    except (OSError, etree.XMLSyntaxError) as err:
        raise ExportError(f"{file}: not a readable Ardour session ({err})") from None
    if root.tag != "Session":
        raise ExportError(f"{file}: not an Ardour session (the root element is <{root.tag}>)")
    try:
        sr = int(root.get("sample-rate", "0"))
    except ValueError:
        sr = 0
    if not 8000 <= sr <= 384_000:
        raise ExportError(f"{file}: sample rate {root.get('sample-rate')!r} is not usable")
    tempo = root.find("TempoMap/Tempos/Tempo")
    times = _Times(sr, _float(tempo, "npm", 120.0) or 120.0)
    meta = root.find("Extra/mixwise")
    meta_by_route = {}
    if meta is not None:
        for e in meta:
            if e.get("route"):
                meta_by_route[e.get("route")] = e
    try:
        return _import(root, file, folder, sr, times, meta, meta_by_route)
    except MixwiseError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise ExportError(f"{file}: cannot be read as a mixwise session ({err})") from None


def _find_audio(folder: Path, name: str) -> Path:
    p = Path(name)
    if p.is_absolute():
        return p
    for d in sorted(folder.glob("interchange/*/audiofiles")):
        if (d / name).is_file():
            return (d / name).resolve()
    return (folder / "interchange" / folder.name / "audiofiles" / name).resolve()


def _import(root, file: Path, folder: Path, sr: int, times: _Times, meta, meta_by_route):
    sources = {}
    for src in root.findall("Sources/Source"):
        sources[src.get("id")] = (
            src.get("name", ""),
            int(_float(src, "channel", 0)),
            src.get("captured-for", ""),
        )
    playlists = {pl.get("id"): pl for pl in root.findall("Playlists/Playlist")}
    routes = root.findall("Routes/Route")
    by_name = {r.get("name"): r for r in routes}

    taken: set[str] = set()
    bus_ids: dict[str, str] = {}  # route id -> mixwise bus id
    tracks_r = [r for r in routes if _route_kind(r) == "track"]
    buses_r = [r for r in routes if _route_kind(r) == "bus"]
    tracks_r.sort(key=lambda r: _float(r.find("PresentationInfo"), "order", 0))
    buses_r.sort(key=lambda r: _float(r.find("PresentationInfo"), "order", 0))

    send_targets = {
        p.get("target")
        for r in tracks_r
        for p in r.findall("Processor")
        if p.get("type") == "intsend"
    }
    fed_by_tracks = {name for r in tracks_r for name in _outputs_to(r)}
    bus_taken: set[str] = set()
    buses: list[m.Bus] = []
    for r in buses_r:
        mt = meta_by_route.get(r.get("id"))
        name = _restored_name(r, mt)
        kind = mt.get("kind") if mt is not None and mt.get("kind") in ("group", "aux") else None
        if kind is None:
            kind = (
                "aux"
                if r.get("id") in send_targets and r.get("name") not in fed_by_tracks
                else "group"
            )
        bid = mt.get("id") if mt is not None and mt.get("id") else None
        bid = bid if bid and bid not in bus_taken else _unique_id(name, bus_taken, "bus")
        bus_taken.add(bid)
        bus_ids[r.get("id")] = bid
        cr = _read_chain(r, sr, mt)
        effect = None
        if kind == "aux":
            if cr.reverb is not None:
                effect = _reverb_from_ace(cr.reverb)
            elif cr.delays:
                effect = _delay_from_ace(cr.delays)
        offset = _float(mt, "fader_offset_db", 0.0) if mt is not None else 0.0
        chain = m.BusChain(
            high_pass=cr.high_pass,
            low_pass=cr.low_pass,
            eq=cr.eq[:32],
            compressor=cr.compressor,
            fader_db=_level_db(cr.fader_gain, -offset),
            width=cr.width,
            pan=_tidy(ardour_to_balance(_azimuth(r)), 6),
            mute=_mute(r),
        )
        buses.append(
            m.Bus(id=bid, name=name, kind=kind, colour=_route_colour(r), effect=effect, chain=chain)
        )
    kinds = {b.id: b.kind for b in buses}
    group_of = {
        r.get("name"): bus_ids[r.get("id")]
        for r in buses_r
        if kinds[bus_ids[r.get("id")]] == "group"
    }

    tracks: list[m.Track] = []
    for r in tracks_r:
        mt = meta_by_route.get(r.get("id"))
        name = _restored_name(r, mt)
        tid = mt.get("id") if mt is not None and mt.get("id") else None
        tid = tid if tid and tid not in taken else _unique_id(name, taken, "track")
        taken.add(tid)
        n_in = len(
            [
                p
                for io in r.findall("IO")
                if io.get("direction") == "Input"
                for p in io.findall("Port")
            ]
        )
        cr = _read_chain(r, sr, mt)
        mono = n_in == 1
        az = _azimuth(r)
        if mono:
            pan, corr_db = ardour_to_mono_pan(az)
            pan = _tidy(pan, 6)
        else:
            pan, corr_db = _tidy(ardour_to_balance(az), 6), 0.0
        trim_off = _float(mt, "trim_offset_db", 0.0) if mt is not None else 0.0
        fader_off = _float(mt, "fader_offset_db", 0.0) if mt is not None else 0.0
        sends = []
        for target, gain, pre in cr.sends:
            if target in bus_ids:
                level = _level_db(gain, -(corr_db if pre else 0.0))
                sends.append(m.Send(bus=bus_ids[target], level_db=level, pre_fader=pre))
        source, regions, delay_ms = _track_audio(r, playlists, sources, folder, times, sr)
        bus = next((group_of[o] for o in _outputs_to(r) if o in group_of), None)
        chain = m.Chain(
            high_pass=cr.high_pass,
            low_pass=cr.low_pass,
            eq=cr.eq[:32],
            compressor=cr.compressor,
            fader_db=_level_db(cr.fader_gain, -corr_db - fader_off),
            width=cr.width,
            pan=pan,
            mute=_mute(r),
            trim_db=_clamp(_level_db(cr.trim_gain, trim_off, most_db=48.0), -48.0, 48.0),
            polarity_inverted=_phase(r),
            delay_ms=_clamp(delay_ms, -100.0, 2000.0),
            solo=_solo(r),
            sends=sends,
        )
        track = m.Track(
            id=tid,
            name=name,
            source=source,
            colour=_route_colour(r),
            bus=bus,
            regions=regions,
            chain=chain,
        )
        if mt is not None:
            track.role = mt.get("role", "other") if mt.get("role") else "other"  # type: ignore[assignment]
            track.role_confidence = _clamp(_float(mt, "role_confidence", 0.0), 0.0, 1.0)
            track.role_locked = mt.get("role_locked") == "1"
        tracks.append(track)

    master_route = by_name.get("Master")
    if master_route is None:
        master_route = next((r for r in routes if _route_kind(r) == "master"), None)
    master = _read_master(master_route, sr, meta)
    markers, length = _read_locations(root, times, meta)
    name = meta.get("name") if meta is not None and meta.get("name") else root.get("name", "")
    return m.Session(
        name=name or file.stem,
        sample_rate=sr,
        length_s=length / sr if length else 0.0,
        tracks=tracks,
        buses=buses,
        master=master,
        markers=markers,
        created_by=f"mixwise Ardour import of {file.name}",
    )


def _restored_name(route, mt) -> str:
    """The mixwise name: the original (from mixwise's metadata) unless renamed in Ardour."""
    name = route.get("name", "")
    if mt is not None and mt.get("name") and mt.get("route_name") == name:
        return mt.get("name")
    return name


def _tidy(x: float, places: int) -> float:
    """``x`` rounded for a readable imported session (Ardour stores controls as float32)."""
    return round(x, places) if math.isfinite(x) else x


def _level_db(gain: float, offset_db: float = 0.0, *, most_db: float = 24.0) -> float:
    db = _gain_to_db(gain)
    if db == -math.inf:
        return -math.inf
    return _tidy(min(db + offset_db, most_db), 4)


def _azimuth(route) -> float:
    pan = route.find("Pannable")
    c = _controllable(pan, "pan-azimuth") if pan is not None else None
    return _float(c, "value", 0.5)


def _mute(route) -> bool:
    return _float(_controllable(route, "mute"), "value", 0.0) > 0.5


def _solo(route) -> bool:
    c = _controllable(route, "solo")
    return c is not None and (c.get("self-solo") == "1" or _float(c, "value") > 0.5)


def _phase(route) -> bool:
    c = _controllable(route, "phase")
    return c is not None and ("1" in c.get("phase-invert", "") or _float(c, "value") > 0.5)


def _track_audio(route, playlists, sources, folder: Path, times: _Times, sr: int):
    """(SourceFile, regions, delay in ms) of a track, from its playlist."""
    import soundfile as sf

    pl = playlists.get(route.get("audio-playlist", ""))
    regions = pl.findall("Region") if pl is not None else []
    names = []
    for k in range(8):
        sid = regions[0].get(f"source-{k}") if regions else None
        if sid is None:
            break
        names.append(sources.get(sid, ("", 0, ""))[0])
    if not names:  # an empty playlist: the files recorded or imported for this track
        names = [n for n, _c, owner in sources.values() if owner == route.get("name")][:1]
    if not names:
        raise ExportError(f"track '{route.get('name')}' has no audio to import")
    if len(set(names)) > 1:
        log.warning(
            "ardour import: track '%s' plays %d files (one per channel); only %s is used",
            route.get("name"),
            len(names),
            names[0],
        )
    audio = _find_audio(folder, names[0])
    frames = channels = rate = 0
    fmt = subtype = ""
    size = 0
    try:
        info = sf.info(str(audio))
        frames, channels, rate = info.frames, info.channels, info.samplerate
        fmt, subtype, size = info.format, info.subtype, audio.stat().st_size
    except Exception:  # a missing file is reported when the session is rendered
        channels = max(1, min(2, len(names)))
    source = m.SourceFile(
        path=str(audio),
        format=fmt,
        subtype=subtype,
        sample_rate=rate,
        channels=max(1, min(2, channels or 1)),
        frames=frames,
        size_bytes=size,
    )
    spans = []
    for reg in regions:
        length_text = reg.get("length")
        pos = times.position(length_text)
        if pos is None:
            pos = times.samples(reg.get("position"))
        n = times.samples(length_text)
        off = times.samples(reg.get("start"))
        fi = _fade_len(reg, "FadeIn", "fade-in-active", times)
        fo = _fade_len(reg, "FadeOut", "fade-out-active", times)
        spans.append((pos, off, n, fi, fo))
    if not spans:
        log.warning(
            "ardour import: track '%s' has no region; it will play its whole file",
            route.get("name"),
        )
        return source, [], 0.0
    spans.sort()
    d = spans[0][0] - spans[0][1]
    n_src = round(frames * sr / rate) if rate else 0
    whole = (
        len(spans) == 1
        and spans[0][3] == 0
        and spans[0][4] == 0
        and spans[0][1] == max(0, -d)
        and (n_src == 0 or abs(spans[0][1] + spans[0][2] - n_src) <= 1)
    )
    out_regions = []
    if not whole:
        for pos, _off, n, fi, fo in spans:
            region = m.Region(
                start_s=_tidy(pos / sr, 6),
                end_s=_tidy((pos + n) / sr, 6),
                fade_in_ms=_clamp(fi * 1000.0 / sr, 0.0, 10_000.0),
                fade_out_ms=_clamp(fo * 1000.0 / sr, 0.0, 10_000.0),
            )
            out_regions.append(region)
    return source, out_regions, _tidy(d * 1000.0 / sr, 4)


def _fade_len(region, tag: str, active_attr: str, times: _Times) -> int:
    if region.get(active_attr, "0") != "1":
        return 0
    node = region.find(tag)
    if node is None or node.get("default") == "yes":
        return 64  # Ardour's default fade
    events = node.find("AutomationList/events")
    if events is None or not (events.text or "").strip():
        return 64
    last = events.text.strip().splitlines()[-1].split()[0]
    return times.samples(last)


def _read_master(route, sr: int, meta) -> m.Master:
    mt = meta.find("Master") if meta is not None else None
    if route is None:
        return m.Master(target_lufs=None, limiter=m.Limiter(enabled=False))
    cr = _read_chain(route, sr, mt)
    target = None
    ceiling = -1.0
    limiter = False
    if mt is not None:
        if mt.get("target_lufs"):
            target = _clamp(float(mt.get("target_lufs")), -40.0, -3.0)
        ceiling = _clamp(_float(mt, "ceiling_dbtp", -1.0), -20.0, 0.0)
        limiter = mt.get("limiter") == "1"
    offset = _float(mt, "fader_offset_db", 0.0) if mt is not None else 0.0
    gain = _level_db(cr.fader_gain, -offset)
    if target is not None and mt is not None:
        gain = _float(mt, "gain_db", 0.0)
    return m.Master(
        high_pass=cr.high_pass if cr.high_pass.enabled else m.Filter(freq_hz=20.0),
        eq=cr.eq[:32],
        compressor=cr.compressor,
        gain_db=_clamp(gain if gain != -math.inf else -48.0, -48.0, 48.0),
        target_lufs=target,
        limiter=m.Limiter(enabled=limiter, ceiling_dbtp=ceiling),
    )


def _read_locations(root, times: _Times, meta) -> tuple[list[m.Marker], int]:
    info = {}
    if meta is not None:
        for e in meta.findall("Marker"):
            info[e.get("location")] = e
    markers = []
    length = 0
    sr = times.sr
    for loc in root.findall("Locations/Location"):
        flags = loc.get("flags", "")
        start = times.samples(loc.get("start"))
        end = times.samples(loc.get("end"))
        if "IsSessionRange" in flags:
            length = end
            continue
        if not ("IsMark" in flags or "IsRangeMarker" in flags or "IsCDMarker" in flags):
            continue
        label = loc.get("name", "")
        mk = info.get(loc.get("id"))
        kind, name, text, author = "marker", label, "", ""
        if mk is not None:
            kind = mk.get("kind") if mk.get("kind") in ("marker", "comment") else "marker"
            name, text, author = mk.get("name", ""), mk.get("text", ""), mk.get("author", "")
            written = (
                f"{name}: {text}"
                if (kind == "comment" and text and name)
                else (text if kind == "comment" and text else name)
            )
            if label != written:  # renamed in Ardour: the new label is the text
                if kind == "comment":
                    prefix = f"{name}: "
                    text = label[len(prefix) :] if label.startswith(prefix) else label
                else:
                    name = label
        is_range = "IsRangeMarker" in flags and end > start
        markers.append(
            m.Marker(
                time_s=start / sr,
                end_s=end / sr if is_range else None,
                name=name,
                kind=kind,
                text=text,
                author=author,
            )
        )
    markers.sort(key=lambda mk: mk.time_s)
    return markers, length
