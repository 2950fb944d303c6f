"""Benchmarks of `doorhunt bpf` (issue: foundation and classic-BPF toolkit).

1. `explain` on the 30-instruction classic program and the 229-instruction multi-magic
   program (targets: under 5 ms and under 100 ms), cold (first call in the process) and warm.
2. Interpreter throughput on the classic program, translated (fast) and reference, beside the
   same packets run through `tcpdump -r` with the equivalent expression (BPFDOOR.md §2) as the
   baseline, measured in the same run. Target: at least 200,000 packets/s in-process.
The accepted counts must agree between all three, or the benchmark fails.
"""

from __future__ import annotations

import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.explain import explain
from doorhunt.bpf.interpreter import Link, execute
from doorhunt.bpf.jit import compile_filter
from doorhunt.bpf.pcap import write_pcap

CLASSIC_EXPRESSION = (
    "(udp[8:2]=0x7255) or (icmp[8:2]=0x7255 and icmp[0]=8) or (tcp[((tcp[12]&0xf0)>>2):2]=0x5293)"
)
PACKETS = 200_000


def time_explain(name: str, runs: int = 30) -> tuple[float, float, int]:
    """(cold ms, median warm ms, instructions) for `explain` of an example."""
    program = EXAMPLES[name].build()
    started = time.perf_counter()
    explain(program)
    cold = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        explain(program)
        samples.append((time.perf_counter() - started) * 1000)
    return cold, statistics.median(samples), len(program)


def packet_mix(count: int, seed: int = 7) -> list[bytes]:
    """Ethernet frames as a busy server sees them: mostly TCP and UDP, some ICMP, IPv6 and
    ARP, options and fragments, and 1% BPFDoor triggers."""
    chooser = random.Random(seed)
    frames = []
    for _ in range(count):
        kind = chooser.choices(["tcp", "udp", "icmp", "ipv6", "arp"], [60, 25, 5, 8, 2])[0]
        if kind in ("ipv6", "arp"):
            ethertype = b"\x86\xdd" if kind == "ipv6" else b"\x08\x06"
            frames.append(bytes(12) + ethertype + chooser.randbytes(chooser.randrange(28, 120)))
            continue
        trigger = chooser.random() < 0.01
        protocol = {"tcp": 6, "udp": 17, "icmp": 1}[kind]
        if kind == "tcp":
            header = struct.pack(
                "!HHIIBBHHH",
                443,
                chooser.randrange(1024, 65535),
                1,
                1,
                chooser.choice([5, 5, 8]) << 4,
                0x18,
                512,
                0,
                0,
            )
            header += bytes((header[12] >> 4) * 4 - 20)
        elif kind == "udp":
            header = struct.pack("!HHHH", 53, chooser.randrange(1024, 65535), 8, 0)
        else:
            header = struct.pack("!BBHHH", 8, 0, 0, 1, 1)
        magic = (b"\x52\x93" if kind == "tcp" else b"\x72\x55") if trigger else b""
        body = header + magic + chooser.randbytes(chooser.randrange(0, 200))
        fragment = 0x2000 if chooser.random() < 0.02 else 0x4000
        ip = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(body),
            0,
            fragment,
            64,
            protocol,
            0,
            bytes([10, 0, 0, 1]),
            bytes([10, 0, 0, 2]),
        )
        frames.append(bytes(12) + b"\x08\x00" + ip + body)
    return frames


def throughput(frames: list[bytes]) -> dict[str, tuple[float, int, int]]:
    """(packets/s, packets, accepted) for each engine and for tcpdump. The reference
    interpreter runs on the first quarter of the packets (it is the slow, obvious one)."""
    program = EXAMPLES["bpfdoor-classic"].build()
    fast = compile_filter(program, Link.ETHERNET)
    results = {}
    started = time.perf_counter()
    accepted = sum(1 for frame in frames if fast(frame))
    results["doorhunt (translated)"] = (
        len(frames) / (time.perf_counter() - started),
        len(frames),
        accepted,
    )
    sample = frames[: len(frames) // 4]
    started = time.perf_counter()
    accepted = sum(1 for frame in sample if execute(program, frame))
    results["doorhunt (reference)"] = (
        len(sample) / (time.perf_counter() - started),
        len(sample),
        accepted,
    )
    tcpdump = shutil.which("tcpdump") or "/usr/bin/tcpdump"
    with tempfile.TemporaryDirectory() as scratch:
        capture, matched = Path(scratch) / "mix.pcap", Path(scratch) / "matched.pcap"
        with capture.open("wb") as handle:
            write_pcap(handle, frames, Link.ETHERNET)
        started = time.perf_counter()
        subprocess.run(
            [tcpdump, "-r", str(capture), "-w", str(matched), CLASSIC_EXPRESSION],
            check=True,
            capture_output=True,
        )
        elapsed = time.perf_counter() - started
        results["tcpdump -r (baseline)"] = (
            len(frames) / elapsed,
            len(frames),
            _count_records(matched),
        )
    return results


def _count_records(path: Path) -> int:
    data = path.read_bytes()
    offset, count = 24, 0
    while offset + 16 <= len(data):
        offset += 16 + struct.unpack_from("<I", data, offset + 8)[0]
        count += 1
    return count


def main() -> int:
    print("doorhunt bpf benchmarks")
    print(f"python {sys.version.split()[0]}\n")
    print("explain (ms)                      cold     warm(median)  target")
    failed = False
    for name, target in (("bpfdoor-classic", 5.0), ("bpfdoor-multi-229", 100.0)):
        cold, warm, size = time_explain(name)
        ok = warm < target
        failed |= not ok
        print(
            f"  {name:<20} {size:>4} insns {cold:8.2f} {warm:10.2f}     < {target:g}"
            f"  {'ok' if ok else 'MISSED'}"
        )
    frames = packet_mix(PACKETS)
    results = throughput(frames)
    baseline = results["tcpdump -r (baseline)"][0]
    print(f"\ninterpreter throughput, classic program, {len(frames):,} packets")
    for name, (rate, count, accepted) in results.items():
        print(
            f"  {name:<24} {rate:>12,.0f} packets/s   accepted {accepted:>6,} of {count:>7,}"
            f"   ratio to tcpdump {rate / baseline:5.2f}"
        )
    fast, reference = results["doorhunt (translated)"], results["doorhunt (reference)"]
    sample_accepted = sum(
        1
        for frame in frames[: reference[1]]
        if compile_filter(EXAMPLES["bpfdoor-classic"].build())(frame)
    )
    if fast[2] != results["tcpdump -r (baseline)"][2] or reference[2] != sample_accepted:
        print("ERROR: the engines and tcpdump disagree on which packets to accept")
        failed = True
    print(f"  target >= 200,000 packets/s in-process: {'ok' if fast[0] >= 200_000 else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
