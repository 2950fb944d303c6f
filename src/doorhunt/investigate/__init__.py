"""Investigations over the embedded store: what `doorhunt ui` and `doorhunt report` ask.

Every question is bounded (a host, a time range, a LIMIT) and answered from the store's hot
columns; the few facts only documents hold (alert severity, sweep verdicts, socket filters)
are summarised once per immutable segment by a SegmentIndex. Design and figures: docs/ui.md.

    reader = Store(data / "store").reader()
    tree = process_tree(reader, entity_id, at=moment)          # ancestors and descendants
    index = SegmentIndex(reader); index.refresh()              # alerts, sweeps, volumes
    listing = list_alerts(index, TriageDatabase.in_directory(data),
                          AlertFilter(hosts=frozenset({"web-1"})), group_by="rule")
    page = timeline(reader, TimelineQuery('process where process.name == "bash"',
                                          hosts=("web-1",), since=a, until=b), index=index)
    around = correlate(reader, page.rows[0].ref, seconds=30, categories=("file", "network"))
    detail = get_event(reader, page.rows[0].ref)               # the whole document

The API:

- tree: `ProcessNode`, `ProcessTree`, `process_tree(reader, entity_id, *, at=None,
  max_nodes=10_000)`; `build_process_tree(...)` adds `host=` and `alert_counts=` shortcuts;
  `EntityNotFound`.
- events: `EventRow` (ref, timestamp, hot fields), `EventDetail` (the document),
  `get_event`, `fetch_documents`, `parse_ref`, `event_ref`, `LISTING_FIELDS`.
- index: `SegmentIndex` with `alerts()`, `sweeps()`, `latest_sweeps()`, `sockets()`,
  `volume()`, `hosts()`, `users()`, `executables()`; records `AlertRecord`, `SweepRecord`,
  `SocketRecord`, `Tally`.
- alerts: `AlertFilter`, `list_alerts` -> `AlertListing` (page, groups, counts),
  `AlertView` (alert + status), `alerts_by_entity`, `find_alert`.
- triage: `TriageDatabase` (alert status with history, pins, notes), `STATUSES`,
  `TRANSITIONS`, `TransitionError`.
- timeline: `TimelineQuery`, `timeline` -> `TimelinePage`, `parse_query`, `correlate` ->
  `Correlation`.
- explore: `overview`, `host_list`, `host_page`, `network`, `users`, `default_window`,
  `Window`; sockets: `host_sockets`, `explain_filter`; sweeps: `SweepArchive`.

Every failure of a question as asked is an `InvestigationError` (an InputError) naming the
parameter; store and EQL errors keep their own InputError types.
"""

from __future__ import annotations

from doorhunt.investigate.alerts import (
    AlertFilter,
    AlertGroup,
    AlertListing,
    AlertView,
    alerts_by_entity,
    find_alert,
    list_alerts,
)
from doorhunt.investigate.errors import InvestigationError
from doorhunt.investigate.events import (
    LISTING_FIELDS,
    EventDetail,
    EventRow,
    event_ref,
    fetch_documents,
    get_event,
    parse_ref,
)
from doorhunt.investigate.explore import (
    HostSummary,
    Window,
    default_window,
    host_list,
    host_page,
    network,
    overview,
    users,
)
from doorhunt.investigate.index import (
    AlertRecord,
    SegmentIndex,
    SocketRecord,
    SweepRecord,
    Tally,
)
from doorhunt.investigate.sockets import SocketView, explain_filter, host_sockets
from doorhunt.investigate.sweeps import SweepArchive
from doorhunt.investigate.timeline import (
    Correlation,
    TimelinePage,
    TimelineQuery,
    correlate,
    parse_query,
    timeline,
)
from doorhunt.investigate.tree import (
    EntityNotFound,
    ProcessNode,
    ProcessTree,
    build_process_tree,
    process_tree,
)
from doorhunt.investigate.triage import (
    STATUSES,
    TRANSITIONS,
    Note,
    Pin,
    StatusChange,
    TransitionError,
    TriageDatabase,
)

__all__ = [
    "LISTING_FIELDS",
    "STATUSES",
    "TRANSITIONS",
    "AlertFilter",
    "AlertGroup",
    "AlertListing",
    "AlertRecord",
    "AlertView",
    "Correlation",
    "EntityNotFound",
    "EventDetail",
    "EventRow",
    "HostSummary",
    "InvestigationError",
    "Note",
    "Pin",
    "ProcessNode",
    "ProcessTree",
    "SegmentIndex",
    "SocketRecord",
    "SocketView",
    "StatusChange",
    "SweepArchive",
    "SweepRecord",
    "Tally",
    "TimelinePage",
    "TimelineQuery",
    "TransitionError",
    "TriageDatabase",
    "Window",
    "alerts_by_entity",
    "build_process_tree",
    "correlate",
    "default_window",
    "event_ref",
    "explain_filter",
    "fetch_documents",
    "find_alert",
    "get_event",
    "host_list",
    "host_page",
    "host_sockets",
    "list_alerts",
    "network",
    "overview",
    "parse_query",
    "parse_ref",
    "process_tree",
    "timeline",
    "users",
]
