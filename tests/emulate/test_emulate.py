"""The emulator: its traces, its ping-back, and that it can do nothing else."""

from __future__ import annotations

import ast
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import doorhunt.emulate.implant as implant_module
import doorhunt.emulate.launch as launch_module
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.packets import finish, template
from doorhunt.emulate.implant import parse_probe
from doorhunt.emulate.launch import EmulatorError, instances, start, stop
from tests.conftest import require_root, require_tool
from tests.kernel import PairLab

FORBIDDEN_MODULES = {"subprocess", "pty", "shlex", "multiprocessing", "asyncio", "pexpect"}
FORBIDDEN_CALLS = {
    "system",
    "popen",
    "execv",
    "execve",
    "execvp",
    "execl",
    "execlp",
    "spawnv",
    "spawnl",
    "fork",
    "forkpty",
    "eval",
    "exec",
    "compile",
    "__import__",
    "connect",
    "accept",
    "listen",
    "create_connection",
    "create_server",
}


def _calls_and_imports(path: str) -> tuple[set[str], set[str]]:
    tree = ast.parse(Path(path).read_text())
    calls, imports = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            calls.add(
                function.attr
                if isinstance(function, ast.Attribute)
                else getattr(function, "id", "")
            )
        elif isinstance(node, ast.Import):
            imports |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module.split(".")[0])
    return calls, imports


def test_implant_has_no_way_to_run_commands_open_shells_or_forward_traffic() -> None:
    calls, imports = _calls_and_imports(implant_module.__file__)
    assert not imports & FORBIDDEN_MODULES
    assert not calls & FORBIDDEN_CALLS, calls & FORBIDDEN_CALLS
    source = Path(implant_module.__file__).read_text()
    assert "SOCK_STREAM" not in source and "/bin/" not in source
    # The one datagram it can send: b"1".
    assert source.count(".sendto(") == 1 and 'sendto(b"1"' in source


def test_launcher_executes_only_the_copied_interpreter() -> None:
    calls, imports = _calls_and_imports(launch_module.__file__)
    assert not imports & FORBIDDEN_MODULES
    assert calls & FORBIDDEN_CALLS == {"fork", "execve"}
    source = Path(launch_module.__file__).read_text()
    assert source.count("os.execve(") == 1 and "os.execve(argv[0], argv, {})" in source


def _frame(protocol: str, payload: bytes) -> bytes:
    frame = bytearray(template(Link.ETHERNET, "ipv4", protocol))
    frame += payload
    return finish(bytes(frame), Link.ETHERNET)


def test_probe_parsing() -> None:
    probe = b"\x72\x55\x00\x00" + socket.inet_aton("198.18.0.2") + struct.pack("!H", 4000)
    for protocol in ("udp", "icmp", "tcp"):
        parsed = parse_probe(_frame(protocol, probe), [0x7255])
        assert parsed is not None and parsed.reply_ip == "198.18.0.2"
        assert parsed.reply_port == 4000 and not parsed.has_password
    with_password = probe + b"secret".ljust(14, b"\0")
    parsed = parse_probe(_frame("udp", with_password), [0x7255])
    assert parsed is not None and parsed.has_password
    assert parse_probe(_frame("udp", probe), [0x5293]) is None
    source_mode = b"\x72\x55\x00\x00" + b"\xff\xff\xff\xff" + struct.pack("!H", 4000)
    parsed = parse_probe(_frame("udp", source_mode), [0x7255])
    assert parsed is not None and parsed.reply_ip == "192.0.2.1"  # the frame's source
    assert parse_probe(b"\x00" * 10, [0x7255]) is None


def test_start_refuses_bad_requests(tmp_path: Path) -> None:
    require_root()
    with pytest.raises(EmulatorError, match="2-byte"):
        start(tmp_path, magics=[0x12345])
    with pytest.raises(EmulatorError, match="no network namespace"):
        start(tmp_path, netns="does-not-exist")


