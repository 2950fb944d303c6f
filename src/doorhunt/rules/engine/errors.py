"""EqlError: a rule that cannot be compiled, with where (file:line:column) and a caret line.

Modelled on the errors of the `eql` package and pySigma: the first line names the place and
the problem, the next two show the offending source line and a caret under the column.
"""

from __future__ import annotations

from doorhunt.errors import InputError


class EqlError(InputError):
    """A query that is not Elasticsearch EQL, or that the engine cannot run."""

    def __init__(
        self,
        message: str,
        *,
        location: str | None = None,
        line: int | None = None,
        column: int | None = None,
        source_line: str | None = None,
        width: int = 1,
        source: str | None = None,
    ) -> None:
        self.line = line
        self.column = column
        self.source_line = source_line
        self.width = max(1, width)
        self.source = source
        if location is None:
            location = _location(source, line, column)
        super().__init__(message, location=location)

    @property
    def caret(self) -> str | None:
        """The offending line and a caret under the column, or None without a position."""
        if self.source_line is None or self.column is None:
            return None
        text = self.source_line.expandtabs(1)
        return f"{text}\n{' ' * (self.column - 1)}{'^' * self.width}"

    def __str__(self) -> str:
        head = super().__str__()
        caret = self.caret
        return f"{head}\n{caret}" if caret else head

    def at(self, source: str) -> EqlError:
        """The same error, its location prefixed with the input's name (a rule file)."""
        clone = EqlError(
            self.message,
            line=self.line,
            column=self.column,
            source_line=self.source_line,
            width=self.width,
            source=source,
            location=None
            if self.line is not None
            else f"{source}:{self.location}"
            if self.location
            else source,
        )
        clone.__cause__ = self.__cause__
        return clone


def _location(source: str | None, line: int | None, column: int | None) -> str | None:
    if line is None:
        return source
    place = f"{line}:{column}" if column is not None else f"{line}"
    return f"{source}:{place}" if source else place


__all__ = ["EqlError"]
