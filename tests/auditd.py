"""auditd for tests and benchmarks: a private one (Debian's configuration, logging into a
directory the caller owns, in the foreground so it is ended by pid), or the host's own when one
is already the audit daemon (there is one slot)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from doorhunt.sensor.audit import AuditClient


def write_config(directory: Path) -> None:
    """Debian's /etc/audit/auditd.conf with the log and plugin directory moved to `directory`."""
    lines = []
    for line in Path("/etc/audit/auditd.conf").read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        moved = {
            "log_file": f"log_file = {directory}/audit.log",
            "plugin_dir": f"plugin_dir = {directory}/plugins.d",
        }
        lines.append(moved.get(key, line))
    (directory / "auditd.conf").write_text("\n".join(lines) + "\n")
    (directory / "plugins.d").mkdir(exist_ok=True)


@contextmanager
def running_auditd(binary: str, directory: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`auditd -n -c directory`, terminated (it then releases the audit daemon slot) at exit."""
    write_config(directory)
    daemon = subprocess.Popen(
        [binary, "-n", "-c", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield daemon
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


@dataclass(frozen=True, slots=True)
class AuditDaemon:
    pid: int
    log: Path


@contextmanager
def audit_daemon(binary: str, directory: Path) -> Iterator[AuditDaemon]:
    """The host's audit daemon if one is registered, else a private auditd, registered."""
    client = AuditClient()
    try:
        registered = client.status().pid
        if registered and Path(f"/proc/{registered}").exists():
            yield AuditDaemon(registered, Path("/var/log/audit/audit.log"))
            return
        with running_auditd(binary, directory) as daemon:
            deadline = time.monotonic() + 20
            while client.status().pid != daemon.pid:
                if time.monotonic() > deadline or daemon.poll() is not None:
                    raise AssertionError("auditd did not register as the audit daemon")
                time.sleep(0.1)
            yield AuditDaemon(daemon.pid, directory / "audit.log")
    finally:
        client.close()
