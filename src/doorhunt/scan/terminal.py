"""The scan's terminal view, in English or Korean: the plan, a live progress bar on standard
error, then hosts that answered, answers from other addresses, errors, and the counts."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from doorhunt.i18n import Catalog, Message
from doorhunt.report.terminal import safe_text
from doorhunt.scan import engine
from doorhunt.scan.results import HostResult, Reply, ScanSummary, Status
from doorhunt.scan.run import ScanPlan
from doorhunt.scan.targets import format_address

MAX_LISTED = 50

LABELS = Catalog(
    {
        "header": {
            "en": "doorhunt scan · {targets} addresses · {kinds} probes each ({labels}) · "
            "ping-backs to {listen} · {rate} probes/s",
            "ko": "doorhunt 스캔 · 주소 {targets}개 · 주소마다 탐지 패킷 {kinds}종 ({labels}) · "
            "응답 수신 {listen} · 초당 {rate}개",
        },
        "progress": {"en": "scanning", "ko": "스캔 중"},
        "kinds": {
            "en": "{protocols} × {count} magics: {magics}",
            "ko": "{protocols} × 매직 {count}개: {magics}",
        },
        "route_source": {"en": "source address per route", "ko": "경로별 출발지 주소"},
        "answer_to_source": {
            "en": "255.255.255.255 (answer the probe's source)",
            "ko": "255.255.255.255 (탐지 패킷의 출발지로 응답)",
        },
        "rate": {"en": "{rate} probes/s", "ko": "초당 {rate}개"},
        "hits": {"en": "{hits} responded", "ko": "응답 {hits}"},
        "responded_title": {
            "en": "Hosts that answered a magic packet (an implant is listening):",
            "ko": "매직 패킷에 응답한 호스트 (임플란트가 대기 중):",
        },
        "other_title": {
            "en": "Ping-backs from another address (not counted as hits):",
            "ko": "다른 주소에서 온 응답 (탐지로 세지 않음):",
        },
        "error_title": {"en": "Errors:", "ko": "오류:"},
        "silent_title": {"en": "No response:", "ko": "응답 없음:"},
        "reply": {
            "en": "{protocol} {magic} in {latency} ms (try {attempt}){late}",
            "ko": "{protocol} {magic}, {latency}ms (시도 {attempt}){late}",
        },
        "late": {"en": ", late", "ko": ", 늦게 도착"},
        "other_reply": {
            "en": "{protocol} {magic}: from {source}",
            "ko": "{protocol} {magic}: {source}에서",
        },
        "more": {
            "en": "... and {count} more (--json lists them)",
            "ko": "... 외 {count}개 (--json으로 모두 표시)",
        },
        "nothing": {
            "en": "No host answered a magic packet.",
            "ko": "매직 패킷에 응답한 호스트 없음.",
        },
        "listener": {
            "en": "Listener: {junk} other datagrams, {unmatched} ping-backs matching no probe, "
            "{duplicates} duplicates, {late} late · {sent} packets in {seconds:.1f} s "
            "({rate} probes/s)",
            "ko": "수신기: 기타 데이터그램 {junk}, 대응하는 탐지가 없는 응답 {unmatched}, "
            "중복 {duplicates}, 늦은 응답 {late} · 패킷 {sent}개, {seconds:.1f}초 (초당 {rate}개)",
        },
        "interrupted": {
            "en": "Interrupted: the results cover the addresses scanned so far.",
            "ko": "중단됨: 지금까지 스캔한 주소의 결과만 표시함.",
        },
        "notes": {"en": "Notes:", "ko": "참고:"},
        "send_errors": {"en": "send errors: {errors}", "ko": "전송 오류: {errors}"},
    }
)


def kind_labels(plan: ScanPlan, language: str) -> str:
    """The probe kinds in a few words: each one, or protocols × magics when there are many."""
    if len(plan.kinds) <= 6:
        return ", ".join(dict.fromkeys(kind.label for kind in plan.kinds))
    protocols = ", ".join(dict.fromkeys(kind.protocol for kind in plan.kinds))
    magics = list(dict.fromkeys(kind.magic_hex for kind in plan.kinds))
    shown = ", ".join(magics[:8]) + (", ..." if len(magics) > 8 else "")
    return LABELS.text("kinds", language, protocols=protocols, count=len(magics), magics=shown)


def listen_text(plan: ScanPlan, language: str) -> str:
    spec = plan.listen
    if spec.address is None:
        host = LABELS.text("route_source", language)
    elif spec.answer_to_source:
        host = LABELS.text("answer_to_source", language)
    else:
        host = format_address(spec.address)
    return f"{host}, {spec.first_port}-{spec.last_port}"


def render_header(console: Console, plan: ScanPlan, language: str) -> None:
    labels = kind_labels(plan, language)
    console.print(
        Text(
            LABELS.text(
                "header",
                language,
                targets=f"{len(plan.targets):,}",
                kinds=len(plan.kinds),
                labels=labels,
                listen=listen_text(plan, language),
                rate=f"{plan.rate:,.0f}",
            ),
            style="bold",
        )
    )


def render_notes(console: Console, notes: Sequence[Message], language: str) -> None:
    if not notes:
        return
    console.print(LABELS.text("notes", language))
    for note in notes:
        console.print(Text("  " + safe_text(note.render(language)), style="dim"))


def _latency(reply: Reply) -> str:
    return f"{reply.latency * 1000:.1f}"


def _reply_text(reply: Reply, language: str) -> str:
    return LABELS.text(
        "reply",
        language,
        protocol=reply.protocol,
        magic=reply.magic,
        latency=_latency(reply),
        attempt=reply.attempt,
        late=LABELS.text("late", language) if reply.late else "",
    )


def render_results(
    console: Console,
    results: Sequence[HostResult],
    summary: ScanSummary,
    language: str,
    *,
    hidden: dict[Status, int] | None = None,
) -> None:
    """`results` holds the hosts to show; `hidden` counts those left out per status."""
    hidden = hidden or {}
    by_status: dict[Status, list[HostResult]] = {status: [] for status in Status}
    for result in results:
        by_status[result.status].append(result)
    responded = by_status[Status.RESPONDED]
    if responded:
        console.print(Text(LABELS.text("responded_title", language), style="bold red"))
        for result in responded:
            line = Text("  ")
            line.append(f"{result.text_address:<15}", style="bold red")
            line.append("  " + "; ".join(_reply_text(r, language) for r in result.replies))
            console.print(line)
            _send_errors(console, result, language)
    else:
        console.print(Text(LABELS.text("nothing", language), style="bold green"))
    sections = (
        (Status.OTHER_ADDRESS, "other_title", "bold yellow"),
        (Status.ERROR, "error_title", "yellow"),
        (Status.NO_RESPONSE, "silent_title", "dim"),
    )
    for status, title, style in sections:
        listed = by_status[status]
        if not listed:
            continue
        console.print(Text(LABELS.text(title, language), style=style))
        for result in listed[:MAX_LISTED]:
            line = Text("  ")
            line.append(f"{result.text_address:<15}", style=style)
            if status is Status.OTHER_ADDRESS:
                details = "; ".join(
                    LABELS.text(
                        "other_reply",
                        language,
                        protocol=r.protocol,
                        magic=r.magic,
                        source=format_address(r.source),
                    )
                    for r in result.others
                )
                line.append("  " + details)
            elif status is Status.ERROR and result.error is not None:
                line.append("  " + result.error.render(language))
            console.print(line)
        more = len(listed) - MAX_LISTED + hidden.get(status, 0)
        if more > 0:
            console.print(
                Text("  " + LABELS.text("more", language, count=f"{more:,}"), style="dim")
            )
    console.print()
    if summary.interrupted:
        console.print(Text(LABELS.text("interrupted", language), style="bold yellow"))
    console.print(Text(summary.message(language), style="bold"))
    console.print(
        Text(
            LABELS.text(
                "listener",
                language,
                junk=summary.junk,
                unmatched=summary.unmatched,
                duplicates=summary.duplicates,
                late=summary.late,
                sent=f"{summary.probes_sent:,}",
                seconds=summary.elapsed,
                rate=f"{summary.send_rate:,.0f}",
            ),
            style="dim",
        )
    )


def _send_errors(console: Console, result: HostResult, language: str) -> None:
    if result.send_errors:
        errors = ", ".join(f"{reason} × {count}" for reason, count in result.send_errors)
        console.print(Text("    " + LABELS.text("send_errors", language, errors=errors)))


class ProgressBar:
    """Probes started of planned, with rate, responders and time left, on standard error."""

    def __init__(self, console: Console, total: int, language: str) -> None:
        self.language = language
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[hits]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID = self.progress.add_task(
            LABELS.text("progress", language), total=total, rate="", hits=""
        )

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, state: engine.Progress) -> None:
        rate = state.probes_sent / state.elapsed if state.elapsed > 0 else 0.0
        self.progress.update(
            self.task,
            completed=state.probes_started,
            rate=LABELS.text("rate", self.language, rate=f"{rate:,.0f}"),
            hits=LABELS.text("hits", self.language, hits=state.responded),
        )


__all__ = ["LABELS", "ProgressBar", "render_header", "render_notes", "render_results"]
