"""A fast path for the most common stem delivery: plain little-endian PCM or float WAV.

libsndfile decodes such a file into interleaved frames, which the loader then transposes to
one row per channel: two passes over every sample. Here the RIFF chunks are read directly
and one compiled loop converts the bytes into the planar float32 array, measuring the peak on
the way. The conversion is the one libsndfile makes (an integer sample times the power of two
that maps its full scale to 1.0), so both paths give the same bits; anything this module does
not recognise with certainty (WAVE_FORMAT_EXTENSIBLE, big-endian RIFX, RF64, 8-bit, odd
block alignment, a data chunk shorter than announced) returns ``None`` and is left to
libsndfile.
"""

from __future__ import annotations

import os
import struct

import numpy as np
from numba import njit

#: WAVE format tags this path decodes: integer PCM and IEEE float.
_PCM, _FLOAT = 1, 3


@njit(cache=True, nogil=True)
def _int_planar(raw, width, channels, frames, out):
    # little-endian signed integers of ``width`` bytes (2, 3 or 4), interleaved, to float32
    # rows; returns the largest magnitude
    scale = np.float32(1.0 / (1 << (8 * width - 1)))
    peak = np.float32(0.0)
    k = 0
    for n in range(frames):
        for c in range(channels):
            if width == 2:
                v = np.int32(raw[k]) | (np.int32(raw[k + 1]) << 8)
                if v >= 0x8000:
                    v -= 0x10000
                y = np.float32(v) * scale
            elif width == 3:
                v = np.int32(raw[k]) | (np.int32(raw[k + 1]) << 8) | (np.int32(raw[k + 2]) << 16)
                if v >= 0x800000:
                    v -= 0x1000000
                y = np.float32(v) * scale
            else:
                w = (
                    np.int64(raw[k])
                    | (np.int64(raw[k + 1]) << 8)
                    | (np.int64(raw[k + 2]) << 16)
                    | (np.int64(raw[k + 3]) << 24)
                )
                if w >= 0x80000000:
                    w -= 0x100000000
                y = np.float32(w) * scale
            out[c, n] = y
            a = -y if y < 0 else y
            if a > peak:
                peak = a
            k += width
    return peak


def iff_chunks(f, size: int) -> tuple[bytes, dict[bytes, tuple[int, int]]] | None:
    """The form and the chunks of a RIFF/WAVE (little-endian) or FORM/AIFF(C) (big-endian) file
    ``f`` of ``size`` bytes, read up to the audio data chunk (``data`` or ``SSND``) inclusive:
    ``(form, {chunk id: (offset of its data, announced length)})``; ``None`` for other files.
    The first chunk of each id counts."""
    head = f.read(12)
    if len(head) < 12:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        order, data_id = "little", b"data"
    elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        order, data_id = "big", b"SSND"
    else:
        return None
    found: dict[bytes, tuple[int, int]] = {}
    pos = 12
    while pos + 8 <= size:
        f.seek(pos)
        chunk = f.read(8)
        if len(chunk) < 8:
            break
        length = int.from_bytes(chunk[4:8], order)
        found.setdefault(chunk[:4], (pos + 8, length))
        if chunk[:4] == data_id:
            break
        pos += 8 + length + (length & 1)
    return head[:4], found


def read_wav_planar(
    path: str | os.PathLike[str], frames: int
) -> tuple[np.ndarray, float | None] | None:
    """The first ``frames`` frames of a plain PCM (16, 24 or 32-bit) or 32-bit float WAV as
    float32 ``(channels, frames)`` in full-scale units, with the largest sample magnitude for
    integer formats (``None`` for float, which may hold NaN), or ``None`` when the file is not
    one this path decodes with certainty (then use libsndfile). ``frames`` is the count
    libsndfile reports for the file."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            form = iff_chunks(f, size)
            if form is None or form[0] != b"RIFF":
                return None
            chunks = form[1]
            if b"fmt " not in chunks or b"data" not in chunks:
                return None
            fmt_pos, fmt_len = chunks[b"fmt "]
            if fmt_len < 16:
                return None
            f.seek(fmt_pos)
            tag, channels, _rate, _bps, align, bits = struct.unpack("<HHIIHH", f.read(16))
            width = bits // 8
            if channels not in (1, 2) or bits % 8 or align != channels * width:
                return None
            if not ((tag == _PCM and width in (2, 3, 4)) or (tag == _FLOAT and width == 4)):
                return None
            data_pos, data_len = chunks[b"data"]
            need = frames * align
            if frames <= 0 or data_pos + need > size or need > data_len:
                return None
            raw = np.fromfile(f, dtype=np.uint8, count=need, offset=data_pos - f.tell())
    except (OSError, ValueError, struct.error):
        return None
    if raw.size != need:
        return None
    if tag == _FLOAT:
        out = np.empty((channels, frames), dtype=np.float32)
        out[...] = raw.view("<f4").reshape(frames, channels).T
        return out, None
    out = np.empty((channels, frames), dtype=np.float32)
    peak = _int_planar(raw, width, channels, frames, out)
    return out, float(peak)
