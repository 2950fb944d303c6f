"""Building and reading ECS documents as Elasticsearch stores them: nested objects.

A key may itself contain dots (`{"process.pid": 1}` is the same field as
`{"process": {"pid": 1}}` to Elasticsearch); every reader here accepts both spellings.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from doorhunt.ecs.schema import ECS_VERSION

Document = dict[str, object]

_MISSING: Final = object()


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and `Z`, the form Elastic Defend writes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware; naive datetimes are ambiguous")
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def format_epoch(seconds: float) -> str:
    """`format_timestamp` for seconds since the epoch, without a datetime: the sensor formats
    thousands a second."""
    whole = int(seconds)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        + f".{int((seconds - whole) * 1000):03d}Z"
    )


def new_event(
    *,
    kind: str,
    category: str | Sequence[str],
    type: str | Sequence[str],  # shadows the builtin to match the ECS field event.type
    action: str,
    timestamp: datetime | None = None,
    **fields: object,
) -> Document:
    """A nested ECS document with the core fields set; `fields` are merged in by name.

    Each keyword names a top-level field or field set (`process={...}`, `host=host_fields()`);
    dotted names work through `**{"process.pid": 1}`. Objects are merged with what is already
    there; setting one field twice raises ValueError. `category` and `type` are stored as
    arrays, as ECS normalises them.
    """
    document: Document = {
        "@timestamp": format_timestamp(timestamp or datetime.now(UTC)),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": kind,
            "category": _as_list(category),
            "type": _as_list(type),
            "action": action,
        },
    }
    for name, value in fields.items():
        _merge(document, name, value)
    return document


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _merge(document: Document, name: str, value: object) -> None:
    if isinstance(value, Mapping) and value:
        for key, child in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{name}: field names must be strings, got {key!r}")
            _merge(document, f"{name}.{key}", child)
        return
    existing = get_field(document, name, _MISSING)
    if existing is _MISSING:
        set_field(document, name, list(value) if isinstance(value, list | tuple) else value)
    elif not (isinstance(existing, Mapping) and value == {}):
        raise ValueError(f"field {name} is given twice")


def _split(name: str) -> list[str]:
    segments = name.split(".")
    if not all(segments):
        raise ValueError(f"field name {name!r} has an empty segment")
    return segments


def _find(obj: Mapping[str, object], segments: Sequence[str], start: int) -> object:
    # Nested spelling first, then ever longer dotted keys: `process` before `process.pid`.
    for end in range(start + 1, len(segments) + 1):
        key = ".".join(segments[start:end])
        if key not in obj:
            continue
        value = obj[key]
        if end == len(segments):
            return value
        if isinstance(value, Mapping):
            found = _find(value, segments, end)
            if found is not _MISSING:
                return found
    return _MISSING


def get_field(document: Mapping[str, object], name: str, default: object = None) -> object:
    """The value at dotted `name`, through nested objects or dotted keys; `default` if absent."""
    found = _find(document, _split(name), 0)
    return default if found is _MISSING else found


def set_field(document: MutableMapping[str, object], name: str, value: object) -> None:
    """Set dotted `name`, reusing the objects (or dotted keys) already on its path."""
    segments = _split(name)
    obj = document
    start = 0
    while True:
        blocker = None
        for end in range(start + 1, len(segments) + 1):
            key = ".".join(segments[start:end])
            if key not in obj:
                continue
            if end == len(segments):
                obj[key] = value
                return
            child = obj[key]
            if isinstance(child, MutableMapping):
                obj, start = child, end
                break
            blocker = key
        else:
            if blocker is not None:
                kind = type(obj[blocker]).__name__
                raise ValueError(f"cannot set {name}: {blocker} holds a {kind}, not an object")
            for segment in segments[start:-1]:
                created: dict[str, object] = {}
                obj[segment] = created
                obj = created
            obj[segments[-1]] = value
            return


def flatten(document: Mapping[str, object]) -> dict[str, object]:
    """Dotted names to values. Arrays (even of objects) and empty objects are values.

    Raises ValueError when a field is spelled twice (a dotted key and a nested object).
    """
    flat: dict[str, object] = {}
    _flatten_into(flat, document, "")
    return flat


def _flatten_into(flat: dict[str, object], obj: Mapping[str, object], prefix: str) -> None:
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"{prefix or 'document'}: field names must be strings, got {key!r}")
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping) and value:
            _flatten_into(flat, value, name)
        elif name in flat:
            raise ValueError(f"field {name} appears twice (a dotted key and a nested object)")
        else:
            flat[name] = value


def entity_id(host_id: str, pid: int, start_time_ticks: int, *, boot_id: str = "") -> str:
    """doorhunt's process id: unpadded URL-safe base64 of SHA-256 over host, boot, pid, start.

    The role of Elastic Defend's `process.entity_id`: one id per process for its whole life,
    distinct from every other process on every host, stable however often it is computed.
    `start_time_ticks` is field 22 of /proc/PID/stat (clock ticks since boot), which tells
    apart processes that reuse a pid. Pass `boot_id` (`host.boot.id` from `host_fields()`):
    ticks restart at each boot, so early processes such as pid 1 would otherwise get the same
    id after every reboot. URL-safe because the web UI puts ids in URL paths.
    """
    if not host_id:
        raise ValueError("host_id is empty")
    if pid < 0 or start_time_ticks < 0:
        raise ValueError(f"pid and start time must not be negative, got {pid}, {start_time_ticks}")
    # A JSON array keeps the parts apart whatever they contain, surrogates included.
    parts = json.dumps(["doorhunt-entity-v1", host_id, boot_id, pid, start_time_ticks])
    digest = hashlib.sha256(parts.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# os-release(5): KEY=value lines; a value may be quoted, with backslash escapes inside.
_OS_RELEASE_LINE: Final = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)")
_OS_RELEASE_MAX_BYTES: Final = 64 * 1024
_MACHINE_ID: Final = re.compile(r"[0-9a-f]{32}")  # machine-id(5)
_BOOT_ID: Final = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")  # random(4)

# host.os.family as Elastic Agent reports it: elastic/go-sysinfo providers/linux/os.go maps
# the os-release ID to a family; doorhunt also tries each ID_LIKE word, for derivatives.
_OS_FAMILIES: Final = {
    "debian": "debian",
    "ubuntu": "debian",
    "raspbian": "debian",
    "redhat": "redhat",
    "rhel": "redhat",
    "centos": "redhat",
    "fedora": "redhat",
    "scientific": "redhat",
    "oraclelinux": "redhat",
    "ol": "redhat",
    "amzn": "redhat",
    "rocky": "redhat",
    "almalinux": "redhat",
    "suse": "suse",
    "sles": "suse",
    "opensuse": "suse",
    "opensuse-leap": "suse",
}


def parse_os_release(text: str) -> dict[str, str]:
    """The variables of an os-release file, unquoted; never evaluated as shell."""
    variables: dict[str, str] = {}
    for line in text.splitlines():
        match = _OS_RELEASE_LINE.fullmatch(line.strip())
        if match is None:
            continue  # comments, blank lines, and anything malformed
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        variables[key] = value
    return variables


def _read_text(path: Path, limit: int) -> str | None:
    try:
        with path.open("rb") as stream:
            return stream.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def host_fields(*, root: Path = Path("/")) -> dict[str, object]:
    """This host's `host.*` object: name, id (machine-id), boot.id, architecture, os.

    Returns the value for the `host` key, as in `new_event(..., host=host_fields())`.
    Unreadable sources leave their fields out. `root` lets tests point at a fake tree.
    """
    # Undecodable bytes in the hostname would be surrogates, which JSON cannot carry.
    hostname = socket.gethostname().encode("utf-8", "replace").decode("utf-8")
    uname = os.uname()
    host: dict[str, object] = {
        "name": hostname,
        "hostname": hostname,
        "architecture": uname.machine,
    }
    machine_id = (_read_text(root / "etc" / "machine-id", 128) or "").strip()
    if _MACHINE_ID.fullmatch(machine_id):
        host["id"] = machine_id
    boot_id_path = root / "proc" / "sys" / "kernel" / "random" / "boot_id"
    boot_id = (_read_text(boot_id_path, 128) or "").strip()
    if _BOOT_ID.fullmatch(boot_id):
        host["boot"] = {"id": boot_id}
    os_fields: dict[str, object] = {"type": "linux", "kernel": uname.release}
    for candidate in (root / "etc" / "os-release", root / "usr" / "lib" / "os-release"):
        text = _read_text(candidate, _OS_RELEASE_MAX_BYTES)
        if text is not None:
            os_fields.update(_os_fields(parse_os_release(text)))
            break
    host["os"] = os_fields
    return host


def _os_fields(release: Mapping[str, str]) -> dict[str, str]:
    fields = {
        "name": release.get("NAME", ""),
        "version": release.get("VERSION", release.get("VERSION_ID", "")),
        "platform": release.get("ID", ""),
        "full": release.get("PRETTY_NAME", ""),
    }
    for candidate in [release.get("ID", ""), *release.get("ID_LIKE", "").split()]:
        if candidate in _OS_FAMILIES:
            fields["family"] = _OS_FAMILIES[candidate]
            break
    return {key: value for key, value in fields.items() if value}
