"""The mix as the assistants predict it: every track's band frames placed by its chain.

:class:`MixModel` turns a session's chain settings (trim, filters, EQ, fader, pan, and the group
bus each track feeds) into per-band power gains and predicts, without rendering, what the
assistants need: each track's loudness in the mix, the mix's loudness and long-term spectrum,
and the masking matrix. Assistants change a copy of the session and ask the model again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mixwise.analysis.meters import Meters, range_of_block_powers
from mixwise.analysis.spectrum import (
    BandFrames,
    band_edges_hz,
    block_loudness,
    gated_lufs,
    k_weight_bands,
    masking_matrix,
    placed_power,
    placement_gain,
    weighted_frames,
)
from mixwise.dsp.biquad import sos_response_db
from mixwise.session.model import BusChain, Session, Track


def chain_curve_db(chain: BusChain, centres_hz: np.ndarray, sample_rate: int) -> np.ndarray:
    """Magnitude (dB) of a chain's high-pass, low-pass and EQ bands, averaged (in power) across
    each third-octave band."""
    from mixwise.render.engine import filter_sos

    sos = filter_sos(sample_rate, high_pass=chain.high_pass, low_pass=chain.low_pass, eq=chain.eq)
    if sos.shape[0] == 0:
        return np.zeros(len(centres_hz))
    edges = band_edges_hz(centres_hz)
    pts = np.geomspace(edges[:, 0], np.minimum(edges[:, 1], 0.499 * sample_rate), 7, axis=1)
    resp = sos_response_db(sos, pts.ravel(), sample_rate).reshape(pts.shape)
    return 10.0 * np.log10(np.mean(10.0 ** (resp / 10.0), axis=1) + 1e-30)


def track_level_db(session: Session, track: Track) -> float:
    """Trim + fader of a track plus its group bus's fader (dB); -inf when muted."""
    c = track.chain
    if c.mute:
        return -math.inf
    level = c.trim_db + c.fader_db
    bus = next((b for b in session.buses if b.id == track.bus and b.kind == "group"), None)
    if bus is not None:
        level += bus.chain.fader_db
    return level


