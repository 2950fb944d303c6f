"""Data directories for report tests: a BPFDoor-style compromise as the sensor, the rules and
the sweep record it (the emulator's traces, BPFDOOR.md §1), beside a clean host's noise.

The documents are made by the real producers where there is one: the alerts by the shipped
rule pack's Detector over the sensor events, the sweep by `run_checks` over a virtual host
(tests/sweep/fakes.py), its JSON file and store documents as `doorhunt sweep` writes them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.explain import explain
from doorhunt.bpf.interpreter import Link
from doorhunt.datadir import write_json_atomically
from doorhunt.ecs import entity_id, new_event
from doorhunt.host.procfs import WaitState
from doorhunt.rules.alerts import Detector
from doorhunt.rules.pack import load_rules
from doorhunt.store import Store
from doorhunt.sweep.run import SweepResult, run_checks
from tests.sweep.fakes import classic_read, packet_socket, process, snapshot

HOST_IDS = {"web-1": "4c4c4544004a3510805ac4c04f4e3332", "db-1": "9a1e0c2f7b3d4e5f8a9b0c1d2e3f4a5b"}
HOST_ID = HOST_IDS["web-1"]
BOOT_ID = "0f6c3b3a-6a53-4f1e-9d55-3a2f8a1b2c3d"
IMPLANT_PID = 4120
IMPLANT_ENTITY = entity_id(HOST_ID, IMPLANT_PID, 1000 + IMPLANT_PID, boot_id=BOOT_ID)
CLASSIC = EXAMPLES["bpfdoor-classic"].build()

# Values an attacker chooses, each of them hostile to a document that shows them.
HOSTILE_NAME = '<script>alert("name")'  # no "/": it is argv[0]'s last component too
HOSTILE_ARG = '"><img src=x onerror=alert(1)>'
HOSTILE_PATH = "/dev/shm/\x1b[31mkdm\u202etxt.sh\x07"
HOSTILE_BYTES = "/tmp/\udcff\udcfeinvalid"  # undecodable bytes, as surrogateescape reads them


def base_time() -> datetime:
    """A day ago, on a whole second: recent enough for `--since 7d`."""
    return (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)


def _entity(pid: int, host: str = "web-1") -> str:
    return entity_id(HOST_IDS.get(host, host), pid, 1000 + pid, boot_id=BOOT_ID)


class SensorEvents:
    """Sensor-like events of one host, with increasing times and event ids."""

    def __init__(self, host: str, start: datetime) -> None:
        self.host = {
            "name": host, "hostname": host, "id": HOST_IDS.get(host, host), "boot": {"id": BOOT_ID},
        }  # fmt: skip
        self.name = host
        self.now = start
        self.count = 0
        self.documents: list[dict[str, object]] = []

    def add(self, category: str, kind: str, action: str, **fields: object) -> dict[str, object]:
        self.now += timedelta(seconds=2)
        self.count += 1
        document = new_event(
            kind="event",
            category=category,
            type=kind,
            action=action,
            timestamp=self.now,
            host=self.host,
            **fields,
        )
        event = document["event"]
        assert isinstance(event, dict)
        event["id"] = f"sensor-{self.host['name']}-{self.count}"
        self.documents.append(document)
        return document

    def process(
        self,
        action: str,
        pid: int,
        ppid: int | None,
        name: str,
        executable: str,
        args: list[str],
        user: str = "root",
        **extra: object,
    ) -> dict[str, object]:
        fields: dict[str, object] = {
            "pid": pid,
            "entity_id": _entity(pid, self.name),
            "name": name,
            "executable": executable,
            "args": args,
            "command_line": " ".join(args),
        }
        if ppid is not None:
            fields["parent"] = {"pid": ppid, "entity_id": _entity(ppid, self.name)}
        kind = "start" if action in ("exec", "already_running", "fork") else "end"
        if action == "name_change":
            kind = "change"
        return self.add("process", kind, action, process=fields, user={"name": user}, **extra)


def compromise_events(
    start: datetime, *, hostile: bool = False, host: str = "web-1"
) -> list[dict[str, object]]:
    """The implant's life on `host` as the sensor records it."""
    events = SensorEvents(host, start)
    events.process(
        "already_running", 1, None, "systemd", "/usr/lib/systemd/systemd", ["/sbin/init"]
    )
    events.process("already_running", 812, 1, "sshd", "/usr/sbin/sshd", ["/usr/sbin/sshd", "-D"])
    events.process("exec", 1200, 812, "bash", "/usr/bin/bash", ["-bash"], user="admin")
    events.add(
        "file", "creation", "creation",
        process={"pid": 1200, "entity_id": _entity(1200, host), "name": "bash"},
        file={"path": "/dev/shm/kdmtmpflush", "name": "kdmtmpflush"},
    )  # fmt: skip
    args = ["/dev/shm/kdmtmpflush", "--init"] + ([HOSTILE_ARG, HOSTILE_BYTES] if hostile else [])
    events.process("exec", IMPLANT_PID, 1200, "kdmtmpflush", "/dev/shm/kdmtmpflush", args)
    # It renames itself as a daemon (prctl(PR_SET_NAME) and its argv), BPFDOOR.md §1 step 3.
    name = HOSTILE_NAME if hostile else "console-kit-daemon"
    disguise = [name if hostile else "/usr/sbin/console-kit-daemon", "--no-daemon"]
    events.process(
        "name_change", IMPLANT_PID, 1200, name, "/dev/shm/kdmtmpflush (deleted)", disguise,
        doorhunt={"process": {"previous_name": "kdmtmpflush"}},
    )  # fmt: skip
    events.add(
        "file", "deletion", "deletion",
        process={"pid": IMPLANT_PID, "entity_id": IMPLANT_ENTITY, "name": name,
                 "executable": "/dev/shm/kdmtmpflush"},
        file={"path": HOSTILE_PATH if hostile else "/dev/shm/kdmtmpflush"},
    )  # fmt: skip
    events.add(
        "file", "creation", "creation",
        process={"pid": IMPLANT_PID, "entity_id": IMPLANT_ENTITY, "name": name,
                 "executable": "/dev/shm/kdmtmpflush (deleted)"},
        file={"path": "/var/run/haldrund.pid", "name": "haldrund.pid", "size": 0},
    )  # fmt: skip
    events.add(
        "network", "start", "socket_opened",
        process={"pid": IMPLANT_PID, "entity_id": IMPLANT_ENTITY, "name": name,
                 "executable": "/dev/shm/kdmtmpflush (deleted)"},
        doorhunt={"socket": {"family": "packet", "type": "raw", "protocol": 0x0800, "fd": 3}},
    )  # fmt: skip
    events.add(
        "network", "change", "filter_attached",
        process={"pid": IMPLANT_PID, "entity_id": IMPLANT_ENTITY, "name": name,
                 "executable": "/dev/shm/kdmtmpflush (deleted)"},
        doorhunt={"socket": {"fd": 3}, "bpf": {"attach": "SO_ATTACH_FILTER",
                  **explain(CLASSIC, Link.ETHERNET).ecs_bpf_fields()}},
    )  # fmt: skip
    events.process("exec", 1300, IMPLANT_PID, "sh", "/usr/bin/dash", ["/bin/sh", "-i"])
    return events.documents


