"""Quoted strings for the two formats a converted rule is written in (EQL and TOML)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

# The escapes EQL strings and TOML basic strings share.
_COMMON: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str, escape_code: Callable[[int], str]) -> str:
    """`text` in double quotes; characters that do not print (controls, bidirectional
    overrides, lone surrogates) become `escape_code(code point)`, so a rule file shows them."""
    out = ['"']
    for char in text:
        common = _COMMON.get(char)
        if common is not None:
            out.append(common)
        elif not char.isprintable():
            out.append(escape_code(ord(char)))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def eql_escape(code: int) -> str:
    return f"\\u{{{code:x}}}"


def toml_escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


__all__ = ["eql_escape", "quote", "toml_escape"]
