"""The one typed door to the untyped `eql` package (Endgame/Elastic, AGPL-3.0).

doorhunt uses eql for two things: its grammar and Lark parser (the syntax of Elasticsearch
EQL, as Elastic's detection-rules repository validates it), and its Python engine as the
baseline of the benchmark and an oracle in the differential tests. Everything else about
eql stays behind this module, so the `Any` it brings ends here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import lark

with warnings.catch_warnings():
    # eql imports modules that may emit DeprecationWarnings on new Pythons; they are not
    # ours to fix and must not fail the suite (pyproject: filterwarnings = error).
    warnings.simplefilter("ignore", DeprecationWarning)
    import eql  # type: ignore[import-untyped]
    import eql.parser  # type: ignore[import-untyped]

_PARSER: lark.Lark = cast(lark.Lark, eql.parser.lark_parser)
EQL_VERSION: str = str(eql.__version__)

Tree = lark.Tree[lark.Token]


class SyntaxProblem(Exception):
    """A query the grammar rejects, with the 1-based place of the first bad token."""

    def __init__(self, message: str, line: int, column: int, width: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.width = width


def parse_tree(text: str) -> Tree:
    """The Lark tree of an EQL query (start rule `piped_query`) under eql's grammar."""
    try:
        tree = _PARSER.parse(text, start="piped_query")
    except lark.exceptions.UnexpectedCharacters as error:
        position: int | None = getattr(error, "pos_in_stream", None)
        found = text[position] if position is not None and 0 <= position < len(text) else None
        raise SyntaxProblem(
            f"unexpected character {found!r}" if found else "unexpected character",
            error.line,
            error.column,
        ) from None
    except lark.exceptions.UnexpectedToken as error:
        token = error.token
        if token.type == "$END":
            lines = text.rstrip().splitlines() or [""]
            raise SyntaxProblem("unexpected end of query", len(lines), len(lines[-1]) + 1) from None
        raise SyntaxProblem(
            f"unexpected {str(token)!r}",
            token.line or error.line,
            token.column or error.column,
            len(str(token)) or 1,
        ) from None
    except lark.exceptions.UnexpectedEOF:
        lines = text.rstrip().splitlines() or [""]
        raise SyntaxProblem("unexpected end of query", len(lines), len(lines[-1]) + 1) from None
    except lark.exceptions.LarkError as error:
        raise SyntaxProblem(f"invalid syntax: {error}", 1, 1) from None
    return tree


def field_parts(text: str) -> list[tuple[str, str]]:
    """The parts of a field token: ("name", text), ("escaped", text) or ("index", digits)."""
    tree = _PARSER.parse(text, start="field_parts")
    parts: list[tuple[str, str]] = []
    for part in tree.children:
        if not isinstance(part, lark.Tree):
            continue
        for token in part.children:
            if isinstance(token, lark.Token):
                if token.type == "NAME":
                    parts.append(("name", str(token)))
                elif token.type == "ESCAPED_NAME":
                    parts.append(("escaped", str(token)[1:-1]))
                elif token.type == "UNSIGNED_INTEGER":
                    parts.append(("index", str(token)))
    return parts


class ReferenceEngine:
    """eql's own PythonEngine running one query: the baseline and oracle.

    Events are handed over as eql.Event(type, time, data) with `type` the first
    event.category, so `process where` selects what Elasticsearch's event category filter
    selects for single-category events. Its semantics differ from Elasticsearch's
    (docs/eql.md, "The eql package as an oracle")."""

    def __init__(self, queries: str | Iterable[str]) -> None:
        texts = [queries] if isinstance(queries, str) else list(queries)
        parsed: list[Any] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            with (
                eql.parser.elasticsearch_syntax,
                eql.parser.ignore_missing_functions,
                eql.parser.allow_sample,
                eql.parser.allow_runs,
                eql.parser.allow_negation,
            ):
                parsed = [eql.parse_query(text) for text in texts]
        # Times are milliseconds (eql's default unit is the 100 ns tick of Windows FILETIME).
        self._engine: Any = eql.PythonEngine({"time_unit": 1000})
        for query in parsed:
            self._engine.add_query(query)
        self.matches: list[list[Mapping[str, object]]] = []
        self._engine.add_output_hook(self._collect)

    def _collect(self, output: Any) -> None:
        # An AnalyticOutput(analytic_id, events) per match.
        self.matches.append([cast(Mapping[str, object], event.data) for event in output.events])

    def stream(
        self, documents: Iterable[tuple[str, int, Mapping[str, object]]], *, finalize: bool = True
    ) -> None:
        """Feed (event type, time in ms, document) triples (then finalize, by default)."""
        event_class: Callable[..., Any] = eql.Event
        self._engine.stream_events(
            (event_class(kind, time, data) for kind, time, data in documents), finalize=finalize
        )

    def stream_tolerant(self, documents: Iterable[tuple[str, int, Mapping[str, object]]]) -> int:
        """Like `stream` without finalizing, but an event a query fails on (eql raises
        TypeError comparing an array) skips that query only; returns the failures."""
        event_class: Callable[..., Any] = eql.Event
        hooks: Mapping[str, list[Callable[[Any], None]]] = self._engine._event_hooks
        failures = 0
        for kind, time, data in documents:
            event = event_class(kind, time, data)
            for hook in hooks[kind]:
                try:
                    hook(event)
                except (TypeError, AttributeError, ValueError):
                    failures += 1
        return failures

    @staticmethod
    def runs_on(query: str, documents: Iterable[tuple[str, int, Mapping[str, object]]]) -> bool:
        """Whether eql's engine runs `query` over `documents` without raising."""
        try:
            ReferenceEngine(query).stream(documents)
        except Exception:  # eql raises assorted errors on data it does not expect
            return False
        return True

    @staticmethod
    def accepts(query: str) -> str | None:
        """None when eql's parser (Elasticsearch syntax) accepts the query, else why not."""
        try:
            ReferenceEngine(query)
        except eql.EqlError as error:
            line, column = getattr(error, "line", None), getattr(error, "column", None)
            message = str(getattr(error, "error_msg", "") or str(error).splitlines()[0])
            if isinstance(line, int) and isinstance(column, int):
                return f"{line + 1}:{column + 1}: {message}"
            return message
        except Exception as error:  # eql raises assorted errors on odd input
            return f"{type(error).__name__}: {error}"
        return None


__all__ = ["EQL_VERSION", "ReferenceEngine", "SyntaxProblem", "Tree", "field_parts", "parse_tree"]
