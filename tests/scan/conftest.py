"""Kernel fixtures for the scanner: a routed lab of namespaces, emulators in it, a watch on
the host's own interfaces, and a way to run `doorhunt scan` from the scanner namespace."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from doorhunt.bpf.disasm import assemble
from doorhunt.emulate.launch import start, stop
from doorhunt.scan.sockets import attach_filter
from tests.conftest import require_root, require_tool
from tests.kernel import RoutedLab, inside

ETH_P_IP = 0x0800

# IPv4 packets from or to 198.18.0.0/15, the lab's addresses (from the IP header).
LAB_TRAFFIC = assemble(
    "(000) ld       [12]\n"
    "(001) and      #0xfffe0000\n"
    "(002) jeq      #0xc6120000      jt 6\tjf 3\n"
    "(003) ld       [16]\n"
    "(004) and      #0xfffe0000\n"
    "(005) jeq      #0xc6120000      jt 6\tjf 7\n"
    "(006) ret      #128\n"
    "(007) ret      #0\n"
)


@dataclass
class Lab:
    routed: RoutedLab
    data: Path
    emulators: int = 0
    started: list[int] = field(default_factory=list)

    @property
    def infected(self) -> str:
        return self.routed.target_addresses[0]

    @property
    def clean(self) -> str:
        return self.routed.target_addresses[1]

    @property
    def third(self) -> str:
        return self.routed.target_addresses[2]

    def emulate(self, index: int, magics: list[int] | None = None) -> None:
        self.emulators += 1
        instance = start(
            self.data,
            netns=self.routed.targets[index],
            pingback=True,
            magics=magics,
            pid_file=f"/run/dh-scan-{os.getpid()}-{self.emulators}.pid",
        )
        self.started.append(instance.pid)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    require_root()
    require_tool("ip")
    routed = RoutedLab(count=3)
    made = Lab(routed, tmp_path / "data")
    try:
        yield made
    finally:
        try:
            if made.started:
                stop(made.data)
        finally:
            routed.close()
    assert not any(Path(f"/run/netns/{name}").exists() for name in routed.namespaces())


def scan(lab: Lab, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`doorhunt scan ARGV` from the scanner namespace: (exit code, stdout, stderr)."""
    from doorhunt.cli.scan import main

    with inside(lab.routed.scanner):
        code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def scan_json(
    lab: Lab, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    code, out, err = scan(lab, [*argv, "--json"], capsys)
    assert out, err
    return code, json.loads(out)


def hosts(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {host["address"]: host for host in document["hosts"]}


@contextmanager
def host_watch() -> Iterator[list[bytes]]:
    """Every IPv4 packet with a lab address on the host's own interfaces, while the block runs
    (a packet socket in the initial namespace: a leak out of the lab would show here)."""
    seen: list[bytes] = []
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    try:
        attach_filter(sock, LAB_TRAFFIC)
        sock.setblocking(False)
        yield seen
        time.sleep(0.2)
        while True:
            try:
                seen.append(sock.recv(256))
            except BlockingIOError:
                break
    finally:
        sock.close()


@contextmanager
def sending_ones(namespace: str, target: str, ports: range, seconds: float) -> Iterator[None]:
    """A thread in `namespace` that sends UDP "1" to every port in `ports` of `target`, every
    50 ms for `seconds`: spontaneous or forged ping-backs."""
    stop_at = time.monotonic() + seconds
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with inside(namespace), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                while time.monotonic() < stop_at:
                    for port in ports:
                        sender.sendto(b"1", (target, port))
                    time.sleep(0.05)
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(seconds + 5)
        assert not failures, failures