@pytest.fixture
def pair() -> Iterator[PairLab]:
    require_root()
    require_tool("ip")
    lab = PairLab()
    try:
        yield lab
    finally:
        lab.close()


def _probe_payload(reply_ip: str, port: int, password: bytes = b"", magic: int = 0x7255) -> bytes:
    return (
        struct.pack("!HH", magic, 0)
        + socket.inet_aton(reply_ip)
        + struct.pack("!H", port)
        + password.ljust(14, b"\0")[: 14 if password else 0]
    )


def _answer(listener: socket.socket, timeout: float) -> tuple[bytes, str] | None:
    listener.settimeout(timeout)
    try:
        data, (address, _) = listener.recvfrom(100)
    except TimeoutError:
        return None
    return data, address


@pytest.mark.root
def test_pingback_answers_probes_without_password_only(pair: PairLab, tmp_path: Path) -> None:
    instance = start(
        tmp_path, netns=pair.left, pingback=True, pid_file=f"/run/dh-emu-{os.getpid()}.pid"
    )
    try:
        listener = pair.socket("right", socket.AF_INET, socket.SOCK_DGRAM)
        listener.bind((pair.right_address, 0))
        port = listener.getsockname()[1]
        sender = pair.socket("right", socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(_probe_payload(pair.right_address, port), (pair.left_address, 53))
        answer = _answer(listener, 3.0)
        assert answer == (b"1", pair.left_address)
        sender.sendto(_probe_payload(pair.right_address, port, b"hunter2"), (pair.left_address, 53))
        assert _answer(listener, 1.0) is None
        sender.sendto(_probe_payload("255.255.255.255", port), (pair.left_address, 53))
        assert _answer(listener, 3.0) == (b"1", pair.left_address)
        icmp = pair.socket("right", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        echo = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + _probe_payload(pair.right_address, port)
        checksum = _checksum(echo)
        icmp.sendto(echo[:2] + struct.pack("!H", checksum) + echo[4:], (pair.left_address, 0))
        assert _answer(listener, 3.0) == (b"1", pair.left_address)
        children = Path(f"/proc/{instance.pid}/task/{instance.pid}/children").read_text()
        assert children.strip() == ""
        for sock in (listener, sender, icmp):
            sock.close()
    finally:
        stop(tmp_path)
    assert instances(tmp_path) == []


def _checksum(data: bytes) -> int:
    from doorhunt.bpf.packets import internet_checksum

    return internet_checksum(data)


@pytest.mark.root
def test_custom_magic_and_no_pingback(pair: PairLab, tmp_path: Path) -> None:
    start(
        tmp_path,
        netns=pair.left,
        pingback=False,
        magics=[0x5571],
        pid_file=f"/run/dh-emu2-{os.getpid()}.pid",
    )
    try:
        listener = pair.socket("right", socket.AF_INET, socket.SOCK_DGRAM)
        listener.bind((pair.right_address, 0))
        port = listener.getsockname()[1]
        sender = pair.socket("right", socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(
            _probe_payload(pair.right_address, port, magic=0x5571), (pair.left_address, 9)
        )
        assert _answer(listener, 1.0) is None
        listener.close()
        sender.close()
    finally:
        stop(tmp_path)


@pytest.mark.root
def test_stop_removes_every_trace(tmp_path: Path) -> None:
    pid_file = f"/run/dh-emu3-{os.getpid()}.pid"
    instance = start(tmp_path, pid_file=pid_file)
    assert Path(pid_file).exists() and not Path(instance.copy).exists()
    assert os.readlink(f"/proc/{instance.pid}/exe").endswith("(deleted)")
    assert Path(f"/proc/{instance.pid}/environ").read_bytes().strip(b"\0") == b""
    assert Path(f"/proc/{instance.pid}/comm").read_text().strip() == "console-kit-dae"
    (stopped,) = stop(tmp_path)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{stopped.pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(pid_file).exists()
    assert not Path(f"/proc/{stopped.pid}").exists()
    assert not list((tmp_path / "emulate").glob("*.json"))
