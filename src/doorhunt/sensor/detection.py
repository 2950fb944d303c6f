"""The sensor's detection: every document it writes goes through the rules; their alerts are
written beside the events, announced on standard error and, with `--prevent`, acted on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from doorhunt.ecs import get_field
from doorhunt.rules.alerts import Detector
from doorhunt.rules.engine import DEFAULT_MAX_PENDING

if TYPE_CHECKING:
    from doorhunt.response import Responder
    from doorhunt.rules.pack import Rule

log = logging.getLogger("doorhunt.sensor")


class AlertProcessor:
    """The sensor's processor (pipeline.Processor) that runs the rules."""

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        responder: Responder | None = None,
        announce: Callable[[Mapping[str, object]], None] | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.detector = Detector(rules, max_pending=max_pending)
        self.actions = {rule.id: rule.response_actions for rule in rules}
        self.responder = responder
        self.announce = announce

    def process(self, document: Mapping[str, object]) -> list[dict[str, object]]:
        return self._handle(self.detector.process(document))

    def flush(self) -> list[dict[str, object]]:
        return self._handle(self.detector.flush())

    def _handle(self, alerts: list[dict[str, object]]) -> list[dict[str, object]]:
        for alert in alerts:
            actions = self.actions.get(str(get_field(alert, "rule.id")), ())
            if self.responder is not None and actions:
                outcomes = self.responder.respond(actions, alert)
                extensions = alert["doorhunt"]
                assert isinstance(extensions, dict)
                extensions["alert"]["response"] = [outcome.to_json() for outcome in outcomes]
            if self.announce is not None:
                self.announce(alert)
        return alerts


def alert_line(alert: Mapping[str, object]) -> str:
    """One line about an alert for a terminal; every value from the host is shown escaped."""
    parts = [
        f"ALERT {get_field(alert, 'doorhunt.alert.severity')}",
        repr(str(get_field(alert, "rule.name"))),
    ]
    for label, field in (
        ("pid", "process.pid"),
        ("exe", "process.executable"),
        ("file", "file.path"),
        ("to", "destination.ip"),
    ):
        value = get_field(alert, field)
        if value is not None:
            parts.append(
                f"{label}={str(value)!r}" if isinstance(value, str) else f"{label}={value}"
            )
    response = get_field(alert, "doorhunt.alert.response")
    if isinstance(response, list):
        parts += [f"{item['action']}:{item['outcome']}" for item in response]
    return " ".join(parts)


__all__ = ["AlertProcessor", "alert_line"]
