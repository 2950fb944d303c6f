"""Benchmark of `doorhunt sensor` under an exec storm (issue: live sensor). Needs root and gcc.

An exec storm (bench/sources/exec_storm.c, compiled here) starts /bin/true at RATE per second
for SECONDS seconds. Measured: exec events the sensor delivered versus processes started
(lost ones, and the sensor's own lost/dropped counters), the sensor's CPU (% of one core) and
peak RSS; in the same run, auditd with an execve rule on the same storm as the baseline.
Targets: no loss (or loss counted by the sensor), <= 30% of one core at 1,000 exec/s, RSS
steady <= 150 MB.

    sudo .venv/bin/python bench/bench_sensor.py [--rate 1000] [--seconds 60] [--no-rules]

The sensor runs as users run it: with the shipped rule pack unless --no-rules.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.auditd import running_auditd  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def compile_storm(directory: str) -> str:
    binary = f"{directory}/exec_storm"
    subprocess.run(
        ["gcc", "-O2", "-o", binary, str(ROOT / "bench/sources/exec_storm.c")], check=True
    )
    return binary


def storm(
    binary: str, rate: int, seconds: int, started: list[int] | None = None
) -> tuple[int, float]:
    process = subprocess.Popen([binary, str(rate), str(seconds)], stdout=subprocess.PIPE, text=True)
    if started is not None:
        started.append(process.pid)
    output, _ = process.communicate()
    words = output.split()
    return int(words[0]), float(words[1])


def run_sensor(binary: str, rate: int, seconds: int, rules: bool) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "doorhunt",
        "sensor",
        "--ndjson",
        "--no-store",
        "--no-fanotify",
        "--status-interval",
        "5",
        *([] if rules else ["--no-rules"]),
    ]
    sensor = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert sensor.stdout is not None and sensor.stderr is not None
    execs = partial = 0
    peak = 0.0
    storm_pid: list[int] = []

    def count() -> None:
        nonlocal execs, partial
        assert sensor.stdout is not None
        for line in sensor.stdout:
            # The storm's children, by parent pid: /bin/true exits at once, and an exec event
            # of a process already gone is partial (what ran is unknown) but not lost.
            if (
                '"action":"exec"' in line
                and storm_pid
                and (f'"parent":{{"pid":{storm_pid[0]},' in line)
            ):
                execs += 1
                partial += '"partial":true' in line

    reader = threading.Thread(target=count, daemon=True)
    reader.start()
    time.sleep(3)  # seeded and subscribed
    before = cpu_seconds(sensor.pid)
    sampler_stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampler_stop.wait(0.5):
            peak = max(peak, rss_mib(sensor.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, elapsed = storm(binary, rate, seconds, storm_pid)
    time.sleep(2)  # let the sensor drain
    used = cpu_seconds(sensor.pid) - before
    sampler_stop.set()
    sensor.terminate()
    sensor.wait(timeout=30)
    reader.join(timeout=30)
    report = sensor.stderr.read()
    lost = dropped = 0
    for line in report.splitlines():
        if "stopped:" in line:
            words = line.replace(",", "").split()
            lost = int(words[words.index("kernel") - 1])
            dropped = int(words[words.index("dropped") - 1])
    return {
        "started": started,
        "elapsed": elapsed,
        "seen": execs,
        "partial": partial,
        "cpu": used,
        "peak_rss": peak,
        "lost": lost,
        "dropped": dropped,
    }


def run_auditd(binary: str, rate: int, seconds: int) -> dict[str, float] | None:
    auditd, auditctl = shutil.which("auditd"), shutil.which("auditctl")
    if not auditd or not auditctl:
        return None
    rule = ["-F", "arch=b64", "-S", "execve", "-k", "doorhunt-bench"]
    with (
        tempfile.TemporaryDirectory(prefix="doorhunt-auditd-") as directory,
        running_auditd(auditd, Path(directory)) as daemon,
    ):
        time.sleep(2)
        subprocess.run([auditctl, "-a", "always,exit", *rule], check=True, capture_output=True)
        try:
            before = cpu_seconds(daemon.pid)
            started, _ = storm(binary, rate, seconds)
            time.sleep(2)
            used = cpu_seconds(daemon.pid) - before
        finally:
            subprocess.run([auditctl, "-d", "always,exit", *rule], capture_output=True, check=False)
    return {"started": started, "cpu": used}


def main() -> int:
    if os.geteuid() != 0:
        print("bench_sensor needs root")
        return 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=1000, help="exec per second")
    parser.add_argument("--seconds", type=int, default=60, help="length of the storm")
    parser.add_argument("--no-rules", action="store_true", help="run the sensor without the pack")
    args = parser.parse_args()
    rate, seconds = args.rate, args.seconds
    with tempfile.TemporaryDirectory() as directory:
        binary = compile_storm(directory)
        sensor = run_sensor(binary, rate, seconds, rules=not args.no_rules)
        baseline = run_auditd(binary, rate, seconds)
    sensor_cpu = 100 * sensor["cpu"] / sensor["elapsed"]
    missing = int(sensor["started"] - sensor["seen"])
    print(
        f"doorhunt sensor ({'no rules' if args.no_rules else 'shipped pack'}), exec storm "
        f"{rate}/s for {seconds} s "
        f"({int(sensor['started'])} processes in {sensor['elapsed']:.1f} s)"
    )
    print(
        f"  exec events delivered  {int(sensor['seen'])}  (missing {missing}; partial "
        f"{int(sensor['partial'])}; sensor's own count: lost {int(sensor['lost'])}, dropped "
        f"{int(sensor['dropped'])})"
    )
    print(
        f"  sensor CPU             {sensor_cpu:5.1f} % of one core   peak RSS "
        f"{sensor['peak_rss']:.0f} MiB"
    )
    if baseline:
        auditd_cpu = 100 * baseline["cpu"] / sensor["elapsed"]
        print(
            f"  auditd (execve rule)   {auditd_cpu:5.1f} % of one core   ratio sensor/auditd "
            f"{sensor_cpu / max(auditd_cpu, 0.01):.1f}"
        )
    else:
        print("  auditd not installed: baseline skipped (apt install auditd)")
    ok = (
        sensor_cpu <= 30 * rate / 1000
        and sensor["peak_rss"] <= 150
        and (missing <= sensor["lost"] + sensor["dropped"] or missing == 0)
    )
    print(
        f"  targets (<= 30% of a core per 1,000 exec/s, <= 150 MiB, losses counted): "
        f"{'ok' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
