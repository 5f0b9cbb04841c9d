"""Audio in and out: decoding stems, resampling, atomic writing."""
