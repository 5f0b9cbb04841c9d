"""Clicks: found where injected, not on clean music or drum hits, and repaired."""

from __future__ import annotations

import numpy as np
import pytest

from mixwise.analysis.clicks import Click, find_clicks, repair_clicks
from mixwise.errors import ParameterError
from signals import noise, sine

SR = 48_000


def _with_clicks(x: np.ndarray, spots: list[tuple[int, int, int, float]]) -> np.ndarray:
    """A copy of ``x`` with clicks (channel, start, length, amplitude) added."""
    y = x.copy()
    for ch, start, length, amp in spots:
        y[ch, start : start + length] += amp * np.array([1.0, -0.7, 0.9][:length])
    return y


def inject_clicks(x: np.ndarray, sample_rate: int, n: int, seed: int, lo_db: float, hi_db: float):
    """Add ``n`` clicks of 1-3 samples where the stem plays; returns (audio, [(ch, start, len)]).

    Each click's peak is ``lo_db``..``hi_db`` dB relative to the channel's peak within +-20 ms,
    with random signs; the times are at least 50 ms apart, where that local peak is within 20 dB
    of the stem's peak.
    """
    rng = np.random.default_rng(seed)
    y = x.copy()
    hop = int(0.02 * sample_rate)
    n_hops = x.shape[1] // hop
    peaks = np.abs(x[:, : n_hops * hop]).max(axis=0).reshape(n_hops, hop).max(axis=1)
    active = np.flatnonzero(peaks > peaks.max() * 0.1)
    active = active[(active > 3) & (active < n_hops - 3)]
    chosen = np.sort(rng.choice(active[::3], size=n, replace=False))
    spots = []
    for h in chosen:
        start = int(h * hop + rng.integers(0, hop))
        ch = int(rng.integers(0, x.shape[0]))
        length = int(rng.integers(1, 4))
        local = float(np.abs(x[ch, start - hop : start + hop]).max())
        amp = local * 10.0 ** (rng.uniform(lo_db, hi_db) / 20.0)
        values = amp * rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0, length)
        if rng.random() < 0.5:
            values *= rng.choice([-1.0, 1.0], length)
        y[ch, start : start + length] += values.astype(np.float32)
        spots.append((ch, start, length))
    return y, spots


def _found(clicks: list[Click], ch: int, start: int, tolerance: int = 2) -> bool:
    return any(c.channel == ch and abs(c.start_sample - start) <= tolerance for c in clicks)


# --------------------------------------------------------------------------------------------
# synthetic


def test_clicks_on_a_sine_are_found_exactly():
    x = sine(440.0, seconds=1.0, sample_rate=SR, amplitude=0.5, channels=2)
    spots = [(0, 9_600, 1, 0.1), (0, 24_000, 2, 0.1), (0, 38_400, 3, 0.1)]
    clicks = find_clicks(_with_clicks(x, spots), SR)
    assert [(c.channel, c.start_sample, c.length_samples) for c in clicks] == [
        (ch, start, length) for ch, start, length, _ in spots
    ]
    assert clicks[1].time_s == pytest.approx(0.5)
    # 0.1 against the tiny prediction error of a pure sine: far above it, about -20 dBFS
    assert all(c.strength_db > 40.0 for c in clicks)
    assert all(-21.0 < c.level_dbfs < -19.0 for c in clicks)


@pytest.mark.parametrize(
    "clean",
    [
        pytest.param(sine(440.0, seconds=2.0, sample_rate=SR, channels=2), id="sine"),
        pytest.param(noise(seconds=2.0, sample_rate=SR, rms=0.1), id="white-noise"),
    ],
)
def test_clean_signals_have_no_clicks(clean):
    assert find_clicks(clean, SR) == []


