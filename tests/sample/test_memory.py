"""Reading /proc/PID/maps: a fake /proc tree for the parser and the choice of mappings."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.sample.memory import (
    Mapping,
    group_mappings,
    parse_mappings,
    read_mappings,
    worth_scanning,
)

MAPS = """\
55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234   /dev/shm/kdmtmpflush (deleted)
55d0c0a01000-55d0c0a02000 r-xp 00001000 08:01 1234   /dev/shm/kdmtmpflush (deleted)
55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0      [heap]
7f1e2c000000-7f1e2c021000 rw-p 00000000 00:00 0
7f1e2d000000-7f1e2d1d5000 r-xp 00028000 08:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e2e000000-7f1e2e001000 rw-s 00000000 00:01 7      /memfd:payload (deleted)
7f1e2f000000-7f1e2f001000 ---p 00000000 00:00 0
7ffd1a000000-7ffd1a021000 rw-p 00000000 00:00 0      [stack]
7ffd1a1f0000-7ffd1a1f4000 r--p 00000000 00:00 0      [vvar]
not a mapping line
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]
"""


def test_maps_lines_are_parsed_and_bad_lines_skipped(tmp_path: Path) -> None:
    (tmp_path / "77").mkdir()
    (tmp_path / "77" / "maps").write_text(MAPS)
    mappings = read_mappings(77, tmp_path)
    assert len(mappings) == 10
    first = mappings[0]
    assert (first.start, first.size, first.permissions) == (0x55D0C0A00000, 0x1000, "r--p")
    assert first.path == "/dev/shm/kdmtmpflush (deleted)"
    assert mappings[3].path == ""


def test_the_implant_s_memory_is_chosen_and_libraries_and_guards_are_not() -> None:
    chosen = [
        m.path or "anonymous"
        for m in parse_mappings(MAPS)
        if worth_scanning(m, "/dev/shm/kdmtmpflush (deleted)")
    ]
    assert chosen == [
        "/dev/shm/kdmtmpflush (deleted)",
        "/dev/shm/kdmtmpflush (deleted)",
        "[heap]",
        "anonymous",
        "/memfd:payload (deleted)",
        "[stack]",
    ]


def test_the_own_executable_is_scanned_even_when_not_deleted() -> None:
    mapping = Mapping(0x1000, 0x2000, "r-xp", 0, "/usr/sbin/daemon")
    assert worth_scanning(mapping, "/usr/sbin/daemon")
    assert not worth_scanning(mapping, "/usr/sbin/other")


@given(st.text(max_size=2000))
def test_any_text_parses_to_well_formed_mappings(text: str) -> None:
    for mapping in parse_mappings(text):
        assert mapping.end > mapping.start and len(mapping.permissions) == 4


def test_an_image_s_consecutive_mappings_are_read_as_one() -> None:
    chosen = [
        m for m in parse_mappings(MAPS) if worth_scanning(m, "/dev/shm/kdmtmpflush (deleted)")
    ]
    grouped = list(group_mappings(chosen))
    assert [m.describe() for m in grouped][:2] == [
        "0x55d0c0a00000-0x55d0c0a02000 r--- /dev/shm/kdmtmpflush (deleted)",
        "0x55d0c1000000-0x55d0c1021000 rw-p [heap]",
    ]
    assert len(grouped) == len(chosen) - 1
