"""ECS documents for what the sensor sees, with Elastic Defend's field names and `event.action`
values on Linux (BPFDOOR.md §7), and documented doorhunt actions for what Defend lacks
(`name_change`, `filter_attached`, `socket_opened`, `timestomp`)."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Mapping

from doorhunt.ecs import ECS_VERSION, format_epoch
from doorhunt.sensor.fanotify import FileEvent
from doorhunt.sensor.processes import ProcessEntry, ProcessTable

DATASET_PROCESS = "doorhunt.process"
DATASET_FILE = "doorhunt.file"
DATASET_SENSOR = "doorhunt.sensor"

# proc connector action → (event.type, Defend's event.action)
PROCESS_ACTIONS = {
    "already_running": "info",
    "fork": "start",
    "exec": "start",
    "end": "end",
    "uid_change": "change",
    "gid_change": "change",
    "session_id_change": "change",
    "name_change": "change",
    "ptrace": "change",
}
FILE_TYPES = {
    "creation": "creation",
    "deletion": "deletion",
    "rename": "change",
    "modification": "change",
}


def _event(
    kind: str,
    category: str,
    event_type: str,
    action: str,
    timestamp: float,
    dataset: str,
    host: Mapping[str, object],
) -> dict[str, object]:
    """The core of a document, built directly: the sensor makes thousands a second, and
    ecs.new_event's general merging costs more than everything else on that path (measured
    with cProfile under an exec storm). Tests hold these documents to the ECS validator."""
    return {
        "@timestamp": format_epoch(timestamp),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": kind,
            "category": [category],
            "type": [event_type],
            "action": action,
            "dataset": dataset,
            "module": "doorhunt",
        },
        "host": host,
    }


def process_document(
    action: str,
    entry: ProcessEntry,
    table: ProcessTable,
    host: Mapping[str, object],
    timestamp: float,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    document = _event(
        "event", "process", PROCESS_ACTIONS[action], action, timestamp, DATASET_PROCESS, host
    )
    document["process"] = table.process_fields(entry)
    if entry.partial:
        document["doorhunt"] = {"event": {"partial": True}}
    for name, value in (extra or {}).items():
        _put(document, name, value)
    return document


def file_document(
    event: FileEvent, table: ProcessTable, host: Mapping[str, object], timestamp: float
) -> dict[str, object]:
    directory, _, name = event.path.rpartition("/")
    file_fields: dict[str, object] = {
        "path": event.path,
        "name": name,
        "directory": directory or "/",
        "type": "dir" if event.directory else "file",
    }
    if event.action != "deletion":
        try:
            info = os.lstat(event.path)
        except OSError:
            info = None
        if info is not None:
            file_fields |= {
                "size": info.st_size,
                "mode": f"{stat.S_IMODE(info.st_mode):04o}",
                "uid": str(info.st_uid),
                "gid": str(info.st_gid),
                "inode": str(info.st_ino),
                "mtime": format_epoch(info.st_mtime),
                "ctime": format_epoch(info.st_ctime),
            }
            if stat.S_ISLNK(info.st_mode):
                file_fields["type"] = "symlink"
    if event.old_path is not None and event.old_path != event.path:
        file_fields["Ext"] = {"original": {"path": event.old_path}}
    document = _event(
        "event", "file", FILE_TYPES[event.action], event.action, timestamp, DATASET_FILE, host
    )
    document["file"] = file_fields
    actor = table.get(event.pid)
    if actor is not None:
        document["process"] = table.process_fields(actor)
    elif event.pid:
        document["process"] = {"pid": event.pid}
    if event.action in ("deletion", "rename") and table.runs(event.old_path or event.path):
        _put(document, "doorhunt.file.running_executable", True)
    return document


def status_document(
    host: Mapping[str, object], counters: Mapping[str, int], sources: list[str]
) -> dict[str, object]:
    document = _event("metric", "host", "info", "sensor_status", time.time(), DATASET_SENSOR, host)
    document["doorhunt"] = {
        "sensor": {
            "events": counters.get("events", 0),
            "lost": counters.get("lost", 0),
            "dropped": counters.get("dropped", 0),
            "alerts": counters.get("alerts", 0),
            "sources": sources,
        }
    }
    return document


def _put(document: dict[str, object], name: str, value: object) -> None:
    """Set a dotted field, copying the objects on the way: process dicts are shared between
    documents (the table caches them), so they are never changed in place."""
    parts = name.split(".")
    node = document
    for part in parts[:-1]:
        child = node.get(part)
        copy = dict(child) if isinstance(child, dict) else {}
        node[part] = copy
        node = copy
    node[parts[-1]] = value


__all__ = ["file_document", "process_document", "status_document"]
