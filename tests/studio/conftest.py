"""Fixtures of the studio tests (helpers are in ``studio_support``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from studio_support import synthetic_stems


@pytest.fixture(scope="session")
def stems_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stems")
    synthetic_stems(folder, 4)
    return folder
