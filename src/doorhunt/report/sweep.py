"""The sweep's terminal report, in English or Korean: a verdict line, then findings grouped by
process, worst first, then findings about files, the firewall and autostart places."""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from doorhunt.i18n import Catalog
from doorhunt.report.terminal import safe_text
from doorhunt.sweep.findings import Finding, Severity
from doorhunt.sweep.run import SweepResult

LABELS = Catalog(
    {
        "header": {
            "en": "doorhunt sweep · host {host} · {time} · {processes} processes, "
            "{namespaces} network namespaces, {sockets} packet/raw sockets · {seconds:.2f} s",
            "ko": "doorhunt 점검 · 호스트 {host} · {time} · 프로세스 {processes}개, "
            "네트워크 네임스페이스 {namespaces}개, 패킷/raw 소켓 {sockets}개 · {seconds:.2f}초",
        },
        "verdict": {
            "en": "Verdict: {verdict} (score {score}/100)",
            "ko": "판정: {verdict} (점수 {score}/100)",
        },
        "visibility_complete": {"en": "Visibility: complete", "ko": "가시성: 완전"},
        "visibility_gaps": {
            "en": "Visibility gaps (what this run could not see):",
            "ko": "가시성 공백 (이번 점검에서 볼 수 없었던 것):",
        },
        "process": {"en": "pid {pid}  {command}", "ko": "PID {pid}  {command}"},
        "executable": {"en": "executable {exe}  uid {uid}", "ko": "실행 파일 {exe}  uid {uid}"},
        "host_findings": {"en": "Files, firewall and autostart", "ko": "파일, 방화벽, 자동 실행"},
        "hidden": {
            "en": "{count} findings below {threshold} not shown (--all shows them)",
            "ko": "{threshold} 미만 결과 {count}건은 표시하지 않음 (--all로 모두 표시)",
        },
        "nothing": {"en": "No findings.", "ko": "발견 사항 없음."},
        "notes": {"en": "Notes:", "ko": "참고:"},
        "low": {"en": "LOW", "ko": "낮음"},
        "medium": {"en": "MEDIUM", "ko": "중간"},
        "high": {"en": "HIGH", "ko": "높음"},
        "critical": {"en": "CRITICAL", "ko": "심각"},
    }
)

_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "dim",
}
_VERDICT_STYLE = {
    "compromised": "bold white on red",
    "suspicious": "bold yellow",
    "clean": "bold green",
    "degraded": "bold green",
}


def _badge(severity: Severity, score: int, language: str) -> Text:
    return Text(f"[{LABELS.text(severity.value, language)} {score}]", style=_STYLE[severity])


def _finding_lines(console: Console, finding: Finding, language: str, indent: int) -> None:
    line = Text(" " * indent)
    line.append_text(_badge(finding.severity, finding.score, language))
    line.append(f" {finding.check}: ")
    line.append(safe_text(finding.title.render(language)))
    console.print(line)
    if finding.detail is not None:
        console.print(
            Padding(
                Text(safe_text(finding.detail.render(language)), style="dim"),
                (0, 0, 0, indent + 4),
                expand=False,
            )
        )


def render_sweep(
    console: Console,
    result: SweepResult,
    language: str,
    threshold: Severity = Severity.MEDIUM,
    *,
    show_all: bool = False,
) -> None:
    def label(code: str, **params: object) -> str:
        return LABELS.text(code, language, **params)

    snapshot = result.snapshot
    sockets = sum(len(g.packet) + len(g.raw) for g in snapshot.sockets)
    console.print(
        Text(
            label(
                "header",
                host=safe_text(str(snapshot.host.get("hostname", "?"))),
                time=snapshot.taken_at.strftime("%Y-%m-%d %H:%M:%SZ"),
                processes=len(snapshot.processes),
                namespaces=len(snapshot.sockets),
                sockets=sockets,
                seconds=result.elapsed + sum(snapshot.timings.values()),
            ),
            style="bold",
        )
    )
    verdict = result.verdict(threshold)
    console.print(
        Text(
            label("verdict", verdict=result.verdict_text(language, threshold), score=result.score),
            style=_VERDICT_STYLE[verdict],
        )
    )
    gaps = [gap.detail for gap in snapshot.gaps] + result.failures
    if gaps:
        console.print(Text(label("visibility_gaps"), style="bold yellow"))
        for gap in gaps:
            console.print(Text(f"  • {safe_text(gap)}", style="yellow"))
    else:
        console.print(Text(label("visibility_complete"), style="green"))
    console.print()
    minimum = Severity.LOW if show_all else threshold
    hidden = 0
    shown_any = False
    for verdict_of in result.processes:
        if verdict_of.severity.rank < minimum.rank:
            hidden += len(verdict_of.findings)
            continue
        shown_any = True
        process = verdict_of.process
        line = _badge(verdict_of.severity, verdict_of.score, language)
        line.append(
            " " + label("process", pid=process.pid, command=safe_text(process.command_line[:160])),
            style="bold",
        )
        console.print(line)
        uid = process.uid if isinstance(process.uid, int) else "?"
        console.print(
            Text(
                "    " + label("executable", exe=safe_text(str(process.exe)), uid=uid), style="dim"
            )
        )
        for finding in verdict_of.findings:
            _finding_lines(console, finding, language, 4)
        console.print()
    others = result.host_findings()
    visible = [f for f in others if f.severity.rank >= minimum.rank]
    hidden += len(others) - len(visible)
    if visible:
        shown_any = True
        console.print(Text(label("host_findings"), style="bold"))
        for finding in visible:
            _finding_lines(console, finding, language, 2)
        console.print()
    if not shown_any:
        console.print(Text(label("nothing"), style="green"))
    if hidden:
        console.print(
            Text(
                label("hidden", count=hidden, threshold=LABELS.text(minimum.value, language)),
                style="dim",
            )
        )
    if snapshot.notes:
        console.print(Text(label("notes"), style="dim"))
        for note in snapshot.notes:
            console.print(Text(f"  • {safe_text(note)}", style="dim"))


__all__ = ["render_sweep"]
