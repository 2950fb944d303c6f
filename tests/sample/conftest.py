"""Fixtures of the sample tests: the compiled builds (tests/sample/builds.py)."""

from __future__ import annotations

import pytest

from tests.sample.builds import Samples, session_samples


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return session_samples(tmp_path_factory)
