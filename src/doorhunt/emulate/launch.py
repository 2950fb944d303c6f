"""`doorhunt emulate start|stop|status`: start the benign emulator, track it, remove its traces.

Starting reproduces BPFDoor's first steps (BPFDOOR.md §1): this Python interpreter's binary is
copied to /dev/shm under the implant's name, made executable, its times set back to
2008-10-30, and started with an empty environment and the emulator module (implant.py); the
copy deletes itself once running. The only program ever executed is that copy of the
interpreter, with doorhunt's own fixed bootstrap; nothing from the command line is run.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from doorhunt.bpf.disasm import assemble
from doorhunt.bpf.examples import BPFDOOR_CLASSIC, bpfdoor_multi
from doorhunt.bpf.program import Program
from doorhunt.emulate.implant import TIMESTOMP_EPOCH, Config
from doorhunt.errors import DoorhuntError

DEFAULT_NAME = "/usr/sbin/console-kit-daemon --no-daemon"
KERNEL_THREAD_NAME = "[watchdogd]"
DEFAULT_PID_FILE = "/var/run/haldrund.pid"
COPY_NAME = "kdmtmpflush"
CLASSIC_MAGICS = (0x7255, 0x5293)
VARIANTS = ("classic", "kthread")
# The bootstrap the copied interpreter runs: it finds doorhunt where this process found it.
_BOOTSTRAP = (
    "import sys; sys.path.insert(0, {path!r}); from doorhunt.emulate.implant import main; main()"
)
# The argument area must be long enough to hold the fake name when rewritten in place.
_ARGUMENT_ROOM = 256


class EmulatorError(DoorhuntError):
    """The emulator could not start or stop."""


@dataclass(frozen=True, slots=True)
class Instance:
    pid: int
    start_ticks: int
    name: str
    netns: str | None
    pid_file: str
    copy: str
    magics: list[int]
    pingback: bool
    variant: str
    started_at: float

    def alive(self) -> bool:
        return _start_ticks(self.pid) == self.start_ticks


def _start_ticks(pid: int) -> int | None:
    """The start time of a live process; None when it is gone or only a zombie left for its
    parent (init on most hosts, which may be slow to reap it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    try:
        return None if fields[0] in (b"Z", b"X") else int(fields[19])
    except (ValueError, IndexError):
        return None


def state_directory(data: Path) -> Path:
    return data / "emulate"


def filter_program(magics: list[int]) -> Program:
    """The classic 30-instruction filter for the classic magics, else one of the same shape
    (check per protocol and magic) for the magics asked for."""
    if sorted(magics) == sorted(CLASSIC_MAGICS):
        return assemble(BPFDOOR_CLASSIC)
    return bpfdoor_multi(tuple(magics))


def start(
    data: Path,
    *,
    name: str | None = None,
    netns: str | None = None,
    magics: list[int] | None = None,
    pingback: bool = False,
    variant: str = "classic",
    pid_file: str = DEFAULT_PID_FILE,
    timeout: float = 15.0,
) -> Instance:
    if os.geteuid() != 0:
        raise EmulatorError("the emulator needs root (packet socket, /dev/shm, /var/run)")
    if variant not in VARIANTS:
        raise EmulatorError(f"unknown variant {variant!r}: choose from {', '.join(VARIANTS)}")
    if netns is not None and not Path("/run/netns", netns).exists():
        raise EmulatorError(f"no network namespace {netns!r} in /run/netns")
    magics = list(magics or CLASSIC_MAGICS)
    for magic in magics:
        if not 0 < magic <= 0xFFFF:
            raise EmulatorError(f"magic {magic:#x}: the emulator takes 2-byte magics")
    shown = name or (KERNEL_THREAD_NAME if variant == "kthread" else DEFAULT_NAME)
    argv = shown.split(" ")
    process_name = argv[0].strip("[]") if variant == "kthread" else argv[0].rsplit("/", 1)[-1]
    if len(shown) + 1 > _ARGUMENT_ROOM:
        raise EmulatorError(f"--name is longer than {_ARGUMENT_ROOM - 1} characters")
    copy, descriptor = _reserve_copy_path()
    interpreter = os.path.realpath(sys.executable)
    with open(interpreter, "rb") as source, os.fdopen(descriptor, "wb") as target:
        shutil.copyfileobj(source, target)
        copy_identity = _identity(os.fstat(target.fileno()))
    os.chmod(copy, 0o755)  # noqa: S103 - the implant makes its copy executable (§1 step 1)
    os.utime(copy, (TIMESTOMP_EPOCH, TIMESTOMP_EPOCH))  # §1 step 2
    config = Config(
        executable=copy,
        argv=argv,
        process_name=process_name,
        pid_file=pid_file,
        program=[list(instruction) for instruction in filter_program(magics)],
        magics=magics,
        netns=netns,
        pingback=pingback,
    )
    package_root = str(Path(__file__).resolve().parents[2])
    argv_area = [copy, "-S", "-c", _BOOTSTRAP.format(path=package_root), "x" * _ARGUMENT_ROOM]
    pid = _spawn_detached(argv_area, json.dumps(asdict(config)).encode() + b"\n", timeout)
    if pid is None:
        _remove_if_same(copy, copy_identity)
        raise EmulatorError(
            "the emulator did not come up (is its PID file already locked, or the namespace gone?)"
        )
    ticks = _start_ticks(pid)
    if ticks is None:
        raise EmulatorError("the emulator exited right after starting")
    instance = Instance(
        pid, ticks, shown, netns, pid_file, copy, magics, pingback, variant, time.time()
    )
    directory = state_directory(data)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{pid}.json").write_text(json.dumps(asdict(instance)))
    return instance


def _reserve_copy_path() -> tuple[str, int]:
    """The implant's /dev/shm name, or a numbered one when taken; created exclusively, so two
    emulators started at once never write into the same file."""
    for suffix in ("", *(f"-{n}" for n in range(2, 100))):
        path = f"/dev/shm/{COPY_NAME}{suffix}"
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
        except FileExistsError:
            continue
    raise EmulatorError("too many emulators running")


def _spawn_detached(argv: list[str], config: bytes, timeout: float) -> int | None:
    """Start argv[0] as a daemon (double fork: reparented to init, never our zombie) with an
    empty environment, hand it `config` on stdin, and return its pid once it says "ready"."""
    config_read, config_write = os.pipe()
    ready_read, ready_write = os.pipe()
    first = os.fork()
    if first == 0:  # pragma: no cover - runs in the forked child
        try:
            os.setsid()
            if os.fork() == 0:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(config_read, 0)
                os.dup2(ready_write, 1)
                os.dup2(devnull, 2)
                os.closerange(3, 65536)
                os.chdir("/")
                os.execve(argv[0], argv, {})
        finally:
            os._exit(0)
    os.close(config_read)
    os.close(ready_write)
    os.waitpid(first, 0)
    try:
        os.write(config_write, config)
    finally:
        os.close(config_write)
    try:
        line = _read_line(ready_read, timeout)
    finally:
        os.close(ready_read)
    if not line.startswith(b"ready "):
        return None
    try:
        return int(line.split()[1])
    except (IndexError, ValueError):
        return None


def _read_line(descriptor: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if not ready:
            break
        chunk = os.read(descriptor, 256)
        if not chunk:
            break
        data += chunk
    return data


def instances(data: Path) -> list[Instance]:
    directory = state_directory(data)
    found = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            found.append(Instance(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return found


def stop(data: Path, pid: int | None = None, timeout: float = 5.0) -> list[Instance]:
    """Stop the emulators (or one) and remove every trace they made."""
    stopped = []
    for instance in instances(data):
        if pid is not None and instance.pid != pid:
            continue
        if instance.alive():
            os.kill(instance.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while instance.alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            if instance.alive():
                os.kill(instance.pid, signal.SIGKILL)
        # The copy is gone already: the implant removes it before it reports ready, and its
        # name may by now be another emulator's copy in the making.
        _remove(instance.pid_file)
        _remove(str(state_directory(data) / f"{instance.pid}.json"))
        stopped.append(instance)
    return stopped


def _identity(facts: os.stat_result) -> tuple[int, int]:
    return facts.st_dev, facts.st_ino


def _remove_if_same(path: str, identity: tuple[int, int]) -> None:
    """Remove `path` only if it is still the file we made (not one reusing its name)."""
    with contextlib.suppress(FileNotFoundError):
        if _identity(os.stat(path)) == identity:
            os.unlink(path)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


__all__ = ["EmulatorError", "Instance", "instances", "start", "stop"]
