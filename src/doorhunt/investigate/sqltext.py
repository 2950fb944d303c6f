"""Values written into SQL text, for the conditions DuckDB must see as constants.

Bound parameters are the rule; a condition whose value must be a constant for the Parquet
reader to skip row groups on its statistics (`host_name = 'web-1'`, a time bound) is written
as a literal here, by these functions only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from doorhunt.investigate.errors import InvestigationError


def text_literal(value: str, *, parameter: str = "query") -> str:
    """A DuckDB string literal (standard strings: only the quote is special)."""
    if "\x00" in value:
        raise InvestigationError("NUL characters cannot be searched for", location=parameter)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvestigationError("text must be valid Unicode", location=parameter) from None
    return "'" + value.replace("'", "''") + "'"


def time_literal(moment: datetime, *, parameter: str = "time") -> str:
    if moment.tzinfo is None:
        raise InvestigationError("times must carry a time zone", location=parameter)
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    return f"TIMESTAMPTZ '{text}'"


def column_is(column: str, value: str | None, *, parameter: str = "host") -> str:
    """`"column" = 'value'`, or IS NULL for None."""
    if value is None:
        return f'"{column}" IS NULL'
    return f'"{column}" = {text_literal(value, parameter=parameter)}'


def time_bounds(
    since: datetime | None, until: datetime | None, *, inclusive_until: bool = False
) -> list[str]:
    """Conditions on the `timestamp` column: since inclusive, until exclusive (or inclusive)."""
    parts = []
    if since is not None:
        parts.append(f'"timestamp" >= {time_literal(since, parameter="since")}')
    if until is not None:
        operator = "<=" if inclusive_until else "<"
        parts.append(f'"timestamp" {operator} {time_literal(until, parameter="until")}')
    return parts


__all__ = ["column_is", "text_literal", "time_bounds", "time_literal"]
