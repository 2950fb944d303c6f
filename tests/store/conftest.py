"""Helpers for the store tests: documents with chosen fields and times, a store per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorhunt.ecs import new_event
from doorhunt.store import Store

BASE = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def event(
    index: int,
    *,
    host: str = "web-1",
    category: str = "process",
    action: str = "exec",
    when: datetime | None = None,
    **fields: object,
) -> dict[str, object]:
    kinds = {"process": "start", "file": "creation", "network": "start"}
    return new_event(
        kind="event",
        category=category,
        type=kinds.get(category, "info"),
        action=action,
        timestamp=when or BASE + timedelta(seconds=index),
        host={"name": host},
        **{"event.sequence": index},
        **fields,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")
