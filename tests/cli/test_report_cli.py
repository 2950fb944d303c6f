"""`doorhunt report`: the files it writes, --json, languages, PDF, and its errors and exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from doorhunt.cli import report as report_cli
from doorhunt.report.pdf import Converter, find_converter
from doorhunt.store import Store
from tests.conftest import unavailable
from tests.report.fixtures import build_compromise, write


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = report_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("case")
    build_compromise(data)
    return data


def test_html_in_english_and_korean(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.html"
    code, out, err = run(capsys, "--data", str(case), "--html", str(target), "--lang", "en")
    assert code == 0 and err == ""
    assert out.splitlines() == [
        f"Report written: {target}",
        "2 hosts, 6 alerts, verdict: COMPROMISED",
    ]
    html = target.read_text(encoding="utf-8")
    assert "Verdict: COMPROMISED" in html and "BPFDoor socket filter attached" in html
    assert "<svg" in html and target.stat().st_mode & 0o777 == 0o600
    code, out, _ = run(
        capsys, "--data", str(case), "--html", str(target), "--lang", "ko", "--tz", "+09:00"
    )
    assert code == 0 and "보고서 작성" in out and "판정: 침해됨" in out
    html = target.read_text(encoding="utf-8")
    assert "침해사고 분석 보고서" in html and "BPFDoor 소켓 필터 부착" in html and "+09:00" in html


def test_json_and_scope(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data", str(case), "--json", "--host", "web-1", "--since", "7d")
    document = json.loads(out)
    assert code == 0 and document["verdict"] == "compromised"
    assert document["scope"]["host"] == "web-1" and document["scope"]["hosts"] == ["web-1"]
    assert document["alert_groups"][0]["severity"] == "critical"
    assert document["trees"][0]["graph"]["nodes"] and document["filters"][0]["magic"]
    code, out, _ = run(capsys, "--data", str(case), "--json", "--until", "2000-01-01")
    assert code == 0 and json.loads(out)["empty"] is True


def test_html_to_standard_output(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data", str(case), "--html", "-", "--lang", "en")
    assert code == 0 and out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")


def test_an_empty_store_gives_a_report_that_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "store").mkdir()
    target = tmp_path / "empty.html"
    code, out, _ = run(capsys, "--data", str(tmp_path), "--html", str(target), "--lang", "en")
    assert code == 0
    assert "The store holds nothing for this scope" in out
    assert "there is nothing to report" in target.read_text(encoding="utf-8")


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        report_cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "doorhunt report --host web-1 --since 7d" in out
    assert "--pdf OUT" in out and "exit codes:" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "say what to write: --html OUT, --pdf OUT or --json"),
        (["--json", "--html", "-"], "both write to standard output"),
        (["--json", "--since", "yesterday"], "--since: expected an ISO 8601 time"),
        (["--json", "--since", "1d", "--until", "2d"], "--since must be before --until"),
        (["--json", "--tz", "Mars/Olympus"], "--tz: unknown time zone"),
        (["--json", "--tz", "+25:00"], "--tz: offset out of range"),
        (["--json", "--lang", "fr"], "invalid choice"),
        (["--json", "--rules", "/nonexistent/rules"], "/nonexistent/rules"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "--data", str(tmp_path), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_an_unreadable_store_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "store").write_text("not a directory")
    code, out, err = run(capsys, "--data", str(tmp_path), "--json")
    assert code == 2 and out == ""
    assert err.strip() == f"doorhunt: error: {tmp_path / 'store'}: Not a directory"


def test_no_pdf_converter_names_what_to_install(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_cli, "find_converter", lambda: None)
    code, _, err = run(capsys, "--data", str(case), "--pdf", str(tmp_path / "r.pdf"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "install chromium" in err and "wkhtmltopdf" in err
    assert not (tmp_path / "r.pdf").exists()


def test_a_failing_converter_is_one_line(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        report_cli, "find_converter", lambda: Converter("wkhtmltopdf", "/bin/false")
    )
    code, _, err = run(capsys, "--data", str(case), "--pdf", str(tmp_path / "r.pdf"))
    assert code == 2 and "wkhtmltopdf made no PDF: exit status 1" in err


def test_pdf_with_the_installed_converter(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if find_converter() is None:
        unavailable("needs chromium or wkhtmltopdf (Debian: apt-get install chromium)")
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    code, out, _ = run(
        capsys, "--data", str(case), "--html", str(html), "--pdf", str(pdf), "--lang", "ko"
    )
    assert code == 0 and f"보고서 작성: {pdf}" in out
    assert pdf.read_bytes().startswith(b"%PDF") and html.is_file()


def test_damaged_segments_mean_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_compromise(tmp_path)
    write(tmp_path, [{"@timestamp": "2026-01-01T00:00:00Z", "host": {"name": "x"}}])
    victim = sorted((tmp_path / "store" / "segments").glob("*/*.parquet"))[0]
    victim.write_bytes(b"PAR1 not really")
    code, out, err = run(capsys, "--data", str(tmp_path), "--json", "--lang", "en")
    assert code == 3 and json.loads(out)["skipped_segments"] == 1
    assert "damaged store segments were skipped" in err
    assert Store(tmp_path / "store").info().skipped


def test_without_jinja2_html_says_what_to_install_and_json_still_works(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)  # as if not installed
    code, _, err = run(capsys, "--data", str(case), "--html", str(tmp_path / "r.html"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "needs Jinja2: pip install 'doorhunt[report]'" in err
    code, out, _ = run(capsys, "--data", str(case), "--json")
    assert code == 0 and json.loads(out)["verdict"] == "compromised"
