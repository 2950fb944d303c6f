"""Benchmark of `doorhunt sweep` (issue: host sweep). Needs root.

Builds the issue's host: 2,000 idle processes and 50 filtered packet sockets across 3 network
namespaces (10 classic BPFDoor filters, 40 benign DHCP/port filters), then times
`doorhunt sweep --json` and, in the same run, bench/baseline_check.sh (the public check
scripts' method). Targets: sweep <= 2 s wall, peak RSS <= 150 MB, >= 3x faster than the
baseline while reporting strictly more. Everything it creates is removed at the end.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.kernel import VethLab
from tests.processes import processes

from doorhunt.bpf.examples import EXAMPLES

IDLE = 2000
ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> tuple[float, int, bytes]:
    """(wall seconds, peak RSS in MiB, stdout) of one child, measured with wait4."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    output = child.stdout.read()
    _, _, usage = os.wait4(child.pid, 0)
    child.returncode = 0
    return time.perf_counter() - started, usage.ru_maxrss // 1024, output


def main() -> int:
    if os.geteuid() != 0:
        print("bench_sweep needs root (namespaces, packet sockets)")
        return 2
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    labs = [VethLab(name=f"dhbench{i}", a=f"dhba{i}", b=f"dhbb{i}") for i in range(3)]
    classic = [list(i) for i in EXAMPLES["bpfdoor-classic"].build()]
    dhcp = [list(i) for i in EXAMPLES["dhcp-client"].build()]
    try:
        with processes() as started:
            for _ in range(IDLE):
                started.run(["sleep", "3600"])
            for index, lab in enumerate(labs):
                started.holder(
                    {
                        "netns": lab.name,
                        "socket": "packet-raw",
                        "count": 4 if index else 2,
                        "filter": classic,
                    }
                )
                started.holder(
                    {
                        "netns": lab.name,
                        "socket": "packet-raw",
                        "count": 14 if index else 12,
                        "filter": dhcp,
                        "interface": lab.b,
                    }
                )
            time.sleep(1)
            command = [sys.executable, "-m", "doorhunt", "sweep", "--json", "--no-store"]
            timed(command)  # warm the page cache, as a second run on a server would be
            sweep_seconds, sweep_rss, output = timed(command)
            baseline_seconds, _, baseline_output = timed(
                ["sh", str(ROOT / "bench/baseline_check.sh")]
            )
    finally:
        for lab in labs:
            lab.close()
    document = json.loads(output)
    filters = [f for f in document["findings"] if f["check"] == "socket_filter"]
    baseline_lines = [line for line in baseline_output.decode().splitlines() if line.strip()]
    print("doorhunt sweep benchmark")
    print(
        f"  host: {document['summary']['processes']} processes, "
        f"{document['summary']['namespaces']} network namespaces, "
        f"{document['summary']['packet_sockets']} packet sockets"
    )
    print(
        f"  doorhunt sweep --json   {sweep_seconds:6.2f} s   peak RSS {sweep_rss} MiB   "
        f"findings {len(document['findings'])} (filters {len(filters)}, each with holder, "
        f"namespace and analysed program)"
    )
    print(f"  baseline script         {baseline_seconds:6.2f} s   lines {len(baseline_lines)}")
    print(f"  speed-up                {baseline_seconds / sweep_seconds:6.1f}x   (target >= 3x)")
    ok = sweep_seconds <= 2 and sweep_rss <= 150 and baseline_seconds / sweep_seconds >= 3
    print(f"  targets (<= 2 s, <= 150 MiB, >= 3x): {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
