"""mixwise: an open-source AI mixing assistant.

Audio convention (stated once, checked where audio enters in :mod:`mixwise.io.audio`):

* audio is a ``numpy.ndarray`` of dtype ``float32`` with shape ``(n_channels, n_samples)``
  (channels first, one C-contiguous row per channel), 1 (mono) or 2 (stereo) channels;
* full scale is 1.0; values above it are kept (float sources may exceed full scale);
* the sample rate travels with the audio (``Multitrack.sample_rate``, in Hz);
* gains are in dB, frequencies in Hz, times in ms unless a name says ``_s`` or ``_samples``;
* pan is in [-1 (hard left), +1 (hard right)], see :mod:`mixwise.dsp.pan` for the law.

Heavy modules (numba, scipy) are imported lazily so ``mixwise --help`` is instant.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