def noise_events(start: datetime, host: str = "db-1") -> list[dict[str, object]]:
    """An ordinary host: daemons, cron, a DHCP client renewing its lease."""
    events = SensorEvents(host, start)
    events.process(
        "already_running", 1, None, "systemd", "/usr/lib/systemd/systemd", ["/sbin/init"]
    )
    events.process("already_running", 640, 1, "cron", "/usr/sbin/cron", ["/usr/sbin/cron", "-f"])
    for index in range(5):
        events.process("exec", 2000 + index, 640, "logrotate", "/usr/sbin/logrotate",
                       ["/usr/sbin/logrotate", "/etc/logrotate.conf"])  # fmt: skip
    events.process("exec", 700, 1, "dhclient", "/usr/sbin/dhclient", ["/sbin/dhclient", "eth0"])
    events.add(
        "network", "start", "connection_attempted",
        process={"pid": 700, "entity_id": _entity(700, host), "name": "dhclient"},
        destination={"ip": "192.0.2.1", "port": 67},
    )  # fmt: skip
    return events.documents


def detect(documents: list[dict[str, object]]) -> list[dict[str, object]]:
    """The shipped rule pack's alerts over `documents`, as the sensor raises them."""
    detector = Detector(load_rules())
    alerts = []
    for document in documents:
        alerts.extend(detector.process(document))
    alerts.extend(detector.flush())
    return alerts


