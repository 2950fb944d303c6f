"""Showing untrusted text in a document (HTML, SVG) rather than on a terminal.

The same danger as on a terminal (terminal.py): control characters, bidirectional overrides
and zero-width characters make a name read as something else. A document adds two: XML 1.0
cannot carry control characters at all (an SVG holding one does not parse), and text from
undecodable bytes (lone surrogates, as `surrogateescape` makes them) cannot be written as
UTF-8. `display_text` turns all of these into visible escapes; markup escaping (`<`, `&`,
quotes) is the template engine's or `xml_text`'s job, after it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Final

from doorhunt.report.terminal import safe_text

# surrogateescape's stand-ins for the bytes 0x80-0xff (PEP 383): shown as the byte, `\xNN`,
# as the store writes them (store/columns.py), so the same bytes read the same everywhere.
_ESCAPED_BYTE: Final = re.compile("[\udc80-\udcff]")
ELLIPSIS: Final = "…"


def display_text(value: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """`value` as text that shows every character it holds; `limit` cuts it (with `…`).

    `multiline` keeps line feeds and tabs (rule descriptions, triage notes); everything else
    that is not printable becomes `\\xNN`, `\\uNNNN` or `\\UNNNNNNNN`.
    """
    text = value if isinstance(value, str) else str(value)
    text = _ESCAPED_BYTE.sub(lambda match: f"\\x{ord(match.group()) - 0xDC00:02x}", text)
    if multiline:
        text = "\n".join(
            "\t".join(safe_text(part) for part in line.split("\t"))
            for line in text.replace("\r\n", "\n").split("\n")
        )
    else:
        text = safe_text(text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + ELLIPSIS
    return text


def xml_text(value: object, *, limit: int | None = None) -> str:
    """`display_text` escaped for XML and HTML text and attribute values (quotes included)."""
    return html.escape(display_text(value, limit=limit), quote=True)


def text_width(text: str) -> int:
    """Columns `text` takes in a monospace font: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def fit_width(text: str, columns: int) -> str:
    """`text` cut to at most `columns` monospace columns, with `…` when cut."""
    if text_width(text) <= columns:
        return text
    out: list[str] = []
    used = 0
    for char in text:
        width = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + width > columns - 1:
            break
        out.append(char)
        used += width
    return "".join(out) + ELLIPSIS


__all__ = ["ELLIPSIS", "display_text", "fit_width", "text_width", "xml_text"]
