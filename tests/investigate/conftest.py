"""The fixture store, built once per session (tests only read it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from doorhunt.investigate import SegmentIndex
from doorhunt.store import Store, StoreReader
from tests.investigate.fixtures import Fixture, build


@pytest.fixture(scope="session")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return build(tmp_path_factory.mktemp("investigate"))


@pytest.fixture(scope="session")
def reader(fixture: Fixture) -> Iterator[StoreReader]:
    with Store(fixture.data / "store").reader() as reader:
        yield reader


@pytest.fixture(scope="session")
def index(reader: StoreReader) -> SegmentIndex:
    index = SegmentIndex(reader)
    index.refresh()
    return index
