"""`doorhunt bpf` from the command line: outputs, exit codes, and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from doorhunt.bpf.codec import Format, format_program
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.pcap import write_pcap
from doorhunt.cli.main import main
from tests.conftest import require_tool

CLASSIC = EXAMPLES["bpfdoor-classic"].build()
DOORHUNT = [sys.executable, "-m", "doorhunt"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_explain_example_as_json_exits_1_when_suspicious(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["bpf", "explain", "--example", "bpfdoor-classic", "--json"], capsys)
    document = json.loads(out)
    assert code == 1
    assert document["class"] == "bpfdoor" and document["suspicious"] is True
    assert document["instructions"] == 30 and len(document["disassembly"]) == 30
    assert document["source"] == {"name": "example bpfdoor-classic"}


def test_explain_benign_filter_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["bpf", "explain", "--example", "dhcp-client", "--json"], capsys)
    assert code == 0 and json.loads(out)["class"] == "dhcp"


def test_terminal_view_shows_the_verdict_in_english_and_korean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["bpf", "explain", "--example", "bpfdoor-classic", "--no-color"], capsys)
    assert code == 1
    for text in ("Verdict", "bpfdoor", "SUSPICIOUS", "score 100/100", "0x7255", "(028) ret"):
        assert text in out
    _, korean, _ = run(["bpf", "explain", "--example", "bpfdoor-classic", "--lang", "ko"], capsys)
    for text in ("판정", "의심", "매직 값 비교", "요약", "근거"):
        assert text in korean


def test_ss_listing_with_several_filters_gives_one_ndjson_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "ss.txt"
    listing.write_text(
        'p_raw 0 0 *:eth0 * users:(("dhclient",pid=700,fd=6))\n'
        + format_program(EXAMPLES["dhcp-client"].build(), Format.SS).decode()
        + 'p_raw 0 0 *:* * users:(("hald",pid=4437,fd=3))\n'
        + format_program(CLASSIC, Format.SS).decode()
    )
    code, out, _ = run(["bpf", "explain", str(listing), "--ndjson"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [line["class"] for line in lines] == ["dhcp", "bpfdoor"]
    assert "dhclient" in lines[0]["source"]["context"]


def test_hostile_socket_line_is_escaped_on_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "ss.txt"
    hostile = 'p_raw 0 0 *:* * users:(("\x1b[2J[bold]x\u202egpj.exe",pid=1,fd=3))\n'
    listing.write_text(hostile + format_program(CLASSIC, Format.SS).decode())
    _, out, _ = run(["bpf", "explain", str(listing), "--no-disassembly"], capsys)
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[2J[bold]x\\u202egpj.exe" in out


def test_expression_is_compiled_with_tcpdump(capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("tcpdump")
    code, out, _ = run(["bpf", "explain", "--expr", "udp port 53", "--json"], capsys)
    assert code == 0 and json.loads(out)["class"] == "header-filter"
    code, _, err = run(["bpf", "explain", "--expr", "udp port ((("], capsys)
    assert code == 2
    assert err.startswith("doorhunt: error: --expr: tcpdump:") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"3\n40 0 0 12\n", "line 1: the count line says 3 instructions, 1 follow"),
        (b"\x00\x01\x02", "3 bytes is not a whole number"),
        (b"bpf filter (1):  0x99 0 0 0,", "unknown or unsupported opcode 0x99"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    path = tmp_path / "filter"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(["bpf", "explain", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"doorhunt: error: {path}") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bpf", "explain", "--example", "nope"], capsys)[0] == 2
    code, _, err = run(["bpf", "explain", "x", "--example", "bpfdoor-classic"], capsys)
    assert code == 2 and "only one program source" in err
    assert run(["bpf", "frobnicate"], capsys)[0] == 2
    assert run(["nosuchcommand"], capsys)[0] == 2
    assert run([], capsys)[0] == 2


def test_help_teaches_the_formats(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["bpf", "--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    for word in ("tcpdump -dd", "ss -0 -b -p", "--example bpfdoor-classic", "explain", "probe"):
        assert word in out
    assert main(["--help"]) == 0
    assert "bpf" in capsys.readouterr().out


def test_probe_json_packets_are_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["bpf", "probe", "--example", "bpfdoor-classic", "--json"], capsys)
    document = json.loads(out)
    assert code == 0 and len(document["probes"]) == 3
    assert all(probe["ok"] and probe["accepted"] for probe in document["probes"])
    assert {probe["transport"] for probe in document["probes"]} == {"udp", "icmp", "tcp"}


def test_convert_round_trip_through_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "classic.raw"
    assert (
        main(["bpf", "convert", "--example", "bpfdoor-classic", "--to", "raw", "-o", str(source)])
        == 0
    )
    for fmt in ("c", "decimal", "ss", "asm"):
        target = tmp_path / f"classic.{fmt}"
        assert main(["bpf", "convert", str(source), "--to", fmt, "-o", str(target)]) == 0
        back = tmp_path / f"back.{fmt}.raw"
        assert main(["bpf", "convert", str(target), "--to", "raw", "-o", str(back)]) == 0
        assert back.read_bytes() == source.read_bytes()
    big = tmp_path / "classic.be"
    assert (
        main(
            [
                "bpf",
                "convert",
                str(source),
                "--to",
                "raw",
                "--output-byte-order",
                "big",
                "-o",
                str(big),
            ]
        )
        == 0
    )
    _, out, _ = run(["bpf", "explain", str(big), "--byte-order", "big", "--json"], capsys)
    assert json.loads(out)["class"] == "bpfdoor"


def test_run_over_a_pcap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "capture.pcap"
    code, out, _ = run(["bpf", "probe", "--example", "bpfdoor-classic", "--json"], capsys)
    frames = [bytes.fromhex(probe["frame"]) for probe in json.loads(out)["probes"]]
    with capture.open("wb") as handle:
        write_pcap(handle, [bytes(60), *frames, bytes(14)], Link.ETHERNET)
    for engine in ("fast", "reference"):
        code, out, _ = run(
            [
                "bpf",
                "run",
                "--example",
                "bpfdoor-classic",
                "--pcap",
                str(capture),
                "--engine",
                engine,
                "--json",
            ],
            capsys,
        )
        document = json.loads(out)
        assert code == 1 and document["packets"] == 5 and document["accepted"] == 3
        assert [result["index"] for result in document["results"]] == [1, 2, 3]


def test_damaged_pcap_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "bad.pcap"
    stream = io.BytesIO()
    write_pcap(stream, [bytes(60)], Link.ETHERNET)
    capture.write_bytes(stream.getvalue()[:-10])
    code, _, err = run(["bpf", "run", "--example", "capture-all", "--pcap", str(capture)], capsys)
    assert code == 2 and "truncated record" in err and err.count("\n") == 1


def test_installed_command_reads_standard_input() -> None:
    text = format_program(CLASSIC, Format.SS)
    result = subprocess.run(
        [*DOORHUNT, "bpf", "explain", "-", "--json"],
        input=text,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["class"] == "bpfdoor"
    version = subprocess.run([*DOORHUNT, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("doorhunt ")
