"""Analysis: pure functions from audio to numbers. Nothing here modifies its input."""
