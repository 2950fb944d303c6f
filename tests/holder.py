"""A test process that holds what a test asks for, then waits: run as
`python tests/holder.py '<json>'`. Standard library only (it may run from a copied interpreter).

Keys: netns (name in /run/netns), socket ("packet-raw", "packet-dgram", "inet-raw", "udp",
"unix-seqpacket", or null), protocol (ethertype or IP protocol), interface (bind a packet
socket), filter ([[code, jt, jf, k], ...]), wait ("recv", "poll", "sleep"), count (that many packet
sockets, all filtered), argv (rewrite the argument area to this list), comm (prctl name), pid_file (create empty and flock it).
"""

import ctypes
import ctypes.util
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

config = json.loads(sys.argv[1])
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
if config.get("netns"):
    descriptor = os.open(f"/run/netns/{config['netns']}", os.O_RDONLY)
    if libc.setns(descriptor, 0x40000000) != 0:
        sys.exit("setns failed")
kind = config.get("socket")
held = None
extra = []
if kind in ("packet-raw", "packet-dgram"):
    protocol = config.get("protocol", 0x0800)
    held = socket.socket(
        socket.AF_PACKET,
        socket.SOCK_RAW if kind == "packet-raw" else socket.SOCK_DGRAM,
        socket.htons(protocol),
    )
    if config.get("interface"):
        held.bind((config["interface"], protocol))
elif kind == "inet-raw":
    held = socket.socket(socket.AF_INET, socket.SOCK_RAW, config.get("protocol", 17))
elif kind == "udp":
    held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    held.bind(("127.0.0.1", 0))
elif kind == "unix-seqpacket":
    held, _peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
if held is not None and kind.startswith("packet") and config.get("count", 1) > 1:
    extra = [
        socket.socket(socket.AF_PACKET, held.type, socket.htons(config.get("protocol", 0x0800)))
        for _ in range(config["count"] - 1)
    ]
if held is not None and config.get("filter"):
    program = config["filter"]
    array = b"".join(struct.pack("=HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(array, len(array))
    for target in [held, *extra]:
        target.setsockopt(1, 26, struct.pack("HL", len(program), ctypes.addressof(buffer)))
if config.get("pid_file"):
    lock = os.open(config["pid_file"], os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)
if config.get("argv"):
    fields = open("/proc/self/stat", "rb").read().rsplit(b")", 1)[1].split()
    start, end = int(fields[45]), int(fields[46])
    text = b"\0".join(a.encode() for a in config["argv"]) + b"\0"
    with open("/proc/self/mem", "r+b", buffering=0) as memory:
        memory.seek(start)
        memory.write(text[: end - start].ljust(end - start, b"\0"))
if config.get("comm"):
    libc.prctl(15, ctypes.c_char_p(config["comm"].encode()), 0, 0, 0)
print("ready", flush=True)
wait = config.get("wait", "recv" if held is not None else "sleep")
while True:
    if wait == "recv" and held is not None:
        held.recv(65535)
    elif wait == "poll" and held is not None:
        poller = select.poll()
        poller.register(held, select.POLLIN)
        poller.poll()
        held.recv(65535)
    else:
        time.sleep(3600)
