"""Messages in English and Korean.

Many doorhunt users follow the KISA/KrCERT check guide and report in Korean, so every sentence a
report or the terminal shows comes from a catalog with both languages; a catalog missing one is
an error at import time, which the test suite catches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

LANGUAGES = ("en", "ko")


def default_language(environ: Mapping[str, str] | None = None) -> str:
    """`ko` when the locale asks for Korean (LC_ALL, LC_MESSAGES, LANG, in POSIX order)."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


@runtime_checkable
class Localized(Protocol):
    """Anything that renders itself in a language: a Message, or a result's summary."""

    def render(self, language: str = "en") -> str: ...


@dataclass(frozen=True, slots=True)
class Message:
    """A sentence with parameters, rendered late in the reader's language."""

    code: str
    templates: Mapping[str, str] = field(hash=False, compare=False)
    params: tuple[tuple[str, object], ...] = ()

    def render(self, language: str = "en") -> str:
        template = self.templates.get(language) or self.templates["en"]
        params = {
            name: value.render(language) if isinstance(value, Localized) else value
            for name, value in self.params
        }
        return template.format(**params)

    def __str__(self) -> str:
        return self.render("en")


class Catalog:
    """The messages of one module: code → {language: template}."""

    def __init__(self, entries: Mapping[str, Mapping[str, str]]) -> None:
        for code, templates in entries.items():
            missing = [language for language in LANGUAGES if language not in templates]
            if missing:
                raise ValueError(f"message {code!r} has no {', '.join(missing)} text")
        self.entries = entries

    def __call__(self, code: str, **params: object) -> Message:
        return Message(code, self.entries[code], tuple(sorted(params.items())))

    def text(self, code: str, language: str, **params: object) -> str:
        return self(code, **params).render(language)


__all__ = ["LANGUAGES", "Catalog", "Localized", "Message", "default_language"]
