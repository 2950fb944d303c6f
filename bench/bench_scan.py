"""Benchmark of `doorhunt scan` (issue: network magic-packet scanner). Needs root and scapy.

Builds a scanner namespace and a router namespace joined by a veth pair; the router routes
198.19.0.0/16 (RFC 2544 test space) into a blackhole, so every probe really leaves the scanner
and is dropped one hop later. Then, each in its own process inside the scanner namespace:

- doorhunt: the whole /16 (65,534 targets × 3 probes: UDP 7255, ICMP 7255, TCP 5293), no
  retries, RSS read at the start, at 10 % and at the end;
- baseline: the same probe packets sent the way the public scanner does, one scapy `send()`
  per probe (BPFDOOR.md §6), over the first probes of the same list.

Prints probes per second of both and the ratio. Targets: >= 20,000 probes/s, >= 50x the
baseline, flat memory. Everything it creates is removed at the end.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.kernel import ip

from doorhunt.scan.engine import Progress
from doorhunt.scan.nonce import ListenSpec
from doorhunt.scan.probes import ProbeOptions, builtin_kinds
from doorhunt.scan.run import ScanPlan, run_scan
from doorhunt.scan.targets import TargetSet, parse_address, parse_spec

RANGE = "198.19.0.0/16"
SCANNER_ADDRESS = "198.18.1.2"
ROUTER_ADDRESS = "198.18.1.1"
BASELINE_PROBES = 300
TIMEOUT = 1.0


def rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def child_doorhunt() -> dict[str, object]:
    kinds = tuple(builtin_kinds(None, ("udp", "icmp", "tcp"), ProbeOptions()))
    plan = ScanPlan(
        TargetSet(parse_spec(RANGE, location="bench")),
        kinds,
        ListenSpec(None),
        rate=1_000_000.0,
        retries=0,
        timeout=TIMEOUT,
    )
    samples: dict[str, int] = {"start": rss_kib()}

    def progress(state: Progress) -> None:
        if "10%" not in samples and state.probes_started >= state.probes_planned // 10:
            samples["10%"] = rss_kib()

    started = time.perf_counter()
    summary = run_scan(plan, lambda result: None, progress)
    wall = time.perf_counter() - started
    samples["end"] = rss_kib()
    return {
        "probes": summary.probes_sent,
        "targets": summary.scanned,
        "wall": wall,
        # After the last probe the scan only waits its timeout for ping-backs.
        "sending": summary.elapsed - TIMEOUT,
        "nonce_rate": summary.nonce_rate,
        "rss": samples,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def child_baseline() -> dict[str, object]:
    from scapy.all import IP, send  # type: ignore[attr-defined]  # noqa: PLC0415

    kinds = builtin_kinds(None, ("udp", "icmp", "tcp"), ProbeOptions())
    source = parse_address(SCANNER_ADDRESS)
    packets: list[bytes] = []
    for address in TargetSet(parse_spec(RANGE, location="bench")):
        for kind in kinds:
            assert kind.template is not None
            packets.append(kind.template.render(source, address, source, 40000 + len(packets)))
        if len(packets) >= BASELINE_PROBES:
            break
    started = time.perf_counter()
    for packet in packets:
        send(IP(packet), verbose=0)
    elapsed = time.perf_counter() - started
    import scapy  # noqa: PLC0415

    return {"probes": len(packets), "sending": elapsed, "scapy": scapy.VERSION}


def in_namespace(namespace: str, role: str) -> dict[str, Any]:
    result = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, __file__, "--child", role],
        capture_output=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise SystemExit(f"{role} failed: {result.stderr.decode(errors='replace')[-2000:]}")
    document: dict[str, Any] = json.loads(result.stdout.decode().splitlines()[-1])
    return document


def received(namespace: str, device: str) -> int:
    path = f"/sys/class/net/{device}/statistics/rx_packets"
    result = subprocess.run(
        ["ip", "netns", "exec", namespace, "cat", path], capture_output=True, check=True
    )
    return int(result.stdout)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        work = child_doorhunt if sys.argv[2] == "doorhunt" else child_baseline
        print(json.dumps(work()))
        return 0
    if os.geteuid() != 0:
        print("bench_scan needs root (namespaces, raw sockets)")
        return 2
    try:
        import scapy  # noqa: F401, PLC0415
    except ImportError:
        print("bench_scan needs scapy for its baseline: .venv/bin/pip install scapy")
        return 2
    tag = os.getpid() % 100000
    scanner, router = f"dhbsc{tag}", f"dhbrt{tag}"
    scanner_device, router_device = f"dbs{tag}", f"dbr{tag}"
    try:
        for name in (scanner, router):
            ip("netns", "add", name)
            ip("-n", name, "link", "set", "lo", "up")
        ip("-n", scanner, "link", "add", scanner_device, "type", "veth", "peer", "name",
           router_device, "netns", router)  # fmt: skip
        ip("-n", scanner, "addr", "add", f"{SCANNER_ADDRESS}/30", "dev", scanner_device)
        ip("-n", router, "addr", "add", f"{ROUTER_ADDRESS}/30", "dev", router_device)
        ip("-n", scanner, "link", "set", scanner_device, "up")
        ip("-n", router, "link", "set", router_device, "up")
        ip("-n", scanner, "route", "add", "198.18.0.0/15", "via", ROUTER_ADDRESS)
        subprocess.run(
            ["ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True
        )
        ip("-n", router, "route", "add", "blackhole", RANGE)
        before = received(router, router_device)
        ours = in_namespace(scanner, "doorhunt")
        at_router = received(router, router_device) - before
        baseline = in_namespace(scanner, "baseline")
    finally:
        for name in (scanner, router):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    our_rate = ours["probes"] / ours["sending"]
    base_rate = baseline["probes"] / baseline["sending"]
    rss: dict[str, int] = ours["rss"]
    growth = rss["end"] - rss["10%"]
    print("doorhunt scan benchmark")
    print(
        f"  range {RANGE} routed into a blackhole one hop away; {ours['targets']:,} targets × 3 "
        f"probes (UDP 7255, ICMP 7255, TCP 5293), no retries"
    )
    print(
        f"  doorhunt scan   {ours['probes']:>7,} probes in {ours['sending']:.2f} s sending "
        f"({ours['wall']:.2f} s with the {TIMEOUT:g} s final wait): {our_rate:,.0f} probes/s; "
        f"the router received {at_router:,} packets"
    )
    print(
        f"                  (the nonce cap at these settings: {ours['nonce_rate']:,.0f} probes/s = "
        f"reply ports / {TIMEOUT:g} s timeout; docs/scan.md, Nonces)"
    )
    print(
        f"  baseline        {baseline['probes']:>7,} probes, one scapy {baseline['scapy']} send() "
        f"each, in {baseline['sending']:.2f} s: {base_rate:,.0f} probes/s"
    )
    print(f"  speed-up        {our_rate / base_rate:,.0f}x   (target >= 50x)")
    print(
        f"  memory          RSS {rss['start'] / 1024:.1f} MiB at start, {rss['10%'] / 1024:.1f} "
        f"MiB at 10 %, {rss['end'] / 1024:.1f} MiB at the end (growth after 10 %: "
        f"{growth / 1024:.1f} MiB); peak {ours['peak_rss'] / 1024:.1f} MiB"
    )
    ok = our_rate >= 20_000 and our_rate / base_rate >= 50 and growth < 8 * 1024
    ok = ok and at_router >= ours["probes"]
    print(f"  targets (>= 20,000 probes/s, >= 50x, flat memory): {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