@dataclass
class MixModel:
    """Band-domain prediction of a session's mix from each track's :class:`BandFrames`."""

    session: Session
    bands: Mapping[str, BandFrames]

    def __post_init__(self) -> None:
        any_bf = next(iter(self.bands.values()))
        self.centres_hz = any_bf.centres_hz
        self.sample_rate = self.session.sample_rate
        self.kw = k_weight_bands(self.centres_hz, self.sample_rate)
        self.frames = max(bf.frames for bf in self.bands.values())

    # -- placement ---------------------------------------------------------------------------
    def _curve(self, chain: BusChain) -> np.ndarray:
        """:func:`chain_curve_db`, remembered per filter setting (the solvers ask often)."""
        key = (
            chain.high_pass.model_dump_json(),
            chain.low_pass.model_dump_json(),
            tuple(b.model_dump_json() for b in chain.eq),
        )
        cache = self.__dict__.setdefault("_curves", {})
        if key not in cache:
            cache[key] = chain_curve_db(chain, self.centres_hz, self.sample_rate)
        return cache[key]

    def track_ids(self) -> list[str]:
        return [t.id for t in self.session.tracks if t.id in self.bands]

    def gain(self, track: Track) -> np.ndarray:
        """Power gains ``(2, channels, bands)`` of the track's chain (and its group bus)."""
        bf = self.bands[track.id]
        level = track_level_db(self.session, track)
        if level == -math.inf:
            return np.zeros((2, bf.channels, len(self.centres_hz)))
        curve = self._curve(track.chain)
        bus = next((b for b in self.session.buses if b.id == track.bus), None)
        if bus is not None and bus.kind == "group":
            curve = curve + self._curve(bus.chain)
        return placement_gain(
            channels=bf.channels, eq_db=curve, level_db=level, pan=track.chain.pan
        )

    def _pad(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[-1]
        if n == self.frames:
            return x
        pad = [(0, 0)] * (x.ndim - 1) + [(0, self.frames - n)]
        return np.pad(x, pad)

    def weighted(self, track: Track) -> np.ndarray:
        """K-weighted power per frame of the track in the mix ``(frames,)``."""
        return self._pad(weighted_frames(self.bands[track.id], self.gain(track), self.kw))

    def placed(self, track: Track) -> np.ndarray:
        """Output power ``(2, bands, frames)`` of the track in the mix."""
        return self._pad(placed_power(self.bands[track.id], self.gain(track)))

    # -- predictions -------------------------------------------------------------------------
    def contributions_lufs(self) -> dict[str, float]:
        """Each track's loudness (LUFS) as it sounds in the mix (after its chain)."""
        return {
            t.id: gated_lufs(block_loudness(self.weighted(t)))
            for t in self.session.tracks
            if t.id in self.bands
        }

    def mix_lufs(self) -> float:
        """Predicted loudness (LUFS) of the mix: the tracks' K-weighted powers summed (the
        tracks are taken as uncorrelated)."""
        total = sum(self.weighted(t) for t in self.session.tracks if t.id in self.bands)
        return gated_lufs(block_loudness(np.asarray(total)))

    def mix_spectrum_db(self) -> np.ndarray:
        """Long-term third-octave levels (dB) of the predicted mix over its active frames."""
        total = sum(self.placed(t) for t in self.session.tracks if t.id in self.bands)
        p = np.asarray(total).sum(axis=0)
        frame = p.sum(axis=0)
        act = frame > (frame.max() * 1e-4 if frame.size and frame.max() > 0 else 0)
        if not act.any():
            return np.full(len(self.centres_hz), -200.0)
        return 10.0 * np.log10(p[:, act].mean(axis=1) + 1e-30)

    def mix_meters(self, peaks_dbfs: Mapping[str, float]) -> tuple[Meters, np.ndarray]:
        """The predicted mix's meters and its RMS level every 100 ms (dBFS), for decisions on
        the whole mix (the master's glue compressor) without a render.

        Loudness and loudness range come from the tracks' K-weighted powers summed per frame
        (3 s windows every 100 ms for the range, EBU Tech 3342 gates); RMS levels from the
        placed band powers; the sample peak is the tracks' peaks (``peaks_dbfs``: each raw
        stem's sample peak, dBFS) moved by their trim, fader and bus fader and added as
        uncorrelated (their power sum), since peaks of different parts rarely coincide.
        """
        tracks = [t for t in self.session.tracks if t.id in self.bands]
        if not tracks:
            return _SILENT_METERS, np.zeros(0)
        kw = np.asarray(sum(self.weighted(t) for t in tracks), float)
        power = np.asarray(sum(self.placed(t).sum(axis=1) for t in tracks), float).mean(axis=0)
        frame_s = next(iter(self.bands.values())).frame_s
        with np.errstate(divide="ignore"):
            levels = 10.0 * np.log10(power)
        live = np.isfinite(levels)
        active = live & (levels > (levels[live].max() - 40.0 if live.any() else 0.0))
        active_rms = 10.0 * math.log10(float(power[active].mean())) if active.any() else -math.inf
        rms = 10.0 * math.log10(float(power.mean())) if power.mean() > 0 else -math.inf
        peak_power = 0.0
        for t in tracks:
            pk, lv = peaks_dbfs.get(t.id, -math.inf), track_level_db(self.session, t)
            if math.isfinite(pk) and math.isfinite(lv):
                peak_power += 10.0 ** ((pk + lv) / 10.0)
        peak = 10.0 * math.log10(peak_power) if peak_power > 0 else -math.inf
        meters = Meters(
            integrated_lufs=gated_lufs(block_loudness(kw)),
            loudness_range_lu=_lra(kw),
            sample_peak_dbfs=peak,
            true_peak_dbtp=peak,
            rms_dbfs=rms,
            crest_db=peak - rms,
            active_rms_dbfs=active_rms,
            duration_s=len(kw) * frame_s,
        )
        return meters, levels

    def masking(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``(track ids, M, per_band)`` of :func:`~mixwise.analysis.spectrum.masking_matrix`."""
        placed = {t.id: self.placed(t) for t in self.session.tracks if t.id in self.bands}
        return masking_matrix(placed, self.kw, centres_hz=self.centres_hz)


_SILENT_METERS = Meters(-math.inf, 0.0, -math.inf, -math.inf, -math.inf, -math.inf, -math.inf, 0.0)


def _lra(kw_frames: np.ndarray) -> float:
    """EBU Tech 3342 loudness range (LU) from K-weighted power per 100 ms frame."""
    if len(kw_frames) < 30:
        return 0.0
    c = np.concatenate([[0.0], np.cumsum(kw_frames)])
    return range_of_block_powers((c[30:] - c[:-30]) / 30.0)
