"""The one failure class of investigations: a question that cannot be asked as given."""

from __future__ import annotations

from doorhunt.errors import InputError


class InvestigationError(InputError):
    """A malformed reference, time, field or query (the location names the parameter)."""


__all__ = ["InvestigationError"]
