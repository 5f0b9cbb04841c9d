"""Reading stems and writing audio: the one place where audio enters and leaves mixwise.

Everything returned here follows the package convention: ``float32`` arrays of shape
``(n_channels, n_samples)`` with 1 or 2 channels, C-contiguous, at a stated sample rate (Hz).
Every file problem becomes one :class:`FileProblem` line naming the file; one bad file never
stops the others from loading. Input files are only ever opened for reading.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from mixwise.errors import AudioFileError, NothingToMixError
from mixwise.io.wavfast import iff_chunks, read_wav_planar

log = logging.getLogger(__name__)

#: File endings mixwise tries to read as audio (case-insensitive).
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".bwf", ".flac", ".aif", ".aiff", ".aifc", ".ogg", ".oga", ".mp3"}
)
#: Sample rates outside this range (Hz) are refused as implausible.
MIN_SAMPLE_RATE_HZ = 8000
MAX_SAMPLE_RATE_HZ = 384_000
#: Below this rate a stem loads, with a warning that its top octave(s) are missing.
LOW_SAMPLE_RATE_HZ = 22_050
#: A stem whose peak is below this level (dBFS) counts as silent.
SILENCE_PEAK_DBFS = -90.0
#: Runs of at least this many consecutive samples at the format's full scale count as clipping.
CLIP_RUN_SAMPLES = 4
#: A sample at or above this magnitude sits at an integer format's full scale.
CLIP_LEVEL = 0.9999

Severity = Literal["skipped", "warning"]


@dataclass(frozen=True)
class FileProblem:
    """One problem with one input file.

    ``severity`` is ``"skipped"`` when the file was left out of the session and ``"warning"``
    when it loaded but something about it deserves the user's attention.
    """

    path: str
    message: str
    severity: Severity

    def __str__(self) -> str:
        verb = "skipped" if self.severity == "skipped" else "warning"
        return f"{Path(self.path).name}: {self.message} ({verb})"


@dataclass(frozen=True)
class SourceInfo:
    """What the input file was, before mixwise converted it.

    Rates in Hz, durations in s, sizes in bytes; ``subtype`` is libsndfile's name for the
    sample format (e.g. ``PCM_24``, ``FLOAT``, ``VORBIS``).
    """

    path: str
    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    size_bytes: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@dataclass
class Stem:
    """One decoded stem at the session rate.

    ``audio`` : np.ndarray [shape=(n_channels, n_samples), dtype=float32], padded with zeros
    to the multitrack's common length (empty when loaded with ``keep_audio=False``).
    ``n_source_samples`` is its own length before padding; ``analysis`` holds what the loader's
    ``analyse`` callback returned for it.
    """

    name: str
    audio: np.ndarray
    info: SourceInfo
    n_source_samples: int
    warnings: list[str] = field(default_factory=list)
    analysis: object = None

    @property
    def channels(self) -> int:
        return int(self.info.channels)


@dataclass
class Multitrack:
    """All stems of one song at one sample rate (Hz) and one common length (samples)."""

    sample_rate: int
    stems: list[Stem]
    n_samples: int = 0

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    def __len__(self) -> int:
        return len(self.stems)

    def __iter__(self):
        return iter(self.stems)

    def by_name(self) -> dict[str, Stem]:
        return {s.name: s for s in self.stems}


@dataclass
class LoadResult:
    """What :func:`load_stems` found: the usable stems and one line per problem."""

    multitrack: Multitrack
    problems: list[FileProblem]

    @property
    def skipped(self) -> list[FileProblem]:
        return [p for p in self.problems if p.severity == "skipped"]

    @property
    def warnings(self) -> list[FileProblem]:
        return [p for p in self.problems if p.severity == "warning"]


# --------------------------------------------------------------------------------------------
# reading one file


def _natural_key(path: Path) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def list_audio_files(folder: str | os.PathLike[str]) -> tuple[list[Path], list[FileProblem]]:
    """The audio files directly inside ``folder``, in natural order ("2" before "10").

    Hidden files are ignored silently; other non-audio files give a ``"skipped"`` line.
    Raises :class:`NothingToMixError` when ``folder`` is not a readable directory.
    """
    root = Path(folder)
    if not root.exists():
        raise NothingToMixError(f"{root}: no such folder")
    if not root.is_dir():
        raise NothingToMixError(f"{root}: not a folder (give the folder that holds the stems)")
    files: list[Path] = []
    problems: list[FileProblem] = []
    for entry in sorted(root.iterdir(), key=_natural_key):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            continue
        if entry.suffix.lower() in AUDIO_EXTENSIONS:
            files.append(entry)
        else:
            problems.append(
                FileProblem(str(entry), "not an audio file (unknown file type)", "skipped")
            )
    return files, problems


def read_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int, SourceInfo, list[str]]:
    """Decode one audio file as it is (no resampling).

    Returns ``(audio, sample_rate_hz, info, warnings)`` with ``audio`` of shape
    ``(n_channels, n_samples)``, float32. Raises :class:`AudioFileError` naming the file
    for anything that makes it unusable: unreadable or non-audio content, no samples,
    other than 1 or 2 channels, implausible rate, non-finite samples, silence.
    """
    import soundfile as sf

    p = Path(path)
    warnings: list[str] = []
    try:
        size = p.stat().st_size
    except OSError as err:
        raise AudioFileError(str(p), f"cannot be opened ({err.strerror or err})") from None
    if size == 0:
        raise AudioFileError(str(p), "is an empty file (0 bytes)")
    try:
        with sf.SoundFile(str(p), mode="r") as f:
            sr = int(f.samplerate)
            channels = int(f.channels)
            declared_frames = int(f.frames)
            fmt, subtype = str(f.format), str(f.subtype)
            if channels not in (1, 2):
                raise AudioFileError(
                    str(p),
                    f"has {channels} channels; mixwise takes mono or stereo stems "
                    "(split multichannel files into mono or stereo stems first)",
                )
            if not MIN_SAMPLE_RATE_HZ <= sr <= MAX_SAMPLE_RATE_HZ:
                raise AudioFileError(
                    str(p),
                    f"has an implausible sample rate of {sr} Hz "
                    f"(accepted: {MIN_SAMPLE_RATE_HZ}-{MAX_SAMPLE_RATE_HZ} Hz)",
                )
            fast = read_wav_planar(p, declared_frames) if fmt == "WAV" else None
            if fast is None:
                data = f.read(dtype="float32", always_2d=True)
    except AudioFileError:
        raise
    except Exception as err:  # libsndfile reports every decoding failure through one type
        reason = str(err).split(":")[-1].strip() or type(err).__name__
        raise AudioFileError(str(p), f"not a readable audio file ({reason})") from None

    frames = int(fast[0].shape[1] if fast is not None else data.shape[0])
    if frames == 0:
        raise AudioFileError(str(p), "holds no audio samples (0 frames)")
    missing = _missing_data_bytes(p, size)
    if missing > 0 or frames < declared_frames:
        warnings.append(
            "truncated: the file ends before the audio its header announces "
            f"({missing} bytes missing); the {frames / sr:.2f} s that are there are used"
        )
    if fast is not None:
        audio, peak = fast
    else:
        audio, peak = np.ascontiguousarray(data.T), None
    if peak is None:
        # max and min propagate NaN and inf, so this cheap pass also finds damaged samples
        peak = max(float(audio.max()), -float(audio.min()))
    if not math.isfinite(peak):
        bad = int(np.count_nonzero(~np.isfinite(audio)))
        raise AudioFileError(str(p), f"contains {bad} NaN or infinite samples (a damaged file)")
    if peak <= 10.0 ** (SILENCE_PEAK_DBFS / 20.0):
        raise AudioFileError(str(p), "is silent (peak below -90 dBFS): nothing to mix")
    if sr < LOW_SAMPLE_RATE_HZ:
        warnings.append(f"low sample rate {sr} Hz: it has no content above {sr / 2000:g} kHz")
    if (subtype.startswith("PCM") or subtype in ("ULAW", "ALAW")) and peak >= CLIP_LEVEL:
        runs = count_clipped_runs(audio)
        if runs:
            warnings.append(f"clipped: {runs} run(s) of {CLIP_RUN_SAMPLES}+ samples at full scale")
    info = SourceInfo(
        path=str(p.resolve()),
        format=fmt,
        subtype=subtype,
        sample_rate=sr,
        channels=channels,
        frames=frames,
        size_bytes=size,
    )
    return audio, sr, info, warnings


def _missing_data_bytes(path: Path, size: int) -> int:
    """Bytes of audio a WAV or AIFF header announces beyond the end of the file (0 if none).

    libsndfile quietly shortens such files, so the truncation is found from the header here.
    """
    try:
        with open(path, "rb") as f:
            form = iff_chunks(f, size)
    except OSError:
        return 0
    if form is None:
        return 0
    data = form[1].get(b"data" if form[0] == b"RIFF" else b"SSND")
    if data is None or data[1] == 0xFFFFFFFF:  # streaming writers leave the size open
        return 0
    return max(0, data[0] + data[1] - size)


def count_clipped_runs(audio: np.ndarray, *, run_samples: int = CLIP_RUN_SAMPLES) -> int:
    """Number of runs of ``run_samples`` or more consecutive samples at |x| >= :data:`CLIP_LEVEL`.

    ``audio`` : np.ndarray [shape=(n_channels, n_samples)].
    """
    total = 0
    for ch in audio:
        at_fs = np.abs(ch) >= CLIP_LEVEL
        if not at_fs.any():
            continue
        edges = np.diff(np.concatenate(([0], at_fs.view(np.int8), [0])))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1)
        total += int(np.count_nonzero(ends - starts >= run_samples))
    return total


def resample(audio: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Resample ``audio`` [shape=(n_channels, n)] from ``from_hz`` to ``to_hz`` with soxr (VHQ).

    Deterministic: the same input always gives the same output. Returns float32, C-contiguous.
    """
    if from_hz == to_hz:
        return audio
    import soxr

    out = soxr.resample(audio.T, from_hz, to_hz, quality="VHQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


def load_file(
    path: str | os.PathLike[str], *, sample_rate: int | None = None
) -> tuple[np.ndarray, SourceInfo, list[str]]:
    """Decode one file and bring it to ``sample_rate`` (Hz; ``None`` keeps its own rate).

    Returns ``(audio, info, warnings)``; raises :class:`AudioFileError` naming the file.
    """
    audio, sr, info, warnings = read_audio(path)
    if sample_rate is not None and sr != sample_rate:
        audio = resample(audio, sr, sample_rate)
    return audio, info, warnings


# --------------------------------------------------------------------------------------------
# loading a folder


def choose_session_rate(rates: Iterable[int]) -> int:
    """The session sample rate (Hz) for stems at ``rates``.

    The most common rate among the stems, so most of them need no resampling; ties go to the
    higher rate. Rates below 44.1 kHz are raised to 44.1 kHz and rates above 96 kHz lowered to
    96 kHz (a mix is delivered at 44.1-96 kHz).
    """
    counts: dict[int, int] = {}
    for r in rates:
        r = min(max(int(r), 44_100), 96_000)
        counts[r] = counts.get(r, 0) + 1
    if not counts:
        return 48_000
    return max(counts, key=lambda r: (counts[r], r))


def unique_stem_names(paths: Sequence[Path]) -> list[str]:
    """A name per file: its base name without extension, made unique when two files share it."""
    bases = [p.stem for p in paths]
    names: list[str] = []
    for p, base in zip(paths, bases, strict=True):
        name = base if bases.count(base) == 1 else p.name
        while name in names:
            name = f"{name}_"
        names.append(name)
    return names


def load_stems(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    sample_rate: int | None = None,
    keep_audio: bool = True,
    analyse: Callable[[np.ndarray, int], object] | None = None,
    progress: Callable[[float], None] | None = None,
    max_workers: int | None = None,
) -> LoadResult:
    """Load every usable audio file of a folder (or of a list of files) as one :class:`Multitrack`.

    Parameters
    ----------
    source : a folder holding the stems, or a list of file paths
    sample_rate : the session rate in Hz; ``None`` picks it with :func:`choose_session_rate`
        from the files' headers
    keep_audio : keep the decoded audio (zero-padded to the longest stem); with ``False`` each
        stem's ``audio`` is empty and only its metadata and ``analysis`` remain, so a session
        of any size loads in bounded memory (render it from :class:`FileSource`)
    analyse : called as ``analyse(audio, sample_rate)`` on each decoded, resampled stem (before
        padding); its result is kept as ``Stem.analysis``
    progress : called with seconds of audio decoded so far
    max_workers : decoding threads (default: the number of CPU cores)

    Files are decoded, checked and resampled (soxr) one per thread. Every unusable file gives
    one ``"skipped"`` :class:`FileProblem`. Raises :class:`NothingToMixError` when no file is
    usable.
    """
    import soundfile as sf

    if isinstance(source, (str, os.PathLike)):
        paths, problems = list_audio_files(source)
        where = str(source)
    else:
        paths, problems = [Path(p) for p in source], []
        where = "the given files"

    if sample_rate is None:
        rates = []
        for p in paths:
            try:
                rates.append(int(sf.info(str(p)).samplerate))
            except Exception:  # unreadable: reported when it is decoded below
                continue
        rate = choose_session_rate(rates)
    else:
        rate = int(sample_rate)

    def _one(p: Path):
        try:
            audio, sr, info, warnings = read_audio(p)
        except AudioFileError as err:
            return err
        audio = resample(audio, sr, rate)
        result = analyse(audio, rate) if analyse is not None else None
        own = int(audio.shape[1])
        if not keep_audio:
            audio = np.zeros((audio.shape[0], 0), dtype=np.float32)
        return audio, own, info, warnings, result

    workers = max_workers or min(len(paths), os.cpu_count() or 1) or 1
    decoded = []
    done_s = 0.0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for p, item in zip(paths, pool.map(_one, paths), strict=True):
            decoded.append((p, item))
            if not isinstance(item, AudioFileError):
                done_s += item[2].duration_s
                if progress is not None:
                    progress(done_s)

    ok = [(p, item) for p, item in decoded if not isinstance(item, AudioFileError)]
    for p, item in decoded:
        if isinstance(item, AudioFileError):
            problems.append(FileProblem(str(p), item.problem, "skipped"))
    if not ok:
        detail = f" ({len(problems)} file(s) unusable)" if problems else ""
        raise NothingToMixError(f"{where}: no usable audio stems found{detail}")

    names = unique_stem_names([p for p, _ in ok])
    n = max(item[1] for _, item in ok)
    stems: list[Stem] = []
    for (p, (audio, own, info, warnings, result)), name in zip(ok, names, strict=True):
        if keep_audio and own < n:
            audio = np.pad(audio, ((0, 0), (0, n - own)))
        stem = Stem(name, np.ascontiguousarray(audio), info, own, list(warnings))
        stem.analysis = result
        stems.append(stem)
        problems.extend(FileProblem(str(p), w, "warning") for w in warnings)
    return LoadResult(Multitrack(rate, stems, n), problems)


# --------------------------------------------------------------------------------------------
# writing


WavSubtype = Literal["FLOAT", "PCM_24", "PCM_16"]

#: libsndfile's SFC_SET_ADD_PEAK_CHUNK command.
_SFC_SET_ADD_PEAK_CHUNK = 0x1050


def _no_peak_chunk(f) -> None:
    """Stop libsndfile from adding a PEAK chunk to float WAVs: it holds the time of writing,
    which would make two renders of the same session differ in their bytes."""
    try:
        import soundfile as sf

        sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
    except (AttributeError, TypeError):  # a soundfile without these internals: keep the chunk
        pass


def _close_without_sync(f) -> None:
    """Close a :class:`soundfile.SoundFile` opened for writing without forcing its data to disk.

    ``SoundFile.close`` first calls ``sf_write_sync``, an ``fsync``: for a render's stems (over
    a gigabyte for 16 tracks x 4 minutes) that waits seconds for the disk. The file is complete
    without it (libsndfile writes its header on ``sf_close``), and the rename that publishes
    it is still atomic; only durability across a power cut is left to the operating system,
    as for any ordinary file written by an audio tool.
    """
    try:
        import soundfile as sf

        handle, close = f._file, sf._snd.sf_close
    except AttributeError:  # a soundfile without these internals: its own close
        f.close()
        return
    if handle is None:
        return
    f._file = None
    sf._error_check(close(handle))


class AtomicAudioWriter:
    """Write an audio file block by block; it appears under its name only when complete.

    Writes to a temporary file in the destination folder and renames it on :meth:`close`;
    if anything fails before that, the temporary file is removed and no partial file is left.
    Blocks are ``(n_channels, n)`` float32 (or float64, rounded to float32) arrays.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sample_rate: int,
        channels: int,
        subtype: WavSubtype = "FLOAT",
    ) -> None:
        import soundfile as sf

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.stem}.", suffix=".part.wav", dir=self.path.parent
        )
        os.close(fd)
        self._tmp = Path(tmp)
        self._file = sf.SoundFile(
            tmp,
            mode="w",
            samplerate=int(sample_rate),
            channels=channels,
            subtype=subtype,
            format="WAV" if channels <= 2 else "WAVEX",
        )
        _no_peak_chunk(self._file)
        self.frames = 0

    def write(self, block: np.ndarray) -> None:
        """Append ``block`` [shape=(channels, n)]; float64 is rounded to float32 on the way
        (in the same pass that interleaves the channels)."""
        frames = np.empty((block.shape[1], block.shape[0]), dtype=np.float32)
        frames[...] = block.T
        self._file.write(frames)
        self.frames += int(block.shape[1])

    def close(self) -> Path:
        _close_without_sync(self._file)
        _publish(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            _close_without_sync(self._file)
        finally:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicAudioWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    *,
    sample_rate: int,
    subtype: WavSubtype = "FLOAT",
) -> Path:
    """Write ``audio`` [shape=(n_channels, n)] as a WAV file at ``sample_rate`` Hz, atomically."""
    with AtomicAudioWriter(
        path, sample_rate=sample_rate, channels=audio.shape[0], subtype=subtype
    ) as w:
        w.write(audio)
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: str | os.PathLike[str], dest: Path) -> None:
    """Give the finished temporary file normal permissions and move it into place."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, dest)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write a text file atomically (temporary file in the same folder, then rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        _publish(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


# --------------------------------------------------------------------------------------------
# sources for the renderer


class ArraySource:
    """Audio held in memory, read by sample ranges (zeros outside the audio)."""

    def __init__(self, audio: np.ndarray) -> None:
        self.audio = audio
        self.channels = int(audio.shape[0])
        self.n_samples = int(audio.shape[1])

    def read(self, start: int, length: int) -> np.ndarray:
        """Samples ``[start, start + length)`` as a new ``(channels, length)`` float64 array."""
        out = np.zeros((self.channels, length))
        a, b = max(start, 0), min(start + length, self.n_samples)
        if b > a:
            out[:, a - start : b - start] = self.audio[:, a:b]
        return out


class FileSource:
    """A stem streamed from its file and resampled on the fly, for renders whose stems would
    not fit in memory. Reads must move forward (each ``start`` >= the previous one, as a
    render's blocks do, give or take :attr:`HISTORY_FRAMES`); a small buffer serves
    overlapping reads. The samples are exactly
    those :func:`load_file` returns (soxr gives the same output whatever the chunking).
    Non-finite samples (a file damaged since import) are replaced by silence.
    """

    CHUNK_FRAMES = 65_536
    #: Samples kept before the latest read, so a read may start up to this far back.
    HISTORY_FRAMES = 8192

    def __init__(self, path: str | os.PathLike[str], *, sample_rate: int) -> None:
        import soundfile as sf

        self._latest = 0
        self.path = str(path)
        try:
            self._file = sf.SoundFile(self.path)
        except Exception as err:
            reason = str(err).split(":")[-1].strip() or type(err).__name__
            raise AudioFileError(self.path, f"cannot be read ({reason})") from None
        self.channels = int(self._file.channels)
        if self.channels not in (1, 2):
            self._file.close()
            raise AudioFileError(self.path, f"has {self.channels} channels; expected 1 or 2")
        rate = int(self._file.samplerate)
        self._resampler = None
        if rate != sample_rate:
            import soxr

            self._resampler = soxr.ResampleStream(
                rate, sample_rate, self.channels, dtype="float32", quality="VHQ"
            )
        self.n_samples = round(self._file.frames * sample_rate / rate)
        self._buf = np.zeros((self.channels, 0), dtype=np.float32)
        self._buf_start = 0
        self._eof = False
        self.repaired_samples = 0

    def _pull(self) -> None:
        block = self._file.read(self.CHUNK_FRAMES, dtype="float32", always_2d=True)
        last = block.shape[0] < self.CHUNK_FRAMES
        if self._resampler is not None:
            block = self._resampler.resample_chunk(block, last=last)
        if last:
            self._eof = True
            self._file.close()
        chunk = np.ascontiguousarray(block.T)
        bad = ~np.isfinite(chunk)
        if bad.any():
            self.repaired_samples += int(bad.sum())
            chunk[bad] = 0.0
        self._buf = np.concatenate([self._buf, chunk], axis=1)

    def _skip_to(self, position: int) -> None:
        """Move forward to session sample ``position`` without keeping what lies before it:
        a seek when no resampling is needed, else resampling and discarding (exact)."""
        self._buf_start += self._buf.shape[1]
        self._buf = self._buf[:, :0]
        if self._resampler is None:
            self._file.seek(min(position, self._file.frames))
            self._buf_start = position
            return
        while not self._eof and self._buf_start + self._buf.shape[1] < position:
            self._buf_start += self._buf.shape[1]
            self._buf = self._buf[:, :0]
            self._pull()

    def read(self, start: int, length: int) -> np.ndarray:
        """Samples ``[start, start + length)`` as ``(channels, length)`` float64 (zeros outside)."""
        self._latest = max(self._latest, start)
        keep_from = self._latest - self.HISTORY_FRAMES
        if not self._eof and keep_from > self._buf_start + self._buf.shape[1]:
            self._skip_to(keep_from)
        drop = min(max(0, keep_from - self._buf_start), self._buf.shape[1])
        if drop:
            self._buf = self._buf[:, drop:]
            self._buf_start += drop
        while not self._eof and self._buf_start + self._buf.shape[1] < start + length:
            self._pull()
        out = np.zeros((self.channels, length))
        a = max(start, self._buf_start)
        b = min(start + length, self._buf_start + self._buf.shape[1])
        if b > a:
            out[:, a - start : b - start] = self._buf[:, a - self._buf_start : b - self._buf_start]
        return out

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