def implant_sweep(taken_at: datetime, *, hostile: bool = False, host: str = "web-1") -> SweepResult:
    """`doorhunt sweep` on the infected host: the implant with its BPFDoor filter."""
    argv = (
        (HOSTILE_NAME, "--no-daemon", HOSTILE_ARG)
        if hostile
        else ("/usr/sbin/console-kit-daemon", "--no-daemon")
    )
    holder = process(
        IMPLANT_PID,
        exe="/dev/shm/kdmtmpflush",
        deleted=True,
        argv=argv,
        comm=HOSTILE_NAME[:15] if hostile else "console-kit-dae",
        environ=("HOME=/tmp", "HISTFILE=/dev/null", "MYSQL_HISTFILE=/dev/null"),
        sockets={11: 3},
        waits=(WaitState(IMPLANT_PID, "recvfrom", 3),),
    )
    host_fields: dict[str, object] = {
        "name": host, "hostname": host, "id": HOST_ID, "boot": {"id": BOOT_ID},
    }  # fmt: skip
    virtual = dataclasses.replace(
        snapshot([holder], packet=[packet_socket(11, classic_read(CLASSIC))]),
        taken_at=taken_at,
        host=host_fields,
    )
    return run_checks(virtual)


def clean_sweep(taken_at: datetime, host: str = "db-1") -> SweepResult:
    virtual = dataclasses.replace(
        snapshot([process(640, exe="/usr/sbin/cron")]),
        taken_at=taken_at,
        host={"name": host, "hostname": host},
    )
    return run_checks(virtual)


def store_sweep(data: Path, result: SweepResult, *, file: bool = True) -> None:
    """What `doorhunt sweep` stores (cli/sweep.py, `_store`)."""
    snapshot_ = result.snapshot
    if file:
        stamp = snapshot_.taken_at.strftime("%Y%m%dT%H%M%SZ")
        name = str(snapshot_.host.get("hostname", "host")).replace("/", "_")
        write_json_atomically(data / "sweeps" / f"{stamp}-{name}.json", result.to_json("en"))
    write(data, [result.summary_ecs(), *result.ecs_documents("en")])


def quarantine_record(data: Path, when: datetime, path: str = "/dev/shm/kdmtmpflush") -> None:
    record: Mapping[str, object] = {
        "id": "20260501T100000Z-1a2b3c4d",
        "original_path": path,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "size": 14336,
        "mode": 0o755,
        "uid": 0,
        "gid": 0,
        "mtime_ns": 1225355836 * 10**9,  # 2008-10-30 08:37:16 UTC: BPFDoor's timestomp
        "atime_ns": 1225355836 * 10**9,
        "quarantined_at": when.timestamp(),
        "reason": "rule 'Program executed from shared memory'",
        "copied_from": f"/proc/{IMPLANT_PID}/exe",
        "original_removed": False,
    }
    directory = data / "quarantine"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")


def write(data: Path, documents: list[dict[str, object]]) -> None:
    with Store(data / "store").writer(compact_interval=None, exclusive=False) as writer:
        writer.extend(documents)


def build_compromise(data: Path, *, hostile: bool = False) -> datetime:
    """The whole case: web-1 compromised (events, alerts, sweep file and store record,
    quarantine), db-1 clean (events, a sweep only in the store). Returns the start time."""
    start = base_time()
    infected = compromise_events(start, hostile=hostile)
    noise = noise_events(start)
    write(data, infected + noise + detect(infected + noise))
    store_sweep(data, implant_sweep(start + timedelta(minutes=10), hostile=hostile))
    store_sweep(data, clean_sweep(start + timedelta(minutes=11)), file=False)
    quarantine_record(data, start + timedelta(minutes=1))
    return start
