"""Reading the sizes, durations and moments people type: `10G`, `30d`, `2h`, `2025-05-01T10:00`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from doorhunt.errors import InputError

_SIZE: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_SIZE_UNITS: Final = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_DURATION_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class UnitError(InputError):
    """A size, duration or time that cannot be read (the location names the option)."""


def parse_size(text: str, *, option: str = "size") -> int:
    """Bytes from `500M`, `10G`, `1.5TiB`, `4096` (binary units)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise UnitError(f"expected a size such as 500M or 10G, got {text!r}", location=option)
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def parse_duration(text: str, *, option: str = "duration") -> timedelta:
    """A duration from `90s`, `15m`, `2h`, `30d`, `1w`."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise UnitError(
            f"expected a duration such as 15m, 2h or 30d, got {text!r}", location=option
        )
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise UnitError(f"duration too long: {text!r}", location=option) from None


def parse_moment(text: str, *, option: str = "time", now: datetime | None = None) -> datetime:
    """A point in time: ISO 8601 (a date, or a date and time; UTC unless an offset is given)
    or a duration ago (`15m`, `2h`, `7d`)."""
    text = text.strip()
    if _DURATION.fullmatch(text):
        return (now or datetime.now(UTC)) - parse_duration(text, option=option)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UnitError(
            f"expected an ISO 8601 time (2025-05-01T10:00Z) or an age (15m, 2h, 7d), got {text!r}",
            location=option,
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


__all__ = ["UnitError", "format_size", "parse_duration", "parse_moment", "parse_size"]
