"""Checks on files: BPFDoor's PID/lock files and executables in memory-backed and temporary
directories (BPFDOOR.md §1 steps 1, 2, 4; §3)."""

from __future__ import annotations

from collections.abc import Iterator

from doorhunt.host.files import PidFile
from doorhunt.host.persistence import KNOWN_NAMES
from doorhunt.host.procfs import Process
from doorhunt.host.snapshot import HostSnapshot
from doorhunt.i18n import Catalog
from doorhunt.indicators import PID_FILE_NAMES
from doorhunt.sweep.checks.provenance import SHARED_MEMORY, TIMESTOMP_EPOCH, risky_location
from doorhunt.sweep.findings import GUARDRAILS, HIDE_ARTIFACTS, TIMESTOMP, Finding

MEMORY_DIRECTORIES = ("/dev/shm/", "/run/")  # tmpfs on every systemd host: born after boot

MESSAGES = Catalog(
    {
        "pid_file_held": {
            "en": "empty {name} (a BPFDoor PID/lock name) held by {holder}, not by that daemon",
            "ko": "비어 있는 {name}(BPFDoor PID/락 파일 이름)을 해당 데몬이 아닌 {holder}가 잡고 있음",
        },
        "pid_file_idle": {
            "en": "empty {name} (a BPFDoor PID/lock name) that no installed package's daemon explains",
            "ko": "설치된 패키지의 데몬으로 설명되지 않는 비어 있는 {name}(BPFDoor PID/락 파일 이름)",
        },
        "pid_file_risky_holder": {
            "en": "empty lock file {name} held by an executable {where}",
            "ko": "{where} 실행 파일이 비어 있는 락 파일 {name}을 잡고 있음",
        },
        "temp_executable": {
            "en": "{kind} executable {where}: {path}",
            "ko": "{where} {kind} 실행 파일: {path}",
        },
        "known_on_disk_name": {
            "en": "file named like an implant from the 2025 incident: {path}",
            "ko": "2025년 사고의 임플란트와 같은 이름의 파일: {path}",
        },
        "timestomped_file": {
            "en": "{path} has a modification time set back ({why})",
            "ko": "{path}의 수정 시각이 과거로 조작됨 ({why})",
        },
        "epoch": {
            "en": "2008-10-30 08:37:16, BPFDoor's value",
            "ko": "BPFDoor가 쓰는 2008-10-30 08:37:16",
        },
        "before_boot": {
            "en": "before boot, on a memory file system",
            "ko": "메모리 파일 시스템인데 부팅 이전",
        },
        "in_shm": {"en": "in shared memory", "ko": "공유 메모리에 있는"},
        "in_run": {"en": "in /run", "ko": "/run에 있는"},
        "in_temp": {"en": "in a temporary directory", "ko": "임시 디렉터리에 있는"},
    }
)


def _holders(snapshot: HostSnapshot, pid_file: PidFile) -> list[Process]:
    """Processes that have the file open or hold a lock on it (/proc/locks)."""
    paths = {pid_file.facts.path, *pid_file.aliases}
    pids = {
        lock.pid
        for lock in snapshot.locks
        if lock.inode == pid_file.facts.inode and lock.device == pid_file.facts.device
    }
    for process in snapshot.processes.values():
        if isinstance(process.files, tuple) and any(f.target in paths for f in process.files):
            pids.add(process.pid)
    return [snapshot.processes[pid] for pid in sorted(pids) if pid in snapshot.processes]


def _evidence(pid_file: PidFile, holders: list[Process]) -> dict[str, object]:
    facts = pid_file.facts
    return {
        "path": facts.path,
        "aliases": list(pid_file.aliases),
        "size": facts.size,
        "mode": f"{facts.mode:04o}",
        "uid": facts.uid,
        "mtime": facts.mtime,
        "content": pid_file.content,
        "holders": [p.pid for p in holders],
    }


def check_pid_files(snapshot: HostSnapshot) -> Iterator[Finding]:
    """Empty PID/lock files by size and ownership, in /run and /var/run alike; no mode gate
    (umask varies, §3)."""
    for pid_file in snapshot.pid_files:
        if pid_file.facts.size != 0:
            continue
        holders = _holders(snapshot, pid_file)
        known = pid_file.name in PID_FILE_NAMES
        evidence = _evidence(pid_file, holders)
        stem = pid_file.stem
        foreign = [
            p
            for p in holders
            if (p.executable or "").rsplit("/", 1)[-1] not in (stem, stem.removesuffix("d"))
        ]
        if known and foreign:
            holder = foreign[0]
            score = (
                85 + (10 if risky_location(holder) else 0) + (5 if pid_file.facts.uid == 0 else 0)
            )
            yield Finding(
                "pid_file",
                min(score, 100),
                MESSAGES(
                    "pid_file_held", name=pid_file.name, holder=holder.executable or holder.comm
                ),
                None,
                holder,
                evidence,
                (GUARDRAILS,),
                "file",
            )
        elif known and not holders and not snapshot.packages.owns_name(stem):
            yield Finding(
                "pid_file",
                50,
                MESSAGES("pid_file_idle", name=pid_file.name),
                None,
                None,
                evidence,
                (GUARDRAILS,),
                "file",
            )
        else:
            for holder in holders:
                where = risky_location(holder)
                if where is not None:
                    yield Finding(
                        "pid_file",
                        75,
                        MESSAGES("pid_file_risky_holder", name=pid_file.name, where=where),
                        None,
                        holder,
                        evidence,
                        (GUARDRAILS,),
                        "file",
                    )


def check_temp_executables(snapshot: HostSnapshot) -> Iterator[Finding]:
    """Executables in /dev/shm, /run and temporary directories, and timestomped ones."""
    boot = snapshot.boot_time
    for item in snapshot.temp_executables:
        path, facts = item.facts.path, item.facts
        name = path.rsplit("/", 1)[-1]
        evidence = {
            "path": path,
            "kind": item.kind,
            "size": facts.size,
            "mode": f"{facts.mode:04o}",
            "uid": facts.uid,
            "mtime": facts.mtime,
            "ctime": facts.ctime,
        }
        if name in KNOWN_NAMES:
            yield Finding(
                "temp_executable",
                85,
                MESSAGES("known_on_disk_name", path=path),
                None,
                None,
                evidence,
                (HIDE_ARTIFACTS,),
                "file",
            )
        if int(facts.mtime) == TIMESTOMP_EPOCH:
            yield Finding(
                "timestomp",
                90,
                MESSAGES("timestomped_file", path=path, why=MESSAGES("epoch")),
                None,
                None,
                evidence,
                (TIMESTOMP,),
                "file",
            )
        elif boot and facts.mtime < boot - 60 and path.startswith(MEMORY_DIRECTORIES):
            yield Finding(
                "timestomp",
                70,
                MESSAGES("timestomped_file", path=path, why=MESSAGES("before_boot")),
                None,
                None,
                evidence,
                (TIMESTOMP,),
                "file",
            )
        if path.startswith(SHARED_MEMORY):
            score, where = (80 if item.kind == "elf" else 50), MESSAGES("in_shm")
        elif path.startswith("/run/") and item.kind == "elf":
            score, where = 60, MESSAGES("in_run")
        elif item.kind == "elf":
            score, where = 30, MESSAGES("in_temp")
        else:
            continue
        yield Finding(
            "temp_executable",
            score,
            MESSAGES("temp_executable", kind=item.kind.upper(), where=where, path=path),
            None,
            None,
            evidence,
            (HIDE_ARTIFACTS,),
            "file",
        )


__all__ = ["check_pid_files", "check_temp_executables"]
