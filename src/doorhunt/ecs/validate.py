"""Checking documents against the pinned ECS field set and doorhunt's extensions.

`validate` never raises on a document, however hostile (non-string keys, cycles, lone
surrogates, huge integers, NaN): every defect comes back as a `Problem`. Field names are
read as Elasticsearch reads them, so `{"process.pid": 1}` and `{"process": {"pid": 1}}` are
the same field.
"""

from __future__ import annotations

import difflib
import enum
import ipaddress
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeGuard

from doorhunt.ecs.schema import CONTAINER_TYPES, ECS_VERSION, FieldSpec, Schema, load_schema
from doorhunt.errors import InputError

# Deep enough for any ECS field (threat.enrichments[].indicator.file.elf.sections[].name is 10
# levels) and for evidence objects; shallow enough that cycles and hostile nesting stop quickly.
MAX_DEPTH: Final = 32

# The interface fields DESIGN.md ("Interfaces other tools and tests rely on") requires.
REQUIRED_FIELDS: Final = (
    "@timestamp",
    "ecs.version",
    "event.kind",
    "event.category",
    "event.type",
    "event.action",
    "host.name",
)

# "Did you mean" costs a fuzzy match per unknown name; a hostile document can have millions.
_MAX_SUGGESTIONS: Final = 50
_MAX_SUGGESTED_NAME: Final = 64

_TOO_DEEP: Final = f"nested deeper than {MAX_DEPTH} levels; not checked further"


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect: the dotted field name (`""` for the whole document) and what is wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{_printable(self.field) or '<document>'}: {_printable(self.message)}"


class EcsValidationError(InputError):
    """A document that is not valid ECS; `problems` lists every defect found."""

    def __init__(
        self, message: str, *, location: str | None = None, problems: Sequence[Problem] = ()
    ) -> None:
        super().__init__(message, location=location)
        self.problems = tuple(problems)

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> EcsValidationError:
        """The error for `problems`, all of them listed on one line."""
        noun = "problem" if len(problems) == 1 else "problems"
        listing = "; ".join(str(problem) for problem in problems)
        message = f"not a valid ECS {ECS_VERSION} document ({len(problems)} {noun}): {listing}"
        return cls(message, problems=problems)

    def at(self, source: str) -> EcsValidationError:
        location = f"{source}:{self.location}" if self.location else source
        clone = EcsValidationError(self.message, location=location, problems=self.problems)
        clone.__cause__ = self.__cause__
        return clone


def validate(document: object, *, require_core: bool = False) -> list[Problem]:
    """Every problem with `document`; with `require_core`, also missing interface fields."""
    walk = _Walk(load_schema())
    if isinstance(document, Mapping):
        walk.members("", _Mode.SCHEMA, document, depth=1, scope=set(), top=True)
    else:
        walk.report("", f"expected a document (an object), got {_describe(document)}")
    if require_core:
        walk.check_core()
    return walk.problems


def assert_valid(document: object, *, require_core: bool = False) -> None:
    """Raise EcsValidationError listing every problem, if `document` has any."""
    problems = validate(document, require_core=require_core)
    if problems:
        raise EcsValidationError.from_problems(problems)


class _Mode(enum.Enum):
    """How the names below an object are checked."""

    SCHEMA = "schema"  # every name must be a known field or object path
    OPEN = "open"  # known names are checked, others are free (an ECS `object` field)
    FREE = "free"  # anything JSON (a `flattened` field, an `object` field with no known fields)
    TYPED = "typed"  # one level of values of the field's object_type (`labels`)


