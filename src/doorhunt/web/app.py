"""The UI's HTTP API and static front end (FastAPI). Every endpoint: docs/ui.md, "API".

Read-only over the event store; the only writes are alert status, pins and notes, which go
to the triage database (doorhunt.investigate.triage). Parameters are read by web.params, so a
bad value is a 400 answer naming the parameter, never a 500.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, cast

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorhunt import __version__
from doorhunt.ecs import get_field
from doorhunt.errors import InputError
from doorhunt.investigate import (
    LISTING_FIELDS,
    STATUSES,
    AlertFilter,
    EntityNotFound,
    SegmentIndex,
    SweepArchive,
    TimelineQuery,
    TransitionError,
    TriageDatabase,
    Window,
    correlate,
    default_window,
    explain_filter,
    fetch_documents,
    find_alert,
    get_event,
    host_list,
    host_page,
    list_alerts,
    network,
    overview,
    timeline,
    users,
)
from doorhunt.investigate.alerts import GROUPS, SORTS
from doorhunt.investigate.events import find_rows, parse_ref
from doorhunt.investigate.index import SEVERITIES
from doorhunt.investigate.timeline import MAX_LIMIT
from doorhunt.investigate.tree import build_process_tree
from doorhunt.store import Store, StoreReader
from doorhunt.web import params
from doorhunt.web.messages import MESSAGES, catalog_json
from doorhunt.web.params import ParameterError, Query
from doorhunt.web.security import AccessPolicy, SecurityMiddleware

log = logging.getLogger("doorhunt.web")

STATIC: Final = Path(__file__).parent / "static"
LANGUAGES: Final = ("en", "ko")
CATEGORIES: Final = (
    "process",
    "file",
    "network",
    "host",
    "authentication",
    "iam",
    "session",
    "driver",
    "configuration",
    "intrusion_detection",
    "malware",
    "package",
    "other",
)
MAX_BODY: Final = 64 * 1024
REFRESH_SECONDS: Final = 2.0


class JsonResponse(Response):
    """JSON by orjson; text that is not UTF-8 (it should never reach here) is escaped."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return json.dumps(content, ensure_ascii=True, default=str).encode("ascii")


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class UiState:
    """What the endpoints share: the data directory and its readers."""

    data: Path
    reader: StoreReader
    index: SegmentIndex
    triage: TriageDatabase
    archive: SweepArchive
    stop: threading.Event = field(default_factory=threading.Event)
    refresher: threading.Thread | None = None

    @classmethod
    def open(cls, data: Path, *, isolate_rows: int | None = None) -> UiState:
        reader = Store(data / "store").reader(threads=2)
        kwargs = {} if isolate_rows is None else {"isolate_rows": isolate_rows}
        return cls(
            data=data,
            reader=reader,
            index=SegmentIndex(reader, **kwargs),
            triage=TriageDatabase.in_directory(data),
            archive=SweepArchive.in_directory(data),
        )

    def start_refreshing(self) -> None:
        """Keep the segment index current in a background thread (docs/ui.md)."""

        def run() -> None:
            while not self.stop.is_set():
                try:
                    self.index.refresh()
                except Exception:  # the next round tries again; the pages use the last index
                    log.exception("refreshing the segment index failed")
                self.stop.wait(REFRESH_SECONDS)

        self.refresher = threading.Thread(target=run, name="doorhunt-ui-index", daemon=True)
        self.refresher.start()

    def close(self) -> None:
        self.stop.set()
        if self.refresher is not None:
            self.refresher.join(timeout=30)
        self.reader.close()

    def newest(self) -> datetime:
        """What ages (`24h`) count back from: the newest stored event, so that an incident
        ingested months later reads the same as a live one; the clock when the store is empty."""
        last = self.reader.info().last
        return last + timedelta(microseconds=1) if last is not None else datetime.now(UTC)

    def window(self, query: Query) -> Window:
        """The `since`/`until` of a page, else the last day of stored events."""
        since, until = params.time_range(query, now=self.newest())
        return default_window(self.reader, since, until)

    def fresh_index(self) -> SegmentIndex:
        """The index, after its first refresh (done here when no thread does it)."""
        if self.refresher is None:
            self.index.ensure_fresh()
        else:
            self.index.wait_ready(timeout=120)
        return self.index


def _query(request: Request) -> Query:
    grouped: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        grouped.setdefault(key, []).append(value)
    return grouped


async def _body(request: Request) -> Mapping[str, object]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ParameterError(f"larger than {MAX_BODY // 1024} KiB", location="body")
    if not raw:
        return {}
    try:
        loaded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ParameterError("expected a JSON object", location="body") from None
    if not isinstance(loaded, dict):
        raise ParameterError("expected a JSON object", location="body")
    return loaded


