"""Response actions a rule may declare, run by `doorhunt sensor --prevent` on its alerts.

Only what the alert is about is touched: its process (`kill_process`) and its file
(`quarantine_file`), never pid 1, kernel threads or doorhunt itself. A process is killed only
if the pid still holds the same process, checked through a pidfd so the pid cannot be reused
between the check and the signal. Files are quarantined before processes are killed, so the
executable of a process that deleted its own file can still be copied from /proc/PID/exe.
With `--prevent=dry-run` the same checks run and the alert records what would have happened.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from doorhunt.ecs import get_field
from doorhunt.host.procfs import read_stat_numbers
from doorhunt.response.quarantine import Quarantine, QuarantineError, refuse_path

log = logging.getLogger("doorhunt.response")

ACTIONS: Final = ("quarantine_file", "kill_process")  # in the order they run
PF_KTHREAD: Final = 0x00200000  # include/linux/sched.h: the task is a kernel thread


class PreventMode(StrEnum):
    OFF = "off"
    DRY_RUN = "dry-run"
    ON = "on"


@dataclass(frozen=True, slots=True)
class Outcome:
    action: str
    target: str
    outcome: str  # done | would | refused | failed
    reason: str

    def to_json(self) -> dict[str, str]:
        return {
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "reason": self.reason,
        }


class Responder:
    """Runs the actions of one alert. `identify(pid)` gives the entity id the process now at
    `pid` has (the sensor's process table computes it the same way it named the process in
    the alert), or None when no process is there."""

    def __init__(
        self,
        mode: PreventMode,
        quarantine: Quarantine,
        identify: Callable[[int], str | None],
        *,
        protected_pids: Sequence[int] = (),
    ) -> None:
        self.mode = mode
        self.quarantine = quarantine
        self.identify = identify
        self.protected = {1, os.getpid(), *protected_pids}

    def respond(self, actions: Sequence[str], alert: Mapping[str, object]) -> list[Outcome]:
        if self.mode is PreventMode.OFF:
            return []
        outcomes = []
        for action in ACTIONS:
            if action not in actions:
                continue
            outcome = self._quarantine(alert) if action == "quarantine_file" else self._kill(alert)
            outcomes.append(outcome)
            log.info(
                "%s %s: %s (%s)", outcome.action, outcome.target, outcome.outcome, outcome.reason
            )
        return outcomes

    def _kill(self, alert: Mapping[str, object]) -> Outcome:
        pid = get_field(alert, "process.pid")
        entity = get_field(alert, "process.entity_id")
        if not isinstance(pid, int) or not isinstance(entity, str):
            return Outcome("kill_process", str(pid), "refused", "the alert names no process")
        target = f"pid {pid}"
        if pid in self.protected or pid <= 1:
            return Outcome("kill_process", target, "refused", "pid 1 or doorhunt itself")
        try:
            handle = os.pidfd_open(pid)
        except OSError:
            return Outcome("kill_process", target, "failed", "the process has already exited")
        try:
            # The pidfd pins this process: checked now, it is the one the signal reaches.
            numbers = read_stat_numbers(pid)
            if numbers is None:
                return Outcome("kill_process", target, "failed", "the process has exited")
            if numbers.flags & PF_KTHREAD:
                return Outcome("kill_process", target, "refused", "a kernel thread")
            if self.identify(pid) != entity:
                return Outcome(
                    "kill_process", target, "refused", "the pid now holds another process"
                )
            if self.mode is PreventMode.DRY_RUN:
                return Outcome("kill_process", target, "would", "dry run")
            signal.pidfd_send_signal(handle, signal.SIGKILL)
        except OSError as error:
            return Outcome("kill_process", target, "failed", error.strerror or str(error))
        finally:
            os.close(handle)
        return Outcome("kill_process", target, "done", "SIGKILL sent")

    def _quarantine(self, alert: Mapping[str, object]) -> Outcome:
        categories = get_field(alert, "event.category")
        about_file = isinstance(categories, list) and "file" in categories
        path = get_field(alert, "file.path" if about_file else "process.executable")
        if not isinstance(path, str) or not path:
            return Outcome("quarantine_file", "", "refused", "the alert names no file")
        pid = get_field(alert, "process.pid")
        running = pid if isinstance(pid, int) and not about_file else None
        if self.mode is PreventMode.DRY_RUN:
            refusal = refuse_path(path.removesuffix(" (deleted)"), self.quarantine.directory)
            return Outcome(
                "quarantine_file", path, "refused" if refusal else "would", refusal or "dry run"
            )
        try:
            item = self.quarantine.add(path, reason=str(get_field(alert, "rule.name")), pid=running)
        except QuarantineError as error:
            return Outcome("quarantine_file", path, "refused", str(error))
        except OSError as error:
            return Outcome("quarantine_file", path, "failed", error.strerror or str(error))
        note = f"quarantined as {item.id} (sha256 {item.sha256})"
        if item.copied_from != item.original_path:
            note += f", copied from {item.copied_from}"
        return Outcome("quarantine_file", path, "done", note)


__all__ = ["ACTIONS", "Outcome", "PreventMode", "Responder"]