class _Walk:
    """One pass over a document, collecting problems."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.problems: list[Problem] = []
        self.present: dict[str, object] = {}  # fields set outside arrays, for check_core
        self.suggestions_left = _MAX_SUGGESTIONS

    def report(self, field: str, message: str) -> None:
        self.problems.append(Problem(field, message))

    def check_core(self) -> None:
        for name in REQUIRED_FIELDS:
            if name not in self.present:
                self.report(name, "required field is missing")
        version = self.present.get("ecs.version")
        if isinstance(version, str) and version != ECS_VERSION:
            self.report("ecs.version", f"is {_short(version)}; doorhunt writes ECS {ECS_VERSION}")

    # Objects and names

    def members(
        self,
        parent: str,
        mode: _Mode,
        obj: Mapping[object, object],
        *,
        depth: int,
        scope: set[str],
        top: bool,
    ) -> None:
        if depth > MAX_DEPTH:
            self.report(parent, _TOO_DEEP)
            return
        for key, value in obj.items():
            segments = self.name_segments(parent, key)
            if segments is not None:
                self.member(parent, mode, segments, value, depth=depth, scope=scope, top=top)

    def name_segments(self, parent: str, key: object) -> list[str] | None:
        if not isinstance(key, str):
            self.report(parent, f"field name {_describe(key)} is not a string")
            return None
        name = _join(parent, key)
        if (unicode_error := _unicode_error(key)) is not None:
            self.report(name, f"field name {unicode_error}")
            return None
        segments = key.split(".")
        if not all(segments):
            self.report(name, "field name is empty or has an empty dot-separated part")
            return None
        return segments

    def member(
        self,
        parent: str,
        mode: _Mode,
        segments: list[str],
        value: object,
        *,
        depth: int,
        scope: set[str],
        top: bool,
    ) -> None:
        """Check `value` at `parent` + dotted `segments`, where `parent`'s names obey `mode`."""
        if mode is _Mode.FREE:
            self.free_value(_join(parent, *segments), value, depth=depth)
            return
        if mode is _Mode.TYPED:
            name = _join(parent, *segments)
            if len(segments) > 1:
                self.report(name, f"names below {parent} must not contain dots (no nested objects)")
                return
            object_type = self.schema[parent].object_type or "keyword"
            typed = FieldSpec(name=name, type=object_type, level="custom")
            self.leaf(typed, value, depth=depth, scope=scope, top=top)
            return
        name = parent
        for index, segment in enumerate(segments):
            name = _join(name, segment)
            rest = segments[index + 1 :]
            spec = self.schema.get(name)
            if spec is None and not self.schema.has_children(name):
                if mode is _Mode.OPEN:
                    self.free_value(_join(name, *rest), value, depth=depth)
                else:
                    self.unknown(name)
                return
            if spec is not None and spec.type not in CONTAINER_TYPES:
                if rest:
                    below = f"{name} is a {spec.type} field; no field can be below it"
                    self.report(_join(name, *rest), below)
                else:
                    self.leaf(spec, value, depth=depth, scope=scope, top=top)
                return
            mode = self.mode_below(name, spec)
            if not rest:
                self.container(name, mode, value, depth=depth, scope=scope, top=top)
                return
            if mode in (_Mode.FREE, _Mode.TYPED):
                self.member(name, mode, rest, value, depth=depth, scope=scope, top=top)
                return

    def mode_below(self, name: str, spec: FieldSpec | None) -> _Mode:
        if spec is None:
            return _Mode.SCHEMA  # an object path such as `process.parent`
        if spec.type == "object" and spec.object_type:
            return _Mode.TYPED
        if not self.schema.has_children(name) or spec.type == "flattened":
            return _Mode.FREE
        # ECS allows more keys in `object` fields (dns.answers: "may contain more keys than
        # what ECS defines"); `nested` fields are arrays of documents of the listed fields.
        return _Mode.OPEN if spec.type == "object" else _Mode.SCHEMA

    def container(
        self, name: str, mode: _Mode, value: object, *, depth: int, scope: set[str], top: bool
    ) -> None:
        """An object path or object/nested/flattened field: an object or an array of objects."""
        if value is None:
            return
        if isinstance(value, Mapping):
            self.members(name, mode, value, depth=depth + 1, scope=scope, top=top)
            return
        if not isinstance(value, list | tuple):
            self.report(name, f"expected an object or an array of objects, got {_describe(value)}")
            return
        if depth + 1 > MAX_DEPTH:
            self.report(name, _TOO_DEEP)
            return
        for element in value:
            if isinstance(element, Mapping):
                # Each element is its own object: the same field may appear in every one.
                self.members(name, mode, element, depth=depth + 2, scope=set(), top=False)
            elif element is not None:
                got = _describe(element)
                self.report(name, f"expected an array of objects, got an element {got}")

    def unknown(self, name: str) -> None:
        message = f"unknown field: neither in ECS {ECS_VERSION} nor a doorhunt extension"
        parent, _, last = name.rpartition(".")
        if self.suggestions_left > 0 and len(last) <= _MAX_SUGGESTED_NAME:
            self.suggestions_left -= 1
            close = difflib.get_close_matches(last, self.schema.children(parent), n=1, cutoff=0.75)
            if close:
                message += f" (did you mean {_join(parent, close[0])}?)"
        self.report(name, message)

    # Values

    def leaf(
        self, spec: FieldSpec, value: object, *, depth: int, scope: set[str], top: bool
    ) -> None:
        if spec.name in scope:
            self.report(spec.name, "field is set twice (as a dotted key and in a nested object)")
        scope.add(spec.name)
        if top and value is not None and not (isinstance(value, list | tuple) and not value):
            self.present[spec.name] = value
        self.leaf_value(spec, value, depth=depth)

    def leaf_value(self, spec: FieldSpec, value: object, *, depth: int) -> None:
        if value is None:  # Elasticsearch indexes null as absent
            return
        if isinstance(value, list | tuple) and not (
            spec.type == "geo_point" and _is_coordinate_pair(value)
        ):
            if depth + 1 > MAX_DEPTH:
                self.report(spec.name, _TOO_DEEP)
                return
            for element in value:  # any field may hold an array; each element must fit
                self.leaf_value(spec, element, depth=depth + 1)
            return
        message = _scalar_problem(spec.type, value)
        if message is not None:
            self.report(spec.name, message)
        elif spec.allowed_values and isinstance(value, str) and value not in spec.allowed_values:
            allowed = ", ".join(spec.allowed_values)
            self.report(spec.name, f"{_short(value)} is not allowed; ECS allows: {allowed}")

    def free_value(self, name: str, value: object, *, depth: int) -> None:
        """Anything that serialises to JSON Elasticsearch accepts."""
        if depth > MAX_DEPTH:
            self.report(name, _TOO_DEEP)
        elif isinstance(value, Mapping):
            for key, child in value.items():
                segments = self.name_segments(name, key)
                if segments is not None:
                    self.free_value(_join(name, *segments), child, depth=depth + 1)
        elif isinstance(value, list | tuple):
            for element in value:
                self.free_value(name, element, depth=depth + 1)
        else:
            message = _json_scalar_problem(value)
            if message is not None:
                self.report(name, message)