def _body_text(body: Mapping[str, object], name: str, *, limit: int = 4000) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParameterError("expected text", location=name)
    return params.checked_text(value, name, limit=limit)


def _event_ref(text: str) -> str:
    """An event reference from a path (`ref`), checked."""
    parse_ref(params.checked_text(text, "ref", limit=100))
    return text


def _language(query: Query) -> str:
    return params.choice(query, "lang", LANGUAGES, "en")


def create_app(
    state: UiState, *, token: str | None = None, loopback: bool = True, port: int = 8765
) -> Any:
    """The ASGI application: the API, the static files, and the security layer around them."""
    app = FastAPI(
        title="doorhunt ui",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        default_response_class=JsonResponse,
    )
    app.state.ui = state

    @app.exception_handler(InputError)
    async def input_error(_: Request, error: InputError) -> Response:
        status = 409 if isinstance(error, TransitionError) else 400
        if isinstance(error, EntityNotFound):
            status = 404
        return JsonResponse(
            {"error": error.message, "location": error.location, "detail": str(error)},
            status_code=status,
        )

    @app.exception_handler(NotFound)
    async def not_found(_: Request, error: NotFound) -> Response:
        return JsonResponse({"error": error.message}, status_code=404)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        location = ".".join(str(part) for part in first.get("loc", ()))
        return JsonResponse(
            {"error": str(first.get("msg", "invalid request")), "location": location},
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> Response:
        return JsonResponse({"error": str(error.detail)}, status_code=error.status_code)

    @app.exception_handler(Exception)
    async def internal(_: Request, error: Exception) -> Response:
        log.exception("internal error", exc_info=error)
        return JsonResponse(
            {"error": "internal error (the server's log has the details)"}, status_code=500
        )

    def ui(request: Request) -> UiState:
        return cast(UiState, request.app.state.ui)

    def take(query: Query, names: tuple[str, ...]) -> Query:
        params.known(query, names)
        return query

    # -- the page ---------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index_page() -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # -- reference --------------------------------------------------------------------------------

    @app.get("/api/info")
    def info(request: Request) -> dict[str, object]:
        take(_query(request), ())
        state = ui(request)
        store = state.reader.info()
        return {
            "version": __version__,
            "languages": list(LANGUAGES),
            "store": store.to_json() | {"days": len(store.days)},
            "index": {
                "ready": state.index.refreshed_at > 0,
                "segments": len(state.index.summaries()),
            },
            "fields": list(LISTING_FIELDS),
            "categories": list(CATEGORIES),
            "severities": list(SEVERITIES),
            "statuses": list(STATUSES),
            "hosts": sorted(state.fresh_index().hosts()),
        }

    @app.get("/api/messages")
    def messages(request: Request) -> Mapping[str, object]:
        take(_query(request), ())
        return catalog_json(MESSAGES)

    # -- overview, hosts, network, users ------------------------------------------------------------

    @app.get("/api/overview")
    def get_overview(request: Request) -> dict[str, object]:
        take(_query(request), ())
        state = ui(request)
        return overview(state.reader, state.fresh_index(), state.triage)

    @app.get("/api/hosts")
    def get_hosts(request: Request) -> dict[str, object]:
        take(_query(request), ())
        state = ui(request)
        return {"hosts": [h.to_json() for h in host_list(state.fresh_index(), state.triage)]}

    @app.get("/api/hosts/{name:path}")
    def get_host(name: str, request: Request) -> dict[str, object]:
        query = take(_query(request), ("since", "until", "lang"))
        name = params.checked_text(name, "name", limit=params.MAX_NAME)
        state = ui(request)
        window = state.window(query)
        page = host_page(
            state.reader,
            state.fresh_index(),
            state.triage,
            state.archive,
            name,
            window,
            language=_language(query),
        )
        if page is None:
            raise NotFound(f"nothing is known about host {name[:100]!r}")
        return page

    @app.get("/api/network")
    def get_network(request: Request) -> dict[str, object]:
        query = take(_query(request), ("host", "since", "until"))
        state = ui(request)
        window = state.window(query)
        return network(
            state.reader, state.fresh_index(), params.optional_text(query, "host"), window
        )

    @app.get("/api/users")
    def get_users(request: Request) -> dict[str, object]:
        query = take(_query(request), ("host", "since", "until"))
        state = ui(request)
        window = state.window(query)
        return users(state.reader, state.fresh_index(), params.optional_text(query, "host"), window)

    # -- alerts -------------------------------------------------------------------------------------

    @app.get("/api/alerts")
    def get_alerts(request: Request) -> dict[str, object]:
        query = take(
            _query(request),
            ("status", "severity", "rule", "host", "entity", "since", "until", "group", "sort",
             "limit", "offset"),
        )  # fmt: skip
        since, until = params.time_range(query, now=ui(request).newest())
        selection = AlertFilter(
            statuses=params.choices(query, "status", STATUSES),
            severities=params.choices(query, "severity", SEVERITIES),
            rules=frozenset(params.texts(query, "rule")),
            hosts=frozenset(params.texts(query, "host")),
            since=since,
            until=until,
            entity=params.optional_text(query, "entity"),
        )
        group = params.choice(query, "group", ("", *GROUPS), "")
        state = ui(request)
        listing = list_alerts(
            state.fresh_index(),
            state.triage,
            selection,
            group_by=cast(Any, group or None),
            sort=cast(Any, params.choice(query, "sort", SORTS, "time")),
            limit=params.integer(query, "limit", 100, low=0, high=MAX_LIMIT),
            offset=params.integer(query, "offset", 0, low=0, high=10_000_000),
        )
        return listing.to_json()

    @app.get("/api/alerts/{ref}")
    def get_alert(ref: str, request: Request) -> dict[str, object]:
        take(_query(request), ())
        state = ui(request)
        params.checked_text(ref, "ref", limit=100)
        alert = find_alert(state.fresh_index(), ref)
        if alert is None:
            raise NotFound("no such alert")
        return {
            **alert.to_json(),
            "status": state.triage.status(ref),
            "history": [change.to_json() for change in state.triage.history(ref)],
        }

    @app.post("/api/alerts/{ref}/status")
    async def set_alert_status(ref: str, request: Request) -> dict[str, object]:
        take(_query(request), ())
        body = await _body(request)
        state = ui(request)
        params.checked_text(ref, "ref", limit=100)
        if find_alert(state.fresh_index(), ref) is None:
            raise NotFound("no such alert")
        expected = body.get("expected")
        change = state.triage.set_status(
            ref,
            _body_text(body, "status", limit=40),
            note=_body_text(body, "note"),
            analyst=_body_text(body, "analyst", limit=100),
            expected=expected if isinstance(expected, str) else None,
        )
        return {"status": change.status_to, "change": change.to_json()}

    # -- timeline -----------------------------------------------------------------------------------

    @app.get("/api/timeline")
    def get_timeline(request: Request) -> dict[str, object]:
        query = take(
            _query(request),
            ("q", "host", "category", "since", "until", "sort", "order", "limit", "offset",
             "columns", "buckets"),
        )  # fmt: skip
        since, until = params.time_range(query, now=ui(request).newest())
        selection = TimelineQuery(
            text=params.text(query, "q"),
            hosts=params.texts(query, "host"),
            categories=params.texts(query, "category", limit=100),
            since=since,
            until=until,
        )
        columns = params.fields(query, "columns")
        state = ui(request)
        page = timeline(
            state.reader,
            selection,
            sort=params.text(query, "sort", "@timestamp", limit=100) or "@timestamp",
            order=cast(Any, params.choice(query, "order", ("desc", "asc"), "desc")),
            limit=params.integer(query, "limit", 100, low=1, high=MAX_LIMIT),
            offset=params.integer(query, "offset", 0, low=0, high=1_000_000),
            buckets=params.integer(query, "buckets", 60, low=1, high=500),
            index=state.fresh_index(),
        )
        result = page.to_json()
        pinned = {pin.event for pin in state.triage.pins()}
        noted = state.triage.noted_events([row.ref for row in page.rows])
        extra = [c for c in columns if c not in LISTING_FIELDS]
        documents = fetch_documents(state.reader, page.rows) if extra else {}
        for row, shown in zip(
            page.rows, cast(list[dict[str, object]], result["rows"]), strict=True
        ):
            shown["pinned"] = row.ref in pinned
            shown["noted"] = row.ref in noted
            if extra:
                document = documents.get(row.ref, {})
                fields = cast(dict[str, object], shown["fields"])
                for column in extra:
                    value = _get(document, column)
                    if value is not None:
                        fields[column] = value
        return result

    @app.get("/api/events/{ref}")
    def get_event_detail(ref: str, request: Request) -> dict[str, object]:
        take(_query(request), ())
        state = ui(request)
        detail = get_event(state.reader, params.checked_text(ref, "ref", limit=100))
        if detail is None:
            raise NotFound("the store does not hold this event (any more)")
        pinned = any(pin.event == ref for pin in state.triage.pins())
        return {
            **detail.to_json(),
            "pinned": pinned,
            "notes": [note.to_json() for note in state.triage.notes(ref)],
        }

    @app.get("/api/correlate")
    def get_correlation(request: Request) -> dict[str, object]:
        query = take(_query(request), ("ref", "seconds", "category", "same_host", "limit"))
        ref = params.text(query, "ref", limit=100)
        if not ref:
            raise ParameterError("an event reference is required", location="ref")
        state = ui(request)
        found = correlate(
            state.reader,
            ref,
            seconds=params.number(query, "seconds", 30.0, low=0.001, high=86400.0),
            categories=params.texts(query, "category", limit=100),
            same_host=params.flag(query, "same_host", True),
            limit=params.integer(query, "limit", 500, low=1, high=MAX_LIMIT),
        )
        if found is None:
            raise NotFound("the store does not hold this event (any more)")
        return found.to_json()

    # -- pins and notes -----------------------------------------------------------------------------

    @app.get("/api/pins")
    def get_pins(request: Request) -> dict[str, object]:
        take(_query(request), ())
        state = ui(request)
        pins = state.triage.pins()
        rows = find_rows(state.reader, [(pin.event, pin.host) for pin in pins])
        listed = []
        for pin in pins:
            row = rows.get(pin.event)
            listed.append({**pin.to_json(), "row": row.to_json() if row else None})
        return {"pins": listed}

    @app.put("/api/pins/{ref}")
    async def put_pin(ref: str, request: Request) -> dict[str, object]:
        query = take(_query(request), ("host",))
        pin = ui(request).triage.pin(_event_ref(ref), params.optional_text(query, "host"))
        return pin.to_json()

    @app.delete("/api/pins/{ref}")
    async def delete_pin(ref: str, request: Request) -> dict[str, object]:
        take(_query(request), ())
        return {"removed": ui(request).triage.unpin(_event_ref(ref))}

    @app.get("/api/notes")
    def get_notes(request: Request) -> dict[str, object]:
        query = take(_query(request), ("event", "all"))
        event = params.optional_text(query, "event", limit=100)
        every = params.flag(query, "all")
        notes = ui(request).triage.notes(event, every=every)
        return {"notes": [note.to_json() for note in notes]}

    @app.post("/api/notes")
    async def post_note(request: Request) -> dict[str, object]:
        take(_query(request), ())
        body = await _body(request)
        event = body.get("event")
        if event is not None and not isinstance(event, str):
            raise ParameterError("expected an event reference", location="event")
        note = ui(request).triage.add_note(
            _body_text(body, "text"),
            event=event or None,
            analyst=_body_text(body, "analyst", limit=100),
        )
        return note.to_json()

    @app.delete("/api/notes/{identifier}")
    async def delete_note(identifier: str, request: Request) -> dict[str, object]:
        take(_query(request), ())
        number = params.integer({"id": [identifier]}, "id", 0, low=1, high=2**62)
        return {"removed": ui(request).triage.delete_note(number)}

    # -- analyzer and filters -----------------------------------------------------------------------

    @app.get("/api/tree")
    def get_tree(request: Request) -> dict[str, object]:
        query = take(_query(request), ("entity", "host", "at", "max_nodes"))
        entity = params.text(query, "entity", limit=512)
        if not entity:
            raise ParameterError("a process entity id is required", location="entity")
        state = ui(request)
        index = state.fresh_index()
        at = params.moment(query, "at", now=state.newest())

        def alert_counts(entities: Any, moment: Any) -> dict[str, tuple[int, str | None]]:
            return _alert_counts(index, set(entities), moment)

        tree = build_process_tree(
            state.reader,
            entity,
            at=at,
            max_nodes=params.integer(query, "max_nodes", 10_000, low=1, high=50_000),
            host=params.optional_text(query, "host"),
            alert_counts=alert_counts,
        )
        return tree.to_json()

    @app.get("/api/bpf/explain")
    def get_explanation(request: Request) -> dict[str, object]:
        query = take(_query(request), ("bytecode", "link", "lang"))
        bytecode = params.text(query, "bytecode", limit=2 * 8 * 4096).strip().lower()
        if not bytecode:
            raise ParameterError("hexadecimal bytecode is required", location="bytecode")
        return explain_filter(
            bytecode, params.choice(query, "link", ("ethernet", "ip"), "ethernet"), _language(query)
        )

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
    def unknown(rest: str) -> Response:
        return JsonResponse({"error": f"no such endpoint: /api/{rest[:100]}"}, status_code=404)

    policy = AccessPolicy(token=token, loopback=loopback, port=port)
    return SecurityMiddleware(app, policy)


def _alert_counts(
    index: SegmentIndex, entities: set[str], at: Any
) -> dict[str, tuple[int, str | None]]:
    rank = {severity: position for position, severity in enumerate(SEVERITIES)}
    found: dict[str, tuple[int, str | None]] = {}
    for alert in index.alerts():
        entity = alert.process_entity_id
        if entity is None or entity not in entities or (at is not None and alert.timestamp > at):
            continue
        count, highest = found.get(entity, (0, None))
        if highest is None or rank[alert.severity] > rank[highest]:
            highest = alert.severity
        found[entity] = (count + 1, highest)
    return found


def _get(document: Mapping[str, object], name: str) -> object:
    try:
        return get_field(document, name)
    except ValueError:
        return None


__all__ = ["STATIC", "JsonResponse", "UiState", "create_app"]
