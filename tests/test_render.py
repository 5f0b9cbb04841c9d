"""The render engine: known answers, bypass, sums, determinism."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mixwise.dsp.effects import reverb_impulse_response
from mixwise.render.engine import RenderOptions, render
from mixwise.session.model import (
    Bus,
    Chain,
    Compressor,
    Delay,
    EQBand,
    Filter,
    Master,
    Region,
    Reverb,
    Send,
    Session,
    SourceFile,
    Track,
)
from signals import noise, read_wav, rms_db, sine

SR = 48_000


def track(tid: str, channels: int = 2, **chain) -> Track:
    return Track(
        id=tid,
        name=tid,
        source=SourceFile(path=f"/in/{tid}.wav", channels=channels),
        chain=Chain(**chain),
    )


def session(*tracks: Track, buses=(), master: Master | None = None, sr: int = SR) -> Session:
    return Session(
        sample_rate=sr,
        tracks=list(tracks),
        buses=list(buses),
        master=master or Master(target_lufs=None),
    )


def run(s: Session, sources, tmp_path: Path, **opts):
    return render(s, sources, tmp_path, options=RenderOptions(**opts))


def test_fader_minus_6_db_measures_minus_6(tmp_path):
    x = noise(seconds=2.0, sample_rate=SR, rms=0.1)
    r = run(session(track("a", fader_db=-6.0)), {"a": x}, tmp_path)
    y, _ = read_wav(r.stem_paths["a"])
    assert rms_db(y) - rms_db(x) == pytest.approx(-6.00, abs=0.01)


@pytest.mark.parametrize("sr", [44_100, 96_000])
@pytest.mark.parametrize("block", [1000, 65_536])
def test_neutral_chain_is_bit_exact_bypass(tmp_path, sr, block):
    x = noise(seconds=1.5, sample_rate=sr, rms=0.2)
    r = run(session(track("a"), sr=sr), {"a": x}, tmp_path, block_size=block)
    mix, rate = read_wav(r.mix_path)
    assert rate == sr
    np.testing.assert_array_equal(mix.astype(np.float32), x)
    master, _ = read_wav(r.master_path)
    assert master.shape == x.shape


def test_mono_track_at_centre_is_minus_3_db_per_side(tmp_path):
    x = noise(seconds=1.0, sample_rate=SR, rms=0.1, channels=1)
    r = run(session(track("m", channels=1)), {"m": x}, tmp_path)
    y, _ = read_wav(r.stem_paths["m"])
    assert y.shape[0] == 2
    for ch in y:
        assert rms_db(ch[None]) - rms_db(x) == pytest.approx(-3.01, abs=0.01)


def test_polarity_and_trim(tmp_path):
    x = noise(seconds=1.0, sample_rate=SR, rms=0.1)
    r = run(session(track("a", polarity_inverted=True, trim_db=-12.0)), {"a": x}, tmp_path)
    y, _ = read_wav(r.stem_paths["a"])
    np.testing.assert_allclose(y, -x * 10 ** (-12 / 20), atol=1e-7)


def test_integer_and_fractional_delay(tmp_path):
    x = noise(seconds=1.0, sample_rate=SR, rms=0.1, channels=1)
    r = run(session(track("a", channels=1, delay_ms=10.0)), {"a": x}, tmp_path / "int")
    y, _ = read_wav(r.stem_paths["a"])
    d = 480
    np.testing.assert_allclose(y[0, d:] / math.cos(math.pi / 4), x[0, :-d], atol=1e-6)
    assert np.all(y[0, :d] == 0)
    # a fractional delay of a band-limited signal against an FFT phase shift
    band = sine(1234.5, seconds=1.0, sample_rate=SR, amplitude=0.5, fade_ms=50) + sine(
        7000.0, seconds=1.0, sample_rate=SR, amplitude=0.2, fade_ms=50
    )
    delay_ms = 0.37  # 17.76 samples
    r = run(session(track("b", channels=1, delay_ms=delay_ms)), {"b": band}, tmp_path / "frac")
    y, _ = read_wav(r.stem_paths["b"])
    n = band.shape[1]
    f = np.fft.rfftfreq(n, 1 / SR)
    ref = np.fft.irfft(np.fft.rfft(band[0]) * np.exp(-2j * np.pi * f * delay_ms / 1000), n)
    err = y[0] / math.cos(math.pi / 4) - ref
    assert rms_db(err[None]) - rms_db(ref[None]) < -60


def test_regions_silence_outside_and_fade(tmp_path):
    x = np.full((1, SR * 2), 0.5, dtype=np.float32)
    reg = Region(start_s=0.5, end_s=1.5, fade_in_ms=10.0, fade_out_ms=10.0)
    t = track("a", channels=1, pan=-1.0)
    t.regions = [reg]
    r = run(session(t), {"a": x}, tmp_path)
    y, _ = read_wav(r.stem_paths["a"])
    left = y[0]
    assert np.all(left[: SR // 2] == 0) and np.all(left[int(1.5 * SR) :] == 0)
    fade = int(0.01 * SR)
    assert np.all(np.diff(left[SR // 2 : SR // 2 + fade]) > 0)  # rising fade-in
    np.testing.assert_allclose(left[SR // 2 + fade : int(1.5 * SR) - fade], 0.5, atol=1e-7)


def test_mute_and_solo(tmp_path):
    x = noise(seconds=1.0, sample_rate=SR, rms=0.1)
    z = noise(seconds=1.0, sample_rate=SR, rms=0.1, seed=9)
    r = run(session(track("a", mute=True), track("b")), {"a": x, "b": z}, tmp_path / "mute")
    mix, _ = read_wav(r.mix_path)
    np.testing.assert_array_equal(mix.astype(np.float32), z)
    r = run(session(track("a", solo=True), track("b")), {"a": x, "b": z}, tmp_path / "solo")
    mix, _ = read_wav(r.mix_path)
    np.testing.assert_array_equal(mix.astype(np.float32), x)


def _full_session() -> tuple[Session, dict[str, np.ndarray]]:
    eq = [
        EQBand(type="low_shelf", freq_hz=100, gain_db=3),
        EQBand(freq_hz=500, gain_db=-4, q=2),
        EQBand(freq_hz=2000, gain_db=2, q=1),
        EQBand(freq_hz=4000, gain_db=-2, q=4),
        EQBand(type="high_shelf", freq_hz=9000, gain_db=2),
        EQBand(type="notch", freq_hz=60, q=10),
    ]
    comp = Compressor(enabled=True, threshold_db=-24, ratio=3, attack_ms=5, release_ms=80)
    tracks = [
        track(
            "kick",
            channels=1,
            high_pass=Filter(enabled=True, freq_hz=30),
            eq=eq,
            compressor=comp,
            fader_db=-2.0,
            sends=[Send(bus="verb", level_db=-20.0)],
        ),
        track(
            "snare",
            eq=eq,
            compressor=comp,
            pan=0.2,
            sends=[
                Send(bus="verb", level_db=-12.0),
                Send(bus="echo", level_db=-15.0, pre_fader=True),
            ],
        ),
        track("keys", pan=-0.4, width=1.5, eq=eq, sends=[Send(bus="verb", level_db=-14.0)]),
    ]
    for t in tracks[:2]:
        t.bus = "drums"
    buses = [
        Bus(id="drums", name="Drums", kind="group"),
        Bus(id="verb", name="Reverb", kind="aux", effect=Reverb(decay_s=1.2)),
        Bus(id="echo", name="Delay", kind="aux", effect=Delay()),
    ]
    buses[0].chain.compressor = Compressor(enabled=True, threshold_db=-20, ratio=2, attack_ms=10)
    buses[0].chain.eq = [EQBand(freq_hz=300, gain_db=-2)]
    buses[1].chain.high_pass = Filter(enabled=True, freq_hz=200)
    s = session(*tracks, buses=buses, master=Master(target_lufs=-16.0))
    s.master.compressor = Compressor(enabled=True, threshold_db=-12, ratio=1.5)
    s.master.eq = [EQBand(type="high_shelf", freq_hz=10_000, gain_db=1.0)]
    sources = {
        "kick": noise(seconds=2.0, sample_rate=SR, rms=0.2, channels=1, seed=1),
        "snare": noise(seconds=2.0, sample_rate=SR, rms=0.1, seed=2),
        "keys": noise(seconds=1.5, sample_rate=SR, rms=0.05, seed=3),
    }
    sources["keys"] = np.pad(sources["keys"], ((0, 0), (0, SR // 2)))
    return s, sources


def test_stems_and_returns_sum_to_the_mix(tmp_path):
    s, sources = _full_session()
    r = run(s, sources, tmp_path, block_size=8192)
    names = sorted(p.name for p in (tmp_path / "stems").iterdir())
    assert names == ["_return_echo.wav", "_return_verb.wav", "keys.wav", "kick.wav", "snare.wav"]
    mix, _ = read_wav(r.mix_path)
    total = sum(read_wav(p)[0] for p in (tmp_path / "stems").iterdir())
    assert rms_db(total - mix) - rms_db(mix) < -120  # float32 rounding only
    # the reverb return is really there and below the dry signal
    verb, _ = read_wav(tmp_path / "stems" / "_return_verb.wav")
    assert -40 < rms_db(verb) - rms_db(mix) < -5


def test_stems_are_published_without_forcing_them_to_disk(tmp_path, monkeypatch):
    """Closing a written file must not call ``flush`` (libsndfile's fsync, which costs seconds
    for a full session's stems); the files are still complete and sum to the mix."""
    import soundfile

    real_flush = soundfile.SoundFile.flush

    def no_sync(self):
        if "w" in self.mode:
            raise AssertionError("flush (fsync) called while publishing a render")
        real_flush(self)

    monkeypatch.setattr(soundfile.SoundFile, "flush", no_sync)
    s, sources = _full_session()
    r = run(s, sources, tmp_path, block_size=8192)
    mix, _ = read_wav(r.mix_path)
    total = sum(read_wav(p)[0] for p in (tmp_path / "stems").iterdir())
    assert rms_db(total - mix) - rms_db(mix) < -120


def test_a_failing_stem_write_leaves_no_partial_files(tmp_path, monkeypatch):
    from mixwise.io import audio

    real_write = audio.AtomicAudioWriter.write
    calls = {"n": 0}

    def flaky(self, block):
        if self.path.parent.name == "stems":
            calls["n"] += 1
            if calls["n"] == 7:  # a stem block after the first block of every stem
                raise OSError(28, "No space left on device")
        real_write(self, block)

    monkeypatch.setattr(audio.AtomicAudioWriter, "write", flaky)
    s, sources = _full_session()
    with pytest.raises(OSError, match="No space left"):
        run(s, sources, tmp_path / "out", block_size=8192)
    left = [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert left == []


def test_render_is_deterministic_and_block_size_independent(tmp_path):
    s, sources = _full_session()
    a = run(s, sources, tmp_path / "a")
    b = run(s, sources, tmp_path / "b")
    assert (tmp_path / "a" / "master.wav").read_bytes() == (
        tmp_path / "b" / "master.wav"
    ).read_bytes()
    assert (tmp_path / "a" / "mix.wav").read_bytes() == (tmp_path / "b" / "mix.wav").read_bytes()
    c = run(s, sources, tmp_path / "c", block_size=4096)
    # the reverb partitions differ with the block size, so the sum is the same to rounding
    ma, _ = read_wav(a.mix_path)
    mc, _ = read_wav(c.mix_path)
    assert np.max(np.abs(ma - mc)) <= 1e-6 * np.max(np.abs(ma))
    assert b.master_lufs == pytest.approx(-16.0, abs=0.1)


def test_master_meets_loudness_target_and_ceiling(tmp_path):
    pyebur128 = pytest.importorskip("pyebur128")
    x = noise(seconds=4.0, sample_rate=SR, rms=0.02)
    x[:, :: SR // 8] = 0.9  # drum-like spikes the limiter has to catch
    s = session(track("a"), master=Master(target_lufs=-10.0))
    r = run(s, {"a": x}, tmp_path)
    y, _ = read_wav(r.master_path)
    st = pyebur128.R128State(
        2, SR, pyebur128.MeasurementMode.MODE_I | pyebur128.MeasurementMode.MODE_TRUE_PEAK
    )
    st.add_frames(np.ascontiguousarray(y.T).ravel(), y.shape[1])
    assert pyebur128.get_loudness_global(st) == pytest.approx(-10.0, abs=0.15)
    tp = max(pyebur128.get_true_peak(st, c) for c in range(2))
    assert 20 * np.log10(tp) <= -1.0
    assert r.limiter_max_reduction_db > 1.0
    assert r.warnings == []


def test_unreachable_loudness_target_is_reported(tmp_path):
    x = noise(seconds=4.0, sample_rate=SR, rms=0.02)
    r = run(session(track("a"), master=Master(target_lufs=-4.0)), {"a": x}, tmp_path)
    assert r.master_true_peak_dbtp <= -1.0
    assert any("not reached" in w for w in r.warnings)


def test_delay_bus_repeats_after_its_time(tmp_path):
    x = np.zeros((1, SR), dtype=np.float32)
    x[0, 100] = 1.0
    t = track(
        "click", channels=1, fader_db=-math.inf, sends=[Send(bus="d", level_db=0.0, pre_fader=True)]
    )
    s = session(
        t,
        buses=[
            Bus(
                id="d",
                name="Delay",
                kind="aux",
                effect=Delay(time_left_ms=250, time_right_ms=250, feedback=0.5, damping_hz=20_000),
            )
        ],
    )
    r = run(s, {"click": x}, tmp_path)
    y, _ = read_wav(r.stem_paths["_return_d"])
    first = np.argmax(np.abs(y[0]))
    assert first == 100 + SR // 4 or abs(first - (100 + SR // 4)) <= 1
    second = y[0, 100 + SR // 2 - 3 : 100 + SR // 2 + 4]
    assert np.abs(second).max() == pytest.approx(0.5 * np.abs(y[0]).max(), rel=0.15)


def _rt60(ir: np.ndarray, sr: int) -> float:
    """RT60 (s) from the Schroeder backward integral, fitted from -5 to -25 dB (T20 x 3)."""
    energy = np.cumsum((ir**2)[::-1])[::-1]
    edc = 10 * np.log10(energy / energy[0])
    i5, i25 = np.argmax(edc < -5), np.argmax(edc < -25)
    return 3 * (i25 - i5) / sr


@pytest.mark.parametrize("decay_s", [0.8, 2.0])
def test_generated_reverb_decays_at_its_rt60_and_is_deterministic(decay_s):
    ir = reverb_impulse_response(sample_rate=SR, decay_s=decay_s, predelay_ms=10, damping=0.0)
    assert _rt60(ir[0, 0], SR) == pytest.approx(decay_s, rel=0.15)
    assert np.all(ir[:, :, : int(0.01 * SR)] == 0)  # pre-delay
    # unit energy per input channel
    assert float(np.sum(ir[:, 0] ** 2)) == pytest.approx(1.0, rel=1e-9)
    again = reverb_impulse_response(sample_rate=SR, decay_s=decay_s, predelay_ms=10, damping=0.0)
    np.testing.assert_array_equal(ir, again)
