"""Checks on where processes come from and what they claim to be (BPFDOOR.md §1, §3)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from doorhunt.host.procfs import Process
from doorhunt.host.snapshot import HostSnapshot
from doorhunt.i18n import Catalog, Message
from doorhunt.sweep.findings import (
    FILE_DELETION,
    HIDE_ARTIFACTS,
    HISTORY_LOGGING,
    MASQUERADE_TASK,
    MATCH_NAME,
    REFLECTIVE_LOADING,
    TIMESTOMP,
    Finding,
)

SHARED_MEMORY = ("/dev/shm/", "/run/shm/")
TEMPORARY = ("/tmp/", "/var/tmp/", "/run/", "/var/run/", "/var/lock/")
TIMESTOMP_EPOCH = 1225394236  # 2008-10-30, the utimes() value of the classic build (§1)
# Process names BPFDoor builds show in `ps` (BPFDOOR.md §3), normalised to their first word.
FAKE_NAMES = frozenset(
    {
        "/sbin/udevd",
        "/sbin/mingetty",
        "/usr/sbin/console-kit-daemon",
        "hald-addon-acpi:",
        "dbus-daemon",
        "hald-runner",
        "pickup",
        "avahi-daemon:",
        "/sbin/auditd",
        "/usr/lib/systemd/systemd-journald",
        "qmgr",
        "/usr/libexec/postfix/master",
        "/sbin/agetty",
        "cmathreshd",
        "/sbin/sgaSolAgent",
        "hpasmlited",
        "lldpad",
        "/usr/bin/uvp-srv",
        "/usr/bin/pulse-helper",
        "/sbin/ora_ppmond",
        "nginx:",
        "containerd",
        "/usr/sbin/cron",
    }
)
FAKE_KERNEL_THREADS = frozenset(
    {"watchdogd", "kaluad_sync", "charger_manager", "scsi_tmf_6", "cpu/0"}
)
# runc re-executes itself from a memfd to protect its binary (CVE-2019-5736 fix).
TRUSTED_MEMFD = ("/memfd:runc_cloned",)
SHELL_TRIPLE = ("HOME=/tmp", "HISTFILE=/dev/null", "MYSQL_HISTFILE=/dev/null")

MESSAGES = Catalog(
    {
        "deleted": {"en": "whose file was deleted", "ko": "파일이 삭제된"},
        "shm": {"en": "in shared memory ({path})", "ko": "공유 메모리({path})에 있는"},
        "temporary": {
            "en": "in a temporary directory ({path})",
            "ko": "임시 디렉터리({path})에 있는",
        },
        "memfd": {"en": "loaded from memory (memfd)", "ko": "메모리(memfd)에서 적재된"},
        "unowned": {"en": "that no installed package owns", "ko": "설치된 패키지에 속하지 않은"},
        "runs_from": {
            "en": "runs an executable {where}: {exe}",
            "ko": "{where} 실행 파일로 실행 중: {exe}",
        },
        "deleted_upgrade": {
            "en": "its executable was replaced on disk (a package upgrade leaves this too)",
            "ko": "실행 파일이 디스크에서 교체됨 (패키지 업그레이드 후에도 생김)",
        },
        "fake_kthread": {
            "en": "claims to be kernel thread {name} but is a user process running {exe}",
            "ko": "커널 스레드 {name}인 척하지만 {exe}를 실행하는 사용자 프로세스임",
        },
        "masquerade": {
            "en": "calls itself {claimed} but runs {exe}",
            "ko": "{claimed}라고 자칭하지만 실제로는 {exe}를 실행함",
        },
        "known_fake_name": {
            "en": "{claimed} is a process name BPFDoor builds use",
            "ko": "{claimed}는 BPFDoor가 쓰는 프로세스 이름임",
        },
        "timestomp_epoch": {
            "en": "executable's modification time is 2008-10-30 08:37:16 UTC, the value BPFDoor sets",
            "ko": "실행 파일 수정 시각이 BPFDoor가 설정하는 2008-10-30 08:37:16 UTC임",
        },
        "timestomp_tmpfs": {
            "en": "executable on a memory file system claims a modification time before boot",
            "ko": "메모리 파일 시스템의 실행 파일 수정 시각이 부팅 이전으로 되어 있음",
        },
        "shell_environment": {
            "en": "environment of a BPFDoor shell: {entries}",
            "ko": "BPFDoor 셸의 환경 변수: {entries}",
        },
        "history_disabled": {
            "en": "shell history disabled by the environment: {entries}",
            "ko": "환경 변수로 셸 기록이 꺼져 있음: {entries}",
        },
        "empty_environment": {
            "en": "a root process with an empty environment (BPFDoor wipes its own)",
            "ko": "환경 변수가 비어 있는 root 프로세스 (BPFDoor는 자기 환경을 지움)",
        },
    }
)


def _trusted_memfd(process: Process) -> bool:
    return isinstance(process.exe, str) and process.exe.startswith(TRUSTED_MEMFD)


def risky_location(process: Process) -> Message | None:
    """Where an untrusted executable runs from, or None when it is ordinary."""
    exe = process.executable
    if process.memfd:
        return None if _trusted_memfd(process) else MESSAGES("memfd")
    if exe is None:
        return None
    if exe.startswith(SHARED_MEMORY):
        return MESSAGES("shm", path=exe)
    if process.exe_deleted:
        return MESSAGES("deleted")
    if exe.startswith(TEMPORARY):
        return MESSAGES("temporary", path=exe)
    return None


def _evidence(process: Process) -> dict[str, object]:
    return {
        "exe": process.exe,
        "deleted": process.exe_deleted,
        "comm": process.comm,
        "argv": list(process.argv) if isinstance(process.argv, tuple) else str(process.argv),
    }


def check_executable_provenance(snapshot: HostSnapshot) -> Iterator[Finding]:
    """Processes run from /dev/shm, temporary directories, memory, or a deleted file."""
    for process in snapshot.processes.values():
        exe = process.executable
        if exe is None or process.kernel_thread:
            continue
        if process.memfd:
            if not _trusted_memfd(process):
                yield Finding(
                    "executable_provenance",
                    75,
                    MESSAGES("runs_from", where=MESSAGES("memfd"), exe=process.exe),
                    None,
                    process,
                    _evidence(process),
                    (REFLECTIVE_LOADING,),
                )
            continue
        if exe.startswith(SHARED_MEMORY):
            score, where = 85, MESSAGES("shm", path=exe)
        elif process.exe_deleted and exe.startswith(TEMPORARY):
            score, where = 80, MESSAGES("deleted")
        elif process.exe_deleted:
            # A package upgrade replaces a running daemon's file: weaker when a package still
            # owns that path (the new file is there).
            owned = snapshot.packages.owner(exe)
            score, where = (25, MESSAGES("deleted")) if owned else (65, MESSAGES("deleted"))
        elif exe.startswith(TEMPORARY):
            score, where = 45, MESSAGES("temporary", path=exe)
        else:
            continue
        techniques = (FILE_DELETION,) if process.exe_deleted else (HIDE_ARTIFACTS,)
        yield Finding(
            "executable_provenance",
            score,
            MESSAGES("runs_from", where=where, exe=process.exe),
            None,
            process,
            _evidence(process),
            techniques,
        )


def _first_word(argv: tuple[str, ...]) -> str:
    return argv[0].split(" ", 1)[0] if argv else ""


def check_masquerade(snapshot: HostSnapshot) -> Iterator[Finding]:
    """argv claims a daemon or a kernel thread, but the executable is something else."""
    for process in snapshot.processes.values():
        if process.kernel_thread or not isinstance(process.argv, tuple) or not process.argv:
            continue
        exe = process.executable
        claimed = process.argv[0]
        kthread = re.fullmatch(r"\[([^\]]{1,40})\]", process.command_line.strip())
        if kthread:
            # A real kernel thread has PF_KTHREAD, no exe link and an empty cmdline.
            name = kthread.group(1)
            score = 90 if name in FAKE_KERNEL_THREADS else 80
            yield Finding(
                "masquerade",
                score,
                MESSAGES("fake_kthread", name=f"[{name}]", exe=process.exe),
                None,
                process,
                _evidence(process),
                (MASQUERADE_TASK,),
            )
            continue
        if exe is None:
            continue
        word = _first_word(process.argv)
        if word == exe or (word.startswith("/") and _same_file(word, exe)):
            continue  # it is what it says it is
        risky = risky_location(process) is not None
        if word.rsplit("/", 1)[-1].rstrip(":") == exe.rsplit("/", 1)[-1] and not risky:
            continue  # the same program under a shorter or decorated name (nginx: master)
        known = word in FAKE_NAMES or claimed in FAKE_NAMES
        if not (known or word.startswith("/")):
            continue
        score = 50
        owned = snapshot.packages.owner(exe) if not process.exe_deleted else None
        if known:
            score = 80
        if owned and not known:
            score = 20  # a packaged program renaming itself (runit, supervisors): note only
        if risky:
            score += 10
        detail = MESSAGES("known_fake_name", claimed=word) if known else None
        yield Finding(
            "masquerade",
            min(score, 100),
            MESSAGES("masquerade", claimed=process.command_line[:120], exe=process.exe),
            detail,
            process,
            _evidence(process),
            (MASQUERADE_TASK, MATCH_NAME),
        )


def _same_file(claimed: str, exe: str) -> bool:
    try:
        return os.path.realpath(claimed) == os.path.realpath(exe)
    except (OSError, ValueError):
        return False


def check_timestomped_executables(snapshot: HostSnapshot) -> Iterator[Finding]:
    """Executables whose modification time was set back (utimes) — BPFDOOR.md §1 step 2."""
    boot = snapshot.boot_time
    for pid, facts in snapshot.exe_facts.items():
        process = snapshot.processes.get(pid)
        if process is None:
            continue
        if int(facts.mtime) == TIMESTOMP_EPOCH:
            yield Finding(
                "timestomp",
                90,
                MESSAGES("timestomp_epoch"),
                None,
                process,
                _evidence(process) | {"mtime": facts.mtime, "ctime": facts.ctime},
                (TIMESTOMP,),
                "file",
            )
        elif (
            boot
            and facts.mtime < boot - 60
            and process.executable
            and process.executable.startswith(SHARED_MEMORY)
        ):
            yield Finding(
                "timestomp",
                75,
                MESSAGES("timestomp_tmpfs"),
                None,
                process,
                _evidence(process) | {"mtime": facts.mtime, "boot": boot},
                (TIMESTOMP,),
                "file",
            )


def check_environment(snapshot: HostSnapshot) -> Iterator[Finding]:
    """The reverse/bind shell's exact environment entries, and empty root environments."""
    for process in snapshot.processes.values():
        if process.kernel_thread or not isinstance(process.environ, tuple):
            continue
        entries = set(process.environ)
        shell = [entry for entry in SHELL_TRIPLE if entry in entries]
        if len(shell) == 3:
            yield Finding(
                "environment",
                85,
                MESSAGES("shell_environment", entries=", ".join(shell)),
                None,
                process,
                {"entries": shell},
                (HISTORY_LOGGING,),
            )
        elif "HISTFILE=/dev/null" in entries or "MYSQL_HISTFILE=/dev/null" in entries:
            yield Finding(
                "environment",
                45,
                MESSAGES("history_disabled", entries=", ".join(shell)),
                None,
                process,
                {"entries": shell},
                (HISTORY_LOGGING,),
            )
        elif (
            not process.environ
            and process.uid == 0
            and process.pid > 2
            and process.state not in ("Z", "X")
            and isinstance(process.argv, tuple)
            and process.argv
            and process.exe is not None
        ):
            yield Finding(
                "environment",
                35,
                MESSAGES("empty_environment"),
                None,
                process,
                {"environ": []},
                (HIDE_ARTIFACTS,),
            )


__all__ = [
    "check_environment",
    "check_executable_provenance",
    "check_masquerade",
    "check_timestomped_executables",
    "risky_location",
]
