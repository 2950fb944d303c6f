"""Showing untrusted text on a terminal.

Process names, paths and command lines come from the host being examined, and an attacker
chooses them: escape sequences could rewrite the analyst's screen, and bidirectional-override
characters could make `gpj.exe` read as `exe.jpg`. Every such value passes through
`safe_text` before a terminal sees it; JSON output keeps the exact value.
"""

from __future__ import annotations

import unicodedata

# Unicode format characters that reorder or hide text (bidi controls, zero-width joiners).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def safe_text(value: str) -> str:
    """`value` with control, format and unassigned characters shown as escapes."""
    if value.isprintable():
        return value
    out = []
    for char in value:
        if char == " " or unicodedata.category(char) not in _INVISIBLE_CATEGORIES:
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)


__all__ = ["safe_text"]
