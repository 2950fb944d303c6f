"""The project's exception types: each maps to a one-line message and exit code 2 in the CLI."""

from __future__ import annotations


class DoorhuntError(Exception):
    """An error the user can act on; the CLI prints it on one line, without a traceback."""


class InputError(DoorhuntError):
    """Input that cannot be read as what it claims to be, with where the problem is."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def at(self, source: str) -> InputError:
        """The same error, its location prefixed with the input's name (a file path, `-`)."""
        location = f"{source}:{self.location}" if self.location else source
        clone = type(self)(self.message, location=location)
        clone.__cause__ = self.__cause__
        return clone
