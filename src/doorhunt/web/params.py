"""Reading the API's query parameters: every bad value is a ParameterError naming the
parameter (a 400 answer with a message), never an exception the server did not expect.

Values come from anyone who can reach the port; each reader bounds lengths and counts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from doorhunt.investigate.errors import InvestigationError
from doorhunt.store.units import UnitError, parse_moment

MAX_TEXT: Final = 20_000
MAX_VALUES: Final = 100
MAX_NAME: Final = 1_000
# Years DuckDB and Python both hold without overflow, with room for a time zone shift.
# A field name as ECS spells it (the store's rule, doorhunt.store.reader).
_FIELD: Final = re.compile(r"@?[A-Za-z0-9_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_@][A-Za-z0-9_\-]*)*")
_EARLIEST: Final = datetime(1, 1, 2, tzinfo=UTC)
_LATEST: Final = datetime(9999, 12, 30, tzinfo=UTC)


class ParameterError(InvestigationError):
    """A query parameter that cannot be used as given."""


Query = Mapping[str, Sequence[str]]  # parameter -> every value given for it


def _values(query: Query, name: str) -> Sequence[str]:
    values = query.get(name, ())
    if len(values) > MAX_VALUES:
        raise ParameterError(f"given more than {MAX_VALUES} times", location=name)
    return values


def text(query: Query, name: str, default: str = "", *, limit: int = MAX_TEXT) -> str:
    values = _values(query, name)
    if len(values) > 1:
        raise ParameterError("given more than once", location=name)
    value = values[0] if values else default
    return checked_text(value, name, limit=limit)


def checked_text(value: str, name: str, *, limit: int = MAX_TEXT) -> str:
    if len(value) > limit:
        raise ParameterError(f"longer than {limit} characters", location=name)
    if "\x00" in value:
        raise ParameterError("must not contain NUL characters", location=name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParameterError("must be valid Unicode", location=name) from None
    return value


def optional_text(query: Query, name: str, *, limit: int = MAX_NAME) -> str | None:
    value = text(query, name, limit=limit)
    return value or None


def texts(query: Query, name: str, *, limit: int = MAX_NAME) -> tuple[str, ...]:
    """Every non-empty value of a repeatable parameter (also comma-separated)."""
    found: list[str] = []
    for value in _values(query, name):
        for piece in value.split(","):
            part = checked_text(piece.strip(), name, limit=limit)
            if part and part not in found:
                found.append(part)
    if len(found) > MAX_VALUES:
        raise ParameterError(f"more than {MAX_VALUES} values", location=name)
    return tuple(found)


def choices(query: Query, name: str, allowed: Collection[str]) -> frozenset[str]:
    chosen = texts(query, name)
    for value in chosen:
        if value not in allowed:
            raise ParameterError(
                f"expected one of {', '.join(sorted(allowed))}, got {value[:40]!r}", location=name
            )
    return frozenset(chosen)


def choice(query: Query, name: str, allowed: Sequence[str], default: str) -> str:
    value = text(query, name, default, limit=100) or default
    if value not in allowed:
        raise ParameterError(
            f"expected one of {', '.join(allowed)}, got {value[:40]!r}", location=name
        )
    return value


def integer(query: Query, name: str, default: int, *, low: int, high: int) -> int:
    value = text(query, name, limit=40)
    if not value:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise ParameterError(f"expected a whole number, got {value!r}", location=name) from None
    if not low <= number <= high:
        raise ParameterError(f"must be between {low} and {high}, got {number}", location=name)
    return number


def number(query: Query, name: str, default: float, *, low: float, high: float) -> float:
    value = text(query, name, limit=40)
    if not value:
        return default
    try:
        result = float(value)
    except ValueError:
        raise ParameterError(f"expected a number, got {value!r}", location=name) from None
    if not math.isfinite(result) or not low <= result <= high:
        raise ParameterError(f"must be between {low:g} and {high:g}, got {value}", location=name)
    return result


def flag(query: Query, name: str, default: bool = False) -> bool:
    value = text(query, name, limit=10).lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ParameterError(f"expected true or false, got {value!r}", location=name)


def moment(query: Query, name: str, *, now: datetime | None = None) -> datetime | None:
    """ISO 8601 (UTC unless an offset is given), epoch milliseconds, or an age (15m, 2h)."""
    value = text(query, name, limit=64).strip()
    if not value:
        return None
    return parse_time(value, name, now=now)


def parse_time(value: str, name: str, *, now: datetime | None = None) -> datetime:
    if value.lstrip("-").isdigit():
        try:
            result = datetime.fromtimestamp(int(value) / 1000, UTC)
        except (OverflowError, ValueError, OSError):
            raise ParameterError(f"time out of range: {value!r}", location=name) from None
    else:
        try:
            result = parse_moment(value, option=name, now=now)
        except UnitError as error:
            raise ParameterError(error.message, location=name) from None
        except (OverflowError, ValueError):
            raise ParameterError(f"time out of range: {value!r}", location=name) from None
    try:
        result = result.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ParameterError(f"time out of range: {value!r}", location=name) from None
    if not _EARLIEST <= result <= _LATEST:
        raise ParameterError(f"time out of range: {value!r}", location=name)
    return result


def time_range(
    query: Query, *, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    since = moment(query, "since", now=now)
    until = moment(query, "until", now=now)
    if since is not None and until is not None and until <= since:
        raise ParameterError("must be later than `since`", location="until")
    if since is not None and until is not None and until - since > timedelta(days=3660):
        raise ParameterError("a range of at most ten years", location="until")
    return since, until


def fields(query: Query, name: str) -> tuple[str, ...]:
    """Field names (the timeline's extra columns)."""
    found = texts(query, name, limit=200)
    for value in found:
        if _FIELD.fullmatch(value) is None:
            raise ParameterError(f"not a field name: {value[:60]!r}", location=name)
    return found


def known(query: Query, names: Collection[str]) -> None:
    """Refuse parameters the endpoint does not take (a typo would silently do nothing)."""
    for name in query:
        if name not in names:
            raise ParameterError(
                f"unknown parameter; this endpoint takes {', '.join(sorted(names)) or 'none'}",
                location=name[:60],
            )


__all__ = [
    "ParameterError",
    "Query",
    "checked_text",
    "choice",
    "choices",
    "fields",
    "flag",
    "integer",
    "known",
    "moment",
    "number",
    "optional_text",
    "parse_time",
    "text",
    "texts",
    "time_range",
]
