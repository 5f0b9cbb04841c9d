"""Automix speed: ``mixwise mix`` on 16 stereo stems x 4 minutes at 44.1 kHz, against Matchering.

Each stage is timed as a whole, fresh process (start-up, imports, reading and writing files
included), with a monotonic clock, and its peak resident memory is taken from
``/usr/bin/time -v`` (or, without it, from the process's own rusage via ``os.wait4``):

  * mixwise mix : ``mixwise mix STEMS -o OUT`` -- load, analysis, decisions, render, master
                  and report (OUT/mix.wav, OUT/master.wav, OUT/stems/, session.json,
                  report.json), whatever the automatic mix does today;
  * matchering  : Matchering 2 mastering the finished stereo mix alone (OUT/mix.wav in,
                  a 24-bit WAV out). Matchering is GPL: it runs from its own virtual
                  environment (``--matchering-python``) as a peer for comparison and is never
                  a dependency of mixwise. Set it up with
                  ``python3 -m venv /work/peers/matchering-venv &&
                  /work/peers/matchering-venv/bin/pip install matchering``.

Matchering needs a reference track. It gets mixwise's own OUT/master.wav: the same song at
the same length and sample rate, mastered to -14 LUFS. Matchering analyses the target and the
reference in full, so a reference as long as the target is the fair, like-for-like choice
(no resampling, no shorter or longer reference making it look faster or slower).

The stems are a synthetic 120 BPM song (intro, verses, choruses, a solo, outro; Am-F-C-G):
kick, snare, hi-hat, toms, bass, pad, keys, guitar, strings, organ, a lead vocal with
vibrato and pitch scoops, backing vocals, a synth lead, and three noise stems from
``render_speed.synth_stem`` (room, shaker, riser). Parts play only in their sections, so
several stems are silent for long stretches. They are written once as 24-bit WAV (the usual
delivery format) into the work folder and reused while the generator and length match.

Acceptance (2-core machine): the full automix < 30 s, and no slower than Matchering mastering
the finished mix alone. Benchmarks never gate CI; this prints PASS/FAIL and exits 0.
Run:  .venv/bin/python benchmarks/automix_speed.py [--repeat 3] [--seconds 240]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from render_speed import SR, synth_stem

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORK = ROOT / "out" / "bench" / "automix_speed"
DEFAULT_MATCHERING_PYTHON = Path("/work/peers/matchering-venv/bin/python")
TIME_V = Path("/usr/bin/time")
#: Bump when the stems change, so cached stems are regenerated.
GENERATOR_VERSION = 1
STEM_SUBTYPE = "PCM_24"
AUTOMIX_LIMIT_S = 30.0

MATCHERING_SNIPPET = (
    "import sys, matchering as mg; "
    "mg.process(target=sys.argv[1], reference=sys.argv[2], results=[mg.pcm24(sys.argv[3])])"
)

# --------------------------------------------------------------------------------------------
# the song: form, chords and notes

BEAT_S = 0.5  # 120 BPM
BAR_S = 4 * BEAT_S
#: (section, bars) for a 120-bar, 240 s song; shorter or longer songs scale it.
FORM = (
    ("intro", 8),
    ("verse", 24),
    ("chorus", 16),
    ("verse", 24),
    ("chorus", 16),
    ("solo", 16),
    ("chorus", 12),
    ("outro", 4),
)
#: Am - F - C - G: (root as a MIDI note in octave 2, chord intervals in semitones).
PROGRESSION = ((45, (0, 3, 7)), (41, (0, 4, 7)), (48, (0, 4, 7)), (43, (0, 4, 7)))
DRUM_SECTIONS = ("verse", "chorus", "solo")


@dataclass(frozen=True)
class Note:
    """One event of a part: start and duration in seconds, pitch in Hz, linear gain."""

    start_s: float
    dur_s: float
    freq_hz: float
    gain: float = 1.0


@dataclass(frozen=True)
class Song:
    """The arrangement: its length in samples and the section each 2 s bar belongs to."""

    n_samples: int
    sections: tuple[str, ...]

    def bars(self, *names: str) -> Iterator[tuple[int, float]]:
        """(bar index, bar start in s) for every bar in one of the sections ``names``."""
        for b, section in enumerate(self.sections):
            if section in names:
                yield b, b * BAR_S

    def chord(self, bar: int, *, octave: int = 0) -> list[float]:
        """The bar's chord tones in Hz, ``octave`` octaves above octave 2."""
        root, intervals = PROGRESSION[bar % len(PROGRESSION)]
        return [midi_to_hz(root + 12 * octave + i) for i in intervals]

    def last_bars(self, name: str) -> list[int]:
        """The last bar of every run of section ``name`` (where fills and risers go)."""
        s = self.sections
        return [b for b in range(len(s)) if s[b] == name and (b + 1 == len(s) or s[b + 1] != name)]


