"""The running emulator: BPFDoor's observable traces, and a ping-back — nothing else.

This module runs inside the copied interpreter that `launch.py` starts from /dev/shm. It never
executes a command, opens a shell, forwards traffic or accepts a connection: it has no import
that could (a test reads this file and checks), and the only packet it ever sends is one UDP
datagram holding "1" to the address a magic packet names (BPFDOOR.md §1 step 7, the no-password
branch). It is for validating detection end to end, on hosts you own.

Traces reproduced (BPFDOOR.md §1): the executable runs from /dev/shm and is deleted; its time
is set back to 2008-10-30; argv and the process name are rewritten to a daemon's; the
environment is empty; an empty, locked PID file; an unbound AF_PACKET/SOCK_RAW ETH_P_IP socket
with a classic filter of the classic shape, on which it blocks in recvfrom().
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SOL_SOCKET = 1
SO_ATTACH_FILTER = 26
PR_SET_NAME = 15
CLONE_NEWNET = 0x40000000
TIMESTOMP_EPOCH = 1225394236  # 2008-10-30 08:37:16 UTC (§1 step 2)
# Never answer to "this network" or multicast addresses (RFC 1122 §3.2.1.3, RFC 5771).
NO_REPLY_NETWORKS = ("0.", *(f"{first}." for first in range(224, 240)))


@dataclass(frozen=True, slots=True)
class Config:
    executable: str  # this process's own copy in /dev/shm, deleted once running
    argv: list[str]  # the argv to show
    process_name: str  # comm (prctl PR_SET_NAME)
    pid_file: str
    program: list[list[int]]  # the classic filter, [code, jt, jf, k] each
    magics: list[int]  # 2-byte values accepted as the start of a probe's payload
    netns: str | None
    pingback: bool


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def rewrite_argv(argv: list[str]) -> None:
    """Overwrite the argument area of this process in place, as the implant does: `ps` and
    /proc/PID/cmdline then show `argv` (padded with NULs to the original length)."""
    with open("/proc/self/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[45]), int(fields[46])  # stat fields 48 and 49: arg_start, arg_end
    text = b"\0".join(a.encode() for a in argv) + b"\0"
    size = end - start
    with open("/proc/self/mem", "r+b", buffering=0) as memory:
        memory.seek(start)
        memory.write(text[:size].ljust(size, b"\0"))


def set_process_name(name: str) -> None:
    _libc().prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def enter_namespace(name: str) -> None:
    descriptor = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc().setns(descriptor, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {name}")
    finally:
        os.close(descriptor)


def open_filtered_socket(program: list[list[int]]) -> socket.socket:
    """socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP)), unbound, with the classic filter."""
    listener = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    array = b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(array, len(array))
    fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))
    listener.setsockopt(SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    return listener


def hold_pid_file(path: str) -> int:
    """An empty 0644 file, flock()ed for as long as this process lives (the mutex of later
    builds, §1 step 4)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    os.fchmod(descriptor, 0o644)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return descriptor


@dataclass(frozen=True, slots=True)
class Probe:
    """The part of a magic packet the emulator reads: where to send the ping-back."""

    source: str
    reply_ip: str
    reply_port: int
    has_password: bool


def parse_probe(frame: bytes, magics: list[int]) -> Probe | None:
    """A magic packet in an Ethernet frame: IPv4, then UDP/ICMP (payload at +8) or TCP (at the
    data offset); payload `u32 flag | u32 ip | u16 port | char pass[14]` (§2)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    header = (frame[14] & 0x0F) * 4
    protocol = frame[23]
    transport = 14 + header
    if protocol in (17, 1):
        payload = frame[transport + 8 :]
    elif protocol == 6 and len(frame) > transport + 12:
        payload = frame[transport + (frame[transport + 12] >> 4) * 4 :]
    else:
        return None
    if len(payload) < 10 or int.from_bytes(payload[:2], "big") not in magics:
        return None
    source = socket.inet_ntoa(frame[26:30])
    reply_ip = socket.inet_ntoa(payload[4:8])
    if reply_ip == "255.255.255.255":
        reply_ip = source  # "answer the packet's source" mode, for NAT'd networks
    password = payload[10:24]
    return Probe(
        source, reply_ip, int.from_bytes(payload[8:10], "big"), bool(password.strip(b"\0"))
    )


def ping_back(probe: Probe) -> bool:
    """One UDP datagram "1" to the address in the probe; nothing to broadcast, multicast or
    unspecified addresses."""
    if probe.reply_port == 0 or probe.reply_ip.startswith(NO_REPLY_NETWORKS):
        return False
    if probe.reply_ip.endswith(".255"):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(b"1", (probe.reply_ip, probe.reply_port))
    return True


def serve(listener: socket.socket, config: Config, stop: Callable[[], bool]) -> None:
    while not stop():
        try:
            frame, address = listener.recvfrom(65535)
        except InterruptedError:
            continue
        if address[2] == PACKET_OUTGOING:
            continue  # our own packets, seen on the way out
        probe = parse_probe(frame, config.magics)
        if probe is not None and config.pingback and not probe.has_password:
            try:
                ping_back(probe)
            except OSError:
                continue


def main() -> None:
    config = Config(**json.loads(sys.stdin.readline()))
    if config.netns:
        enter_namespace(config.netns)
    os.chdir("/")
    pid_file = hold_pid_file(config.pid_file)
    listener = open_filtered_socket(config.program)
    rewrite_argv(config.argv)
    set_process_name(config.process_name)
    os.unlink(config.executable)  # §1 step 1: the running copy removes its file
    stopping = False

    def terminate(signum: int, frame: object) -> None:
        del signum, frame
        nonlocal stopping
        stopping = True
        os.close(pid_file)
        os._exit(0)

    signal.signal(signal.SIGTERM, terminate)
    sys.stdout.write(f"ready {os.getpid()}\n")
    sys.stdout.flush()
    sys.stdout.close()
    serve(listener, config, lambda: stopping)


if __name__ == "__main__":
    main()
