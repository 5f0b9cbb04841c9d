"""One exception root for everything mixwise raises on purpose.

The library raises; it never prints or exits. The CLI turns these into one-line messages.
"""

from __future__ import annotations


class MixwiseError(Exception):
    """Root of every error mixwise raises deliberately (bad input, bad session, nothing to mix)."""


class AudioFileError(MixwiseError):
    """An input audio file cannot be used. ``str(err)`` names the file and what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class SessionError(MixwiseError):
    """A session document is malformed or inconsistent; the message names the field."""


class NothingToMixError(MixwiseError):
    """No usable stem was found, so nothing can be mixed."""


class ParameterError(MixwiseError):
    """A function argument is out of range; the message repeats the bad value."""


class ExportError(MixwiseError):
    """A DAW export or import cannot be done (missing audio, unreadable project); the message
    names the file and the problem. Nothing partial is left behind."""