def midi_to_hz(note: float) -> float:
    """Equal-tempered frequency in Hz of a MIDI note number (69 = A4 = 440 Hz)."""
    return 440.0 * 2.0 ** ((note - 69) / 12)


def make_song(seconds: float) -> Song:
    """The song form stretched or squeezed to ``seconds`` (whole 2 s bars, at least one)."""
    n_bars = max(1, round(seconds / BAR_S))
    form_bars = sum(bars for _, bars in FORM)
    edges = np.cumsum([bars for _, bars in FORM]) * n_bars / form_bars
    sections = tuple(FORM[int(np.searchsorted(edges, b, side="right"))][0] for b in range(n_bars))
    return Song(n_samples=int(seconds * SR), sections=sections)


# --------------------------------------------------------------------------------------------
# sound sources: wavetable oscillators, envelopes and drum voices

Voice = Callable[[int, float, np.random.Generator], np.ndarray]
"""A voice: (length in samples, pitch in Hz, random generator) -> mono float32 of that length."""


def wavetable(harmonics: Sequence[float], size: int = 4096) -> np.ndarray:
    """One cycle of a waveform from harmonic amplitudes (first = fundamental), peak 1."""
    phase = np.arange(size) / size
    wave = sum(a * np.sin(2 * np.pi * (h + 1) * phase) for h, a in enumerate(harmonics))
    return (wave / np.max(np.abs(wave))).astype(np.float32)


def oscillator(table: np.ndarray, freq_hz: np.ndarray) -> np.ndarray:
    """Read ``table`` at the instantaneous frequency ``freq_hz`` (shape (k,), Hz) -> (k,)."""
    cycles = np.cumsum(freq_hz / SR)
    return table[((cycles % 1.0) * table.size).astype(np.int64)]


def envelope(k: int, *, attack_s: float, release_s: float, decay_s: float | None) -> np.ndarray:
    """Linear attack, exponential decay (time constant ``decay_s``; None = sustain), linear
    release over the last ``release_s``. Shape (k,), range [0, 1]."""
    t = np.arange(k) / SR
    env = np.minimum(t / max(attack_s, 1e-4), 1.0)
    if decay_s is not None:
        env *= np.exp(-t / decay_s)
    env *= np.clip((k / SR - t) / max(release_s, 1e-4), 0.0, 1.0)
    return env.astype(np.float32)


def tonal(
    harmonics: Sequence[float],
    *,
    attack_s: float,
    release_s: float,
    decay_s: float | None = None,
    detune_cents: float = 0.0,
    vibrato_cents: float = 0.0,
    vibrato_hz: float = 5.5,
    scoop_cents: float = 0.0,
) -> Voice:
    """A pitched voice: a wavetable with optional detune, a vibrato that fades in over 0.25 s
    and a pitch scoop from below at the onset (all in cents)."""
    table = wavetable(harmonics)

    def voice(k: int, freq_hz: float, rng: np.random.Generator) -> np.ndarray:
        t = np.arange(k) / SR
        cents = (
            detune_cents
            + vibrato_cents * np.minimum(t / 0.25, 1.0) * np.sin(2 * np.pi * vibrato_hz * t)
            - scoop_cents * np.exp(-t / 0.06)
        )
        freq = freq_hz * 2.0 ** (cents / 1200)
        env = envelope(k, attack_s=attack_s, release_s=release_s, decay_s=decay_s)
        return oscillator(table, freq) * env

    return voice


def drum_tone(*, sweep: float, decay_s: float) -> Voice:
    """A kick or tom: a sine whose pitch falls from (1 + sweep) x to 1 x its note within
    ~0.1 s, decaying with time constant ``decay_s``."""

    def voice(k: int, freq_hz: float, rng: np.random.Generator) -> np.ndarray:
        t = np.arange(k) / SR
        # cycles = integral of freq_hz * (1 + sweep * exp(-t / 0.03)) dt
        cycles = freq_hz * (t + sweep * 0.03 * (1.0 - np.exp(-t / 0.03)))
        return (np.sin(2 * np.pi * cycles) * np.exp(-t / decay_s)).astype(np.float32)

    return voice


