"""Querying Elasticsearch with the filters of `StoreReader.events`, so `doorhunt events --es`
answers the same question over a fleet's data streams (or Elastic Defend's own indices)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from doorhunt.es.connection import EsConfig, EsUnavailableError
from doorhunt.es.template import SEARCH_PATTERN

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

# Elasticsearch's index.max_result_window default: deeper pages need search_after.
MAX_SIZE: Final = 10_000


def search_body(
    *,
    host: str | None = None,
    category: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    where: Sequence[tuple[str, str]] = (),
) -> dict[str, object]:
    """The `query` of a search: a bool filter with the same meaning as the store's filters
    (exact, case-sensitive terms; `*` wildcards; arrays match when any element does)."""
    filters: list[dict[str, object]] = []
    pairs = list(where)
    for field, value in (
        ("event.action", action),
        ("event.category", category),
        ("host.name", host),
    ):
        if value is not None:
            pairs.insert(0, (field, value))
    for field, value in pairs:
        if "*" in value:
            escaped = value.replace("\\", "\\\\").replace("?", "\\?")
            filters.append({"wildcard": {field: {"value": escaped}}})
        else:
            filters.append({"term": {field: value}})
    bounds: dict[str, object] = {}
    if since is not None:
        bounds["gte"] = _iso(since)
    if until is not None:
        bounds["lt"] = _iso(until)
    if bounds:
        bounds["format"] = "strict_date_optional_time"
        filters.append({"range": {"@timestamp": bounds}})
    return {"bool": {"filter": filters}}


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return moment.isoformat()


class EsReader:
    """`events` over Elasticsearch indices (doorhunt's data streams by default)."""

    def __init__(
        self,
        config: EsConfig,
        *,
        index: str = SEARCH_PATTERN,
        client: Elasticsearch | None = None,
    ) -> None:
        self.config = config
        self.index = index
        self._client = client or config.client()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EsReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def events(
        self,
        *,
        host: str | None = None,
        category: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        where: Sequence[tuple[str, str]] = (),
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[dict[str, object]]:
        """The same contract as `StoreReader.events`."""
        from elasticsearch import ApiError, TransportError  # noqa: PLC0415 (optional extra)

        if limit <= 0:
            return []
        query = search_body(
            host=host, category=category, action=action, since=since, until=until, where=where
        )
        try:
            response = self._client.search(
                index=self.index,
                query=query,
                sort=[{"@timestamp": {"order": "desc" if newest_first else "asc"}}],
                size=min(limit, MAX_SIZE),
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        except ApiError as error:
            raise EsUnavailableError(
                f"search refused: {error.meta.status} {_reason(error.body)}",
                location=self.config.display,
            ) from None
        except TransportError as error:
            raise EsUnavailableError(f"no answer: {error}", location=self.config.display) from None
        body: Mapping[str, Any] = response.body
        hits = body.get("hits", {}).get("hits", [])
        return [dict(hit["_source"]) for hit in hits if isinstance(hit.get("_source"), dict)]


def _reason(body: object) -> str:
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return str(error.get("reason") or error.get("type") or "")
    return ""


__all__ = ["MAX_SIZE", "EsReader", "search_body"]