# Scalar checks: each returns None when the value fits, else the message.

_STRING_TYPES: Final = frozenset(
    {"keyword", "constant_keyword", "wildcard", "text", "match_only_text"}
)
_INTEGER_RANGES: Final = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "unsigned_long": (0, 2**64 - 1),
}
_INTEGER_RANGE_TEXT: Final = {
    "byte": "-128 to 127",
    "short": "-32768 to 32767",
    "integer": "-2^31 to 2^31-1",
    "long": "-2^63 to 2^63-1",
    "unsigned_long": "0 to 2^64-1",
}
# Largest finite magnitude of each Elasticsearch floating-point type.
_FLOAT_LIMITS: Final = {
    "half_float": 65504.0,
    "float": 3.4028234663852886e38,
    "double": sys.float_info.max,
    "scaled_float": sys.float_info.max,
}
_LONG_RANGE: Final = _INTEGER_RANGES["long"]

# Elasticsearch's default date format, strict_date_optional_time||epoch_millis: an ISO 8601 /
# RFC 3339 date, optionally with a time (fraction up to nanoseconds) and an offset.
_DATE: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]{1,9})?)?"
    r"(Z|[+-]([0-9]{2})(?::?([0-9]{2}))?)?)?"
)
_NUMBER: Final = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_LAT_LON: Final = re.compile(rf"\s*({_NUMBER})\s*,\s*({_NUMBER})\s*")
_WKT_POINT: Final = re.compile(rf"\s*POINT\s*\(\s*({_NUMBER})\s+({_NUMBER})\s*\)\s*", re.IGNORECASE)


def _scalar_problem(field_type: str, value: object) -> str | None:
    if field_type in _STRING_TYPES:
        if not isinstance(value, str):
            return f"expected {field_type} (a string), got {_describe(value)}"
        return _unicode_error(value)
    if field_type in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[field_type]
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return None
        shown = _INTEGER_RANGE_TEXT[field_type]
        return f"expected {field_type} (an integer from {shown}), got {_describe(value)}"
    if field_type in _FLOAT_LIMITS:
        limit = _FLOAT_LIMITS[field_type]
        if _is_number(value) and abs(value) <= limit:
            return None
        return f"expected {field_type} (a finite number up to {limit:g}), got {_describe(value)}"
    if field_type == "boolean":
        return None if isinstance(value, bool) else f"expected boolean, got {_describe(value)}"
    if field_type == "ip":
        return _ip_problem(value)
    if field_type == "date":
        return _date_problem(value)
    if field_type == "geo_point":
        return _geo_point_problem(value)
    if field_type in CONTAINER_TYPES:
        return f"expected {field_type} (an object), got {_describe(value)}"
    return None  # a type this validator does not know: nothing to check


