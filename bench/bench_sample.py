"""Benchmarks of `doorhunt yara` and `doorhunt sample` (issue: sample analysis and YARA).

1. YARA scanning: doorhunt's scanner (yara-x, one thread, each file read whole) over the
   compiled test builds and the system's ELF files, beside Debian's `yara` CLI with the same
   rules over the same file list (`--scan-list`, one thread, then its default threads) as the
   baseline in the same run. Prints MB/s, the ratio and the slowest file, and fails when the
   two engines disagree on any (file, rule) or when a rule matches a system file.
2. Sample analysis, as `doorhunt sample FOLDER` does it (`analyze_file`: ELF, code sweep,
   strings, filters, libpcap expressions, artefacts, secrets, addresses, crypto markers, packet
   layout, YARA) over the builds and every ELF file of a folder of system programs (default
   /usr/bin): MB/s (wall clock, and CPU time: CI machines are shared), the slowest file, and
   the ratio to the yara CLI (one thread, doorhunt's rules) on the same files in the same run.
   Issue targets: at least 20 MB/s, no file over 2 s.

    .venv/bin/python bench/bench_sample.py [--limit-mb N] [--folder DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doorhunt.sample.analysis import analyze_file
from doorhunt.sample.yara import YaraScanner, builtin_rule_files

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sample.builds import BUILDS, SOURCES  # noqa: E402

SYSTEM_FOLDERS = ("/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu")
MAX_FILE_BYTES = 64 * 1024 * 1024
TARGET_MB_PER_SECOND = 20.0
TARGET_SLOWEST_SECONDS = 2.0


def compile_builds(folder: Path) -> list[Path]:
    gcc = shutil.which("gcc") or "gcc"
    paths = []
    for build in BUILDS:
        output = folder / build.name
        result = subprocess.run(
            [gcc, "-w", *build.flags, "-o", str(output), str(SOURCES / build.source)],
            capture_output=True,
            check=False,
        )
        if result.returncode == 0:
            paths.append(output)
        else:
            print(f"  (skipped {build.name}: gcc failed)")
    return paths


def system_files(limit_bytes: int, folders: tuple[str, ...] = SYSTEM_FOLDERS) -> list[Path]:
    files, total = [], 0
    for folder in folders:
        for path in sorted(Path(folder).iterdir()):
            try:
                if path.is_symlink() or not path.is_file():
                    continue
                size = path.stat().st_size
                with path.open("rb") as handle:
                    if handle.read(4) != b"\x7fELF":
                        continue
            except OSError:
                continue
            if size > MAX_FILE_BYTES:
                continue
            if total + size > limit_bytes:
                return files
            files.append(path)
            total += size
    return files


def run_doorhunt(
    scanner: YaraScanner, files: list[Path]
) -> tuple[float, dict[str, set[str]], tuple[float, Path]]:
    hits: dict[str, set[str]] = {}
    slowest = (0.0, files[0])
    started = time.perf_counter()
    for path in files:
        begun = time.perf_counter()
        report = scanner.scan_path(path, max_bytes=MAX_FILE_BYTES)
        elapsed = time.perf_counter() - begun
        slowest = max(slowest, (elapsed, path))
        if report.hits:
            hits[str(path)] = {hit.rule for hit in report.hits}
    return time.perf_counter() - started, hits, slowest


def run_yara_cli(
    rules: Path, files: list[Path], threads: int | None
) -> tuple[float, dict[str, set[str]]]:
    yara = shutil.which("yara") or "/usr/bin/yara"
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as listing:
        listing.write("\n".join(str(path) for path in files) + "\n")
    command = [yara, "-w", "--scan-list", str(rules), listing.name]
    if threads:
        command[1:1] = ["-p", str(threads)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    os.unlink(listing.name)
    hits: dict[str, set[str]] = {}
    for line in result.stdout.splitlines():
        rule, _, path = line.partition(" ")
        hits.setdefault(path, set()).add(rule)
    return elapsed, hits


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit-mb", type=int, default=512, help="system files to scan (MB)")
    parser.add_argument(
        "--folder", default="/usr/bin", help="system programs to analyse (default /usr/bin)"
    )
    options = parser.parse_args()
    print("doorhunt sample/yara benchmarks")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        builds = compile_builds(folder)
        files = builds + system_files(options.limit_mb * 1024 * 1024)
        megabytes = sum(path.stat().st_size for path in files) / 1e6
        rules = folder / "doorhunt.yar"
        rules.write_text("".join(source.text for source in builtin_rule_files()))
        scanner = YaraScanner()
        run_doorhunt(scanner, files[:20])  # warm the page cache for both engines
        run_yara_cli(rules, files, threads=1)
        ours, our_hits, slowest = run_doorhunt(scanner, files)
        theirs_1, their_hits = run_yara_cli(rules, files, threads=1)
        theirs_n, _ = run_yara_cli(rules, files, threads=None)
        print(
            f"YARA scan: {len(files)} files, {megabytes:,.0f} MB "
            f"({len(builds)} test builds, the rest system ELF files), {len(scanner.rule_names)} rules"
        )
        for name, seconds in (
            ("doorhunt (yara-x, 1 thread)", ours),
            ("yara 4.2 CLI, 1 thread (baseline)", theirs_1),
            ("yara 4.2 CLI, default threads", theirs_n),
        ):
            print(
                f"  {name:<36} {seconds:7.2f} s  {megabytes / seconds:8.1f} MB/s"
                f"   ratio to baseline {theirs_1 / seconds:5.2f}"
            )
        print(
            f"  slowest file (doorhunt): {slowest[1]} {slowest[0] * 1000:.1f} ms "
            f"({slowest[1].stat().st_size / 1e6:.1f} MB)"
        )
        if our_hits != their_hits:
            failed = True
            print("ERROR: doorhunt and yara disagree:")
            for path in sorted(set(our_hits) | set(their_hits)):
                if our_hits.get(path) != their_hits.get(path):
                    print(
                        f"  {path}: doorhunt {sorted(our_hits.get(path, []))} "
                        f"yara {sorted(their_hits.get(path, []))}"
                    )
        built = {str(path) for path in builds}
        false_positives = sorted(path for path in our_hits if path not in built)
        expected = {str(folder / b.name) for b in BUILDS if b.bpfdoor} & built
        missed = sorted(expected - set(our_hits))
        print(
            f"  test builds matched: {len(expected) - len(missed)}/{len(expected)}, "
            f"system files matched: {len(false_positives)}"
        )
        if false_positives or missed:
            failed = True
            print(f"ERROR: false positives {false_positives}, missed {missed}")

        analysed = builds + system_files(1 << 62, (options.folder,))  # the whole folder
        analysed_mb = sum(path.stat().st_size for path in analysed) / 1e6
        slowest = (0.0, analysed[0])
        over = 0
        started, started_cpu = time.perf_counter(), time.process_time()
        for path in analysed:
            begun = time.perf_counter()
            analyze_file(path, yara=scanner)
            elapsed = time.perf_counter() - begun
            over += elapsed > TARGET_SLOWEST_SECONDS
            slowest = max(slowest, (elapsed, path))
        analysis_seconds = time.perf_counter() - started
        analysis_cpu = time.process_time() - started_cpu
        baseline, _ = run_yara_cli(rules, analysed, threads=1)
        print(
            f"\nsample analysis: {len(analysed)} files, {analysed_mb:,.0f} MB "
            f"({len(builds)} test builds, the rest the ELF files of {options.folder})"
        )
        print(
            f"  doorhunt analyze_file (all stages)   {analysis_seconds:7.2f} s  "
            f"{analysed_mb / analysis_seconds:8.1f} MB/s   ratio to yara CLI "
            f"{baseline / analysis_seconds:5.3f}"
        )
        print(
            f"    (CPU time of the analysis          {analysis_cpu:7.2f} s  "
            f"{analysed_mb / analysis_cpu:8.1f} MB/s)"
        )
        print(
            f"  yara 4.2 CLI on the same files       {baseline:7.2f} s  "
            f"{analysed_mb / baseline:8.1f} MB/s"
        )
        print(
            f"  slowest file: {slowest[1]} {slowest[0] * 1000:.0f} ms "
            f"({slowest[1].stat().st_size / 1e6:.1f} MB); files over "
            f"{TARGET_SLOWEST_SECONDS:g} s: {over}"
        )
        speed = analysed_mb / analysis_seconds
        met = speed >= TARGET_MB_PER_SECOND and slowest[0] <= TARGET_SLOWEST_SECONDS
        print(
            f"  targets (>= {TARGET_MB_PER_SECOND:g} MB/s, no file over "
            f"{TARGET_SLOWEST_SECONDS:g} s): {'met' if met else 'NOT met'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
