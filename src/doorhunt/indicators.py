"""Published BPFDoor indicators that several parts of doorhunt look for (the sweep on a live
host, sample analysis in a file). Sources: BPFDOOR.md, which gathers the vendor reports."""

from __future__ import annotations

from typing import Final

# BPFDOOR.md §3: the PID and lock files of the builds seen so far, created (empty) under
# /var/run, which is /run.
PID_FILE_NAMES: Final = frozenset(
    {
        "haldrund.pid",
        "kdevrund.pid",
        "xinetd.lock",
        "initd.lock",
        "aepmonend.pid",
        "auditd.lock",
        "cma.lock",
        "console-kit.pid",
        "consolekit.pid",
        "daemon.pid",
        "hald-addon.pid",
        "hald-smartd.pid",
        "hp-health.pid",
        "hpasmlit.lock",
        "hpasmlited.pid",
        "lldpad.lock",
        "mcelog.pid",
        "system.pid",
        "uvp-srv.pid",
        "vmtoolagt.pid",
    }
)

__all__ = ["PID_FILE_NAMES"]
