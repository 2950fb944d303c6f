"""Filter explanations and files for the report's evidence chapter, and writing its files."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorhunt.bpf.codec import to_bytes
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.interpreter import Link
from doorhunt.report.incident_evidence import (
    MAX_FILTERS,
    FilterCollector,
    explain_filter,
    filter_key,
    link_of,
)
from doorhunt.report.pdf import Converter, PdfError, find_converter, write_file_atomically

CLASSIC_HEX = to_bytes(EXAMPLES["bpfdoor-classic"].build(), byteorder="little").hex()


@pytest.mark.parametrize(
    ("value", "link"),
    [
        ("ethernet", Link.ETHERNET),
        ("ip", Link.IP),
        ("AF_PACKET/RAW", Link.ETHERNET),
        ("AF_PACKET/DGRAM", Link.IP),
        ("AF_INET/RAW proto 17", Link.IP),
        (None, Link.ETHERNET),
        (42, Link.ETHERNET),
    ],
)
def test_link_of(value: object, link: Link) -> None:
    assert link_of(value) is link


def test_a_filter_is_explained_in_the_reports_language() -> None:
    english = explain_filter(CLASSIC_HEX, Link.ETHERNET, "en")
    korean = explain_filter(CLASSIC_HEX.upper(), Link.ETHERNET, "ko")
    assert (
        english.filter_class == "bpfdoor" and english.instructions == 30 and english.error is None
    )
    assert english.summary.startswith("Accepts") and korean.summary.startswith("받아들이는 패킷")
    assert english.key == korean.key == filter_key(CLASSIC_HEX, Link.ETHERNET)
    assert english.disassembly.splitlines()[0] == "(000) ldh      [12]"


@pytest.mark.parametrize(
    ("bytecode", "message"),
    [
        ("zz", "the stored bytecode is not hexadecimal"),
        ("00" * 8 * 4097, "4097 instructions: longer than the kernel accepts (4096)"),
        ("0600000000000000" + "00", "not a classic BPF program"),
        ("1500000000000000", "not a classic BPF program"),  # no return at the end
    ],
)
def test_bytecode_that_is_not_a_filter_says_why(bytecode: str, message: str) -> None:
    evidence = explain_filter(bytecode, Link.IP, "en")
    assert evidence.error is not None and message in evidence.error
    assert evidence.filter_class is None and evidence.bytecode == bytecode


def test_filters_are_collected_once_with_every_place_and_bounded() -> None:
    collector = FilterCollector("en")
    first = collector.add(CLASSIC_HEX, Link.ETHERNET, "web-1 pid 1 (sweep)")
    assert collector.add(CLASSIC_HEX.upper(), Link.ETHERNET, "web-1 pid 1 (alert)") == first
    assert collector.add(None, Link.IP, "x") is None and collector.add("", Link.IP, "x") is None
    for index in range(MAX_FILTERS + 3):
        collector.add(f"{index:016x}", Link.IP, "x")
    results = collector.results()
    assert len(results) == MAX_FILTERS and collector.dropped == 4
    assert results[0].seen == ("web-1 pid 1 (sweep)", "web-1 pid 1 (alert)")


def test_files_are_written_atomically_and_errors_are_one_line(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_file_atomically(target, b"first")
    write_file_atomically(target, b"second")
    assert target.read_bytes() == b"second" and list(tmp_path.iterdir()) == [target]
    with pytest.raises(PdfError, match="No such file or directory"):
        write_file_atomically(tmp_path / "missing" / "report.html", b"x")


def test_converters_are_found_in_order() -> None:
    installed = {"wkhtmltopdf": "/usr/bin/wkhtmltopdf", "google-chrome": "/opt/chrome"}
    assert find_converter(installed.get) == Converter("chromium", "/opt/chrome")
    del installed["google-chrome"]
    assert find_converter(installed.get) == Converter("wkhtmltopdf", "/usr/bin/wkhtmltopdf")
    assert find_converter({}.get) is None
