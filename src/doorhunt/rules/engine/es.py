"""Pass-through to an Elasticsearch cluster's EQL search API: the rule runs unchanged there.

Request: `POST /<index>/_eql/search` with the query text, a `range` filter on @timestamp for
the time window, and `size` (EQL search API, reference: operation-eql-search). Response:
`hits.events` for event queries, `hits.sequences` (with `join_keys`) for sequences and
samples; events of missing-event steps come back as `{"missing": true}` placeholders and are
left out of the match, as the streaming engine leaves them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote as url_quote

from doorhunt.rules.engine.compiler import CompiledRule, KeyValue, compile_rule
from doorhunt.rules.engine.streaming import Match

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from doorhunt.es.connection import EsConfig

DEFAULT_INDEX: Final = "logs-*"
DEFAULT_SIZE: Final = 1000


def es_eql_request(
    rule: CompiledRule | str,
    index: str = DEFAULT_INDEX,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    size: int | None = None,
    timestamp_field: str = "@timestamp",
    event_category_field: str = "event.category",
    tiebreaker_field: str | None = None,
    filter_query: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The request for `rule`: {"method", "path", "body"}. A string is compiled first, so a
    query Elasticsearch would reject is rejected here, with its location, before sending."""
    compiled = rule if isinstance(rule, CompiledRule) else compile_rule(rule)
    body: dict[str, Any] = {"query": compiled.text}
    filters: list[Mapping[str, object]] = []
    window: dict[str, str] = {}
    if since is not None:
        window["gte"] = _iso(since)
    if until is not None:
        window["lt"] = _iso(until)
    if window:
        filters.append({"range": {timestamp_field: window}})
    if filter_query is not None:
        filters.append(filter_query)
    if len(filters) == 1:
        body["filter"] = filters[0]
    elif filters:
        body["filter"] = {"bool": {"filter": filters}}
    if size is not None:
        body["size"] = size
    if timestamp_field != "@timestamp":
        body["timestamp_field"] = timestamp_field
    if event_category_field != "event.category":
        body["event_category_field"] = event_category_field
    if tiebreaker_field is not None:
        body["tiebreaker_field"] = tiebreaker_field
    path = (
        "/" + ",".join(url_quote(part, safe="*-_.") for part in index.split(",")) + ("/_eql/search")
    )
    return {"method": "POST", "path": path, "body": body}


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_eql_response(rule: CompiledRule, body: Mapping[str, Any]) -> list[Match]:
    """Matches from an EQL search response body."""
    hits = body.get("hits") or {}
    out: list[Match] = []
    for event in hits.get("events") or []:
        source = event.get("_source")
        if isinstance(source, Mapping):
            out.append(Match(rule, (dict(source),)))
    for sequence in hits.get("sequences") or []:
        events = tuple(
            dict(e["_source"])
            for e in sequence.get("events") or []
            if not e.get("missing") and isinstance(e.get("_source"), Mapping)
        )
        keys: Sequence[Any] = sequence.get("join_keys") or []
        out.append(Match(rule, events, tuple(_key(k) for k in keys)))
    return out


def _key(value: object) -> KeyValue:
    return value if isinstance(value, str | int | float | bool) else None


def es_eql_search(
    target: EsConfig | Elasticsearch,
    rule: CompiledRule | str,
    index: str = DEFAULT_INDEX,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = DEFAULT_SIZE,
) -> list[Match]:
    """Run `rule` on a cluster (an EsConfig, or a client) and return its matches."""
    from doorhunt.es.connection import EsConfig, EsUnavailableError  # noqa: PLC0415

    compiled = rule if isinstance(rule, CompiledRule) else compile_rule(rule)
    request = es_eql_request(compiled, index, since=since, until=until, size=size)
    client = target.client() if isinstance(target, EsConfig) else target
    where = target.display if isinstance(target, EsConfig) else "elasticsearch"
    try:
        from elasticsearch import ApiError, TransportError  # noqa: PLC0415 (optional extra)
    except ImportError:  # pragma: no cover - the extra is installed wherever this runs
        raise EsUnavailableError(
            "the Elasticsearch client is not installed: pip install 'doorhunt[es]'", location=where
        ) from None
    try:
        response = client.perform_request(
            "POST",
            request["path"],
            headers={"accept": "application/json", "content-type": "application/json"},
            body=request["body"],
        )
    except ApiError as error:
        reason = _reason(error.body)
        raise EsUnavailableError(
            f"EQL search refused: {error.meta.status} {reason}", location=where
        ) from None
    except TransportError as error:
        raise EsUnavailableError(f"no answer: {error}", location=where) from None
    finally:
        if isinstance(target, EsConfig):
            client.close()
    body = response.body
    if not isinstance(body, Mapping):
        raise EsUnavailableError("EQL search answered with something other than JSON",
                                 location=where)  # fmt: skip
    return parse_eql_response(compiled, body)


def _reason(body: object) -> str:
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            root = error.get("root_cause")
            if isinstance(root, list) and root and isinstance(root[0], Mapping):
                return str(root[0].get("reason") or error.get("reason") or "")
            return str(error.get("reason") or error.get("type") or "")
    return ""


__all__ = ["DEFAULT_INDEX", "DEFAULT_SIZE", "es_eql_request", "es_eql_search", "parse_eql_response"]