def _is_number(value: object) -> TypeGuard[int | float]:
    """An int or finite float, and not a bool (which Python counts as an int)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int)


def _ip_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"expected ip (an IPv4 or IPv6 address string), got {_describe(value)}"
    if "%" in value:
        # elastic/elasticsearch#22400, #38064: the ip type stores 128 bits and rejects zone ids.
        return f"{_short(value)}: the ip type does not accept an IPv6 zone index (%...)"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f"expected ip (an IPv4 or IPv6 address), got {_describe(value)}"
    return None


def _date_problem(value: object) -> str | None:
    expected = "expected date (an RFC 3339 / ISO 8601 string or epoch milliseconds)"
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = _LONG_RANGE
        return None if low <= value <= high else f"{expected}, got {_describe(value)}"
    if not isinstance(value, str):
        return f"{expected}, got {_describe(value)}"
    match = _DATE.fullmatch(value)
    if match is None:
        return f"{expected}, got {_describe(value)}"
    year, month, day, hour, minute, second, _, offset_hours, offset_minutes = match.groups()
    try:
        datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError as error:
        return f"{_short(value)} is not a real date and time ({error})"
    if int(offset_hours or 0) > 18 or int(offset_minutes or 0) > 59:
        return f"{_short(value)} has a UTC offset beyond 18:00"
    return None


def _is_coordinate_pair(value: Sequence[object]) -> bool:
    return len(value) == 2 and all(_is_number(item) or isinstance(item, float) for item in value)


def _geo_point_problem(value: object) -> str | None:
    expected = (
        'expected geo_point ({"lat": .., "lon": ..}, [lon, lat], "lat,lon" or "POINT (lon lat)")'
    )
    lat: object
    lon: object
    if isinstance(value, Mapping):
        if set(value) != {"lat", "lon"}:
            return f"{expected}, got an object with other keys"
        lat, lon = value["lat"], value["lon"]
    elif isinstance(value, list | tuple) and _is_coordinate_pair(value):
        lon, lat = value
    elif isinstance(value, str) and (match := _LAT_LON.fullmatch(value)):
        lat, lon = float(match[1]), float(match[2])
    elif isinstance(value, str) and (match := _WKT_POINT.fullmatch(value)):
        lon, lat = float(match[1]), float(match[2])
    else:
        return f"{expected}, got {_describe(value)}"
    if not (_is_number(lat) and -90 <= lat <= 90):
        return f"geo_point latitude must be a number from -90 to 90, got {_describe(lat)}"
    if not (_is_number(lon) and -180 <= lon <= 180):
        return f"geo_point longitude must be a number from -180 to 180, got {_describe(lon)}"
    return None


def _json_scalar_problem(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _unicode_error(value)
    if isinstance(value, int):
        low, high = _LONG_RANGE[0], _INTEGER_RANGES["unsigned_long"][1]
        # Beyond 64 bits JSON parsers, Elasticsearch's included, lose or reject the number.
        return None if low <= value <= high else f"{_describe(value)} does not fit in 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{_describe(value)} is not valid in JSON"
    return f"{_describe(value)} is not a JSON value"


def _unicode_error(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        # Lone surrogates come from os.fsdecode() of non-UTF-8 bytes; JSON for Elasticsearch
        # must be UTF-8, so the producer has to escape or replace them first.
        return f"is not valid Unicode: lone surrogate at index {error.start}"
    return None


# Rendering names and values inside messages: bounded, one line, never raising.

_MAX_SHOWN: Final = 80


def _join(parent: str, *segments: str) -> str:
    return ".".join((parent, *segments)) if parent else ".".join(segments)


def _short(text: str) -> str:
    return repr(text[:_MAX_SHOWN]) + ("..." if len(text) > _MAX_SHOWN else "")


def _printable(text: str, limit: int = 200) -> str:
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return shown + ("..." if len(text) > limit else "")


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        bits = value.bit_length()
        # str() of an int over 4300 digits raises ValueError (CPython's int_max_str_digits).
        return f"integer {value}" if bits <= 128 else f"an integer of {bits} bits"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {_short(value)}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a Python {type(value).__name__}"
