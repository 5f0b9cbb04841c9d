"""Mastering: a broad tonal-balance EQ, gentle glue compression, limiter ceiling and loudness.

Tonal target
------------
:data:`TONAL_TARGET` is a smoothed approximation, written for mixwise, of the long-term
average spectrum of commercial popular music, from facts reported in the literature rather
than from any one data set: Pestana, Ma, Reiss, Barbosa & Black ("Spectral characteristics
of popular commercial recordings 1950-2010", AES 135th Convention, 2013) measured the
long-term spectra of thousands of chart recordings; such spectra fall with frequency above a
few hundred hertz (as a spectral density, roughly 3-5 dB per octave, steeper above ~8-10 kHz),
with a broad low-frequency plateau (kick and bass, 50-125 Hz) and a roll-off below ~40 Hz;
Elowsson & Friberg (2017) describe the same overall shape for a large popular-music set. Here
the curve is given as **third-octave band levels** (the power within each band, the way a
third-octave analyser shows it; pink noise reads flat) relative to the 1 kHz band. A density
slope of s dB/octave reads s + 3 dB/octave in band levels, so the mid-range here falls about
2 dB per band-octave. It is a starting point for a broad correction, not a genre reference:
corrections are limited to +-3 dB and made with at most four wide bands.

Streaming presets (target LUFS, ceiling dBTP) live in ``mixwise.api.MASTER_PRESETS``; the
caller passes the chosen values here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mixwise.analysis.meters import Meters
from mixwise.assist.dynamics import (
    DENSE_SCORE,
    bus_compressor_for,
    dynamics_score,
    level_spread_db,
    model_levels_db,
)
from mixwise.dsp.biquad import chain_sos, rbj_biquad, sos_response_db
from mixwise.session.edit import Suggestion
from mixwise.session.model import EQBand, Session

#: Third-octave band level (dB, band power) relative to the 1 kHz band, by nominal IEC centre
#: (Hz). See the module docstring for where the shape comes from.
TONAL_TARGET: dict[float, float] = {
    20.0: -6.0,
    25.0: -2.0,
    31.5: 1.5,
    40.0: 4.0,
    50.0: 5.5,
    63.0: 6.0,
    80.0: 6.0,
    100.0: 5.8,
    125.0: 5.3,
    160.0: 4.7,
    200.0: 4.0,
    250.0: 3.3,
    315.0: 2.5,
    400.0: 1.7,
    500.0: 1.2,
    630.0: 0.8,
    800.0: 0.4,
    1000.0: 0.0,
    1250.0: -0.6,
    1600.0: -1.3,
    2000.0: -2.0,
    2500.0: -2.8,
    3150.0: -3.6,
    4000.0: -4.4,
    5000.0: -5.2,
    6300.0: -6.1,
    8000.0: -7.2,
    10000.0: -8.6,
    12500.0: -10.5,
    16000.0: -13.5,
    20000.0: -19.0,
}

#: Both spectra are aligned on their mean over these bands (Hz), each band weighing the same.
NORMALISE_RANGE_HZ = (100.0, 8000.0)
#: The EQ is fitted, and the distance measured, over these bands (Hz).
FIT_RANGE_HZ = (31.5, 16000.0)
#: Largest EQ gain (dB); bands whose fitted gain is smaller than MIN_BAND_DB are dropped.
MAX_EQ_DB = 3.0
MIN_BAND_DB = 0.75
#: Triangular smoothing of the deviation across neighbouring third-octave bands, so the EQ
#: follows the broad shape rather than single bands.
SMOOTHING = (1.0, 2.0, 3.0, 2.0, 1.0)
#: Cost per dB of band gain in the fit (an L1 penalty, in squared-dB units of the band
#: residuals): a band stays only if it improves the fit by more than it moves, so a simple
#: problem gets one or two bands, not four small ones fighting each other.
L1_WEIGHT = 0.5
#: A band more than this far (dB) below the target holds too little to lift: it is not boosted.
MISSING_DB = 9.0
#: The four bands: (type, lowest and highest frequency in Hz, lowest and highest Q).
EQ_LAYOUT: tuple[tuple[str, float, float, float, float], ...] = (
    ("low_shelf", 60.0, 250.0, 0.5, 0.7071),
    ("peak", 150.0, 1500.0, 0.5, 1.0),
    ("peak", 1000.0, 6000.0, 0.5, 1.0),
    ("high_shelf", 4000.0, 12000.0, 0.5, 0.7071),
)
#: Glue compression: ratio 1.5:1 (dense mix) to 2:1 (dynamic), aiming at 1-2 dB reduction.
GLUE_RATIO = (1.5, 2.0)
GLUE_REDUCTION_DB = (1.0, 2.0)
GLUE_ATTACK_MS = 30.0
GLUE_RELEASE_MS = 200.0
GLUE_KNEE_DB = 6.0


def target_db(centres_hz: np.ndarray) -> np.ndarray:
    """:data:`TONAL_TARGET` at ``centres_hz`` (Hz), interpolated linearly in log frequency
    (so exact and nominal band centres both work); held flat beyond 20 Hz-20 kHz."""
    f = np.array(sorted(TONAL_TARGET))
    return np.interp(np.log(np.asarray(centres_hz, float)), np.log(f), [TONAL_TARGET[k] for k in f])


def _in(centres: np.ndarray, lo_hi: tuple[float, float]) -> np.ndarray:
    # a little slack so nominal and exact centres both fall in
    return (centres >= lo_hi[0] * 0.97) & (centres <= lo_hi[1] * 1.03)


def deviation_db(mix_bands_db: np.ndarray, centres_hz: np.ndarray) -> np.ndarray:
    """Mix minus target (dB) per band, after aligning both on their mean over
    :data:`NORMALISE_RANGE_HZ`; positive where the mix has too much."""
    mix = np.asarray(mix_bands_db, float)
    d = mix - target_db(centres_hz)
    ok = _in(np.asarray(centres_hz, float), NORMALISE_RANGE_HZ) & np.isfinite(d)
    if not ok.any():
        raise ValueError("the mix spectrum has no finite band between 100 Hz and 8 kHz")
    return d - float(d[ok].mean())


def tonal_distance_db(mix_bands_db: np.ndarray, centres_hz: np.ndarray) -> float:
    """Mean absolute deviation (dB) from the target over :data:`FIT_RANGE_HZ`."""
    d = deviation_db(mix_bands_db, centres_hz)
    ok = _in(np.asarray(centres_hz, float), FIT_RANGE_HZ) & np.isfinite(d)
    return float(np.mean(np.abs(d[ok])))


def eq_response_db(
    bands: Sequence[EQBand | dict], centres_hz: np.ndarray, sample_rate: int
) -> np.ndarray:
    """Magnitude response (dB) of RBJ cookbook EQ bands at ``centres_hz`` (Hz)."""
    sos = chain_sos(
        rbj_biquad(
            b.type, min(b.freq_hz, 0.49 * sample_rate), sample_rate, gain_db=b.gain_db, q=b.q
        )
        for b in (EQBand.model_validate(x) for x in bands)
        if b.enabled
    )
    return sos_response_db(sos, np.asarray(centres_hz, float), sample_rate)


def fit_eq(mix_bands_db: np.ndarray, centres_hz: np.ndarray, sample_rate: int) -> list[EQBand]:
    """At most four broad bands (:data:`EQ_LAYOUT`) whose RBJ responses at the band centres
    bring the mix toward :data:`TONAL_TARGET`; an empty list when no band would move by
    :data:`MIN_BAND_DB` or the fit would not reduce the distance.

    The wanted correction is minus the deviation smoothed over about an octave and a half
    (:data:`SMOOTHING`), limited to +-:data:`MAX_EQ_DB`; bands more than :data:`MISSING_DB`
    below the target are left out rather than boosted. Gains, frequencies and Qs are fitted
    by :func:`fit_bands`.
    """
    c = np.asarray(centres_hz, float)
    dev = deviation_db(mix_bands_db, c)
    use = _in(c, FIT_RANGE_HZ) & np.isfinite(dev) & (dev > -MISSING_DB)
    if use.sum() < 6:
        return []
    want = np.full(c.shape, np.nan)
    want[use] = np.clip(-smooth_db(dev[use]), -MAX_EQ_DB, MAX_EQ_DB)
    bands = fit_bands(want, c, sample_rate, layout=EQ_LAYOUT)
    if not bands:
        return []
    after = np.asarray(mix_bands_db, float) + eq_response_db(bands, c, sample_rate)
    if tonal_distance_db(after, c) >= tonal_distance_db(mix_bands_db, c) - 0.05:
        return []
    return bands


def fit_bands(
    want_db: np.ndarray,
    centres_hz: np.ndarray,
    sample_rate: int,
    *,
    layout: Sequence[tuple[str, float, float, float, float]],
    max_gain_db: float = MAX_EQ_DB,
    min_band_db: float = MIN_BAND_DB,
    l1_weight: float = L1_WEIGHT,
    weight: np.ndarray | None = None,
    max_evaluations: int | None = None,
) -> list[EQBand]:
    """RBJ bands, one per ``layout`` entry ``(type, lowest Hz, highest Hz, lowest Q, highest
    Q)``, whose summed response at ``centres_hz`` (Hz) follows ``want_db`` (dB per band; NaN
    = no wish) up to a free overall offset (the loudness target sets the level anyway).

    Gains (within +-``max_gain_db``), frequencies and Qs are fitted by bounded least squares
    on the bands' real responses, with a cost per dB of gain (``l1_weight``, in squared-dB
    units of the band residuals); bands under ``min_band_db`` are dropped and the rest
    refitted. ``weight`` (per band) defaults to 1, and 0.5 below 40 Hz and above 12.5 kHz
    (little music lives there and speakers differ most). ``max_evaluations`` caps the
    least-squares evaluations of each fit (scipy's default when ``None``). Returns ``[]`` when
    no band stays.
    """
    from scipy.optimize import least_squares

    c = np.asarray(centres_hz, float)
    w = np.asarray(want_db, float)
    use = np.isfinite(w)
    if use.sum() < 3:
        return []
    fc, want = c[use], w[use]
    if weight is None:
        wt = np.where((fc < 40.0) | (fc > 12500.0), 0.5, 1.0)
    else:
        wt = np.asarray(weight, float)[use]
    layout = list(layout)
    while layout:
        bands = _fit(
            layout,
            fc,
            want,
            wt,
            sample_rate,
            least_squares,
            max_gain_db,
            l1_weight,
            max_evaluations,
        )
        keep = [i for i, b in enumerate(bands) if abs(b.gain_db) >= min_band_db]
        if len(keep) == len(layout):
            return bands
        layout = [layout[i] for i in keep]
    return []


def smooth_db(values: np.ndarray, kernel: Sequence[float] = SMOOTHING) -> np.ndarray:
    """``values`` smoothed with the symmetric ``kernel`` (normalised), edges held."""
    k = np.asarray(kernel, float) / float(sum(kernel))
    h = len(k) // 2
    return np.convolve(np.pad(np.asarray(values, float), h, mode="edge"), k, mode="valid")


def _fit(
    layout,
    fc,
    want,
    weight,
    sample_rate,
    least_squares,
    max_gain_db=MAX_EQ_DB,
    l1=L1_WEIGHT,
    max_nfev=None,
) -> list[EQBand]:
    x0, lo, hi = [0.0], [-10.0], [10.0]  # overall offset first
    for _, f_lo, f_hi, q_lo, q_hi in layout:
        f0 = math.sqrt(f_lo * f_hi)
        g0 = float(np.interp(math.log(f0), np.log(fc), want))
        x0 += [
            math.log(f0),
            float(np.clip(g0, -0.9 * max_gain_db, 0.9 * max_gain_db)),
            0.5 * (q_lo + q_hi),
        ]
        lo += [math.log(f_lo), -max_gain_db, q_lo]
        hi += [math.log(f_hi), max_gain_db, q_hi]

    def bands_of(x) -> list[EQBand]:
        return [
            EQBand(type=kind, freq_hz=math.exp(x[1 + 3 * i]), gain_db=x[2 + 3 * i], q=x[3 + 3 * i])
            for i, (kind, *_rest) in enumerate(layout)
        ]

    kinds = [kind for kind, *_rest in layout]
    z1 = np.exp(-2j * np.pi * fc / sample_rate)
    z2 = z1 * z1

    def response_db(x) -> np.ndarray:
        # the bands' cookbook responses at fc, evaluated directly (the fit asks thousands of
        # times; identical to eq_response_db of bands_of(x))
        total = np.zeros(fc.shape)
        for i, kind in enumerate(kinds):
            f = min(math.exp(x[1 + 3 * i]), 0.49 * sample_rate)
            b0, b1, b2, _, a1, a2 = rbj_biquad(
                kind, f, sample_rate, gain_db=x[2 + 3 * i], q=x[3 + 3 * i]
            )[0]
            num = np.abs(b0 + b1 * z1 + b2 * z2) ** 2
            den = np.abs(1.0 + a1 * z1 + a2 * z2) ** 2
            total += 10.0 * np.log10(np.maximum(num, 1e-300) / np.maximum(den, 1e-300))
        return total

    def residual(x) -> np.ndarray:
        r = weight * (response_db(x) - want - x[0])
        return np.concatenate([r, np.sqrt(l1 * np.abs(np.asarray(x[2::3])))])

    sol = least_squares(
        residual,
        np.array(x0),
        bounds=(np.array(lo), np.array(hi)),
        max_nfev=max_nfev,
    )
    return [
        EQBand(
            type=b.type,
            freq_hz=round(b.freq_hz, -1 if b.freq_hz >= 1000 else 0),
            gain_db=round(b.gain_db, 1),
            q=round(b.q, 2),
        )
        for b in bands_of(sol.x)
    ]


def _eq_suggestion(
    session: Session, mix_bands_db: np.ndarray, centres_hz: np.ndarray
) -> list[Suggestion]:
    from mixwise.assist.profiles import tone_offset_db

    master = session.master
    if any(b.enabled for b in master.eq):
        return []  # an EQ set by the user stays
    # a genre profile moves the target; the same as moving the mix the other way
    mix_bands_db = np.asarray(mix_bands_db, float) - tone_offset_db(session, centres_hz)
    bands = fit_eq(mix_bands_db, centres_hz, session.sample_rate)
    if not bands:
        return []
    c = np.asarray(centres_hz, float)
    before = tonal_distance_db(mix_bands_db, c)
    after = tonal_distance_db(
        np.asarray(mix_bands_db, float) + eq_response_db(bands, c, session.sample_rate), c
    )
    dev = deviation_db(mix_bands_db, c)
    moves = ", ".join(
        f"{'+' if b.gain_db > 0 else ''}{b.gain_db:g} dB {b.type.replace('_', ' ')} at "
        f"{b.freq_hz:g} Hz"
        for b in bands
    )
    return [
        Suggestion(
            task="master",
            target="master",
            parameter="master.eq",
            old=[b.model_dump(mode="json") for b in master.eq],
            new=[b.model_dump(mode="json") for b in bands],
            unit="EQ bands",
            reason=(
                f"nudges the overall tone toward the typical balance of commercial mixes ({moves})"
            ),
            evidence={
                "tonal_distance_before_db": round(before, 2),
                "tonal_distance_after_db": round(after, 2),
                "deviation_db": {
                    f"{f:g}": round(float(d), 2)
                    for f, d in zip(c, dev, strict=True)
                    if np.isfinite(d)
                },
            },
            confidence=0.5,
        )
    ]


def _glue_suggestion(
    session: Session, mix: Meters | None, mix_levels: np.ndarray | None
) -> list[Suggestion]:
    master = session.master
    if mix is None or master.compressor.enabled or not math.isfinite(mix.active_rms_dbfs):
        return []
    u = dynamics_score(mix)
    if u < DENSE_SCORE:
        return []  # already dense (or limited): glue would only flatten it further
    ratio = GLUE_RATIO[0] + (GLUE_RATIO[1] - GLUE_RATIO[0]) * u
    wanted = GLUE_REDUCTION_DB[0] + (GLUE_REDUCTION_DB[1] - GLUE_REDUCTION_DB[0]) * u
    if mix_levels is not None and np.isfinite(mix_levels).any():
        lv, weights = np.asarray(mix_levels, float), None
    else:
        lv, weights = model_levels_db(mix.active_rms_dbfs, level_spread_db(mix))
    comp, reduction = bus_compressor_for(
        lv,
        ratio=ratio,
        reduction_db=wanted,
        attack_ms=GLUE_ATTACK_MS,
        release_ms=GLUE_RELEASE_MS,
        knee_db=GLUE_KNEE_DB,
        weights=weights,
    )
    new = comp.model_dump(mode="json")
    return [
        Suggestion(
            task="master",
            target="master",
            parameter="master.compressor",
            old=master.compressor.model_dump(mode="json"),
            new=new,
            unit="compressor",
            reason=(
                f"a gentle {new['ratio']:g}:1 glue compressor doing about {reduction:.1f} dB "
                f"holds the mix together; its slow attack keeps the punch"
            ),
            evidence={
                "mix_active_rms_dbfs": round(mix.active_rms_dbfs, 2),
                "mix_crest_db": round(mix.sample_peak_dbfs - mix.active_rms_dbfs, 2),
                "mix_loudness_range_lu": round(mix.loudness_range_lu, 2),
                "dynamics_score": round(u, 3),
                "expected_gain_reduction_db": round(reduction, 2),
                "levels_used": weights is None,
            },
            confidence=0.5,
        )
    ]


def suggest_master(
    session: Session,
    mix_bands_db: np.ndarray,
    centres_hz: np.ndarray,
    *,
    target_lufs: float,
    ceiling_dbtp: float,
    mix_meters: Meters | None = None,
    mix_levels: np.ndarray | None = None,
) -> list[Suggestion]:
    """Suggestions for the master chain.

    Parameters
    ----------
    session : the mix; a master EQ or compressor already enabled is left as it is
    mix_bands_db : np.ndarray [shape=(n_bands,)]
        Long-term third-octave band levels (dB, band power, any offset) of the predicted mix
    centres_hz : np.ndarray [shape=(n_bands,)]
        The bands' centre frequencies (Hz), IEC nominal or exact
    target_lufs : integrated loudness of the master (LUFS), e.g. from ``MASTER_PRESETS``
    ceiling_dbtp : the limiter's true-peak ceiling (dBTP)
    mix_meters : optional meters of the predicted mix; needed for the glue compressor
    mix_levels : optional RMS levels (dBFS) of the predicted mix in 100 ms blocks, for a
        closer estimate of the glue compressor's reduction

    Returns, where they change something: ``master.eq`` (a list of up to four bands),
    ``master.compressor``, ``master.target_lufs``, ``master.limiter.enabled`` and
    ``master.limiter.ceiling_dbtp``.
    """
    out = _eq_suggestion(session, mix_bands_db, centres_hz)
    out += _glue_suggestion(session, mix_meters, mix_levels)
    master = session.master
    if master.target_lufs != target_lufs:
        out.append(
            Suggestion(
                task="master",
                target="master",
                parameter="master.target_lufs",
                old=master.target_lufs,
                new=target_lufs,
                unit="LUFS",
                reason=f"the master plays at {target_lufs:g} LUFS, the chosen delivery loudness",
                evidence={"target_lufs": target_lufs},
                confidence=0.9,
            )
        )
    if not master.limiter.enabled:
        out.append(
            Suggestion(
                task="master",
                target="master",
                parameter="master.limiter.enabled",
                old=False,
                new=True,
                unit="",
                reason="a true-peak limiter keeps the master's peaks under the ceiling",
                evidence={"ceiling_dbtp": ceiling_dbtp},
                confidence=0.9,
            )
        )
    if master.limiter.ceiling_dbtp != ceiling_dbtp:
        out.append(
            Suggestion(
                task="master",
                target="master",
                parameter="master.limiter.ceiling_dbtp",
                old=master.limiter.ceiling_dbtp,
                new=ceiling_dbtp,
                unit="dBTP",
                reason=(
                    f"peaks stay under {ceiling_dbtp:g} dBTP so the file survives lossy "
                    f"encoding without clipping"
                ),
                evidence={"ceiling_dbtp": ceiling_dbtp},
                confidence=0.9,
            )
        )
    return out
