"""Ardour 7 export and import: the mappings, the round trip, failures, and Ardour's own render.

The render tests run Ardour's headless exporter (``ardour7-export``) on the exported session and
compare its output with mixwise's ``mix.wav`` (the mix before the master chain; the master bus
is left neutral). They are skipped when ``ardour7-export`` is not on PATH.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from mixwise.dsp.biquad import rbj_biquad, sos_response_db
from mixwise.dsp.pan import pan_gains
from mixwise.errors import ExportError
from mixwise.export.ardour import (
    _ace_settled,
    ace_compressor_frames,
    ace_port_value,
    ardour_mono_pan_gains,
    ardour_to_balance,
    ardour_to_mono_pan,
    balance_to_ardour,
    bandwidth_oct_to_q,
    compressor_to_ace,
    export_ardour,
    fit_ace_compressor,
    import_ardour,
    mono_pan_to_ardour,
    q_to_bandwidth_oct,
    samples_to_superclock,
    shelf_to_ace_hz,
)
from mixwise.io.audio import load_file
from mixwise.render.engine import RenderOptions, render
from mixwise.session import model as m
from signals import DATA_DIR, noise, read_wav, write_wav

SR = 48_000
ARDOUR_EXPORT = shutil.which("ardour7-export")
ARDOUR_LUA = shutil.which("ardour7-lua")
needs_ardour = pytest.mark.skipif(
    ARDOUR_EXPORT is None,
    reason="ardour7-export (Ardour 7's headless session renderer) is not on PATH",
)
NO_MASTER = m.Master(target_lufs=None, limiter=m.Limiter(enabled=False))


# --------------------------------------------------------------------------------------------
# helpers


def ardour_render(session_file: Path, out_wav: Path, *, tries: int = 6) -> np.ndarray:
    """Render an Ardour session with ``ardour7-export`` (float WAV) and return it ``(2, n)``.

    The tool aborts now and then (about 1 run in 6): retry, and accept only exit code 0 with a
    non-silent file."""
    last = ""
    for _ in range(tries):
        out_wav.unlink(missing_ok=True)
        cmd = [
            ARDOUR_EXPORT,
            "-b",
            "float",
            "-o",
            str(out_wav),
            str(session_file.parent),
            session_file.stem,
        ]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if p.returncode == 0 and out_wav.is_file():
            y, _ = read_wav(out_wav)
            if np.max(np.abs(y)) > 1e-6:
                return y
            last = "silent output"
        else:
            last = f"exit code {p.returncode}: {(p.stderr or p.stdout)[-300:]}"
    pytest.fail(f"ardour7-export failed {tries} times ({last})")


def mixwise_mix(session: m.Session, sources: dict[str, np.ndarray], out: Path) -> np.ndarray:
    opts = RenderOptions(write_stems=False, write_master=False)
    render(session, sources, out, options=opts)
    return read_wav(out / "mix.wav")[0]


def align(ref: np.ndarray, other: np.ndarray, max_lag: int = 8192) -> tuple[np.ndarray, int]:
    """``other`` shifted to line up with ``ref`` (cross-correlation of the channel sums), and
    the lag found (samples; > 0: ``other`` is late)."""
    n = min(ref.shape[1], other.shape[1])
    a, b = ref[:, :n].sum(axis=0), other[:, :n].sum(axis=0)
    size = 1 << int(math.ceil(math.log2(2 * n)))
    xc = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    lag = int(lags[np.argmax(np.abs(xc[lags]))])
    shifted = np.zeros_like(ref[:, :n])
    if lag >= 0:
        shifted[:, : n - lag] = other[:, lag:n]
    else:
        shifted[:, -lag:] = other[:, : n + lag]
    return shifted, lag


def difference_db(ref: np.ndarray, other: np.ndarray) -> float:
    """Energy of ``other - ref`` relative to ``ref`` (dB)."""
    n = min(ref.shape[1], other.shape[1])
    d = other[:, :n] - ref[:, :n]
    return 10.0 * math.log10(float(np.sum(d * d)) / float(np.sum(ref[:, :n] ** 2)) + 1e-30)


THIRD_OCTAVES_HZ = 1000.0 * 2.0 ** (np.arange(-15, 13) / 3.0)  # 31.5 Hz .. 16 kHz


def band_levels_db(x: np.ndarray, sr: int) -> np.ndarray:
    """Third-octave band levels (dB, both channels' power) of a whole signal."""
    from scipy.signal import welch

    f, p = welch(x, sr, nperseg=16384)
    p = p.sum(axis=0)
    out = []
    for c in THIRD_OCTAVES_HZ:
        sel = (f >= c * 2 ** (-1 / 6)) & (f < c * 2 ** (1 / 6))
        out.append(10.0 * math.log10(float(p[sel].sum()) + 1e-30))
    return np.array(out)


def track(tmp: Path, tid: str, audio: np.ndarray, sr: int = SR, **kw) -> m.Track:
    path = write_wav(tmp / "src" / f"{tid}.wav", audio, sr)
    chain = kw.pop("chain", m.Chain())
    return m.Track(
        id=tid,
        name=kw.pop("name", tid),
        source=m.SourceFile(path=str(path), channels=audio.shape[0]),
        chain=chain,
        **kw,
    )


def sources_of(session: m.Session) -> dict[str, np.ndarray]:
    return {
        t.id: load_file(t.source.path, sample_rate=session.sample_rate)[0] for t in session.tracks
    }


# --------------------------------------------------------------------------------------------
# mappings (no Ardour needed)


def _svf_response_db(
    kind: str, freq_hz: float, gain_db: float, sr: int, *, q: float, freqs: np.ndarray
) -> np.ndarray:
    """Magnitude response of ACE EQ's trapezoidal state-variable filter (a-eq.c's equations:
    ``g = tan(pi f / sr)``, ``k``, mixing coefficients ``m0..m2``), from its impulse response."""
    A = 10 ** (gain_db / 40)
    g = math.tan(math.pi * freq_hz / sr)
    if kind == "peak":
        k = 1 / (q * A)
        mix = (1.0, k * (A * A - 1), 0.0)
    elif kind == "low_shelf":
        k = 1 / q
        mix = (1.0, k * (A - 1), A * A - 1)
    else:
        k = 1 / q
        mix = (A * A, k * (1 - A) * A, 1 - A * A)
    a1 = 1 / (1 + g * (g + k))
    a2, a3 = g * a1, g * g * a1
    n = 1 << 16
    x = np.zeros(n)
    x[0] = 1.0
    y = np.empty(n)
    s1 = s2 = 0.0
    for i in range(n):
        v3 = x[i] - s2
        v1 = a1 * s1 + a2 * v3
        v2 = s2 + a2 * s1 + a3 * v3
        s1, s2 = 2 * v1 - s1, 2 * v2 - s2
        y[i] = mix[0] * x[i] + mix[1] * v1 + mix[2] * v2
    h = np.fft.rfft(y)
    bins = np.round(freqs / sr * n).astype(int)
    return 20 * np.log10(np.abs(h[bins]))


@pytest.mark.parametrize(
    ("kind", "freq_hz", "gain_db", "q"),
    [
        ("peak", 1000.0, 6.0, 1.4),
        ("peak", 120.0, -9.0, 0.4),
        ("peak", 8000.0, 4.0, 6.0),
        ("low_shelf", 150.0, 5.0, 0.7071),
        ("low_shelf", 60.0, -8.0, 0.7071),
        ("high_shelf", 5000.0, -4.0, 0.7071),
        ("high_shelf", 9000.0, 7.5, 0.7071),
    ],
)
def test_ace_eq_mapping_gives_the_cookbook_biquad(kind, freq_hz, gain_db, q):
    """ACE EQ's filter with mixwise's band mapped (Q -> octaves, shelf frequency moved) has the
    RBJ cookbook response mixwise renders, to 0.001 dB."""
    freqs = np.round(np.geomspace(25.0, 20_000.0, 40) / SR * 2**16) * SR / 2**16  # FFT bins
    want = sos_response_db(rbj_biquad(kind, freq_hz, SR, gain_db=gain_db, q=q), freqs, SR)
    if kind == "peak":
        ace_q = bandwidth_oct_to_q(q_to_bandwidth_oct(q))
        got = _svf_response_db(kind, freq_hz, gain_db, SR, q=ace_q, freqs=freqs)
    else:
        f = shelf_to_ace_hz(kind, freq_hz, gain_db, SR)
        got = _svf_response_db(kind, f, gain_db, SR, q=1 / math.sqrt(2), freqs=freqs)
    err = float(np.max(np.abs(got - want)))
    assert err < 1e-3, f"{kind} {freq_hz} Hz {gain_db} dB Q {q}: max error {err:.2e} dB"


def test_bandwidth_and_q_convert_both_ways():
    assert bandwidth_oct_to_q(1.0) == pytest.approx(math.sqrt(2), abs=1e-12)
    assert q_to_bandwidth_oct(math.sqrt(2)) == pytest.approx(1.0, abs=1e-12)
    for q in (0.3, 0.7071, 1.0, 4.3, 14.0):
        assert bandwidth_oct_to_q(q_to_bandwidth_oct(q)) == pytest.approx(q, rel=1e-12)


@pytest.mark.parametrize(
    ("wanted", "kind"),
    [(3.0, "gain"), (-12.5, "gain"), (0.3, "gain"), (47.0, "freq"), (6000.0, "freq"), (1.3, "bw")],
)
def test_ace_port_value_lands_where_ace_eq_settles(wanted, kind):
    """ACE EQ glides towards its port values and stops short (up to 0.05 dB on gains); the
    port is set beyond so the settled value is the wanted one."""
    tol = {"gain": 0.05, "freq": 0.1, "bw": 0.001}[kind]
    plain = _ace_settled(wanted, tol, SR)
    settled = _ace_settled(ace_port_value(wanted, kind, SR), tol, SR)
    assert abs(settled - wanted) < 1e-5 * max(1.0, abs(wanted))
    assert abs(settled - wanted) < 0.1 * abs(plain - wanted)


@pytest.mark.parametrize("pan", [-1.0, -0.7, -0.25, 0.0, 0.1, 0.5, 0.93, 1.0])
def test_mono_pan_law_matches_with_trim_correction(pan):
    """Ardour's mono panner at the chosen azimuth, with the correction gain, gives mixwise's
    constant-power gains exactly; the correction stays within 0.26 dB."""
    az, corr_db = mono_pan_to_ardour(pan)
    gl, gr = ardour_mono_pan_gains(az)
    k = 10 ** (corr_db / 20)
    want = pan_gains(pan, channels=1)
    assert gl * k == pytest.approx(want[0], abs=1e-9)
    assert gr * k == pytest.approx(want[1], abs=1e-9)
    assert abs(corr_db) <= 0.26
    back, back_corr = ardour_to_mono_pan(az)
    assert back == pytest.approx(pan, abs=1e-9)
    assert back_corr == pytest.approx(corr_db, abs=1e-9)


@pytest.mark.parametrize("pan", [-1.0, -0.4, 0.0, 0.3, 1.0])
def test_balance_matches_the_attenuated_side(pan):
    az = balance_to_ardour(pan)
    left = 2 - 2 * az if az > 0.5 else 1.0
    right = 2 * az if az < 0.5 else 1.0
    assert (left, right) == pytest.approx(pan_gains(pan, channels=2), abs=1e-9)
    assert ardour_to_balance(az) == pytest.approx(pan, abs=1e-9)


def test_superclock_units():
    assert samples_to_superclock(48_000, 48_000) == 282_240_000
    assert samples_to_superclock(64, 48_000) == 376_320  # Ardour's default 64-sample fade
    assert samples_to_superclock(1, 44_100) == 6400


def test_compressor_matching_brings_ace_closer_to_mixwise():
    """On a tone stepping through six levels, ACE with mixwise's settings compresses more (it
    reads the sine's peaks, mixwise its RMS); the fitted threshold and attack bring the two
    compressed levels together."""
    t = np.arange(6 * SR) / SR
    levels = np.repeat([0.1, 0.5, 0.25, 0.7, 0.15, 0.4], SR)
    x = (levels * np.sin(2 * np.pi * 220 * t))[None, :]
    c = m.Compressor(
        enabled=True,
        threshold_db=-20.0,
        ratio=3.0,
        attack_ms=10.0,
        release_ms=120.0,
        knee_db=6.0,
        detector="rms",
    )
    fit = fit_ace_compressor(x, c, SR)
    print(
        f"\ncompressor fit: threshold {fit.threshold_offset_db:+.2f} dB, attack "
        f"{fit.attack_ms:.1f} ms; frame error {fit.unfitted_error_db:.2f} -> "
        f"{fit.frame_error_db:.2f} dB RMS, level {fit.level_error_db:+.3f} dB"
    )
    assert fit.unfitted_error_db > 0.5
    assert fit.frame_error_db < 0.4 * fit.unfitted_error_db
    assert abs(fit.level_error_db) < 0.1
    ports, extra = compressor_to_ace(
        c, threshold_offset_db=fit.threshold_offset_db, attack_ms=fit.attack_ms
    )
    assert extra == 0.0 and ports["thr"] == pytest.approx(-20.0 + fit.threshold_offset_db)
    assert ace_compressor_frames(x, ports, SR).shape == (x.shape[1] // 1024,)


def test_negative_makeup_goes_to_the_fader():
    ports, extra = compressor_to_ace(m.Compressor(enabled=True, makeup_db=-3.5, knee_db=12.0))
    assert ports["mak"] == 0.0 and extra == -3.5
    assert ports["kn"] == pytest.approx((12.0 - 0.01) / 6)


# --------------------------------------------------------------------------------------------
# the session file, the round trip, failures


def mixer_session(tmp: Path) -> m.Session:
    """Mono and stereo tracks with every mixer setting the export carries."""
    tracks = [
        track(
            tmp,
            "kick",
            noise(seconds=2, channels=1, seed=1),
            name="Kick ü 鼓: main",
            colour="#C04000",
            bus="drums",
            chain=m.Chain(
                trim_db=-4.5,
                fader_db=-6.02,
                pan=-0.37,
                polarity_inverted=True,
                delay_ms=3.0,
                high_pass=m.Filter(enabled=True, freq_hz=40.0, slope_db_oct=18),
                sends=[m.Send(bus="verb", level_db=-18.5, pre_fader=True)],
            ),
        ),
        track(
            tmp,
            "snare",
            noise(seconds=2, seed=2),
            name="Snare",
            bus="drums",
            regions=[
                m.Region(start_s=0.2, end_s=0.9, fade_in_ms=5.0, fade_out_ms=30.0),
                m.Region(start_s=1.3, end_s=1.8),
            ],
            chain=m.Chain(
                fader_db=2.5,
                pan=0.6,
                mute=True,
                eq=[
                    m.EQBand(type="peak", freq_hz=200.0, gain_db=-4.0, q=2.0),
                    m.EQBand(type="high_shelf", freq_hz=7000.0, gain_db=3.0),
                ],
                compressor=m.Compressor(
                    enabled=True, threshold_db=-20.0, ratio=4.0, makeup_db=-2.0
                ),
                sends=[m.Send(bus="verb", level_db=-9.25)],
            ),
        ),
        track(
            tmp,
            "vox",
            noise(seconds=2, channels=1, seed=3),
            name="Voz ñandú 🎤",
            colour="#123456",
            chain=m.Chain(
                fader_db=-40.123,
                pan=0.5,
                width=1.5,
                trim_db=30.0,
                low_pass=m.Filter(enabled=True, freq_hz=12_000.0, slope_db_oct=6),
                eq=[
                    m.EQBand(type="notch", freq_hz=3000.0, q=8.0),
                    m.EQBand(type="low_shelf", freq_hz=300.0, gain_db=2.0, q=0.5),
                ],
                sends=[m.Send(bus="dly", level_db=-3.0)],
            ),
        ),
        track(tmp, "dup", noise(seconds=2, seed=4), name="Snare", chain=m.Chain(pan=-1.0)),
    ]
    buses = [
        m.Bus(
            id="drums",
            name="Drums",
            kind="group",
            colour="#AA0000",
            chain=m.BusChain(fader_db=-2.0, pan=0.25),
        ),
        m.Bus(id="verb", name="Master", kind="aux", effect=m.Reverb(decay_s=1.2)),
        m.Bus(
            id="dly",
            name="Delay",
            kind="aux",
            effect=m.Delay(time_left_ms=250.0, time_right_ms=375.0, feedback=0.4),
        ),
    ]
    markers = [
        m.Marker(time_s=0.5, name="Intro"),
        m.Marker(time_s=1.0, end_s=1.75, name="Chorus ½"),
        m.Marker(
            time_s=1.25, name="vox", kind="comment", text="louder: here, please!", author="Ana"
        ),
        m.Marker(time_s=1.5, name="", kind="comment", text="no name"),
    ]
    return m.Session(
        name="Mixer ✓",
        sample_rate=SR,
        length_s=2.0,
        tracks=tracks,
        buses=buses,
        markers=markers,
        master=m.Master(gain_db=-1.5, target_lufs=None),
    )


def assert_same_mix(a: m.Session, b: m.Session) -> None:
    """The round trip's promise: tracks, faders (0.01 dB), pans (0.01), markers, and the rest
    of the mixer settings Ardour holds."""
    assert [t.id for t in b.tracks] == [t.id for t in a.tracks]
    for ta, tb in zip(a.tracks, b.tracks, strict=True):
        ca, cb = ta.chain, tb.chain
        where = ta.id
        assert tb.name == ta.name, where
        assert tb.colour == ta.colour, where
        assert tb.bus == ta.bus, where
        assert cb.fader_db == pytest.approx(ca.fader_db, abs=0.01), where
        assert cb.trim_db == pytest.approx(ca.trim_db, abs=0.01), where
        assert cb.pan == pytest.approx(ca.pan, abs=0.01), where
        assert (cb.mute, cb.polarity_inverted) == (ca.mute, ca.polarity_inverted), where
        assert cb.delay_ms == pytest.approx(ca.delay_ms, abs=1000.0 / SR), where
        if ta.source.channels == 2:  # width acts on stereo sources only (mixwise too)
            assert cb.width == pytest.approx(ca.width, abs=1e-4), where
        assert cb.high_pass == ca.high_pass and cb.low_pass == ca.low_pass, where
        assert sorted(cb.eq, key=lambda e: e.freq_hz) == sorted(ca.eq, key=lambda e: e.freq_hz)
        assert cb.compressor == ca.compressor, where
        assert [(s.bus, s.pre_fader) for s in cb.sends] == [(s.bus, s.pre_fader) for s in ca.sends]
        for sa, sb in zip(ca.sends, cb.sends, strict=True):
            assert sb.level_db == pytest.approx(sa.level_db, abs=0.01), where
        assert len(tb.regions) == len(ta.regions), where
        for ra, rb in zip(ta.regions, tb.regions, strict=True):
            assert rb.start_s == pytest.approx(ra.start_s, abs=1 / SR)
            assert rb.end_s == pytest.approx(ra.end_s, abs=1 / SR)
            assert rb.fade_in_ms == pytest.approx(ra.fade_in_ms, abs=1000 / SR)
            assert rb.fade_out_ms == pytest.approx(ra.fade_out_ms, abs=1000 / SR)
    assert [(x.id, x.name, x.kind, x.colour) for x in b.buses] == [
        (x.id, x.name, x.kind, x.colour) for x in a.buses
    ]
    for xa, xb in zip(a.buses, b.buses, strict=True):
        assert xb.chain.fader_db == pytest.approx(xa.chain.fader_db, abs=0.01)
        assert xb.chain.pan == pytest.approx(xa.chain.pan, abs=0.01)
        assert type(xb.effect) is type(xa.effect)
    assert [(k.time_s, k.end_s, k.name, k.kind, k.text, k.author) for k in b.markers] == [
        (
            pytest.approx(k.time_s, abs=1 / SR),
            None if k.end_s is None else pytest.approx(k.end_s, abs=1 / SR),
            k.name,
            k.kind,
            k.text,
            k.author,
        )
        for k in a.markers
    ]
    assert b.master.gain_db == pytest.approx(a.master.gain_db, abs=0.01)


def test_round_trip(tmp_path):
    s = mixer_session(tmp_path)
    out = export_ardour(s, None, tmp_path / "ardour", name="mix", match_compressors=False)
    assert out == tmp_path / "ardour" / "mix.ardour"
    for d in ("interchange/mix/audiofiles", "interchange/mix/midifiles", "peaks", "analysis"):
        assert (tmp_path / "ardour" / d).is_dir(), d
    wavs = sorted(p.name for p in (tmp_path / "ardour/interchange/mix/audiofiles").iterdir())
    assert wavs == ["dup.wav", "kick.wav", "snare.wav", "vox.wav"]
    back = import_ardour(out)
    assert_same_mix(s, back)
    assert import_ardour(tmp_path / "ardour").tracks == back.tracks  # the folder works too
    for t in back.tracks:  # absolute paths to the session's own audio files
        assert Path(t.source.path).is_absolute() and Path(t.source.path).is_file()
        assert Path(t.source.path).parent == tmp_path / "ardour/interchange/mix/audiofiles"


def test_session_file_structure(tmp_path):
    s = mixer_session(tmp_path)
    out = export_ardour(s, None, tmp_path / "a", match_compressors=False)
    root = etree.parse(str(out)).getroot()
    assert root.get("version") == "7002" and root.get("sample-rate") == str(SR)
    assert root.find("Config/Option[@name='native-file-data-format']").get("value") == (
        "FormatFloat"
    )
    assert root.find("TempoMap") is not None and root.find("RouteGroups") is not None
    session_range = root.find("Locations/Location[@flags='IsSessionRange']")
    assert session_range.get("end") == f"a{samples_to_superclock(2 * SR, SR)}"
    routes = root.findall("Routes/Route")
    names = [r.get("name") for r in routes]
    assert len(set(names)) == len(names), names  # unique, "Master" kept for the master bus
    assert names[0] == "Master" and "Kick ü 鼓- main" in names and "Snare 2" in names
    snare = next(r for r in routes if r.get("name") == "Snare")
    regions = root.findall(f"Playlists/Playlist[@id='{snare.get('audio-playlist')}']/Region")
    assert [(r.get("fade-in-active"), r.get("fade-out-active")) for r in regions] == [
        ("1", "1"),
        ("0", "0"),
    ]  # mixwise's fades only; Ardour's 64-sample defaults off
    uris = [p.get("unique-id") for p in snare.findall("Processor")]
    assert "urn:ardour:a-eq" in uris and "urn:ardour:a-comp#stereo" in uris
    amp = next(p for p in snare.findall("Processor") if p.get("type") == "amp")
    fader = float(amp.find("Controllable").get("value"))
    assert 20 * math.log10(fader) == pytest.approx(2.5 - 2.0, abs=1e-6)  # makeup -2 dB here
    group = root.find("RouteGroups/RouteGroup")
    assert group.get("name") == "Drums" and len(group.get("routes").split()) == 2
    comment = root.find("Locations/Location[@name='vox: louder: here, please!']")
    assert comment is not None and comment.get("flags") == "IsMark"
    notes = (tmp_path / "a" / "mixwise-notes.txt").read_text(encoding="utf-8")
    assert "trim +30.00 dB is beyond Ardour's trim range" in notes
    assert "ACE Reverb" in notes


@pytest.mark.skipif(
    ARDOUR_LUA is None, reason="ardour7-lua (Ardour's Lua session tool) is not on PATH"
)
def test_round_trip_after_ardour_saves_the_session(tmp_path):
    """Ardour loads the exported session and saves it again (its own XML writer); the import
    still gives back the same mix."""
    s = mixer_session(tmp_path)
    out = export_ardour(s, None, tmp_path / "ardour", name="mix", match_compressors=False)
    before = out.read_bytes()
    script = tmp_path / "resave.lua"
    script.write_text(
        f'local s = load_session("{out.parent}", "mix")\n'
        's:save_state("", false, false, false, false, false)\n'
    )
    p = subprocess.run([ARDOUR_LUA, str(script)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-500:] + p.stderr[-500:]
    assert out.read_bytes() != before  # rewritten by Ardour
    assert_same_mix(s, import_ardour(out))


def test_missing_audio_file_raises_and_leaves_nothing(tmp_path):
    s = mixer_session(tmp_path)
    s.tracks[2].source.path = str(tmp_path / "src" / "gone.wav")
    dest = tmp_path / "out" / "ardour"
    with pytest.raises(ExportError, match=r"gone\.wav"):
        export_ardour(s, None, dest)
    assert not dest.exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_import_errors_name_the_file(tmp_path):
    with pytest.raises(ExportError, match="no such Ardour session"):
        import_ardour(tmp_path / "nothing")
    bad = tmp_path / "bad.ardour"
    bad.write_text("<Session", encoding="utf-8")
    with pytest.raises(ExportError, match=r"bad\.ardour: not a readable Ardour session"):
        import_ardour(bad)
    other = tmp_path / "other.ardour"
    other.write_text("<Project/>", encoding="utf-8")
    with pytest.raises(ExportError, match="not an Ardour session"):
        import_ardour(other)


def test_64_tracks_export_quickly(tmp_path):
    rng = np.random.default_rng(64)
    tracks = []
    for i in range(64):
        tracks.append(
            track(
                tmp_path,
                f"t{i:02d}",
                noise(seconds=0.5, channels=1 + i % 2, seed=i),
                name=f"Track {i} – ä",
                colour=f"#{rng.integers(0, 2**24):06X}",
                chain=m.Chain(fader_db=float(rng.uniform(-30, 6)), pan=float(rng.uniform(-1, 1))),
            )
        )
    s = m.Session(sample_rate=SR, tracks=tracks, master=NO_MASTER)
    t0 = time.perf_counter()
    out = export_ardour(s, None, tmp_path / "big")
    seconds = time.perf_counter() - t0
    print(f"\n64-track export: {seconds:.2f} s")
    assert seconds < 30.0
    root = etree.parse(str(out)).getroot()
    kinds = [r.find("PresentationInfo").get("flags") for r in root.findall("Routes/Route")]
    assert sum("AudioTrack" in k for k in kinds) == 64
    assert len(list((tmp_path / "big/interchange/big/audiofiles").iterdir())) == 64
    back = import_ardour(out)
    assert_same_mix(s, back)


# --------------------------------------------------------------------------------------------
# Ardour's own render


@needs_ardour
def test_ardour_renders_the_mappings_exactly(tmp_path):
    """Everything mapped exactly (gains, pan laws, polarity, delay, region trims and fades,
    filters of every slope, every EQ band type incl. two ACE EQs, width, group and aux
    routing with pre/post sends, fader automation) renders in Ardour like in mixwise."""
    peaks = [
        m.EQBand(type="peak", freq_hz=f, gain_db=g, q=q)
        for f, g, q in [
            (90, 3, 0.8),
            (400, -5, 2.5),
            (1200, 2, 1.0),
            (3000, -3, 4.0),
            (9000, 4, 0.7),
        ]
    ]
    tracks = [
        track(
            tmp_path,
            "a",
            noise(seconds=3, channels=1, seed=1, rms=0.1),
            name="Mono A",
            chain=m.Chain(
                trim_db=-3,
                fader_db=-2,
                pan=0.3,
                polarity_inverted=True,
                delay_ms=10.0,  # 441 samples: Ardour places whole samples
                high_pass=m.Filter(enabled=True, freq_hz=120, slope_db_oct=24),
                low_pass=m.Filter(enabled=True, freq_hz=9000, slope_db_oct=18),
                eq=[
                    *peaks,
                    m.EQBand(type="low_shelf", freq_hz=120, gain_db=-5),
                    m.EQBand(type="high_shelf", freq_hz=6000, gain_db=3),
                ],
                automation=[m.GainRamp(start_s=1.0, end_s=2.0, gain_db=-6, ramp_ms=80)],
                sends=[m.Send(bus="fx", level_db=-6, pre_fader=True)],
            ),
        ),
        track(
            tmp_path,
            "b",
            noise(seconds=3, seed=2, rms=0.1),
            name="Stereo B",
            bus="grp",
            regions=[m.Region(start_s=0.5, end_s=2.0, fade_in_ms=10, fade_out_ms=25)],
            chain=m.Chain(
                pan=-0.4,
                fader_db=-4,
                width=1.4,
                high_pass=m.Filter(enabled=True, freq_hz=60, slope_db_oct=6),
                low_pass=m.Filter(enabled=True, freq_hz=5000, slope_db_oct=48),
                eq=[
                    m.EQBand(type="low_shelf", freq_hz=200, gain_db=4, q=0.5),
                    m.EQBand(type="notch", freq_hz=1000, q=4),
                    m.EQBand(type="band_pass", freq_hz=2500, q=0.3),
                    m.EQBand(type="high_shelf", freq_hz=8000, gain_db=-4, q=1.0),
                    m.EQBand(type="peak", freq_hz=400, gain_db=25, q=1),
                ],
                sends=[m.Send(bus="fx", level_db=-9)],
            ),
        ),
        track(
            tmp_path,
            "c",
            noise(seconds=3, channels=1, seed=3, rms=0.05),
            name="Mono C",
            bus="grp",
            chain=m.Chain(pan=-1.0, eq=[m.EQBand(type="low_pass", freq_hz=3000, q=2.0)]),
        ),
    ]
    buses = [
        m.Bus(
            id="grp",
            name="Group",
            kind="group",
            chain=m.BusChain(fader_db=-3, pan=0.3, eq=[m.EQBand(freq_hz=1000, gain_db=3)]),
        ),
        m.Bus(
            id="fx",
            name="FX",
            kind="aux",
            chain=m.BusChain(fader_db=-2, high_pass=m.Filter(enabled=True, freq_hz=300)),
        ),
    ]
    s = m.Session(sample_rate=44_100, length_s=3.0, tracks=tracks, buses=buses, master=NO_MASTER)
    out = export_ardour(s, None, tmp_path / "exact")
    x = mixwise_mix(s, sources_of(s), tmp_path / "mw")
    y, lag = align(x, ardour_render(out, tmp_path / "ardour.wav"))
    diff = difference_db(x, y)
    print(f"\nexact mappings: Ardour latency {lag} samples, difference {diff:.1f} dB")
    assert diff < -60.0, f"difference {diff:.1f} dB (latency {lag} samples)"


@needs_ardour
def test_ardour_accepts_unicode_and_odd_names(tmp_path):
    names = ["Voz – ñandú 🎤", "鼓: kick/snare", "Master", "Master", "  spaced   out "]
    tracks = [
        track(
            tmp_path,
            f"t{i}",
            noise(seconds=1, channels=1 + i % 2, seed=i),
            name=n,
            chain=m.Chain(pan=0.2 * i - 0.4, fader_db=-3.0 * i),
        )
        for i, n in enumerate(names)
    ]
    s = m.Session(
        sample_rate=SR,
        length_s=1.0,
        tracks=tracks,
        master=NO_MASTER,
        markers=[m.Marker(time_s=0.5, name="Ünïcödé ✓")],
    )
    out = export_ardour(s, None, tmp_path / "ünï cödé", name="sëssion ✓")
    assert out.name == "sëssion ✓.ardour"
    back = import_ardour(out)
    assert [t.name for t in back.tracks] == names
    assert back.markers[0].name == "Ünïcödé ✓"
    x = mixwise_mix(s, sources_of(s), tmp_path / "mw")
    y, lag = align(x, ardour_render(out, tmp_path / "ardour.wav"))
    diff = difference_db(x, y)
    print(f"\nunicode names: Ardour latency {lag} samples, difference {diff:.1f} dB")
    assert diff < -60.0


# --------------------------------------------------------------------------------------------
# real stems, automatic mix


EXCERPT_S = (20.0, 29.0)


def _generated_stems(folder: Path) -> None:
    """Four synthetic stems (used when ../shared/data is absent)."""
    sr = 44_100
    t = np.arange(int(9 * sr)) / sr
    rng = np.random.default_rng(7)
    beat = (t % 0.5) / 0.5
    kick = np.sin(2 * np.pi * 55 * t * (1 + 0.5 * np.exp(-beat * 20))) * np.exp(-beat * 8)
    snare = rng.standard_normal(t.size) * np.exp(-(((t + 0.25) % 0.5) / 0.5) * 14) * 0.5
    bass = sum(np.sin(2 * np.pi * 55 * k * t) / k for k in range(1, 8)) * 0.3
    lead = np.sin(2 * np.pi * 440 * t + 3 * np.sin(2 * np.pi * 5 * t)) * (0.2 + 0.2 * (t % 2 < 1))
    for name, x in (("kick", kick), ("snare", snare), ("bass", bass), ("lead", lead)):
        write_wav(folder / f"{name}.wav", np.tile(x, (2, 1)).astype(np.float32), sr)


@pytest.fixture(scope="module")
def automix_session(tmp_path_factory):
    """A session of real stems (9 s of lmms_reggaetontry, or generated stems) prepared and
    automatically mixed the way :func:`mixwise.api.mix_folder` does, plus hand-set EQ."""
    import soundfile as sf

    from mixwise.api import prepare_folder
    from mixwise.assist.automix import automix
    from mixwise.session.edit import apply_proposal

    folder = tmp_path_factory.mktemp("stems")
    src = DATA_DIR / "lmms_reggaetontry" / "stems"
    if src.is_dir():
        for f in sorted(src.iterdir()):
            info = sf.info(str(f))
            a, b = (round(s * info.samplerate) for s in EXCERPT_S)
            x, sr = sf.read(str(f), start=a, stop=b, dtype="float32", always_2d=True)
            sf.write(str(folder / f"{f.stem}.wav"), x, sr, subtype="FLOAT")
    else:
        _generated_stems(folder)
    prep = prepare_folder(folder)
    s = prep.session
    for p in list(s.proposals):
        if p.status == "pending":
            apply_proposal(s, p.number)
    automix(
        s,
        {tid: a.bands for tid, a in prep.analyses.items()},
        prep.meters,
        {tid: a.features for tid, a in prep.analyses.items()},
        {tid: a.features.get("active_share", 1.0) for tid, a in prep.analyses.items()},
    )
    s.master = NO_MASTER
    # hand-set EQ on top (the automatic mix of this excerpt sets few bands): peaks and shelves
    # on ACE EQ (five peaks need a second instance), a narrow cut, a gentle shelf (Lua)
    eqs = [
        [
            m.EQBand(type="peak", freq_hz=2500.0, gain_db=3.0, q=1.2),
            m.EQBand(type="high_shelf", freq_hz=8000.0, gain_db=-2.0),
        ],
        [
            m.EQBand(type="low_shelf", freq_hz=80.0, gain_db=2.0),
            m.EQBand(type="peak", freq_hz=250.0, gain_db=-3.0, q=2.0),
        ],
        [
            m.EQBand(type="peak", freq_hz=f, gain_db=g, q=q)
            for f, g, q in [(100, 2, 1), (400, -2, 3), (900, 1.5, 1), (3000, 2, 2), (6000, -3, 1.5)]
        ]
        + [
            m.EQBand(type="notch", freq_hz=1800.0, q=10.0),
            m.EQBand(type="high_shelf", freq_hz=3000.0, gain_db=-2.0, q=0.5),
        ],
    ]
    for t, bands in zip(reversed(s.tracks), eqs, strict=False):
        t.chain.eq = [*t.chain.eq, *bands]
    if not any(t.chain.compressor.enabled for t in s.tracks):
        s.tracks[-1].chain.compressor = m.Compressor(
            enabled=True, threshold_db=-24.0, ratio=3.0, detector="rms"
        )
    return s


def _with(session: m.Session, *, processing: bool) -> m.Session:
    s = session.model_copy(deep=True)
    for t in s.tracks:
        t.chain.sends = []  # the reverb and delay cannot match
        if not processing:
            t.chain.eq = []
            t.chain.compressor.enabled = False
    for b in s.buses:
        if not processing:
            b.chain.eq = []
            b.chain.compressor.enabled = False
    return s


@needs_ardour
@pytest.mark.realdata
def test_real_stems_without_eq_and_compression_null_against_mixwise(automix_session, tmp_path):
    """EQ, compressors and sends off (gains, pans, trims, filters, regions on): Ardour's render
    and mixwise's mix differ by less than -60 dB."""
    s = _with(automix_session, processing=False)
    out = export_ardour(s, None, tmp_path / "ardour")
    x = mixwise_mix(s, sources_of(s), tmp_path / "mw")
    y, lag = align(x, ardour_render(out, tmp_path / "ardour.wav"))
    diff = difference_db(x, y)
    print(
        f"\nreal stems, no EQ/compression: {len(s.tracks)} tracks, Ardour latency {lag} "
        f"samples, difference {diff:.1f} dB relative to the mix"
    )
    assert diff < -60.0, f"difference {diff:.1f} dB (latency {lag} samples)"


@needs_ardour
@pytest.mark.realdata
def test_real_stems_with_eq_and_compression_match_in_bands(automix_session, tmp_path):
    """EQ and compressors on (sends off): third-octave band levels within 0.5 dB and the
    overall level within 0.2 dB of mixwise's mix."""
    s = _with(automix_session, processing=True)
    n_comp = sum(t.chain.compressor.enabled for t in s.tracks) + sum(
        b.chain.compressor.enabled for b in s.buses
    )
    assert n_comp >= 1 and any(t.chain.eq for t in s.tracks)
    out = export_ardour(s, None, tmp_path / "ardour")
    x = mixwise_mix(s, sources_of(s), tmp_path / "mw")
    y, lag = align(x, ardour_render(out, tmp_path / "ardour.wav"))
    sr = s.sample_rate
    bx, by = band_levels_db(x, sr), band_levels_db(y, sr)
    loud = bx > bx.max() - 60.0  # bands that hold music
    err = np.where(loud, by - bx, 0.0)
    overall = 10 * math.log10(float(np.sum(y**2)) / float(np.sum(x**2)))
    table = " ".join(
        f"{c:.0f}:{e:+.2f}" for c, e, ok in zip(THIRD_OCTAVES_HZ, err, loud, strict=True) if ok
    )
    notes = (out.parent / "mixwise-notes.txt").read_text(encoding="utf-8")
    print(
        f"\nreal stems, EQ and {n_comp} compressors: latency {lag} samples, overall "
        f"{overall:+.3f} dB, worst band {np.max(np.abs(err)):.2f} dB, difference "
        f"{difference_db(x, y):.1f} dB\n  bands (Hz:dB) {table}\n{notes}"
    )
    assert np.max(np.abs(err)) < 0.5, f"band errors (Hz:dB) {table}"
    assert abs(overall) < 0.2, f"overall level {overall:+.3f} dB"