def snare(k: int, freq_hz: float, rng: np.random.Generator) -> np.ndarray:
    """A snare hit: a noise burst (decay 90 ms) over a shell tone at ``freq_hz`` (50 ms)."""
    t = np.arange(k) / SR
    noise = 0.8 * rng.standard_normal(k) * np.exp(-t / 0.09)
    shell = np.sin(2 * np.pi * freq_hz * t) * np.exp(-t / 0.05)
    return (noise + shell).astype(np.float32)


def hat(k: int, freq_hz: float, rng: np.random.Generator) -> np.ndarray:
    """A hi-hat: white noise decaying over a quarter of its length (open hats are longer);
    the stem is high-passed afterwards."""
    t = np.arange(k) / SR
    return (rng.standard_normal(k) * np.exp(-t / (0.25 * k / SR))).astype(np.float32)


# --------------------------------------------------------------------------------------------
# rendering parts to stereo, filters and gates


def pan_gains(pan: float) -> np.ndarray:
    """Constant-power (-3 dB centre) left/right gains, shape (2, 1), for pan in [-1, 1]."""
    angle = (pan + 1.0) * np.pi / 4
    return np.array([[np.cos(angle)], [np.sin(angle)]], dtype=np.float32)


def render_part(
    notes: Sequence[Note], n: int, voice: Voice, *, pan: float = 0.0, seed: int = 0
) -> np.ndarray:
    """Sum ``notes`` played by ``voice`` into a stereo buffer, shape (2, n) float32."""
    out = np.zeros((2, n), dtype=np.float32)
    gains = pan_gains(pan)
    rng = np.random.default_rng(seed)
    for note in notes:
        i0 = int(note.start_s * SR)
        k = min(int(note.dur_s * SR), n - i0)
        if k > 0:
            out[:, i0 : i0 + k] += gains * (note.gain * voice(k, note.freq_hz, rng))
    return out


def wide_part(notes: Sequence[Note], n: int, make_voice: Callable[[float], Voice]) -> np.ndarray:
    """A double-tracked part: the notes twice, detuned -7 / +7 cents, panned -0.7 / +0.7."""
    left = render_part(notes, n, make_voice(-7.0), pan=-0.7, seed=1)
    return left + render_part(notes, n, make_voice(7.0), pan=0.7, seed=2)


def butter_filter(x: np.ndarray, freq_hz: float | tuple[float, float], kind: str) -> np.ndarray:
    """``x`` (shape (2, n)) through a 2nd-order Butterworth (``kind``: lowpass, highpass,
    bandpass), as float32."""
    from scipy.signal import butter, sosfilt

    sos = butter(2, freq_hz, btype=kind, fs=SR, output="sos")
    return sosfilt(sos, x, axis=-1).astype(np.float32)


def gate(x: np.ndarray, song: Song, sections: Sequence[str], *, fade_s: float = 0.02) -> np.ndarray:
    """``x`` (shape (2, n)) kept only in bars of ``sections``, silence elsewhere (fades of
    2 x ``fade_s``)."""
    on = np.array([s in sections for s in song.sections], dtype=np.float32)
    starts = np.arange(on.size) * BAR_S
    xp = np.ravel(np.column_stack([starts + fade_s, starts + BAR_S - fade_s]))
    env = np.interp(np.arange(x.shape[1]) / SR, xp, np.repeat(on, 2))
    return (x * env.astype(np.float32)).astype(np.float32)


def riser_envelope(song: Song, bars: Sequence[int], n: int) -> np.ndarray:
    """0 everywhere but a quadratic swell from 0 to 1 across each of ``bars``; shape (n,)."""
    env = np.zeros(n, dtype=np.float32)
    for b in bars:
        i0, i1 = int(b * BAR_S * SR), min(int((b + 1) * BAR_S * SR), n)
        env[i0:i1] = np.linspace(0.0, 1.0, i1 - i0, dtype=np.float32) ** 2
    return env


