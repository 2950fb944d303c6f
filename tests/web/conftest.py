"""The UI over the investigation fixture store: an app per test (its own triage database),
the store built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the UI needs the `web` extra")

from fastapi.testclient import TestClient

from doorhunt.investigate import TriageDatabase
from doorhunt.web import UiState, create_app
from tests.investigate.fixtures import Fixture, build

BASE = "http://127.0.0.1:8765"


@pytest.fixture(scope="session")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return build(tmp_path_factory.mktemp("web"))


@pytest.fixture
def state(fixture: Fixture, tmp_path: Path) -> Iterator[UiState]:
    state = UiState.open(fixture.data)
    state.triage = TriageDatabase(tmp_path / "triage.sqlite")
    yield state
    state.close()


@pytest.fixture
def client(state: UiState) -> Iterator[TestClient]:
    with TestClient(create_app(state), base_url=BASE) as client:
        yield client


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Each phase's report on the test item, so a fixture can tell that the test failed (the
    browser tests keep a screenshot then)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


def changing(client: TestClient) -> dict[str, str]:
    """The headers a change needs (the front end sends them)."""
    return {"X-Doorhunt-Request": "1", "Content-Type": "application/json"}