def test_synthetic_drum_hits_and_hard_note_starts_are_not_clicks():
    """Sharp onsets (a noise burst and a pitched hit starting at full amplitude) are steps or
    transients, not 1-3 sample impulses."""
    rng = np.random.default_rng(1)
    n = 2 * SR
    x = np.zeros((2, n), dtype=np.float32)
    t = np.arange(SR // 4) / SR
    hit = (0.8 * rng.standard_normal(t.size) * np.exp(-t / 0.03)).astype(np.float32)
    tom = (0.8 * np.cos(2 * np.pi * 110 * t) * np.exp(-t / 0.15)).astype(np.float32)
    for k, start in enumerate(range(2_000, n - SR // 4, SR // 4)):
        x[:, start : start + t.size] += hit if k % 2 else tom
    assert find_clicks(x, SR) == []


def test_stereo_equals_each_channel_alone():
    x = sine(330.0, seconds=1.0, sample_rate=SR, channels=2)
    x[1] *= 0.5
    y = _with_clicks(x, [(0, 10_000, 1, 0.2), (1, 30_000, 2, -0.1)])
    both = find_clicks(y, SR)
    one_by_one = [
        Click(c.time_s, ch, c.strength_db, c.length_samples, c.start_sample, c.level_dbfs)
        for ch in (0, 1)
        for c in find_clicks(y[ch : ch + 1], SR)
    ]
    assert len(both) == 2
    assert sorted(both, key=lambda c: c.channel) == one_by_one


def test_repair_restores_the_signal_and_leaves_the_input_alone():
    x = sine(440.0, seconds=1.0, sample_rate=SR, amplitude=0.5, channels=2)
    y = _with_clicks(x, [(0, 9_600, 1, 0.3), (1, 24_000, 3, -0.3)])
    before = y.copy()
    fixed = repair_clicks(y, SR, find_clicks(y, SR))
    np.testing.assert_array_equal(y, before)
    assert fixed.dtype == np.float32 and fixed.shape == y.shape
    # a pure sine is interpolated almost exactly; away from the clicks nothing changed
    assert np.abs(fixed - x).max() < 1e-4
    assert np.abs(y - x).max() > 0.2


def test_silence_and_short_input():
    assert find_clicks(np.zeros((2, SR), dtype=np.float32), SR) == []
    assert find_clicks(np.ones((1, 100), dtype=np.float32), SR) == []


def test_bad_arguments():
    with pytest.raises(ParameterError):
        find_clicks(np.zeros((3, 1000), dtype=np.float32), SR)
    with pytest.raises(ParameterError):
        find_clicks(np.zeros(1000, dtype=np.float32), SR)
    with pytest.raises(ParameterError):
        find_clicks(np.zeros((1, 10_000), dtype=np.float32), SR, order=2)
    with pytest.raises(ParameterError):
        repair_clicks(np.zeros((1, 100), dtype=np.float32), SR, [Click(0.0, 0, 20.0, 3, 99, -20.0)])


# --------------------------------------------------------------------------------------------
# real stems

#: Excerpts where the stems play (file, start s, length s): voice, guitar, keys, bass, kicks.
RECALL_EXCERPTS = [
    ("francium/stems/VOX_LEAD.ogg", 60.0, 20.0),
    ("fof_feelings/stems/guitar.ogg", 24.0, 20.0),
    ("lmms_reggaetontry/stems/06_E_Piano.ogg", 49.0, 20.0),
    ("musdb_falcon69/stems/bass.flac", 0.0, 6.0),
    ("hydrogen_jazzy/stems/00_Kick.flac", 0.0, 19.0),
    ("francium/stems/KICK.ogg", 70.0, 20.0),
]

#: Clean excerpts for false alarms, drums and percussion first.
CLEAN_EXCERPTS = [
    ("hydrogen_jazzy/stems/00_Kick.flac", 0.0, 19.0),
    ("hydrogen_jazzy/stems/05_Floor_Tom.flac", 0.0, 20.0),
    ("hydrogen_jazzy/stems/08_Hat_Pedal.flac", 0.0, 19.0),
    ("hydrogen_jazzy/stems/12_Ride.flac", 0.0, 19.0),
    ("francium/stems/KICK.ogg", 70.0, 20.0),
    ("francium/stems/CLAPS.ogg", 108.0, 20.0),
    ("francium/stems/BIG_BEAT.ogg", 125.0, 20.0),
    ("francium/stems/HATS.ogg", 182.0, 20.0),
    ("musdb_falcon69/stems/drums.flac", 0.0, 6.0),
    ("lmms_axefromthe80s/stems/08_snare_acoustic01_ogg.ogg", 55.0, 20.0),
    ("lmms_axefromthe80s/stems/09_kick_hard01_ogg.ogg", 55.0, 20.0),
    ("francium/stems/VOX_LEAD.ogg", 60.0, 20.0),
    ("fof_feelings/stems/guitar.ogg", 24.0, 20.0),
    ("fof_feelings/stems/song.ogg", 129.0, 20.0),
    ("musdb_falcon69/stems/vocals.flac", 0.0, 6.0),
]


@pytest.mark.realdata
def test_injected_clicks_are_found_and_repaired_on_real_stems(excerpt):
    """20 clicks of 1-3 samples, 3-12 dB under the local peak, per stem: recall >= 95 %, and
    the repair brings the click sites far closer to the clean original (measured: 33-77 dB
    per stem)."""
    found = total = 0
    err_before = err_after = 0.0
    for k, (path, start_s, seconds) in enumerate(RECALL_EXCERPTS):
        x, rate = excerpt(path, start_s, seconds)
        y, spots = inject_clicks(x, rate, n=20, seed=100 + k, lo_db=-12.0, hi_db=-3.0)
        clicks = find_clicks(y, rate)
        found += sum(_found(clicks, ch, start) for ch, start, _ in spots)
        total += len(spots)
        fixed = repair_clicks(y, rate, clicks)
        for ch, start, length in spots:
            sl = slice(start - 2, start + length + 2)
            err_before += float(np.sum((y[ch, sl] - x[ch, sl]) ** 2.0))
            err_after += float(np.sum((fixed[ch, sl] - x[ch, sl]) ** 2.0))
    assert total == 20 * len(RECALL_EXCERPTS)
    assert found / total >= 0.95
    assert 10.0 * np.log10(err_before / err_after) >= 25.0


@pytest.mark.realdata
def test_quieter_clicks_on_tonal_stems(excerpt):
    """Clicks 6-20 dB under the local peak on voice, guitar and keys: still >= 90 % found."""
    found = total = 0
    for k, (path, start_s, seconds) in enumerate(RECALL_EXCERPTS[:3]):
        x, rate = excerpt(path, start_s, seconds)
        y, spots = inject_clicks(x, rate, n=20, seed=200 + k, lo_db=-20.0, hi_db=-6.0)
        clicks = find_clicks(y, rate)
        found += sum(_found(clicks, ch, start) for ch, start, _ in spots)
        total += len(spots)
    assert found / total >= 0.90


@pytest.mark.realdata
def test_at_most_one_false_alarm_per_minute_on_clean_stems(excerpt):
    """Drum hits, cymbals, claps, voice and guitar: no more than 1 click per minute flagged."""
    alarms = 0
    minutes = 0.0
    for path, start_s, seconds in CLEAN_EXCERPTS:
        x, rate = excerpt(path, start_s, seconds)
        alarms += len(find_clicks(x, rate))
        minutes += x.shape[1] / rate / 60.0
    assert minutes > 4.0
    assert alarms / minutes <= 1.0
