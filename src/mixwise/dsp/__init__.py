"""Signal processing blocks: biquads, dynamics, pan, delay and reverb."""
