"""The published BPFDoor artefacts a sample can carry, and one finder per kind.

Each finder is a plain generator over the sample's `Clues` (strings from the file and the
stack, the code sweep's immediates) and is listed in `ARTEFACT_FINDERS`; adding a kind of
artefact touches this file and one test. The values are public facts (BPFDOOR.md, which
gathers Elastic Security Labs 2022, Sandfly 2022, Deep Instinct 2023, Trend Micro 2023/2025,
KISA/KrCERT 2025 and Rapid7 2025/2026); each finder names the section it relies on.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from doorhunt.indicators import PID_FILE_NAMES
from doorhunt.sample.code import CodeScan
from doorhunt.sample.elf import ElfImage
from doorhunt.sample.strings import Confidence, Place, TextString

MAX_PLACES = 8
MAX_PAIR_SEARCH = 10_000
_TAIL = 4  # every exact value is at least this long: strings are indexed by their last chars


class ArtefactKind(StrEnum):
    DECOY_NAME = "decoy-name"
    PID_FILE = "pid-file"
    FIREWALL_TEMPLATE = "firewall-template"
    SHELL_ENVIRONMENT = "shell-environment"
    INSTALL_PATH = "install-path"
    SHELL_DISGUISE = "shell-disguise"
    BIND_PORT_RANGE = "bind-port-range"
    BACKDATED_TIME = "backdated-time"
    CODE_MAGIC = "code-magic"


@dataclass(frozen=True, slots=True)
class Artefact:
    kind: ArtefactKind
    value: str
    places: tuple[Place, ...]
    # high: a published value, exactly, or a constant confirmed as an instruction's operand;
    # medium: a constant found only by its bytes in code (no code sweep on this machine).
    confidence: Confidence = Confidence.HIGH

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "value": self.value,
            "confidence": self.confidence.value,
            "places": [place.to_json() for place in self.places],
        }


@dataclass(frozen=True, slots=True)
class Clues:
    """What the finders look at."""

    strings: tuple[TextString, ...]
    code: CodeScan | None
    image: ElfImage | None  # None for a raw blob (a memory dump)
    data: bytes
    # Places of every exact value of every kind, found in one pass over the strings on the
    # first finder's request (a sample has hundreds of thousands of strings).
    _exact: dict[str, list[Place]] = field(default_factory=dict, compare=False, repr=False)

    def exact_places(self) -> dict[str, list[Place]]:
        if not self._exact:
            self._exact.update(_exact_places(self.strings))
            self._exact.setdefault("", [])  # marks the pass as done
        return self._exact


# BPFDOOR.md §3: argv values the implant shows in `ps`, classic and later builds.
DECOY_NAMES = frozenset(
    {
        "/sbin/udevd -d",
        "/sbin/mingetty /dev/tty7",
        "/usr/sbin/console-kit-daemon --no-daemon",
        "hald-addon-acpi: listening on acpi kernel interface /proc/acpi/event",
        "dbus-daemon --system",
        "hald-runner",
        "pickup -l -t fifo -u",
        "avahi-daemon: chroot helper",
        "/sbin/auditd -n",
        "/usr/lib/systemd/systemd-journald",
        "/sbin/agetty --noclear tty1 linux",
        "cmathreshd",
        "/sbin/sgaSolAgent",
        "hpasmlited",
        "lldpad -d",
        "/usr/bin/uvp-srv",
        "/usr/bin/pulse-helper",
        "/sbin/ora_ppmond",
        "/usr/sbin/cron -f -P",
        "[watchdogd]",
        "[kaluad_sync]",
        "[charger_manager]",
        "[scsi_tmf_6]",
        "[cpu/0]",
    }
)
# BPFDOOR.md §1 step 7: the environment of the shell it hands out.
SHELL_ENVIRONMENT = frozenset(
    {"HOME=/tmp", "HISTFILE=/dev/null", "MYSQL_HISTFILE=/dev/null", "TERM=vt100"}
)
# BPFDOOR.md §1 steps 1 and 7: the copy in shared memory, and the shell's disguise.
INSTALL_PATHS = frozenset({"/dev/shm/kdmtmpflush"})
SHELL_DISGUISES = frozenset({"qmgr -l -t fifo -u", "/usr/libexec/postfix/master"})
# BPFDOOR.md §1 step 7: the bind shell takes the first free port in 42391..43390.
BIND_PORT_FIRST, BIND_PORT_LAST = 42391, 43390
# BPFDOOR.md §1 step 2: utimes() back to 2008-10-30 (seen as `mov [ebp-0x18], 0x490a083c`).
BACKDATED_EPOCH = 1225394236
# BPFDOOR.md §2: a 2023 build checks an 8-byte magic in code, not in its filter.
CODE_MAGICS = (0x4430CD9F, 0x5E142766)

# The immediates the code sweep looks for, with their widths in bits.
CODE_CONSTANTS: tuple[tuple[int, int], ...] = (
    (BIND_PORT_FIRST, 16),
    (BIND_PORT_LAST, 16),
    (BIND_PORT_LAST + 1, 16),
    (BACKDATED_EPOCH, 32),
    *((magic, 32) for magic in CODE_MAGICS),
)

# Exact values by their last _TAIL characters, for the one pass over the strings.
_BY_TAIL: dict[str, list[str]] = {}
for _value in DECOY_NAMES | SHELL_ENVIRONMENT | INSTALL_PATHS | SHELL_DISGUISES:
    _BY_TAIL.setdefault(_value[-_TAIL:], []).append(_value)

_PID_PATH = re.compile(r"^(?:/var)?/run/([\w.+-]{1,64})$")
_FIREWALL = re.compile(r"\biptables\b.*-j (?:ACCEPT|REDIRECT)")


def find_decoy_names(clues: Clues) -> Iterator[Artefact]:
    yield from _exact(clues, DECOY_NAMES, ArtefactKind.DECOY_NAME)


def find_pid_files(clues: Clues) -> Iterator[Artefact]:
    places: dict[str, list[Place]] = {}
    for string in clues.strings:
        if not string.value.startswith(("/run/", "/var/run/")):
            continue  # the cheap test first: a sample has up to a million strings
        match = _PID_PATH.match(string.value)
        if match and match.group(1) in PID_FILE_NAMES:
            places.setdefault(string.value, []).append(string.place)
    yield from _grouped(places, ArtefactKind.PID_FILE)


def find_firewall_templates(clues: Clues) -> Iterator[Artefact]:
    """iptables commands with printf placeholders: the bind shell's ACCEPT and REDIRECT rules,
    added then deleted (BPFDOOR.md §1 step 7). A fixed command is not a template."""
    places: dict[str, list[Place]] = {}
    for string in clues.strings:
        if "iptables" in string.value and "%" in string.value and _FIREWALL.search(string.value):
            places.setdefault(string.value, []).append(string.place)
    yield from _grouped(places, ArtefactKind.FIREWALL_TEMPLATE)


def find_shell_environment(clues: Clues) -> Iterator[Artefact]:
    yield from _exact(clues, SHELL_ENVIRONMENT, ArtefactKind.SHELL_ENVIRONMENT)


def find_install_paths(clues: Clues) -> Iterator[Artefact]:
    yield from _exact(clues, INSTALL_PATHS, ArtefactKind.INSTALL_PATH)


def find_shell_disguises(clues: Clues) -> Iterator[Artefact]:
    yield from _exact(clues, SHELL_DISGUISES, ArtefactKind.SHELL_DISGUISE)


def find_bind_port_range(clues: Clues) -> Iterator[Artefact]:
    value = f"{BIND_PORT_FIRST}-{BIND_PORT_LAST}"
    if clues.code is not None:
        code = clues.code
        last = next(
            (port for port in (BIND_PORT_LAST, BIND_PORT_LAST + 1) if code.has_constant(port, 16)),
            None,
        )
        if last is not None and code.has_constant(BIND_PORT_FIRST, 16):
            addresses = [
                code.constants.get(form)
                for form in (
                    BIND_PORT_FIRST,
                    BIND_PORT_FIRST - 0x10000,
                    0xFFFF0000 | BIND_PORT_FIRST,
                )
            ]
            address = next((a for a in addresses if a is not None), None)
            yield Artefact(ArtefactKind.BIND_PORT_RANGE, value, (Place("code", address=address),))
        return
    # Without a code sweep (another architecture): the two 16-bit values close together in
    # code. A raw blob has no known code, and two-byte values alone are too common to use.
    if clues.image is None:
        return
    for order in _code_byte_orders(clues):
        first = struct.pack(f"{order}H", BIND_PORT_FIRST)
        lasts = [struct.pack(f"{order}H", port) for port in (BIND_PORT_LAST, BIND_PORT_LAST + 1)]
        for count, offset in enumerate(_code_offsets(clues, first)):
            if count > MAX_PAIR_SEARCH:
                break
            window = clues.data[max(0, offset - 64) : offset + 64]
            if any(last in window for last in lasts):
                yield Artefact(
                    ArtefactKind.BIND_PORT_RANGE,
                    value,
                    (Place("code", offset),),
                    Confidence.MEDIUM,
                )
                return


def find_backdated_time(clues: Clues) -> Iterator[Artefact]:
    yield from _constants(clues, (BACKDATED_EPOCH,), ArtefactKind.BACKDATED_TIME)


def find_code_magics(clues: Clues) -> Iterator[Artefact]:
    yield from _constants(clues, CODE_MAGICS, ArtefactKind.CODE_MAGIC)


ARTEFACT_FINDERS: tuple[Callable[[Clues], Iterator[Artefact]], ...] = (
    find_decoy_names,
    find_pid_files,
    find_firewall_templates,
    find_shell_environment,
    find_install_paths,
    find_shell_disguises,
    find_bind_port_range,
    find_backdated_time,
    find_code_magics,
)


def find_artefacts(clues: Clues) -> list[Artefact]:
    return [artefact for finder in ARTEFACT_FINDERS for artefact in finder(clues)]


def _exact(clues: Clues, values: frozenset[str], kind: ArtefactKind) -> Iterator[Artefact]:
    places = clues.exact_places()
    yield from _grouped({value: places[value] for value in values if value in places}, kind)


def _exact_places(strings: Iterable[TextString]) -> dict[str, list[Place]]:
    """Strings equal to one of the exact values, or ending with one: compilers store a string
    that is the tail of another only once (gcc -fmerge-constants keeps
    "MYSQL_HISTFILE=/dev/null" and points "HISTFILE=/dev/null" into it)."""
    places: dict[str, list[Place]] = {}
    for string in strings:
        text = string.value
        for value in _BY_TAIL.get(text[-_TAIL:], ()):
            if text == value:
                places.setdefault(value, []).append(string.place)
            elif text.endswith(value):
                place = string.place
                if place.offset is not None:
                    place = Place(place.origin, place.offset + len(text) - len(value))
                places.setdefault(value, []).append(place)
    return places


def _grouped(places: dict[str, list[Place]], kind: ArtefactKind) -> Iterator[Artefact]:
    for value in sorted(places):
        yield Artefact(kind, value, tuple(places[value][:MAX_PLACES]))


def _constants(clues: Clues, values: tuple[int, ...], kind: ArtefactKind) -> Iterator[Artefact]:
    """Every value present as a 32-bit immediate (or, without a code sweep, as 4 bytes in
    code or anywhere in a raw blob); all of them must be present."""
    value = " ".join(f"{number:#x}" for number in values)
    if clues.code is not None:
        if all(clues.code.has_constant(number, 32) for number in values):
            place = Place("code", address=clues.code.constants.get(values[0]))
            yield Artefact(kind, value, (place,))
        return
    for order in _code_byte_orders(clues):
        offsets = [next(_code_offsets(clues, struct.pack(f"{order}I", n)), None) for n in values]
        if all(offset is not None for offset in offsets):
            yield Artefact(kind, value, (Place("code", offsets[0]),), Confidence.MEDIUM)
            return


def _code_byte_orders(clues: Clues) -> tuple[str, ...]:
    if clues.image is None:
        return ("<", ">")
    return ("<",) if clues.image.header.byte_order == "little" else (">",)


def _code_offsets(clues: Clues, needle: bytes) -> Iterator[int]:
    """File offsets of `needle` inside executable regions (the whole blob when raw)."""
    spans = (
        [(region.offset, region.end) for region in clues.image.code_regions]
        if clues.image is not None
        else [(0, len(clues.data))]
    )
    for start, end in spans:
        position = clues.data.find(needle, start, end)
        while position != -1:
            yield position
            position = clues.data.find(needle, position + 1, end)


__all__ = [
    "ARTEFACT_FINDERS",
    "CODE_CONSTANTS",
    "Artefact",
    "ArtefactKind",
    "Clues",
    "find_artefacts",
]
