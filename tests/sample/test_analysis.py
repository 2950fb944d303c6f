"""Whole-file analysis of the compiled fixtures: the configuration comes out complete, the
negative control and system programs come out clean, and no input crashes it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorhunt.bpf.codec import to_bytes
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.probe import Probe
from doorhunt.errors import InputError
from doorhunt.sample import analysis as analysis_module
from doorhunt.sample.analysis import SampleAnalysis, SampleClass, analyze_bytes, analyze_file
from doorhunt.sample.elf import SampleFormatError
from tests.sample.builds import BUILDS, Build, Samples, require_module
from tests.sample.elf_builder import SHF_ALLOC, ElfSpec, Section, build_elf

SALT = "dh-fixture-salt"
# tests/sample/sources/bpfdoor_like.c, -DWITH_C2: value -> (kind, host, port, scope, confidence)
CONTROLLERS = {
    "192.0.2.77:8443": ("ipv4", "192.0.2.77", 8443, "documentation", "high"),
    "[2001:db8::77]:443": ("ipv6", "2001:db8::77", 443, "documentation", "high"),
    "update.example.invalid:443": ("domain", "update.example.invalid", 443, "reserved", "high"),
    "198.51.100.23": ("ipv4", "198.51.100.23", None, "documentation", "medium"),
}
PASSWORDS = {"dh-test-pass-A", "dh-test-pass-B"}
# System programs that must come out clean (the ones present are used; all are ELF).
SYSTEM_PROGRAMS = (
    "/usr/bin/ls",
    "/usr/bin/python3",
    "/usr/bin/tcpdump",
    "/usr/sbin/tcpdump",
    "/usr/bin/yara",
    "/usr/bin/gcc",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libpcap.so.0.8",
)


@pytest.fixture(scope="module", autouse=True)
def _capstone() -> None:
    require_module("capstone", "capstone")


@pytest.mark.parametrize("build", [b for b in BUILDS if b.bpfdoor], ids=lambda b: b.name)
def test_every_bpfdoor_build_gives_its_full_configuration(samples: Samples, build: Build) -> None:
    analysis = analyze_bytes(samples.data(build.name), build.name)
    assert analysis.verdict.sample_class is SampleClass.BPFDOOR
    assert analysis.verdict.score == 100
    config = analysis.config()
    magic = {(m["protocol"], m["value"]) for m in config["magic"]}
    udp, tcp = build.magics
    assert magic == {("udp", udp), ("icmp", udp), ("tcp", tcp)}
    assert {t["transport"] for t in config["triggers"]} == {"udp", "icmp", "tcp"}
    passwords = {p["value"]: p for p in config["passwords"]}
    assert set(passwords) == PASSWORDS
    for value, password in passwords.items():
        digest = hashlib.md5((SALT + value).encode()).hexdigest()
        assert password["verified"] == {
            "algorithm": "md5",
            "salt": SALT,
            "order": "salt+password",
            "digest": digest,
        }
    assert config["salts"] == [{"value": SALT, "verified": True}]
    assert config["bind_ports"] == {"first": 42391, "last": 43390}
    assert config["backdated_time"] == {"epoch": 1225394236, "utc": "2008-10-30T19:17:16+00:00"}
    assert "/dev/shm/kdmtmpflush" in config["install_paths"]
    assert {"HISTFILE=/dev/null", "MYSQL_HISTFILE=/dev/null"} <= set(config["shell_environment"])
    assert len(config["firewall_templates"]) == 4
    assert len(config["decoy_names"]) >= 4 and config["pid_files"]
    if build.extras:
        check_extras(analysis, build, samples.data(build.name))
    else:
        assert config["filter_expressions"] == [] and config["network"] == []
        assert config["crypto"] == [] and config["magic_layout"] is None
    json.dumps(analysis.to_json("ko"), ensure_ascii=False)


def check_extras(analysis: SampleAnalysis, build: Build, data: bytes) -> None:
    """What -DEXTRAS puts in a build (tests/sample/sources/bpfdoor_like.c), field by field."""
    config = analysis.config()
    udp, tcp = build.magics
    spelled = {name: value for flag in build.flags for name, _, value in [flag.partition("=")]}
    udp_text = spelled.get("-DMAGIC_UDP", "0x7255")
    tcp_text = spelled.get("-DMAGIC_TCP", "0x5293")
    [expression] = config["filter_expressions"]
    assert expression["expression"] == (
        f"(udp[8:2]={udp_text}) or (icmp[8:2]={udp_text}) "
        f"or (tcp[((tcp[12]&0xf0)>>2):2]={tcp_text})"
    )
    offset = expression["place"]["offset"]
    assert (
        data[offset : offset + len(expression["expression"])] == expression["expression"].encode()
    )
    assert expression["compiled"] and expression["error"] is None  # CI installs tcpdump
    found = analysis.filters[expression["filter"]]
    assert found.expression == expression["expression"] and found.place.offset == offset
    assert found.to_json("en")["byte_order"] is None and found.confidence.value == "high"
    assert found.explanation.classification.filter_class.value == "bpfdoor"
    magic = {(m.protocol, m.value) for m in found.explanation.classification.magic}
    assert magic == {("udp", udp), ("icmp", udp), ("tcp", tcp)}
    assert {p.transport for p in found.probes if isinstance(p, Probe)} == {"udp", "icmp", "tcp"}
    assert expression["instructions"] == len(found.array.program)
    network = {entry["value"]: entry for entry in config["network"]}
    assert set(network) == set(CONTROLLERS)
    for value, (kind, host, port, scope, confidence) in CONTROLLERS.items():
        entry = network[value]
        assert (entry["kind"], entry["host"], entry["port"]) == (kind, host, port), value
        assert (entry["scope"], entry["confidence"], entry["text"]) == (scope, confidence, value)
        [place] = entry["places"]
        assert data[place["offset"] :].startswith(value.encode())
    markers = {(m["library"], m["algorithm"], m["evidence"]): m for m in config["crypto"]}
    tls = markers.pop(("mbed TLS", None, "version-string"))
    assert (tls["version"], tls["value"], tls["confidence"]) == (
        "2.28.3",
        "mbed TLS 2.28.3",
        "high",
    )
    assert data[tls["places"][0]["offset"] :].startswith(b"mbed TLS 2.28.3")
    rc4 = markers.pop((None, "RC4", "code"))
    assert rc4["confidence"] == "medium" and rc4["places"][0]["origin"] == "code"
    assert rc4["value"] == f"key schedule loop at {rc4['places'][0]['address']}"
    assert analysis.image is not None
    if analysis.image.stripped:
        assert markers == {}
    else:
        symbol = markers.pop((None, "RC4", "symbol"))
        assert (symbol["value"], symbol["confidence"]) == ("rc4_setup", "medium")
        assert markers == {}
    layout = config["magic_layout"]
    assert layout is not None and layout["confidence"] == "high" and layout["size"] == 24
    assert [(f["name"], f["offset"], f["size"]) for f in layout["fields"]] == [
        ("flag", 0, 4),
        ("ip", 4, 4),
        ("port", 8, 2),
        ("pass", 10, 14),
    ]
    assert {"ip-read", "port-read", "flag-read", "pass-read", "magic-compare"} <= set(
        layout["evidence"]
    )
    assert layout["place"]["origin"] == "code"
    assert any("24-byte layout" in reason.render() for reason in analysis.verdict.reasons)


def test_the_negative_control_is_clean_and_its_dhcp_filter_is_named(samples: Samples) -> None:
    analysis = analyze_bytes(samples.data("benign-control"), "benign")
    assert analysis.verdict.sample_class is SampleClass.CLEAN
    assert analysis.verdict.score == 0
    assert [f.explanation.classification.filter_class.value for f in analysis.filters] == ["dhcp"]
    assert analysis.config()["passwords"] == [] and analysis.artefacts == ()


@pytest.mark.slow
def test_system_programs_are_clean() -> None:
    checked = 0
    for path in SYSTEM_PROGRAMS:
        if not Path(path).is_file():
            continue
        analysis = analyze_file(os.path.realpath(path))
        assert analysis.verdict.sample_class is SampleClass.CLEAN, (path, analysis.to_json())
        assert analysis.verdict.score < 50
        # Nothing of a controller's or a trigger's shape in a system program.
        assert analysis.layout is None and analysis.expressions == ()
        assert not [
            i for i in analysis.network if i.kind != "domain" and i.confidence.value == "high"
        ]
        checked += 1
    assert checked >= 3


def test_a_big_endian_mips_image_gives_its_filter_in_network_order() -> None:
    program = EXAMPLES["bpfdoor-classic"].build()
    rodata = b"\0" * 6 + to_bytes(program, byteorder="big") + b"/var/run/haldrund.pid\0"
    data = build_elf(
        ElfSpec(
            bits=32, byte_order="big", machine=8, sections=[Section(".rodata", rodata, SHF_ALLOC)]
        )
    )
    analysis = analyze_bytes(data, "mips")
    [found] = analysis.filters
    assert found.array.byte_order == "big" and found.section == ".rodata"
    assert analysis.verdict.sample_class is SampleClass.BPFDOOR
    assert analysis.values(analysis.artefacts[0].kind) == ["/var/run/haldrund.pid"]
    assert any("x86 and x86-64 only" in gap.render() for gap in analysis.gaps)


def test_raw_mode_reads_a_memory_dump(samples: Samples) -> None:
    image = samples.data("classic-x86-32")
    dump = os.urandom(1000) + image[200:] + os.urandom(1000)
    with pytest.raises(SampleFormatError):
        analyze_bytes(dump)
    analysis = analyze_bytes(dump, "dump", raw=True)
    assert analysis.image is None and analysis.filters
    assert analysis.verdict.sample_class is SampleClass.BPFDOOR
    assert analysis.to_json()["format"] == "raw"


def test_a_upx_marker_is_reported_as_a_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as on a machine without upx
    data = build_elf(ElfSpec(sections=[Section("UPX0", b"UPX!" + bytes(60))]))
    analysis = analyze_bytes(data)
    assert analysis.packer == "UPX"
    assert any("upx -d" in gap.render() for gap in analysis.gaps)


def fake_upx(folder: Path, body: str) -> Path:
    """A stand-in for `upx` (Debian's is not on every test machine): `upx -d -q -o OUT -- IN`
    runs `body` with $4 the output path."""
    program = folder / "upx"
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(0o755)
    return program


def test_a_upx_packed_file_is_unpacked_with_upx_and_what_it_holds_is_analysed(
    samples: Samples, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = samples.path("classic-x86-64-O2")
    upx = fake_upx(tmp_path, f'[ "$1" = -d ] && [ "$3" = -o ] && cp "{inner}" "$4"')
    monkeypatch.setattr(shutil, "which", lambda name: str(upx) if name == "upx" else None)
    packed = build_elf(ElfSpec(sections=[Section("UPX0", b"UPX!" + bytes(60))]))
    analysis = analyze_bytes(packed, "packed")
    assert analysis.packer == "UPX" and analysis.file.size == len(packed)
    assert analysis.unpacked is not None
    assert analysis.unpacked.sha256 == hashlib.sha256(inner.read_bytes()).hexdigest()
    assert analysis.verdict.sample_class is SampleClass.BPFDOOR
    assert {p["value"] for p in analysis.config()["passwords"]} == PASSWORDS
    assert analysis.gaps[0].render().startswith("Packed with UPX: unpacked with upx -d")
    assert analysis.to_json()["unpacked"]["size"] == inner.stat().st_size
    # upx failing is a gap, and the packed file is still analysed.
    broken = fake_upx(tmp_path, 'echo "upx: packed: NotPackableException" >&2; exit 2')
    monkeypatch.setattr(shutil, "which", lambda name: str(broken) if name == "upx" else None)
    analysis = analyze_bytes(packed, "packed")
    assert analysis.unpacked is None and analysis.packer == "UPX"
    assert any("NotPackableException" in gap.render() for gap in analysis.gaps)


def test_without_tcpdump_expressions_are_reported_as_text_with_a_gap(
    samples: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis_module, "tcpdump_path", lambda: None)
    analysis = analyze_bytes(samples.data("classic-x86-64-O0"), "no-tcpdump")
    [expression] = analysis.config()["filter_expressions"]
    assert expression["compiled"] is False and expression["filter"] is None
    assert expression["error"] == "tcpdump is not installed"
    assert all(found.expression is None for found in analysis.filters)
    gap = next(g for g in analysis.gaps if g.code == "gap_tcpdump")
    assert "1 libpcap filter expressions" in gap.render() and "tcpdump" in gap.render("ko")


def test_files_are_read_with_a_size_limit_and_located_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        analyze_file(tmp_path / "missing")
    big = tmp_path / "big"
    big.write_bytes(b"\x7fELF" + bytes(2000))
    with pytest.raises(InputError, match="larger than 0 MiB"):
        analyze_file(big, max_bytes=1000)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(SampleFormatError) as raised:
        analyze_file(text)
    assert str(raised.value).startswith(f"{text}:byte 0: not an ELF file")


@settings(max_examples=30)
@given(st.binary(max_size=3000))
def test_any_bytes_analyse_in_raw_mode(data: bytes) -> None:
    analysis = analyze_bytes(data, raw=True)
    json.dumps(analysis.to_json())


@settings(max_examples=30)
@given(st.data())
def test_corrupted_builds_analyse_or_fail_with_a_location(
    samples: Samples, data: st.DataObject
) -> None:
    image = bytearray(samples.data("classic-x86-64-O0"))
    cut = data.draw(st.integers(0, len(image)))
    for _ in range(data.draw(st.integers(0, 30))):
        position = data.draw(st.integers(0, len(image) - 1))
        image[position] = data.draw(st.integers(0, 255))
    try:
        analysis = analyze_bytes(bytes(image[:cut]))
    except SampleFormatError as error:
        assert error.location
    else:
        json.dumps(analysis.to_json())
