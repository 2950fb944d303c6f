"""Response: what `doorhunt sensor --prevent` does to what an alert is about (docs/prevention.md)."""

from __future__ import annotations

from doorhunt.response.actions import ACTIONS, Outcome, PreventMode, Responder
from doorhunt.response.quarantine import Quarantine, QuarantinedFile, QuarantineError

__all__ = [
    "ACTIONS",
    "Outcome",
    "PreventMode",
    "Quarantine",
    "QuarantineError",
    "QuarantinedFile",
    "Responder",
]
