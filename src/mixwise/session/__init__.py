"""The session document (the mix) and its validation."""
