"""System call numbers for the architectures whose raw audit logs doorhunt maps.

A raw record says `arch=c000003e syscall=59`; ENRICHED logs also say `SYSCALL=execve`, which
is used when present. Numbers from the kernel's arch/x86/entry/syscalls/syscall_64.tbl and
include/uapi/asm-generic/unistd.h (arm64). Only the calls doorhunt maps are listed.
"""

from __future__ import annotations

from typing import Final

# include/uapi/linux/audit.h: AUDIT_ARCH_* = EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
AUDIT_ARCH_X86_64: Final = 0xC000003E
AUDIT_ARCH_AARCH64: Final = 0xC00000B7
AUDIT_ARCH_LE: Final = 0x40000000

_X86_64: Final[dict[int, str]] = {
    2: "open",
    41: "socket",
    42: "connect",
    43: "accept",
    49: "bind",
    54: "setsockopt",
    56: "clone",
    57: "fork",
    58: "vfork",
    59: "execve",
    60: "exit",
    76: "truncate",
    77: "ftruncate",
    82: "rename",
    83: "mkdir",
    84: "rmdir",
    85: "creat",
    86: "link",
    87: "unlink",
    88: "symlink",
    90: "chmod",
    91: "fchmod",
    92: "chown",
    93: "fchown",
    94: "lchown",
    101: "ptrace",
    105: "setuid",
    106: "setgid",
    112: "setsid",
    113: "setreuid",
    114: "setregid",
    117: "setresuid",
    119: "setresgid",
    122: "setfsuid",
    123: "setfsgid",
    132: "utime",
    133: "mknod",
    157: "prctl",
    175: "init_module",
    231: "exit_group",
    235: "utimes",
    257: "openat",
    258: "mkdirat",
    259: "mknodat",
    260: "fchownat",
    261: "futimesat",
    263: "unlinkat",
    264: "renameat",
    265: "linkat",
    266: "symlinkat",
    268: "fchmodat",
    280: "utimensat",
    288: "accept4",
    313: "finit_module",
    316: "renameat2",
    319: "memfd_create",
    322: "execveat",
    435: "clone3",
    437: "openat2",
    452: "fchmodat2",
}

_AARCH64: Final[dict[int, str]] = {
    33: "mknodat",
    34: "mkdirat",
    35: "unlinkat",
    36: "symlinkat",
    37: "linkat",
    38: "renameat",
    45: "truncate",
    46: "ftruncate",
    52: "fchmod",
    53: "fchmodat",
    54: "fchownat",
    55: "fchown",
    56: "openat",
    88: "utimensat",
    93: "exit",
    94: "exit_group",
    105: "init_module",
    117: "ptrace",
    143: "setregid",
    144: "setgid",
    145: "setreuid",
    146: "setuid",
    147: "setresuid",
    149: "setresgid",
    151: "setfsuid",
    152: "setfsgid",
    157: "setsid",
    167: "prctl",
    198: "socket",
    200: "bind",
    202: "accept",
    203: "connect",
    208: "setsockopt",
    220: "clone",
    221: "execve",
    242: "accept4",
    273: "finit_module",
    276: "renameat2",
    279: "memfd_create",
    281: "execveat",
    435: "clone3",
    437: "openat2",
    452: "fchmodat2",
}

SYSCALLS: Final[dict[int, dict[int, str]]] = {
    AUDIT_ARCH_X86_64: _X86_64,
    AUDIT_ARCH_AARCH64: _AARCH64,
}

ARCH_NAMES: Final[dict[int, str]] = {
    AUDIT_ARCH_X86_64: "x86_64",
    AUDIT_ARCH_AARCH64: "aarch64",
}


def syscall_name(arch: int | None, number: int) -> str | None:
    """The name of syscall `number` on `arch` (an AUDIT_ARCH_* value), if doorhunt maps it."""
    table = SYSCALLS.get(arch if arch is not None else AUDIT_ARCH_X86_64)
    return None if table is None else table.get(number)


def little_endian(arch: int | None) -> bool:
    """Whether `arch` stores integers little-endian (unknown architectures are assumed so)."""
    return arch is None or bool(arch & AUDIT_ARCH_LE)


__all__ = [
    "ARCH_NAMES",
    "AUDIT_ARCH_AARCH64",
    "AUDIT_ARCH_LE",
    "AUDIT_ARCH_X86_64",
    "SYSCALLS",
    "little_endian",
    "syscall_name",
]
