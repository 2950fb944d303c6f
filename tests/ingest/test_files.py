"""Reading log files: compressed by content, rotated sets in order, damage reported."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.ingest.files import (
    FileDamage,
    LineStats,
    UnreadableInputError,
    check_readable,
    order_rotated,
    read_lines,
)

TEXT = b"first line\nsecond line\nthird\n"


def lines_of(path: Path, max_line: int = 1000) -> tuple[list[str], LineStats, list[FileDamage]]:
    stats = LineStats()
    damage: list[FileDamage] = []
    lines = [
        text for _, text in read_lines(str(path), max_line=max_line, stats=stats, damage=damage)
    ]
    return lines, stats, damage


@pytest.mark.parametrize(
    ("name", "compress"),
    [("plain.log", bytes), ("a.gz", gzip.compress), ("b", bz2.compress), ("c.log", lzma.compress)],
)
def test_compression_is_recognised_by_content(tmp_path: Path, name: str, compress: object) -> None:
    path = tmp_path / name
    path.write_bytes(compress(TEXT))  # type: ignore[operator]
    lines, stats, damage = lines_of(path)
    assert lines == ["first line\n", "second line\n", "third\n"]
    assert stats.lines == 3 and damage == []


def test_a_truncated_gzip_keeps_what_came_before(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b"line %d\n" % i for i in range(5000)))
    path = tmp_path / "audit.log.2.gz"
    path.write_bytes(data[: len(data) // 2])
    lines, _, damage = lines_of(path)
    assert 0 < len(lines) < 5000 and lines[0] == "line 0\n"
    (problem,) = damage
    assert problem.path == str(path) and problem.line == len(lines) + 1
    assert "unreadable from here on" in problem.reason


def test_long_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(b"short\n" + b"x" * 5000 + b"\nafter\n" + b"y" * 3000)
    lines, stats, _ = lines_of(path, max_line=1000)
    assert lines == ["short\n", "after\n"]
    assert stats.oversized == 2


def test_invalid_utf8_and_nul_bytes_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(b"a\xff\x00b\n")
    (line,), _, _ = lines_of(path)
    assert line.encode("utf-8", "surrogateescape") == b"a\xff\x00b\n"


def test_rotated_sets_are_read_oldest_first() -> None:
    given_order = ["audit.log", "audit.log.1", "audit.log.2.gz", "other.ndjson", "audit.log.10"]
    assert order_rotated(given_order) == [
        "audit.log.10",
        "audit.log.2.gz",
        "audit.log.1",
        "audit.log",
        "other.ndjson",
    ]


def test_unreadable_files_are_located_errors(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="no such file"):
        check_readable(str(tmp_path / "missing"))
    with pytest.raises(UnreadableInputError, match="is a directory"):
        check_readable(str(tmp_path))


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_break_the_reader(data: bytes) -> None:
    stats = LineStats()
    damage: list[FileDamage] = []
    for candidate in (data, b"\x1f\x8b" + data, gzip.compress(data)[: len(data) // 2 + 10]):
        lines = list(
            read_lines(
                "x",
                max_line=100,
                stats=stats,
                damage=damage,
                stream=io.BufferedReader(io.BytesIO(candidate)),
            )
        )  # type: ignore[arg-type]
        assert all(len(text.encode("utf-8", "surrogateescape")) <= 100 for _, text in lines)