def peak_normalise(x: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """``x`` scaled so its sample peak is ``peak_dbfs`` (dBFS); silence stays silence."""
    peak = float(np.max(np.abs(x)))
    return x if peak == 0.0 else (x * (10.0 ** (peak_dbfs / 20) / peak)).astype(np.float32)


# --------------------------------------------------------------------------------------------
# the 16 stems: each takes the song and returns (2, n) float32


def kick(song: Song) -> np.ndarray:
    """Four on the floor in choruses and the solo, beats 1, 3 and 3+ in verses."""
    notes = [
        Note(start + beat * BEAT_S, 0.45, 50.0)
        for b, start in song.bars(*DRUM_SECTIONS)
        for beat in ((0, 2, 2.5) if song.sections[b] == "verse" else (0, 1, 2, 3))
    ]
    return render_part(notes, song.n_samples, drum_tone(sweep=2.5, decay_s=0.18))


def snare_stem(song: Song) -> np.ndarray:
    """Backbeat on 2 and 4, a ghost note before the bar line in choruses."""
    notes = [
        Note(start + beat * BEAT_S, 0.3, 190.0)
        for _, start in song.bars(*DRUM_SECTIONS)
        for beat in (1, 3)
    ]
    notes += [Note(start + 3.75 * BEAT_S, 0.2, 190.0, 0.3) for _, start in song.bars("chorus")]
    return render_part(notes, song.n_samples, snare, pan=0.05, seed=3)


def hihat(song: Song) -> np.ndarray:
    """Eighth notes (accented on the beat), an open hat at the end of every bar."""
    notes = [
        Note(start + i * BEAT_S / 2, 0.35 if i == 7 else 0.1, 0.0, 1.0 if i % 2 == 0 else 0.6)
        for _, start in song.bars("intro", *DRUM_SECTIONS)
        for i in range(8)
    ]
    x = render_part(notes, song.n_samples, hat, pan=0.35, seed=4)
    return butter_filter(x, 6000.0, "highpass")


def toms(song: Song) -> np.ndarray:
    """A sixteenth-note fill over the last two beats of each verse; silent otherwise."""
    pitches = (196.0, 165.0, 131.0, 98.0)
    notes = [
        Note(start + (2 + i / 4) * BEAT_S, 0.4, pitches[i // 2], 0.8)
        for b in song.last_bars("verse")
        for start in [b * BAR_S]
        for i in range(8)
    ]
    return render_part(notes, song.n_samples, drum_tone(sweep=0.6, decay_s=0.3), pan=-0.2)


def room(song: Song) -> np.ndarray:
    """Room mics: ``render_speed``'s band-limited rhythmic noise, only while the drums play."""
    return gate(synth_stem(2, song.n_samples), song, DRUM_SECTIONS)


def shaker(song: Song) -> np.ndarray:
    """A shaker (``render_speed`` noise, 1.3-18 kHz) in the choruses only."""
    return gate(synth_stem(5, song.n_samples), song, ("chorus",))


def riser(song: Song) -> np.ndarray:
    """A noise riser swelling through the bar before each chorus; silent otherwise."""
    before = song.last_bars("verse") + song.last_bars("solo")
    x = synth_stem(6, song.n_samples)
    return x * riser_envelope(song, before, song.n_samples)


def bass(song: Song) -> np.ndarray:
    """Eighth notes on the chord root (octave 1), octave jumps in the choruses."""
    notes = [
        Note(start + i * BEAT_S / 2, 0.24, song.chord(b, octave=-1)[0] * (2 if i % 4 == 3 else 1))
        for b, start in song.bars("verse", "chorus", "solo", "outro")
        for i in range(8)
        if song.sections[b] == "chorus" or i % 4 != 3
    ]
    voice = tonal([1, 0.5, 0.33, 0.25, 0.2, 0.16], attack_s=0.005, release_s=0.03, decay_s=0.4)
    return butter_filter(render_part(notes, song.n_samples, voice), 900.0, "lowpass")


def pad(song: Song) -> np.ndarray:
    """Whole-bar chords (octave 3), double-tracked and wide; silent in the solo."""
    notes = [
        Note(start, BAR_S, f, 0.5)
        for b, start in song.bars("intro", "verse", "chorus", "outro")
        for f in song.chord(b, octave=1)
    ]
    saw = [1 / h for h in range(1, 13)]
    x = wide_part(
        notes, song.n_samples, lambda d: tonal(saw, attack_s=0.4, release_s=0.3, detune_cents=d)
    )
    return butter_filter(x, 2500.0, "lowpass")


def keys(song: Song) -> np.ndarray:
    """An eighth-note arpeggio (octave 4) in the verses and the solo, panned left."""
    pattern = (0, 1, 2, 1, 0, 2, 1, 2)
    notes = [
        Note(start + i * BEAT_S / 2, 0.6, song.chord(b, octave=2)[pattern[i]], 0.7)
        for b, start in song.bars("verse", "solo")
        for i in range(8)
    ]
    voice = tonal([1, 0.4, 0.25, 0.1, 0.05], attack_s=0.002, release_s=0.05, decay_s=0.35)
    return render_part(notes, song.n_samples, voice, pan=-0.45)


def guitar(song: Song) -> np.ndarray:
    """Strummed chords (12 ms between strings) in the choruses only, panned right."""
    notes = [
        Note(start + beat * BEAT_S + 0.012 * s, 0.45, f, 0.6)
        for b, start in song.bars("chorus")
        for beat in (0, 1.5, 2, 3)
        for s, f in enumerate([*song.chord(b, octave=1), 2 * song.chord(b, octave=1)[0]])
    ]
    voice = tonal([1 / h**0.7 for h in range(1, 16)], attack_s=0.003, release_s=0.05, decay_s=0.25)
    return butter_filter(
        render_part(notes, song.n_samples, voice, pan=0.55), (90.0, 5000.0), "bandpass"
    )


def strings(song: Song) -> np.ndarray:
    """Slow-swelling sustained chords (octave 4) in the choruses and the solo, wide."""
    notes = [
        Note(start, BAR_S, f, 0.4)
        for b, start in song.bars("chorus", "solo")
        for f in song.chord(b, octave=2)
    ]
    saw = [1 / h for h in range(1, 10)]

    def make(d: float) -> Voice:
        return tonal(
            saw, attack_s=0.6, release_s=0.4, detune_cents=d, vibrato_cents=8, vibrato_hz=4.8
        )

    return butter_filter(wide_part(notes, song.n_samples, make), 4000.0, "lowpass")


def organ(song: Song) -> np.ndarray:
    """Drawbar-like sustained chords (octave 3) in the verses only."""
    drawbars = [1, 0.8, 0, 0.6, 0, 0.3, 0, 0.2]
    notes = [
        Note(start, BAR_S, f, 0.5)
        for b, start in song.bars("verse")
        for f in song.chord(b, octave=1)
    ]
    voice = tonal(drawbars, attack_s=0.01, release_s=0.02, vibrato_cents=4, vibrato_hz=6.5)
    return render_part(notes, song.n_samples, voice, pan=-0.3)


def melody(song: Song, *, seed: int) -> list[Note]:
    """A sung line for verses and choruses: three bars of quarter and half notes from the chord
    (octave 4, with a passing tone), then a bar's rest to breathe."""
    rng = np.random.default_rng(seed)
    notes = []
    for b, start in song.bars("verse", "chorus"):
        if b % 4 == 3:
            continue
        chord = song.chord(b, octave=2)
        tones = [*chord, chord[0] * 2 ** (2 / 12), chord[0] * 2]
        t = start
        for dur_s in bar_rhythm(b, rng):
            notes.append(Note(t, dur_s, float(rng.choice(tones)), 0.8))
            t += dur_s
    return notes


def bar_rhythm(bar: int, rng: np.random.Generator) -> list[float]:
    """Note lengths in s filling one bar: two quarters and a held half note at the end of a
    phrase, else a random mix of quarters and halves."""
    if bar % 4 == 2:
        return [BEAT_S, BEAT_S, 2 * BEAT_S]
    lengths: list[float] = []
    while sum(lengths) < BAR_S:
        lengths.append(min(float(rng.choice([BEAT_S, BEAT_S, 2 * BEAT_S])), BAR_S - sum(lengths)))
    return lengths


def lead_vocal(song: Song) -> np.ndarray:
    """The lead vocal: a breathy, formant-filtered tone with vibrato and scoops, centre."""
    voice = tonal(
        [1 / h for h in range(1, 17)],
        attack_s=0.04,
        release_s=0.08,
        vibrato_cents=35,
        vibrato_hz=5.6,
        scoop_cents=60,
    )
    x = render_part(melody(song, seed=7), song.n_samples, voice, seed=7)
    return (
        0.3 * x
        + butter_filter(x, (550.0, 900.0), "bandpass")
        + 0.6 * butter_filter(x, (1000.0, 1500.0), "bandpass")
    )


def backing_vocals(song: Song) -> np.ndarray:
    """'Ooh' harmonies (the chord's third and fifth, octave 4) in the choruses, left and right."""
    notes = [
        Note(start, BAR_S, f, 0.5)
        for b, start in song.bars("chorus")
        for f in song.chord(b, octave=2)[1:]
    ]

    def make(d: float) -> Voice:
        return tonal(
            [1, 0.3, 0.1],
            attack_s=0.15,
            release_s=0.2,
            detune_cents=d,
            vibrato_cents=20,
            vibrato_hz=5.2 + d / 20,
        )

    return butter_filter(wide_part(notes, song.n_samples, make), (250.0, 3000.0), "bandpass")


def synth_lead(song: Song) -> np.ndarray:
    """Sixteenth-note pentatonic runs (A minor, octaves 4-5) in the solo only."""
    scale = [69 + s for s in (0, 3, 5, 7, 10, 12, 15, 17)]
    rng = np.random.default_rng(11)
    notes = [
        Note(start + i * BEAT_S / 4, 0.12, midi_to_hz(int(rng.choice(scale))), 0.7)
        for _, start in song.bars("solo")
        for i in range(16)
    ]
    square = [1 / h if h % 2 else 0 for h in range(1, 16)]
    voice = tonal(square, attack_s=0.003, release_s=0.02)
    return render_part(notes, song.n_samples, voice, pan=0.15)


#: (file name, generator, sample peak in dBFS): levels differ as they would in a real session.
STEMS: tuple[tuple[str, Callable[[Song], np.ndarray], float], ...] = (
    ("01 Kick", kick, -3.0),
    ("02 Snare", snare_stem, -4.0),
    ("03 Hi-Hat", hihat, -14.0),
    ("04 Toms", toms, -6.0),
    ("05 Room", room, -12.0),
    ("06 Shaker", shaker, -18.0),
    ("07 Bass", bass, -5.0),
    ("08 Pad", pad, -10.0),
    ("09 Keys", keys, -9.0),
    ("10 Guitar", guitar, -8.0),
    ("11 Strings", strings, -12.0),
    ("12 Organ", organ, -15.0),
    ("13 Lead Vocal", lead_vocal, -2.0),
    ("14 Backing Vocals", backing_vocals, -11.0),
    ("15 Synth Lead", synth_lead, -7.0),
    ("16 Riser", riser, -9.0),
)


# --------------------------------------------------------------------------------------------
# stems on disk, cached


def stems_manifest(seconds: float) -> dict:
    """What identifies a set of generated stems (compared with the cached manifest)."""
    return {
        "generator": GENERATOR_VERSION,
        "seconds": seconds,
        "sample_rate": SR,
        "subtype": STEM_SUBTYPE,
        "files": [f"{name}.wav" for name, _, _ in STEMS],
    }


def manifest_path(folder: Path) -> Path:
    """Where the stems' manifest lives: beside ``folder``, not in it (mixwise would try to
    read it as a stem)."""
    return folder.with_name(f"{folder.name}.manifest.json")


def cached_stems_ok(folder: Path, manifest: dict) -> bool:
    """True when ``folder`` holds exactly the stems ``manifest`` describes."""
    path = manifest_path(folder)
    if not path.is_file() or json.loads(path.read_text()) != manifest:
        return False
    return sorted(p.name for p in folder.glob("*.wav")) == sorted(manifest["files"])


def write_stems(folder: Path, seconds: float) -> None:
    """Generate the 16 stems of a ``seconds``-long song into ``folder`` as 24-bit WAV;
    the manifest is written last, so an interrupted run is regenerated next time."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    manifest = stems_manifest(seconds)
    manifest_path(folder).unlink(missing_ok=True)
    stray = {p.name for p in folder.glob("*.wav")} - set(manifest["files"])
    if stray:
        raise SystemExit(
            f"{folder}: holds other WAV files ({', '.join(sorted(stray))}); use --work"
        )
    song = make_song(seconds)
    for name, generate, peak_dbfs in STEMS:
        x = peak_normalise(generate(song), peak_dbfs)
        sf.write(str(folder / f"{name}.wav"), x.T, SR, subtype=STEM_SUBTYPE)
    manifest_path(folder).write_text(json.dumps(manifest, indent=1))


def ensure_stems(folder: Path, seconds: float, *, regenerate: bool) -> str:
    """Make sure ``folder`` holds the stems; returns a line saying what was done."""
    if not regenerate and cached_stems_ok(folder, stems_manifest(seconds)):
        how = "reused from cache"
    else:
        t0 = time.perf_counter()
        write_stems(folder, seconds)
        how = f"generated in {time.perf_counter() - t0:.1f} s"
    size_mb = sum(p.stat().st_size for p in folder.glob("*.wav")) / 2**20
    return (
        f"{len(STEMS)} stereo stems x {seconds:.0f} s at {SR} Hz in {folder} "
        f"({size_mb:.0f} MB of 24-bit WAV, {how})"
    )


# --------------------------------------------------------------------------------------------
# timing whole processes


@dataclass(frozen=True)
class Run:
    """One timed process: wall time in seconds, peak resident memory in MB."""

    wall_s: float
    peak_rss_mb: float


def max_rss_kb_from_time_v(path: Path) -> float | None:
    """'Maximum resident set size (kbytes)' from a ``/usr/bin/time -v`` report, if there."""
    if not path.is_file():
        return None
    for line in path.read_text(errors="replace").splitlines():
        if "Maximum resident set size" in line:
            return float(line.rsplit(":", 1)[1])
    return None


def run_timed(cmd: Sequence[str], *, log: Path) -> Run:
    """Run ``cmd`` as a fresh process (output to ``log``); its wall time (s) and peak RSS (MB).

    Peak RSS comes from ``/usr/bin/time -v`` where present, else from ``os.wait4``'s rusage of
    that one child (Linux reports kilobytes).
    """
    time_report = log.with_suffix(".time")
    time_report.unlink(missing_ok=True)
    full = [str(TIME_V), "-v", "-o", str(time_report), *cmd] if TIME_V.exists() else list(cmd)
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall_s = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        last = (log.read_text(errors="replace").strip().splitlines() or [""])[-1]
        raise SystemExit(f"{cmd[0]} failed (exit {proc.returncode}): {last} (see {log})")
    rss_kb = max_rss_kb_from_time_v(time_report)
    return Run(wall_s, (rss_kb if rss_kb is not None else usage.ru_maxrss) / 1024)


def mixwise_command() -> list[str]:
    """The ``mixwise`` entry point of the interpreter running this script (else ``-m``)."""
    exe = Path(sys.executable).with_name("mixwise")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mixwise"]


def warm_up(work: Path) -> None:
    """One untimed ``mixwise mix`` of two 8 s stems, so a stale numba cache is rebuilt here
    (a one-off cost after an upgrade) and not in the first timed run."""
    import soundfile as sf

    folder = work / "warmup" / "stems"
    folder.mkdir(parents=True, exist_ok=True)
    song = make_song(8.0)
    for name, generate in (("kick", kick), ("bass", bass)):
        sf.write(str(folder / f"{name}.wav"), peak_normalise(generate(song), -6.0).T, SR)
    cmd = [*mixwise_command(), "mix", str(folder), "-o", str(work / "warmup" / "mix"), "-q"]
    run_timed(cmd, log=work / "warmup" / "mixwise.log")


def time_mixwise(stems: Path, out: Path, *, repeat: int, log: Path) -> list[Run]:
    """``mixwise mix STEMS -o OUT`` ``repeat`` times, OUT removed before each run."""
    runs = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        runs.append(
            run_timed([*mixwise_command(), "mix", str(stems), "-o", str(out), "-q"], log=log)
        )
    return runs


def matchering_version(python: Path) -> str:
    """The peer's ``matchering.__version__``."""
    cmd = [str(python), "-c", "import matchering; print(matchering.__version__)"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def time_matchering(
    python: Path, target: Path, reference: Path, result: Path, *, repeat: int, log: Path
) -> list[Run]:
    """Matchering mastering ``target`` against ``reference`` into ``result`` (24-bit WAV),
    ``repeat`` times, each a fresh process."""
    cmd = [str(python), "-c", MATCHERING_SNIPPET, str(target), str(reference), str(result)]
    runs = []
    for _ in range(repeat):
        result.unlink(missing_ok=True)
        runs.append(run_timed(cmd, log=log))
    return runs


# --------------------------------------------------------------------------------------------
# the report


def summary(runs: Sequence[Run]) -> tuple[float, float, float]:
    """(median wall s, min wall s, max peak RSS MB) of ``runs``."""
    walls = [r.wall_s for r in runs]
    return statistics.median(walls), min(walls), max(r.peak_rss_mb for r in runs)


def print_table(rows: Sequence[tuple[str, Sequence[Run]]], *, song_s: float) -> None:
    """stage | wall s (median, min) | x real time (of the median) | peak RSS MB."""
    print(f"{'stage':<36}{'median s':>10}{'min s':>9}{'x real time':>13}{'peak RSS MB':>13}")
    for label, runs in rows:
        med, low, rss = summary(runs)
        print(f"{label:<36}{med:>10.2f}{low:>9.2f}{song_s / med:>13.1f}{rss:>13.0f}")


def print_stage_breakdown(report_path: Path, wall_s: float) -> None:
    """mixwise's own timings from OUT/report.json ("render" -> "render_seconds", "stage_seconds")
    and what is left of the process's wall time ``wall_s`` (s) outside the render."""
    if not report_path.is_file():
        print(f"(no {report_path.name}: no stage breakdown)")
        return
    render = json.loads(report_path.read_text()).get("render", {})
    if "render_seconds" not in render:
        print("(report.json has no render timings)")
        return
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in render.get("stage_seconds", {}).items())
    print(f"mixwise's report (last run): render {render['render_seconds']:.2f} s ({stages})")
    print(
        f"  outside the render (start-up, load, analysis, decisions, report): "
        f"{wall_s - render['render_seconds']:.2f} s of {wall_s:.2f} s"
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_acceptance(mixwise_s: float, matchering_s: float | None) -> None:
    """The two checks, on median wall times (s)."""
    fast = verdict(mixwise_s < AUTOMIX_LIMIT_S)
    print(f"mixwise full automix < {AUTOMIX_LIMIT_S:.0f} s: {fast} ({mixwise_s:.2f} s)")
    if matchering_s is None:
        print("mixwise full automix <= matchering mastering alone: SKIPPED (no matchering)")
    else:
        print(
            f"mixwise full automix <= matchering mastering alone: "
            f"{verdict(mixwise_s <= matchering_s)} ({mixwise_s:.2f} s vs {matchering_s:.2f} s)"
        )


# --------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per stage (default 3)")
    ap.add_argument("--seconds", type=float, default=240.0, help="song length in s (default 240)")
    ap.add_argument(
        "--work", type=Path, default=DEFAULT_WORK, help="work folder (stems/, mix/, ...)"
    )
    ap.add_argument(
        "--matchering-python",
        type=Path,
        default=DEFAULT_MATCHERING_PYTHON,
        help="the peer venv's python (Matchering installed)",
    )
    ap.add_argument("--regenerate", action="store_true", help="write the stems even if cached")
    ap.add_argument(
        "--warmup",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="an untimed tiny mix first (default on)",
    )
    args = ap.parse_args()
    if args.repeat < 1 or args.seconds < 2:
        ap.error("--repeat must be >= 1 and --seconds >= 2")
    return args


def main() -> int:
    args = parse_args()
    work = args.work.resolve()
    stems, out = work / "stems", work / "mix"
    print(ensure_stems(stems, args.seconds, regenerate=args.regenerate))
    if args.warmup:
        warm_up(work)

    mixwise_runs = time_mixwise(stems, out, repeat=args.repeat, log=work / "mixwise.log")
    rows = [("mixwise mix (full automix)", mixwise_runs)]
    matchering_s = None
    if args.matchering_python.exists():
        version = matchering_version(args.matchering_python)
        (work / "matchering").mkdir(exist_ok=True)
        runs = time_matchering(
            args.matchering_python,
            out / "mix.wav",
            out / "master.wav",
            work / "matchering" / "master.wav",
            repeat=args.repeat,
            log=work / "matchering.log",
        )
        rows.append((f"matchering {version} (master mix.wav)", runs))
        matchering_s = summary(runs)[0]
        print(
            f"matchering: target {out / 'mix.wav'}, reference {out / 'master.wav'} "
            "(mixwise's own master: same song, length and rate)"
        )
    else:
        print(f"matchering: SKIPPED, no interpreter at {args.matchering_python} (see --help)")

    print()
    print_table(rows, song_s=args.seconds)
    print()
    print_stage_breakdown(out / "report.json", mixwise_runs[-1].wall_s)
    print()
    print_acceptance(summary(mixwise_runs)[0], matchering_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
